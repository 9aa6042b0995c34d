// Per-file hint latency over many files: what the language server's inlayHint handler computes for a document it has
// not analysed yet (preprocess + parse + analysis + hints over the whole file, ide/ functions, in this process),
// for every .c file of fs/ + mm/, against tree-sitter parse-only of the same text. Each file's time is the median of
// its runs; the table gives the median, p95 and maximum over the files, absolute and per 10k lines.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createKbProvider } from '../server/src/analysis/kbView';
import { AnalysisHost } from '../server/src/ide/host';
import { inlayHints } from '../server/src/ide/inlayHints';
import { initParser, parseWith } from '../server/src/syntax/parser';
import { cFiles } from './analysis';
import { fmtMs, median, percentile, ratio, verdict, type BenchContext } from './lib';
import { measuredLine, table, type Section } from './report';

export async function benchLatency(ctx: BenchContext): Promise<Section> {
  const dirs = ctx.quick ? ['fs/xfs', 'mm'] : ['fs', 'mm'];
  const files = dirs.flatMap((d) => cFiles(path.join(ctx.tree, d)));
  const texts = files.map((f) => fs.readFileSync(f, 'latin1'));
  const lines = texts.map((t) => t.split('\n').length);
  const parser = await initParser();
  const host = new AnalysisHost(parser, createKbProvider().view);
  const config = { kernelVersion: '6.12', disabledChecks: [] as string[] };
  const hintRuns: number[][] = texts.map(() => []);
  const parseRuns: number[][] = texts.map(() => []);
  for (let r = 0; r < ctx.runs; r++) {
    const t0 = performance.now();
    texts.forEach((text, i) => {
      const p0 = performance.now();
      parseWith(parser, text).delete();
      const p1 = performance.now();
      const a = host.analyse(text, config);
      inlayHints(a.facts, { start: 0, end: text.length }, { mode: 'all' }, a.kb.gfp);
      const p2 = performance.now();
      parseRuns[i].push(p1 - p0);
      hintRuns[i].push(p2 - p1);
    });
    ctx.log(`latency run ${r + 1}/${ctx.runs}: ${files.length} files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const hint = hintRuns.map(median);
  const parse = parseRuns.map(median);
  const big = files.map((_, i) => i).filter((i) => lines[i] >= 5000);
  // The target is 50 ms for a 10k-line file: every file up to 10k lines within 50 ms, longer ones pro rata.
  const budget = (i: number) => 50 * Math.max(1, lines[i] / 10_000);
  const within = hint.filter((ms, i) => ms <= budget(i)).length;
  const pick = (xs: number[], idx: number[]) => idx.map((i) => xs[i]);
  const worst = hint.map((ms, i) => ({ ms, i })).sort((a, b) => b.ms - a.ms).slice(0, 5);
  const row = (name: string, ours: number[], base: number[], p: number | 'max') => {
    const f = (xs: number[]) => (p === 'max' ? Math.max(...xs) : percentile(xs, p));
    return [name, fmtMs(f(ours)), fmtMs(f(base)), ratio(f(ours), f(base))];
  };
  return {
    id: 'latency',
    markdown: [
      `## Per-file hint latency: ${files.length} .c files of ${dirs.join(' + ')} (analysis + inlay hints of the whole file, one thread)`,
      '',
      measuredLine(ctx.runs, ' per file'),
      '',
      table(['over the files', 'preprocess + parse + analysis + hints', 'tree-sitter parse-only (baseline)', 'ratio'], [
        row('median', hint, parse, 50),
        row('p95', hint, parse, 95),
        row('max', hint, parse, 'max'),
        row(`median, the ${big.length} files of ≥ 5000 lines`, pick(hint, big), pick(parse, big), 50),
        row(`p95, the ${big.length} files of ≥ 5000 lines`, pick(hint, big), pick(parse, big), 95),
      ]),
      '',
      `Files within the target (50 ms for a 10k-line file: 50 ms up to 10k lines, pro rata above): ${within} of ${files.length} `
        + `(${((within / files.length) * 100).toFixed(1)}%) ${verdict(within === files.length)}.`,
      '',
      `Slowest: ${worst.map((w) => `${path.relative(ctx.tree, files[w.i])} (${lines[w.i]} lines) ${fmtMs(w.ms)}`).join('; ')}.`,
    ].join('\n'),
  };
}
