// The only reader of `workspace/configuration`: raw settings → typed, validated Config. A bad value is reported
// (naming the key and the reason) and replaced by its default; it never throws.
import { CHECKS } from '../analysis/checks';
import { DEADLOCK_CODES } from '../analysis/deadlock/detect';
import type { Severity } from '../analysis/facts';

export interface Config {
  kernelVersion: string;
  inlayHints: { mode: 'changed' | 'all' | 'off' };
  diagnostics: { disabled: string[]; minimumSeverity: Severity; showRefactorings: boolean };
  maxFileSizeMB: number;
  kernelRoot: string;
  kbPaths: string[];
  model: { loopbackNfs: boolean };
  /** the workspace index (lsp/workspaceIndex.ts): auto = on when the folder looks like a kernel tree */
  index: { enabled: 'auto' | 'on' | 'off'; paths: string[] };
  deadlock: { classLevel: boolean };
}

export const DEFAULT_CONFIG: Config = {
  kernelVersion: 'auto',
  inlayHints: { mode: 'changed' },
  diagnostics: { disabled: [], minimumSeverity: 'hint', showRefactorings: false },
  maxFileSizeMB: 10,
  kernelRoot: '',
  kbPaths: ['.reclaim-lens/*.jsonc'],
  model: { loopbackNfs: false },
  index: { enabled: 'auto', paths: [] },
  deadlock: { classLevel: true },
};

const SEVERITIES: Severity[] = ['error', 'warning', 'information', 'hint'];
const CODES: readonly string[] = [...CHECKS.map((c) => c.code), ...DEADLOCK_CODES];
/** The settings that are groups of others (`reclaimLens.inlayHints.mode`): each must be an object. */
const GROUPS = ['inlayHints', 'diagnostics', 'kernel', 'kb', 'model', 'index', 'deadlock'];

/** A user's value in a message: JSON (one line, whatever it holds), cut short when long. */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

/** Validates the `reclaimLens` section; returns the config and one message per rejected key. */
export function parseConfig(raw: unknown): { config: Config; problems: string[] } {
  const problems: string[] = [];
  const c: Config = structuredClone(DEFAULT_CONFIG);
  if (raw === null || raw === undefined) return { config: c, problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { config: c, problems: [`reclaimLens: settings must be an object, not ${show(raw)}; using defaults`] };
  const r = raw as Record<string, unknown>;
  for (const g of GROUPS) {
    const v = r[g];
    if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) {
      problems.push(`reclaimLens.${g}: ${show(v)} is not an object of settings (reclaimLens.${g}.*); using the defaults`);
    }
  }
  const get = (key: string): unknown => key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), r);
  const bad = (key: string, why: string, def: unknown) => problems.push(`reclaimLens.${key}: ${why}; using the default ${JSON.stringify(def)}`);

  const kv = get('kernelVersion');
  if (kv !== undefined) {
    if (typeof kv === 'string' && (kv === 'auto' || /^\d+\.\d+(\.\d+)?$/.test(kv))) c.kernelVersion = kv;
    else bad('kernelVersion', `${show(kv)} is not 'auto' or a version like 6.1 or 6.12.117`, c.kernelVersion);
  }
  const mode = get('inlayHints.mode');
  if (mode !== undefined) {
    if (mode === 'changed' || mode === 'all' || mode === 'off') c.inlayHints.mode = mode;
    else bad('inlayHints.mode', `${show(mode)} is not one of changed, all, off`, c.inlayHints.mode);
  }
  const disabled = get('diagnostics.disabled');
  if (disabled !== undefined) {
    if (Array.isArray(disabled) && disabled.every((d) => typeof d === 'string')) {
      // The known codes are disabled; an unknown one (a typo) is reported, not silently ignored.
      c.diagnostics.disabled = disabled.filter((d) => CODES.includes(d));
      const unknown = disabled.filter((d) => !CODES.includes(d));
      if (unknown.length) problems.push(`reclaimLens.diagnostics.disabled: unknown check code${unknown.length === 1 ? '' : 's'} ${unknown.map(show).join(', ')} ignored (known: ${CODES.join(', ')})`);
    } else bad('diagnostics.disabled', `${show(disabled)} is not an array of check codes`, c.diagnostics.disabled);
  }
  const sev = get('diagnostics.minimumSeverity');
  if (sev !== undefined) {
    if (typeof sev === 'string' && (SEVERITIES as string[]).includes(sev)) c.diagnostics.minimumSeverity = sev as Severity;
    else bad('diagnostics.minimumSeverity', `${show(sev)} is not one of ${SEVERITIES.join(', ')}`, c.diagnostics.minimumSeverity);
  }
  const refactorings = get('diagnostics.showRefactorings');
  if (refactorings !== undefined) {
    if (typeof refactorings === 'boolean') c.diagnostics.showRefactorings = refactorings;
    else bad('diagnostics.showRefactorings', `${show(refactorings)} is not true or false`, c.diagnostics.showRefactorings);
  }
  const max = get('maxFileSizeMB');
  if (max !== undefined) {
    if (typeof max === 'number' && Number.isFinite(max) && max >= 0.1 && max <= 1024) c.maxFileSizeMB = max;
    else bad('maxFileSizeMB', `${show(max)} is not a number of megabytes from 0.1 to 1024`, c.maxFileSizeMB);
  }
  const root = get('kernel.root');
  if (root !== undefined) {
    if (typeof root === 'string') c.kernelRoot = root;
    else bad('kernel.root', `${show(root)} is not a path string`, c.kernelRoot);
  }
  const kb = get('kb.paths');
  if (kb !== undefined) {
    if (Array.isArray(kb) && kb.every((d) => typeof d === 'string')) c.kbPaths = kb;
    else bad('kb.paths', `${show(kb)} is not an array of file paths`, c.kbPaths);
  }
  const nfs = get('model.loopbackNfs');
  if (nfs !== undefined) {
    if (typeof nfs === 'boolean') c.model.loopbackNfs = nfs;
    else bad('model.loopbackNfs', `${show(nfs)} is not true or false`, c.model.loopbackNfs);
  }
  const indexEnabled = get('index.enabled');
  if (indexEnabled !== undefined) {
    if (indexEnabled === 'auto' || indexEnabled === 'on' || indexEnabled === 'off') c.index.enabled = indexEnabled;
    else bad('index.enabled', `${show(indexEnabled)} is not one of auto, on, off`, c.index.enabled);
  }
  const indexPaths = get('index.paths');
  if (indexPaths !== undefined) {
    // Folders relative to the workspace folder: no absolute paths, nothing that leaves the folder.
    const relative = (d: unknown) => typeof d === 'string' && d.trim() !== '' && !/^([\\/]|[A-Za-z]:)/.test(d) && !d.split(/[\\/]/).includes('..');
    if (Array.isArray(indexPaths) && indexPaths.every(relative)) c.index.paths = indexPaths;
    else bad('index.paths', `${show(indexPaths)} is not an array of folders relative to the workspace folder (no absolute paths, no ..)`, c.index.paths);
  }
  const classLevel = get('deadlock.classLevel');
  if (classLevel !== undefined) {
    if (typeof classLevel === 'boolean') c.deadlock.classLevel = classLevel;
    else bad('deadlock.classLevel', `${show(classLevel)} is not true or false`, c.deadlock.classLevel);
  }
  return { config: c, problems };
}
