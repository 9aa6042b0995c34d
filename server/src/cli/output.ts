// Renders analysis results for the terminal and for scripts: gcc-style text, JSON, SARIF 2.1.0.
// The JSON shapes are a public contract (README "CLI"): extend, never change.
import { OFF_BY_DEFAULT } from '../analysis/checks';
import type { AllocSite, Finding, FileFacts } from '../analysis/facts';
import type { DeadlockFinding } from '../analysis/deadlock';
import { positionAt, type ProgramFinding, type SiteContext } from '../analysis/interproc';
import { positionOf } from '../analysis/lines';
import type { KbView } from '../analysis/kbView';
import { groupSite } from '../ide/siteView';
import { findingId } from '../ide/findingModel';
import { contextSummary, type SiteContextSummary } from '../ide/siteContexts';

/** One analysed file; positions come from its line starts when given (the CLI keeps no texts: '' then), else its text. */
export interface AnalysedFile {
  /** path relative to --root, with forward slashes */
  rel: string;
  text: string;
  lineStarts?: ArrayLike<number>;
  facts: FileFacts;
  kb: KbView;
}

function positions(f: AnalysedFile): (offset: number) => { line: number; column: number } {
  if (f.lineStarts) {
    const starts = f.lineStarts;
    return (o) => positionAt(starts, o);
  }
  const file = { text: f.text };
  return (o) => positionOf(file, o);
}

export interface JsonFinding {
  id: string;
  code: string;
  severity: Finding['severity'];
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  function: string;
  message: string;
  related: { file: string; line: number; message: string }[];
  /** deadlock findings (extension of the contract): the lockdep-format report */
  report?: string;
  /** deadlock findings: every link of the chain, in order (file and line when inside the analysed tree, else the knowledge base's citation) */
  chain?: { file?: string; line?: number; source?: string; function: string; what: string }[];
  /** deadlock findings: the locks of the cycle, the held one first (`&xfs_inode->i_lock`, `fs_reclaim`) */
  cycle?: string[];
  /** deadlock findings: a class-level cycle (reclaim reaches only other instances of the held lock's class) */
  classLevel?: boolean;
}

/** Findings of per-function checks; refactoring suggestions (off by default) only for the codes in `include`. */
export function findingsOf(files: AnalysedFile[], include: readonly string[] = []): JsonFinding[] {
  const out: JsonFinding[] = [];
  for (const f of files) {
    const pos = positions(f);
    for (const fn of f.facts.functions) {
      const perCode = new Map<string, number>();
      for (const x of fn.findings) {
        if (OFF_BY_DEFAULT.includes(x.code) && !include.includes(x.code)) continue;
        const n = (perCode.get(x.code) ?? 0) + 1;
        perCode.set(x.code, n);
        const a = pos(x.span.start);
        const b = pos(x.span.end);
        out.push({
          // Stable across unrelated edits: no line numbers, only code, file, function and ordinal.
          id: `${x.code}:${f.rel}:${fn.name}:${n}`,
          code: x.code, severity: x.severity, file: f.rel, line: a.line, column: a.column, endLine: b.line, endColumn: b.column,
          function: x.function, message: x.message,
          related: x.related.map((r) => ({ file: f.rel, line: pos(r.span.start).line, message: r.message })),
        });
      }
    }
  }
  return out;
}

/** Findings of the whole-program checks; `line` gives the line of an offset in any file of the run. */
export function programFindingsOf(findings: ProgramFinding[], line: (file: string, offset: number) => { line: number; column: number }): JsonFinding[] {
  return findings.map((x) => {
    const a = line(x.file, x.span.start);
    const b = line(x.file, x.span.end);
    return {
      id: findingId(x),
      code: x.code, severity: x.severity, file: x.file, line: a.line, column: a.column, endLine: b.line, endColumn: b.column,
      function: x.function, message: x.message,
      related: x.related.map((r) => ({ file: r.file, line: line(r.file, r.span.start).line, message: r.message })),
    };
  });
}

/** Deadlock findings with their report, chain and cycle. */
export function deadlockFindingsOf(findings: DeadlockFinding[], line: (file: string, offset: number) => { line: number; column: number }): JsonFinding[] {
  const base = programFindingsOf(findings, line);
  return base.map((j, i) => {
    const f = findings[i];
    return {
      ...j, report: f.report, cycle: f.cycle,
      chain: f.chain.map((c) => ({ ...(c.file && c.span ? { file: c.file, line: line(c.file, c.span.start).line } : {}), ...(c.source ? { source: c.source } : {}), function: c.function, what: c.what })),
      ...(f.classLevel ? { classLevel: true } : {}),
    };
  });
}

