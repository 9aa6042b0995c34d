// Models of deadlock findings (server/src/ide/findingModel.ts): for every reclaim-deadlock, fault-deadlock,
// reclaim-frozen-queue and reclaim-in-fence finding of the deadlock fixtures (test/fixtures/deadlock/*.c), the
// generated model parses cleanly, the explorer finds the deadlock (within the 100 ms budget of a 2–3 thread model),
// the fixed variant — one edit away — explores deadlock free, the steps carry the finding's file:line, and SPIN
// agrees with the explorer on both (SPIN is required, as in test/simulate/promela.test.ts).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { findDeadlocks, type DeadlockFinding } from '../../server/src/analysis/deadlock';
import { contexts, positionAt } from '../../server/src/analysis/interproc';
import { findingId, findingModel, SIMULABLE_CODES, type FindingModel } from '../../server/src/ide/findingModel';
import { compile, explore, parseModel, simulateModel, toPromela } from '../../server/src/simulate';
import { analyseProgram } from '../harness/multifile';
import { runSpin, spinPath, SPIN_MISSING } from '../harness/spin';

const DIR = path.join(__dirname, '..', 'fixtures', 'deadlock');

interface Case {
  fixture: string;
  finding: DeadlockFinding;
  line: (file: string, offset: number) => number;
  model: FindingModel;
}

function optionsOf(text: string): { crossWaits: string[]; classLevel: boolean } {
  const crossWaits: string[] = [];
  let classLevel = true;
  const opt = /^\/\/ options:(.*)$/m.exec(text);
  for (const o of opt ? opt[1].trim().split(/\s+/) : []) {
    if (o === 'loopbackNfs') crossWaits.push('reclaimLens.model.loopbackNfs');
    else if (o === 'no-class-level') classLevel = false;
  }
  return { crossWaits, classLevel };
}

const cases: Case[] = [];
const failures: string[] = [];

before(async () => {
  for (const fixture of fs.readdirSync(DIR).filter((f) => f.endsWith('.c')).sort()) {
    const text = fs.readFileSync(path.join(DIR, fixture), 'utf8');
    const { program, kb } = await analyseProgram(text);
    const { findings } = findDeadlocks(program, contexts(program), kb, optionsOf(text));
    const line = (file: string, o: number) => positionAt(program.files.find((f) => f.path === file)!.lineStarts!, o).line;
    for (const finding of findings) {
      if (!SIMULABLE_CODES.includes(finding.code)) continue;
      const r = findingModel(finding, { line, kb });
      if (r.ok) cases.push({ fixture, finding, line, model: r.model });
      else failures.push(`${fixture} ${findingId(finding)}: ${r.message}`);
    }
  }
});

/** The model lines (comments and blank lines left out). */
const body = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('//'));

test('every deadlock finding of the fixtures gets a model', () => {
  assert.deepEqual(failures, []);
  assert.ok(cases.length >= 15, `${cases.length} models`);
  const codes = new Set(cases.map((c) => c.finding.code));
  for (const code of SIMULABLE_CODES) assert.ok(codes.has(code as DeadlockFinding['code']), `a model of a ${code} finding`);
  const fixtures = new Set(cases.map((c) => c.fixture));
  for (const f of ['chain3.c', 'context-lock.c', 'fault.c', 'fence-queue.c', 'loopback-nfs.c', 'mmu-notifier.c', 'priming.c', 'release-folio.c', 'shrinker-gates.c', 'transactions.c', 'xfs-ilock-splat.c']) {
    assert.ok(fixtures.has(f), `a model from ${f}`);
  }
});

