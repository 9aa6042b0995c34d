// The knowledge base (server/src/model/kb): built-in data validity, kernel facts the analysis relies on,
// the per-table index, and override handling (problems instead of exceptions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUILTIN_FILES, KERNEL_TABLES, buildKnowledgeBase, loadKnowledgeBase, stripJsonComments,
} from '../../server/src/model/kb/index';
import { maskSourceProblem } from '../../server/src/model/kb/schema';
import type { AllocatorEntry, KernelTable } from '../../server/src/model/kb/types';

const { kb, index, problems } = loadKnowledgeBase();
const v61 = index.forTable('6.1');
const v612 = index.forTable('6.12');
const appliesTo = (e: { versions?: KernelTable[] }, t: KernelTable) => !e.versions || e.versions.includes(t);
const CITATION = /^[\w./-]+\.(h|c)@(6\.1|6\.12):\d+( |$)/;

function allEntries(): { file: string; name: string; source: string }[] {
  const out: { file: string; name: string; source: string }[] = [];
  for (const t of KERNEL_TABLES) {
    for (const b of kb.gfp[t].bits) out.push({ file: `gfp-${t}`, name: b.name, source: b.source });
    for (const m of kb.gfp[t].masks) out.push({ file: `gfp-${t}`, name: m.name, source: m.source });
  }
  const lists = { allocators: kb.allocators, scopes: kb.scopes, locks: kb.locks, guards: kb.guards, uaccess: kb.uaccess, sleepers: kb.sleepers, transactions: kb.transactions };
  for (const [file, list] of Object.entries(lists)) for (const e of list) out.push({ file, name: e.name, source: e.source });
  for (const f of kb.lockFlags) out.push({ file: 'lockFlags', name: `${f.api} ${f.flag}`, source: f.source });
  return out;
}

test('the built-in knowledge base loads without problems', () => {
  assert.deepEqual(problems, []);
  assert.ok(kb.allocators.length >= 80, `${kb.allocators.length} allocators`);
  assert.ok(kb.locks.length >= 100);
  assert.ok(kb.guards.length >= 20);
});

test('every entry cites a kernel file, a tree and the line it was verified at', () => {
  const entries = allEntries();
  assert.ok(entries.length > 700);
  for (const e of entries) assert.match(e.source, CITATION, `${e.file}: ${e.name}`);
  // a version-restricted entry cites the tree it belongs to
  for (const a of kb.allocators) if (a.versions?.length === 1) assert.ok(a.source.includes(`@${a.versions[0]}:`), a.name);
});

test('every allocator has exactly one mask source', () => {
  for (const a of kb.allocators) {
    const sources = (a.optional ? 1 : Number(a.gfpArg !== undefined) + Number(a.implicit !== undefined)) + Number(a.mapping?.mode === 'mask');
    assert.equal(sources, 1, a.name);
    if (a.optional) assert.ok(a.gfpArg !== undefined && a.implicit !== undefined, a.name);
    assert.equal(maskSourceProblem(a), undefined, a.name);
  }
  assert.match(maskSourceProblem({ gfpArg: 1, implicit: 'GFP_KERNEL' }) ?? '', /more than one/);
  assert.match(maskSourceProblem({}) ?? '', /no mask source/);
});

