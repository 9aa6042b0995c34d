// Turns an explorer result into a readable trace: replays the shortest path, records every step with its
// source location and the resources its thread holds afterwards, appends each stuck thread's pending step,
// and analyses the final state (who waits for what, held by whom, the cycle and its lockdep-style chain).
import {
  explore, threadMoves, threadSignals, type ExploreOptions, type ExploreResult, type MoveEvent,
} from './explore';
import { compile, bit, initialState, T_DEPTH, T_PHASE, THREAD_WIDTH, type Instr, type Program } from './program';
import type { Model, SourceLocation, ThreadRole } from './model';

export type DeadlockKind = 'circular' | 'recursive' | 'stuck' | 'sleep-in-atomic';

export interface SimStep {
  /** 1-based position in the trace. */
  index: number;
  thread: number;
  threadName: string;
  /** The step's operation (lock, rlock, trylock, unlock, alloc, fault, wait, ...). */
  action: string;
  resource?: string;
  mask?: string;
  /** alloc / reclaim / fault: the reclaim callback or fault handler entered. */
  callback?: string;
  /** Callbacks / handlers the step runs inside, outermost first. */
  context: string[];
  location?: SourceLocation;
  note?: string;
  /** lockdep-style rendering: `lock(&x)`, `rlock(&x)`, `alloc(GFP_KERNEL)`. */
  label: string;
  /** Longer explanation: what happened (entered, bailed out, queued, blocked because ...). */
  detail: string;
  holdsAfter: string[];
  blocked?: boolean;
  failed?: boolean;
  phase?: 'queued' | 'begin';
  instr: Instr;
}

export interface WaitInfo {
  thread: number;
  /** Resource id the thread waits on, -1 for sleep-in-atomic. */
  res: number;
  waitsFor: string;
  /** Threads that could release / signal what it waits for. */
  heldBy: number[];
}

export interface ChainLink {
  from: string;
  to: string;
  thread: number;
  /** What established the link: the acquisition / entry step. */
  via: string;
  location?: SourceLocation;
  context: string[];
  /** Where `from` was taken (or will be signalled), when known. */
  fromSite?: { label: string; location?: SourceLocation; pending?: boolean };
  blocked: boolean;
}

export interface Simulation {
  modelName?: string;
  program: Program;
  result: ExploreResult;
  verdict: 'deadlock' | 'no-deadlock' | 'limit';
  kind?: DeadlockKind;
  threads: { name: string; role: ThreadRole }[];
  /** Executed steps followed by one blocked step per unfinished thread. */
  steps: SimStep[];
  /** Number of executed transitions (the shortest trace length). */
  length: number;
  waits: WaitInfo[];
  /** Wait-for cycle, each entry's heldBy[0] being the next entry's thread; empty when there is none. */
  cycle: WaitInfo[];
  /** Lock-class chain nodes (`A --> fs_reclaim --> B --> A`) and one link per arrow. */
  chain: string[];
  links: ChainLink[];
  /** For sleep-in-atomic: the spinlocks held by the stuck thread and where they were taken. */
  atomicHolds?: { thread: number; lock: string; location?: SourceLocation }[];
}

export function resourceName(p: Program, res: number): string {
  return res >= 0 ? p.resources[res].decl.name : '?';
}

/** Labels in lockdep's scenario style; resources of non-lock kinds get their own verbs. */
export function instrLabel(p: Program, ins: Instr): string {
  const step = ins.step;
  const name = ins.res >= 0 ? resourceName(p, ins.res) : step.resource ?? '';
  switch (ins.op) {
    case 'alloc': case 'reclaim':
      return `${ins.op}(${step.mask?.text ?? ''})`;
    case 'fault':
      return step.handler ? `fault(${step.handler})` : 'fault()';
    default:
      return step.resource !== undefined ? `${ins.op}(${name})` : `${ins.op}()`;
  }
}

/** Names of resources thread t holds in state s, readers and other shares marked. */
export function holdsOf(p: Program, s: number[], t: number): string[] {
  const out: string[] = [];
  const me = t + 1;
  for (const r of p.resources) {
    const name = r.decl.name;
    switch (r.decl.kind) {
      case 'mutex': case 'spinlock':
        if (s[r.off] === me) out.push(name);
        break;
      case 'rwsem': {
        if (s[r.off] === me) out.push(name);
        const c = s[r.off + 2 + t];
        if (c > 0) out.push(c > 1 ? `${name} (read x${c})` : `${name} (read)`);
        break;
      }
      case 'transaction':
        if (s[r.off + 1 + t] > 0) out.push(`${name} (handle)`);
        if (s[r.off] === me) out.push(`${name} (commit)`);
        break;
      case 'queue':
        if (s[r.off] === me) out.push(`${name} (frozen)`);
        if (s[r.off + 1 + t] > 0) out.push(`${name} (usage)`);
        break;
      default:
        break;
    }
  }
  return out;
}

