// Compiles a parsed Model into the flat program the explorer runs and the Promela exporter prints.
// Everything here is static: per-instruction resource ids, which instructions may sleep, the release list a
// failed trylock runs when its block bails out, and the resources each block suffix may touch (the "future"
// sets the partial-order reduction uses).
import { __GFP_DIRECT_RECLAIM, __GFP_FS, __GFP_IO } from './gfp';
import type {
  FaultHandler, Model, ReclaimCallback, ResourceDecl, ResourceKind, Step, StepOp, ThreadDecl, ThreadRole,
} from './model';

/** A lock-like acquisition a failed trylock releases when its block bails out. */
export interface BailRelease {
  res: number;
  /** w: exclusive (mutex/spinlock/rwsem write); r: rwsem read; n: transaction handle / queue usage; f: freeze. */
  mode: 'w' | 'r' | 'n' | 'f';
}

export interface Instr {
  op: StepOp;
  step: Step;
  /** Resource id, or -1 for steps that touch only the thread's own state. */
  res: number;
  resKind?: ResourceKind;
  /** Literal gfp mask of alloc / reclaim steps. */
  mask: number;
  /** might_sleep(): blocking lock kinds, waits, faults, and allocations whose mask has __GFP_DIRECT_RECLAIM. */
  sleeps: boolean;
  /** Fault handler block ids a fault step may enter. */
  handlers: number[];
  /** What a failed trylock releases (innermost first) and how many scope levels it closes. */
  bail: BailRelease[];
  bailScopes: { nofs: number; noio: number; noreclaim: number };
}

export type BlockKind = 'thread' | 'reclaim' | 'fault';

export interface Block {
  id: number;
  kind: BlockKind;
  name: string;
  instrs: Instr[];
  reclaim?: ReclaimCallback;
  fault?: FaultHandler;
  thread?: ThreadDecl;
  /** future[i]: resources instrs[i..] (and every callback or handler they may enter) may touch. */
  future: bigint[];
  /** signals[i]: completions instrs[i..] (and what they may enter) may signal. */
  signals: bigint[];
}

export interface ThreadInfo {
  name: string;
  role: ThreadRole;
  block: number;
  decl: ThreadDecl;
}

/** Where each resource's state lives in the global part of the state vector. */
export interface ResourceLayout {
  decl: ResourceDecl;
  /** mutex/spinlock: owner (0 free, t+1). rwsem: writer owner. completion: done. transaction/queue: closer (0, t+1). */
  off: number;
  /** rwsem: queued writers count at off+1, per-thread reader counts at off+2+t. transaction/queue: per-thread counts at off+1+t. */
  size: number;
}

export interface Program {
  model: Model;
  blocks: Block[];
  threads: ThreadInfo[];
  resources: ResourceLayout[];
  /** Block ids of the reclaim callbacks, in declaration order. */
  reclaimBlocks: number[];
  faultBlocks: number[];
  /** Width of one thread's slot and start of the global part. */
  threadWidth: number;
  globalsStart: number;
  stateSize: number;
  spinOffsets: number[];
}

/** Frames per thread: thread body → fault handler → reclaim callback. */
export const MAX_DEPTH = 3;
/** Thread slot: [depth, (block, index) × MAX_DEPTH, phase, nofs, noio, noreclaim]. */
export const T_DEPTH = 0;
export const T_PHASE = 1 + 2 * MAX_DEPTH;
export const T_NOFS = T_PHASE + 1;
export const T_NOIO = T_PHASE + 2;
export const T_NORECLAIM = T_PHASE + 3;
export const THREAD_WIDTH = T_PHASE + 4;

const ACQUIRE_MODE: Partial<Record<StepOp, BailRelease['mode']>> = {
  lock: 'w', trylock: 'w', rlock: 'r', tryrlock: 'r', start: 'n', enter: 'n', freeze: 'f',
};
const RELEASE_OPS: readonly StepOp[] = ['unlock', 'stop', 'exit', 'unfreeze'];

