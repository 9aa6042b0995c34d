import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseModel } from '../../server/src/simulate/parse';
import { definitionAt, hoverAt } from '../../server/src/simulate/query';

const TEXT = `rwsem &ilock @fs/xfs/xfs_inode.c:100
reclaim super_cache_scan kind shrinker gate __GFP_FS @fs/super.c:193 {
  lock &ilock @fs/xfs/xfs_icache.c:1035
}
reclaim mn kind mmu_notifier {
}
thread t {
  lock &ilock @fs/xfs/xfs_iomap.c:1793 note "xfs_ilock_for_iomap"
  alloc GFP_NOFS @fs/iomap/buffered-io.c:1557
  unlock &ilock
}
`;
const { model } = parseModel(TEXT);

test('hover on an alloc step explains the mask and the callbacks it admits', () => {
  const h = hoverAt(model, 9, 4)!;
  assert.ok(h);
  assert.match(h.contents, /\*\*alloc\*\* `GFP_NOFS`/);
  assert.match(h.contents, /0xc40 \(__GFP_DIRECT_RECLAIM\|__GFP_KSWAPD_RECLAIM\|__GFP_IO\)/);
  assert.match(h.contents, /may enter \(before memalloc scopes narrow the mask\): `mn`; not admitted: `super_cache_scan`/);
  assert.match(h.contents, /source: `fs\/iomap\/buffered-io\.c:1557`/);
  assert.deepEqual(h.span, { line: 9, column: 3, endLine: 9, endColumn: 46 });
});

test('hover on a lock step and on declarations', () => {
  assert.match(hoverAt(model, 8, 3)!.contents, /xfs_ilock_for_iomap/);
  assert.match(hoverAt(model, 1, 8)!.contents, /\*\*rwsem\*\* `&ilock`/);
  assert.match(hoverAt(model, 2, 10)!.contents, /shrinker; runs only when the effective mask contains `__GFP_FS`/);
  assert.equal(hoverAt(model, 12, 1), undefined);
});

test('go-to-source: the step\'s @file:line, or the declaration for an operand', () => {
  assert.deepEqual(definitionAt(model, 8, 3), { kind: 'source', location: { file: 'fs/xfs/xfs_iomap.c', line: 1793 }, span: model.threads[0].steps[0].span });
  const onOperand = definitionAt(model, 8, 9);
  assert.equal(onOperand?.kind, 'model');
  assert.deepEqual(onOperand?.kind === 'model' ? onOperand.target : null, { line: 1, column: 7, endLine: 1, endColumn: 13 });
  assert.equal(definitionAt(model, 10, 3), undefined, 'no location on that step');
  assert.deepEqual(definitionAt(model, 2, 10), { kind: 'source', location: { file: 'fs/super.c', line: 193 }, span: model.reclaims[0].nameSpan });
});
