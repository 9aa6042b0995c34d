// The knowledge the reclaim-deadlock detector reads (server/src/model/kb): ops-table fields reclaim, kswapd,
// mmu-notifier invalidation and page faults call through (reclaimEntries), the tests that gate them (reclaimGates),
// cross-thread waits (crossWaits), and the accessor/field types lock class names need (accessors, fieldTypes).
// Also the lock APIs added for the detector, override handling of the new categories, and — when the kernel trees
// of scripts/extract-kernel.sh are present — that every citation points at the line it claims.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILTIN_FILES, KERNEL_TABLES, buildKnowledgeBase, loadKnowledgeBase } from '../../server/src/model/kb/index';
import type { KernelTable, ReclaimEntry } from '../../server/src/model/kb/types';

const { kb, index, problems } = loadKnowledgeBase();
const v61 = index.forTable('6.1');
const v612 = index.forTable('6.12');
const CITATION = /^([\w./-]+(?:\.(?:h|c)|\/Kconfig))@(6\.1|6\.12):(\d+)( |$)/;
const over = (text: string, p = '/ws/.reclaim-lens/kb.jsonc') => loadKnowledgeBase([{ path: p, text }]);

test('the reclaim categories load and are part of the hashed built-in files', () => {
  assert.deepEqual(problems, []);
  for (const f of ['reclaimEntries.json', 'reclaimGates.json', 'crossWaits.json', 'accessors.json', 'fieldTypes.json']) {
    assert.ok(f in BUILTIN_FILES, f);
  }
  for (const t of KERNEL_TABLES) {
    const v = index.forTable(t);
    assert.ok(v.reclaimEntries().length >= 20, `${t}: ${v.reclaimEntries().length} reclaim entries`);
    assert.ok(v.crossWaits().length >= 1, t);
  }
  assert.ok(kb.reclaimGates.length >= 10);
  assert.ok(kb.accessors.length >= 50);
  assert.ok(kb.fieldTypes.length >= 60);
});

test('super_operations.evict_inode: reclaim past super_cache_scan\'s __GFP_FS test, on unreferenced inodes', () => {
  const e = v612.reclaimEntry('evict_inode', 'super_operations');
  assert.ok(e);
  assert.equal(e.context, 'reclaim');
  assert.deepEqual(e.requires, ['__GFP_FS']);
  assert.equal(e.objects, 'unreferenced-inode');
  assert.equal(e.uniqueField, true);
  const fns = e.path.map((s) => s.fn);
  assert.deepEqual(fns.slice(-5), ['do_shrink_slab', 'super_cache_scan', 'prune_icache_sb', 'dispose_list', 'evict']);
  assert.equal(fns[0], '__alloc_pages_slowpath');
  assert.match(e.path.find((s) => s.fn === 'super_cache_scan')!.source, /^fs\/super\.c@6\.12:\d+$/);
  assert.match(e.path.find((s) => s.fn === 'shrink_slab')!.source, /^mm\/shrinker\.c@6\.12:/, '6.12 moved the shrinker walk to mm/shrinker.c');
  assert.match(e.note ?? '', /fs\/super\.c@6\.12:193\b/, 'the __GFP_FS test itself');
  assert.match(e.source, /^fs\/inode\.c@6\.12:\d+$/);
  // 6.1: the same path through mm/vmscan.c, trylock_super instead of super_trylock_shared
  const old = v61.reclaimEntry('evict_inode', 'super_operations');
  assert.ok(old && old !== e);
  assert.deepEqual(old.versions, ['6.1']);
  assert.match(old.path.find((s) => s.fn === 'shrink_slab')!.source, /^mm\/vmscan\.c@6\.1:/);
  assert.match(old.note ?? '', /fs\/super\.c@6\.1:76\b.*trylock_super/);
  // the rest of inode teardown that reclaim reaches
  for (const f of ['destroy_inode', 'drop_inode', 'free_cached_objects']) assert.deepEqual(v612.reclaimEntry(f, 'super_operations')?.requires, ['__GFP_FS'], f);
  assert.equal(v612.reclaimEntry('drop_inode', 'super_operations')?.path.some((s) => s.fn === 'prune_dcache_sb'), true);
  assert.equal(v612.reclaimEntry('nr_cached_objects', 'super_operations')?.requires, undefined, 'super_cache_count calls it with no gfp test');
  assert.equal(v612.reclaimEntry('free_cached_objects', 'super_operations')?.objects, 'unreferenced-inode', 'XFS reclaims VFS-evicted inodes');
  // iput_final writes an I_DONTCACHE inode (data and metadata) before evicting it, from the dentry shrinker too
  for (const [f, s] of [['write_inode', 'super_operations'], ['writepages', 'address_space_operations']]) {
    const e = v612.reclaimEntry(f, s);
    assert.deepEqual([e?.requires, e?.objects], [['__GFP_FS'], 'unreferenced-inode'], f);
    assert.ok(e?.path.some((x) => x.fn === 'write_inode_now'), f);
  }
  assert.match(v612.reclaimEntry('write_inode', 'super_operations')?.note ?? '', /I_DONTCACHE.*fs\/inode\.c@6\.12:1849/);
  assert.equal(v612.reclaimEntry('free_inode', 'super_operations'), undefined, 'an RCU callback, not reclaim');
});

