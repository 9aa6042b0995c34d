// docs/benchmarks.md: a header with the machine, then one block per section between markers
// (`<!-- bench:ID -->` … `<!-- /bench:ID -->`). A run replaces the blocks of the sections it measured and keeps
// the others (`--only coccinelle` refreshes that one), so each block says when and how it was measured.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { loadAvg } from './lib';

export interface Section {
  id: string;
  /** markdown, starting with its `## ` title */
  markdown: string;
}

/** The order of the blocks in the file. */
export const SECTION_ORDER = ['analysis', 'program', 'hints', 'latency', 'index', 'whole', 'scaling', 'lsp', 'coccinelle', 'simulator'] as const;

export function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

export function machine(): string {
  return `${os.availableParallelism()} cores (${cpuModel()}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/** The line under each section's title: when, where, how often. */
export function measuredLine(runs: number, extra = '', unit = 'run'): string {
  return `_Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()}; median of ${runs} ${unit}${runs === 1 ? '' : 's'}${extra}; `
    + `load average at the end ${loadAvg()}._`;
}

const begin = (id: string) => `<!-- bench:${id} -->`;
const end = (id: string) => `<!-- /bench:${id} -->`;

/** The blocks already in the file (none when it predates the markers). */
export function readSections(file: string): Map<string, string> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  const re = /<!-- bench:([\w-]+) -->\n([\s\S]*?)\n<!-- \/bench:\1 -->/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.set(m[1], m[2]);
  return out;
}

export function renderReport(sections: Map<string, string>, header: string): string {
  const ids = [...SECTION_ORDER.filter((id) => sections.has(id)), ...[...sections.keys()].filter((id) => !(SECTION_ORDER as readonly string[]).includes(id))];
  return [header, '', ...ids.flatMap((id) => [begin(id), sections.get(id)!.trimEnd(), end(id), ''])].join('\n');
}

export function writeReport(file: string, fresh: readonly Section[], header: string): void {
  const sections = readSections(file);
  for (const s of fresh) sections.set(s.id, s.markdown);
  fs.writeFileSync(file, renderReport(sections, header));
}

/** A markdown table. */
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[], align?: string): string {
  return [`| ${head.join(' | ')} |`, align ?? `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
