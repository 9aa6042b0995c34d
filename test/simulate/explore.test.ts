import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseModel, hasErrors } from '../../server/src/simulate/parse';
import { exploreModel } from '../../server/src/simulate/explore';
import { simulateModel } from '../../server/src/simulate/trace';
import { loadFixtures, MODELS_DIR } from './fixtures';
import { randomModel } from './random';

function model(text: string) {
  const r = parseModel(text);
  assert.ok(!hasErrors(r.problems), JSON.stringify(r.problems));
  return r.model;
}

for (const f of loadFixtures()) {
  test(`explorer verdict and shortest trace: ${f.name}`, () => {
    const sim = simulateModel(model(f.text));
    assert.equal(sim.verdict, f.deadlock ? 'deadlock' : 'no-deadlock');
    if (f.deadlock) {
      assert.equal(sim.length, f.shortest, 'shortest trace length');
      assert.equal(sim.steps.filter((s) => !s.blocked).length, f.shortest);
      assert.ok(sim.steps.some((s) => s.blocked), 'a deadlock lists the blocked steps');
    } else {
      assert.equal(sim.steps.length, 0);
    }
  });

  test(`reduced and unreduced search agree: ${f.name}`, () => {
    const m = model(f.text);
    const red = exploreModel(m, { reduce: true });
    const full = exploreModel(m, { reduce: false });
    assert.equal(red.verdict, full.verdict);
    assert.equal(red.path?.length, full.path?.length);
    assert.ok(red.statesExplored <= full.statesExplored, `${red.statesExplored} > ${full.statesExplored}`);
  });
}

test('the reduction prunes interleavings of independent steps', () => {
  const m = model(fs.readFileSync(path.join(MODELS_DIR, 'three-thread-ordered.rlsim'), 'utf8'));
  const red = exploreModel(m, { reduce: true });
  const full = exploreModel(m, { reduce: false });
  assert.equal(red.verdict, 'no-deadlock');
  assert.ok(red.statesExplored < full.statesExplored, `${red.statesExplored} vs ${full.statesExplored}`);
  // Purely thread-local work (private locks, allocations that enter nothing) must not multiply states.
  const threads = [0, 1, 2, 3].map((i) => `thread t${i} {\n  lock &p${i}\n  alloc GFP_NOWAIT\n  unlock &p${i}\n}`).join('\n');
  const local = model(`${[0, 1, 2, 3].map((i) => `mutex &p${i}`).join('\n')}\n${threads}\n`);
  const r = exploreModel(local, { reduce: true });
  assert.equal(r.statesExplored, 13, 'one path of 12 steps');
  assert.ok(exploreModel(local, { reduce: false }).statesExplored > 200);
});

test('reduced and unreduced search agree on 300 random models', () => {
  let deadlocks = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const text = randomModel(seed);
    const m = model(text);
    const red = exploreModel(m, { reduce: true });
    const full = exploreModel(m, { reduce: false });
    assert.equal(red.verdict, full.verdict, `seed ${seed}:\n${text}`);
    assert.equal(red.path?.length, full.path?.length, `seed ${seed}:\n${text}`);
    if (red.verdict === 'deadlock') deadlocks++;
  }
  // The generator must exercise both outcomes.
  assert.ok(deadlocks > 30 && deadlocks < 270, `${deadlocks} deadlocks`);
});

test('a typical 3-thread model is explored well under the budget', (t) => {
  const text = fs.readFileSync(path.join(MODELS_DIR, 'three-thread-chain-via-reclaim.rlsim'), 'utf8');
  const ordered = fs.readFileSync(path.join(MODELS_DIR, 'three-thread-ordered.rlsim'), 'utf8');
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    simulateModel(parseModel(text).model);
    simulateModel(parseModel(ordered).model);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[3];
  t.diagnostic(`median parse+explore+trace of two 3-thread models: ${median.toFixed(2)} ms`);
  assert.ok(median < 1000, `took ${median} ms`);
});

const GATED = (mask: string, extra = ''): string => `
mutex &l
reclaim fs_scan kind shrinker gate __GFP_FS {
  lock &l
  unlock &l
}
reclaim io_scan kind swap gate __GFP_IO {
  lock &l
  unlock &l
}
thread t {
  lock &l
${extra}  alloc ${mask}
  unlock &l
}
`;