export function renderFindingsText(findings: JsonFinding[]): string {
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.code}]`);
    for (const r of f.related) lines.push(`${r.file}:${r.line}: note: ${r.message}`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

export interface JsonSite {
  file: string;
  line: number;
  column: number;
  function: string;
  api: string;
  literal: string;
  effective: string[];
  held: string[];
  atomic: boolean;
  scopes: { api: string; flags: string[]; line: number }[];
  /** per distinct effective mask: how many acyclic paths reach it (extension of the contract) */
  paths: { effective: string; count: number }[];
  /**
   * per distinct effective mask over the calling contexts (callers' locks, scopes and gfp values applied): how many
   * call sites give it and the call chain of the most frequent; empty when the function has no caller among the
   * analysed files (extension of the contract; only from the CLI, which sees all files)
   */
  contexts?: JsonSiteContext[];
}

/** A site's mask in its calling contexts (ide/siteContexts.ts: the same shape the editor's hover uses). */
export type JsonSiteContext = SiteContextSummary;

/** The calling contexts of the sites (CLI): per file index, function index and site index. */
export interface SiteContextSource {
  get(fileIndex: number, fnIndex: number, siteIndex: number): SiteContext[] | undefined;
  /** the line of an offset in any file of the run */
  line(file: string, offset: number): number;
}

export function sitesOf(files: AnalysedFile[], contexts?: SiteContextSource): JsonSite[] {
  const out: JsonSite[] = [];
  files.forEach((f, fi) => {
    const pos = positions(f);
    f.facts.functions.forEach((fn, fni) => fn.sites.forEach((s, si) => {
      const site = siteJson(f, pos, s);
      if (contexts) {
        const cs = contexts.get(fi, fni, si) ?? [];
        site.contexts = cs.map((c) => contextSummary(c, contexts.line));
        if (cs.length) site.effective = [...new Set(cs.map((c) => c.effective))];
      }
      out.push(site);
    }));
  });
  return out;
}


function siteJson(f: AnalysedFile, pos: (offset: number) => { line: number; column: number }, s: AllocSite): JsonSite {
  const m = f.kb.gfp;
  const groups = groupSite(s, m);
  const literals = [...new Set(groups.map((g) => g.literal))];
  const at = pos(s.call.start);
  const held = new Set<string>();
  const scopes = new Map<string, { api: string; flags: string[]; line: number }>();
  for (const p of s.paths) {
    for (const h of p.held) held.add(h.cls);
    for (const sc of p.scopes) scopes.set(`${sc.api}@${sc.site.start}`, { api: sc.api, flags: [...sc.flags], line: pos(sc.site.start).line });
  }
  return {
    file: f.rel, line: at.line, column: at.column, function: s.function, api: s.api,
    literal: literals.length === 1 ? literals[0] : s.literalText.replace(/\s+/g, ' '),
    effective: [...new Set(groups.map((g) => g.effective))],
    held: [...held], atomic: s.paths.some((p) => p.atomic), scopes: [...scopes.values()],
    paths: groups.map((g) => ({ effective: g.effective, count: g.paths })),
  };
}

const callersLabel = (n: number) => `${n} caller${n === 1 ? '' : 's'}`;

export function renderSitesText(sites: JsonSite[]): string {
  return sites.map((s) => {
    const eff = s.contexts?.length ? s.contexts.map((c) => `${c.effective} (${callersLabel(c.callers)})`).join(' | ') : s.effective.join(' | ');
    const extra = [s.held.length ? `held: ${s.held.join(', ')}` : '', s.atomic ? 'atomic' : ''].filter(Boolean).join('; ');
    return `${s.file}:${s.line}:${s.column}: ${s.api}(${s.literal}) ⇒ ${eff}${extra ? `  [${extra}]` : ''}`;
  }).join('\n') + (sites.length ? '\n' : '');
}

const LEVEL: Record<Finding['severity'], string> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };

export function renderSarif(findings: JsonFinding[], version: string, helpBase: string): string {
  const codes = [...new Set(findings.map((f) => f.code))].sort();
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'reclaim-lens', version, informationUri: helpBase,
          rules: codes.map((c) => ({ id: c, name: c, helpUri: `${helpBase}${c}.md`, shortDescription: { text: c } })),
        },
      },
      results: findings.map((f) => ({
        ruleId: f.code, level: LEVEL[f.severity], message: { text: f.message },
        locations: [{ physicalLocation: { artifactLocation: { uri: f.file }, region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn } } }],
        relatedLocations: f.related.map((r, i) => ({ id: i, message: { text: r.message }, physicalLocation: { artifactLocation: { uri: r.file }, region: { startLine: r.line } } })),
        partialFingerprints: { 'reclaimLens/v1': f.id },
      })),
    }],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
