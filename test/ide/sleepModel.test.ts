// Models of sleep-in-atomic findings (server/src/ide/sleepModel.ts): for every sleep-in-atomic finding of the check
// fixtures (test/fixtures/checks/*/*.c, one file each) and of the multi-file fixtures (test/fixtures/deadlock/*.c,
// test/fixtures/interproc/*.c: the functions' own findings and those through callees, crossSleepInAtomic), the
// generated model parses cleanly, the explorer stops the task at the step that sleeps, at the finding's line, while it
// holds the innermost atomic section (reported as "BUG: sleeping function called from invalid context"), a second CPU
// spins on the spinlock, the fixed variant (one edit: GFP_ATOMIC, or the sleeping step moved before the section) is
// deadlock free, and SPIN agrees with the explorer on both (SPIN is required, as in test/simulate/promela.test.ts).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { contexts, crossSleepInAtomic, lineStartsOf, positionAt } from '../../server/src/analysis/interproc';
import type { FindingModel } from '../../server/src/ide/findingModel';
import { crossSleepFinding, sleepFindingsOf, sleepModel, type SleepFinding } from '../../server/src/ide/sleepModel';
import { compile, explore, parseModel, simulateModel, toPromela } from '../../server/src/simulate';
import { analyseText } from '../harness/analyse';
import { analyseProgram } from '../harness/multifile';
import { runSpin, spinPath, SPIN_MISSING } from '../harness/spin';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

interface Case {
  /** the fixture, relative to test/fixtures */
  fixture: string;
  cross: boolean;
  data: SleepFinding;
  line: (file: string, offset: number) => number;
  model: FindingModel;
}

const cases: Case[] = [];
const failures: string[] = [];
let findings = 0;

before(async () => {
  for (const dir of fs.readdirSync(path.join(FIXTURES, 'checks')).sort()) {
    for (const file of fs.readdirSync(path.join(FIXTURES, 'checks', dir)).filter((f) => f.endsWith('.c')).sort()) {
      const rel = `${dir}/${file}`;
      const text = fs.readFileSync(path.join(FIXTURES, 'checks', rel), 'utf8');
      const a = await analyseText(text);
      const starts = lineStartsOf(text);
      const line = (_f: string, o: number) => positionAt(starts, o).line;
      for (const fn of a.facts.functions) {
        for (const x of sleepFindingsOf(rel, fn, a.kb.gfp)) {
          findings++;
          if (!x.data) {
            failures.push(`${x.id}: ${x.problem}`);
            continue;
          }
          const r = sleepModel(x.data, { line, kb: a.kb });
          if (r.ok) cases.push({ fixture: `checks/${rel}`, cross: false, data: x.data, line, model: r.model });
          else failures.push(`${x.id}: ${r.message}`);
        }
      }
    }
  }
  for (const dir of ['deadlock', 'interproc']) {
    for (const file of fs.readdirSync(path.join(FIXTURES, dir)).filter((f) => f.endsWith('.c')).sort()) {
      const { program, kb } = await analyseProgram(fs.readFileSync(path.join(FIXTURES, dir, file), 'utf8'));
      const line = (f: string, o: number) => positionAt(program.files.find((x) => x.path === f)!.lineStarts!, o).line;
      const add = (data: SleepFinding, cross: boolean) => {
        const r = sleepModel(data, { line, kb });
        if (r.ok) cases.push({ fixture: `${dir}/${file}`, cross, data, line, model: r.model });
        else failures.push(`${data.id}: ${r.message}`);
      };
      for (const pf of program.files) {
        for (const fn of pf.facts.functions) {
          for (const x of sleepFindingsOf(pf.path, fn, kb.gfp)) {
            findings++;
            if (x.data) add(x.data, false);
            else failures.push(`${x.id}: ${x.problem}`);
          }
        }
      }
      for (const f of crossSleepInAtomic(program, contexts(program), kb.gfp)) {
        findings++;
        const data = crossSleepFinding(f);
        if (typeof data === 'string') failures.push(`${f.code}:${f.file}:${f.function}:${f.ordinal}: ${data}`);
        else add(data, true);
      }
    }
  }
});

