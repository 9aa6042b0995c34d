// Explicit-state explorer for compiled `.rlsim` programs.
//
// Semantics (docs/rlsim.md, "Explorer semantics"): a state is every thread's frame stack (thread body →
// fault handler → reclaim callback), its two-phase step marker and memalloc scope depths, plus the state of
// every resource. A transition is one step of one thread. A state is a deadlock when no thread can step and
// some thread has not finished.
//
// Search: breadth-first with state hashing, so the first deadlock dequeued has the shortest trace.
//
// Partial-order reduction: at each state the explorer expands a *stubborn set* of threads instead of all
// enabled threads. The set is the smallest conflict closure over seeds: start from an enabled thread t;
// for every enabled member add every thread whose *future* (the resources its remaining steps, including
// every reclaim callback or fault handler they may enter, may touch) intersects the resource of the
// member's next step; for every blocked member add every thread whose future touches the resource it waits
// on. All transitions (all nondeterministic outcomes) of the enabled members are expanded.
// Why this preserves deadlocks and shortest trace lengths: transitions of threads outside the set touch
// none of the set's next resources, so (D1) they commute with the set's transitions and do not disable
// them, and (D2) they cannot enable a blocked member; the seed is enabled and stays enabled (key
// transition). These are Valmari's deadlock-preserving stubborn-set conditions: for every path w from s to
// a deadlock, the reduced graph contains a path from s that is a permutation of w, hence of the same
// length, to the same deadlock. BFS over the reduced graph therefore finds the same verdict and the same
// shortest length. No cycle proviso is needed: only deadlocks are checked and the state graph is acyclic
// (models have no loops). test/simulate/explore.test.ts checks verdict and length against the unreduced
// search on every fixture.
import { __GFP_DIRECT_RECLAIM } from './gfp';
import {
  admits, bit, compile, effectiveMask, initialState, MAX_DEPTH, T_DEPTH, T_NOFS, T_NOIO, T_NORECLAIM, T_PHASE,
  THREAD_WIDTH, type Instr, type Program,
} from './program';
import type { Model } from './model';

export type ThreadStatus = 'done' | 'enabled' | 'blocked' | 'stuck';

export interface MoveEvent {
  thread: number;
  block: number;
  index: number;
  instr: Instr;
  /**
   * exec: the step completed. queued: a writer joined the rwsem wait queue (and now waits).
   * begin: commit/freeze closed the gate and now waits for handles / usage to drain.
   * bail: a trylock failed and its block bailed out, releasing what the block held.
   */
  kind: 'exec' | 'queued' | 'begin' | 'bail';
  /** alloc / reclaim / fault: the block entered, or -1 when none was. */
  entered?: number;
}

export interface Moves {
  status: ThreadStatus;
  /** The resource the next step touches (enabled) or waits on (blocked); -1 for thread-local steps. */
  res: number;
  next: number[][];
  events: MoveEvent[];
}

export interface ExploreOptions {
  /** Use the stubborn-set reduction (default true). */
  reduce?: boolean;
  /** Give up after this many states (default 2,000,000). */
  maxStates?: number;
}

export interface Transition {
  thread: number;
  /** Index into the successor list of that thread's moves. */
  choice: number;
}

export interface ExploreResult {
  verdict: 'deadlock' | 'no-deadlock' | 'limit';
  statesExplored: number;
  transitionsExplored: number;
  reduced: boolean;
  /** Shortest path from the initial state to the deadlock. */
  path?: Transition[];
  program: Program;
}

/** Pop frames whose block has finished; a finished thread gets an all-zero slot (canonical). */
function normalize(p: Program, s: number[], base: number): void {
  let depth = s[base + T_DEPTH];
  while (depth > 0 && s[base + 2 * depth] >= p.blocks[s[base + 2 * depth - 1]].instrs.length) {
    s[base + 2 * depth - 1] = 0;
    s[base + 2 * depth] = 0;
    depth--;
  }
  s[base + T_DEPTH] = depth;
  if (depth === 0) {
    s[base + T_PHASE] = 0;
    s[base + T_NOFS] = 0;
    s[base + T_NOIO] = 0;
    s[base + T_NORECLAIM] = 0;
  }
}

