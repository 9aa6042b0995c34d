// The CLI contract: verbs, flags, exit codes, text/JSON/SARIF shapes (README "CLI reference").
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../harness/tmp';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'reclaim-lens.js');

const CACHE_HOME = tempDir(path.join(os.tmpdir(), 'rl-cache-home-'));

function run(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: CACHE_HOME } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('check on the bundled examples: gcc-style findings and exit 1', () => {
  const r = run(['check', 'examples/']);
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /^examples\/fs\/demo\/inode\.c:28:8: error: GFP_KERNEL may sleep while holding &demo_inode_info->lock \[sleep-in-atomic\]$/m);
  assert.match(r.out, /^examples\/fs\/demo\/inode\.c:27: note: &demo_inode_info->lock taken here by spin_lock\(\)/m);
  const codes = [...r.out.matchAll(/\[([a-z-]+)\]$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(codes, ['gfp-or-ineffective', 'nofail-without-reclaim', 'nofs-redundant', 'nofs-redundant', 'reclaim-deadlock', 'scope-unbalanced', 'sleep-in-atomic']);
  // The whole-tree check: the shrinker of cache.c takes the lock demo_cache_insert() allocates under.
  assert.match(r.out, /^examples\/fs\/demo\/cache\.c:35:6: warning: kmalloc\(GFP_KERNEL\) may enter reclaim while demo_cache_lock is held, and reclaim can take demo_cache_lock via … → shrink_slab → do_shrink_slab → demo_cache_scan → mutex_lock \(examples\/fs\/demo\/cache\.c:14\) \[reclaim-deadlock\]$/m);
  assert.match(r.out, /^examples\/fs\/demo\/cache\.c:25: note: demo_cache_scan\(\) is shrinker\.scan_objects: /m);
});

test('check --format json: deadlock findings carry the cycle, every link of the chain and the lockdep report', () => {
  const r = run(['check', '--root', 'examples', '--format', 'json', 'examples/']);
  assert.equal(r.code, 1, r.err);
  const f = JSON.parse(r.out).findings.find((x: { code: string }) => x.code === 'reclaim-deadlock');
  assert.equal(f.id, 'reclaim-deadlock:fs/demo/cache.c:demo_cache_insert:1');
  assert.deepEqual(f.cycle, ['demo_cache_lock', 'fs_reclaim']);
  assert.deepEqual(f.chain.map((c: { file?: string; line?: number; function: string }) => [c.file, c.line, c.function]), [
    ['fs/demo/cache.c', 34, 'demo_cache_insert'], ['fs/demo/cache.c', 35, 'demo_cache_insert'],
    ['fs/demo/cache.c', 25, 'demo_cache_scan'], ['fs/demo/cache.c', 14, 'demo_cache_scan'],
  ]);
  assert.match(f.report, /WARNING: possible circular locking dependency detected/);
  assert.match(f.report, / {2}lock\(demo_cache_lock\);\n {31}lock\(fs_reclaim\);\n {31}lock\(demo_cache_lock\);\n {2}lock\(fs_reclaim\);\n\n \*\*\* DEADLOCK \*\*\*/);
  // --min-severity error leaves only the errors (the sleep-in-atomic of inode.c).
  const e = run(['check', '--root', 'examples', '--format', 'json', '--min-severity', 'error', 'examples/']);
  assert.deepEqual(JSON.parse(e.out).findings.map((x: { code: string }) => x.code), ['sleep-in-atomic']);
  assert.equal(run(['check', '--min-severity', 'loud', 'examples/']).code, 2);
});

test('explain FILE:LINE: the lockdep-format report of the finding there; exit 1 when the line has none', () => {
  const r = run(['explain', 'examples/fs/demo/cache.c:35', '--root', 'examples', 'examples/']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^demo_cache_insert\(\) is trying to acquire lock:\n \(fs_reclaim\), at: kmalloc\(GFP_KERNEL\) fs\/demo\/cache\.c:35$/m);
  assert.match(r.out, /^but task is already holding lock:\n \(demo_cache_lock\), at: mutex_lock fs\/demo\/cache\.c:34$/m);
  assert.match(r.out, /^ {2}#3 demo_cache_scan\(\) takes demo_cache_lock by mutex_lock\(\) fs\/demo\/cache\.c:14$/m);
  const none = run(['explain', 'examples/fs/demo/cache.c:36', '--root', 'examples', 'examples/']);
  assert.equal(none.code, 1);
  assert.equal(none.out, 'fs/demo/cache.c:36: no finding\n');
  assert.equal(run(['explain', 'examples/fs/demo/cache.c', 'examples/']).code, 2);
});

test('check --format json: the findings shape with stable ids and paths relative to --root', () => {
  const r = run(['check', '--root', 'examples', '--format', 'json', 'examples/fs/demo/inode.c']);
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out);
  assert.equal(j.kernelVersion, '6.12');
  const f = j.findings.find((x: { code: string }) => x.code === 'sleep-in-atomic');
  assert.deepEqual(Object.keys(f).sort(), ['code', 'column', 'endColumn', 'endLine', 'file', 'function', 'id', 'line', 'message', 'related', 'severity'].sort());
  assert.equal(f.file, 'fs/demo/inode.c');
  assert.equal(f.id, 'sleep-in-atomic:fs/demo/inode.c:demo_add_extent:1');
  assert.deepEqual([f.line, f.column, f.endLine, f.endColumn], [28, 8, 28, 41]);
  assert.equal(f.function, 'demo_add_extent');
  assert.deepEqual(f.related, [{ file: 'fs/demo/inode.c', line: 27, message: '&demo_inode_info->lock taken here by spin_lock() (line 27)' }]);
});

test('check --format sarif: SARIF 2.1.0 with rules and locations', () => {
  const r = run(['check', '--format', 'sarif', 'examples/']);
  assert.equal(r.code, 1);
  const s = JSON.parse(r.out);
  assert.equal(s.version, '2.1.0');
  const run0 = s.runs[0];
  assert.equal(run0.tool.driver.name, 'reclaim-lens');
  assert.ok(run0.tool.driver.rules.some((x: { id: string }) => x.id === 'sleep-in-atomic'));
  const res = run0.results.find((x: { ruleId: string }) => x.ruleId === 'sleep-in-atomic');
  assert.equal(res.level, 'error');
  assert.equal(res.locations[0].physicalLocation.artifactLocation.uri, 'examples/fs/demo/inode.c');
  assert.equal(res.locations[0].physicalLocation.region.startLine, 28);
});

test('hints --format json: every site with literal and effective masks', () => {
  const r = run(['hints', '--format', 'json', '--root', 'examples', 'examples/']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.sites.length, 11);
  const s = j.sites.find((x: { function: string }) => x.function === 'demo_set_xattr');
  assert.deepEqual(
    { file: s.file, line: s.line, column: s.column, api: s.api, literal: s.literal, effective: s.effective, held: s.held, atomic: s.atomic },
    { file: 'fs/demo/inode.c', line: 49, column: 9, api: 'kmemdup', literal: 'GFP_KERNEL', effective: ['GFP_NOFS'], held: ['&demo_inode_info->xattr_mutex'], atomic: false },
  );
  assert.deepEqual(s.scopes, [{ api: 'memalloc_nofs_save', flags: ['PF_MEMALLOC_NOFS'], line: 48 }]);
});

test('a clean file exits 0 and prints nothing', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-clean-'));
  fs.writeFileSync(path.join(dir, 'ok.c'), 'static void *f(void) { return kmalloc(8, GFP_KERNEL); }\n');
  const r = run(['check', dir]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '');
});