/** The model lines without comments, blank lines and notes (the fixed variant's notes say what changed). */
const body = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('//')).map((l) => l.replace(/ note "(?:[^"\\]|\\.)*"/g, ''));

test('every sleep-in-atomic finding of the fixtures gets a model', () => {
  assert.deepEqual(failures, []);
  assert.equal(cases.length, findings);
  assert.deepEqual(cases.map((c) => `${c.fixture} ${c.model.id}`), [
    'checks/effective-mask/wrappers.c sleep-in-atomic:effective-mask/wrappers.c:after_wrapper:1',
    'checks/effective-mask/wrappers.c sleep-in-atomic:effective-mask/wrappers.c:after_second_wrapper:1',
    'checks/nofs-scope-candidate/candidates.c sleep-in-atomic:nofs-scope-candidate/candidates.c:not_candidates:1',
    'checks/sleep-in-atomic/guards.c sleep-in-atomic:sleep-in-atomic/guards.c:guard_spin:1',
    'checks/sleep-in-atomic/guards.c sleep-in-atomic:sleep-in-atomic/guards.c:scoped:1',
    'checks/sleep-in-atomic/locks.c sleep-in-atomic:sleep-in-atomic/locks.c:spin_kernel:1',
    'checks/sleep-in-atomic/locks.c sleep-in-atomic:sleep-in-atomic/locks.c:irqsave_nofs:1',
    'checks/sleep-in-atomic/locks.c sleep-in-atomic:sleep-in-atomic/locks.c:rcu_section:1',
    'checks/sleep-in-atomic/locks.c sleep-in-atomic:sleep-in-atomic/locks.c:rwlock_reader:1',
    'checks/sleep-in-atomic/locks.c sleep-in-atomic:sleep-in-atomic/locks.c:preempt_and_sleepers:1',
    'checks/sleep-in-atomic/locks.c sleep-in-atomic:sleep-in-atomic/locks.c:preempt_and_sleepers:2',
    'checks/sleep-in-atomic/locks.c sleep-in-atomic:sleep-in-atomic/locks.c:vmalloc_under_lock:1',
    'checks/sleep-in-atomic/locks.c sleep-in-atomic:sleep-in-atomic/locks.c:only_some_paths:1',
    'checks/sleep-in-atomic/locks.c sleep-in-atomic:sleep-in-atomic/locks.c:trylock_paths:1',
    'checks/sleep-in-atomic/locks.c sleep-in-atomic:sleep-in-atomic/locks.c:wait_drops_its_lock:1',
    'interproc/gfp-param-atomic.c sleep-in-atomic:fs/demo/users.c:demo_insert_kernel:1',
    'interproc/gfp-param-atomic.c sleep-in-atomic:fs/demo/locked.c:demo_cache_insert_locked:1',
    'interproc/ops-table.c sleep-in-atomic:block/elevator.c:elevator_flush_locked:1',
    'interproc/sleep-under-spinlock.c sleep-in-atomic:fs/demo/lock.c:demo_flush:1',
    'interproc/sleep-under-spinlock.c sleep-in-atomic:fs/demo/lock.c:demo_grow:1',
    'interproc/static-same-name.c sleep-in-atomic:fs/demo/a.c:demo_a:1',
  ]);
});

