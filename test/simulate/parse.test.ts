import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseModel, hasErrors } from '../../server/src/simulate/parse';
import type { Problem } from '../../server/src/simulate/model';
import { loadFixtures } from './fixtures';

test('every fixture model parses without problems', () => {
  const fixtures = loadFixtures();
  assert.ok(fixtures.length >= 25, `expected at least 25 fixture models, found ${fixtures.length}`);
  for (const f of fixtures) {
    const { problems } = parseModel(f.text);
    assert.deepEqual(problems, [], `${f.name}: ${JSON.stringify(problems)}`);
  }
});

test('a good model becomes a precise AST', () => {
  const text = [
    'model "demo"',
    'rwsem &xfs_inode->i_lock @fs/xfs/xfs_inode.c:100 note "ILOCK"',
    'completion done',
    'reclaim super_cache_scan kind shrinker gate GFP_KERNEL & ~__GFP_IO from direct @fs/super.c:193 {',
    '  tryrlock &xfs_inode->i_lock @fs/xfs/xfs_icache.c:1035 note "trylock"',
    '  unlock &xfs_inode->i_lock',
    '}',
    'fault xfs_filemap_fault {',
    '  rlock &xfs_inode->i_lock @mm/filemap.c:3335:7',
    '  unlock &xfs_inode->i_lock',
    '}',
    'thread "syz executor" role task {',
    '  lock &xfs_inode->i_lock @fs/xfs/xfs_iomap.c:1793   // comment',
    '  nofs {',
    '    alloc GFP_KERNEL|__GFP_NOWARN @fs/iomap/buffered-io.c:1557',
    '  }',
    '  fault xfs_filemap_fault',
    '  signal done',
    '  unlock &xfs_inode->i_lock',
    '}',
    'thread kswapd0 role kswapd',
  ].join('\n');
  const { model, problems } = parseModel(text);
  assert.deepEqual(problems, []);
  assert.equal(model.name, 'demo');
  assert.deepEqual(model.resources.map((r) => [r.kind, r.name]), [['rwsem', '&xfs_inode->i_lock'], ['completion', 'done']]);
  assert.equal(model.resources[0].note, 'ILOCK');
  assert.deepEqual(model.resources[0].location, { file: 'fs/xfs/xfs_inode.c', line: 100 });
  const cb = model.reclaims[0];
  assert.equal(cb.name, 'super_cache_scan');
  assert.equal(cb.kind, 'shrinker');
  assert.equal(cb.from, 'direct');
  assert.equal(cb.gate?.value, 0xcc0 & ~0x40);
  assert.equal(cb.gate?.text, 'GFP_KERNEL & ~__GFP_IO');
  assert.deepEqual(cb.steps.map((s) => s.op), ['tryrlock', 'unlock']);
  assert.equal(cb.steps[0].note, 'trylock');
  assert.deepEqual(model.faults[0].steps[0].location, { file: 'mm/filemap.c', line: 3335, column: 7 });
  const th = model.threads[0];
  assert.equal(th.name, 'syz executor');
  assert.deepEqual(th.steps.map((s) => s.op), ['lock', 'nofs_save', 'alloc', 'nofs_restore', 'fault', 'signal', 'unlock']);
  assert.equal(th.steps[2].mask?.value, 0xcc0 | 0x2000);
  assert.equal(th.steps[4].handler, 'xfs_filemap_fault');
  assert.deepEqual(th.steps[0].span, { line: 13, column: 3, endLine: 13, endColumn: 51 });
  assert.deepEqual(th.steps[0].operandSpan, { line: 13, column: 8, endLine: 13, endColumn: 26 });
  assert.equal(model.threads[1].role, 'kswapd');
  assert.deepEqual(model.threads[1].steps, []);
});

interface BadCase {
  name: string;
  text: string;
  problem: Omit<Partial<Problem>, 'message'> & { message: RegExp };
}