test('bad input: clear one-line errors and exit 2', () => {
  const missing = run(['check', 'no/such/path.c']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /^reclaim-lens: no\/such\/path\.c: no such file or directory$/m);
  const badVersion = run(['check', '--kernel-version', 'banana', 'examples/']);
  assert.equal(badVersion.code, 2);
  assert.match(badVersion.err, /bad kernel version 'banana'/);
  const badFormat = run(['hints', '--format', 'sarif', 'examples/']);
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.err, /--format must be one of text, json for hints/);
  const noVerb = run([]);
  assert.equal(noVerb.code, 2);
  const unknown = run(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command 'frobnicate'/);
  const badFlag = run(['check', '--nope', 'examples/']);
  assert.equal(badFlag.code, 2);
});

test('binary, non-UTF-8 and symlink loops are reported, not fatal', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-bad-'));
  fs.writeFileSync(path.join(dir, 'blob.c'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, 3]));
  fs.writeFileSync(path.join(dir, 'latin1.c'), Buffer.from('/* caf\xe9 */\nstatic void f(spinlock_t *l) { spin_lock(l); kmalloc(1, GFP_KERNEL); spin_unlock(l); }\n', 'latin1'));
  fs.symlinkSync(dir, path.join(dir, 'loop'));
  const r = run(['check', dir]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /blob\.c: binary file, not analysed/);
  assert.match(r.err, /latin1\.c: not valid UTF-8; decoded as Latin-1/);
  assert.match(r.out, /latin1\.c:2:\d+: error: GFP_KERNEL may sleep while holding \*l \[sleep-in-atomic\]/);
});