test('each model: the explorer stops the task at the sleeping step under the atomic section; the fixed variant (one edit) is deadlock free', (t) => {
  for (const c of cases) {
    const name = `${c.fixture} ${c.model.id}`;
    const parsed = parseModel(c.model.text);
    assert.deepEqual(parsed.problems, [], `${name}: problems in\n${c.model.text}`);
    const t0 = performance.now();
    const sim = simulateModel(parsed.model);
    const ms = performance.now() - t0;
    assert.equal(sim.result.verdict, 'deadlock', `${name}: no deadlock in\n${c.model.text}`);
    assert.equal(sim.kind, 'sleep-in-atomic', name);
    assert.ok(ms < 100, `${name}: ${ms.toFixed(1)} ms`);
    const sl = c.data.sleeper;
    const sleepAt = { file: sl.file, line: c.line(sl.file, sl.span.start) };
    // The stuck step: the task's, at the sleeper's line, naming the function that sleeps.
    const stuck = sim.steps.filter((s) => s.blocked && sim.waits.some((w) => w.thread === s.thread && w.res < 0));
    assert.equal(stuck.length, 1, name);
    assert.equal(stuck[0].threadName, c.data.function, name);
    assert.equal(stuck[0].action, sl.kind === 'alloc' ? 'alloc' : sl.kind === 'lock' ? 'lock' : 'wait', name);
    assert.deepEqual(stuck[0].location, sleepAt, name);
    assert.ok(stuck[0].note?.startsWith(`${sl.function}(): ${sl.api}(`), `${name}: ${stuck[0].note}`);
    // Held there: every section, the innermost at its line.
    const sections = c.data.sections.filter((s, i, all) => all.findIndex((x) => x.cls === s.cls) === i);
    const inner = sections[sections.length - 1];
    assert.deepEqual(sim.atomicHolds?.map((h) => h.lock).sort(), sections.map((s) => s.cls).sort(), name);
    assert.deepEqual(sim.atomicHolds?.find((h) => h.lock === inner.cls)?.location, { file: inner.file, line: c.line(inner.file, inner.site.start) }, name);
    // Shortest: the sections taken (and the waker's signal for a sleeper), nothing else.
    assert.equal(sim.length, sections.length + (sl.kind === 'sleeper' ? 1 : 0), name);
    // A second CPU spins on the innermost spinning lock.
    const spins = ['spinlock', 'raw_spinlock', 'rwlock', 'seqlock', 'bitlock'];
    const spun = [...sections].reverse().find((s) => spins.includes(s.kind));
    const other = sim.steps.find((s) => s.blocked && s.threadName === 'other-cpu');
    if (spun) assert.equal(other?.resource, spun.cls, name);
    else assert.equal(other, undefined, name);
    assert.match(c.model.text, /^\/\/ Fixed variant, one edit: /m);

    const fixed = parseModel(c.model.fixed);
    assert.deepEqual(fixed.problems, [], name);
    const fsim = simulateModel(fixed.model);
    assert.equal(fsim.result.verdict, 'no-deadlock', `${name}: the fixed variant (${c.model.fix}) deadlocks:\n${c.model.fixed}`);
    const a = body(c.model.text);
    const b = body(c.model.fixed);
    assert.equal(b.length, a.length, name);
    const changed = a.filter((l, i) => l !== b[i]);
    const move = sl.kind !== 'alloc' || sl.alwaysSleeps || /__GFP_NOFAIL/.test(sl.mask);
    if (!move) {
      assert.equal(changed.length, 1, `${name}: ${JSON.stringify(changed)}`);
      assert.match(changed[0], /^ {2}alloc /, name);
      assert.equal(b[a.indexOf(changed[0])], `  alloc GFP_ATOMIC @${sleepAt.file}:${sleepAt.line}`, name);
      assert.match(c.model.fix, new RegExp(`^alloc GFP_ATOMIC at ${sleepAt.file.replace(/[.]/g, '\\.')}:${sleepAt.line} `));
    } else {
      // One line moved: the sleeping step, now right before the first section's acquisition.
      const step = a.find((l) => l.includes(`@${sleepAt.file}:${sleepAt.line}`) && /^ {2}(alloc|lock|rlock|wait) /.test(l))!;
      assert.ok(step, name);
      assert.deepEqual(a.filter((l) => l !== step), b.filter((l) => l !== step), name);
      const first = sections[0];
      assert.equal(b[b.indexOf(step) + 1], `  ${/trylock/.test(first.api) ? 'trylock' : 'lock'} ${first.cls} @${first.file}:${c.line(first.file, first.site.start)}`, name);
      assert.match(c.model.fix, / moved before /, name);
    }
    t.diagnostic(`${name}: ${sim.length} steps, ${sim.result.statesExplored} states, ${ms.toFixed(2)} ms; fixed (${c.model.fix.split(' (')[0]}): ${fsim.result.statesExplored} states`);
  }
});

