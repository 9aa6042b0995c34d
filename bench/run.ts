// `npm run bench`: the figures of docs/benchmarks.md, each against a baseline measured in the same run, printed and
// written to docs/benchmarks.md (a header with the machine; each section replaces its own block, so `--only` refreshes
// some and keeps the others). Sections (default: all but the --full ones; about 20–30 min on 2 cores):
//   analysis    per-file analysis of fs/ + mm/ vs tree-sitter parse-only, one thread            (bench/analysis.ts)
//   program     the whole-program pass (call graph, contexts, deadlocks) on those facts          (bench/analysis.ts)
//   hints       hint latency after the parse, largest files, vs their parse                      (bench/analysis.ts)
//   latency     per-file hint latency (median/p95) over every .c file of fs/ + mm/ vs parse-only (bench/latency.ts)
//   index       cold index, warm start, check, peak RSS, cache size of --dirs (fs mm include) with the CLI,
//               vs parallel parse-only with the same worker count                                (bench/index.ts)
//   lsp         edit-to-refresh in the language server: didChange → hints, didSave → another file's diagnostics
//                                                                                               (bench/lsp.ts)
//   coccinelle  spatch with the kernel's call_kern.cocci on --cocci-dirs vs ours: time, findings (bench/coccinelle.ts)
//   simulator   the simulator's states/second for 2…6 threads vs SPIN on the Promela export     (bench/simulate.ts)
//   whole       (--full) cold index, warm start, check of the whole extracted 6.12 tree           (bench/index.ts)
//   scaling     (--full) 1/8, 1/4, 1/2, all of the extracted tree: time, memory, ms/MB            (bench/scaling.ts)
// Options:
//   --only a,b      these sections only (any of the above, --full ones included)
//   --full          add whole and scaling (about 40–60 min more on 2 cores)
//   --runs N        runs per figure, median reported (default 3; 1 for development)
//   --jobs N        worker threads of the CLI and of parse-only (default: the number of cores)
//   --tree DIR      the extracted kernel (default .cache/kernel/6.12)
//   --dirs a,b      folders of the index section (default fs,mm,include)
//   --cocci-dirs a,b  folders of the Coccinelle comparison (default: --dirs); --cocci-timeout S per spatch (1200)
//   --lsp-paths a,b   the language server's indexed folders (default fs,mm); --lsp-file F the edited file
//                   (default fs/btrfs/inode.c); --lsp-edits N (default 6, at least 5)
//   --quick         small folders for development (fs/xfs + mm)
//   --no-write      print only; --keep-tmp keeps the temporary folder (caches, workspace copy)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchAnalysis } from './analysis';
import { benchCoccinelle } from './coccinelle';
import { benchIndex, benchWhole, type ColdWarm } from './index';
import { benchLatency } from './latency';
import { extractedSelection, loadAvg, ROOT, type BenchContext } from './lib';
import { benchLsp } from './lsp';
import { machine, measuredLine, writeReport, type Section } from './report';
import { benchScaling } from './scaling';
import { benchSimulate, formatBenchTable } from './simulate';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

const DEFAULT_SECTIONS = ['analysis', 'program', 'hints', 'latency', 'index', 'lsp', 'coccinelle', 'simulator'];
const FULL_SECTIONS = ['whole', 'scaling'];
const ALL = [...DEFAULT_SECTIONS, ...FULL_SECTIONS];