const HEAD = 'mutex &a\nrwsem &s\ncompletion c\n';
const bad: BadCase[] = [
  { name: 'unknown step', text: HEAD + 'thread t {\n  lok &a\n}\n', problem: { message: /unknown step 'lok'/, line: 5, column: 3, endColumn: 6 } },
  { name: 'undeclared resource', text: HEAD + 'thread t {\n  lock &b @x.c:1\n}\n', problem: { message: /'&b' is not declared/, line: 5, column: 8, endColumn: 10 } },
  { name: 'rlock on a mutex', text: HEAD + 'thread t {\n  rlock &a\n}\n', problem: { message: /rlock does not apply to mutex '&a'/, line: 5, column: 9 } },
  { name: 'wait on a lock', text: HEAD + 'thread t {\n  wait &a\n}\n', problem: { message: /wait does not apply to mutex/, line: 5, column: 8 } },
  { name: 'unknown gfp name', text: HEAD + 'thread t {\n  alloc GFP_KERNLE | __GFP_NOWARN\n}\n', problem: { message: /unknown gfp name 'GFP_KERNLE'/, line: 5, column: 9, endColumn: 19 } },
  { name: 'mask operator error', text: HEAD + 'thread t {\n  alloc GFP_KERNEL & ~\n}\n', problem: { message: /ends early/, line: 5 } },
  { name: 'missing mask', text: HEAD + 'thread t {\n  alloc @x.c:3\n}\n', problem: { message: /expected a gfp mask after alloc/, line: 5, column: 3 } },
  { name: 'bad location', text: HEAD + 'thread t {\n  lock &a @fs/x.c\n}\n', problem: { message: /bad source location '@fs\/x.c'/, line: 5, column: 11, endColumn: 18 } },
  { name: 'missing close brace', text: HEAD + 'thread t {\n  lock &a\n', problem: { message: /thread 't' is not closed/, line: 4, column: 1 } },
  { name: 'unmatched close brace', text: HEAD + '}\nthread t {\n}\n', problem: { message: /unmatched '}'/, line: 4, column: 1 } },
  { name: 'unterminated string', text: HEAD + 'thread t {\n  lock &a note "oops\n}\n', problem: { message: /unterminated string/, line: 5, column: 16 } },
  { name: 'unknown role', text: HEAD + 'thread t role daemon {\n  lock &a\n}\n', problem: { message: /unknown thread role 'daemon'/, line: 4, column: 15, endColumn: 21 } },
  { name: 'unknown reclaim kind', text: HEAD + 'reclaim r kind cache {\n}\nthread t {\n  lock &a\n}\n', problem: { message: /unknown reclaim kind 'cache'/, line: 4, column: 16 } },
  { name: 'fault inside reclaim', text: HEAD + 'fault f {\n}\nreclaim r {\n  fault f\n}\nthread t {\n  lock &a\n}\n', problem: { message: /fault inside a reclaim callback/, line: 7, column: 3 } },
  { name: 'unknown fault handler', text: HEAD + 'fault f {\n}\nthread t {\n  fault g\n}\n', problem: { message: /no fault handler named 'g'/, line: 7, column: 9 } },
  { name: 'duplicate resource', text: HEAD + 'mutex &a\nthread t {\n  lock &a\n}\n', problem: { message: /'&a' is already declared/, line: 4, column: 7 } },
  { name: 'no thread', text: HEAD, problem: { message: /declares no thread/, line: 1 } },
  { name: 'brace not at end', text: HEAD + 'thread t { lock &a\n}\n', problem: { message: /'\{' must end the line/, line: 4, column: 12 } },
  { name: 'step at top level', text: HEAD + 'lock &a\nthread t {\n  lock &a\n}\n', problem: { message: /step 'lock' outside a thread/, line: 4, column: 1 } },
  { name: 'declaration inside a thread', text: HEAD + 'thread t {\n  mutex &z\n}\n', problem: { message: /declarations belong at the top level/, line: 5, column: 3 } },
  { name: 'thread without brace', text: HEAD + 'thread t\n', problem: { message: /expected '\{' at the end of the thread line/, line: 4 } },
  { name: 'extra operand', text: HEAD + 'thread t {\n  lock &a &s\n}\n', problem: { message: /takes one resource name; unexpected '&s'/, line: 5, column: 11 } },
  { name: 'note without string', text: HEAD + 'thread t {\n  lock &a note oops\n}\n', problem: { message: /expected a quoted string after note/, line: 5, column: 16 } },
];

for (const c of bad) {
  test(`parse problem: ${c.name}`, () => {
    const { problems } = parseModel(c.text);
    const match = problems.find((p) => c.problem.message.test(p.message));
    assert.ok(match, `no problem matching ${c.problem.message} in ${JSON.stringify(problems)}`);
    for (const key of ['line', 'column', 'endLine', 'endColumn'] as const) {
      if (c.problem[key] !== undefined) assert.equal(match[key], c.problem[key], `${key} of ${JSON.stringify(match)}`);
    }
    assert.equal(match.severity, 'error');
    assert.ok(hasErrors(problems));
  });
}

test('warnings do not make a model unusable', () => {
  const { model, problems } = parseModel('mutex &a\nthread t {\n  unlock &a\n  nofs_restore\n}\n');
  assert.deepEqual(problems.map((p) => [p.severity, p.line]), [['warning', 3], ['warning', 4]]);
  assert.match(problems[0].message, /does not hold/);
  assert.equal(hasErrors(problems), false);
  assert.equal(model.threads[0].steps.length, 2);
});

test('one bad line does not lose the rest of the model', () => {
  const { model, problems } = parseModel(HEAD + 'thread t {\n  lock &a\n  bogus step here\n  lock &s\n}\nthread u {\n  wait c\n}\n');
  assert.equal(problems.length, 1);
  assert.equal(problems[0].line, 6);
  assert.deepEqual(model.threads.map((t) => t.steps.map((s) => s.op)), [['lock', 'lock'], ['wait']]);
});

test('parseModel never throws on garbage', () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const alphabet = 'thread mutex lock unlock alloc GFP_KERNEL | & ~ ( ) { } " @ : 1 2 // note reclaim gate fault \n\t x &a->b';
  const words = alphabet.split(' ');
  for (let i = 0; i < 500; i++) {
    let s = '';
    const len = Math.floor(rnd() * 60);
    for (let j = 0; j < len; j++) s += words[Math.floor(rnd() * words.length)] + (rnd() < 0.3 ? '\n' : ' ');
    const r = parseModel(s);
    assert.ok(Array.isArray(r.problems));
    for (const p of r.problems) assert.ok(p.line >= 1 && p.column >= 1, JSON.stringify(p));
  }
});