function advance(p: Program, s: number[], base: number): void {
  const depth = s[base + T_DEPTH];
  s[base + 2 * depth]++;
  s[base + T_PHASE] = 0;
  normalize(p, s, base);
}

/** Advance past the current step, then enter `block` (a callback or handler) on top of the stack. */
function advanceAndEnter(p: Program, s: number[], base: number, block: number): void {
  const depth = s[base + T_DEPTH];
  s[base + 2 * depth]++;
  s[base + T_PHASE] = 0;
  if (depth < MAX_DEPTH) {
    s[base + T_DEPTH] = depth + 1;
    s[base + 2 * depth + 1] = block;
    s[base + 2 * depth + 2] = 0;
  }
  normalize(p, s, base);
}

export function spinsHeld(p: Program, s: number[], t: number): number {
  let c = 0;
  for (const off of p.spinOffsets) if (s[off] === t + 1) c++;
  return c;
}

/** PF_MEMALLOC: kswapd, a noreclaim scope, or already inside a reclaim callback: allocations do not reclaim. */
function inMemalloc(p: Program, s: number[], t: number): boolean {
  if (p.threads[t].role === 'kswapd') return true;
  const base = t * THREAD_WIDTH;
  if (s[base + T_NORECLAIM] > 0) return true;
  const depth = s[base + T_DEPTH];
  for (let d = 1; d <= depth; d++) if (p.blocks[s[base + 2 * d - 1]].kind === 'reclaim') return true;
  return false;
}

/** Reclaim callbacks an alloc / reclaim step enters in the current context (block ids, declaration order). */
export function enterableCallbacks(p: Program, s: number[], t: number, ins: Instr): number[] {
  const base = t * THREAD_WIDTH;
  const eff = effectiveMask(ins.mask, s[base + T_NOFS], s[base + T_NOIO]);
  const kswapd = p.threads[t].role === 'kswapd';
  const out: number[] = [];
  if (ins.op === 'alloc') {
    if (inMemalloc(p, s, t) || (eff & __GFP_DIRECT_RECLAIM) === 0) return out;
    for (const id of p.reclaimBlocks) if (admits(p.blocks[id].reclaim!, eff, false, false)) out.push(id);
    return out;
  }
  if (!kswapd && inMemalloc(p, s, t)) return out;
  for (const id of p.reclaimBlocks) if (admits(p.blocks[id].reclaim!, eff, kswapd, true)) out.push(id);
  return out;
}

/** Per-call context of threadMoves, passed to the module-level helpers (no closures on the hot path). */
interface MoveCtx {
  p: Program;
  s: number[];
  t: number;
  base: number;
  block: number;
  index: number;
  ins: Instr;
  withEvents: boolean;
  out: Moves;
}

function pushMove(c: MoveCtx, ns: number[], kind: MoveEvent['kind'], entered?: number): Moves {
  c.out.next.push(ns);
  if (c.withEvents) c.out.events.push({ thread: c.t, block: c.block, index: c.index, instr: c.ins, kind, entered });
  return c.out;
}

/** The step completed: advance past it. */
function completed(c: MoveCtx, ns: number[]): Moves {
  advance(c.p, ns, c.base);
  return pushMove(c, ns, 'exec');
}

/** A two-phase step's first phase: the thread stays at the step with phase 1. */
function firstPhase(c: MoveCtx, ns: number[], kind: 'queued' | 'begin'): Moves {
  ns[c.base + T_PHASE] = 1;
  return pushMove(c, ns, kind);
}

function blockedMove(res: number): Moves {
  return { status: 'blocked', res, next: [], events: [] };
}

function sumCounts(s: number[], start: number, n: number): number {
  let c = 0;
  for (let u = 0; u < n; u++) c += s[start + u];
  return c;
}

