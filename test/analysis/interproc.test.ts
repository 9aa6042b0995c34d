// The whole-program layer over multi-file fixtures (test/fixtures/interproc/*.c, virtual files separated by
// `//- /path` headers): symbol resolution, calling contexts top-down, per-context masks, may-sleep summaries and the
// cross-function sleep-in-atomic check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  buildProgram, callsTo, contexts, crossSleepInAtomic, indirectStats, lineStartsOf, positionAt, pruneUnresolvedCalls, siteContexts, sleepSummaries,
  type Contexts, type FunctionId, type Program, type SiteContext,
} from '../../server/src/analysis/interproc';
import type { KbView } from '../../server/src/analysis/kbView';
import { analyseProgram, splitMultiFile } from '../harness/multifile';

const DIR = path.join(__dirname, '..', 'fixtures', 'interproc');

interface Loaded {
  program: Program;
  kb: KbView;
  ctxs: Contexts;
  fn(name: string, file?: string): FunctionId;
  /** per-context masks of the n-th site of a function, as `mask (callers) [chain]` */
  sites(name: string, n?: number, file?: string): SiteContext[];
  line(file: string, offset: number): number;
}

async function load(name: string, opts: Parameters<typeof contexts>[1] = {}): Promise<Loaded> {
  const { program, kb } = await analyseProgram(fs.readFileSync(path.join(DIR, name), 'utf8'));
  const ctxs = contexts(program, opts);
  const perSite = siteContexts(program, ctxs, kb.gfp);
  const fn = (n: string, file?: string) => {
    const hits = program.functions.filter((f) => f.facts.name === n && (!file || program.files[f.file].path === file));
    assert.equal(hits.length, 1, `${hits.length} functions named ${n}${file ? ` in ${file}` : ''}`);
    return hits[0].id;
  };
  return {
    program, kb, ctxs, fn,
    sites: (n, i = 0, file) => perSite.get(fn(n, file))?.[i] ?? [],
    line: (file, offset) => positionAt(program.files.find((f) => f.path === file)!.lineStarts!, offset).line,
  };
}

const chainText = (l: Loaded, c: { chain: { function: string; callee: string; file: string; span: { start: number } }[] }) =>
  c.chain.map((x) => `${x.function}→${x.callee} ${x.file}:${l.line(x.file, x.span.start)}`);

test('the multi-file splitter: one virtual file per //- header, offsets relative to each', () => {
  const files = splitMultiFile('// intro\n//- /fs/a.c\nint a(void) { return 0; }\n//- /fs/b.c\nint b(void)\n{ return a(); }\n');
  assert.deepEqual(files.map((f) => [f.path, f.firstLine]), [['fs/a.c', 3], ['fs/b.c', 5]]);
  assert.equal(files[1].text, 'int b(void)\n{ return a(); }\n');
  assert.throws(() => splitMultiFile('int x;\n//- /a.c\n'), /code before the first/);
  assert.throws(() => splitMultiFile('//- /a.c\n//- /a.c\n'), /appears twice/);
});

test('scope opened by a transaction wrapper two calls up: GFP_KERNEL is GFP_NOFS in the only calling context', async () => {
  const l = await load('trans-two-up.c');
  // Its own frame says GFP_KERNEL; the context from demo_write's jbd2 handle says GFP_NOFS, with the 2-link chain.
  const fill = l.program.functions[l.fn('demo_fill')].facts;
  assert.equal(l.kb.gfp.render(fill.sites[0].paths[0].effective.set), 'GFP_KERNEL');
  const [c, ...rest] = l.sites('demo_fill');
  assert.deepEqual(rest, []);
  assert.equal(c.effective, 'GFP_NOFS');
  assert.equal(c.callers, 1);
  assert.deepEqual(chainText(l, c), ['demo_write→demo_update fs/demo/write.c:9', 'demo_update→demo_fill fs/demo/update.c:3']);
  assert.deepEqual(c.scopes.map((s) => [s.api, s.flags, s.file, s.function, l.line(s.file, s.site.start)]),
    [['ext4_journal_start', ['PF_MEMALLOC_NOFS'], 'fs/demo/write.c', 'demo_write', 6]]);
  // The root has no calling context; the middle function has the handle's scope.
  assert.deepEqual(l.ctxs.get(l.fn('demo_write'))!.map((x) => x.callers), [0]);
  assert.deepEqual(l.ctxs.get(l.fn('demo_update'))!.map((x) => x.scopes.map((s) => s.api)), [['ext4_journal_start']]);
  assert.equal(l.program.unresolved.get('kfree'), 1);
});

