// Branches decided by a parameter (paramGuardsOf) and constant arguments at call sites (constArgsAt), exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constArgsAt, paramGuardsOf } from '../../server/src/analysis/paramGuards';
import { listFunctions } from '../../server/src/syntax/ast';
import { initParser } from '../../server/src/syntax/parser';
import { parseSource } from '../../server/src/syntax/sourceFile';

const SRC = `
int f(struct x *a, bool swap, int flags, struct y *ww)
{
	if (swap) {
		one();
	} else {
		two();
	}
	if (!ww && flags)
		three();
	if (flags == 0)
		return four();
	five();
again:
	six();
	if (a->busy)
		seven();
	if (swap || flags)
		eight();
	if (!a || !flags)
		return -1;
	ten();
	return 0;
}

int g(bool flush)
{
	flush = check();
	if (flush)
		nine();
	return 0;
}
`;

test('parameter guards: branches, else branches, the rest of a block after a leaving branch up to a label', async () => {
  const file = parseSource(await initParser(), SRC);
  try {
    const [f, g] = listFunctions(file);
    const at = (needle: string) => SRC.indexOf(needle);
    const covering = (fnGuards: ReturnType<typeof paramGuardsOf>, needle: string) =>
      fnGuards.filter((x) => at(needle) >= x.region.start && at(needle) < x.region.end).map((x) => `${x.param}${x.truthy ? '+' : '-'}`).sort();
    const gs = paramGuardsOf(f, file);
    assert.deepEqual(covering(gs, 'one()'), ['1+']);
    assert.deepEqual(covering(gs, 'two()'), ['1-']);
    assert.deepEqual(covering(gs, 'three()'), ['2+', '3-']);
    assert.deepEqual(covering(gs, 'four()'), ['2-']);
    assert.deepEqual(covering(gs, 'five()'), ['2+'], 'after `if (flags == 0) return`: flags is truthy');
    assert.deepEqual(covering(gs, 'six()'), [], 'a label: a jump may enter here whatever flags is');
    assert.deepEqual(covering(gs, 'seven()'), [], 'a field test is no parameter test');
    assert.deepEqual(covering(gs, 'eight()'), [], 'a disjunction decides neither operand in its branch');
    assert.deepEqual(covering(gs, 'ten()'), ['0+', '2+'], 'after `if (!a || !flags) return`: both are truthy');
    assert.deepEqual(paramGuardsOf(g, file), [], 'an assigned parameter guards nothing');
  } finally {
    file.dispose();
  }
});

test('constant arguments: literals only, nested calls, strings and character literals skipped', () => {
  const text = 'foo(a, true, NULL, bar(1, 2), "x,)", \',\', 0x10, 0, false)';
  assert.deepEqual(constArgsAt(text, 3, text.length), [
    { index: 1, truthy: true }, { index: 2, truthy: false }, { index: 6, truthy: true }, { index: 7, truthy: false }, { index: 8, truthy: false },
  ]);
  assert.equal(constArgsAt('foo(a, b)', 3, 9), undefined);
  assert.equal(constArgsAt('foo;', 3, 4), undefined);
});
