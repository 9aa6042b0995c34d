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
  /** messages about the file as a whole (binary, too large, not UTF-8) */
  problems: string[];
}