/** Pseudo-lock lockdep uses for entering a reclaim callback or fault handler. */
function pseudoLock(p: Program, block: number): string {
  const b = p.blocks[block];
  if (b.kind === 'fault') return '&mm->mmap_lock';
  return b.reclaim?.kind === 'mmu_notifier' ? 'mmu_notifier_invalidate_range_start' : 'fs_reclaim';
}

function frameNames(p: Program, s: number[], t: number): string[] {
  const base = t * THREAD_WIDTH;
  const names: string[] = [];
  for (let d = 2; d <= s[base + T_DEPTH]; d++) names.push(p.blocks[s[base + 2 * d - 1]].name);
  return names;
}

function describeEntry(p: Program, block: number): string {
  const b = p.blocks[block];
  if (b.kind === 'fault') return `page fault → ${b.name}`;
  const cb = b.reclaim!;
  const gate = cb.gate ? `, gate ${cb.gate.text}` : '';
  return `${cb.from === 'kswapd' ? 'kswapd reclaim' : 'direct reclaim'} → ${b.name} (${cb.kind}${gate})`;
}

const ACQUIRE_OPS = new Set(['lock', 'rlock', 'trylock', 'tryrlock', 'start', 'enter', 'freeze']);

/** Explore and build the full simulation result. */
export function simulateModel(model: Model, opts: ExploreOptions = {}): Simulation {
  const p = compile(model);
  return buildSimulation(p, explore(p, opts));
}

