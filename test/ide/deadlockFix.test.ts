// Fix 3, the narrow part, for whole-program deadlock findings (ide/fixes/deadlockMask.ts): the mask loses what the
// cycle's reclaim path needs — __GFP_FS → GFP_NOFS, __GFP_IO (a frozen queue) → GFP_NOIO, nothing (any direct
// reclaim) → GFP_NOWAIT at low confidence — and a mask that comes from a caller is refused with the reason.
// The findings come from outside the file's facts (FixRequest.extra), as the workspace index hands them over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKbProvider } from '../../server/src/analysis/kbView';
import { applyEdits, codeFixes, createAnalyser, type DeadlockTarget } from '../../server/src/ide/fixes';
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
const target = (code: string, call: string, requires: string[]): DeadlockTarget => ({
  code, severity: 'warning', span: at(call), message: 'm', function: 'grab', related: [], requires,
});

test('the mask loses exactly what the reclaim path of the cycle needs', async () => {
  const an = createAnalyser(await initParser(), createKbProvider().view, '6.12');
  const cases: [string, string[], string, string, boolean][] = [
    ['reclaim-deadlock', ['__GFP_FS'], 'Use GFP_NOFS for this allocation: reclaim takes the lock only with __GFP_FS', 'GFP_NOFS | __GFP_ACCOUNT', true],
    ['reclaim-frozen-queue', ['__GFP_IO'], 'Use GFP_NOIO for this allocation: reclaim takes the lock only with __GFP_IO', 'GFP_NOIO | __GFP_ACCOUNT', true],
    ['reclaim-deadlock', [], 'Use GFP_NOWAIT for this allocation: any direct reclaim reaches the lock: only a mask without __GFP_DIRECT_RECLAIM breaks the cycle, and the allocation may then fail', 'GFP_NOWAIT | __GFP_ACCOUNT', false],
  ];
  for (const [code, requires, title, mask, preferred] of cases) {
    const r = codeFixes(an, TEXT, { codes: [], extra: [target(code, 'kzalloc(64, GFP_KERNEL | __GFP_ACCOUNT)', requires)] });
    assert.deepEqual(r.refused, [], `${code} ${requires}`);
    assert.equal(r.fixes.length, 1);
    const [fix] = r.fixes;
    assert.equal(fix.title, title);
    assert.equal(fix.preferred, preferred);
    assert.equal(fix.kind, 'deadlock-mask');
    assert.ok(applyEdits(TEXT, fix.edits).includes(`a = kzalloc(64, ${mask});`));
  }
});

test('a mask that comes from the caller, or a finding outside any function, is refused with the reason', async () => {
  const an = createAnalyser(await initParser(), createKbProvider().view, '6.12');
  const param = codeFixes(an, TEXT, { codes: [], extra: [target('reclaim-deadlock', 'kmalloc(64, gfp)', ['__GFP_FS'])] });
  assert.deepEqual(param.fixes, []);
  assert.deepEqual(param.refused.map((x) => x.reason), ['the mask is not written as one of GFP_KERNEL, GFP_NOFS, GFP_NOIO plus flag bits: change it where the value is set, or use a scope']);
  const outside = codeFixes(an, TEXT, { codes: [], extra: [{ ...target('reclaim-deadlock', 'struct foo', ['__GFP_FS']) }] });
  assert.deepEqual(outside.refused.map((x) => x.reason), ['the finding is not inside a function of this text (the file changed since the workspace index saw it)']);
  // Codes without a program fix are left alone.
  assert.deepEqual(codeFixes(an, TEXT, { codes: [], extra: [target('fault-deadlock', 'kmalloc(64, gfp)', [])] }), { fixes: [], refused: [], findings: [] });
});