export function bit(res: number): bigint {
  return res < 0 ? 0n : 1n << BigInt(res);
}

/** Effective mask after the thread's memalloc scopes (current_gfp_context): NOIO wins over NOFS. */
export function effectiveMask(mask: number, nofs: number, noio: number): number {
  if (noio > 0) return mask & ~(__GFP_IO | __GFP_FS);
  if (nofs > 0) return mask & ~__GFP_FS;
  return mask;
}

/** Does a reclaim callback run for this effective mask? `kswapd`: the caller is a kswapd thread's reclaim pass. */
export function admits(cb: ReclaimCallback, eff: number, kswapd: boolean, explicitReclaim: boolean): boolean {
  if (kswapd ? cb.from === 'direct' : cb.from === 'kswapd') return false;
  if (!kswapd && !explicitReclaim && (eff & __GFP_DIRECT_RECLAIM) === 0) return false;
  const gate = cb.gate ? cb.gate.value : 0;
  return (eff & gate) === gate;
}

export function compile(model: Model): Program {
  const resIndex = new Map<string, number>();
  const resources: ResourceLayout[] = [];
  const n = model.threads.length;
  let off = n * THREAD_WIDTH;
  for (const decl of model.resources) {
    resIndex.set(decl.name, resources.length);
    const size = decl.kind === 'rwsem' ? 2 + n : decl.kind === 'transaction' || decl.kind === 'queue' ? 1 + n : 1;
    resources.push({ decl, off, size });
    off += size;
  }
  const blocks: Block[] = [];
  const faultByName = new Map<string, number>();
  const reclaimBlocks: number[] = [];
  const faultBlocks: number[] = [];

  const newBlock = (kind: BlockKind, name: string, steps: Step[]): Block => {
    const b: Block = { id: blocks.length, kind, name, instrs: [], future: [], signals: [] };
    blocks.push(b);
    b.instrs = compileSteps(steps);
    return b;
  };

  const compileSteps = (steps: Step[]): Instr[] => {
    const out: Instr[] = [];
    const held: BailRelease[] = [];
    const scopes = { nofs: 0, noio: 0, noreclaim: 0 };
    for (const step of steps) {
      const res = step.resource !== undefined ? resIndex.get(step.resource) ?? -1 : -1;
      const resKind = res >= 0 ? resources[res].decl.kind : undefined;
      const ins: Instr = {
        op: step.op, step, res, resKind, mask: step.mask?.value ?? 0, sleeps: false, handlers: [],
        bail: [], bailScopes: { nofs: 0, noio: 0, noreclaim: 0 },
      };
      switch (step.op) {
        case 'lock': case 'rlock':
          ins.sleeps = resKind !== 'spinlock';
          break;
        case 'wait': case 'start': case 'commit': case 'freeze': case 'io': case 'enter': case 'fault': case 'reclaim':
          ins.sleeps = true;
          break;
        case 'alloc':
          ins.sleeps = (ins.mask & __GFP_DIRECT_RECLAIM) !== 0;
          break;
        default:
          break;
      }
      if (step.op === 'trylock' || step.op === 'tryrlock') {
        ins.bail = held.slice().reverse();
        ins.bailScopes = { ...scopes };
      }
      const mode = ACQUIRE_MODE[step.op];
      if (mode && res >= 0) held.push({ res, mode: step.op === 'lock' && resKind !== 'rwsem' ? 'w' : mode });
      if (RELEASE_OPS.includes(step.op) && res >= 0) {
        for (let i = held.length - 1; i >= 0; i--) {
          if (held[i].res === res) {
            held.splice(i, 1);
            break;
          }
        }
      }
      const sc = /^(nofs|noio|noreclaim)_(save|restore)$/.exec(step.op);
      if (sc) {
        const k = sc[1] as 'nofs' | 'noio' | 'noreclaim';
        scopes[k] = sc[2] === 'save' ? scopes[k] + 1 : Math.max(0, scopes[k] - 1);
      }
      out.push(ins);
    }
    return out;
  };

  for (const cb of model.reclaims) {
    const b = newBlock('reclaim', cb.name, cb.steps);
    b.reclaim = cb;
    reclaimBlocks.push(b.id);
  }
  for (const fh of model.faults) {
    const b = newBlock('fault', fh.name, fh.steps);
    b.fault = fh;
    faultByName.set(fh.name, b.id);
    faultBlocks.push(b.id);
  }
  const threads: ThreadInfo[] = model.threads.map((decl) => {
    let steps = decl.steps;
    if (decl.role === 'kswapd' && steps.length === 0) {
      // A kswapd thread with an empty body runs one reclaim pass with kswapd's GFP_KERNEL.
      steps = [{ op: 'reclaim', mask: { text: 'GFP_KERNEL', value: 0xcc0 }, span: decl.nameSpan }];
    }
    const b = newBlock('thread', decl.name, steps);
    b.thread = decl;
    return { name: decl.name, role: decl.role, block: b.id, decl };
  });
  // Fault handler ids are known now.
  for (const b of blocks) {
    for (const ins of b.instrs) {
      if (ins.op !== 'fault') continue;
      if (b.kind !== 'thread') continue; // faults inside callbacks are rejected by the parser; ignore here
      if (ins.step.handler !== undefined) {
        const id = faultByName.get(ins.step.handler);
        if (id !== undefined) ins.handlers = [id];
      } else {
        ins.handlers = faultBlocks.slice();
      }
    }
  }

  // Future sets, callbacks first (their allocs never enter reclaim: PF_MEMALLOC), then handlers, then threads.
  const computeFuture = (b: Block): void => {
    const len = b.instrs.length;
    b.future = new Array<bigint>(len + 1).fill(0n);
    b.signals = new Array<bigint>(len + 1).fill(0n);
    for (let i = len - 1; i >= 0; i--) {
      const ins = b.instrs[i];
      let f = b.future[i + 1] | bit(ins.res);
      let sg = b.signals[i + 1] | (ins.op === 'signal' ? bit(ins.res) : 0n);
      const entered: number[] = [];
      if ((ins.op === 'alloc' || ins.op === 'reclaim') && b.kind !== 'reclaim') {
        for (const id of reclaimBlocks) {
          const cb = blocks[id].reclaim!;
          // Superset of what may run: scopes only narrow the mask, so test the literal mask from any context.
          const may = ins.op === 'alloc'
            ? admits(cb, ins.mask, false, false)
            : admits(cb, ins.mask, true, true) || admits(cb, ins.mask, false, true);
          if (may) entered.push(id);
        }
      }
      if (ins.op === 'fault') entered.push(...ins.handlers);
      for (const id of entered) {
        f |= blocks[id].future[0];
        sg |= blocks[id].signals[0];
      }
      b.future[i] = f;
      b.signals[i] = sg;
    }
  };
  for (const id of reclaimBlocks) computeFuture(blocks[id]);
  for (const id of faultBlocks) computeFuture(blocks[id]);
  for (const t of threads) computeFuture(blocks[t.block]);

  const spinOffsets = resources.filter((r) => r.decl.kind === 'spinlock').map((r) => r.off);
  return {
    model, blocks, threads, resources, reclaimBlocks, faultBlocks,
    threadWidth: THREAD_WIDTH, globalsStart: n * THREAD_WIDTH, stateSize: off, spinOffsets,
  };
}

export function initialState(p: Program): number[] {
  const s = new Array<number>(p.stateSize).fill(0);
  p.threads.forEach((t, i) => {
    const base = i * THREAD_WIDTH;
    if (p.blocks[t.block].instrs.length > 0) {
      s[base + T_DEPTH] = 1;
      s[base + 1] = t.block;
      s[base + 2] = 0;
    }
  });
  return s;
}