test('gfp argument positions of the common allocators', () => {
  const pos: [string, number][] = [
    ['kmalloc', 1], ['kzalloc', 1], ['kcalloc', 2], ['kmalloc_array', 2], ['krealloc', 2], ['kmem_cache_alloc', 1],
    ['kmem_cache_alloc_lru', 2], ['kvmalloc', 1], ['kasprintf', 0], ['kstrdup', 1], ['kmemdup', 2], ['alloc_pages', 0],
    ['alloc_pages_node', 1], ['folio_alloc', 0], ['__get_free_pages', 0], ['alloc_pages_exact', 1], ['__vmalloc', 1],
    ['__vmalloc_node_range', 4], ['mempool_alloc', 1], ['bio_alloc', 3], ['xa_store', 3], ['xa_alloc', 4],
    ['xa_alloc_cyclic', 5], ['idr_alloc', 4], ['ida_alloc_range', 3], ['alloc_skb', 1], ['pskb_expand_head', 3],
    ['dma_alloc_coherent', 3], ['dma_pool_alloc', 1], ['find_or_create_page', 2], ['__filemap_get_folio', 3],
    ['filemap_add_folio', 3], ['radix_tree_preload', 0], ['alloc_inode_sb', 2],
  ];
  for (const [name, idx] of pos) {
    assert.equal(v612.allocator(name)?.gfpArg, idx, `6.12 ${name}`);
    assert.equal(v61.allocator(name)?.gfpArg, idx, `6.1 ${name}`);
  }
  assert.deepEqual(v612.allocator('kzalloc')?.adds, ['__GFP_ZERO']);
  assert.deepEqual(v612.allocator('kcalloc')?.adds, ['__GFP_ZERO']);
});

test('kvrealloc changed signature between the tables', () => {
  assert.equal(v61.allocator('kvrealloc')?.gfpArg, 3);
  assert.equal(v612.allocator('kvrealloc')?.gfpArg, 2);
  assert.equal(v61.allocator('blkdev_zone_mgmt')?.gfpArg, 4);
  assert.equal(v612.allocator('blkdev_zone_mgmt')?.gfpArg, undefined);
  assert.equal(v612.allocator('blkdev_zone_mgmt')?.implicit, 'GFP_KERNEL');
});

test('_noprof names resolve to the base entry on 6.12 only', () => {
  assert.equal(v612.allocator('kmalloc_noprof')?.name, 'kmalloc');
  assert.equal(v612.allocator('kvrealloc_noprof')?.gfpArg, 2);
  assert.equal(v612.allocator('alloc_pages_noprof')?.name, 'alloc_pages');
  assert.equal(index.allocator('kmalloc_noprof')?.name, 'kmalloc');
  assert.equal(v61.allocator('kmalloc_noprof'), undefined);
  assert.equal(v612.allocator('kasprintf_noprof'), undefined, 'kasprintf has no _noprof variant');
  assert.equal(v612.allocator('kasprintf')?.noprof, undefined);
  assert.equal(v612.allocator('get_free_pages_noprof')?.gfpArg, 0, '__get_free_pages wraps a differently named function');
});

test('the 6.12 kmalloc_obj family takes an optional gfp that defaults to GFP_KERNEL', () => {
  const expect: [string, number, boolean][] = [
    ['kmalloc_obj', 1, false], ['kmalloc_objs', 2, false], ['kmalloc_flex', 3, false], ['kzalloc_obj', 1, true],
    ['kvmalloc_objs', 2, false], ['kvzalloc_flex', 3, true],
  ];
  for (const [name, idx, zero] of expect) {
    const a = v612.allocator(name);
    assert.ok(a, name);
    assert.equal(a.gfpArg, idx, name);
    assert.equal(a.optional, true, name);
    assert.equal(a.implicit, 'GFP_KERNEL', name);
    assert.equal(a.adds?.includes('__GFP_ZERO') ?? false, zero, name);
    assert.equal(v61.allocator(name), undefined, `${name} is not in 6.1`);
  }
  assert.equal(v612.allocator('kvmalloc_obj')?.vmallocFallback, true);
  assert.equal(v612.allocator('kmalloc_obj')?.vmallocFallback, undefined);
});