test('each model: the explorer finds the deadlock, the fixed variant (one edit) is deadlock free', (t) => {
  const rows: string[] = [];
  for (const c of cases) {
    const name = `${c.fixture} ${c.model.id}`;
    const parsed = parseModel(c.model.text);
    assert.deepEqual(parsed.problems, [], `${name}: problems in\n${c.model.text}`);
    const t0 = performance.now();
    const sim = simulateModel(parsed.model);
    const ms = performance.now() - t0;
    assert.equal(sim.result.verdict, 'deadlock', `${name}: no deadlock in\n${c.model.text}`);
    assert.ok(ms < 100, `${name}: ${ms.toFixed(1)} ms`);
    const fixed = parseModel(c.model.fixed);
    assert.ok(!fixed.problems.some((p) => p.severity === 'error'), `${name}: ${JSON.stringify(fixed.problems)}`);
    const fsim = simulateModel(fixed.model);
    assert.equal(fsim.result.verdict, 'no-deadlock', `${name}: the fixed variant (${c.model.fix}) deadlocks:\n${c.model.fixed}`);
    // One edit: one line changed (a mask) or removed (a fault).
    const a = body(c.model.text);
    const b = body(c.model.fixed);
    if (c.finding.code === 'fault-deadlock') {
      assert.equal(b.length, a.length - 1, name);
      assert.deepEqual(a.filter((l) => !b.includes(l)).map((l) => l.trim().split(' ')[0]), ['fault'], name);
    } else {
      assert.equal(b.length, a.length, name);
      const changed = a.filter((l, i) => l !== b[i]);
      assert.equal(changed.length, 1, `${name}: ${JSON.stringify(changed)}`);
      assert.match(changed[0], /^\s*alloc /, name);
      assert.match(b[a.indexOf(changed[0])], /^\s*alloc GFP_NO(FS|IO|WAIT) /, name);
    }
    assert.match(c.model.text, new RegExp(`// Fixed variant, one edit: ${c.model.fix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    rows.push(`${name}: deadlock in ${sim.length} steps, ${sim.result.statesExplored} states, ${ms.toFixed(2)} ms; fixed (${c.model.fix.split(' (')[0]}): ${fsim.result.statesExplored} states`);
  }
  t.diagnostic(`${cases.length} models`);
  for (const r of rows) t.diagnostic(r);
});

test('each model: the task thread carries the finding\'s lines and notes naming the functions', () => {
  for (const c of cases) {
    const name = `${c.fixture} ${c.model.id}`;
    const { model } = parseModel(c.model.text);
    const p = c.finding.parts!;
    const task = model.threads.find((t) => t.name === p.held.function);
    assert.ok(task, `${name}: a thread named ${p.held.function}`);
    const siteLine = c.line(c.finding.file, c.finding.span.start);
    const heldLine = c.line(p.held.file, p.held.lock.site.start);
    const site = task.steps.find((s) => s.op === 'alloc' || s.op === 'fault');
    assert.deepEqual(site?.location, { file: c.finding.file, line: siteLine }, `${name}: the allocation or fault at the finding's line`);
    assert.ok(site?.note?.includes(`${c.finding.function}()`), `${name}: ${site?.note}`);
    if (c.finding.code !== 'reclaim-in-fence') {
      assert.deepEqual(task.steps[0].location, { file: p.held.file, line: heldLine }, `${name}: the first step takes the held lock at its line`);
      assert.ok(task.steps[0].note?.includes(p.held.lock.api), `${name}: ${task.steps[0].note}`);
    }
    // The reclaim or fault side: the last step of the take at its line, naming the function that takes the lock.
    const last = p.take?.steps[p.take.steps.length - 1];
    if (last) {
      const blocks = [...model.reclaims, ...model.faults];
      const steps = blocks.flatMap((b) => b.steps);
      const s = steps.find((x) => x.location?.file === last.file && x.location.line === c.line(last.file, last.span.start));
      assert.ok(s, `${name}: a step at ${last.file}:${c.line(last.file, last.span.start)}`);
      assert.ok(s.note?.includes(`${last.function}()`), `${name}: ${s.note}`);
    }
    if (p.dep) {
      const w = model.threads.find((t) => t.steps.some((s) => s.location?.file === p.dep!.file && s.location.line === c.line(p.dep!.file, p.dep!.span.start)));
      assert.ok(w, `${name}: the witness thread takes ${p.held.lock.cls} at its line`);
    }
  }
});

test('gates and kinds: GFP_NOFS fixes a __GFP_FS gate, GFP_NOWAIT an mmu notifier, GFP_NOIO a frozen queue', () => {
  const by = (fixture: string, code: string, fn?: string) => {
    const c = cases.find((x) => x.fixture === fixture && x.finding.code === code && (!fn || x.finding.function === fn));
    assert.ok(c, `${fixture} ${code} ${fn ?? ''}`);
    return c;
  };
  const gated = by('shrinker-gates.c', 'reclaim-deadlock', 'demo_insert');
  assert.match(gated.model.text, /^reclaim demo_scan kind shrinker gate __GFP_FS @fs\/demo\/cache\.c:\d+ /m);
  assert.match(gated.model.fix, /^alloc GFP_NOFS at fs\/demo\/cache\.c:\d+ \(demo_scan runs only with __GFP_FS\)$/);
  const mmu = by('mmu-notifier.c', 'reclaim-deadlock');
  assert.match(mmu.model.text, /^reclaim demo_invalidate kind mmu_notifier @/m);
  assert.match(mmu.model.text, /^ {2}alloc GFP_NOIO @drivers\/gpu\/drm\/demo\/demo_submit\.c:\d+ /m);
  assert.match(mmu.model.fix, /^alloc GFP_NOWAIT /);
  const queue = by('fence-queue.c', 'reclaim-frozen-queue');
  assert.match(queue.model.text, /^queue &request_queue->q_usage_counter /m);
  assert.match(queue.model.fix, /^alloc GFP_NOIO /);
  const xfs = by('xfs-ilock-splat.c', 'reclaim-deadlock');
  assert.match(xfs.model.text, /^rwsem &xfs_inode->i_lock /m);
  assert.match(xfs.model.text, /^\/\/ Class-level: /m);
  const chain = by('chain3.c', 'reclaim-deadlock');
  assert.equal(parseModel(chain.model.text).model.threads.length, 2, 'the task and the witness');
  const fault = by('fault.c', 'fault-deadlock');
  assert.match(fault.model.text, /^fault demofs_page_mkwrite @fs\/demofs\/file\.c:\d+ /m);
  assert.match(fault.model.text, /^ {2}rlock &address_space->invalidate_lock @fs\/demofs\/file\.c:\d+ note "demofs_page_mkwrite\(\): filemap_invalidate_lock_shared/m);
  const kswapd = cases.find((x) => x.fixture === 'release-folio.c' && /kswapd/.test(x.model.text));
  assert.ok(kswapd, 'the kswapd-only writepage finding');
  assert.match(kswapd.model.text, /^reclaim demofs_writepage kind writepage from kswapd /m);
  assert.match(kswapd.model.text, /^thread kswapd0 role kswapd \{/m);
  const nfs = by('loopback-nfs.c', 'reclaim-deadlock');
  assert.match(nfs.model.text, /^thread nfsd role nfsd /m);
  const btrfs = by('transactions.c', 'reclaim-deadlock');
  assert.match(btrfs.model.text, /^transaction btrfs_trans_num_writers /m);
  assert.match(btrfs.model.text, /^ {2}commit btrfs_trans_num_writers /m);
});

// ---- SPIN agreement on the generated models and their fixed variants ----

test('SPIN agrees with the explorer on every generated model and fixed variant', { timeout: 600_000 }, async (t) => {
  assert.ok(spinPath(), SPIN_MISSING);
  const jobs: { name: string; text: string }[] = cases.flatMap((c) => [
    { name: `${c.model.id}`, text: c.model.text },
    { name: `${c.model.id} (fixed)`, text: c.model.fixed },
  ]);
  let next = 0;
  let agreed = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const j = jobs[next++];
      const { model } = parseModel(j.text);
      const program = compile(model);
      const ours = explore(program).verdict === 'deadlock';
      const spin = await runSpin(toPromela(program));
      assert.equal(spin.deadlock, ours, `${j.name}: SPIN says ${spin.deadlock ? 'deadlock' : 'no deadlock'}, the explorer ${ours ? 'deadlock' : 'no deadlock'}\n${spin.output}\n${j.text}`);
      agreed++;
    }
  };
  await Promise.all([worker(), worker()]);
  t.diagnostic(`SPIN agrees on ${agreed} generated models (${cases.length} findings and their fixed variants)`);
});