export function buildSimulation(p: Program, result: ExploreResult): Simulation {
  const sim: Simulation = {
    modelName: p.model.name, program: p, result, verdict: result.verdict,
    threads: p.threads.map((t) => ({ name: t.name, role: t.role })),
    steps: [], length: 0, waits: [], cycle: [], chain: [], links: [],
  };
  if (result.verdict !== 'deadlock' || !result.path) return sim;
  const n = p.threads.length;
  let s = initialState(p);
  // Per thread: step index of the latest acquisition of each resource, and entry steps of open frames.
  const acquired: Map<number, number>[] = p.threads.map(() => new Map());
  const entries: number[][] = p.threads.map(() => []);
  const lastStepOf: number[] = new Array<number>(n).fill(0);
  for (const tr of result.path) {
    const m = threadMoves(p, s, tr.thread, true);
    const ev: MoveEvent = m.events[tr.choice];
    const next = m.next[tr.choice];
    const context = frameNames(p, s, tr.thread);
    const index = sim.steps.length + 1;
    const step = stepFromEvent(p, ev, index, context, next);
    sim.steps.push(step);
    lastStepOf[tr.thread] = index;
    const ins = ev.instr;
    if (ACQUIRE_OPS.has(ins.op) && ins.res >= 0 && ev.kind !== 'bail' && ev.kind !== 'queued') acquired[tr.thread].set(ins.res, index);
    const st = entries[tr.thread];
    if (ev.entered !== undefined && ev.entered >= 0) st.push(index);
    const newDepth = next[tr.thread * THREAD_WIDTH + T_DEPTH];
    while (st.length > Math.max(0, newDepth - 1)) st.pop();
    s = next;
  }
  sim.length = sim.steps.length;

  // Pending steps of unfinished threads, and who could unblock them.
  const moves = p.threads.map((_, t) => threadMoves(p, s, t, false));
  for (let t = 0; t < n; t++) {
    const m = moves[t];
    if (m.status === 'done') continue;
    const base = t * THREAD_WIDTH;
    const depth = s[base + T_DEPTH];
    const block = s[base + 2 * depth - 1];
    const ins = p.blocks[block].instrs[s[base + 2 * depth]];
    const label = instrLabel(p, ins);
    const why = m.status === 'stuck' ? 'sleeps while holding a spinlock (atomic context)' : waitReason(p, s, t, ins);
    sim.steps.push({
      index: sim.steps.length + 1, thread: t, threadName: p.threads[t].name, action: ins.op, resource: ins.step.resource,
      mask: ins.step.mask?.text, context: frameNames(p, s, t), location: ins.step.location, note: ins.step.note,
      label, detail: `${label}: blocked, ${why}`, holdsAfter: holdsOf(p, s, t), blocked: true, instr: ins,
    });
    sim.waits.push({ thread: t, res: m.status === 'stuck' ? -1 : ins.res, waitsFor: m.status === 'stuck' ? label : resourceName(p, ins.res), heldBy: m.status === 'stuck' ? [] : unblockers(p, s, t, ins) });
  }

  const stuck = sim.waits.filter((w) => w.res < 0);
  if (stuck.length > 0) {
    sim.kind = 'sleep-in-atomic';
    sim.atomicHolds = [];
    for (const w of stuck) {
      for (const r of p.resources) {
        if (r.decl.kind === 'spinlock' && s[r.off] === w.thread + 1) {
          const at = acquired[w.thread].get(p.resources.indexOf(r));
          sim.atomicHolds.push({ thread: w.thread, lock: r.decl.name, location: at ? sim.steps[at - 1].location : undefined });
        }
      }
    }
    return sim;
  }

  sim.cycle = findCycle(sim.waits);
  if (sim.cycle.length === 0) {
    sim.kind = 'stuck';
    return sim;
  }
  // Rotate so the thread that moved last (the one "trying to acquire") closes the cycle.
  let last = 0;
  for (let i = 1; i < sim.cycle.length; i++) if (lastStepOf[sim.cycle[i].thread] > lastStepOf[sim.cycle[last].thread]) last = i;
  sim.cycle = [...sim.cycle.slice(last + 1), ...sim.cycle.slice(0, last + 1)];

  const k = sim.cycle.length;
  for (let i = 0; i < k; i++) {
    const member = sim.cycle[i];
    const prev = sim.cycle[(i - 1 + k) % k];
    const t = member.thread;
    const heldRes = prev.res;
    const held = resourceName(p, heldRes);
    const blockedStep = sim.steps.find((st) => st.blocked && st.thread === t)!;
    const acqIdx = acquired[t].get(heldRes);
    let fromSite: ChainLink['fromSite'];
    if (acqIdx !== undefined && holdsOf(p, s, t).some((h) => h === held || h.startsWith(held + ' ('))) {
      const a = sim.steps[acqIdx - 1];
      fromSite = { label: a.label, location: a.location };
    } else if (p.resources[heldRes]?.decl.kind === 'completion') {
      const sig = pendingSignal(p, s, t, heldRes);
      fromSite = { label: `signal(${held})`, location: sig?.step.location, pending: true };
    }
    const nodes = [held];
    const vias: { via: string; location?: SourceLocation; context: string[]; blocked: boolean }[] = [];
    const frameEntries = entries[t];
    const base = t * THREAD_WIDTH;
    frameEntries.forEach((entryIdx, j) => {
      if (acqIdx !== undefined && entryIdx < acqIdx) return;
      const block = s[base + 2 * (j + 2) - 1];
      const e = sim.steps[entryIdx - 1];
      nodes.push(pseudoLock(p, block));
      vias.push({ via: `${e.label} → ${describeEntry(p, block)}`, location: e.location, context: e.context, blocked: false });
    });
    nodes.push(resourceName(p, member.res));
    vias.push({ via: blockedStep.label, location: blockedStep.location, context: blockedStep.context, blocked: true });
    for (let j = 0; j < vias.length; j++) {
      sim.links.push({
        from: nodes[j], to: nodes[j + 1], thread: t, via: vias[j].via, location: vias[j].location,
        context: vias[j].context, fromSite: j === 0 ? fromSite : undefined, blocked: vias[j].blocked,
      });
    }
    if (i === 0) sim.chain.push(nodes[0]);
    sim.chain.push(...nodes.slice(1));
  }
  sim.kind = k === 1 && sim.links.length === 1 ? 'recursive' : 'circular';
  return sim;
}

function stepFromEvent(p: Program, ev: MoveEvent, index: number, context: string[], next: number[]): SimStep {
  const ins = ev.instr;
  const label = instrLabel(p, ins);
  const step: SimStep = {
    index, thread: ev.thread, threadName: p.threads[ev.thread].name, action: ins.op, resource: ins.step.resource,
    mask: ins.step.mask?.text, context, location: ins.step.location, note: ins.step.note, label, detail: label,
    holdsAfter: holdsOf(p, next, ev.thread), instr: ins,
  };
  if (ev.entered !== undefined) {
    if (ev.entered >= 0) {
      step.callback = p.blocks[ev.entered].name;
      step.detail = `${label} → ${describeEntry(p, ev.entered)}`;
    } else {
      step.detail = ins.op === 'fault' ? `${label}: no fault (page present)` : `${label}: does not enter reclaim`;
    }
  }
  if (ev.kind === 'bail') {
    step.failed = true;
    const released = ins.bail.map((b) => resourceName(p, b.res));
    step.detail = `${label} failed (${resourceName(p, ins.res)} is busy): ${context.length ? context[context.length - 1] : p.threads[ev.thread].name} bails out` +
      (released.length ? `, releasing ${released.join(', ')}` : '');
  } else if (ev.kind === 'queued') {
    step.phase = 'queued';
    step.detail = `${label}: ${resourceName(p, ins.res)} is busy; joins the wait queue (new readers now block)`;
  } else if (ev.kind === 'begin') {
    step.phase = 'begin';
    step.detail = ins.op === 'commit'
      ? `${label}: commit begins (new handles block) and waits for running handles`
      : `${label}: queue frozen (new I/O blocks); waits for in-flight usage to drain`;
  }
  return step;
}

