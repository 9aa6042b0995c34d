// The whole-tree index as the CLI runs it (bin/reclaim-lens.js in a child process, `--jobs N`), against the parallel
// parse-only baseline with the same worker count (bench/parseOnly.ts), each run interleaved so that a busy machine
// slows both alike:
//   cold index     `check --cache FRESH_DIR`: the per-file phase (its --stats line) and the process to full
//                  diagnostics (whole-program pass, deadlocks, JSON written), peak RSS, the cache's size on disk
//   warm start     `check` and `hints` again on that cache: process start to full diagnostics / full hints
// Section "index": the folders of --dirs (default fs mm include). Section "whole" (--full): the whole extracted tree.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  duBytes, extractedSelection, fmtMB, fmtS, freshDir, median, runCli, runParseOnly, ratio, sizeOf, sourceFiles, verdict, MB,
  type BenchContext, type CliRun, type ParseOnlyResult,
} from './lib';
import { measuredLine, table, type Section } from './report';

export interface ColdWarm {
  label: string;
  files: number;
  bytes: number;
  tooLarge: number;
  /** bytes of the files over the size limit (listed, never analysed): left out of MB/s and the cache ratio */
  tooLargeBytes: number;
  parse: ParseOnlyResult[];
  cold: CliRun[];
  warm: CliRun[];
  hints: CliRun[];
  cacheBytes: number[];
  cacheFiles: number;
  findings: number;
  deadlocks: number;
}

/** Runs parse-only, cold check, warm check and warm hints `ctx.runs` times over `paths` (relative to the tree). */
export async function coldWarm(ctx: BenchContext, label: string, paths: readonly string[], o: { keepCache?: boolean } = {}): Promise<ColdWarm> {
  const files = await sourceFiles(ctx.tree, paths);
  const size = sizeOf(files);
  const r: ColdWarm = {
    label, files: size.files, bytes: size.bytes, tooLarge: size.tooLarge, tooLargeBytes: size.tooLargeBytes, parse: [], cold: [], warm: [], hints: [], cacheBytes: [], cacheFiles: 0, findings: 0, deadlocks: 0,
  };
  ctx.log(`${label}: ${size.files} files, ${fmtMB(size.bytes)} (${size.tooLarge} over the 10 MB limit, not analysed)`);
  const jobs = ['--jobs', String(ctx.jobs)];
  let lastCache: string | undefined;
  for (let i = 0; i < ctx.runs; i++) {
    const p = await runParseOnly(ctx, paths);
    r.parse.push(p);
    ctx.log(`${label} run ${i + 1}/${ctx.runs}: parse-only ${fmtS(p.ms)} (${ctx.jobs} workers), peak RSS ${fmtMB(p.peakRss)}`);
    if (lastCache) fs.rmSync(lastCache, { recursive: true, force: true });
    const cache = freshDir(ctx, `cache-${label.replace(/\W+/g, '_')}-${i}`);
    lastCache = cache;
    const cold = await runCli(ctx, 'check', ['--root', ctx.tree, '--cache', cache, ...jobs, ...paths], { keepJson: i === ctx.runs - 1 });
    r.cold.push(cold);
    const du = duBytes(cache);
    r.cacheBytes.push(du.blocks);
    r.cacheFiles = du.files;
    ctx.log(`${label} run ${i + 1}/${ctx.runs}: cold check ${fmtS(cold.ms)} (index ${fmtS(cold.stats.indexMs)}, program ${fmtS(cold.stats.programMs)}), peak RSS ${fmtMB(cold.peakRss)}, cache ${fmtMB(du.blocks)}`);
    if (cold.json?.findings) {
      r.findings = cold.json.findings.length;
      r.deadlocks = cold.json.findings.filter((f) => /deadlock|reclaim-in-fence|reclaim-frozen-queue/.test(f.code)).length;
    }
    const warm = await runCli(ctx, 'check', ['--root', ctx.tree, '--cache', cache, ...jobs, ...paths]);
    r.warm.push(warm);
    const hints = await runCli(ctx, 'hints', ['--root', ctx.tree, '--cache', cache, ...jobs, ...paths]);
    r.hints.push(hints);
    ctx.log(`${label} run ${i + 1}/${ctx.runs}: warm check ${fmtS(warm.ms)} (${warm.stats.hits} hits), warm hints ${fmtS(hints.ms)}`);
  }
  if (o.keepCache && lastCache) ctx.sharedCache = lastCache;
  return r;
}

const med = (xs: readonly number[]) => median(xs);