test('the cache: a warm run answers from it, a corrupted entry is detected and rebuilt, --no-cache writes none', () => {
  const cache = tempDir(path.join(os.tmpdir(), 'rl-cache-'));
  const cold = run(['check', '--stats', '--jobs', '2', '--cache', cache, '--format', 'json', 'examples/']);
  assert.equal(cold.code, 1, cold.err);
  assert.match(cold.err, /3 files in [\d.]+ s with 2 workers; cache .*: 0 hits, 3 misses, 0 corrupted/);
  const warm = run(['check', '--stats', '--cache', cache, '--format', 'json', 'examples/']);
  assert.match(warm.err, /3 hits, 0 misses, 0 corrupted/);
  assert.equal(warm.out, cold.out);
  // Corrupt one entry (truncate it) and flip a byte in the other's payload.
  const entries: string[] = [];
  const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : entries.push(path.join(d, e.name))));
  walk(cache);
  assert.equal(entries.length, 3);
  fs.writeFileSync(entries[0], fs.readFileSync(entries[0], 'utf8').slice(0, 50));
  fs.writeFileSync(entries[1], fs.readFileSync(entries[1], 'utf8').replace(/"start":(\d)/, '"start":9$1'));
  const again = run(['check', '--stats', '--cache', cache, '--format', 'json', 'examples/']);
  assert.match(again.err, /1 hits, 2 misses, 2 corrupted entries rebuilt/);
  assert.equal(again.out, cold.out);
  const none = tempDir(path.join(os.tmpdir(), 'rl-nocache-'));
  const nc = run(['check', '--stats', '--no-cache', '--format', 'json', 'examples/'], ROOT);
  assert.match(nc.err, /; no cache/);
  assert.deepEqual(fs.readdirSync(none), []);
  assert.equal(run(['check', '--jobs', '0', 'examples/']).code, 2);
  assert.equal(run(['check', '--no-cache', '--cache', cache, 'examples/']).code, 2);
});

test('a local header: its static inline lock wrapper opens a scope the .c file sees; editing the header invalidates the cache', () => {
  const tree = tempDir(path.join(os.tmpdir(), 'rl-header-'));
  const cache = tempDir(path.join(os.tmpdir(), 'rl-header-cache-'));
  const dir = path.join(tree, 'drivers', 'demo');
  fs.mkdirSync(dir, { recursive: true });
  const header = (scope: boolean) => `struct demo_range { struct mutex lock; unsigned int saved_flags; };
static inline void demo_range_lock(struct demo_range *prange)
{
	mutex_lock(&prange->lock);
	${scope ? 'prange->saved_flags = memalloc_noreclaim_save();' : ''}
}
static inline void demo_range_unlock(struct demo_range *prange)
{
	${scope ? 'memalloc_noreclaim_restore(prange->saved_flags);' : ''}
	mutex_unlock(&prange->lock);
}
`;
  fs.writeFileSync(path.join(dir, 'demo_svm.h'), header(true));
  fs.writeFileSync(path.join(dir, 'demo_svm.c'), `#include "demo_svm.h"
static bool demo_invalidate(struct mmu_interval_notifier *mni, const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct demo_range *prange = container_of(mni, struct demo_range, notifier);

	demo_range_lock(prange);
	demo_range_unlock(prange);
	return true;
}
static const struct mmu_interval_notifier_ops demo_mn_ops = { .invalidate = demo_invalidate };
int demo_split(struct demo_range *prange)
{
	void *p;

	demo_range_lock(prange);
	p = kzalloc(64, GFP_KERNEL);
	demo_range_unlock(prange);
	kfree(p);
	return 0;
}
`);
  const check = () => run(['check', '--cache', cache, '--root', tree, path.join(tree, 'drivers', 'demo')]);
  const quiet = check();
  assert.equal(quiet.code, 0, quiet.out + quiet.err);
  fs.writeFileSync(path.join(dir, 'demo_svm.h'), header(false));
  const loud = check();
  assert.equal(loud.code, 1, loud.err);
  assert.match(loud.out, /^drivers\/demo\/demo_svm\.c:16:6: warning: kzalloc\(GFP_KERNEL\|__GFP_ZERO\) may enter mmu-notifier invalidation while &demo_range->lock is held/m);
});
