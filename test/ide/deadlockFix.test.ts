// Fix 3 for whole-program deadlock findings (ide/fixes/deadlockScope.ts, deadlockMask.ts): the scope around the
// held lock's critical section (preferred) and the narrow mask — the mask loses what the cycle's reclaim path needs:
// __GFP_FS → GFP_NOFS, only __GFP_IO (a frozen queue) → GFP_NOIO, nothing (any direct reclaim) → GFP_NOWAIT at low
// confidence and no scope. A mask that comes from a caller and a lock the function does not take are refused with
// the reason. The findings come from outside the file's facts (FixRequest.extra), as the workspace index hands them
// over: the held lock read off the message. Before/after pairs: test/fixtures/fixes/deadlock-scope/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKbProvider } from '../../server/src/analysis/kbView';
import { applyEdits, codeFixes, createAnalyser, type Analyser, type DeadlockTarget } from '../../server/src/ide/fixes';
import { snapshotOf, verify } from '../../server/src/ide/fixes/verify';
import { initParser } from '../../server/src/syntax/parser';

const TEXT = `struct foo { struct mutex lock; };

static void *grab(struct foo *f, gfp_t gfp)
{
	void *a, *b;

	mutex_lock(&f->lock);
	a = kzalloc(64, GFP_KERNEL | __GFP_ACCOUNT);
	b = kmalloc(64, gfp);
	mutex_unlock(&f->lock);
	return a ? a : b;
}
`;

const at = (needle: string): DeadlockTarget['span'] => {
  const start = TEXT.indexOf(needle);
  return { start, end: start + needle.length };
};
const KZALLOC = 'kzalloc(64, GFP_KERNEL | __GFP_ACCOUNT)';
const target = (code: string, call: string, requires: string[], message = 'm'): DeadlockTarget => ({
  code, severity: 'warning', span: at(call), message, function: 'grab', related: [], requires,
});
/** What the workspace index passes: detect.ts's message, which names the held lock and the reclaim path. */
const MESSAGE = 'kzalloc(GFP_KERNEL) may enter reclaim while &foo->lock is held, and reclaim can take &foo->lock via … → do_shrink_slab → demo_scan → mutex_lock (fs/demo/shrinker.c:9); the path requires __GFP_FS, which GFP_KERNEL has';

let analyser: Promise<Analyser> | undefined;
const an = () => (analyser ??= initParser().then((p) => createAnalyser(p, createKbProvider().view, '6.12')));

test('the narrow fix: the mask loses exactly what the reclaim path of the cycle needs', async () => {
  const cases: [string, string[], string, string, boolean][] = [
    ['reclaim-deadlock', ['__GFP_FS'], 'Use GFP_NOFS for this allocation: reclaim takes the lock only with __GFP_FS', 'GFP_NOFS | __GFP_ACCOUNT', true],
    ['reclaim-deadlock', ['__GFP_FS', '__GFP_IO'], 'Use GFP_NOFS for this allocation: reclaim takes the lock only with __GFP_FS', 'GFP_NOFS | __GFP_ACCOUNT', true],
    ['reclaim-frozen-queue', ['__GFP_IO'], 'Use GFP_NOIO for this allocation: reclaim takes the lock only with __GFP_IO', 'GFP_NOIO | __GFP_ACCOUNT', true],
    ['reclaim-deadlock', [], 'Use GFP_NOWAIT for this allocation: any direct reclaim reaches the lock: only a mask without __GFP_DIRECT_RECLAIM breaks the cycle, and the allocation may then fail', 'GFP_NOWAIT | __GFP_ACCOUNT', false],
  ];
  for (const [code, requires, title, mask, preferred] of cases) {
    // The message names no lock: the scope is refused for that, the narrow fix is offered and preferred.
    const r = codeFixes(await an(), TEXT, { codes: [], extra: [target(code, KZALLOC, requires)] });
    assert.deepEqual(r.refused.map((x) => [x.kind, x.reason]), [['deadlock-scope', requires.length
      ? 'the finding does not name the lock it holds'
      : 'the cycle\'s reclaim path needs neither __GFP_FS nor __GFP_IO (any direct reclaim gets there, e.g. mmu-notifier invalidation): no memalloc_nofs/noio scope keeps this allocation out of it, only memalloc_noreclaim_save(), which is reserved for the reclaim path itself']], `${code} ${requires}`);
    assert.equal(r.fixes.length, 1);
    const [fix] = r.fixes;
    assert.deepEqual([fix.kind, fix.title, fix.preferred, fix.fixAll, fix.confidence], ['deadlock-mask', title, preferred, preferred, preferred ? 'high' : 'low']);
    assert.equal(applyEdits(TEXT, fix.edits), TEXT.replace(KZALLOC, `kzalloc(64, ${mask})`));
  }
});