test('implicit-mask allocators: vmalloc, memdup_user, skb helpers, XFS kmem_*', () => {
  const vm = v612.allocator('vmalloc')!;
  assert.equal(vm.implicit, 'GFP_KERNEL');
  assert.equal(vm.mayAlwaysSleep, true);
  assert.equal(v612.allocator('memdup_user')?.implicit, 'GFP_USER');
  assert.equal(v612.allocator('memdup_user')?.mayFault, true);
  for (const n of ['dev_alloc_skb', 'netdev_alloc_skb', 'napi_alloc_skb']) assert.equal(v612.allocator(n)?.implicit, 'GFP_ATOMIC', n);
  for (const n of ['kthread_create', 'alloc_workqueue', 'kmem_cache_create', 'd_alloc', 'new_inode', 'iget_locked', 'vmap']) {
    assert.equal(v612.allocator(n)?.implicit, 'GFP_KERNEL', n);
  }
  assert.equal(v61.allocator('kmem_alloc')?.gfpArg, 1);
  assert.match(v61.allocator('kmem_alloc')?.note ?? '', /KM_NOFS clears __GFP_FS/);
  assert.equal(v612.allocator('kmem_alloc'), undefined);
  assert.equal(v612.allocator('page_cache_alloc'), undefined);
  assert.deepEqual(v61.allocator('page_cache_alloc')?.mapping, { arg: 0, mode: 'mask' });
  assert.deepEqual(v612.allocator('filemap_grab_folio')?.mapping, { arg: 0, mode: 'mask' });
  for (const n of ['kvmalloc', 'kvcalloc', 'kvrealloc', 'vmemdup_user']) assert.equal(v612.allocator(n)?.vmallocFallback, true, n);
  assert.equal(v612.allocator('kmalloc')?.vmallocFallback, undefined);
});

test('every gfp name used by an allocator resolves in its tables', () => {
  for (const t of KERNEL_TABLES) {
    const gfp = index.forTable(t).gfp;
    for (const a of kb.allocators.filter((x) => appliesTo(x, t))) {
      for (const n of [...(a.implicit ? [a.implicit] : []), ...(a.adds ?? []), ...(a.clears ?? [])]) {
        assert.notEqual(gfp.lookup(n), undefined, `${t} ${a.name}: ${n}`);
      }
    }
  }
});

test('scope save/restore pairs exist for every family, memalloc_flags_* on 6.12 only', () => {
  for (const t of KERNEL_TABLES) {
    const scopes = kb.scopes.filter((s) => appliesTo(s, t));
    const families = new Set(scopes.map((s) => s.family));
    for (const f of families) {
      assert.ok(scopes.some((s) => s.family === f && s.op === 'save'), `${t} ${f} save`);
      assert.ok(scopes.some((s) => s.family === f && s.op === 'restore' && s.cookieArg === 0), `${t} ${f} restore`);
    }
    for (const f of ['nofs', 'noio', 'noreclaim', 'pin']) assert.ok(families.has(f), `${t} ${f}`);
  }
  assert.deepEqual(v612.scope('memalloc_nofs_save')?.flags, ['PF_MEMALLOC_NOFS']);
  assert.deepEqual(v612.scope('memalloc_noio_save')?.flags, ['PF_MEMALLOC_NOIO']);
  assert.deepEqual(v612.scope('memalloc_noreclaim_save')?.flags, ['PF_MEMALLOC']);
  assert.deepEqual(v612.scope('memalloc_pin_save')?.flags, ['PF_MEMALLOC_PIN']);
  assert.equal(v612.scope('memalloc_flags_save')?.flags, 'arg');
  assert.equal(v61.scope('memalloc_flags_save'), undefined);
  assert.equal(v61.scope('memalloc_flags_restore'), undefined);
});

test('every guard names existing lock APIs of matching kind', () => {
  for (const g of kb.guards) {
    const lock = v612.lock(g.lock);
    const unlock = v612.lock(g.unlock);
    assert.ok(lock, `${g.name}: ${g.lock}`);
    assert.ok(unlock, `${g.name}: ${g.unlock}`);
    assert.ok(lock.op === 'acquire' || lock.op === 'trylock', `${g.name}: ${g.lock} is ${lock.op}`);
    assert.equal(unlock.op, 'release', g.name);
    assert.equal(lock.kind, unlock.kind, g.name);
    assert.equal(lock.classTemplate, unlock.classTemplate, g.name);
  }
  const byName = new Map(kb.guards.map((g) => [g.name, g]));
  assert.deepEqual([byName.get('spinlock_irqsave')?.lock, byName.get('spinlock_irqsave')?.unlock], ['spin_lock_irqsave', 'spin_unlock_irqrestore']);
  assert.equal(byName.get('mutex')?.lock, 'mutex_lock');
  assert.equal(byName.get('mutex_try')?.lock, 'mutex_trylock');
  assert.equal(byName.get('rcu')?.unlock, 'rcu_read_unlock');
  assert.equal(byName.get('rwsem_read')?.lock, 'down_read');
  assert.equal(byName.get('irqsave')?.lock, 'local_irq_save');
});