test('gfp passed down as a parameter two levels: GFP_NOFS reaches kmalloc(n, gfp)', async () => {
  const l = await load('gfp-param.c');
  const buf = l.program.functions[l.fn('demo_buf')].facts;
  assert.deepEqual(buf.gfpParams, [{ index: 2, name: 'gfp' }]);
  const [c, ...rest] = l.sites('demo_buf');
  assert.deepEqual(rest, []);
  assert.equal(c.effective, 'GFP_NOFS');
  assert.deepEqual(chainText(l, c), ['demo_root→demo_get fs/demo/root.c:3', 'demo_get→demo_buf fs/demo/get.c:3']);
  const [ctx] = l.ctxs.get(l.fn('demo_get'))!;
  assert.deepEqual(Object.keys(ctx.gfpParams), ['gfp']);
  assert.equal(l.kb.gfp.render(ctx.gfpParams.gfp[0].set), 'GFP_NOFS');
  // Summaries: the mask of demo_buf depends on its parameter, and so does demo_get's; demo_root passes a blocking one.
  const sums = sleepSummaries(l.program, l.kb.gfp);
  assert.equal(sums[l.fn('demo_buf')].maySleep, 'if-gfp-param:gfp');
  assert.equal(sums[l.fn('demo_get')].maySleep, 'if-gfp-param:gfp');
  assert.equal(sums[l.fn('demo_root')].maySleep, 'yes');
  assert.equal(sums[l.fn('demo_root')].witness!.passed, 'GFP_NOFS passed to demo_get() for gfp');
});

test('a callee that sleeps under the caller\'s spinlock: a finding at the call, related links down to the sleep', async () => {
  const l = await load('sleep-under-spinlock.c');
  const found = crossSleepInAtomic(l.program, l.ctxs, l.kb.gfp);
  const rows = found.map((f) => ({
    at: `${f.file}:${l.line(f.file, f.span.start)}`, function: f.function, message: f.message, ordinal: f.ordinal,
    related: f.related.map((r) => `${r.file}:${l.line(r.file, r.span.start)}: ${r.message}`),
  }));
  assert.deepEqual(rows, [
    {
      at: 'fs/demo/lock.c:4', function: 'demo_flush', ordinal: 1,
      message: 'demo_wait() may sleep (msleep() in demo_wait_io() at fs/demo/wait.c:9) while holding &demo_inode->lock',
      related: [
        'fs/demo/lock.c:3: &demo_inode->lock taken here by spin_lock() (line 3)',
        'fs/demo/wait.c:3: demo_wait() calls demo_wait_io() (line 3)',
        'fs/demo/wait.c:9: msleep() may sleep here, in demo_wait_io() (line 9)',
      ],
    },
    {
      at: 'fs/demo/lock.c:11', function: 'demo_grow', ordinal: 1,
      message: 'demo_alloc_extent() may sleep (kmalloc(GFP_KERNEL) in demo_alloc_extent() at fs/demo/wait.c:14) while holding &demo_inode->lock',
      related: [
        'fs/demo/lock.c:10: &demo_inode->lock taken here by spin_lock() (line 10)',
        'fs/demo/wait.c:14: kmalloc(GFP_KERNEL) may sleep here, in demo_alloc_extent() (line 14)',
      ],
    },
  ]);
  // The same callee after the unlock is fine; the per-context view of the allocation says atomic.
  assert.ok(!found.some((f) => f.function === 'demo_flush_unlocked'));
  const [c] = l.sites('demo_alloc_extent');
  assert.deepEqual([c.effective, c.atomic, c.held.map((h) => `${h.cls} ${h.function}`)], ['GFP_KERNEL', true, ['&demo_inode->lock demo_grow']]);
});

