// Coccinelle baseline: the kernel's own semantic patch for GFP_KERNEL under a spinlock,
// scripts/coccinelle/locks/call_kern.cocci ("functions that refer to GFP_KERNEL but are called with locks held"),
// run by Debian's spatch as `make coccicheck MODE=report` runs it (scripts/coccicheck: -D report --no-show-diff
// --very-quiet, the file's own "Options:" line, --dir, --jobs N --chunksize 1), on the same folders, against our
// `check --callees` (its rule is interprocedural: a call under the lock to a function that uses GFP_KERNEL).
// Per run: spatch, then our cold check (fresh cache folder). Then: its findings, which of them we also report, and
// what we report that its rule cannot see.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmtMB, fmtS, freshDir, median, runCli, runMeasured, ratio, sizeOf, sourceFiles, type BenchContext, type Measured } from './lib';
import { measuredLine, table, type Section } from './report';

const COCCI = 'scripts/coccinelle/locks/call_kern.cocci';

interface CocciFinding {
  file: string;
  gfpLine: number;
  fn: string;
  callLine: number;
  lockLine: number;
}

interface JFinding {
  id: string;
  code: string;
  file: string;
  line: number;
  function: string;
  message: string;
  related: { file: string; line: number; message: string }[];
}

interface JSite {
  file: string;
  line: number;
  function: string;
  literal: string;
  effective: string[];
  atomic: boolean;
  scopes: unknown[];
  contexts: { effective: string; atomic: boolean; scopes: unknown[] }[];
}

