// State-space growth of the simulator for generated models with 2…6 threads (median of RUNS runs each),
// with and without the stubborn-set partial-order reduction, in states per second; and the baseline: SPIN on the
// Promela export of the same model (spin -a, gcc -O2 -DSAFETY, ./pan: its own partial-order reduction on).
// Standalone: node --import tsx bench/simulate.ts [--runs N]
//
// The generated model is deadlock-free, so every run explores the whole (reduced) state space: each thread
// takes its own object lock, allocates GFP_KERNEL (the shrinker may run and take the shared cache lock),
// then takes the shared cache lock itself; kswapd runs the shrinker once more.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseModel } from '../server/src/simulate/parse';
import { compile } from '../server/src/simulate/program';
import { explore } from '../server/src/simulate/explore';
import { toPromela } from '../server/src/simulate/promela';

export interface SimulateBenchRow {
  threads: number;
  states: number;
  ms: number;
  statesUnreduced: number;
  msUnreduced: number;
  /** states explored per second, with the reduction */
  statesPerSecond: number;
  /** SPIN on the Promela export; undefined when spin or gcc is missing */
  spin?: { states: number; ms: number; statesPerSecond: number; deadlock: boolean; compileMs: number };
}

/** The generated model for `n` task threads (plus kswapd). */
export function benchModel(n: number): string {
  const lines = [
    `model "bench: ${n} threads"`,
    'mutex &cache->lock',
    ...Array.from({ length: n }, (_, i) => `mutex &obj${i}->lock`),
    'reclaim cache_scan kind shrinker gate __GFP_FS @mm/bench.c:10 {',
    '  lock &cache->lock @mm/bench.c:11',
    '  unlock &cache->lock @mm/bench.c:12',
    '}',
  ];
  for (let i = 0; i < n; i++) {
    lines.push(
      `thread t${i} {`,
      `  lock &obj${i}->lock @mm/bench.c:${20 + i}`,
      `  alloc GFP_KERNEL @mm/bench.c:${30 + i}`,
      `  lock &cache->lock @mm/bench.c:${40 + i}`,
      `  unlock &cache->lock @mm/bench.c:${50 + i}`,
      `  unlock &obj${i}->lock @mm/bench.c:${60 + i}`,
      '}',
    );
  }
  lines.push('thread kswapd0 role kswapd');
  return lines.join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(text: string, reduce: boolean, runs: number): { states: number; ms: number } {
  const times: number[] = [];
  let states = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const { model } = parseModel(text);
    const res = explore(compile(model), { reduce });
    times.push(performance.now() - t0);
    if (res.verdict !== 'no-deadlock') throw new Error(`bench model unexpectedly ${res.verdict}`);
    states = res.statesExplored;
  }
  return { states, ms: Math.round(median(times) * 100) / 100 };
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/**
 * SPIN's exhaustive safety search on the Promela export of the model: states stored and pan's own search time
 * (median of `runs`; NaN when pan reports under its 10 ms resolution), and the time of `spin -a` + `gcc` once.
 */
export function spinBaseline(text: string, runs: number): SimulateBenchRow['spin'] {
  if (!has('spin') || !has('gcc')) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-bench-spin-'));
  try {
    fs.writeFileSync(path.join(dir, 'model.pml'), toPromela(compile(parseModel(text).model)));
    const c0 = performance.now();
    if (spawnSync('spin', ['-a', 'model.pml'], { cwd: dir }).status !== 0) return undefined;
    if (spawnSync('gcc', ['-O2', '-DSAFETY', '-o', 'pan', 'pan.c'], { cwd: dir }).status !== 0) return undefined;
    const compileMs = performance.now() - c0;
    const times: number[] = [];
    let states = 0;
    let deadlock = false;
    for (let r = 0; r < runs; r++) {
      const p = spawnSync('./pan', ['-m1000000'], { cwd: dir, encoding: 'utf8' });
      states = Number(/(\d+) states, stored/.exec(p.stdout)?.[1] ?? NaN);
      deadlock = /invalid end state/.test(p.stdout);
      times.push(Number(/pan: elapsed time ([\d.e+-]+) seconds/.exec(p.stdout)?.[1] ?? NaN) * 1000);
    }
    const m = median(times);
    const ms = m >= 10 ? m : NaN;
    return { states, ms, statesPerSecond: states / (ms / 1000), deadlock, compileMs: Math.round(compileMs) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchSimulate(opts: { runs?: number; maxThreads?: number; spin?: boolean } = {}): Promise<{ rows: SimulateBenchRow[] }> {
  const runs = Math.max(3, opts.runs ?? 3);
  const rows: SimulateBenchRow[] = [];
  measure(benchModel(4), true, 1); // warm-up: the first explorations run before the JIT has compiled the explorer
  for (let n = 2; n <= (opts.maxThreads ?? 6); n++) {
    const text = benchModel(n);
    const red = measure(text, true, runs);
    const full = measure(text, false, runs);
    rows.push({
      threads: n, states: red.states, ms: red.ms, statesUnreduced: full.states, msUnreduced: full.ms, statesPerSecond: red.states / (red.ms / 1000),
      spin: opts.spin === false ? undefined : spinBaseline(text, runs),
    });
  }
  return { rows };
}

export function formatBenchTable(rows: SimulateBenchRow[]): string {
  const k = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
  const out = [
    '| threads | states (POR) | ms (POR) | states/s (POR) | states (no POR) | ms (no POR) | SPIN states stored | SPIN search ms | SPIN states/s | states/s: ours ÷ SPIN | time to verdict: ours ÷ SPIN search |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const s = r.spin;
    const spinMs = s && Number.isFinite(s.ms) ? String(s.ms) : '< 10';
    const rate = s && Number.isFinite(s.ms) ? `${(r.statesPerSecond / s.statesPerSecond).toFixed(2)}×` : 'n/a';
    const verdictRatio = s && Number.isFinite(s.ms) ? `${(r.ms / s.ms).toFixed(2)}×` : 'n/a';
    out.push(`| ${r.threads} | ${r.states} | ${r.ms} | ${k(r.statesPerSecond)} | ${r.statesUnreduced} | ${r.msUnreduced} | `
      + (s ? `${s.states} | ${spinMs} | ${Number.isFinite(s.ms) ? k(s.statesPerSecond) : 'n/a'} | ${rate} | ${verdictRatio} |` : 'n/a | n/a | n/a | n/a | n/a |'));
  }
  const compiles = rows.map((r) => r.spin?.compileMs).filter((x): x is number => x !== undefined);
  if (compiles.length) out.push('', `SPIN also needs \`spin -a\` + \`gcc -O2\` before each search: ${Math.min(...compiles)}–${Math.max(...compiles)} ms per model here (not counted above).`);
  return out.join('\n');
}

const invokedDirectly = typeof process !== 'undefined' && process.argv[1] !== undefined && /bench[\\/]simulate\.ts$/.test(process.argv[1]);
if (invokedDirectly) {
  const i = process.argv.indexOf('--runs');
  const runs = i >= 0 ? Number(process.argv[i + 1]) : 3;
  benchSimulate({ runs }).then((r) => {
    process.stdout.write('simulator state-space growth (median of ' + Math.max(3, runs) + ' runs; kswapd + N task threads)\n');
    process.stdout.write(formatBenchTable(r.rows) + '\n');
  });
}