test('the task thread: each section at its line with a note naming the function and the kernel call', () => {
  for (const c of cases) {
    const name = `${c.fixture} ${c.model.id}`;
    const { model } = parseModel(c.model.text);
    const task = model.threads.find((x) => x.name === c.data.function);
    assert.ok(task, name);
    const sections = c.data.sections.filter((s, i, all) => all.findIndex((x) => x.cls === s.cls) === i);
    sections.forEach((s, i) => {
      const st = task.steps[i];
      assert.equal(st.resource, s.cls, name);
      assert.deepEqual(st.location, { file: s.file, line: c.line(s.file, s.site.start) }, name);
      assert.ok(st.note?.startsWith(`${c.data.function}(): ${s.api}(`), `${name}: ${st.note}`);
      assert.equal(model.resources.find((r) => r.name === s.cls)?.kind, 'spinlock', name);
    });
    // Released innermost first after the sleeping step.
    const unlocks = task.steps.filter((s) => s.op === 'unlock').map((s) => s.resource);
    assert.deepEqual(unlocks.slice(0, sections.length), sections.map((s) => s.cls).reverse(), name);
    // Calls through callees are named in the sleeping step's note.
    for (const l of c.data.links) assert.ok(c.model.text.includes(`${l.function}() calls ${l.callee}() at ${l.file}:${c.line(l.file, l.span.start)}`), `${name}: ${l.function} → ${l.callee}`);
  }
});

const byId = (id: string) => {
  const c = cases.find((x) => x.model.id === id);
  assert.ok(c, id);
  return c;
};

test('a GFP_KERNEL allocation under a spinlock: the whole model and its fixed variant', () => {
  const c = byId('sleep-in-atomic:sleep-in-atomic/locks.c:spin_kernel:1');
  assert.equal(c.model.text, `// Generated by Reclaim Lens from the finding sleep-in-atomic:sleep-in-atomic/locks.c:spin_kernel:1:
//   GFP_KERNEL may sleep while holding &inode->i_lock
// A step that may sleep, taken while the thread holds a spinlock, never happens: the explorer stops the thread there
// and reports it as CONFIG_DEBUG_ATOMIC_SLEEP does ("BUG: sleeping function called from invalid context").
// Fixed variant, one edit: alloc GFP_ATOMIC at sleep-in-atomic/locks.c:10 (GFP_ATOMIC, like GFP_NOWAIT, has no __GFP_DIRECT_RECLAIM: it never sleeps; the caller must handle failure).

model "sleep-in-atomic in spin_kernel() at sleep-in-atomic/locks.c:10"

spinlock &inode->i_lock note "taken by spin_lock() in spin_kernel() at sleep-in-atomic/locks.c:9"

thread spin_kernel @sleep-in-atomic/locks.c:9 note "spin_kernel() calls kmalloc() in the atomic section of spin_lock(&inode->i_lock)" {
  lock &inode->i_lock @sleep-in-atomic/locks.c:9 note "spin_kernel(): spin_lock(&inode->i_lock)"
  alloc GFP_KERNEL @sleep-in-atomic/locks.c:10 note "spin_kernel(): kmalloc(GFP_KERNEL)"
  unlock &inode->i_lock note "end of the atomic section"
}

thread other-cpu note "contends for &inode->i_lock" {
  lock &inode->i_lock note "another CPU takes &inode->i_lock and spins until the holder, asleep with it held and preemption off, runs again"
  unlock &inode->i_lock
}
`);
  assert.equal(c.model.fixed, c.model.text.replace(
    'alloc GFP_KERNEL @sleep-in-atomic/locks.c:10 note "spin_kernel(): kmalloc(GFP_KERNEL)"',
    'alloc GFP_ATOMIC @sleep-in-atomic/locks.c:10 note "spin_kernel(): kmalloc(GFP_KERNEL) [fixed variant: GFP_ATOMIC]"'));
  const sim = simulateModel(parseModel(c.model.text).model);
  assert.deepEqual(sim.steps.map((s) => `${s.threadName} ${s.label}${s.blocked ? ' blocked' : ''}`), [
    'spin_kernel lock(&inode->i_lock)',
    'spin_kernel alloc(GFP_KERNEL) blocked',
    'other-cpu lock(&inode->i_lock) blocked',
  ]);
});

