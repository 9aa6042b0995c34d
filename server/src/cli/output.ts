// Renders analysis results for the terminal and for scripts: gcc-style text, JSON, SARIF 2.1.0.
// The JSON shapes are a public contract (README "CLI"): extend, never change.
import type { AllocSite, Finding, FileFacts } from '../analysis/facts';
import { positionOf } from '../analysis/lines';
import type { KbView } from '../analysis/kbView';
import { groupSite } from '../ide/siteView';

export interface AnalysedFile {
  /** path relative to --root, with forward slashes */
  rel: string;
  text: string;
  facts: FileFacts;
  kb: KbView;
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
}

export function findingsOf(files: AnalysedFile[]): JsonFinding[] {
  const out: JsonFinding[] = [];
  for (const f of files) {
    const file = { text: f.text };
    for (const fn of f.facts.functions) {
      const perCode = new Map<string, number>();
      for (const x of fn.findings) {
        const n = (perCode.get(x.code) ?? 0) + 1;
        perCode.set(x.code, n);
        const a = positionOf(file, x.span.start);
        const b = positionOf(file, x.span.end);
        out.push({
          // Stable across unrelated edits: no line numbers, only code, file, function and ordinal.
          id: `${x.code}:${f.rel}:${fn.name}:${n}`,
          code: x.code, severity: x.severity, file: f.rel, line: a.line, column: a.column, endLine: b.line, endColumn: b.column,
          function: x.function, message: x.message,
          related: x.related.map((r) => ({ file: f.rel, line: positionOf(file, r.span.start).line, message: r.message })),
        });
      }
    }
  }
  return out;
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
}

export function sitesOf(files: AnalysedFile[]): JsonSite[] {
  const out: JsonSite[] = [];
  for (const f of files) {
    const file = { text: f.text };
    for (const fn of f.facts.functions) for (const s of fn.sites) out.push(siteJson(f, file, s));
  }
  return out;
}

function siteJson(f: AnalysedFile, file: { text: string }, s: AllocSite): JsonSite {
  const m = f.kb.gfp;
  const groups = groupSite(s, m);
  const literals = [...new Set(groups.map((g) => g.literal))];
  const pos = positionOf(file, s.call.start);
  const held = new Set<string>();
  const scopes = new Map<string, { api: string; flags: string[]; line: number }>();
  for (const p of s.paths) {
    for (const h of p.held) held.add(h.cls);
    for (const sc of p.scopes) scopes.set(`${sc.api}@${sc.site.start}`, { api: sc.api, flags: [...sc.flags], line: positionOf(file, sc.site.start).line });
  }
  return {
    file: f.rel, line: pos.line, column: pos.column, function: s.function, api: s.api,
    literal: literals.length === 1 ? literals[0] : s.literalText.replace(/\s+/g, ' '),
    effective: [...new Set(groups.map((g) => g.effective))],
    held: [...held], atomic: s.paths.some((p) => p.atomic), scopes: [...scopes.values()],
    paths: groups.map((g) => ({ effective: g.effective, count: g.paths })),
  };
}

export function renderSitesText(sites: JsonSite[]): string {
  return sites.map((s) => {
    const eff = s.effective.join(' | ');
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