test('gates: which masks enter which callbacks', () => {
  const verdict = (text: string): string => exploreModel(model(text)).verdict;
  assert.equal(verdict(GATED('GFP_KERNEL')), 'deadlock');
  assert.equal(verdict(GATED('GFP_NOFS')), 'deadlock', 'GFP_NOFS still admits the __GFP_IO gate');
  assert.equal(verdict(GATED('GFP_NOIO')), 'no-deadlock');
  assert.equal(verdict(GATED('GFP_KERNEL & ~__GFP_FS & ~__GFP_IO')), 'no-deadlock');
  assert.equal(verdict(GATED('GFP_KERNEL & ~__GFP_DIRECT_RECLAIM')), 'no-deadlock');
  assert.equal(verdict(GATED('GFP_NOWAIT')), 'no-deadlock');
  assert.equal(verdict(GATED('GFP_ATOMIC')), 'no-deadlock');
  assert.equal(verdict(GATED('GFP_KERNEL', '  noio_save\n')), 'no-deadlock', 'a NOIO scope strips __GFP_IO and __GFP_FS');
  assert.equal(verdict(GATED('GFP_KERNEL', '  nofs_save\n')), 'deadlock', 'a NOFS scope leaves __GFP_IO');
  assert.equal(verdict(GATED('GFP_KERNEL', '  noreclaim_save\n')), 'no-deadlock', 'PF_MEMALLOC: no direct reclaim');
});

test('scopes reach allocations inside fault handlers; kswapd-only callbacks are not direct reclaim', () => {
  const base = (scope: string, from = '') => `
mutex &l
reclaim fs_scan kind shrinker gate __GFP_FS${from} {
  lock &l
  unlock &l
}
fault fh {
  alloc GFP_KERNEL
}
thread t {
  lock &l
${scope}  fault
  unlock &l
}
`;
  assert.equal(exploreModel(model(base(''))).verdict, 'deadlock');
  assert.equal(exploreModel(model(base('  nofs_save\n'))).verdict, 'no-deadlock');
  assert.equal(exploreModel(model(base('', ' from kswapd'))).verdict, 'no-deadlock');
});

test('rwsem readers block behind a queued writer, not behind readers', () => {
  const text = (writer: boolean) => `
rwsem &s
thread r1 {
  rlock &s
  rlock &s
  unlock &s
  unlock &s
}
${writer ? 'thread w {\n  lock &s\n  unlock &s\n}' : 'thread r2 {\n  rlock &s\n  unlock &s\n}'}
`;
  assert.equal(exploreModel(model(text(false))).verdict, 'no-deadlock');
  const sim = simulateModel(model(text(true)));
  assert.equal(sim.verdict, 'deadlock');
  assert.equal(sim.length, 2);
  assert.deepEqual(sim.steps.map((s) => [s.threadName, s.action, s.phase ?? (s.blocked ? 'blocked' : 'done')]),
    [['r1', 'rlock', 'done'], ['w', 'lock', 'queued'], ['r1', 'rlock', 'blocked'], ['w', 'lock', 'blocked']]);
});

test('sleeping under a spinlock stops the thread; non-sleeping steps do not', () => {
  const t = (step: string) => `spinlock &sp\nmutex &m\ncompletion c\nthread t {\n  lock &sp\n  ${step}\n  unlock &sp\n}\nthread u {\n  signal c\n}\n`;
  for (const [step, bad] of [['alloc GFP_KERNEL', true], ['alloc GFP_ATOMIC', false], ['lock &m', true], ['trylock &m', false], ['wait c', true], ['signal c', false]] as const) {
    const sim = simulateModel(model(t(step)));
    assert.equal(sim.verdict === 'deadlock' && sim.kind === 'sleep-in-atomic', bad, step);
  }
});

test('the state limit gives up with verdict limit', () => {
  const r = exploreModel(model(fs.readFileSync(path.join(MODELS_DIR, 'three-thread-ordered.rlsim'), 'utf8')), { maxStates: 5 });
  assert.equal(r.verdict, 'limit');
});

test('models with errors still explore without throwing', () => {
  const r = parseModel('mutex &a\nthread t {\n  lock &undeclared\n  rlock &a\n  fault nowhere\n  lock &a\n}\n');
  assert.ok(hasErrors(r.problems));
  assert.doesNotThrow(() => simulateModel(r.model));
});