/** A failed trylock: release what the block holds (static list), close its scopes, leave the block. */
function bailOut(c: MoveCtx): Moves {
  const { p, s, t, base, ins } = c;
  const me = t + 1;
  const ns = s.slice();
  for (const b of ins.bail) {
    const o = p.resources[b.res].off;
    if (b.mode === 'w') {
      if (ns[o] === me) ns[o] = 0;
    } else if (b.mode === 'r') {
      if (ns[o + 2 + t] > 0) ns[o + 2 + t]--;
    } else if (b.mode === 'n') {
      if (ns[o + 1 + t] > 0) ns[o + 1 + t]--;
    } else if (ns[o] === me) {
      ns[o] = 0;
    }
  }
  ns[base + T_NOFS] = Math.max(0, ns[base + T_NOFS] - ins.bailScopes.nofs);
  ns[base + T_NOIO] = Math.max(0, ns[base + T_NOIO] - ins.bailScopes.noio);
  ns[base + T_NORECLAIM] = Math.max(0, ns[base + T_NORECLAIM] - ins.bailScopes.noreclaim);
  // Leave the block: jump to its end and let normalize pop it.
  ns[base + 2 * ns[base + T_DEPTH]] = p.blocks[c.block].instrs.length;
  ns[base + T_PHASE] = 0;
  normalize(p, ns, base);
  return pushMove(c, ns, 'bail');
}

/** alloc / reclaim / fault: either nothing is entered, or one of `entries` is. */
function enterChoices(c: MoveCtx, entries: number[]): Moves {
  const ns = c.s.slice();
  advance(c.p, ns, c.base);
  pushMove(c, ns, 'exec', -1);
  for (const id of entries) {
    const ns2 = c.s.slice();
    advanceAndEnter(c.p, ns2, c.base, id);
    pushMove(c, ns2, 'exec', id);
  }
  return c.out;
}