test('shrinker, address_space, mmu-notifier and fault entries', () => {
  for (const f of ['scan_objects', 'count_objects']) {
    const e = v612.reclaimEntry(f, undefined);
    assert.equal(e?.struct, 'shrinker', f);
    assert.equal(e?.requires, undefined, `${f}: each shrinker gates itself`);
    assert.equal(e?.context, 'reclaim');
    assert.equal(v61.reclaimEntry(f, 'shrinker')?.versions?.[0], '6.1');
  }
  const aops = (f: string) => v612.reclaimEntry(f, 'address_space_operations');
  assert.equal(aops('release_folio')?.context, 'reclaim');
  assert.equal(aops('release_folio')?.objects, 'any');
  assert.equal(aops('release_folio')?.requires, undefined, 'release_folio gets reclaim\'s mask and must honour it');
  assert.deepEqual(aops('release_folio')?.path.slice(-2).map((s) => s.fn), ['shrink_folio_list', 'filemap_release_folio']);
  assert.equal(aops('writepage')?.context, 'kswapd');
  assert.equal(aops('writepage')?.path[0].fn, 'kswapd');
  assert.match(aops('writepage')?.note ?? '', /mm\/vmscan\.c@6\.12:1360\b/, 'the current_is_kswapd() test in shrink_folio_list');
  assert.deepEqual(aops('migrate_folio')?.requires, ['__GFP_IO', '__GFP_FS']);
  assert.match(aops('migrate_folio')?.note ?? '', /mm\/compaction\.c@6\.12:1127\b/, 'the !__GFP_FS skip of file folios');
  assert.deepEqual(aops('swap_rw')?.requires, ['__GFP_IO', '__GFP_FS']);

  const mn = v612.reclaimEntry('invalidate_range_start', 'mmu_notifier_ops');
  assert.equal(mn?.context, 'mmu-notifier');
  assert.equal(mn?.requires, undefined, 'GFP_NOFS/GFP_NOIO allocations reach mmu notifiers too');
  assert.ok(mn?.path.some((s) => s.fn === 'try_to_unmap'));
  assert.equal(v612.reclaimEntry('invalidate', 'mmu_interval_notifier_ops')?.context, 'mmu-notifier');

  for (const f of ['fault', 'huge_fault', 'page_mkwrite', 'pfn_mkwrite', 'map_pages']) {
    const e = v612.reclaimEntry(f, 'vm_operations_struct');
    assert.equal(e?.context, 'fault', f);
    assert.equal(e?.path[0].fn, 'handle_mm_fault', f);
  }
  // 6.12 reaches do_fault through do_pte_missing, 6.1 directly
  assert.ok(v612.reclaimEntry('fault', 'vm_operations_struct')?.path.some((s) => s.fn === 'do_pte_missing'));
  assert.ok(!v61.reclaimEntry('fault', 'vm_operations_struct')?.path.some((s) => s.fn === 'do_pte_missing'));
});