async function main() {
  const full = args.includes('--full');
  const quick = args.includes('--quick');
  const only = args.includes('--only') ? list(opt('--only', '')) : undefined;
  const unknown = (only ?? []).filter((s) => !ALL.includes(s));
  if (unknown.length) {
    console.error(`bench: unknown section(s) ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
    process.exit(2);
  }
  const want = new Set(only ?? (full ? ALL : DEFAULT_SECTIONS));
  const tree = path.resolve(opt('--tree', path.join(ROOT, '.cache', 'kernel', '6.12')));
  if (!fs.existsSync(tree)) {
    console.error(`bench: ${tree} is missing: run scripts/extract-kernel.sh first`);
    process.exit(2);
  }
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js')) || !fs.existsSync(path.join(ROOT, 'dist', 'server.js'))) {
    console.error('bench: dist/ is missing: run `npm run build` first');
    process.exit(2);
  }
  const indexDirs = list(opt('--dirs', quick ? 'fs/xfs,mm' : 'fs,mm,include'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-bench-'));
  const started = Date.now();
  const ctx: BenchContext = {
    tree, quick, full, indexDirs, tmp,
    runs: Math.max(1, parseInt(opt('--runs', '3'), 10)),
    jobs: Math.max(1, parseInt(opt('--jobs', String(os.availableParallelism())), 10)),
    cocciDirs: list(opt('--cocci-dirs', indexDirs.join(','))),
    opt,
    log: (m) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${m}`),
  };
  ctx.log(`bench: sections ${[...want].join(', ')}; ${ctx.runs} runs; ${ctx.jobs} jobs; tree ${tree}; load average ${loadAvg()}`);
  const sections: Section[] = [];
  const failures: string[] = [];
  const section = async (id: string | string[], fn: () => Promise<Section | Section[]>) => {
    const ids = Array.isArray(id) ? id : [id];
    if (!ids.some((x) => want.has(x))) return;
    const t0 = Date.now();
    try {
      const got = await fn();
      for (const s of Array.isArray(got) ? got : [got]) {
        if (!want.has(s.id)) continue;
        sections.push(s);
        console.log(`${s.markdown}\n`);
      }
    } catch (e) {
      // One section failing (a tool missing, a timeout) leaves the others' figures standing.
      const msg = e instanceof Error ? e.message : String(e);
      failures.push(`${ids.join('/')}: ${msg}`);
      ctx.log(`bench: ${ids.join('/')} failed: ${e instanceof Error ? e.stack : msg}`);
    }
    ctx.log(`bench: ${ids.join('/')} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  };

  try {
    await section(['analysis', 'program', 'hints'], () => benchAnalysis(ctx, { analysis: want.has('analysis') || want.has('program'), hints: want.has('hints') }));
    await section('latency', () => benchLatency(ctx));
    await section('index', () => benchIndex(ctx));
    await section('lsp', () => benchLsp(ctx));
    await section('coccinelle', () => benchCoccinelle(ctx));
    await section('simulator', async () => {
      const sim = await benchSimulate({ runs: ctx.runs });
      return {
        id: 'simulator',
        markdown: [
          '## Simulator: state space and states per second, 2…6 threads (median of ≥ 3 runs)',
          '',
          measuredLine(Math.max(3, ctx.runs), '; kswapd + N task threads, deadlock-free, so the whole (reduced) space is explored'),
          '',
          'Baseline: SPIN on the Promela export of the same model (`spin -a`, `gcc -O2 -DSAFETY`, `./pan`, its own partial-order reduction on), '
            + 'timed by pan\'s own search time (10 ms resolution: "< 10" leaves the ratios out). SPIN stores states of another encoding (every '
            + 'step of its processes), so compare rates and time to the verdict rather than counts.',
          '',
          formatBenchTable(sim.rows),
        ].join('\n'),
      };
    });
    let whole: ColdWarm | undefined;
    await section('whole', async () => {
      const r = await benchWhole(ctx);
      whole = r.cold;
      return r.section;
    });
    await section('scaling', () => benchScaling(ctx, whole));
  } finally {
    if (!args.includes('--keep-tmp')) fs.rmSync(tmp, { recursive: true, force: true });
    else ctx.log(`bench: temporary files kept in ${tmp}`);
  }

  const header = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts; `--only SECTION,…` re-measures some sections and keeps the others, `--full` adds the whole-tree '
      + 'sections). Every figure is the median of its runs, next to a baseline measured in the same run. Each section says when and where it was '
      + 'measured; the load average tells whether the machine was shared.',
    '',
    `Last run: ${new Date().toISOString().slice(0, 10)}, ${machine()}; tree ${path.relative(ROOT, tree) || tree} (linux-source-6.12 as extracted: `
      + `${extractedSelection(tree)}).`,
  ].join('\n');
  if (failures.length) console.error(`bench: failed sections:\n  ${failures.join('\n  ')}`);
  if (!args.includes('--no-write') && sections.length) {
    writeReport(path.join(ROOT, 'docs', 'benchmarks.md'), sections, header);
    ctx.log(`bench: docs/benchmarks.md: ${sections.map((s) => s.id).join(', ')} written`);
  }
  ctx.log(`bench: done in ${((Date.now() - started) / 60000).toFixed(1)} min; load average ${loadAvg()}`);
  if (failures.length) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