test('a callee allocating with its gfp parameter: GFP_ATOMIC under a spinlock is fine, GFP_KERNEL is a finding', async () => {
  const l = await load('gfp-param-atomic.c');
  const found = crossSleepInAtomic(l.program, l.ctxs, l.kb.gfp);
  assert.deepEqual(found.map((f) => [f.function, l.line(f.file, f.span.start), f.message]), [
    ['demo_insert_kernel', 16, 'demo_cache_insert() may sleep (kmalloc(gfp) in demo_cache_insert() at fs/demo/cache.c:5, with GFP_KERNEL passed to demo_cache_insert() for gfp) while holding &demo_cache->lock'],
    // The lock is the callee's own, the blocking mask the caller's.
    ['demo_cache_insert_locked', 7, 'GFP_KERNEL (gfp from demo_add()) may sleep while holding &demo_cache->lock'],
  ]);
  assert.deepEqual(l.sites('demo_cache_insert').map((c) => [c.effective, c.callers, c.atomic]), [['GFP_ATOMIC', 1, true], ['GFP_KERNEL', 1, true]]);
  assert.deepEqual(l.sites('demo_cache_insert_locked').map((c) => [c.effective, c.callers]), [['GFP_KERNEL', 1], ['GFP_NOWAIT', 1]]);
});

test('static functions with the same name in two files resolve by file; no static match elsewhere is unresolved', async () => {
  const l = await load('static-same-name.c');
  const a = l.fn('demo_helper', 'fs/demo/a.c');
  const b = l.fn('demo_helper', 'fs/demo/b.c');
  assert.deepEqual(callsTo(l.program, a).map((e) => l.program.functions[e.caller].facts.name), ['demo_a']);
  assert.deepEqual(callsTo(l.program, b).map((e) => l.program.functions[e.caller].facts.name), ['demo_b']);
  assert.equal(l.program.unresolved.get('demo_helper'), 1);
  // Pruning the unresolved call sites first (the CLI does, to save memory) gives the same graph and counts.
  const pruned = pruneUnresolvedCalls(l.program.files);
  assert.deepEqual(pruned.files.map((f) => f.facts.functions.map((fn) => fn.callSites.map((c) => c.callee))),
    [[[], ['demo_helper']], [[], ['demo_helper']], [[]]]);
  assert.deepEqual([...pruned.unresolved], [['demo_helper', 1]]);
  const again = buildProgram(pruned.files, pruned.unresolved);
  assert.deepEqual([...again.unresolved], [['demo_helper', 1]]);
  assert.deepEqual(callsTo(again, a).map((e) => again.functions[e.caller].facts.name), ['demo_a']);
  const sums = sleepSummaries(l.program, l.kb.gfp);
  assert.deepEqual([sums[a].maySleep, sums[b].maySleep], ['yes', 'no']);
  const found = crossSleepInAtomic(l.program, l.ctxs, l.kb.gfp, sums);
  assert.deepEqual(found.map((f) => [f.file, f.function, f.message]), [
    ['fs/demo/a.c', 'demo_a', 'demo_helper() may sleep (mutex_lock() in demo_helper() at fs/demo/a.c:3) while holding &demo->lock'],
  ]);
});

test('per-architecture definitions: arch code calls its own, generic code the preferred architecture\'s', async () => {
  const l = await load('arch-variants.c');
  const x86 = l.fn('demo_copy_page', 'arch/x86/lib/demo_copy.c');
  const arm64 = l.fn('demo_copy_page', 'arch/arm64/lib/demo_copy.c');
  const callers = (p: Program, f: FunctionId) => callsTo(p, f).map((e) => p.functions[e.caller].facts.name);
  assert.deepEqual([callers(l.program, x86), callers(l.program, arm64)], [['demo_user'], ['demo_fault']]);
  const arm = buildProgram(l.program.files, undefined, { arch: 'arm64' });
  assert.deepEqual([callers(arm, x86), callers(arm, arm64)], [[], ['demo_fault', 'demo_user']]);
});

test('recursion terminates: SCCs, capped contexts, scopes flow around cycles', async () => {
  const l = await load('recursion.c', { maxContextsPerFunction: 3 });
  const walk = l.fn('demo_walk');
  const ping = l.fn('demo_ping');
  const pong = l.fn('demo_pong');
  assert.equal(l.program.sccOf[ping], l.program.sccOf[pong]);
  assert.notEqual(l.program.sccOf[walk], l.program.sccOf[ping]);
  // demo_walk sees 2^3 lock subsets (one per combination of the recursive call sites): over the cap of 3, they are
  // merged into the one mask-relevant context (NOFS, not atomic), keeping the locks all of them hold (none).
  const cs = l.ctxs.get(walk)!;
  assert.equal(cs.length, 1);
  assert.ok(l.ctxs.coarsened.has(walk));
  assert.ok(!l.ctxs.capped.has(walk));
  assert.deepEqual(cs[0].held, []);
  assert.equal(cs[0].callers, 4);
  assert.equal(l.ctxs.unconverged, 0);
  for (const c of cs) assert.ok(c.chain.length <= 12);
  // Every context still carries the root's NOFS scope.
  assert.deepEqual(l.sites('demo_walk').map((c) => c.effective), ['GFP_NOFS']);
  assert.deepEqual(l.sites('demo_pong').map((c) => [c.effective, c.callers]), [['GFP_NOFS', 1]]);
  // demo_ping tests its `depth` (`if (depth)`): the root's constant 3 and demo_pong's variable are two contexts.
  assert.deepEqual(l.ctxs.get(ping)!.map((c) => [c.callers, c.consts ?? []]), [[1, []], [1, [{ index: 1, truthy: true }]]]);
  // Under the default cap, all eight lock combinations are kept.
  const full = await load('recursion.c');
  assert.equal(full.ctxs.get(full.fn('demo_walk'))!.length, 8);
  assert.ok(!full.ctxs.coarsened.has(full.fn('demo_walk')));
});