test('lock facts: atomicity, sleeping, classes, read side', () => {
  const L = (n: string) => {
    const l = v612.lock(n);
    assert.ok(l, n);
    return l;
  };
  for (const n of ['spin_lock', 'raw_spin_lock_irqsave', 'read_lock_bh', 'write_lock', 'rcu_read_lock', 'preempt_disable', 'get_cpu', 'local_irq_save', 'local_bh_disable', 'idr_preload', 'radix_tree_preload', 'xa_lock', 'kmap_atomic', 'write_seqlock']) {
    assert.equal(L(n).atomic, true, n);
  }
  for (const n of ['mutex_lock', 'down_write', 'down_read', 'percpu_down_read', 'inode_lock', 'folio_lock', 'lock_page', 'mmap_read_lock', 'sb_start_write', 'sb_start_pagefault', 'sb_start_intwrite', 'xfs_ilock', 'blk_mq_freeze_queue', 'btrfs_tree_lock']) {
    assert.equal(L(n).atomic, false, n);
    assert.equal(L(n).sleeps, true, n);
  }
  assert.equal(L('spin_lock_irqsave').irqsOff, true);
  assert.equal(L('spin_lock_bh').bhOff, true);
  assert.equal(L('down_read').read, true);
  assert.equal(L('down_write').read, undefined);
  assert.equal(L('mutex_trylock').op, 'trylock');
  assert.equal(L('lockdep_assert_held').op, 'assert-held');
  assert.equal(L('inode_lock').classTemplate, '&{0}->i_rwsem');
  assert.equal(L('inode_lock_shared').read, true);
  assert.equal(L('filemap_invalidate_lock_shared').classTemplate, '&{0}->invalidate_lock');
  assert.equal(L('i_mmap_lock_read').classTemplate, '&{0}->i_mmap_rwsem');
  assert.equal(L('mmap_write_lock').classTemplate, '&{0}->mmap_lock');
  assert.equal(L('spin_lock').classTemplate, undefined, 'the argument is the lock itself');
  assert.equal(L('mutex_lock').classTemplate, undefined);
  assert.deepEqual([L('fs_reclaim_acquire').kind, L('fs_reclaim_acquire').classTemplate, L('fs_reclaim_acquire').lockArg], ['lockdep_map', 'fs_reclaim', null]);
  assert.equal(L('dma_fence_begin_signalling').kind, 'fence');
  assert.equal(L('pagefault_disable').kind, 'pagefault');
  assert.equal(L('rcu_read_lock').lockArg, null);
  assert.equal(L('xfs_ilock').flagsArg, 1);
  assert.equal(v61.lock('inode_lock_killable'), undefined, 'added after 6.1');
});

test('every acquire has a release of the same kind, and context-only APIs pair by pseudo-class', () => {
  for (const t of KERNEL_TABLES) {
    const locks = kb.locks.filter((l) => appliesTo(l, t));
    for (const a of locks.filter((l) => l.op === 'acquire' || l.op === 'trylock')) {
      assert.ok(locks.some((r) => r.op === 'release' && r.kind === a.kind), `${t} ${a.name}`);
      if (a.lockArg === null) assert.ok(locks.some((r) => r.op === 'release' && r.classTemplate === a.classTemplate), `${t} ${a.name} ${a.classTemplate}`);
    }
  }
});