/** The first `signal` of a completion still ahead of thread t. */
function pendingSignal(p: Program, s: number[], t: number, res: number): Instr | undefined {
  const base = t * THREAD_WIDTH;
  for (let d = s[base + T_DEPTH]; d >= 1; d--) {
    const b = p.blocks[s[base + 2 * d - 1]];
    for (let i = s[base + 2 * d]; i < b.instrs.length; i++) {
      if (b.instrs[i].op === 'signal' && b.instrs[i].res === res) return b.instrs[i];
    }
  }
  return undefined;
}

function waitReason(p: Program, s: number[], t: number, ins: Instr): string {
  const holders = unblockers(p, s, t, ins).map((u) => p.threads[u].name);
  const who = holders.length ? holders.join(', ') : 'no thread';
  const name = resourceName(p, ins.res);
  switch (ins.op) {
    case 'wait': return `${name} not signalled; would be signalled by ${who}`;
    case 'commit': return `waits for handles of ${name} held by ${who}`;
    case 'freeze': return s[p.resources[ins.res].off] === t + 1 ? `waits for usage of ${name} held by ${who}` : `${name} already frozen by ${who}`;
    case 'io': case 'enter': return `${name} is frozen by ${who}`;
    case 'start': return `commit of ${name} pending (${who})`;
    case 'rlock': return `${name} held or queued for write by ${who}`;
    default: return `${name} held by ${who}`;
  }
}

/** Threads that could make thread t's pending step possible. */
function unblockers(p: Program, s: number[], t: number, ins: Instr): number[] {
  if (ins.res < 0) return [];
  const r = p.resources[ins.res];
  const n = p.threads.length;
  const out: number[] = [];
  const add = (u: number): void => {
    if (u >= 0 && !out.includes(u)) out.push(u);
  };
  const phase = s[t * THREAD_WIDTH + T_PHASE];
  switch (ins.op) {
    case 'lock': case 'trylock':
      if (s[r.off] !== 0) add(s[r.off] - 1);
      if (r.decl.kind === 'rwsem' && s[r.off] === 0) for (let u = 0; u < n; u++) if (s[r.off + 2 + u] > 0) add(u);
      break;
    case 'rlock':
      if (s[r.off] !== 0) add(s[r.off] - 1);
      else {
        for (let u = 0; u < n; u++) {
          const b = u * THREAD_WIDTH;
          const d = s[b + T_DEPTH];
          if (d === 0 || s[b + T_PHASE] !== 1) continue;
          const pend = p.blocks[s[b + 2 * d - 1]].instrs[s[b + 2 * d]];
          if (pend.op === 'lock' && pend.res === ins.res) add(u);
        }
      }
      break;
    case 'wait':
      for (let u = 0; u < n; u++) if ((threadSignals(p, s, u) & bit(ins.res)) !== 0n) add(u);
      break;
    case 'commit': case 'freeze':
      if (phase === 1 || (ins.op === 'freeze' && s[r.off] === t + 1)) {
        for (let u = 0; u < n; u++) if (s[r.off + 1 + u] > 0) add(u);
      } else if (s[r.off] !== 0) add(s[r.off] - 1);
      break;
    case 'start': case 'io': case 'enter':
      if (s[r.off] !== 0) add(s[r.off] - 1);
      break;
    default:
      break;
  }
  return out;
}

/** Shortest cycle in the wait-for graph (edges: waiter → each thread that could unblock it). */
function findCycle(waits: WaitInfo[]): WaitInfo[] {
  const byThread = new Map(waits.map((w) => [w.thread, w]));
  let best: WaitInfo[] = [];
  for (const start of waits) {
    // BFS from start over wait edges until we return to start.
    const prev = new Map<number, number>();
    const queue = [start.thread];
    let found = false;
    while (queue.length > 0 && !found) {
      const u = queue.shift()!;
      const w = byThread.get(u);
      if (!w) continue;
      for (const v of w.heldBy) {
        if (v === start.thread) {
          prev.set(-1, u);
          found = true;
          break;
        }
        if (!prev.has(v) && byThread.has(v)) {
          prev.set(v, u);
          queue.push(v);
        }
      }
    }
    if (!found) continue;
    const order: number[] = [];
    for (let u = prev.get(-1)!; ; u = prev.get(u)!) {
      order.push(u);
      if (u === start.thread) break;
    }
    order.reverse();
    if (best.length === 0 || order.length < best.length) {
      best = order.map((u, i) => {
        const w = byThread.get(u)!;
        return { ...w, heldBy: [order[(i + 1) % order.length]] };
      });
    }
  }
  return best;
}