test('a function called from two contexts: both masks, with their caller counts', async () => {
  const l = await load('two-contexts.c');
  const got = l.sites('demo_alloc_node').map((c) => ({ effective: c.effective, callers: c.callers, chain: chainText(l, c) }));
  assert.deepEqual(got, [
    { effective: 'GFP_KERNEL|__GFP_ZERO', callers: 2, chain: ['demo_insert→demo_alloc_node fs/demo/callers.c:12'] },
    { effective: 'GFP_NOFS|__GFP_ZERO', callers: 1, chain: ['demo_insert_nofs→demo_alloc_node fs/demo/callers.c:4'] },
  ]);
  // With room for one context only, the most frequent is kept and the cap is recorded.
  const one = await load('two-contexts.c', { maxContextsPerFunction: 1 });
  assert.deepEqual(one.sites('demo_alloc_node').map((c) => [c.effective, c.callers]), [['GFP_KERNEL|__GFP_ZERO', 2]]);
  assert.ok(one.ctxs.capped.has(one.fn('demo_alloc_node')));
});

test('buildProgram is pure data: a program over no files, and over a file without functions', () => {
  const p = buildProgram([{ path: 'a.c', facts: { functions: [], bindings: [], problems: [] }, lineStarts: lineStartsOf('') }]);
  assert.equal(p.functions.length, 0);
  assert.equal(contexts(p).size, 0);
  assert.deepEqual(positionAt(lineStartsOf('ab\ncd\n'), 4), { line: 2, column: 2 });
});

/** Writes the virtual files of fixtures into a fresh directory, as a tree the CLI can read. */
function materialise(...fixtures: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rl-interproc-'));
  for (const name of fixtures) {
    for (const f of splitMultiFile(fs.readFileSync(path.join(DIR, name), 'utf8'))) {
      fs.mkdirSync(path.join(dir, path.dirname(f.path)), { recursive: true });
      fs.writeFileSync(path.join(dir, f.path), f.text);
    }
  }
  return dir;
}

