// ide/simulation.ts: the simulation feature in editor terms, on the model fixtures and on broken models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  modelDefinition, modelHover, modelLenses, resolveSourceFile, simulateText, verdictSummary, type SimulationReport,
} from '../../server/src/ide/simulation';
import { loadFixtures } from '../simulate/fixtures';

const fixtures = loadFixtures();
const fixture = (name: string) => fixtures.find((f) => f.name === name)!;

function run(text: string): SimulationReport {
  const o = simulateText(text, { name: 'm.rlsim' });
  assert.ok(o.ok, o.ok ? '' : o.message);
  return o.report;
}

test('every fixture: the verdict, the shortest length and the summary line', () => {
  assert.ok(fixtures.length >= 30);
  for (const f of fixtures) {
    const r = run(f.text);
    assert.equal(r.verdict, f.deadlock ? 'deadlock' : 'no-deadlock', f.name);
    if (f.deadlock) {
      assert.equal(r.length, f.shortest, f.name);
      assert.equal(r.summary, `deadlock in ${f.shortest} step${f.shortest === 1 ? '' : 's'}`, f.name);
      assert.ok(r.steps.some((s) => s.blocked), `${f.name}: a blocked entry ends the trace`);
      assert.ok(r.lockdep.includes('shortest trace'), f.name);
    } else {
      assert.match(r.summary, /^no deadlock: \d+ states?$/, f.name);
      assert.deepEqual(r.steps, [], f.name);
      assert.match(r.lockdep, /^no deadlock: \d+ states explored/, f.name);
    }
  }
});

test('the JSON shape: toJson of report.ts plus model spans, lockdep text, summary and warnings', () => {
  const f = fixture('xfs-ilock-super-cache-scan.rlsim');
  const r = run(f.text);
  assert.deepEqual(Object.keys(r).sort(), [
    'chain', 'cycle', 'kind', 'length', 'links', 'lockdep', 'model', 'reduced', 'statesExplored', 'steps', 'summary', 'threads', 'verdict', 'warnings',
  ]);
  assert.equal(r.kind, 'circular');
  assert.equal(r.model, 'xfs ILOCK vs super_cache_scan');
  assert.deepEqual(r.threads, [{ name: 'syz-executor', role: 'task' }, { name: 'kswapd0', role: 'kswapd' }]);
  assert.deepEqual(r.chain, ['&xfs_nondir_ilock_class', 'fs_reclaim', '&xfs_nondir_ilock_class']);
  assert.equal(r.steps.length, r.length + 1);
  const alloc = r.steps.find((s) => s.action === 'alloc')!;
  assert.equal(alloc.callback, 'super_cache_scan');
  assert.deepEqual(alloc.location, { file: 'fs/iomap/buffered-io.c', line: 1557 });
  assert.deepEqual(alloc.holdsAfter, ['&xfs_nondir_ilock_class']);
  // The model span points at the step's own line in the model text.
  const lines = f.text.split('\n');
  for (const s of r.steps) {
    const line = lines[s.modelSpan.line - 1];
    if (s.location) assert.ok(line.includes(`@${s.location.file}:${s.location.line}`), `step ${s.index}: ${line}`);
  }
  const blocked = r.steps[r.steps.length - 1];
  assert.equal(blocked.blocked, true);
  assert.equal(lines[blocked.modelSpan.line - 1].trim().startsWith('lock &xfs_nondir_ilock_class @fs/xfs/xfs_icache.c:1035'), true);
  assert.deepEqual(r.cycle, [{ thread: 'syz-executor', waitsFor: '&xfs_nondir_ilock_class', heldBy: 'syz-executor' }]);
  assert.match(r.lockdep, /WARNING: possible circular locking dependency detected/);
  assert.deepEqual(r.warnings, []);
});

test('a broken model is not run: a clear message and every problem', () => {
  const o = simulateText('mutex a\nthread t {\n  lok a @x.c:1\n  lock b\n}\n', { name: 'broken.rlsim' });
  assert.equal(o.ok, false);
  if (o.ok) return;
  assert.equal(o.message, "broken.rlsim has 2 errors: line 3, column 3: unknown step 'lok'; expected one of: lock, rlock, trylock, tryrlock, unlock, wait, signal, start, stop, commit, freeze, unfreeze, io, enter, exit, alloc, reclaim, fault, nofs_save, nofs_restore, noio_save, noio_restore, noreclaim_save, noreclaim_restore (and 1 more error)");
  assert.deepEqual(o.problems.map((p) => [p.line, p.column, p.severity]), [[3, 3, 'error'], [4, 8, 'error']]);
  assert.match(o.problems[1].message, /'b' is not declared/);
});

