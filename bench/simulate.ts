// State-space growth of the simulator for generated models with 2…6 threads (median of RUNS runs each),
// with and without the stubborn-set partial-order reduction.
// Standalone: node --import tsx bench/simulate.ts [--runs N]
//
// The generated model is deadlock-free, so every run explores the whole (reduced) state space: each thread
// takes its own object lock, allocates GFP_KERNEL (the shrinker may run and take the shared cache lock),
// then takes the shared cache lock itself; kswapd runs the shrinker once more.
import { parseModel } from '../server/src/simulate/parse';
import { compile } from '../server/src/simulate/program';
import { explore } from '../server/src/simulate/explore';

export interface SimulateBenchRow {
  threads: number;
  states: number;
  ms: number;
  statesUnreduced: number;
  msUnreduced: number;
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

export async function benchSimulate(opts: { runs?: number; maxThreads?: number } = {}): Promise<{ rows: SimulateBenchRow[] }> {
  const runs = Math.max(3, opts.runs ?? 3);
  const rows: SimulateBenchRow[] = [];
  for (let n = 2; n <= (opts.maxThreads ?? 6); n++) {
    const text = benchModel(n);
    const red = measure(text, true, runs);
    const full = measure(text, false, runs);
    rows.push({ threads: n, states: red.states, ms: red.ms, statesUnreduced: full.states, msUnreduced: full.ms });
  }
  return { rows };
}

export function formatBenchTable(rows: SimulateBenchRow[]): string {
  const out = ['| threads | states (POR) | ms (POR) | states (no POR) | ms (no POR) |', '|---:|---:|---:|---:|---:|'];
  for (const r of rows) out.push(`| ${r.threads} | ${r.states} | ${r.ms} | ${r.statesUnreduced} | ${r.msUnreduced} |`);
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
