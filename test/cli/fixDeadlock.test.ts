// `reclaim-lens check --fix reclaim-deadlock` / `--fix reclaim-frozen-queue` (README "CLI reference"): the
// whole-program deadlock findings get their preferred verified fix on disk (the memalloc scope around the held lock's
// critical section, else the narrow mask, never GFP_NOWAIT), with what changed, why the scope was passed over, and
// what was not fixed; fixed findings leave the output; a bare --fix leaves them alone. Runs the bundled CLI
// (`npm run build` first).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { SHRINKER, write } from '../harness/deadlockWorkspace';
import { tempDir } from '../harness/tmp';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'reclaim-lens.js');

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: tempDir(path.join(os.tmpdir(), 'rl-fixdl-cache-')) } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Two allocations under the lock the shrinker takes (one with an early return), and one whose caller holds it. */
const CACHE = `extern struct mutex demo_cache_lock;

int demo_insert(void **slot, size_t size)
{
	void *p, *q;

	mutex_lock(&demo_cache_lock);
	p = kmalloc(64, GFP_KERNEL);
	if (!p) {
		mutex_unlock(&demo_cache_lock);
		return -ENOMEM;
	}
	q = kzalloc(size, GFP_KERNEL);
	slot[0] = p;
	slot[1] = q;
	mutex_unlock(&demo_cache_lock);
	return 0;
}

static void *demo_alloc(size_t size)
{
	return kmalloc(size, GFP_KERNEL | __GFP_NOWARN);
}

void *demo_outer(size_t size)
{
	void *p;

	mutex_lock(&demo_cache_lock);
	p = demo_alloc(size);
	mutex_unlock(&demo_cache_lock);
	return p;
}
`;

const CACHE_FIXED = `extern struct mutex demo_cache_lock;

int demo_insert(void **slot, size_t size)
{
	void *p, *q;
	unsigned int nofs_flags;

	mutex_lock(&demo_cache_lock);
	/* demo_cache_lock is held; reclaim waits for it via demo_scan() (shrinker.scan_objects) */
	nofs_flags = memalloc_nofs_save();
	p = kmalloc(64, GFP_KERNEL);
	if (!p) {
		memalloc_nofs_restore(nofs_flags);
		mutex_unlock(&demo_cache_lock);
		return -ENOMEM;
	}
	q = kzalloc(size, GFP_KERNEL);
	slot[0] = p;
	slot[1] = q;
	memalloc_nofs_restore(nofs_flags);
	mutex_unlock(&demo_cache_lock);
	return 0;
}

static void *demo_alloc(size_t size)
{
	return kmalloc(size, GFP_NOFS | __GFP_NOWARN);
}

void *demo_outer(size_t size)
{
	void *p;

	mutex_lock(&demo_cache_lock);
	p = demo_alloc(size);
	mutex_unlock(&demo_cache_lock);
	return p;
}
`;

