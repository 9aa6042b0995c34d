// Facts the analysis produces: plain data with file offsets, no syntax-tree nodes, no LSP types.
import type { GfpVal } from './gfpValue';
import type { AllocatorEntry, LockKind, PfFlag } from '../model/kb/types';

/** A half-open range of UTF-16 offsets into the original file text. */
export interface Span {
  start: number;
  end: number;
}

export interface HeldLock {
  /** lockdep-style class name: `&inode->i_rwsem`, `&xfs_inode->i_lock`, `rcu_read_lock` */
  cls: string;
  kind: LockKind;
  read: boolean;
  atomic: boolean;
  irqsOff: boolean;
  api: string;
  site: Span;
  /** taken by a cleanup.h guard */
  guard?: boolean;
}

export interface ScopeFrame {
  flags: PfFlag[];
  /** nofs | noio | noreclaim | pin | flags | trans:<subsystem> */
  family: string;
  api: string;
  site: Span;
  /** where the cookie lives: a local variable (must be restored here), an object field or return value, or nowhere */
  storage: 'local' | 'object' | 'discarded' | 'handle';
  cookie?: string;
  /** transactions: the held resource (jbd2_handle, xfs_trans, btrfs_trans_num_writers) */
  resource?: string;
  /** the scope is not opened in some configurations (knowledge base: why) */
  conditional?: string;
}

export interface PathFacts {
  /**
   * Acyclic paths from the function entry that reach the point in this state (0: only around a loop), counted through
   * the statements the analysis models: branches around statements without relevant names are one path.
   */
  count: number;
  held: HeldLock[];
  scopes: ScopeFrame[];
  atomic: boolean;
}

export interface SitePath extends PathFacts {
  /** the mask is one branch of `param ? A : B` (`atomic ? GFP_ATOMIC : GFP_KERNEL`): the parameter's value for it */
  when?: { param: number; truthy: boolean };
  literal: GfpVal;
  /** after the API's own adjustments and the mapping mask, before the task scope */
  requested: GfpVal;
  /** after API adjustments, mapping mask and task scope: the mask the allocator gets */
  effective: GfpVal;
}

export interface AllocSite {
  api: string;
  entry: AllocatorEntry;
  function: string;
  call: Span;
  callee: Span;
  /** the gfp argument, when written */
  gfpArg?: Span;
  literalText: string;
  paths: SitePath[];
}

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface Related {
  span: Span;
  message: string;
}

export interface Finding {
  code: string;
  severity: Severity;
  span: Span;
  message: string;
  function: string;
  related: Related[];
}

/** Observations that are not allocations but matter to checks and later issues. */
export interface CallObservation {
  kind: 'sleep' | 'uaccess';
  api: string;
  function: string;
  call: Span;
  paths: PathFacts[];
}

/**
 * A call to a function the knowledge base does not know: the raw material of the call graph and of calling
 * contexts (#3). `gfpArgs` holds the symbolic value of each argument that is a gfp expression.
 */
export interface CallSite {
  callee: string;
  span: Span;
  paths: PathFacts[];
  gfpArgs: { index: number; values: GfpVal[] }[];
  /**
   * Arguments that decide a callee's tests: constants (`true`, `false`, `NULL`, integers: `truthy`), flag names
   * or-ed together (`I915_ACTIVE_AWAIT_EXCL | I915_ACTIVE_AWAIT_ACTIVE`: `flags`), and this function's own
   * parameters passed on unchanged (`param`: its index here).
   */
  consts?: ArgConst[];
}

/**
 * A lock acquisition in this function, with the classes this function already holds there (over all paths; locks
 * its callers hold are in the calling contexts). The raw material of the lock-dependency graph (#4).
 */
export interface LockAcquire {
  cls: string;
  api: string;
  kind: LockKind;
  read: boolean;
  /** a trylock never waits, so it never closes a cycle (lockdep records no dependency for it either) */
  trylock: boolean;
  /** might_lock(): declares that the lock may be taken here (lockdep priming) without taking it */
  declared?: boolean;
  /** the API neither sleeps nor spins (set_page_writeback, dma_fence_begin_signalling): it marks a state, it never waits */
  nonblocking?: boolean;
  span: Span;
  /** classes of the sleeping locks held just before on some path (spinning ones are left out) */
  heldBefore: string[];
  /** those held just before on every path that reaches the acquisition */
  heldAlways?: string[];
}