/** Every move thread t can make from s (all nondeterministic outcomes of its next step). */
export function threadMoves(p: Program, s: number[], t: number, withEvents: boolean): Moves {
  const base = t * THREAD_WIDTH;
  const depth = s[base + T_DEPTH];
  if (depth === 0) return { status: 'done', res: -1, next: [], events: [] };
  const block = s[base + 2 * depth - 1];
  const index = s[base + 2 * depth];
  const ins = p.blocks[block].instrs[index];
  const res = ins.res;
  if (ins.sleeps && p.spinOffsets.length > 0 && spinsHeld(p, s, t) > 0) {
    return { status: 'stuck', res: -1, next: [], events: [] };
  }
  const c: MoveCtx = { p, s, t, base, block, index, ins, withEvents, out: { status: 'enabled', res, next: [], events: [] } };
  const phase = s[base + T_PHASE];
  const me = t + 1;
  const n = p.threads.length;
  const r = res >= 0 ? p.resources[res] : undefined;
  const off = r ? r.off : -1;

  switch (ins.op) {
    case 'lock': {
      if (!r) return completed(c, s.slice());
      if (r.decl.kind !== 'rwsem') {
        if (s[off] !== 0) return blockedMove(res);
        const ns = s.slice();
        ns[off] = me;
        return completed(c, ns);
      }
      if (phase === 0) {
        const ns = s.slice();
        if (s[off] === 0 && s[off + 1] === 0 && sumCounts(s, off + 2, n) === 0) {
          ns[off] = me;
          return completed(c, ns);
        }
        ns[off + 1]++;
        return firstPhase(c, ns, 'queued');
      }
      if (s[off] !== 0 || sumCounts(s, off + 2, n) !== 0) return blockedMove(res);
      const ns = s.slice();
      ns[off + 1]--;
      ns[off] = me;
      return completed(c, ns);
    }
    case 'rlock': {
      if (!r) return completed(c, s.slice());
      if (s[off] !== 0 || s[off + 1] !== 0) return blockedMove(res);
      const ns = s.slice();
      ns[off + 2 + t]++;
      return completed(c, ns);
    }
    case 'trylock': {
      if (!r) return completed(c, s.slice());
      if (r.decl.kind !== 'rwsem') {
        if (s[off] !== 0) return bailOut(c);
      } else if (s[off] !== 0 || s[off + 1] !== 0 || sumCounts(s, off + 2, n) !== 0) {
        return bailOut(c);
      }
      const ns = s.slice();
      ns[off] = me;
      return completed(c, ns);
    }
    case 'tryrlock': {
      if (!r) return completed(c, s.slice());
      if (s[off] !== 0 || s[off + 1] !== 0) return bailOut(c);
      const ns = s.slice();
      ns[off + 2 + t]++;
      return completed(c, ns);
    }
    case 'unlock': {
      const ns = s.slice();
      if (r) {
        if (ns[off] === me) ns[off] = 0;
        else if (r.decl.kind === 'rwsem' && ns[off + 2 + t] > 0) ns[off + 2 + t]--;
      }
      return completed(c, ns);
    }
    case 'wait':
      if (r && s[off] === 0) return blockedMove(res);
      return completed(c, s.slice());
    case 'signal': {
      const ns = s.slice();
      if (r) ns[off] = 1;
      return completed(c, ns);
    }
    case 'start': {
      if (!r) return completed(c, s.slice());
      if (s[off] !== 0 && s[off + 1 + t] === 0) return blockedMove(res);
      const ns = s.slice();
      ns[off + 1 + t]++;
      return completed(c, ns);
    }
    case 'stop': case 'exit': {
      const ns = s.slice();
      if (r && ns[off + 1 + t] > 0) ns[off + 1 + t]--;
      return completed(c, ns);
    }
    case 'commit': {
      if (!r) return completed(c, s.slice());
      if (phase === 0) {
        if (s[off] !== 0) return blockedMove(res);
        if (sumCounts(s, off + 1, n) === 0) return completed(c, s.slice());
        const ns = s.slice();
        ns[off] = me;
        return firstPhase(c, ns, 'begin');
      }
      if (sumCounts(s, off + 1, n) !== 0) return blockedMove(res);
      const ns = s.slice();
      ns[off] = 0;
      return completed(c, ns);
    }
    case 'freeze': {
      if (!r) return completed(c, s.slice());
      if (phase === 0) {
        if (s[off] !== 0) return blockedMove(res);
        const ns = s.slice();
        ns[off] = me;
        if (sumCounts(s, off + 1, n) === 0) return completed(c, ns);
        return firstPhase(c, ns, 'begin');
      }
      if (sumCounts(s, off + 1, n) !== 0) return blockedMove(res);
      return completed(c, s.slice());
    }
    case 'unfreeze': {
      const ns = s.slice();
      if (r && ns[off] === me) ns[off] = 0;
      return completed(c, ns);
    }
    case 'io':
      if (r && s[off] !== 0) return blockedMove(res);
      return completed(c, s.slice());
    case 'enter': {
      if (!r) return completed(c, s.slice());
      if (s[off] !== 0) return blockedMove(res);
      const ns = s.slice();
      ns[off + 1 + t]++;
      return completed(c, ns);
    }
    case 'alloc': case 'reclaim':
      return enterChoices(c, enterableCallbacks(p, s, t, ins));
    case 'fault':
      return enterChoices(c, ins.handlers);
    case 'nofs_save': case 'noio_save': case 'noreclaim_save': case 'nofs_restore': case 'noio_restore': case 'noreclaim_restore': {
      const ns = s.slice();
      const slot = ins.op.startsWith('nofs') ? T_NOFS : ins.op.startsWith('noio') ? T_NOIO : T_NORECLAIM;
      ns[base + slot] = ins.op.endsWith('save') ? ns[base + slot] + 1 : Math.max(0, ns[base + slot] - 1);
      return completed(c, ns);
    }
  }
  return completed(c, s.slice());
}

/** Resources thread t may still touch from state s (its current frames' remaining steps and what they enter). */
export function threadFuture(p: Program, s: number[], t: number): bigint {
  const base = t * THREAD_WIDTH;
  const depth = s[base + T_DEPTH];
  let f = 0n;
  for (let d = 1; d <= depth; d++) f |= p.blocks[s[base + 2 * d - 1]].future[s[base + 2 * d]];
  return f;
}

