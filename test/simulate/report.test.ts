import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseModel } from '../../server/src/simulate/parse';
import { simulateModel, type Simulation } from '../../server/src/simulate/trace';
import { formatLocation, renderJson, renderText, toJson } from '../../server/src/simulate/report';
import { escapeXml, renderSvg } from '../../server/src/simulate/svg';
import { loadFixtures } from './fixtures';

const fixtures = loadFixtures();
const sim = (name: string): Simulation => simulateModel(parseModel(fixtures.find((f) => f.name === name)!.text).model);

test('lockdep-format text for the xfs ILOCK / super_cache_scan deadlock', () => {
  const text = renderText(sim('xfs-ilock-super-cache-scan.rlsim'));
  const lines = text.split('\n');
  assert.equal(lines[0], '======================================================');
  assert.equal(lines[1], 'WARNING: possible circular locking dependency detected');
  assert.match(text, /^syz-executor is trying to acquire lock:\n \(&xfs_nondir_ilock_class\), at: lock\(&xfs_nondir_ilock_class\) fs\/xfs\/xfs_icache\.c:1035 \[in super_cache_scan\]$/m);
  assert.match(text, /^but task is already holding lock:\n \(&xfs_nondir_ilock_class\), at: lock\(&xfs_nondir_ilock_class\) fs\/xfs\/xfs_iomap\.c:1793$/m);
  assert.match(text, /^the existing dependency chain \(in reverse order\) is:$/m);
  assert.match(text, /^-> #1 \(fs_reclaim\):\n {7}alloc\(GFP_KERNEL\) → direct reclaim → super_cache_scan \(shrinker, gate __GFP_FS\) {2}fs\/iomap\/buffered-io\.c:1557/m);
  assert.match(text, /^-> #0 \(&xfs_nondir_ilock_class\):\n {7}lock\(&xfs_nondir_ilock_class\) {2}fs\/xfs\/xfs_icache\.c:1035/m);
  assert.match(text, /^Chain exists of:\n {2}&xfs_nondir_ilock_class --> fs_reclaim --> &xfs_nondir_ilock_class$/m);
  // The scenario table: every link with its file:line, ending in *** DEADLOCK ***.
  const table = text.slice(text.indexOf(' Possible unsafe locking scenario:'), text.indexOf(' *** DEADLOCK ***') + 17);
  assert.deepEqual(table.split('\n').filter((l) => /\(/.test(l) && !/scenario/.test(l)).map((l) => l.trim().replace(/\s+/g, ' ')), [
    'lock(&xfs_nondir_ilock_class); fs/xfs/xfs_iomap.c:1793',
    'lock(fs_reclaim); fs/iomap/buffered-io.c:1557',
    'lock(&xfs_nondir_ilock_class); fs/xfs/xfs_icache.c:1035',
  ]);
  assert.match(text, /^2 locks held by syz-executor\/0:\n #0: \(&xfs_nondir_ilock_class\), at: lock\(&xfs_nondir_ilock_class\) fs\/xfs\/xfs_iomap\.c:1793\n #1: \(&sb->s_umount\) read, at: tryrlock\(&sb->s_umount\) fs\/super\.c:196|200/m);
  assert.match(text, /^shortest trace \(5 steps; \d+ states explored \(partial-order reduced\)\):$/m);
});

test('two-thread table has one column per thread in lockdep order', () => {
  const text = renderText(sim('abba-two-mutexes.rlsim'));
  const start = text.indexOf(' Possible unsafe locking scenario:');
  const table = text.slice(start, text.indexOf('*** DEADLOCK ***', start)).split('\n');
  const header = table.find((l) => /t1/.test(l))!;
  assert.match(header, /^ {7}t1 +t2$/);
  const rows = table.filter((l) => /lock\(/.test(l));
  const col2 = header.indexOf('t2');
  assert.deepEqual(rows.map((r) => [r.trim().split(/\s+/)[0], r.indexOf('lock(') >= col2 - 5 ? 't2' : 't1']), [
    ['lock(&a->lock);', 't1'],
    ['lock(&b->lock);', 't2'],
    ['lock(&b->lock);', 't1'],
    ['lock(&a->lock);', 't2'],
  ]);
});

for (const f of fixtures.filter((x) => x.deadlock)) {
  test(`report names every link with its file:line: ${f.name}`, () => {
    const s = simulateModel(parseModel(f.text).model);
    const text = renderText(s);
    if (s.kind === 'circular' || s.kind === 'recursive') {
      assert.ok(s.links.length >= 1);
      assert.match(text, /Possible unsafe locking scenario:[\s\S]* \*\*\* DEADLOCK \*\*\*/);
      assert.ok(text.includes('Chain exists of:\n  ' + s.chain.join(' --> ')));
      for (const l of s.links) {
        assert.ok(l.location, `link ${l.from} --> ${l.to} has a source location`);
        assert.ok(text.includes(`(${l.to}):`), `chain entry for ${l.to}`);
        assert.ok(text.includes(formatLocation(l.location)), `link location ${formatLocation(l.location)}`);
        if (l.fromSite?.location) assert.ok(text.includes(formatLocation(l.fromSite.location)));
      }
      assert.equal(s.chain[0], s.chain[s.chain.length - 1], 'the chain closes');
    }
    for (const st of s.steps) if (st.location) assert.ok(text.includes(formatLocation(st.location)), `trace step ${st.index}`);
  });
}

test('titles for the other deadlock kinds', () => {
  assert.match(renderText(sim('recursive-mutex.rlsim')), /^WARNING: possible recursive locking detected$/m);
  const atomic = renderText(sim('sleep-in-atomic-spinlock.rlsim'));
  assert.match(atomic, /^BUG: sleeping function called from invalid context$/m);
  assert.match(atomic, /alloc\(GFP_KERNEL\) may sleep fs\/example\/inode\.c:505/);
  assert.match(atomic, /while holding spinlock \(&inode->i_lock\), taken at fs\/example\/inode\.c:500/);
  const stuck = renderText(sim('completion-never-signalled.rlsim'));
  assert.match(stuck, /^INFO: task blocked forever/m);
  assert.match(stuck, /waiter blocked at wait\(dev->ready\) drivers\/example\/core\.c:10/);
  assert.match(stuck, /trylock\(&dev->lock\) failed \(&dev->lock is busy\): signaller bails out/);
});

test('no deadlock: N states explored', () => {
  const s = sim('xfs-ilock-gfp-nofs-fixed.rlsim');
  assert.equal(renderText(s), `no deadlock: ${s.result.statesExplored} states explored (model "xfs ILOCK vs super_cache_scan, GFP_NOFS")\n`);
});

test('JSON report shape', () => {
  const j = JSON.parse(renderJson(sim('nfs-loopback-commit.rlsim')));
  assert.equal(j.verdict, 'deadlock');
  assert.equal(j.kind, 'circular');
  assert.equal(typeof j.statesExplored, 'number');
  assert.deepEqual(j.threads, [{ name: 'writer', role: 'task' }, { name: 'nfsd', role: 'nfsd' }]);
  assert.equal(j.length, 3);
  assert.deepEqual(j.steps.map((s: { index: number; thread: string; action: string; callback?: string; blocked?: boolean }) => [s.index, s.thread, s.action, s.callback ?? null, s.blocked ?? false]), [
    [1, 'writer', 'lock', null, false],
    [2, 'writer', 'alloc', 'nfs_release_folio', false],
    [3, 'nfsd', 'lock', null, false],
    [4, 'writer', 'wait', null, true],
    [5, 'nfsd', 'lock', null, true],
  ]);
  assert.deepEqual(j.steps[0].location, { file: 'fs/nfs/file.c', line: 650 });
  assert.deepEqual(j.steps[0].holdsAfter, ['&inode->i_rwsem']);
  assert.equal(j.steps[1].mask, 'GFP_KERNEL');
  assert.equal(j.steps[3].resource, 'nfs_commit');
  assert.deepEqual(j.steps[3].context, ['nfs_release_folio']);
  assert.equal(j.steps[2].phase, 'queued');
  for (const s of j.steps) {
    assert.ok(Array.isArray(s.holdsAfter));
    for (const k of Object.keys(s)) assert.ok(['index', 'thread', 'threadIndex', 'action', 'resource', 'mask', 'callback', 'context', 'location', 'note', 'label', 'detail', 'holdsAfter', 'blocked', 'failed', 'phase'].includes(k), k);
  }
  assert.deepEqual(j.cycle, [
    { thread: 'writer', waitsFor: 'nfs_commit', heldBy: 'nfsd' },
    { thread: 'nfsd', waitsFor: '&inode->i_rwsem', heldBy: 'writer' },
  ]);
  assert.deepEqual(j.chain, ['&inode->i_rwsem', 'fs_reclaim', 'nfs_commit', '&inode->i_rwsem']);
  const none = toJson(sim('nfs-loopback-nofs-fixed.rlsim'));
  assert.equal(none.verdict, 'no-deadlock');
  assert.deepEqual([none.steps, none.cycle], [[], []]);
});

test('SVG swimlane escapes every string', () => {
  const evil = '<img onerror=alert(1)>';
  const text = `model "a & b <script>"
mutex "${evil}"
reclaim "cb<x>" kind shrinker {
  lock "${evil}" @fs/<x>&y.c:1
}
thread "t&<1>" {
  lock "${evil}" @fs/a.c:2 note "<b>'quote'</b>"
  alloc GFP_KERNEL @fs/a.c:3
}
`;
  const { model, problems } = parseModel(text);
  assert.deepEqual(problems, []);
  assert.equal(model.resources[0].name, evil);
  const s = simulateModel(model);
  assert.equal(s.verdict, 'deadlock');
  const svg = renderSvg(s);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.doesNotMatch(svg, /<img|<script|<b>|<x>/);
  assert.ok(svg.includes('&lt;img onerror=alert(1)&gt;'));
  assert.ok(svg.includes('t&amp;&lt;1&gt;'));
  assert.ok(svg.includes('a &amp; b &lt;script&gt;'));
  assert.ok(svg.includes('fs/&lt;x&gt;&amp;y.c:1'));
  assert.ok(svg.includes('&lt;b&gt;&#39;quote&#39;&lt;/b&gt;'));
  // Every '&' in text content starts an entity; every '<' starts an SVG element we emit.
  assert.doesNotMatch(svg, /&(?!amp;|lt;|gt;|quot;|#39;)/);
  for (const m of svg.matchAll(/<\/?([a-zA-Z]+)/g)) assert.ok(['svg', 'defs', 'marker', 'path', 'rect', 'text', 'g', 'line', 'title'].includes(m[1]), m[1]);
  assert.equal(escapeXml(`<&>"'`), '&lt;&amp;&gt;&quot;&#39;');
});

test('SVG has one lane per thread and one box per step', () => {
  const s = sim('three-thread-chain.rlsim');
  const svg = renderSvg(s);
  assert.equal((svg.match(/<g class="lane">/g) ?? []).length, 3);
  assert.equal((svg.match(/<g class="step/g) ?? []).length, s.steps.length);
  assert.equal((svg.match(/<g class="step blocked">/g) ?? []).length, 3);
  assert.equal((svg.match(/marker-end="url\(#arrow\)"/g) ?? []).length, 3);
});