test('reclaimEntry: exact struct match, or the field alone only where it is unique', () => {
  assert.equal(v612.reclaimEntry('fault', undefined), undefined, 'vm_special_mapping and ceph have a fault member too');
  assert.equal(v612.reclaimEntry('map_pages', undefined), undefined);
  assert.equal(v612.reclaimEntry('invalidate', undefined), undefined);
  assert.equal(v612.reclaimEntry('fault', 'vm_special_mapping'), undefined);
  assert.equal(v612.reclaimEntry('evict_inode', 'dentry_operations'), undefined);
  assert.equal(v612.reclaimEntry('page_mkwrite', undefined)?.struct, 'vm_operations_struct');
  assert.equal(v612.reclaimEntry('evict_inode', undefined)?.struct, 'super_operations');
  assert.equal(v612.reclaimEntry('scan_objects', 'shrinker')?.field, 'scan_objects');
  assert.equal(v612.reclaimEntry('no_such_field', undefined), undefined);
  // a unique field really is unique: no other entry of any table has it
  for (const t of KERNEL_TABLES) {
    const all = index.forTable(t).reclaimEntries();
    for (const e of all.filter((x) => x.uniqueField)) assert.equal(all.filter((x) => x.field === e.field).length, 1, `${t} ${e.field}`);
  }
});

test('every reclaim path ends in the call through the field and cites its own tree', () => {
  for (const e of kb.reclaimEntries) {
    const id = `${e.struct}.${e.field} ${e.versions?.join() ?? ''}`;
    assert.ok(e.path.length >= 1, id);
    assert.equal(e.path[e.path.length - 1].source, e.source, id);
    const tree: KernelTable = e.versions?.length === 1 ? e.versions[0] : '6.12';
    for (const s of e.path) assert.ok(s.source.includes(`@${tree}:`), `${id}: ${s.fn} ${s.source}`);
    for (const s of e.path) assert.match(s.source, CITATION, id);
  }
  // the index without a table: every key once, 6.12 first
  const keys = index.reclaimEntries().map((e) => `${e.struct}.${e.field}`);
  assert.equal(new Set(keys).size, keys.length);
  assert.equal(index.reclaimEntry('evict_inode', 'super_operations')?.versions?.[0], '6.12');
});

test('reclaim gates: what the condition containing the token means', () => {
  const g = (t: string) => {
    const e = v612.reclaimGate(t);
    assert.ok(e, t);
    return e;
  };
  assert.deepEqual([g('__GFP_FS').meaning, g('__GFP_FS').bits], ['gfp-bits', ['__GFP_FS']]);
  assert.deepEqual(g('__GFP_IO').bits, ['__GFP_IO']);
  assert.deepEqual(g('gfpflags_allow_blocking').bits, ['__GFP_DIRECT_RECLAIM']);
  assert.deepEqual(g('gfp_has_io_fs').bits, ['__GFP_IO', '__GFP_FS']);
  assert.equal(g('current_is_kswapd').meaning, 'kswapd');
  assert.equal(g('PF_KSWAPD').meaning, 'kswapd');
  assert.equal(g('PF_MEMALLOC').meaning, 'in-reclaim');
  assert.equal(g('for_reclaim').meaning, 'in-reclaim');
  assert.equal(g('mmu_notifier_range_blockable').meaning, 'blockable');
  assert.equal(v612.reclaimGate('mutex_trylock'), undefined, 'trylocks are lock facts, not gates');
  // a gfp name as token tests exactly its own bits, in both tables
  for (const t of KERNEL_TABLES) {
    const gfp = index.forTable(t).gfp;
    for (const e of kb.reclaimGates) {
      if (e.meaning !== 'gfp-bits') assert.equal(e.bits, undefined, e.token);
      const own = gfp.lookup(e.token);
      if (own === undefined) continue;
      assert.equal(e.bits!.reduce((m, b) => m | gfp.lookup(b)!, 0), own, `${t} ${e.token}`);
    }
  }
  assert.equal(g('GFP_KERNEL').bits?.length, 4, 'nfs/sunrpc shrinkers test (gfp & GFP_KERNEL) != GFP_KERNEL');
});