test('XFS lock flags map to the VFS lock classes the other wrappers produce', () => {
  const flags = v612.lockFlags('xfs_ilock');
  assert.deepEqual(flags.map((f) => f.flag).sort(), ['XFS_ILOCK_EXCL', 'XFS_ILOCK_SHARED', 'XFS_IOLOCK_EXCL', 'XFS_IOLOCK_SHARED', 'XFS_MMAPLOCK_EXCL', 'XFS_MMAPLOCK_SHARED']);
  const cls = (flag: string) => flags.find((f) => f.flag === flag)!;
  // inode_lock(inode) renders "&{0}->i_rwsem" with {0} = inode, filemap_invalidate_lock(mapping) with {0} = address_space
  assert.equal(cls('XFS_IOLOCK_EXCL').classTemplate, v612.lock('inode_lock')!.classTemplate!.replace('{0}', 'inode'));
  assert.equal(cls('XFS_MMAPLOCK_SHARED').classTemplate, v612.lock('filemap_invalidate_lock')!.classTemplate!.replace('{0}', 'address_space'));
  assert.equal(cls('XFS_ILOCK_EXCL').classTemplate, '&{0}->i_lock');
  assert.equal(cls('XFS_ILOCK_SHARED').read, true);
  assert.equal(cls('XFS_ILOCK_EXCL').read, false);
  assert.equal(v61.lockFlags('xfs_iunlock').length, 6);
  assert.deepEqual(v612.lockFlags('spin_lock'), []);
  for (const f of kb.lockFlags) assert.notEqual(v612.lock(f.api)?.flagsArg, undefined, f.api);
});

test('uaccess: *_nofault and *_inatomic do not fault, the copy/GUP family does', () => {
  for (const u of kb.uaccess) {
    if (/_nofault$|_inatomic|_atomic$|_fast_only$/.test(u.name)) assert.equal(u.mayFault, false, u.name);
    else assert.equal(u.mayFault, true, u.name);
  }
  for (const n of ['copy_to_user', 'copy_from_user', 'get_user', 'put_user', 'clear_user', 'strncpy_from_user', 'fault_in_iov_iter_readable', 'get_user_pages', 'pin_user_pages', 'iov_iter_get_pages2', 'fiemap_fill_next_extent', 'put_cmsg']) {
    assert.ok(v612.uaccess(n), n);
  }
  assert.equal(v612.uaccess('get_user_pages')?.kind, 'gup');
  assert.equal(v612.uaccess('copy_from_user_nofault')?.kind, 'nofault');
});

test('sleepers include the waits and reclaim-relevant sleeping calls', () => {
  for (const n of ['msleep', 'usleep_range', 'ssleep', 'schedule', 'schedule_timeout', 'wait_for_completion', 'wait_event', 'synchronize_rcu', 'flush_work', 'cancel_work_sync', 'might_sleep', 'cond_resched', 'folio_wait_writeback', 'wait_on_bit', 'kthread_stop']) {
    assert.ok(v612.sleeper(n), n);
    assert.ok(v61.sleeper(n), n);
  }
  assert.equal(v612.sleeper('spin_lock'), undefined);
});

test('transactions: jbd2/XFS open NOFS scopes, btrfs does not, every open has a close', () => {
  assert.equal(v612.transaction('ext4_journal_start')?.scope, 'PF_MEMALLOC_NOFS');
  assert.equal(v612.transaction('ext4_journal_start')?.handleArg, 'return');
  assert.equal(v612.transaction('ext4_journal_stop')?.handleArg, 0);
  assert.equal(v612.transaction('xfs_trans_alloc')?.scope, 'PF_MEMALLOC_NOFS');
  assert.equal(v612.transaction('xfs_trans_alloc')?.handleArg, 5);
  assert.equal(v612.transaction('xfs_trans_commit')?.op, 'close');
  for (const n of ['btrfs_start_transaction', 'btrfs_join_transaction', 'btrfs_end_transaction', 'btrfs_commit_transaction']) {
    assert.equal(v612.transaction(n)?.scope, 'none', n);
  }
  assert.equal(v612.transaction('fsnotify_group_lock')?.scope, 'PF_MEMALLOC_NOFS');
  assert.equal(v61.transaction('fsnotify_group_lock')?.scope, 'none', '6.1 only for FSNOTIFY_GROUP_NOFS groups');
  assert.equal(v612.transaction('ext4_writepages_down_read')?.scope, 'PF_MEMALLOC_NOFS');
  for (const t of KERNEL_TABLES) {
    const txs = kb.transactions.filter((x) => appliesTo(x, t));
    for (const o of txs.filter((x) => x.op === 'open')) {
      assert.ok(txs.some((c) => c.op === 'close' && c.subsystem === o.subsystem && c.resource === o.resource && c.scope === o.scope), `${t} ${o.name}`);
    }
  }
});

