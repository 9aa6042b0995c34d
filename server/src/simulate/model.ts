// The `.rlsim` model language as plain data (the AST parse.ts produces and explore.ts compiles).
// Positions are 1-based lines and 1-based columns; `endColumn` is exclusive.
// The language reference is docs/rlsim.md.

export interface Span {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** Where a step came from in the kernel tree: `@fs/xfs/xfs_icache.c:1035`. */
export interface SourceLocation {
  file: string;
  line: number;
  column?: number;
}

export type ResourceKind = 'mutex' | 'spinlock' | 'rwsem' | 'completion' | 'transaction' | 'queue';

/** How a declaration was spelled: `fence` is a completion shown as a DMA fence. */
export type ResourceFlavor = ResourceKind | 'fence';

export interface ResourceDecl {
  kind: ResourceKind;
  flavor: ResourceFlavor;
  name: string;
  location?: SourceLocation;
  note?: string;
  span: Span;
  nameSpan: Span;
}

/** A gfp mask as written (`GFP_KERNEL & ~__GFP_FS`) and its value from simulate/gfp.ts. */
export interface MaskValue {
  text: string;
  value: number;
}

export type StepOp =
  | 'lock' | 'rlock' | 'trylock' | 'tryrlock' | 'unlock'
  | 'wait' | 'signal'
  | 'start' | 'stop' | 'commit'
  | 'freeze' | 'unfreeze' | 'io' | 'enter' | 'exit'
  | 'alloc' | 'reclaim' | 'fault'
  | 'nofs_save' | 'nofs_restore' | 'noio_save' | 'noio_restore' | 'noreclaim_save' | 'noreclaim_restore';

export interface Step {
  op: StepOp;
  /** Lock / completion / transaction / queue name for resource steps. */
  resource?: string;
  /** alloc and reclaim steps. */
  mask?: MaskValue;
  /** fault steps naming one handler (`fault xfs_filemap_fault`); absent: any declared handler. */
  handler?: string;
  location?: SourceLocation;
  note?: string;
  span: Span;
  /** Span of the operand (resource, mask or handler name) for hovers and diagnostics. */
  operandSpan?: Span;
}

/** The context a reclaim callback runs under, shown in reports. */
export type ReclaimKind =
  | 'shrinker' | 'evict_inode' | 'release_folio' | 'mmu_notifier' | 'writeback' | 'writepage' | 'swap' | 'other';

/** Who may run a reclaim callback: direct reclaim in the allocating task, kswapd, or both. */
export type ReclaimFrom = 'any' | 'direct' | 'kswapd';

export interface ReclaimCallback {
  type: 'reclaim';
  name: string;
  kind: ReclaimKind;
  /** Bits the effective mask must contain for the callback to run; null: any direct-reclaim mask. */
  gate: MaskValue | null;
  from: ReclaimFrom;
  steps: Step[];
  location?: SourceLocation;
  note?: string;
  span: Span;
  nameSpan: Span;
}

export interface FaultHandler {
  type: 'fault';
  name: string;
  steps: Step[];
  location?: SourceLocation;
  note?: string;
  span: Span;
  nameSpan: Span;
}

export type ThreadRole = 'task' | 'kswapd' | 'nfsd' | 'flusher' | 'jbd2' | 'kworker' | 'kthread';

export const THREAD_ROLES: readonly ThreadRole[] = ['task', 'kswapd', 'nfsd', 'flusher', 'jbd2', 'kworker', 'kthread'];
export const RECLAIM_KINDS: readonly ReclaimKind[] = [
  'shrinker', 'evict_inode', 'release_folio', 'mmu_notifier', 'writeback', 'writepage', 'swap', 'other',
];

export interface ThreadDecl {
  name: string;
  role: ThreadRole;
  steps: Step[];
  location?: SourceLocation;
  note?: string;
  span: Span;
  nameSpan: Span;
}

export interface Model {
  name?: string;
  resources: ResourceDecl[];
  reclaims: ReclaimCallback[];
  faults: FaultHandler[];
  threads: ThreadDecl[];
}

export interface Problem {
  message: string;
  severity: 'error' | 'warning';
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface ParseResult {
  model: Model;
  problems: Problem[];
}

/** Which resource kinds each resource step applies to. */
export const STEP_RESOURCE_KINDS: Partial<Record<StepOp, readonly ResourceKind[]>> = {
  lock: ['mutex', 'spinlock', 'rwsem'],
  trylock: ['mutex', 'spinlock', 'rwsem'],
  unlock: ['mutex', 'spinlock', 'rwsem'],
  rlock: ['rwsem'],
  tryrlock: ['rwsem'],
  wait: ['completion'],
  signal: ['completion'],
  start: ['transaction'],
  stop: ['transaction'],
  commit: ['transaction'],
  freeze: ['queue'],
  unfreeze: ['queue'],
  io: ['queue'],
  enter: ['queue'],
  exit: ['queue'],
};

export const SCOPE_OPS: readonly StepOp[] = [
  'nofs_save', 'nofs_restore', 'noio_save', 'noio_restore', 'noreclaim_save', 'noreclaim_restore',
];