/**
 * A test in a reclaim or fault callback that limits the code after it (or inside it) to some reclaim contexts:
 * `if (!(sc->gfp_mask & __GFP_FS)) return SHRINK_STOP;` (knowledge base: reclaimGates).
 */
export interface Gate {
  /** the code the gate covers */
  region: Span;
  /** the `if` condition */
  site: Span;
  token: string;
  /** gfp bits the allocation's mask must have for reclaim to get into the region */
  requires?: string[];
  /** only kswapd gets into the region */
  kswapdOnly?: boolean;
  /** reclaim never gets into the region (`if (current->flags & PF_MEMALLOC) return`) */
  excluded?: boolean;
  /** reclaim gets into the region only in a rare state (an unlinked inode): which */
  rare?: string;
}

export interface ArgConst {
  index: number;
  truthy?: boolean;
  flags?: string[];
  param?: number;
}

/**
 * Code that runs only when a parameter is truthy (or falsy): `if (!swap) nfs_start_io_direct(inode);`. With the
 * constant arguments of a call site it rules out paths the caller never takes (analysis/paramGuards.ts).
 */
export interface ParamGuard {
  region: Span;
  /** the parameter's index */
  param: number;
  /** what the parameter's value must be for the region to run */
  truthy: boolean;
  /** the test is of one flag bit of the parameter (`flags & I915_ACTIVE_AWAIT_BARRIER`) */
  flag?: string;
}

/** `.evict_inode = xfs_fs_evict_inode` or `s->scan_objects = foo_scan`: a function bound to an ops-table field. */
export interface OpsBinding {
  field: string;
  fn: string;
  /** the struct type of the initializer, when the binding is a designated initializer of a declared struct */
  struct?: string;
  /**
   * the designators of the nested initializers the binding is in, from `struct` down: `static struct elevator_type
   * mq_deadline = { .ops = { .init_sched = dd_init_sched } }` has struct "elevator_type", nested ["ops"]
   */
  nested?: string[];
  /** an assignment `s->scan_objects = demo_scan;`: the struct `s` is declared to point to */
  object?: string;
  span: Span;
}

/** `struct ocfs2_stack_plugin { struct ocfs2_stack_operations *sp_ops; }`: a struct-typed member of a struct. */
export interface StructField {
  struct: string;
  field: string;
  type: string;
}

export interface FunctionFacts {
  name: string;
  span: Span;
  nameSpan: Span;
  isStatic: boolean;
  sites: AllocSite[];
  calls: CallObservation[];
  /** calls to other functions, with the state at each (relative to this function's entry) */
  callSites: CallSite[];
  /** lock acquisitions (blocking, trylock and declared) */
  acquires: LockAcquire[];
  /** releases of locks this function did not take: a caller's lock, dropped here before the code after it */
  releases?: { cls: string; span: Span }[];
  /** reclaim gates (only in functions that test a gate token) */
  gates: Gate[];
  /** branches decided by a parameter (only in functions that test one) */
  paramGuards?: ParamGuard[];
  /** names of the gfp_t parameters, by index */
  gfpParams: { index: number; name: string }[];
  findings: Finding[];
  /** statements the CFG builder could not interpret */
  problems: Span[];
  /** the function body contains a syntax error */
  hasError: boolean;
  /** the state-set cap was reached somewhere: results merge paths */
  approximate: boolean;
}

export interface FileFacts {
  functions: FunctionFacts[];
  /** functions bound to ops-table fields that reclaim or faults call through (knowledge base: reclaimEntries) */
  bindings: OpsBinding[];
  /** struct-typed members of the structs the file defines (for the struct an indirect call's object points to) */
  fields?: StructField[];
  /** messages about the file as a whole (binary, too large, not UTF-8) */
  problems: string[];
}