function cli(args: string[]) {
  const bin = path.join(__dirname, '..', '..', 'bin', 'reclaim-lens.js');
  const r = spawnSync(process.execPath, [bin, ...args, '--no-cache'], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('the CLI: hints carry the masks per calling context, check the cross-function findings with stable ids', () => {
  const dir = materialise('trans-two-up.c', 'sleep-under-spinlock.c');
  const json = cli(['hints', '--format', 'json', '--root', dir, dir]);
  assert.equal(json.code, 0, json.err);
  const sites = JSON.parse(json.out).sites as { file: string; function: string; effective: string[]; paths: { effective: string }[]; contexts: unknown[] }[];
  const fill = sites.find((x) => x.function === 'demo_fill')!;
  // effective: over all paths and calling contexts; paths: the function's own frame.
  assert.deepEqual([fill.effective, fill.paths.map((p) => p.effective)], [['GFP_NOFS'], ['GFP_KERNEL']]);
  assert.deepEqual(fill.contexts, [{
    effective: 'GFP_NOFS', callers: 1,
    chain: [
      { function: 'demo_write', file: 'fs/demo/write.c', line: 9, callee: 'demo_update' },
      { function: 'demo_update', file: 'fs/demo/update.c', line: 3, callee: 'demo_fill' },
    ],
    held: [], atomic: false,
    scopes: [{ api: 'ext4_journal_start', flags: ['PF_MEMALLOC_NOFS'], file: 'fs/demo/write.c', line: 6, function: 'demo_write' }],
  }]);
  // A function without callers among the files has no calling context.
  assert.ok(sites.filter((x) => x.function !== 'demo_fill' && x.function !== 'demo_alloc_extent').every((x) => x.contexts.length === 0));
  const text = cli(['hints', '--root', dir, dir]);
  assert.match(text.out, /^fs\/demo\/fill\.c:5:8: kmalloc\(GFP_KERNEL\) ⇒ GFP_NOFS \(1 caller\)$/m);
  const check = cli(['check', '--callees', '--format', 'json', '--root', dir, dir]);
  assert.equal(check.code, 1, check.err);
  const findings = JSON.parse(check.out).findings as { id: string; file: string; line: number; message: string; related: { file: string; line: number }[] }[];
  assert.deepEqual(findings.map((f) => [f.id, f.file, f.line]), [
    ['sleep-in-atomic:fs/demo/lock.c:demo_flush:1', 'fs/demo/lock.c', 4],
    ['sleep-in-atomic:fs/demo/lock.c:demo_grow:1', 'fs/demo/lock.c', 11],
  ]);
  assert.deepEqual(findings[0].related.map((r) => `${r.file}:${r.line}`), ['fs/demo/lock.c:3', 'fs/demo/wait.c:3', 'fs/demo/wait.c:9']);
  // Without --callees (the default until #3 has lock-effect summaries) only the per-function findings remain.
  const plain = cli(['check', '--format', 'json', '--root', dir, dir]);
  assert.equal(plain.code, 0, plain.err);
  assert.deepEqual(JSON.parse(plain.out).findings, []);
});

test('calls through structs of function pointers: nested initializers, typed objects, unknown types, assignments', async () => {
  const l = await load('ops-table.c');
  const callersOf = (name: string, file?: string) => callsTo(l.program, l.fn(name, file)).map((e) => l.program.functions[e.caller].facts.name).sort();
  // `e->ops.init_sched(q, e)` with `struct elevator_type *e`: both elevators' `.ops = { .init_sched = … }`.
  assert.deepEqual(callersOf('dd_init_sched'), ['blk_mq_init_sched']);
  assert.deepEqual(callersOf('kyber_init_sched'), ['blk_mq_init_sched']);
  // elevator_switch's NOIO scope reaches both through the indirect call, with the chain naming the implementation.
  for (const fn of ['dd_init_sched', 'kyber_init_sched']) {
    const got = l.sites(fn).map((c) => `${c.effective} ${chainText(l, c).join(' | ')}`);
    assert.deepEqual(got, [`GFP_NOIO${fn === 'dd_init_sched' ? '|__GFP_ZERO' : ''} elevator_switch→blk_mq_init_sched block/elevator.c:9 | blk_mq_init_sched→${fn} block/elevator.c:3`]);
  }
  // A typed object reaches its own struct's functions only; through an object of unknown type, a field stored into
  // two struct types resolves to none.
  assert.deepEqual(callersOf('foo_release'), ['demo_put_foo']);
  assert.deepEqual(callersOf('bar_release'), []);
  assert.deepEqual(l.sites('foo_release').map((c) => c.effective), ['GFP_NOFS']);
  // A callback stored by assignment (`s->scan_objects = demo_scan;`) is reached through `shrinker->scan_objects(…)`.
  assert.deepEqual(callersOf('demo_scan'), ['demo_do_shrink']);
  assert.deepEqual(l.sites('demo_scan').map((c) => c.effective), ['GFP_NOIO']);
  // A callee reached through a function pointer that sleeps under the caller's spinlock is a finding at the call.
  const found = crossSleepInAtomic(l.program, l.ctxs, l.kb.gfp).map((f) => `${f.file}:${l.line(f.file, f.span.start)} ${f.function}: ${f.message}`);
  assert.deepEqual(found, ['block/elevator.c:18 elevator_flush_locked: dd_flush() may sleep (mutex_lock() in dd_flush() at block/mq-deadline.c:9) while holding &request_queue->queue_lock']);
  // How each call site resolved.
  const stats = indirectStats(l.program.files);
  assert.deepEqual([...stats.resolved].sort(), [['elevator_mq_ops.flush', 1], ['elevator_mq_ops.init_sched', 1], ['foo_ops.release', 1], ['shrinker.scan_objects', 1]]);
  assert.deepEqual([stats.ambiguous, stats.wide, stats.unbound], [1, 0, 0]);
});