/** Completions thread t may still signal. */
export function threadSignals(p: Program, s: number[], t: number): bigint {
  const base = t * THREAD_WIDTH;
  const depth = s[base + T_DEPTH];
  let f = 0n;
  for (let d = 1; d <= depth; d++) f |= p.blocks[s[base + 2 * d - 1]].signals[s[base + 2 * d]];
  return f;
}

/** The threads whose transitions the reduced search expands at s (see the header comment). */
function stubbornThreads(p: Program, s: number[], moves: Moves[]): number[] {
  const n = moves.length;
  const futures: bigint[] = [];
  for (let t = 0; t < n; t++) futures.push(moves[t].status === 'done' ? 0n : threadFuture(p, s, t));
  let best: number[] | undefined;
  for (let seed = 0; seed < n && (!best || best.length > 1); seed++) {
    if (moves[seed].status !== 'enabled') continue;
    const inSet = new Array<boolean>(n).fill(false);
    inSet[seed] = true;
    const work = [seed];
    while (work.length > 0) {
      const u = work.pop()!;
      const m = moves[u];
      // A thread-local next step (res < 0) conflicts with nobody; a stuck thread can never be enabled.
      if (m.status === 'stuck' || m.res < 0) continue;
      const rb = bit(m.res);
      for (let v = 0; v < n; v++) {
        if (inSet[v] || moves[v].status === 'done') continue;
        if ((futures[v] & rb) !== 0n) {
          inSet[v] = true;
          work.push(v);
        }
      }
    }
    const enabledMembers: number[] = [];
    for (let v = 0; v < n; v++) if (inSet[v] && moves[v].status === 'enabled') enabledMembers.push(v);
    if (!best || enabledMembers.length < best.length) best = enabledMembers;
  }
  return best ?? [];
}

function stateKey(s: number[]): string {
  return String.fromCharCode.apply(null, s);
}

export function explore(p: Program, opts: ExploreOptions = {}): ExploreResult {
  const reduce = opts.reduce ?? true;
  const maxStates = opts.maxStates ?? 2_000_000;
  const n = p.threads.length;
  const init = initialState(p);
  const states: number[][] = [init];
  const parent: number[] = [-1];
  const via: number[] = [-1];
  const seen = new Map<string, number>([[stateKey(init), 0]]);
  let transitions = 0;
  for (let head = 0; head < states.length; head++) {
    const s = states[head];
    const moves: Moves[] = [];
    let anyEnabled = false;
    let allDone = true;
    for (let t = 0; t < n; t++) {
      const m = threadMoves(p, s, t, false);
      moves.push(m);
      if (m.status === 'enabled') anyEnabled = true;
      if (m.status !== 'done') allDone = false;
    }
    if (!anyEnabled) {
      if (allDone) continue;
      const path: Transition[] = [];
      for (let i = head; parent[i] >= 0; i = parent[i]) path.push({ thread: via[i] >> 16, choice: via[i] & 0xffff });
      path.reverse();
      return { verdict: 'deadlock', statesExplored: states.length, transitionsExplored: transitions, reduced: reduce, path, program: p };
    }
    let expand: number[];
    if (reduce) {
      expand = stubbornThreads(p, s, moves);
    } else {
      expand = [];
      for (let t = 0; t < n; t++) if (moves[t].status === 'enabled') expand.push(t);
    }
    for (const t of expand) {
      const next = moves[t].next;
      for (let c = 0; c < next.length; c++) {
        transitions++;
        const key = stateKey(next[c]);
        if (seen.has(key)) continue;
        seen.set(key, states.length);
        states.push(next[c]);
        parent.push(head);
        via.push((t << 16) | c);
        if (states.length > maxStates) {
          return { verdict: 'limit', statesExplored: states.length, transitionsExplored: transitions, reduced: reduce, program: p };
        }
      }
    }
  }
  return { verdict: 'no-deadlock', statesExplored: states.length, transitionsExplored: transitions, reduced: reduce, program: p };
}

/** Compile and explore in one call. */
export function exploreModel(model: Model, opts: ExploreOptions = {}): ExploreResult {
  return explore(compile(model), opts);
}
