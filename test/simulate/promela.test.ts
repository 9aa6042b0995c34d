// SPIN agreement: every fixture model (and a batch of random models) is exported to Promela, checked with
// SPIN's invalid-end-state search (spin -a, gcc -DSAFETY, ./pan), and SPIN's "deadlock reachable or not"
// must equal the explorer's. SPIN is required: CI installs Debian's `spin`; a missing spin fails the tests.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { parseModel, hasErrors } from '../../server/src/simulate/parse';
import { compile } from '../../server/src/simulate/program';
import { explore } from '../../server/src/simulate/explore';
import { toPromela } from '../../server/src/simulate/promela';
import { runSpin, spinPath, SPIN_MISSING as MISSING, type SpinVerdict } from '../harness/spin';
import { loadFixtures } from './fixtures';
import { randomModel } from './random';


/** Run jobs with bounded parallelism, keeping one promise per job. */
function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T>[] {
  const results: Promise<T>[] = [];
  let next = 0;
  const slots: Promise<void>[] = [];
  const settle: ((v: T | PromiseLike<T>) => void)[] = [];
  const fail: ((e: unknown) => void)[] = [];
  for (let i = 0; i < jobs.length; i++) {
    results.push(new Promise<T>((res, rej) => {
      settle[i] = res;
      fail[i] = rej;
    }));
    results[i].catch(() => undefined);
  }
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      try {
        settle[i](await jobs[i]());
      } catch (e) {
        fail[i](e);
      }
    }
  };
  for (let w = 0; w < Math.min(width, jobs.length); w++) slots.push(worker());
  return results;
}

interface Case {
  name: string;
  text: string;
  expectDeadlock?: boolean;
}

const fixtures = loadFixtures();
const RANDOM_SEEDS = Array.from({ length: 25 }, (_, i) => 1000 + i * 7);
const cases: Case[] = [
  ...fixtures.map((f) => ({ name: f.name, text: f.text, expectDeadlock: f.deadlock })),
  ...RANDOM_SEEDS.map((seed) => ({ name: `random model seed ${seed}`, text: randomModel(seed) })),
];
const spin = spinPath();
let verdicts: Promise<SpinVerdict>[] = [];

before(() => {
  if (!spin) return;
  const width = Math.max(2, Math.min(8, os.cpus().length));
  verdicts = pool(cases.map((c) => () => {
    const { model } = parseModel(c.text);
    return runSpin(toPromela(compile(model)));
  }), width);
});

test('SPIN is installed', () => {
  assert.ok(spin, MISSING);
});

cases.forEach((c, i) => {
  test(`SPIN agrees with the explorer: ${c.name}`, async () => {
    assert.ok(spin, MISSING);
    const { model, problems } = parseModel(c.text);
    assert.ok(!hasErrors(problems), JSON.stringify(problems));
    const ours = explore(compile(model)).verdict === 'deadlock';
    if (c.expectDeadlock !== undefined) assert.equal(ours, c.expectDeadlock, 'explorer vs the model header');
    const v = await verdicts[i];
    assert.equal(v.errors > 0, ours, `SPIN says ${v.errors > 0 ? 'deadlock' : 'no deadlock'}, explorer says ${ours ? 'deadlock' : 'no deadlock'}\n${v.output}\n${c.text}`);
    if (ours) assert.ok(v.invalidEndState, `SPIN's error is not an invalid end state:\n${v.output}`);
  });
});

test('the Promela export has one proctype per thread and no end labels', () => {
  const f = fixtures.find((x) => x.name === 'nfs-loopback-commit.rlsim')!;
  const pml = toPromela(compile(parseModel(f.text).model));
  assert.equal((pml.match(/^active proctype /gm) ?? []).length, 2);
  assert.doesNotMatch(pml, /\bend\w*:/);
  assert.match(pml, /atomic \{ rw0_w == 0 && rw0_r == 0 && rw0_q == 0 -> rw0_w = 1; h0_w = 1 \}/);
  assert.match(pml, /:: skip\n\s*:: \(noreclaim == 0 && nofs == 0 && noio == 0\) -> \/\* enters nfs_release_folio \*\//);
});