test('the scope fix comes first and is preferred; the narrow one stays as the alternative', async () => {
  const r = codeFixes(await an(), TEXT, { codes: [], extra: [target('reclaim-deadlock', KZALLOC, ['__GFP_FS'], MESSAGE)] });
  assert.deepEqual(r.refused, []);
  assert.deepEqual(r.fixes.map((f) => [f.kind, f.preferred, f.fixAll, f.title]), [
    ['deadlock-scope', true, true, 'Open a memalloc_nofs_save() scope for the critical section of &foo->lock (2 allocations in it)'],
    ['deadlock-mask', false, true, 'Use GFP_NOFS for this allocation: reclaim takes the lock only with __GFP_FS'],
  ]);
  assert.equal(applyEdits(TEXT, r.fixes[0].edits), `struct foo { struct mutex lock; };

static void *grab(struct foo *f, gfp_t gfp)
{
	void *a, *b;
	unsigned int nofs_flags;

	mutex_lock(&f->lock);
	/* &foo->lock is held; reclaim waits for it via demo_scan() */
	nofs_flags = memalloc_nofs_save();
	a = kzalloc(64, GFP_KERNEL | __GFP_ACCOUNT);
	b = kmalloc(64, gfp);
	memalloc_nofs_restore(nofs_flags);
	mutex_unlock(&f->lock);
	return a ? a : b;
}
`);
  // The whole-program pass's own data (cli: deadlockTargetOf) names the callback and the ops field it is bound to.
  const full = codeFixes(await an(), TEXT, { codes: [], extra: [{ ...target('reclaim-deadlock', KZALLOC, ['__GFP_FS']), held: '&foo->lock', takenIn: 'grab', reclaim: 'demo_scan() (shrinker.scan_objects)' }] });
  assert.ok(applyEdits(TEXT, full.fixes[0].edits).includes('\t/* &foo->lock is held; reclaim waits for it via demo_scan() (shrinker.scan_objects) */\n\tnofs_flags = memalloc_nofs_save();\n'));
  // A mask from the caller has no narrow fix, but the scope covers it.
  const param = codeFixes(await an(), TEXT, { codes: [], extra: [target('reclaim-deadlock', 'kmalloc(64, gfp)', ['__GFP_FS'], MESSAGE)] });
  assert.deepEqual(param.fixes.map((f) => f.kind), ['deadlock-scope']);
  assert.deepEqual(param.refused.map((x) => x.reason), ['the mask is not written as one blocking GFP_* name plus flag bits: change it where the value is set, or use a scope']);
});

test('a finding outside any function, or of a code without a program fix, is refused or left alone', async () => {
  const outside = codeFixes(await an(), TEXT, { codes: [], extra: [target('reclaim-deadlock', 'struct foo', ['__GFP_FS'])] });
  assert.deepEqual(outside.refused.map((x) => x.reason), ['the finding is not inside a function of this text (the file changed since the workspace index saw it)']);
  assert.deepEqual(codeFixes(await an(), TEXT, { codes: [], extra: [target('fault-deadlock', 'kmalloc(64, gfp)', [])] }), { fixes: [], refused: [], findings: [] });
});

test('verification refuses a deadlock fix that leaves the allocation a mask the reclaim path admits', async () => {
  const a = await an();
  const snap = snapshotOf(a, TEXT);
  try {
    const site = snap.facts.functions[0].sites.find((s) => s.api === 'kzalloc')!;
    // An edit that changes nothing about the mask (a comment), claiming to break the cycle.
    const v = verify(a, snap, {
      kind: 'deadlock-mask', code: 'reclaim-deadlock', target: target('reclaim-deadlock', KZALLOC, ['__GFP_FS']), title: 't', preferred: true, confidence: 'high', fixAll: true,
      edits: [{ start: at(KZALLOC).end + 1, end: at(KZALLOC).end + 1, newText: ' /* x */' }],
      intent: { literals: new Map(), breaks: { site: site.callee.start, without: ['__GFP_FS', '__GFP_DIRECT_RECLAIM'] } },
    });
    assert.deepEqual(v.ok ? 'ok' : v.reason, 'the kzalloc() at line 8 would still get GFP_KERNEL_ACCOUNT|__GFP_ZERO, which the cycle\'s reclaim path admits (it needs __GFP_FS and __GFP_DIRECT_RECLAIM)');
  } finally {
    snap.file.dispose();
  }
});