test('the index without a table prefers 6.12 and falls back to 6.1', () => {
  assert.equal(index.allocator('kvrealloc')?.gfpArg, 2);
  assert.equal(index.allocator('kmem_alloc')?.versions?.[0], '6.1');
  assert.equal(index.allocator('no_such_alloc'), undefined);
  assert.equal(index.lock('spin_lock')?.kind, 'spinlock');
  assert.equal(index.lockFlags('xfs_ilock').length, 6);
});

// ---- overrides

const over = (text: string, path = '/ws/.reclaim-lens/kb.jsonc') => loadKnowledgeBase([{ path, text }]);

test('an invalid override entry is skipped with a problem naming file, key path and reason', () => {
  const r = over(`{
    // drivers of my tree
    "allocators": [
      { "name": "my_alloc", "class": "slab", "gfpArg": "two", "source": "drivers/my/my.h:10" },
      { "name": "my_zalloc", "class": "slab", "gfpArg": 1, "adds": ["__GFP_ZERO"], "source": "drivers/my/my.h:12" },
    ],
    /* a lock with a misspelled field */
    "locks": [ { "name": "my_lock", "op": "acquire", "kind": "mutex", "lockArg": 0, "atomc": false, "source": "drivers/my/my.h:20" } ]
  }`);
  assert.equal(r.problems.length, 2, r.problems.join('\n'));
  assert.match(r.problems[0], /^\/ws\/\.reclaim-lens\/kb\.jsonc: allocators\[0\] \(my_alloc\)\.gfpArg: .*Expected number.*skipped/);
  assert.match(r.problems[1], /kb\.jsonc: locks\[0\] \(my_lock\)/);
  assert.match(r.problems[1], /atomc|atomic/);
  assert.equal(r.index.allocator('my_alloc'), undefined);
  assert.equal(r.index.allocator('my_zalloc')?.gfpArg, 1);
  assert.equal(r.index.lock('my_lock'), undefined);
  assert.equal(r.kb.allocators.length, kb.allocators.length + 1);
});

test('override entries that break cross-entry rules are skipped too', () => {
  const r = over(`{
    "allocators": [
      { "name": "a1", "class": "misc", "gfpArg": 1, "implicit": "GFP_KERNEL", "source": "x.h" },
      { "name": "a2", "class": "misc", "implicit": "GFP_KERNAL", "source": "x.h" },
      { "name": "a3", "class": "misc", "gfpArg": 0, "adds": ["__GFP_ATOMIC"], "versions": ["6.12"], "source": "x.h" }
    ],
    "guards": [ { "name": "myguard", "lock": "my_lock_fn", "unlock": "mutex_unlock", "source": "x.h" } ],
    "lockFlags": [ { "api": "spin_lock", "flag": "X", "classTemplate": "x", "read": false, "source": "x.h" } ]
  }`);
  assert.equal(r.problems.length, 5, r.problems.join('\n'));
  assert.match(r.problems[0], /allocators\[0\] \(a1\): more than one mask source/);
  assert.match(r.problems[1], /allocators\[1\] \(a2\): unknown gfp name\(s\) GFP_KERNAL/);
  assert.match(r.problems[2], /allocators\[2\] \(a3\): unknown gfp name\(s\) __GFP_ATOMIC in the 6\.12 table/);
  assert.match(r.problems[3], /lockFlags\[0\].*spin_lock has no flagsArg/);
  assert.match(r.problems[4], /guards\[0\] \(myguard\): lock: no lock API named my_lock_fn/);
});

