// The shapes of quick fixes: a candidate (edits plus what it means to change), a verified fix, a refusal with its
// reason. Plain data with offsets into the text the fix was computed on; no LSP types.
import type { FileFacts, Finding, FunctionFacts } from '../../analysis/facts';
import type { CalleeEffects, FunctionRun } from '../../analysis/functionAnalysis';
import type { KbView } from '../../analysis/kbView';
import type { PfFlag } from '../../model/kb/types';
import type { FunctionInfo } from '../../syntax/ast';
import type { SourceFile } from '../../syntax/sourceFile';
import type { TextEdit } from './edits';

export type FixKind = 'redundant-nofs' | 'close-scope' | 'narrow-or' | 'scope-candidate' | 'unnecessary-nofs' | 'atomic-mask' | 'deadlock-mask'
  | 'deadlock-scope' | 'preload-move' | 'wrapper-scope';

/**
 * A whole-program finding (reclaim-deadlock, reclaim-frozen-queue) handed to the fixes from outside the file's facts,
 * with the gfp bits the reclaim path of its cycle requires (`__GFP_FS`, `__GFP_IO`; none: any direct reclaim).
 */
export interface DeadlockTarget extends Finding {
  requires: string[];
  /** the held lock of the cycle (its lockdep class, the cycle's first lock); else read off the message */
  held?: string;
  /** the function that takes the held lock (a caller, when not this finding's function) */
  takenIn?: string;
  /** the reclaim path that takes it, for the scope's comment (`demo_scan() (shrinker.scan_objects)`) */
  reclaim?: string;
}

/**
 * What a fix means to change, so that verification can tell an intended mask change from an accident. Every other
 * allocation site (and every call's scope flags) must come out of the re-analysis unchanged.
 */
export interface Intent {
  /** allocation sites, by the start of their callee before the fix, whose literal mask the fix rewrites */
  literals: Map<number, { removed: number; added: number }>;
  /**
   * a scope the fix opens: sites and calls it covers on every path get these flags. Its frames are those whose save
   * the fix wrote, and, with `cookieField`, those whose cookie is that (new) field of an object: a scope opened in a
   * lock wrapper is seen by the wrapper's callers at their call of it
   */
  scope?: { flags: PfFlag[]; cookieField?: string };
  /** the scope lives in a lock wrapper and its unlock wrapper (wrapperScope.ts): their invariants, checked after the edit */
  wrapper?: WrapperIntent;
  /**
   * allocation sites (callee start before the fix) the fix moves: found after the edit in the code it wrote, by API
   * and gfp argument, and judged like every other site (same masks unless the intent says otherwise)
   */
  moved?: Set<number>;
  /**
   * a whole-program deadlock the fix breaks at an allocation (callee start before the fix): after the edit, every
   * path's effective mask there must lack one of `without` (a bit the cycle's reclaim path requires)
   */
  breaks?: { site: number; without: string[] };
}

/** What a scope opened inside a lock wrapper must satisfy after the edit (wrapperCheck.ts). */
export interface WrapperIntent {
  /** the lock's class */
  cls: string;
  /** the cookie's field (fresh: no other text of the file names it) */
  field: string;
  /** the functions that take the lock by a lock-API call (and open the scope after it) */
  lockFns: string[];
  /** the functions that release it by a lock-API call (and restore the scope before it) */
  unlockFns: string[];
  /** the scope's family (nofs, noio) */
  family: string;
}

export interface CandidateFix {
  kind: FixKind;
  /** the diagnostic code the fix resolves */
  code: string;
  title: string;
  target: Finding;
  edits: TextEdit[];
  /** the one obvious fix for its finding (VS Code applies it with the "auto fix" command) */
  preferred: boolean;
  confidence: 'high' | 'low';
  /** may be applied without a choice by fix-all and `check --fix` */
  fixAll: boolean;
  /** why the fix is offered at a lower confidence, or what it assumes */
  note?: string;
  intent: Intent;
}

export interface VerifiedFix extends CandidateFix {
  /** refactoring suggestions (off-by-default codes) the fix leaves on the code it wrote */
  followUps: Finding[];
}

export interface Refusal {
  code: string;
  kind?: FixKind;
  target: Finding;
  reason: string;
}

/** What calling contexts say about a function, for nofs-unnecessary: none known holds anything / some does / unknown. */
export interface CallerVerdict {
  verdict: 'clean' | 'dirty' | 'unknown';
  reason: string;
}
export type CallerOracle = (fn: FunctionFacts, file: { text: string; facts: FileFacts }) => CallerVerdict;

/** Parse and analyse (every check on): the verification's oracle. The caller disposes the SourceFile. */
export interface Analyser {
  kb: KbView;
  kernelVersion: string;
  parse(text: string, previous?: SourceFile): SourceFile;
  analyse(file: SourceFile): FileFacts;
}

/** A text with its live tree and its analysis. */
export interface Snapshot {
  text: string;
  file: SourceFile;
  facts: FileFacts;
  /** ERROR and MISSING nodes in the tree */
  errors: number;
}

/** What a fix builder gets: the snapshot, the function's walk (tree nodes alive), the analyser for staged fixes. */
export interface FixInput {
  analyser: Analyser;
  snap: Snapshot;
  fn: FunctionFacts;
  info: FunctionInfo;
  run: FunctionRun;
  callers: CallerOracle;
  /** every function of the file, and the lock and scope effects its functions' callers see of them */
  file: { infos: readonly FunctionInfo[]; callees: CalleeEffects };
}

export type FixBuilder = (input: FixInput, finding: Finding) => CandidateFix[] | Refusal;