export function parseCocciReport(stdout: string): CocciFinding[] {
  const out = new Map<string, CocciFinding>();
  const re = /^(.+?):(\d+):\d+-\d+: ERROR: function (\w+) called on line (\d+) inside lock on line (\d+) but uses GFP_KERNEL/;
  for (const l of stdout.split('\n')) {
    const m = re.exec(l.trim());
    if (!m) continue;
    const f: CocciFinding = { file: m[1].replace(/^\.\//, ''), gfpLine: Number(m[2]), fn: m[3], callLine: Number(m[4]), lockLine: Number(m[5]) };
    out.set(`${f.file}:${f.gfpLine}:${f.callLine}:${f.lockLine}`, f);
  }
  return [...out.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.callLine - b.callLine));
}

/** Our finding that is the same report: the call under the lock (same file and line), or the same lock and callee. */
function sameAs(c: CocciFinding, ours: readonly JFinding[]): JFinding | undefined {
  const here = ours.filter((f) => f.code === 'sleep-in-atomic' && f.file === c.file);
  return here.find((f) => f.line === c.callLine)
    ?? here.find((f) => f.message.includes(`${c.fn}()`) && f.related.some((r) => r.file === c.file && r.line === c.lockLine));
}

/**
 * What a reclaim-deadlock finding holds, from "X taken here by API()" of its first related note: a transaction or
 * write/freeze protection (journal handle, sb_writers), a lock its function only asserts held, or a sleeping lock
 * (mutex, rwsem, inode lock, filesystem tree locks).
 */
function heldKind(f: JFinding): 'transaction' | 'asserted' | 'sleeping lock' {
  const api = /taken here by (\w+)\(\)/.exec(f.related[0]?.message ?? '')?.[1] ?? '';
  if (/journal_start|start_trans|trans_alloc|transaction|sb_start_write|mnt_want_write|file_start_write/.test(api)) return 'transaction';
  if (/assert/.test(api)) return 'asserted';
  return 'sleeping lock';
}

export async function benchCoccinelle(ctx: BenchContext): Promise<Section> {
  const dirs = ctx.cocciDirs;
  const title = `## Coccinelle baseline: \`${COCCI}\` on ${dirs.join(' + ')} of 6.12`;
  const version = spawnSync('spatch', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    return { id: 'coccinelle', markdown: [title, '', `_Not measured: spatch is not installed (Debian: \`apt-get install coccinelle\`; .ci/run installs it)._`].join('\n') };
  }
  const cocci = path.join(ctx.tree, COCCI);
  if (!fs.existsSync(cocci)) {
    return { id: 'coccinelle', markdown: [title, '', `_Not measured: ${COCCI} is not in ${ctx.tree} (scripts/extract-kernel.sh extracts scripts/coccinelle)._`].join('\n') };
  }
  const spatchVersion = version.stdout.split('\n')[0].trim();
  const options = (/^\/\/ Options:(.*)$/m.exec(fs.readFileSync(cocci, 'utf8'))?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const timeoutS = Number(ctx.opt('--cocci-timeout', '1200'));
  const size = sizeOf(await sourceFiles(ctx.tree, dirs));
  const spatchArgs = (dir: string) => [
    '-D', 'report', '--no-show-diff', '--very-quiet', '--cocci-file', COCCI, ...options,
    '--dir', dir, '-I', 'include', '-I', 'include/uapi', '--jobs', String(ctx.jobs), '--chunksize', '1',
  ];

  const cocciRuns: { ms: number; rss: number; timedOut: boolean }[] = [];
  const ourRuns: { ms: number; rss: number }[] = [];
  let report: CocciFinding[] = [];
  let callees: JFinding[] = [];
  for (let i = 0; i < ctx.runs; i++) {
    // One spatch per folder (its --dir takes one), one after the other: the total is the sum.
    let ms = 0;
    let rss = 0;
    let timedOut = false;
    let stdout = '';
    for (const d of dirs) {
      const m: Measured = await runMeasured('spatch', spatchArgs(d), { cwd: ctx.tree, timeoutMs: timeoutS * 1000 });
      if (m.code !== 0 && !m.timedOut) throw new Error(`spatch on ${d} exited with ${m.code}:\n${m.stderr.slice(-2000)}`);
      ms += m.ms;
      rss = Math.max(rss, m.peakRss);
      timedOut ||= m.timedOut;
      stdout += m.stdout;
    }
    cocciRuns.push({ ms, rss, timedOut });
    report = parseCocciReport(stdout);
    const cache = freshDir(ctx, `cache-cocci-${i}`);
    const ours = await runCli(ctx, 'check', ['--root', ctx.tree, '--cache', cache, '--jobs', String(ctx.jobs), '--callees', ...dirs], { keepJson: i === ctx.runs - 1 });
    ourRuns.push({ ms: ours.ms, rss: ours.peakRss });
    if (ours.json) callees = ours.json.findings as unknown as JFinding[];
    if (i < ctx.runs - 1) fs.rmSync(cache, { recursive: true, force: true });
    ctx.log(`coccinelle run ${i + 1}/${ctx.runs}: spatch ${fmtS(ms)}${timedOut ? ' (timed out)' : ''}, ${report.length} findings; our check --callees ${fmtS(ours.ms)}, ${callees.length || '…'} findings`);
  }
  // Our default report (no --callees) and every allocation site's masks, from the last run's cache.
  const cache = path.join(ctx.tmp, `cache-cocci-${ctx.runs - 1}`);
  const plain = (await runCli(ctx, 'check', ['--root', ctx.tree, '--cache', cache, '--jobs', String(ctx.jobs), ...dirs], { keepJson: true })).json!.findings as unknown as JFinding[];
  const sites = (await runCli(ctx, 'hints', ['--root', ctx.tree, '--cache', cache, '--jobs', String(ctx.jobs), ...dirs], { keepJson: true })).json!.sites as unknown as JSite[];
  fs.rmSync(cache, { recursive: true, force: true });

  // Theirs, one by one.
  const plainIds = new Set(plain.map((f) => f.id));
  const rows = report.map((c) => {
    const d = sameAs(c, plain);
    const x = sameAs(c, callees);
    // The allocation that GFP_KERNEL reaches: the site of that function nearest to its line (it may be in a gfp_t local).
    const site = sites.filter((s) => s.file === c.file && s.function === c.fn).sort((a, b) => Math.abs(a.line - c.gfpLine) - Math.abs(b.line - c.gfpLine))[0];
    const atomicCtx = site ? site.atomic || site.contexts.some((k) => k.atomic) : false;
    return [
      `${c.file}:${c.gfpLine}`, `\`${c.fn}()\` called at line ${c.callLine} under the lock of line ${c.lockLine}`,
      d ? `yes (line ${d.line})` : 'no', x ? `yes (line ${x.line}: ${x.message.slice(0, 90)}${x.message.length > 90 ? '…' : ''})` : 'no',
      site ? `${site.file}:${site.line}: ${site.literal} → ${site.effective.join(' / ')}${atomicCtx ? ', in an atomic calling context' : ''}`
        : `no allocation call in ${c.fn}() itself (the mask is passed on)`,
    ];
  });
  const alsoDefault = report.filter((c) => sameAs(c, plain)).length;
  const alsoCallees = report.filter((c) => sameAs(c, callees)).length;

  // Ours, by what call_kern.cocci cannot see.
  const direct = plain.filter((f) => f.code === 'sleep-in-atomic');
  const directAlloc = direct.filter((f) => /GFP_|alloc|vmalloc/.test(f.message));
  const cross = callees.filter((f) => f.code === 'sleep-in-atomic' && !plainIds.has(f.id));
  const crossUnseen = cross.filter((f) => !report.some((c) => sameAs(c, [f])));
  const cycles = plain.filter((f) => ['reclaim-deadlock', 'fault-deadlock', 'reclaim-in-fence', 'reclaim-frozen-queue'].includes(f.code));
  const reclaim = plain.filter((f) => f.code === 'reclaim-deadlock');
  const mutexHeld = reclaim.filter((f) => heldKind(f) === 'sleeping lock');
  const transHeld = reclaim.filter((f) => heldKind(f) === 'transaction');
  const scopeFindings = plain.filter((f) => f.code === 'nofs-redundant' || f.code === 'scope-unbalanced');
  const scoped = sites.filter((s) => (s.scopes.length > 0 || s.contexts.some((k) => k.scopes.length > 0)) && s.effective.some((e) => e !== s.literal));
  const byCode = (fs_: JFinding[]) => {
    const n = new Map<string, number>();
    for (const f of fs_) n.set(f.code, (n.get(f.code) ?? 0) + 1);
    return [...n].map(([k, v]) => `${k} ${v}`).join(', ');
  };
  const cocciMs = median(cocciRuns.map((r) => r.ms));
  const ourMs = median(ourRuns.map((r) => r.ms));
  const anyTimeout = cocciRuns.some((r) => r.timedOut);
  return {
    id: 'coccinelle',
    markdown: [
      title,
      '',
      measuredLine(ctx.runs, `; ${size.files} .c/.h files, ${fmtMB(size.bytes)}; ${spatchVersion}`),
      '',
      `Command (as \`make coccicheck MODE=report COCCI=${COCCI}\` runs it, once per folder, in the tree): `
        + `\`spatch ${spatchArgs('DIR').join(' ')}\`. scripts/coccicheck also passes the kbuild include flags (arch/ is not extracted here, so only `
        + '`-I include -I include/uapi`); with the rule\'s `--no-includes` they matter little. Ours: `reclaim-lens check --callees --jobs N --cache FRESH_DIR` on the same folders.'
        + (anyTimeout ? ` **spatch hit the ${timeoutS} s timeout in some run: its time and findings are for the part it finished.**` : ''),
      '',
      table(['measure', `median of ${ctx.runs}`, 'ratio'], [
        ['spatch call_kern.cocci (baseline)', `${fmtS(cocciMs)}, peak RSS ${fmtMB(median(cocciRuns.map((r) => r.rss)))} (per process)`, ''],
        ['reclaim-lens check --callees, cold (per-file analysis + whole-program pass + deadlocks)', `${fmtS(ourMs)}, peak RSS ${fmtMB(median(ourRuns.map((r) => r.rss)))}`, `${ratio(ourMs, cocciMs)} spatch's time`],
        ['its findings', `${report.length}`, ''],
        ['of which we also report: default check / with --callees', `${alsoDefault} / ${alsoCallees}`, ''],
      ]),
      '',
      ...(rows.length ? [table(['its finding (the GFP_KERNEL)', 'what it says', 'ours, default check', 'ours, --callees (same call site)', 'our hint at that site'], rows), ''] : []),
      'What we report on the same folders that its rule cannot see (it matches only a literal GFP_KERNEL in a function of the same file that is '
        + 'called after spin_lock*/read_lock*/write_lock*/local_irq_disable; it knows no mutexes, scopes, masks passed down, callees in other files, '
        + 'reclaim or faults):',
      '',
      table(['category', 'ours', 'why it is invisible to call_kern.cocci'], [
        ['direct allocations (and sleepers) under a spinlock / in atomic context, in the same function', `${direct.length} sleep-in-atomic (${directAlloc.length} of them allocations)`,
          'its rule needs the GFP_KERNEL in a called function; a GFP_KERNEL in the locked region itself does not match'],
        ['sleeping callees under a spinlock it misses (--callees)', `${crossUnseen.length} of ${cross.length} cross-function sleep-in-atomic`,
          'callee in another file, mask passed as a parameter, a sleeper (cond_resched, mutex) rather than GFP_KERNEL, or a lock API outside its list'],
        ['allocations under a mutex/rwsem (inode lock, tree lock, …) that reclaim also takes', `${mutexHeld.length} of ${reclaim.length} reclaim-deadlock`
          + ` (${transHeld.length} more hold a transaction or sb_writers, ${reclaim.length - mutexHeld.length - transHeld.length} a lock asserted held)`, 'it considers spinlocks only, and no reclaim'],
        ['reclaim and fault cycles (all whole-program findings)', `${cycles.length} (${byCode(cycles) || 'none'})`, 'needs the call graph over files and the reclaim/fault entry points'],
        ['scope-dependent masks: sites whose effective mask differs from the literal under a memalloc scope or transaction', `${scoped.length} sites; ${scopeFindings.length} findings (${byCode(scopeFindings) || 'none'})`,
          'memalloc_nofs_save()/memalloc_noio_save() and transactions are invisible to a pattern on GFP_KERNEL'],
      ]),
    ].join('\n'),
  };
}