test('loop-back NFS: reclaim waits for nfsd, which takes the exported filesystem\'s i_rwsem', () => {
  const w = v612.crossWaits().find((x) => x.name === 'loopback-nfs');
  assert.ok(w);
  assert.equal(w.setting, 'reclaimLens.model.loopbackNfs');
  assert.equal(w.context, 'reclaim');
  assert.equal(w.waitsFor, 'nfsd');
  assert.ok(w.path.some((s) => s.fn === 'nfs4_evict_inode'));
  assert.equal(w.path[w.path.length - 1].source, w.source);
  const create = w.takes.find((t) => t.fn === 'nfsd_create');
  assert.equal(create?.cls, '&inode->i_rwsem');
  assert.match(create?.source ?? '', /^fs\/nfsd\/vfs\.c@6\.12:\d+$/);
  // the classes are the ones the lock wrappers produce for an inode
  for (const t of w.takes) assert.equal(t.cls, v612.lock('inode_lock')!.classTemplate!.replace('{0}', 'inode'), t.fn);
  assert.deepEqual(v61.crossWaits().map((x) => x.name), v612.crossWaits().map((x) => x.name));
  // every cross-wait setting is a contributed setting
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, unknown> } | { properties: Record<string, unknown> }[] } };
  const conf = manifest.contributes.configuration;
  const props = Object.assign({}, ...(Array.isArray(conf) ? conf : [conf]).map((c) => c.properties)) as Record<string, unknown>;
  for (const x of kb.crossWaits) assert.ok(x.setting in props, x.setting);
});

test('accessors and field types for lock class names', () => {
  const acc: [string, string][] = [
    ['EXT4_I', 'ext4_inode_info'], ['EXT4_SB', 'ext4_sb_info'], ['XFS_I', 'xfs_inode'], ['VFS_I', 'inode'], ['XFS_M', 'xfs_mount'],
    ['BTRFS_I', 'btrfs_inode'], ['btrfs_sb', 'btrfs_fs_info'], ['F2FS_I', 'f2fs_inode_info'], ['NFS_I', 'nfs_inode'],
    ['file_inode', 'inode'], ['folio_inode', 'inode'], ['d_inode', 'inode'], ['d_backing_inode', 'inode'], ['OCFS2_I', 'ocfs2_inode_info'],
  ];
  for (const [n, r] of acc) {
    assert.equal(v612.accessor(n)?.returns, r, `6.12 ${n}`);
    assert.equal(v61.accessor(n)?.returns, r, `6.1 ${n}`);
  }
  assert.equal(v61.accessor('page_mapping')?.returns, 'address_space');
  assert.equal(v612.accessor('page_mapping'), undefined, 'gone in 6.12');
  for (const a of kb.accessors) assert.doesNotMatch(a.returns, /^struct\b|\s|\*/, a.name);

  const ft: [string, string, string][] = [
    ['inode', 'i_mapping', 'address_space'], ['inode', 'i_sb', 'super_block'], ['file', 'f_mapping', 'address_space'],
    ['file', 'f_inode', 'inode'], ['folio', 'mapping', 'address_space'], ['address_space', 'host', 'inode'],
    ['dentry', 'd_inode', 'inode'], ['dentry', 'd_sb', 'super_block'], ['xfs_inode', 'i_mount', 'xfs_mount'],
    ['vm_area_struct', 'vm_mm', 'mm_struct'], ['vm_area_struct', 'vm_file', 'file'], ['super_block', 's_shrink', 'shrinker'],
  ];
  for (const [s, f, t] of ft) {
    assert.equal(v612.fieldType(s, f), t, `6.12 ${s}.${f}`);
    assert.equal(v61.fieldType(s, f), t, `6.1 ${s}.${f}`);
  }
  assert.equal(v612.fieldType('block_device', 'bd_mapping'), 'address_space');
  assert.equal(v61.fieldType('block_device', 'bd_mapping'), undefined);
  assert.equal(v61.fieldType('block_device', 'bd_inode'), 'inode');
  assert.equal(v612.fieldType('block_device', 'bd_inode'), undefined);
  assert.equal(index.fieldType('block_device', 'bd_inode'), 'inode', 'the index falls back to 6.1');
  assert.equal(v612.fieldType('inode', 'i_nope'), undefined);
});

