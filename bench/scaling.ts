// How cost grows with the tree: cold `check` (fresh cache folder, N workers) of 1/8, 1/4, 1/2 and all of the
// extracted 6.12 tree. The subsets are nested and deterministic: the files in the CLI's order (sorted paths), every
// 8th, 4th, 2nd one, so each mixes all folders in the same proportions. Time, per-file phase, whole-program pass and
// peak RSS per subset, with ms per MB: flat ms/MB is linear growth.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmtMB, fmtS, freshDir, median, runCli, sizeOf, sourceFiles, MAX_FILE_BYTES, MB, type BenchContext, type CliRun } from './lib';
import type { ColdWarm } from './index';
import { measuredLine, table, type Section } from './report';

interface Point {
  name: string;
  files: number;
  bytes: number;
  runs: CliRun[];
}

export async function benchScaling(ctx: BenchContext, whole?: ColdWarm): Promise<Section> {
  // Files over the CLI's size limit are not analysed (and a PATH naming only such a file is an error): they are left
  // out of every subset and of the sizes, the "all" point included.
  const listed = await sourceFiles(ctx.tree, ['.']);
  const all = listed.filter((f) => fs.statSync(f).size <= MAX_FILE_BYTES);
  const rel = all.map((f) => path.relative(ctx.tree, f));
  const points: Point[] = [];
  for (const [name, step] of [['1/8', 8], ['1/4', 4], ['1/2', 2], ['all', 1]] as const) {
    const subset = rel.filter((_, i) => i % step === 0);
    const size = sizeOf(subset.map((f) => path.join(ctx.tree, f)));
    const p: Point = { name, files: size.files, bytes: size.bytes, runs: [] };
    points.push(p);
    if (step === 1 && whole && whole.cold.length) {
      // The whole-tree section of this run measured exactly this (cold check, fresh cache folder).
      p.runs = whole.cold;
      ctx.log(`scaling all: the whole-tree section's ${whole.cold.length} cold runs`);
      continue;
    }
    for (let i = 0; i < ctx.runs; i++) {
      const cache = freshDir(ctx, `cache-scaling-${step}-${i}`);
      // Every subset as an explicit file list (the "all" point too, so all four go through the same path).
      const r = await runCli(ctx, 'check', ['--root', ctx.tree, '--cache', cache, '--jobs', String(ctx.jobs), ...subset]);
      fs.rmSync(cache, { recursive: true, force: true });
      p.runs.push(r);
      ctx.log(`scaling ${name} run ${i + 1}/${ctx.runs}: ${size.files} files, ${fmtMB(size.bytes)}: ${fmtS(r.ms)} (index ${fmtS(r.stats.indexMs)}, program ${fmtS(r.stats.programMs)}), peak RSS ${fmtMB(r.peakRss)}`);
    }
  }
  const base = points[0];
  const med = (p: Point, pick: (r: CliRun) => number) => median(p.runs.map(pick));
  const perMB = (p: Point, pick: (r: CliRun) => number) => med(p, pick) / (p.bytes / MB);
  const total = (r: CliRun) => r.ms;
  const index = (r: CliRun) => r.stats.indexMs;
  const rss = (r: CliRun) => r.peakRss;
  const rows = points.map((p, i) => {
    const prev = points[i - 1];
    // Marginal cost: what the added half (quarter, eighth) of the files cost, so fixed costs (node start-up,
    // the runtime and grammar in every worker) do not make small subsets look expensive.
    const marginal = (pick: (r: CliRun) => number) => (prev ? (med(p, pick) - med(prev, pick)) / ((p.bytes - prev.bytes) / MB) : NaN);
    const mt = marginal(total);
    const mr = marginal(rss);
    return [
      p.name, p.files, fmtMB(p.bytes), fmtS(med(p, total)), fmtS(med(p, index)), fmtS(med(p, (r) => r.stats.programMs)), fmtMB(med(p, rss)),
      `${perMB(p, total).toFixed(0)} (${(perMB(p, total) / perMB(base, total)).toFixed(2)}×)`,
      `${perMB(p, index).toFixed(0)} (${(perMB(p, index) / perMB(base, index)).toFixed(2)}×)`,
      Number.isFinite(mt) ? mt.toFixed(0) : '',
      Number.isFinite(mr) ? (mr / MB).toFixed(1) : '',
      `${(p.bytes / MB / (med(p, total) / 1000)).toFixed(2)}`,
    ];
  });
  return {
    id: 'scaling',
    markdown: [
      `## How cost grows: 1/8, 1/4, 1/2 and all of the extracted 6.12 tree (cold check, ${ctx.jobs} workers)`,
      '',
      measuredLine(ctx.runs, `; every 8th/4th/2nd file of ${all.length} in path order (${listed.length - all.length} files over the 10 MB limit, `
        + 'never analysed, left out of the subsets and the sizes)'),
      '',
      'ms per MB of source and its ratio to the 1/8 subset (fixed costs — node start-up, the runtime and grammar in every worker — weigh '
        + 'most on the smallest subset, so this falls a little), and the marginal cost of the files each step adds (ms and MB of peak RSS '
        + 'per added MB of source): flat marginal figures are linear growth. The whole-program pass links more calls as the subset grows. '
        + 'The all-files row is the whole-tree section\'s cold runs when both ran together.',
      '',
      table(['subset', 'files', 'source', 'cold check', 'per-file phase', 'whole-program pass', 'peak RSS', 'ms/MB total', 'ms/MB per-file phase',
        'marginal ms per added MB', 'marginal RSS MB per added MB', 'MB/s'], rows),
    ].join('\n'),
  };
}
