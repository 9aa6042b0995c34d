// #2's figures, in this process on one thread: the per-file analysis of fs/ + mm/ (.c files) against tree-sitter
// parse-only of the same texts, the whole-program pass over those facts, and the hint latency after the parse for
// the largest files (median of 7 per file).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findDeadlocks } from '../server/src/analysis/deadlock';
import type { FileFacts } from '../server/src/analysis/facts';
import { compactFacts, lineStartsOf, programWithContexts } from '../server/src/analysis/interproc';
import { createKbProvider } from '../server/src/analysis/kbView';
import { AnalysisHost } from '../server/src/ide/host';
import { inlayHints } from '../server/src/ide/inlayHints';
import { initParser, parseWith } from '../server/src/syntax/parser';
import { median, type BenchContext } from './lib';
import { measuredLine, type Section } from './report';

export function cFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.c')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

export async function benchAnalysis(ctx: BenchContext, want: { analysis: boolean; hints: boolean }): Promise<Section[]> {
  const RUNS = ctx.runs;
  const TREE = ctx.tree;
  const dirs = ctx.quick ? ['fs/xfs', 'mm'] : ['fs', 'mm'];
  const files = dirs.flatMap((d) => cFiles(path.join(TREE, d)));
  const texts = files.map((f) => fs.readFileSync(f, 'latin1'));
  const bytes = texts.reduce((a, t) => a + t.length, 0);
  const parser = await initParser();
  const host = new AnalysisHost(parser, createKbProvider().view);
  const config = { kernelVersion: '6.12', disabledChecks: [] as string[] };
  const out: Section[] = [];
  const what = `linux-source-6.12 ${dirs.join(' + ')} (.c files), ${files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MB, one thread in the bench process`;

  if (want.analysis) {
    const parseRuns: number[] = [];
    const fullRuns: number[] = [];
    let sites = 0;
    let findings = 0;
    let facts: { path: string; facts: FileFacts; lineStarts: ArrayLike<number> }[] = [];
    for (let r = 0; r < RUNS; r++) {
      let t0 = performance.now();
      for (const t of texts) parseWith(parser, t).delete();
      parseRuns.push(performance.now() - t0);
      t0 = performance.now();
      sites = 0;
      findings = 0;
      facts = [];
      for (const [i, t] of texts.entries()) {
        const a = host.analyse(t, config);
        facts.push({ path: path.relative(TREE, files[i]), facts: compactFacts(a.facts), lineStarts: lineStartsOf(t) });
        for (const fn of a.facts.functions) {
          sites += fn.sites.length;
          findings += fn.findings.length;
        }
      }
      fullRuns.push(performance.now() - t0);
      ctx.log(`analysis run ${r + 1}/${RUNS}: parse-only ${(parseRuns[r] / 1000).toFixed(1)} s, preprocess+parse+analysis ${(fullRuns[r] / 1000).toFixed(1)} s`);
    }
    const parseMs = median(parseRuns);
    const fullMs = median(fullRuns);

    // The whole-program pass on those facts: call graph, calling contexts, reclaim and fault deadlocks (#3, #4).
    const kbView = createKbProvider().view('6.12');
    const programRuns: number[] = [];
    const deadlockRuns: number[] = [];
    let deadlocks = 0;
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const { program, ctxs } = programWithContexts(facts);
      const t1 = performance.now();
      deadlocks = findDeadlocks(program, ctxs, kbView).findings.length;
      deadlockRuns.push(performance.now() - t1);
      programRuns.push(performance.now() - t0);
    }
    const programMs = median(programRuns);
    const deadlockMs = median(deadlockRuns);
    out.push({
      id: 'analysis',
      markdown: [
        '## Analysis cost against parse-only (same files, same run, one thread)',
        '',
        measuredLine(RUNS, `; ${what}`),
        '',
        '| measure | median of ' + RUNS + ' runs | target |',
        '|---|---|---|',
        `| tree-sitter parse-only (baseline) | ${(parseMs / 1000).toFixed(2)} s (${(bytes / 2 ** 20 / (parseMs / 1000)).toFixed(1)} MB/s) | |`,
        `| preprocess + parse + analysis + checks | ${(fullMs / 1000).toFixed(2)} s | |`,
        `| ratio to parse-only | ${(fullMs / parseMs).toFixed(2)}× (adds ${(((fullMs - parseMs) / parseMs) * 100).toFixed(0)}%) | adds ≤ 50% |`,
        `| allocation sites found | ${sites} | |`,
        `| findings | ${findings} | |`,
      ].join('\n'),
    });
    out.push({
      id: 'program',
      markdown: [
        '## Whole-program pass on the same facts (median of ' + RUNS + ' runs)',
        '',
        measuredLine(RUNS, `; ${what}`),
        '',
        '| measure | time | target |',
        '|---|---|---|',
        `| call graph + calling contexts + deadlock detection | ${(programMs / 1000).toFixed(2)} s | |`,
        `| of which deadlock detection | ${(deadlockMs / 1000).toFixed(2)} s (${deadlocks} findings) | |`,
        `| whole-program pass over the per-file analysis | adds ${((programMs / fullMs) * 100).toFixed(1)}% | whole-tree check adds ≤ 25% to the index |`,
      ].join('\n'),
    });
  }

  if (want.hints) {
    // Hint latency after parse for the largest files.
    const largest = files.map((f, i) => ({ f, i, lines: texts[i].split('\n').length })).sort((a, b) => b.lines - a.lines).slice(0, 8);
    const latency: { file: string; lines: number; ms: number; parseMs: number }[] = [];
    for (const l of largest) {
      const times: number[] = [];
      const parses: number[] = [];
      for (let r = 0; r < 7; r++) {
        const p0 = performance.now();
        parseWith(parser, texts[l.i]).delete();
        parses.push(performance.now() - p0);
        const src = host.parse(texts[l.i]);
        const t0 = performance.now();
        const a = host.analyseParsed(src, config);
        inlayHints(a.facts, { start: 0, end: texts[l.i].length }, { mode: 'all' }, a.kb.gfp);
        times.push(performance.now() - t0);
        src.dispose();
      }
      latency.push({ file: path.relative(TREE, l.f), lines: l.lines, ms: median(times), parseMs: median(parses) });
    }
    out.push({
      id: 'hints',
      markdown: [
        '## Hint latency after parse, largest files (median of 7)',
        '',
        measuredLine(7, `; ${what}`),
        '',
        '| file | lines | analysis + hints | tree-sitter parse (baseline) | ratio | target |',
        '|---|---|---|---|---|---|',
        ...latency.map((l) => `| ${l.file} | ${l.lines} | ${l.ms.toFixed(1)} ms | ${l.parseMs.toFixed(1)} ms | ${(l.ms / l.parseMs).toFixed(2)}× | ≤ 50 ms per 10k lines |`),
      ].join('\n'),
    });
  }
  return out;
}