function workspace(files: Record<string, string>): string {
  const ws = tempDir(path.join(os.tmpdir(), 'rl-fixdl-'));
  write(path.join(ws, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n');
  for (const [rel, text] of Object.entries(files)) write(path.join(ws, rel), text);
  return ws;
}

test('check --fix reclaim-deadlock: the scope where the lock is taken, the narrow mask where a caller takes it', () => {
  const ws = workspace({ 'fs/demo/shrinker.c': SHRINKER, 'mm/demo_cache.c': CACHE });
  const before = run(['check', '.'], ws);
  assert.equal(before.code, 1, before.err);
  assert.equal([...before.out.matchAll(/\[reclaim-deadlock\]$/gm)].length, 3, before.out);
  const r = run(['check', '--fix', 'reclaim-deadlock', '.'], ws);
  assert.equal(r.err, '');
  assert.equal(r.out, [
    'mm/demo_cache.c:11:6: fixed: Open a memalloc_nofs_save() scope for the critical section of demo_cache_lock (2 allocations in it) [reclaim-deadlock]',
    'mm/demo_cache.c:17:6: fixed: resolved by an earlier fix: the allocation now gets GFP_NOFS|__GFP_ZERO (inside memalloc_nofs_save() at line 10), which the cycle\'s reclaim path does not admit [reclaim-deadlock]',
    'mm/demo_cache.c:27:9: fixed: Use GFP_NOFS for this allocation: reclaim takes the lock only with __GFP_FS (the fix listed before it is not offered: demo_cache_lock is taken in demo_outer(), a caller of demo_alloc(), not here: the scope belongs in demo_outer() after the lock is taken (or use the narrow mask fix here)) [reclaim-deadlock]',
    '',
  ].join('\n'));
  assert.equal(r.code, 0, 'no finding left');
  assert.equal(fs.readFileSync(path.join(ws, 'mm', 'demo_cache.c'), 'utf8'), CACHE_FIXED);
  assert.equal(fs.readFileSync(path.join(ws, 'fs', 'demo', 'shrinker.c'), 'utf8'), SHRINKER);
  assert.deepEqual(fs.readdirSync(path.join(ws, 'mm')), ['demo_cache.c'], 'no temporary file left');
  // Nothing left to fix.
  const again = run(['check', '--fix', 'reclaim-deadlock', '.'], ws);
  assert.deepEqual([again.code, again.out, again.err], [0, '', '']);
});

test('check --fix reclaim-deadlock --format json: the fixes with the contract\'s keys, the fixed findings gone', () => {
  const ws = workspace({ 'fs/demo/shrinker.c': SHRINKER, 'mm/demo_cache.c': CACHE });
  const r = run(['check', '--format', 'json', '--fix', 'reclaim-deadlock', '.'], ws);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { findings: unknown[]; fixes: Record<string, unknown>[] };
  assert.deepEqual(j.findings, []);
  assert.deepEqual(j.fixes.map((f) => Object.keys(f).sort()), j.fixes.map(() => ['applied', 'code', 'column', 'file', 'function', 'line', 'message']));
  assert.deepEqual(j.fixes.map((f) => [f.file, f.line, f.code, f.function, f.applied]), [
    ['mm/demo_cache.c', 11, 'reclaim-deadlock', 'demo_insert', true],
    ['mm/demo_cache.c', 17, 'reclaim-deadlock', 'demo_insert', true],
    ['mm/demo_cache.c', 27, 'reclaim-deadlock', 'demo_alloc', true],
  ]);
});

test('a bare --fix and the per-function codes leave the deadlock findings alone; a list may name both kinds', () => {
  const ws = workspace({ 'fs/demo/shrinker.c': SHRINKER, 'mm/demo_cache.c': CACHE });
  const bare = run(['check', '--fix', '.'], ws);
  assert.equal(bare.code, 1, bare.err);
  assert.doesNotMatch(bare.out, / fixed: /);
  assert.equal([...bare.out.matchAll(/: warning: .*\[reclaim-deadlock\]$/gm)].length, 3);
  assert.equal(fs.readFileSync(path.join(ws, 'mm', 'demo_cache.c'), 'utf8'), CACHE);
  const both = run(['check', '--fix', 'nofs-redundant,reclaim-deadlock', '.'], ws);
  assert.equal(both.code, 0, both.err);
  assert.equal(fs.readFileSync(path.join(ws, 'mm', 'demo_cache.c'), 'utf8'), CACHE_FIXED);
  const bad = run(['check', '--fix', 'fault-deadlock,reclaim-deadlock', '.'], ws);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--fix: 'fault-deadlock' has no fixes \(fixable: .*reclaim-deadlock, reclaim-frozen-queue\)/);
});

test('check --fix reclaim-deadlock: a cycle no scope breaks is reported, not fixed, with the reasons', () => {
  const ws = workspace({
    'drivers/gpu/drm/demo/demo_userptr.c': `static bool demo_invalidate(struct mmu_interval_notifier *mni, const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct demo_userptr *up = container_of(mni, struct demo_userptr, notifier);
	struct demo_device *ddev = up->ddev;

	mutex_lock(&ddev->notifier_lock);
	mmu_interval_set_seq(mni, cur_seq);
	mutex_unlock(&ddev->notifier_lock);
	return true;
}

static const struct mmu_interval_notifier_ops demo_mn_ops = {
	.invalidate = demo_invalidate,
};
`,
    'drivers/gpu/drm/demo/demo_submit.c': `int demo_submit(struct demo_device *ddev)
{
	struct demo_job *job;

	mutex_lock(&ddev->notifier_lock);
	job = kmalloc(sizeof(*job), GFP_NOIO);
	mutex_unlock(&ddev->notifier_lock);
	return job ? 0 : -ENOMEM;
}
`,
  });
  const text = fs.readFileSync(path.join(ws, 'drivers/gpu/drm/demo/demo_submit.c'), 'utf8');
  const r = run(['check', '--fix', 'reclaim-deadlock', '.'], ws);
  assert.equal(r.code, 1, r.err);
  const lines = r.out.split('\n').filter((l) => l.includes('not fixed'));
  assert.deepEqual(lines, [
    'drivers/gpu/drm/demo/demo_submit.c:6:8: not fixed: the cycle\'s reclaim path needs neither __GFP_FS nor __GFP_IO (any direct reclaim gets there, e.g. mmu-notifier invalidation): no memalloc_nofs/noio scope keeps this allocation out of it, only memalloc_noreclaim_save(), which is reserved for the reclaim path itself [reclaim-deadlock]',
    'drivers/gpu/drm/demo/demo_submit.c:6:8: not fixed: offered as a choice in the editor, not applied automatically: GFP_NOWAIT fails instead of reclaiming: the caller must handle the failure [reclaim-deadlock]',
  ]);
  assert.match(r.out, /^drivers\/gpu\/drm\/demo\/demo_submit\.c:6:8: warning: kmalloc\(GFP_NOIO\) may enter mmu-notifier invalidation while &demo_device->notifier_lock is held/m);
  assert.equal(fs.readFileSync(path.join(ws, 'drivers/gpu/drm/demo/demo_submit.c'), 'utf8'), text);
});

test('check --fix reclaim-frozen-queue: the NOIO scope between the freeze and the unfreeze', () => {
  const ws = workspace({
    'block/demo-limits.c': `int demo_update_limits(struct request_queue *q)
{
	void *p;
	int ret = 0;

	blk_mq_freeze_queue(q);
	p = kzalloc(64, GFP_KERNEL);
	if (!p)
		ret = -ENOMEM;
	blk_mq_unfreeze_queue(q);
	kfree(p);
	return ret;
}
`,
  });
  const r = run(['check', '--fix', 'reclaim-frozen-queue', '.'], ws);
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(r.out, 'block/demo-limits.c:10:6: fixed: Open a memalloc_noio_save() scope for the critical section of &request_queue->q_usage_counter (1 allocation in it) [reclaim-frozen-queue]\n');
  assert.equal(fs.readFileSync(path.join(ws, 'block/demo-limits.c'), 'utf8'), `int demo_update_limits(struct request_queue *q)
{
	void *p;
	int ret = 0;
	unsigned int noio_flags;

	blk_mq_freeze_queue(q);
	/* &request_queue->q_usage_counter is frozen; reclaim I/O waits for it */
	noio_flags = memalloc_noio_save();
	p = kzalloc(64, GFP_KERNEL);
	if (!p)
		ret = -ENOMEM;
	memalloc_noio_restore(noio_flags);
	blk_mq_unfreeze_queue(q);
	kfree(p);
	return ret;
}
`);
});