export function coldWarmTable(r: ColdWarm, ctx: BenchContext, targets: { coldRatio?: number; coldMs?: number; warmMs?: number; rss?: number; programShare?: number }): string {
  const parseMs = med(r.parse.map((p) => p.ms));
  const parseRss = med(r.parse.map((p) => p.peakRss));
  const coldMs = med(r.cold.map((c) => c.ms));
  const indexMs = med(r.cold.map((c) => c.stats.indexMs));
  const programMs = med(r.cold.map((c) => c.stats.programMs));
  const warmMs = med(r.warm.map((c) => c.ms));
  const hintsMs = med(r.hints.map((c) => c.ms));
  const coldRss = med(r.cold.map((c) => c.peakRss));
  const warmRss = med(r.warm.map((c) => c.peakRss));
  const cacheBytes = med(r.cacheBytes);
  const analysed = r.bytes - r.tooLargeBytes;
  const mbps = (ms: number) => `${(analysed / MB / (ms / 1000)).toFixed(1)} MB/s`;
  const t = (ok: boolean | undefined, text: string) => (ok === undefined ? text : `${text} ${verdict(ok)}`);
  const rows: string[][] = [
    [`tree-sitter parse-only, ${ctx.jobs} workers (baseline)`, `${fmtS(parseMs)} (${mbps(parseMs)})`, '', '', ''],
    ['cold index: per-file phase (list, read, hash, analyse, write cache)', `${fmtS(indexMs)} (${mbps(indexMs)})`, 'parse-only', ratio(indexMs, parseMs),
      targets.coldRatio ? t(indexMs / parseMs <= targets.coldRatio, `≤ ${targets.coldRatio}× parse-only`) : ''],
    ['cold check: process start to full diagnostics (+ whole-program pass, deadlocks)', fmtS(coldMs), 'parse-only', ratio(coldMs, parseMs),
      targets.coldMs ? t(coldMs <= targets.coldMs, `≤ ${fmtS(targets.coldMs, 0)}`) : ''],
    ['whole-program pass (call graph, calling contexts, deadlocks)', fmtS(programMs), 'per-file phase', ratio(programMs, indexMs),
      targets.programShare ? t(programMs / indexMs <= targets.programShare, `adds ≤ ${(targets.programShare * 100).toFixed(0)}% to the index`) : ''],
    ['warm start: `check`, process start to full diagnostics', fmtS(warmMs), 'cold check', ratio(warmMs, coldMs), targets.warmMs ? t(warmMs <= targets.warmMs, `≤ ${fmtS(targets.warmMs, 0)}`) : ''],
    ['warm start: `hints`, process start to every site\'s masks', fmtS(hintsMs), 'cold check', ratio(hintsMs, coldMs), targets.warmMs ? t(hintsMs <= targets.warmMs, `≤ ${fmtS(targets.warmMs, 0)}`) : ''],
    ['peak RSS, cold check (main thread + workers)', fmtMB(coldRss), 'parse-only', ratio(coldRss, parseRss), targets.rss ? t(coldRss <= targets.rss, `≤ ${fmtMB(targets.rss)}`) : ''],
    ['peak RSS, warm check', fmtMB(warmRss), 'parse-only', ratio(warmRss, parseRss), ''],
    ['peak RSS, parse-only (baseline)', fmtMB(parseRss), '', '', ''],
    [`facts cache on disk (${r.cacheFiles} entries, allocated blocks)`, fmtMB(cacheBytes), 'source bytes analysed', ratio(cacheBytes, analysed), ''],
    ['findings of the check (of which whole-program: deadlocks, fence, frozen queue)', `${r.findings} (${r.deadlocks})`, '', '', ''],
  ];
  return table(['measure', `median of ${ctx.runs}`, 'baseline', 'ratio', 'target'], rows);
}

export async function benchIndex(ctx: BenchContext): Promise<Section> {
  const r = await coldWarm(ctx, ctx.indexDirs.join(' + '), ctx.indexDirs, { keepCache: true });
  return {
    id: 'index',
    markdown: [
      `## Cold index, warm start and check: ${r.label} of 6.12 (CLI, ${ctx.jobs} workers)`,
      '',
      measuredLine(ctx.runs, `; ${r.files} .c/.h files, ${fmtMB(r.bytes)}`),
      '',
      'Every run: parse-only, then `reclaim-lens check --jobs N --cache DIR` with a fresh DIR (cold), then `check` and `hints` again on it (warm); '
        + 'times are the child process\'s wall clock (node start-up included) except the per-file phase (the CLI\'s `--stats` line) and parse-only '
        + '(listing, reading and parsing with the workers already started: their start-up is not counted, the CLI\'s is).',
      '',
      coldWarmTable(r, ctx, { coldRatio: 1.5, programShare: 0.25 }),
    ].join('\n'),
  };
}

export interface WholeResult {
  section: Section;
  cold: ColdWarm;
}

/** The whole extracted tree (what .cache/kernel/6.12 holds: not all of linux-source-6.12). */
export async function benchWhole(ctx: BenchContext): Promise<WholeResult> {
  const r = await coldWarm(ctx, 'whole extracted tree', ['.']);
  const top = fs.readdirSync(ctx.tree, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const drivers = fs.existsSync(path.join(ctx.tree, 'drivers')) ? fs.readdirSync(path.join(ctx.tree, 'drivers')).sort() : [];
  return {
    cold: r,
    section: {
      id: 'whole',
      markdown: [
        `## The whole extracted 6.12 tree (CLI, ${ctx.jobs} workers)`,
        '',
        measuredLine(ctx.runs, `; ${r.files} .c/.h files, ${fmtMB(r.bytes)}`),
        '',
        `"Whole tree" is what \`scripts/extract-kernel.sh\` extracts from Debian's linux-source-6.12 (selection: ${extractedSelection(ctx.tree)}): `
          + `${top.join(', ')}${drivers.length ? ` (drivers/: only ${drivers.join(', ')})` : ''} — ${r.files} .c/.h files, ${fmtMB(r.bytes)}; `
          + `${r.tooLarge} generated register headers over the 10 MB limit (${fmtMB(r.tooLargeBytes)}) are listed but not analysed (MB/s counts the rest). arch/, sound/, tools/, crypto/, `
          + 'security/, most of drivers/ and all of net/ but net/sunrpc are not extracted: this is not all of linux-source-6.12.',
        '',
        coldWarmTable(r, ctx, { coldMs: 4 * 60_000, warmMs: 10_000, rss: 3 * 2 ** 30, programShare: 0.25 }),
      ].join('\n'),
    },
  };
}
