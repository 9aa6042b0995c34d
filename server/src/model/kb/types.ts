// The knowledge base's shapes: kernel API facts as data, each entry citing where in the kernel it comes from.
// schema.ts validates the JSON files in data/ against zod schemas whose inferred types are these.
// Kernel names are verbatim (__GFP_FS, PF_MEMALLOC_NOFS, &inode->i_rwsem).

/** Kernel versions the tables distinguish. Other versions map to the nearest table (see gfp.ts: tableFor). */
export type KernelTable = '6.1' | '6.12';

/** "include/linux/gfp_types.h@6.12:40" style citation: kernel path, optional @version, optional :line. */
export type Source = string;

/** One gfp bit as spelled in the kernel. `value` is the numeric value in that tree, or null when config-dependent. */
export interface GfpBitEntry {
  name: string; // "__GFP_FS"
  value: number | null; // 0x80; null for __GFP_NOLOCKDEP, __GFP_SKIP_* etc.
  aliases?: string[]; // ["___GFP_FS"]
  meaning: string;
  source: Source;
}

/** A composite mask: union of `bits` (bit names or other composite names), minus `clear`. */
export interface GfpMaskEntry {
  name: string; // "GFP_NOFS"
  bits: string[];
  clear?: string[];
  source: Source;
  historical?: boolean; // __GFP_WAIT, GFP_IOFS, GFP_TEMPORARY, KM_*: older code only
}

export interface GfpTableFile {
  table: KernelTable;
  bits: GfpBitEntry[];
  masks: GfpMaskEntry[];
}

/**
 * An allocation API. Exactly one of `gfpArg` / `implicit` says where its mask comes from.
 * gfpArg: 0-based argument index; "last" for the last argument; `optional: true` when it may be omitted
 * (6.12 kmalloc_obj family: an omitted gfp means `implicit`).
 */
export interface AllocatorEntry {
  name: string;
  class: 'slab' | 'page' | 'vmalloc' | 'pagecache' | 'mempool' | 'block' | 'xarray' | 'idr' | 'skb' | 'dma' | 'percpu' | 'string' | 'misc';
  gfpArg?: number | 'last';
  optional?: boolean;
  implicit?: string; // mask name used when there is no gfp argument (or it is omitted), e.g. "GFP_KERNEL"
  adds?: string[]; // bits the API ORs in (kzalloc: ["__GFP_ZERO"])
  clears?: string[]; // bits the API clears
  mapping?: { arg: number; mode: 'mask' | 'constraint' }; // mask derives from that mapping argument
  mayFault?: boolean; // memdup_user & co. also copy from user memory
  mayAlwaysSleep?: boolean; // sleeps whatever the mask (vmalloc, FGP_LOCK page cache lookups)
  vmallocFallback?: boolean; // kvmalloc & co.: falls back to vmalloc when the mask allows blocking
  noprof?: boolean; // a `<name>_noprof` variant exists (6.12 alloc_hooks)
  /**
   * The allocation goes through this ops-table field when the caller's filesystem binds it (iget_locked():
   * `sb->s_op->alloc_inode` if set, else the implicit mask): the whole-program pass takes the bound function's masks.
   */
  maskFrom?: { struct: string; field: string };
  versions?: KernelTable[]; // absent: all
  note?: string;
  source: Source;
}

export type PfFlag = 'PF_MEMALLOC' | 'PF_MEMALLOC_NOFS' | 'PF_MEMALLOC_NOIO' | 'PF_MEMALLOC_PIN';

/** A memalloc scope API. save returns a cookie; restore takes it at `cookieArg`. `flags: "arg"`: from argument 0. */
export interface ScopeApiEntry {
  name: string;
  op: 'save' | 'restore';
  flags: PfFlag[] | 'arg';
  cookieArg?: number; // restore: argument index of the cookie
  family: string; // "nofs" | "noio" | "noreclaim" | "pin" | "flags": pairs must match families on 6.1
  versions?: KernelTable[];
  source: Source;
}

