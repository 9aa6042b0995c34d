// `npm run bench`: the figures of docs/benchmarks.md, measured against baselines taken in the same run.
//   analysis of fs/ + mm/ (linux-source-6.12) vs tree-sitter parse-only time of the same files (median of N runs)
//   hint latency for the largest files: analysis + inlay hints after the parse (median of 7 runs per file)
//   the simulator's state-space growth for 2…6 threads
// Options: --runs N (default 3), --tree DIR (default .cache/kernel/6.12), --quick (fs/xfs + mm only), --no-write.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findDeadlocks } from '../server/src/analysis/deadlock';
import type { FileFacts } from '../server/src/analysis/facts';
import { compactFacts, lineStartsOf, programWithContexts } from '../server/src/analysis/interproc';
import { createKbProvider } from '../server/src/analysis/kbView';
import { AnalysisHost } from '../server/src/ide/host';
import { inlayHints } from '../server/src/ide/inlayHints';
import { initParser, parseWith } from '../server/src/syntax/parser';
import { benchSimulate } from './simulate';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const RUNS = parseInt(opt('--runs', '3'), 10);
const TREE = path.resolve(opt('--tree', '.cache/kernel/6.12'));
const QUICK = args.includes('--quick');

function cFiles(dir: string): string[] {
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

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  if (!fs.existsSync(TREE)) {
    console.error(`bench: ${TREE} is missing: run scripts/extract-kernel.sh first`);
    process.exit(2);
  }
  const dirs = QUICK ? ['fs/xfs', 'mm'] : ['fs', 'mm'];
  const files = dirs.flatMap((d) => cFiles(path.join(TREE, d)));
  const texts = files.map((f) => fs.readFileSync(f, 'latin1'));
  const bytes = texts.reduce((a, t) => a + t.length, 0);
  const parser = await initParser();
  const host = new AnalysisHost(parser, createKbProvider().view);
  const config = { kernelVersion: '6.12', disabledChecks: [] as string[] };

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
    console.error(`run ${r + 1}/${RUNS}: parse-only ${(parseRuns[r] / 1000).toFixed(1)} s, preprocess+parse+analysis ${(fullRuns[r] / 1000).toFixed(1)} s`);
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

  // Hint latency after parse for the largest files.
  const largest = files.map((f, i) => ({ f, i, lines: texts[i].split('\n').length })).sort((a, b) => b.lines - a.lines).slice(0, 8);
  const latency: { file: string; lines: number; ms: number }[] = [];
  for (const l of largest) {
    const times: number[] = [];
    for (let r = 0; r < 7; r++) {
      const src = host.parse(texts[l.i]);
      const t0 = performance.now();
      const a = host.analyseParsed(src, config);
      inlayHints(a.facts, { start: 0, end: texts[l.i].length }, { mode: 'all' }, a.kb.gfp);
      times.push(performance.now() - t0);
      src.dispose();
    }
    latency.push({ file: path.relative(TREE, l.f), lines: l.lines, ms: median(times) });
  }

  const sim = await benchSimulate();
  const mem = process.memoryUsage();
  const report = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}. Tree: linux-source-6.12 (${dirs.join(' + ')}), ${files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MB. One thread (the workspace index with workers comes with issue #3).`,
    '',
    '## Analysis cost against parse-only (same files, same run)',
    '',
    '| measure | median of ' + RUNS + ' runs | target |',
    '|---|---|---|',
    `| tree-sitter parse-only (baseline) | ${(parseMs / 1000).toFixed(2)} s (${(bytes / 2 ** 20 / (parseMs / 1000)).toFixed(1)} MB/s) | |`,
    `| preprocess + parse + analysis + checks | ${(fullMs / 1000).toFixed(2)} s | |`,
    `| ratio to parse-only | ${(fullMs / parseMs).toFixed(2)}× (adds ${(((fullMs - parseMs) / parseMs) * 100).toFixed(0)}%) | adds ≤ 50% |`,
    `| allocation sites found | ${sites} | |`,
    `| findings | ${findings} | |`,
    '',
    '## Whole-program pass on the same facts (median of ' + RUNS + ' runs)',
    '',
    '| measure | time | target |',
    '|---|---|---|',
    `| call graph + calling contexts + deadlock detection | ${(programMs / 1000).toFixed(2)} s | |`,
    `| of which deadlock detection | ${(deadlockMs / 1000).toFixed(2)} s (${deadlocks} findings) | |`,
    `| whole-program pass over the per-file analysis | adds ${((programMs / fullMs) * 100).toFixed(1)}% | whole-tree check adds ≤ 25% to the index |`,
    '',
    '## Hint latency after parse, largest files (median of 7)',
    '',
    '| file | lines | analysis + hints | target |',
    '|---|---|---|---|',
    ...latency.map((l) => `| ${l.file} | ${l.lines} | ${l.ms.toFixed(1)} ms | ≤ 50 ms per 10k lines |`),
    '',
    '## Simulator state-space growth (median of ≥ 3 runs)',
    '',
    '| threads | states | time |',
    '|---|---|---|',
    ...sim.rows.map((r) => `| ${r.threads} | ${r.states} | ${r.ms.toFixed(1)} ms |`),
    '',
    `Peak heap in this process: ${(mem.heapUsed / 2 ** 20).toFixed(0)} MB used, RSS ${(mem.rss / 2 ** 20).toFixed(0)} MB.`,
    '',
  ].join('\n');
  console.log(report);
  if (!args.includes('--no-write')) fs.writeFileSync(path.join(__dirname, '..', 'docs', 'benchmarks.md'), report);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