test('a model without threads, and an empty text, are errors; warnings do not stop a run', () => {
  for (const text of ['', 'mutex a\n']) {
    const o = simulateText(text, {});
    assert.equal(o.ok, false);
    if (!o.ok) assert.equal(o.message, 'the model has 1 error: line 1, column 1: the model declares no thread (thread NAME { ... })');
  }
  const r = run('mutex a\nthread t {\n  unlock a @x.c:3\n}\n');
  assert.equal(r.verdict, 'no-deadlock');
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0].severity, 'warning');
});

test('the state limit is a verdict of its own', () => {
  const o = simulateText(fixture('three-thread-chain-via-reclaim.rlsim').text, { maxStates: 2 });
  assert.ok(o.ok);
  if (!o.ok) return;
  assert.equal(o.report.verdict, 'limit');
  assert.match(o.report.summary, /^no verdict: state limit reached after \d+ states$/);
});

test('summaries and lenses', () => {
  assert.equal(verdictSummary({ verdict: 'deadlock', length: 1, statesExplored: 3 }), 'deadlock in 1 step');
  assert.equal(verdictSummary({ verdict: 'no-deadlock', length: 0, statesExplored: 1 }), 'no deadlock: 1 state');
  assert.deepEqual(modelLenses(undefined), [{ line: 1, title: '▶ Run model', kind: 'run' }]);
  assert.deepEqual(modelLenses('deadlock in 5 steps').map((l) => l.title), ['▶ Run model', 'deadlock in 5 steps']);
});

test('source files resolve against the model folder, then the root, and never outside them', () => {
  const files = new Set(['/ws/models/local.c', '/ws/fs/super.c', '/etc/passwd', '/ws/models/fs/super.c']);
  const isFile = (p: string) => files.has(p);
  const bases = ['/ws/models', '/ws'];
  assert.equal(resolveSourceFile('local.c', bases, isFile), path.resolve('/ws/models/local.c'));
  assert.equal(resolveSourceFile('fs/super.c', bases, isFile), path.resolve('/ws/models/fs/super.c'), 'the model folder wins');
  assert.equal(resolveSourceFile('fs/super.c', ['/ws'], isFile), path.resolve('/ws/fs/super.c'));
  assert.equal(resolveSourceFile('../../etc/passwd', bases, isFile), undefined);
  assert.equal(resolveSourceFile('/etc/passwd', bases, isFile), undefined);
  assert.equal(resolveSourceFile('/ws/fs/super.c', bases, isFile), path.resolve('/ws/fs/super.c'), 'an absolute path inside the root');
  assert.equal(resolveSourceFile('missing.c', bases, isFile), undefined);
  assert.equal(resolveSourceFile('.', bases, () => true), undefined, 'the folder itself is not a source file');
});

test('hover and go-to-source on a model', () => {
  const text = 'mutex &a @x/a.c:1\nthread t {\n  lock &a @fs/super.c:193 note "super_trylock_shared"\n  unlock &a\n}\n';
  const h = modelHover(text, 3, 4, (loc) => (loc.file === 'fs/super.c' ? 'file:///ws/fs/super.c#L193' : undefined))!;
  assert.match(h.markdown, /\*\*lock\*\* `&a`/);
  assert.match(h.markdown, /source: `fs\/super\.c:193`/);
  assert.match(h.markdown, /super_trylock_shared/);
  assert.ok(h.markdown.endsWith('[Open fs/super.c:193](file:///ws/fs/super.c#L193)'), h.markdown);
  assert.deepEqual(h.span, { line: 3, column: 3, endLine: 3, endColumn: 54 });
  assert.ok(!modelHover(text, 4, 4, () => 'x')!.markdown.includes('[Open'), 'no location, no link');
  assert.equal(modelHover(text, 6, 1, () => undefined), undefined);

  const resolve = (f: string) => (f === 'fs/super.c' ? '/ws/fs/super.c' : undefined);
  assert.deepEqual(modelDefinition(text, 3, 4, resolve), { kind: 'source', file: '/ws/fs/super.c', line: 193, column: undefined, span: h.span });
  assert.equal(modelDefinition(text, 1, 3, resolve), undefined, 'x/a.c does not exist');
  const operand = modelDefinition(text, 3, 9, resolve);
  assert.deepEqual(operand, { kind: 'model', target: { line: 1, column: 7, endLine: 1, endColumn: 9 }, span: { line: 3, column: 8, endLine: 3, endColumn: 10 } });
});