test('lock APIs the detector needs: s_umount trylocks, writeback, dma_resv, might_lock, freeze protection', () => {
  const L = (v: typeof v612, n: string) => {
    const l = v.lock(n);
    assert.ok(l, n);
    return l;
  };
  assert.deepEqual([L(v612, 'super_trylock_shared').op, L(v612, 'super_trylock_shared').classTemplate, L(v612, 'super_trylock_shared').read], ['trylock', '&{0}->s_umount', true]);
  assert.equal(v61.lock('super_trylock_shared'), undefined);
  assert.equal(L(v61, 'trylock_super').classTemplate, '&{0}->s_umount');
  assert.equal(v612.lock('trylock_super'), undefined);
  for (const n of ['folio_start_writeback', '__folio_start_writeback', 'set_page_writeback']) {
    assert.deepEqual([L(v612, n).op, L(v612, n).kind, L(v612, n).classTemplate], ['acquire', 'bitlock', 'PG_writeback'], n);
  }
  for (const n of ['folio_end_writeback', 'end_page_writeback']) assert.deepEqual([L(v61, n).op, L(v61, n).classTemplate], ['release', 'PG_writeback'], n);
  assert.equal(L(v612, 'dma_resv_lock').classTemplate, 'reservation_ww_class_mutex');
  assert.equal(L(v612, 'dma_resv_trylock').op, 'trylock');
  assert.equal(L(v612, 'might_lock').op, 'might-acquire');
  assert.equal(L(v612, 'might_lock_read').read, true);
  assert.equal(L(v612, 'mnt_want_write').classTemplate, L(v612, 'sb_start_write').classTemplate);
  assert.equal(L(v612, 'file_start_write').classTemplate, 'sb_writers');
  assert.equal(L(v612, 'anon_vma_lock_read').classTemplate, '&{0}->rwsem');
  assert.equal(L(v61, 'mmap_write_trylock').op, 'trylock');
  assert.equal(v612.lock('mmap_write_trylock'), undefined, 'removed before 6.12');
  assert.equal(L(v612, 'blk_freeze_queue_start').classTemplate, L(v612, 'blk_mq_freeze_queue').classTemplate);
  assert.ok(v612.sleeper('blk_mq_freeze_queue_wait'));
});

// ---- overrides

test('an invalid reclaim-category override entry is skipped with a message naming the key', () => {
  const r = over(`{
    "reclaimEntries": [
      { "field": "evict_inode", "struct": "super_operations", "uniqueField": true, "context": "shrinker", "path": [{ "fn": "evict", "source": "fs/inode.c@6.12:722" }], "source": "fs/inode.c@6.12:722" },
      { "field": "my_reclaim_cb", "uniqueField": false, "context": "reclaim", "path": [{ "fn": "my_shrink", "source": "drivers/my/my.c:10" }], "source": "drivers/my/my.c:10" },
      { "field": "scan_objects", "struct": "my_cache_ops", "uniqueField": false, "context": "reclaim", "path": [{ "fn": "my_shrink", "source": "drivers/my/my.c:10" }], "source": "drivers/my/my.c:10" },
      { "field": "purge", "struct": "my_cache_ops", "uniqueField": true, "context": "reclaim", "requires": ["__GFP_FSS"], "path": [{ "fn": "my_shrink", "source": "drivers/my/my.c:10" }], "source": "drivers/my/my.c:10" },
      { "field": "purge", "struct": "my_pool_ops", "uniqueField": true, "context": "reclaim", "requires": ["__GFP_IO"], "path": [{ "fn": "my_shrink", "source": "drivers/my/my.c:12" }], "source": "drivers/my/my.c:12" }
    ],
    "reclaimGates": [
      { "token": "MY_GFP_OK", "meaning": "gfp-bits", "source": "drivers/my/my.h:3" },
      { "token": "__GFP_FS", "meaning": "gfp-bits", "bits": ["__GFP_IO"], "source": "drivers/my/my.h:4" }
    ],
    "crossWaits": [ { "name": "My Wait", "setting": "reclaimLens.model.mine", "context": "reclaim", "path": [{ "fn": "f", "source": "x.c:1" }], "waitsFor": "mydaemon", "takes": [{ "cls": "&inode->i_rwsem", "fn": "g", "source": "x.c:2" }], "source": "x.c:1" } ],
    "accessors": [ { "name": "MY_I", "returns": "struct my_inode", "source": "drivers/my/my.h:5" } ]
  }`);
  const p = r.problems;
  assert.equal(p.length, 8, p.join('\n'));
  assert.match(p[0], /^\/ws\/\.reclaim-lens\/kb\.jsonc: reclaimEntries\[0\] \(super_operations\.evict_inode\)\.context: .*skipped/);
  assert.match(p[1], /reclaimEntries\[1\] \(my_reclaim_cb\)\.uniqueField: an entry without struct .*uniqueField: true/);
  assert.match(p[2], /reclaimEntries\[2\] \(my_cache_ops\.scan_objects\): uniqueField: scan_objects is also a field of shrinker/);
  assert.match(p[3], /reclaimEntries\[3\] \(my_cache_ops\.purge\): requires: unknown gfp name\(s\) __GFP_FSS in the 6\.1 table/);
  assert.match(p[4], /reclaimGates\[0\] \(MY_GFP_OK\)\.bits: meaning "gfp-bits" needs the bits/);
  assert.match(p[5], /reclaimGates\[1\] \(__GFP_FS\): bits: __GFP_IO is not __GFP_FS/);
  assert.match(p[6], /crossWaits\[0\] \(My Wait\)\.name: must be a lower-case-with-dashes name/);
  assert.match(p[7], /accessors\[0\] \(MY_I\)\.returns: must be a C identifier/);
  assert.equal(r.index.reclaimEntry('evict_inode', 'super_operations')?.context, 'reclaim', 'the built-in entry stays');
  assert.equal(r.index.reclaimEntry('purge', 'my_pool_ops')?.requires?.[0], '__GFP_IO', 'the valid entry after the bad ones is taken');
  assert.equal(r.index.reclaimGate('__GFP_FS')?.bits?.[0], '__GFP_FS');
});