test('rcu, preempt and irq sections are spinlocks of the model; a sleeper waits for a waker; a mutex is taken before the section in the fix', () => {
  const rcu = byId('sleep-in-atomic:sleep-in-atomic/locks.c:rcu_section:1');
  assert.match(rcu.model.text, /^spinlock rcu_read_lock note "the rcu section rcu_read_lock\(\) begins in rcu_section\(\) at sleep-in-atomic\/locks\.c:48 \(atomic context\)"$/m);
  assert.match(rcu.model.text, /^\/\/ rcu_read_lock\(\) \(rcu\): the model language has no such context, so the section is a spinlock: /m);
  assert.match(rcu.model.text, /^ {2}lock rcu_read_lock @sleep-in-atomic\/locks\.c:48 note "rcu_section\(\): rcu_read_lock\(\)"$/m);
  assert.doesNotMatch(rcu.model.text, /other-cpu/);

  const msleep = byId('sleep-in-atomic:sleep-in-atomic/locks.c:preempt_and_sleepers:1');
  assert.deepEqual(body(msleep.model.text), [
    'model "sleep-in-atomic in preempt_and_sleepers() at sleep-in-atomic/locks.c:75"',
    'spinlock preempt_disable',
    'completion wakeup(msleep)',
    'thread preempt_and_sleepers @sleep-in-atomic/locks.c:74 {',
    '  lock preempt_disable @sleep-in-atomic/locks.c:74',
    '  wait wakeup(msleep) @sleep-in-atomic/locks.c:75',
    '  unlock preempt_disable',
    '}',
    'thread waker role kthread {',
    '  signal wakeup(msleep)',
    '}',
  ]);
  assert.equal(msleep.model.fix, 'the wait step at sleep-in-atomic/locks.c:75 moved before preempt_disable() at sleep-in-atomic/locks.c:74 (sleep outside the atomic section)');

  const mutex = byId('sleep-in-atomic:sleep-in-atomic/locks.c:preempt_and_sleepers:2');
  assert.deepEqual(body(mutex.model.fixed).slice(0, 8), [
    'model "sleep-in-atomic in preempt_and_sleepers() at sleep-in-atomic/locks.c:79"',
    'spinlock &foo->lock',
    'mutex &foo->mutex',
    'thread preempt_and_sleepers @sleep-in-atomic/locks.c:78 {',
    '  lock &foo->mutex @sleep-in-atomic/locks.c:79',
    '  lock &foo->lock @sleep-in-atomic/locks.c:78',
    '  unlock &foo->lock',
    '  unlock &foo->mutex',
  ]);

  const vmalloc = byId('sleep-in-atomic:sleep-in-atomic/locks.c:vmalloc_under_lock:1');
  assert.equal(vmalloc.model.fix, 'the alloc step at sleep-in-atomic/locks.c:92 moved before local_irq_disable() at sleep-in-atomic/locks.c:91 (vmalloc() sleeps whatever its mask: allocate before the atomic section, the preload idiom)');
  const trylock = byId('sleep-in-atomic:sleep-in-atomic/locks.c:trylock_paths:1');
  assert.match(trylock.model.text, /^ {2}trylock &foo->lock @sleep-in-atomic\/locks\.c:118 note "trylock_paths\(\): spin_trylock\(&foo->lock\)"$/m);
  const guard = byId('sleep-in-atomic:sleep-in-atomic/guards.c:guard_spin:1');
  assert.match(guard.model.text, /^ {2}lock &bar->lock @sleep-in-atomic\/guards\.c:6 note "guard_spin\(\): spin_lock\(&bar->lock\) \(a cleanup\.h guard\)"$/m);
});