test('a bad override file yields a problem and never throws', () => {
  const bad = [
    '{ "allocators": [ ',
    '[1, 2]',
    '{ "allocators": {} }',
    '{ "gfp": [] }',
    '',
  ];
  for (const text of bad) {
    const r = over(text, 'bad.json');
    assert.ok(r.problems.length >= 1, JSON.stringify(text));
    assert.ok(r.problems.every((p) => p.startsWith('bad.json: ')), r.problems.join('\n'));
    assert.equal(r.kb.allocators.length, kb.allocators.length);
  }
  assert.match(over('{ "allocators": [ ').problems[0], /invalid JSON/);
  assert.match(over('{ "gfp": [] }').problems[0], /unknown key "gfp"/);
});

test('an override replaces the built-in entry of the same name', () => {
  const r = over('{ "allocators": [ { "name": "kmalloc", "class": "slab", "gfpArg": 1, "adds": ["__GFP_NOWARN"], "source": "my/patch.h:1" } ] }');
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.index.forTable('6.1').allocator('kmalloc')?.adds, ['__GFP_NOWARN']);
  assert.equal(r.index.forTable('6.12').allocator('kmalloc_noprof'), undefined, 'the override replaces the whole entry, noprof included');
  assert.equal(r.kb.allocators.filter((a) => a.name === 'kmalloc').length, 1);
  // a 6.12-only override keeps the built-in entry for 6.1
  const r2 = over('{ "allocators": [ { "name": "kmalloc", "class": "slab", "gfpArg": 0, "versions": ["6.12"], "source": "my/patch.h:1" } ] }');
  assert.equal(r2.index.forTable('6.12').allocator('kmalloc')?.gfpArg, 0);
  assert.equal(r2.index.forTable('6.1').allocator('kmalloc')?.gfpArg, 1);
});

test('stripJsonComments keeps strings intact and drops trailing commas', () => {
  const text = '{ "a": "http://x/*y*/", // c\n "b": [1, 2,], /* d */ "c": "\\"//" }';
  assert.deepEqual(JSON.parse(stripJsonComments(text)), { a: 'http://x/*y*/', b: [1, 2], c: '"//' });
  assert.equal(stripJsonComments('/* a\nb */{}').split('\n').length, 2, 'line numbers are kept');
});

test('an invalid built-in entry throws with file, JSON path and reason', () => {
  const files = structuredClone(BUILTIN_FILES) as Record<string, { allocators?: AllocatorEntry[] }>;
  (files['allocators.json'].allocators![5] as unknown as Record<string, unknown>).gfpArg = -1;
  assert.throws(() => buildKnowledgeBase(files), /knowledge base allocators\.json: allocators\[5\] \(\w+\)\.gfpArg: .*greater than or equal to 0/);
  const dup = structuredClone(BUILTIN_FILES) as Record<string, { allocators: AllocatorEntry[] }>;
  dup['allocators.json'].allocators.push({ ...dup['allocators.json'].allocators[0] });
  assert.throws(() => buildKnowledgeBase(dup), /allocators\.json: allocators\[\d+\] \(kmalloc\): duplicate for table/);
  const gfp = structuredClone(BUILTIN_FILES) as Record<string, { masks: { bits: string[] }[] }>;
  gfp['gfp-6.12.json'].masks[0].bits = ['__GFP_NOPE'];
  assert.throws(() => buildKnowledgeBase(gfp), /gfp-6\.12\.json: .*unknown name __GFP_NOPE/);
  assert.doesNotThrow(() => buildKnowledgeBase(BUILTIN_FILES));
});

test('mask helpers and sparse lock contexts are data', () => {
  assert.deepEqual(index.maskHelper('mapping_gfp_constraint'), { name: 'mapping_gfp_constraint', mappingArg: 0, gfpArg: 1, source: 'include/linux/pagemap.h@6.12:344' });
  assert.deepEqual(index.maskHelper('readahead_gfp_mask')?.adds, ['__GFP_NORETRY', '__GFP_NOWARN']);
  assert.equal(index.maskHelper('kmalloc'), undefined);
  assert.equal(index.lockContext('RCU')?.cls, 'rcu_read_lock');
  assert.equal(index.lockContext('RCU_BH')?.cls, 'rcu_read_lock_bh');
  assert.equal(kb.maskHelpers.length, 3);
});