test('a field-type override without its type is reported with its key', () => {
  const r = over('{ "fieldTypes": [ { "struct": "my_inode", "field": "vfs", "source": "drivers/my/my.h:6" } ] }');
  assert.equal(r.problems.length, 1, r.problems.join('\n'));
  assert.match(r.problems[0], /fieldTypes\[0\] \(my_inode\.vfs\)\.type: Required; entry skipped/);
});

test('overrides add and replace reclaim entries, gates, accessors and field types per table', () => {
  const r = over(`{
    "reclaimEntries": [
      { "field": "my_scan", "struct": "my_cache_ops", "uniqueField": true, "context": "reclaim", "requires": ["__GFP_FS"], "path": [{ "fn": "my_shrinker_scan", "source": "drivers/my/cache.c:40" }], "source": "drivers/my/cache.c:40" },
      { "field": "evict_inode", "struct": "super_operations", "uniqueField": true, "context": "reclaim", "path": [{ "fn": "evict", "source": "fs/inode.c@6.12:722" }], "versions": ["6.12"], "source": "fs/inode.c@6.12:722" }
    ],
    "reclaimGates": [ { "token": "my_cache_may_block", "meaning": "gfp-bits", "bits": ["__GFP_DIRECT_RECLAIM"], "source": "drivers/my/cache.h:7" } ],
    "accessors": [ { "name": "MY_I", "returns": "my_inode", "source": "drivers/my/my.h:5" } ],
    "fieldTypes": [ { "struct": "my_inode", "field": "vfs", "type": "inode", "source": "drivers/my/my.h:6" } ]
  }`);
  assert.deepEqual(r.problems, []);
  assert.equal(r.index.forTable('6.1').reclaimEntry('my_scan', undefined)?.struct, 'my_cache_ops');
  assert.equal(r.index.forTable('6.12').reclaimEntry('evict_inode', 'super_operations')?.requires, undefined, 'replaced on 6.12');
  assert.deepEqual(r.index.forTable('6.1').reclaimEntry('evict_inode', 'super_operations')?.requires, ['__GFP_FS'], 'kept on 6.1');
  assert.equal(r.index.forTable('6.12').reclaimGate('my_cache_may_block')?.meaning, 'gfp-bits');
  assert.equal(r.index.forTable('6.12').accessor('MY_I')?.returns, 'my_inode');
  assert.equal(r.index.forTable('6.1').fieldType('my_inode', 'vfs'), 'inode');
  assert.equal(r.kb.reclaimEntries.length, kb.reclaimEntries.length + 1, 'the 6.12 evict_inode replaced, my_scan added');
});

