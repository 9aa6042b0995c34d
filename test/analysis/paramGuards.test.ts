// Branches decided by a parameter (paramGuardsOf) and constant arguments at call sites (constArgsAt), exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignedIn, constArgsAt, contradicts, paramGuardsOf, resolveArgs, translateNeeds } from '../../server/src/analysis/paramGuards';
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
	if (flags & DEMO_BARRIER)
		eleven();
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
    assert.deepEqual(gs.filter((x) => at('eleven()') >= x.region.start && at('eleven()') < x.region.end && x.flag).map((x) => [x.param, x.flag, x.truthy]), [[2, 'DEMO_BARRIER', true]]);
    assert.deepEqual(paramGuardsOf(g, file), [], 'an assigned parameter guards nothing');
  } finally {
    file.dispose();
  }
});

test('arguments that decide tests: literals, or-ed flag names, identifiers; nested calls, strings and characters skipped', () => {
  const text = 'foo(a, true, NULL, bar(1, 2), "x,)", \',\', 0x10, 0, false, A_FLAG | B_FLAG, (C_FLAG))';
  assert.deepEqual(constArgsAt(text, 3, text.length), [
    { index: 0, ident: 'a' }, { index: 1, truthy: true }, { index: 2, truthy: false }, { index: 6, truthy: true }, { index: 7, truthy: false },
    { index: 8, truthy: false }, { index: 9, flags: ['A_FLAG', 'B_FLAG'] }, { index: 10, flags: ['C_FLAG'] },
  ]);
  assert.equal(constArgsAt('foo(a->b, c + 1)', 3, 16), undefined);
  assert.equal(constArgsAt('foo;', 3, 4), undefined);
  // identifiers resolve to the caller's parameters, others are dropped
  assert.deepEqual(resolveArgs(constArgsAt('f(flags, x, 1)', 1, 14), (n) => (n === 'flags' ? 2 : undefined)), [{ index: 0, param: 2 }, { index: 2, truthy: true }]);
});

test('contradictions: constants, flag bits, and needs passed up through a parameter passed on', () => {
  assert.equal(contradicts([{ param: 1, truthy: false }], [{ index: 1, truthy: true }]), true);
  assert.equal(contradicts([{ param: 1, truthy: true }], [{ index: 1, truthy: true }]), false);
  assert.equal(contradicts([{ param: 1, truthy: true, flag: 'AWAIT_BARRIER' }], [{ index: 1, flags: ['AWAIT_EXCL', 'AWAIT_ACTIVE'] }]), true);
  assert.equal(contradicts([{ param: 1, truthy: true, flag: 'AWAIT_BARRIER' }], [{ index: 1, flags: ['AWAIT_BARRIER'] }]), false);
  assert.equal(contradicts([{ param: 1, truthy: false, flag: 'AWAIT_BARRIER' }], [{ index: 1, flags: ['AWAIT_BARRIER'] }]), true);
  assert.equal(contradicts([{ param: 1, truthy: true, flag: 'AWAIT_BARRIER' }], [{ index: 1, truthy: false }]), true, '0: no flag set');
  assert.equal(contradicts([{ param: 1, truthy: true, flag: 'AWAIT_BARRIER' }], [{ index: 1, param: 0 }]), false, 'passed on: not known here');
  assert.deepEqual(translateNeeds([{ param: 1, truthy: true, flag: 'AWAIT_BARRIER' }], [{ index: 1, param: 2 }]), [{ param: 2, truthy: true, flag: 'AWAIT_BARRIER' }]);
});

test('assignedIn: assignments, compound assignments, ++/-- and address-taking, as the RegExp it replaced', () => {
  // The RegExp assignedIn() used to build per parameter name: the reference for its scan.
  const reference = (body: string, name: string) =>
    new RegExp(`\\b${name}\\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)|(?:[(,=]|\\breturn)\\s*&\\s*${name}\\b|\\b${name}\\s*(?:\\+\\+|--)|(?:\\+\\+|--)\\s*${name}\\b`).test(body);
  const yes = ['n = 1;', 'n += 2;', 'n <<= 1;', 'n>>=2;', 'n ^= m;', 'n++;', '--n;', '++ n;', 'f(&n);', 'f(a, & n);', 'p = &n;', 'return &n;', 'n\n\t= 3;'];
  const no = ['n == 1', 'n != 1', 'n <= 1', 'n >= 1', 'n < 1', 'x = n;', 'nn = 1;', 'an = 1;', 'f(n);', 'a & n', 'a && n', 'returned &n', 'n_x = 1;', 'n - -1', ''];
  for (const b of yes) assert.equal(assignedIn(`{ ${b} }`, 'n'), true, b);
  for (const b of no) assert.equal(assignedIn(`{ ${b} }`, 'n'), false, b);
  // Random bodies over a small alphabet: the scan and the RegExp agree.
  const alphabet = ['n', 'm', 'nx', ' ', '=', '==', '+', '-', '&', '(', ',', 'return', '<<', '>>', '<', '>', '!', ';', '\n', '*', '|', '^', '%', '/'];
  let seed = 7;
  const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % k);
  for (let i = 0; i < 5000; i++) {
    let body = '';
    for (let j = rnd(12); j >= 0; j--) body += alphabet[rnd(alphabet.length)];
    assert.equal(assignedIn(body, 'n'), reference(body, 'n'), JSON.stringify(body));
  }
});