export type LockKind =
  | 'spinlock' | 'raw_spinlock' | 'rwlock' | 'mutex' | 'rwsem' | 'percpu_rwsem' | 'semaphore' | 'seqlock'
  | 'rcu' | 'srcu' | 'preempt' | 'irq' | 'bh' | 'preload' | 'bitlock' | 'pagefault' | 'fence' | 'queue-freeze' | 'lockdep_map' | 'other';

/**
 * A lock API. `lockArg` is the argument naming the lock object (null for context-only APIs such as rcu_read_lock).
 * `classTemplate` builds the lockdep-style class name: `{0}` is the argument's lockdep-style base (struct type name
 * when the type is known, else the expression), e.g. inode_lock: "&{0}->i_rwsem"; absent: the argument itself
 * ("&ip->i_lock" → "&xfs_inode->i_lock"). For context-only APIs it is the pseudo-class name ("rcu_read_lock").
 */
export interface LockApiEntry {
  name: string;
  /**
   * 'might-acquire': lockdep's might_lock(l) — declares that l may be taken at this point without taking it
   * (priming: `fs_reclaim_acquire(GFP_KERNEL); might_lock(&l); fs_reclaim_release(GFP_KERNEL);`).
   */
  op: 'acquire' | 'release' | 'trylock' | 'assert-held' | 'might-acquire';
  kind: LockKind;
  lockArg: number | null;
  classTemplate?: string;
  read?: boolean; // shared acquisition (down_read, read_lock, inode_lock_shared)
  atomic: boolean; // holding it makes the context atomic (no sleeping)
  irqsOff?: boolean; // *_irq / *_irqsave
  bhOff?: boolean; // *_bh
  sleeps?: boolean; // acquiring may sleep (mutex_lock, down_write)
  mayFail?: boolean; // returns an error without the lock when interrupted or killed (mutex_lock_interruptible)
  flagsArg?: number; // xfs_ilock(ip, XFS_ILOCK_EXCL): argument whose flag names select classes (see lockFlags)
  versions?: KernelTable[];
  source: Source;
}

/** Flag-selected classes, e.g. xfs_ilock(ip, XFS_ILOCK_EXCL|XFS_MMAPLOCK_SHARED). */
export interface LockFlagEntry {
  api: string; // "xfs_ilock"
  flag: string; // "XFS_ILOCK_EXCL"
  classTemplate: string; // "&{0}->i_lock"
  read: boolean;
  source: Source;
}

/** include/linux/cleanup.h guard classes: guard(NAME)(args) / scoped_guard(NAME, args) call `lock` then `unlock`. */
export interface GuardEntry {
  name: string; // "spinlock_irqsave"
  lock: string; // a LockApiEntry name ("spin_lock_irqsave")
  unlock: string;
  source: Source;
}

/** Calls that touch user memory and so may fault (copy_*_user) or fault + allocate (GUP). */
export interface UaccessEntry {
  name: string;
  kind: 'copy' | 'single' | 'gup' | 'fault-in' | 'iter' | 'nofault';
  mayFault: boolean;
  /** whether the call reads or writes user memory: a read fault never runs ->page_mkwrite */
  access?: 'read' | 'write' | 'either'; // false for *_nofault / *_inatomic
  /**
   * Copies a directory entry in ->iterate_shared (dir_emit): the per-inode locks held there are the directory's,
   * and a directory is never mmapped, so a fault's per-inode locks belong to another inode.
   */
  readdir?: boolean;
  source: Source;
}

/** Functions that may sleep without allocating (for sleep-in-atomic): msleep, wait_for_completion, … */
export interface SleeperEntry {
  name: string;
  /**
   * the sleeper drops the lock given as this argument while it sleeps and takes it again before it returns
   * (`wait_event_lock_irq(wq, cond, lock)`: index 2): holding that lock around the call is no sleep under it
   */
  releasesArg?: number;
  source: Source;
}

/**
 * Transaction / handle wrappers. `scope`: the memalloc scope the open call leaves active until the close call
 * (jbd2 handle, XFS transaction); "none" for btrfs transactions (reclaim can still wait on them).
 */