test('through callees: the sleep in the callee at its line, the calls in its note, a mask passed by a caller', () => {
  const flush = byId('sleep-in-atomic:fs/demo/lock.c:demo_flush:1');
  assert.ok(flush.cross);
  assert.match(flush.model.text, /^ {2}lock &demo_inode->lock @fs\/demo\/lock\.c:3 note "demo_flush\(\): spin_lock\(&demo_inode->lock\)"$/m);
  assert.match(flush.model.text, /^ {2}wait wakeup\(msleep\) @fs\/demo\/wait\.c:9 note "demo_wait_io\(\): msleep\(\) sleeps until woken \(demo_flush\(\) calls demo_wait\(\) at fs\/demo\/lock\.c:4; demo_wait\(\) calls demo_wait_io\(\) at fs\/demo\/wait\.c:3\)"$/m);
  const grow = byId('sleep-in-atomic:fs/demo/lock.c:demo_grow:1');
  assert.match(grow.model.text, /^ {2}alloc GFP_KERNEL @fs\/demo\/wait\.c:14 note "demo_alloc_extent\(\): kmalloc\(GFP_KERNEL\) \(demo_grow\(\) calls demo_alloc_extent\(\) at fs\/demo\/lock\.c:11\)"$/m);
  assert.equal(grow.model.fix.split(' (')[0], 'alloc GFP_ATOMIC at fs/demo/wait.c:14');
  assert.match(grow.model.text, /^thread demo_grow @fs\/demo\/lock\.c:10 note "demo_grow\(\) reaches kmalloc\(\) through demo_alloc_extent\(\) in the atomic section of spin_lock\(&demo_inode->lock\)" \{$/m);
  const passed = byId('sleep-in-atomic:fs/demo/users.c:demo_insert_kernel:1');
  assert.match(passed.model.text, /^ {2}alloc GFP_KERNEL @fs\/demo\/cache\.c:5 note "demo_cache_insert\(\): kmalloc\(GFP_KERNEL\) \(demo_insert_kernel\(\) calls demo_cache_insert\(\) at fs\/demo\/users\.c:16\); GFP_KERNEL passed to demo_cache_insert\(\)"$/m);
  assert.equal(passed.model.fix, 'alloc GFP_ATOMIC at fs/demo/cache.c:5 (GFP_ATOMIC passed instead of GFP_KERNEL: GFP_ATOMIC, like GFP_NOWAIT, has no __GFP_DIRECT_RECLAIM: it never sleeps; the caller must handle failure)');
  const locked = byId('sleep-in-atomic:fs/demo/locked.c:demo_cache_insert_locked:1');
  assert.match(locked.model.text, /^ {2}alloc GFP_KERNEL @fs\/demo\/locked\.c:7 note "demo_cache_insert_locked\(\): kmalloc\(GFP_KERNEL\); GFP_KERNEL passed by demo_add\(\)"$/m);
  const mutex = byId('sleep-in-atomic:fs/demo/a.c:demo_a:1');
  assert.match(mutex.model.text, /^mutex &demo->mutex note "taken by mutex_lock\(\) in demo_helper\(\) at fs\/demo\/a\.c:3; it may sleep"$/m);
  assert.match(mutex.model.text, /^ {2}lock &demo->mutex @fs\/demo\/a\.c:3 note "demo_helper\(\): mutex_lock\(&demo->mutex\) may sleep \(demo_a\(\) calls demo_helper\(\) at fs\/demo\/a\.c:11\)"$/m);
});

// ---- SPIN agreement on the generated models and their fixed variants ----

test('SPIN agrees with the explorer on every sleep-in-atomic model (deadlock) and fixed variant (none)', { timeout: 600_000 }, async (t) => {
  assert.ok(spinPath(), SPIN_MISSING);
  const jobs = cases.flatMap((c) => [
    { name: c.model.id, text: c.model.text, expect: true },
    { name: `${c.model.id} (fixed)`, text: c.model.fixed, expect: false },
  ]);
  let next = 0;
  let agreed = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const j = jobs[next++];
      const program = compile(parseModel(j.text).model);
      const ours = explore(program).verdict === 'deadlock';
      assert.equal(ours, j.expect, j.name);
      const spin = await runSpin(toPromela(program));
      assert.equal(spin.deadlock, ours, `${j.name}: SPIN says ${spin.deadlock ? 'deadlock' : 'no deadlock'}, the explorer ${ours ? 'deadlock' : 'no deadlock'}\n${spin.output}\n${j.text}`);
      agreed++;
    }
  };
  await Promise.all([worker(), worker()]);
  assert.equal(agreed, 2 * cases.length);
  t.diagnostic(`SPIN agrees on ${agreed} generated models (${cases.length} sleep-in-atomic findings and their fixed variants)`);
});