test('a broken built-in reclaim entry throws with file, key and reason', () => {
  const files = structuredClone(BUILTIN_FILES) as Record<string, { reclaimEntries: ReclaimEntry[] }>;
  (files['reclaimEntries.json'].reclaimEntries[0] as unknown as Record<string, unknown>).context = 'direct';
  assert.throws(() => buildKnowledgeBase(files), /knowledge base reclaimEntries\.json: reclaimEntries\[0\] \(shrinker\.scan_objects\)\.context: /);
  const dup = structuredClone(BUILTIN_FILES) as Record<string, { reclaimEntries: ReclaimEntry[] }>;
  dup['reclaimEntries.json'].reclaimEntries.push({ ...dup['reclaimEntries.json'].reclaimEntries.find((e) => !e.versions)! });
  assert.throws(() => buildKnowledgeBase(dup), /reclaimEntries\.json: reclaimEntries\[\d+\] \(address_space_operations\.\w+\): duplicate for table 6\.1\b/);
});

// ---- citations against the kernel trees (scripts/extract-kernel.sh, run by `npm test`'s pretest): a missing tree fails

const TREES = path.join(__dirname, '..', '..', '.cache', 'kernel');
const haveTrees = KERNEL_TABLES.every((t) => fs.existsSync(path.join(TREES, t, 'Makefile')));
const fileCache = new Map<string, string[] | undefined>();
function linesOf(source: string): string[] | undefined {
  const m = CITATION.exec(source);
  if (!m) return undefined;
  const p = path.join(TREES, m[2], m[1]);
  if (!fileCache.has(p)) fileCache.set(p, fs.existsSync(p) ? fs.readFileSync(p, 'latin1').split('\n') : undefined);
  return fileCache.get(p);
}
function citedLine(source: string): string | undefined {
  return linesOf(source)?.[Number(CITATION.exec(source)![3]) - 1];
}
const word = (w: string) => new RegExp(`(^|[^A-Za-z0-9_])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^A-Za-z0-9_]|$)`);

test('every citation of the reclaim categories points at the line it claims', () => {
  if (!haveTrees) assert.fail(`no kernel trees in ${TREES}: run scripts/extract-kernel.sh`);
  const checkPath = (id: string, steps: { fn: string; source: string }[], field?: string) => {
    steps.forEach((s, i) => {
      const line = citedLine(s.source);
      assert.ok(line !== undefined, `${id}: ${s.source} does not exist`);
      const next = steps[i + 1];
      // a step calls the next function, or calls through a function pointer (->scan_objects(, rwc->rmap_one()
      if (next) assert.ok(word(next.fn).test(line) || /->\s*\w+\s*\(/.test(line), `${id}: ${s.source} does not call ${next.fn}: ${line.trim()}`);
      else if (field) assert.match(line, word(field), `${id}: ${s.source} does not call ->${field}`);
    });
  };
  for (const e of kb.reclaimEntries) checkPath(`${e.struct}.${e.field}`, e.path, e.field);
  for (const w of kb.crossWaits) {
    checkPath(w.name, w.path);
    for (const t of w.takes) {
      const line = citedLine(t.source) ?? '';
      const api = kb.locks.find((l) => word(l.name).test(line) && l.classTemplate?.replace('{0}', 'inode') === t.cls);
      assert.ok(api, `${w.name}: ${t.source} takes ${t.cls}: ${line.trim()}`);
    }
  }
  for (const g of kb.reclaimGates) assert.match(citedLine(g.source) ?? '', word(g.token), g.token);
  // a cut call cites the line that says why (a test, a pinning dget(), the definition): it exists and is not blank
  for (const d of kb.deferredCalls) assert.match(citedLine(d.source) ?? '', /\S/, `${d.caller ?? '*'} → ${d.callee}: ${d.source}`);
  for (const a of kb.accessors) {
    const lines = linesOf(a.source);
    const at = Number(CITATION.exec(a.source)![3]) - 1;
    assert.match(lines?.[at] ?? '', word(a.name), a.name);
    // the struct it returns is named on the definition (or next to it, for split definitions and macros)
    assert.match(lines!.slice(at - 1, at + 3).join(' '), word(a.returns), `${a.name} → ${a.returns}`);
  }
  for (const f of kb.fieldTypes) {
    const line = citedLine(f.source) ?? '';
    assert.match(line, word(f.field), `${f.struct}.${f.field}`);
    assert.match(line, word(f.type), `${f.struct}.${f.field} → ${f.type}`);
  }
  // the lock and sleeper APIs too (all of them: the trees hold every file they cite)
  for (const l of [...kb.locks, ...kb.sleepers]) assert.match(citedLine(l.source) ?? '', word(l.name), `${l.name} ${l.source}`);
});