export interface TransactionEntry {
  name: string;
  op: 'open' | 'close';
  subsystem: string; // "jbd2" | "xfs" | "btrfs" | "fsnotify" | …
  resource: string; // lockdep-style pseudo-class, e.g. "jbd2_handle", "xfs_trans", "btrfs_trans_num_writers"
  scope: PfFlag | 'none';
  handleArg?: number | 'return'; // where the handle lives
  versions?: KernelTable[]; // absent: all (fsnotify_group_lock opens its scope unconditionally only on 6.12)
  conditional?: string; // the scope is not opened in some configurations: why (nofs-redundant then stays quiet)
  source: Source;
}

/**
 * A helper that returns a gfp mask derived from a mapping: `mapping_gfp_mask(m)`; `mapping_gfp_constraint(m, gfp)`
 * (the mapping's mask AND `gfpArg`); `readahead_gfp_mask(m)` (the mapping's mask with `adds`).
 */
export interface MaskHelperEntry {
  name: string;
  mappingArg: number;
  gfpArg?: number;
  adds?: string[];
  versions?: KernelTable[];
  source: Source;
}

/** A sparse context name that is not a lock expression (`__acquire(RCU)`, `__acquires(RCU)`) and its lock class. */
export interface LockContextEntry {
  name: string; // "RCU"
  cls: string; // "rcu_read_lock"
  versions?: KernelTable[];
  source: Source;
}

/**
 * An ops-table field through which reclaim, kswapd, an mmu-notifier invalidation or a page fault calls fs/driver code.
 * `path` lists the generic kernel functions from the allocator (or fault) down to the call through the field: each
 * step cites the line of that function that calls the next step, the last one the call through the field (so its
 * citation equals `source`). An entry without `versions` cites 6.12 and has the same functions in 6.1.
 */
export interface ReclaimEntry {
  field: string;                 // "evict_inode"
  struct?: string;               // "super_operations": the struct type the field belongs to
  /** the field name alone identifies the entry (for `s->scan_objects = f` where the struct type is unknown) */
  uniqueField: boolean;
  context: 'reclaim' | 'kswapd' | 'mmu-notifier' | 'fault';
  /** the kernel functions from the allocator (or fault) to the call through the field, outermost first, each cited */
  path: { fn: string; source: Source }[];
  /** gfp bits the generic code requires before calling through the field (super_cache_scan's __GFP_FS test) */
  requires?: string[];
  /** objects the callback is called on, when that rules out objects the allocating task holds a reference to */
  objects?: 'unreferenced-inode' | 'any';
  /** reclaim takes this path only under a rare condition (an unmounting superblock, an I_DONTCACHE inode): which */
  rare?: string;
  /** reached only by a write access to user memory (->page_mkwrite), not by a read fault */
  onWrite?: boolean;
  note?: string;
  versions?: KernelTable[];
  source: Source;                // where the field is called
}

/**
 * A token that, tested in an `if` inside a reclaim/fault callback, gates the code after it (see reference e.3).
 * gfp-bits: `gfp & TOKEN` (for several bits: `(gfp & TOKEN) == TOKEN`) is true when the mask has all of `bits`.
 */
export interface ReclaimGateEntry {
  token: string;                 // "__GFP_FS" | "gfpflags_allow_blocking" | "current_is_kswapd" | "PF_MEMALLOC" | …
  /** what it means when the condition containing the token is TRUE */
  meaning: 'gfp-bits' | 'kswapd' | 'in-reclaim' | 'blockable' | 'unlinked-inode';
  bits?: string[];               // meaning 'gfp-bits': the bits the token tests (gfpflags_allow_blocking → ["__GFP_DIRECT_RECLAIM"])
  source: Source;
}

/** A wait across threads that makes reclaim depend on locks another thread takes (loop-back NFS). Off unless its setting is on. */
export interface CrossWaitEntry {
  /** gfp bits the allocation's mask must have for reclaim to start the wait (the inode shrinker needs __GFP_FS) */
  requires?: string[];
  name: string;                  // "loopback-nfs"
  setting: string;               // "reclaimLens.model.loopbackNfs"
  context: 'reclaim' | 'kswapd' | 'mmu-notifier' | 'fault';
  /** how reclaim comes to wait: kernel functions, each cited (nfs release_folio / commit wait …) */
  path: { fn: string; source: Source }[];
  /** the thread reclaim waits for ("nfsd") and the lock classes it takes, each with the function that takes it */
  waitsFor: string;
  takes: { cls: string; fn: string; source: Source }[];
  note?: string;
  versions?: KernelTable[];
  source: Source;
}

/** A function or macro that returns a pointer to a known struct (EXT4_I(inode) → ext4_inode_info), for lock class names. */
export interface AccessorEntry {
  name: string;                  // "EXT4_I"
  returns: string;               // "ext4_inode_info" (struct tag, no "struct ")
  versions?: KernelTable[];
  source: Source;
}

/**
 * The struct a pointer field points to (inode.i_mapping → address_space), for lock class names. Also used for a few
 * embedded struct members (`inode.i_data`, `file.f_path`) that lock expressions reach with `.`.
 */
export interface FieldTypeEntry {
  struct: string;                // "inode"
  field: string;                 // "i_mapping"
  type: string;                  // "address_space"
  versions?: KernelTable[];
  source: Source;
}

export interface KnowledgeBase {
  gfp: Record<KernelTable, GfpTableFile>;
  allocators: AllocatorEntry[];
  scopes: ScopeApiEntry[];
  locks: LockApiEntry[];
  lockFlags: LockFlagEntry[];
  guards: GuardEntry[];
  uaccess: UaccessEntry[];
  sleepers: SleeperEntry[];
  transactions: TransactionEntry[];
  maskHelpers: MaskHelperEntry[];
  lockContexts: LockContextEntry[];
  reclaimEntries: ReclaimEntry[];
  reclaimGates: ReclaimGateEntry[];
  crossWaits: CrossWaitEntry[];
  accessors: AccessorEntry[];
  fieldTypes: FieldTypeEntry[];
  classKeys: ClassKeyEntry[];
  deferredCalls: DeferredCallEntry[];
  lockOrders: LockOrderEntry[];
  dispatches: DispatchEntry[];
}

/**
 * A call through a function pointer that reclaim and fault paths follow (`ocfs2_stack_operations.dlm_unlock`:
 * ocfs2 unlocks its cluster locks through its stack plugin's table). Reclaim-side walks follow no other call through
 * a pointer: resolved by the struct type alone they reach every table's function.
 */
export interface DispatchEntry {
  struct: string;
  field: string;
  versions?: KernelTable[];
  source: Source;
}

/**
 * A lock class whose lockdep key is per filesystem type (`lockdep_set_class(&inode->i_rwsem,
 * &sb->s_type->i_mutex_key)`): ext4's i_rwsem and ocfs2's are different classes. Code under fs/<name>/ takes
 * the <name> class; generic code (fs/*.c, mm/) takes the class of whichever filesystem it is called for.
 */
export interface ClassKeyEntry {
  cls: string; // "&inode->i_rwsem"
  key: 'file_system_type';
  versions?: KernelTable[];
  source: Source;
}

/**
 * A call the call graph sees but that does not run synchronously in the caller's context (`mntput_no_expire()`
 * queues `cleanup_mnt()` as task work for non-kernel-thread tasks): reclaim and fault paths do not follow it.
 */
export interface DeferredCallEntry {
  /** absent: the callee is not followed from any caller (an error-only function) */
  caller?: string;
  callee: string;
  note: string;
  /**
   * The call reaches nothing relevant on any path, not only on reclaim and fault paths (the elevator's uevent is
   * filtered before it allocates): calling contexts do not go through it either.
   */
  everywhere?: boolean;
  versions?: KernelTable[];
  source: Source;
}

/**
 * A lock order the kernel documents as correct (`inode->i_rwsem` before `mm->mmap_lock`: buffered writes copy from
 * user memory under i_rwsem). A cycle whose edge from the held lock to the pseudo-lock is such an order is not
 * reported at that edge: if the other side takes the lock, that side breaks the documented order.
 */
export interface LockOrderEntry {
  before: string;
  after: string;
  note: string;
  versions?: KernelTable[];
  source: Source;
}
