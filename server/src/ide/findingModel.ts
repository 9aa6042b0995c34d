// A `.rlsim` model (docs/rlsim.md) generated from a deadlock finding (analysis/deadlock): the threads, locks,
// reclaim callbacks and fault handlers of the cycle, every step with the file:line it came from and a note naming
// the kernel function, so that the simulator replays the interleaving the finding describes. The fixed variant is
// one edit away (the allocation's mask changed to one the callback's gate refuses, or the fault step removed) and is
// generated too, so tests and the command line can check that it is deadlock free.
// Pure: no IO. Lines come from a callback (the caller keeps the files' line starts), lock kinds from the knowledge base.
import type { DeadlockFinding, DeadlockParts } from '../analysis/deadlock/detect';
import type { Take } from '../analysis/deadlock/takes';
import type { LockKind } from '../model/kb/types';
import { evalMask, gfpValue, __GFP_DIRECT_RECLAIM, __GFP_FS, __GFP_IO } from '../simulate/gfp';
import type {
  FaultHandler, MaskValue, Model, ReclaimCallback, ReclaimFrom, ReclaimKind, ResourceDecl, ResourceFlavor, SourceLocation, Span, Step, StepOp,
  ThreadDecl, ThreadRole,
} from '../simulate/model';
import { printModel } from '../simulate/print';

/** The codes a model can be generated for. */
export const SIMULABLE_CODES: readonly string[] = ['reclaim-deadlock', 'fault-deadlock', 'reclaim-frozen-queue', 'reclaim-in-fence'];

export interface FindingModelKb {
  /** a lock API (`mutex_lock` → mutex) */
  lock(name: string): { kind: LockKind } | undefined;
  /** a transaction API (`btrfs_start_transaction`) */
  transaction(name: string): unknown;
  /** the analysis's gfp values, to translate mask names the model language does not know */
  gfp?: { lookup(name: string): number | undefined };
}

export interface FindingModelEnv {
  /** the 1-based line of an offset in a file of the analysed tree */
  line(file: string, offset: number): number;
  kb?: FindingModelKb;
}

export interface FindingModel {
  /** the finding's id, as `check --format json` prints it */
  id: string;
  title: string;
  /** the model */
  text: string;
  /** the fixed variant: the model after the one edit `fix` describes */
  fixed: string;
  /** the edit, in words: `alloc GFP_NOFS at fs/demo/cache.c:35 (demo_cache_scan runs only with __GFP_FS)` */
  fix: string;
}

export type FindingModelResult = { ok: true; model: FindingModel } | { ok: false; message: string };

/** `reclaim-deadlock:fs/demo/cache.c:demo_cache_insert:1`: the id `check --format json` gives a finding. */
export function findingId(f: { code: string; file: string; function: string; ordinal: number }): string {
  return `${f.code}:${f.file}:${f.function}:${f.ordinal}`;
}

export const NO_SPAN: Span = { line: 0, column: 0, endLine: 0, endColumn: 0 };

export interface StepOpts {
  resource?: string;
  mask?: MaskValue;
  handler?: string;
  loc?: SourceLocation;
  note?: string;
}

export function step(op: StepOp, o: StepOpts = {}): Step {
  return {
    op, span: NO_SPAN, ...(o.resource !== undefined ? { resource: o.resource } : {}), ...(o.mask ? { mask: o.mask } : {}),
    ...(o.handler !== undefined ? { handler: o.handler } : {}), ...(o.loc ? { location: o.loc } : {}), ...(o.note !== undefined ? { note: o.note } : {}),
  };
}

export function mask(text: string): MaskValue {
  return { text, value: evalMask(text).value ?? 0 };
}

/** What a resource kind does on acquire and release, in the model language. */
const OPS: Record<ResourceFlavor, { take: StepOp; read?: StepOp; release: StepOp; reclaimTake?: StepOp }> = {
  mutex: { take: 'lock', release: 'unlock' },
  spinlock: { take: 'lock', release: 'unlock' },
  rwsem: { take: 'lock', read: 'rlock', release: 'unlock' },
  transaction: { take: 'start', release: 'stop' },
  queue: { take: 'freeze', release: 'unfreeze', reclaimTake: 'io' },
  completion: { take: 'wait', release: 'signal' },
  fence: { take: 'wait', release: 'signal' },
};

const RECLAIM_KIND_OF_FIELD: Record<string, ReclaimKind> = {
  scan_objects: 'shrinker', count_objects: 'shrinker', free_cached_objects: 'shrinker', nr_cached_objects: 'shrinker',
  evict_inode: 'evict_inode', destroy_inode: 'evict_inode', drop_inode: 'evict_inode', free_inode: 'evict_inode', put_super: 'evict_inode',
  release_folio: 'release_folio', releasepage: 'release_folio', invalidate_folio: 'release_folio', free_folio: 'release_folio',
  writepage: 'writepage', writepages: 'writeback', write_inode: 'writeback', swap_writepage: 'swap', swap_rw: 'swap',
};

export class Builder {
  readonly model: Model;
  private readonly names = new Set<string>();

  constructor(title: string) {
    this.model = { name: title, resources: [], reclaims: [], faults: [], threads: [] };
  }

  /** A name not used by any declaration yet (threads, callbacks and resources share one namespace here). */
  unique(name: string): string {
    let n = name || 'thread';
    for (let i = 2; this.names.has(n); i++) n = `${name}-${i}`;
    this.names.add(n);
    return n;
  }

  resource(flavor: ResourceFlavor, name: string, note?: string): string {
    if (this.model.resources.some((r) => r.name === name)) return name;
    this.names.add(name);
    const kind = flavor === 'fence' ? 'completion' : flavor;
    const decl: ResourceDecl = { kind, flavor, name, span: NO_SPAN, nameSpan: NO_SPAN, ...(note ? { note } : {}) };
    this.model.resources.push(decl);
    return name;
  }

  reclaim(name: string, o: { kind: ReclaimKind; gate: string[]; from: ReclaimFrom; loc?: SourceLocation; note?: string; steps: Step[] }): string {
    const n = this.unique(name);
    const gate = o.gate.length ? mask(o.gate.join('|')) : null;
    const cb: ReclaimCallback = {
      type: 'reclaim', name: n, kind: o.kind, gate, from: o.from, steps: o.steps, span: NO_SPAN, nameSpan: NO_SPAN,
      ...(o.loc ? { location: o.loc } : {}), ...(o.note ? { note: o.note } : {}),
    };
    this.model.reclaims.push(cb);
    return n;
  }

  fault(name: string, o: { loc?: SourceLocation; note?: string; steps: Step[] }): string {
    const n = this.unique(name);
    const fh: FaultHandler = { type: 'fault', name: n, steps: o.steps, span: NO_SPAN, nameSpan: NO_SPAN, ...(o.loc ? { location: o.loc } : {}), ...(o.note ? { note: o.note } : {}) };
    this.model.faults.push(fh);
    return n;
  }

  thread(name: string, role: ThreadRole, steps: Step[], o: { loc?: SourceLocation; note?: string } = {}): string {
    const n = this.unique(name);
    const th: ThreadDecl = { name: n, role, steps, span: NO_SPAN, nameSpan: NO_SPAN, ...(o.loc ? { location: o.loc } : {}), ...(o.note ? { note: o.note } : {}) };
    this.model.threads.push(th);
    return n;
  }
}

/** A lock's resource kind in the model: transactions by API, the rest by the lock API's kind (knowledge base). */
export function flavorOf(kind: LockKind | undefined, api: string | undefined, kb: FindingModelKb | undefined): ResourceFlavor {
  if (kind === 'queue-freeze') return 'queue';
  if (api && kb?.transaction(api)) return 'transaction';
  switch (kind) {
    case 'rwsem': case 'percpu_rwsem': return 'rwsem';
    case 'spinlock': case 'raw_spinlock': case 'rwlock': case 'seqlock': return 'spinlock';
    case 'fence': return 'fence';
    default: return 'mutex';
  }
}

/** A model-language mask for an analysis mask text: names the model does not know are translated to the bits it does. */
function modelMask(text: string, kb: FindingModelKb | undefined): { text: string; value: number; note?: string } {
  const direct = evalMask(text);
  if (direct.value !== undefined) return { text, value: direct.value };
  const terms = text.split('|').map((t) => t.trim()).filter(Boolean);
  const kept: string[] = [];
  let value = 0;
  for (const t of terms) {
    const v = gfpValue(t);
    if (v !== undefined) {
      kept.push(t);
      value |= v;
      continue;
    }
    // A name only the analysis knows (GFP_HIGHUSER_MOVABLE, __GFP_NOLOCKDEP): keep the bits that decide reclaim.
    const kv = kb?.gfp?.lookup(t);
    if (kv === undefined) continue;
    for (const [name, bit] of [['__GFP_DIRECT_RECLAIM', __GFP_DIRECT_RECLAIM], ['__GFP_IO', __GFP_IO], ['__GFP_FS', __GFP_FS]] as const) {
      const ab = kb?.gfp?.lookup(name);
      if (ab !== undefined && (kv & ab) === ab && !(value & bit)) {
        kept.push(name);
        value |= bit;
      }
    }
  }
  if (!kept.length) return { text: 'GFP_KERNEL', value: gfpValue('GFP_KERNEL')!, note: `${text || 'the mask'} is not expressible in the model; GFP_KERNEL stands for it` };
  return { text: kept.join('|'), value, note: `${text}, as the model's bits` };
}

/** The allocation's mask in the model: an allocator that sleeps whatever its mask (the finding says it may reclaim) gets __GFP_DIRECT_RECLAIM. */
export function allocMaskOf(text: string, kb: FindingModelKb | undefined): { text: string; value: number; note?: string } {
  const m = modelMask(text, kb);
  if (m.value & __GFP_DIRECT_RECLAIM) return m;
  return { text: `${m.text}|__GFP_DIRECT_RECLAIM`, value: m.value | __GFP_DIRECT_RECLAIM, note: `${m.note ? `${m.note}; ` : ''}the allocator may sleep in reclaim whatever the mask` };
}

/** `fs/super.c@6.12:223` or `fs/super.c:223` → a location; none for anything else. */
function citation(source: string | undefined): SourceLocation | undefined {
  const m = source ? /^([^\s@:"]+)(?:@[^:]*)?:(\d+)/.exec(source) : null;
  return m ? { file: m[1], line: Number(m[2]) } : undefined;
}

/** The reclaim kind of a take, from the ops-table field reclaim calls through. */
function reclaimKind(t: Take): ReclaimKind {
  if (t.context === 'mmu-notifier') return 'mmu_notifier';
  const field = t.entry?.field ?? '';
  return RECLAIM_KIND_OF_FIELD[field] ?? 'other';
}

/** The gate bits a take needs (the knowledge base's entry and the gates on its path), as names the model language knows. */
function gateOf(t: Take): string[] {
  return t.requireNames.filter((n) => gfpValue(n) !== undefined);
}

/** The mask the gate refuses: GFP_NOFS for a gate on __GFP_FS, GFP_NOIO for __GFP_IO, else one without direct reclaim. */
function fixMaskFor(gate: readonly string[]): string {
  const bits = gate.reduce((a, n) => a | (gfpValue(n) ?? 0), 0);
  if (bits & __GFP_FS) return 'GFP_NOFS';
  if (bits & __GFP_IO) return 'GFP_NOIO';
  return 'GFP_NOWAIT';
}

export function findingModel(f: DeadlockFinding, env: FindingModelEnv): FindingModelResult {
  if (!SIMULABLE_CODES.includes(f.code)) return { ok: false, message: `${f.code} findings have no model (only ${SIMULABLE_CODES.join(', ')})` };
  const p = f.parts;
  if (!p) return { ok: false, message: `the finding carries no model data` };
  try {
    const a = build(f, p, env, false);
    if (typeof a === 'string') return { ok: false, message: a };
    const b = build(f, p, env, true);
    if (typeof b === 'string') return { ok: false, message: b };
    return { ok: true, model: { id: findingId(f), title: a.title, text: a.text, fixed: b.text, fix: a.fix } };
  } catch (e) {
    return { ok: false, message: `cannot build a model of this finding: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function build(f: DeadlockFinding, p: DeadlockParts, env: FindingModelEnv, fixed: boolean): { title: string; text: string; fix: string } | string {
  const kb = env.kb;
  const loc = (file: string | undefined, span: { start: number } | undefined): SourceLocation | undefined => {
    if (!file || !span || /[\s"]/.test(file)) return undefined;
    const line = env.line(file, span.start);
    return line >= 1 ? { file, line } : undefined;
  };
  const at = (l: SourceLocation | undefined) => (l ? `${l.file}:${l.line}` : 'an unknown line');
  const L = p.held.lock.cls;
  const heldLoc = loc(p.held.file, p.held.lock.site);
  const siteLoc = loc(f.file, f.span);
  const title = `${f.code} in ${f.function}() at ${at(siteLoc)}`;
  const b = new Builder(title);
  const header: string[] = [
    `// Generated by Reclaim Lens from the finding ${findingId(f)}:`,
    ...wrap(f.message).map((l) => `//   ${l}`),
  ];
  if (f.classLevel) header.push('// Class-level: the model treats the lock class as one lock, as lockdep does (docs/rlsim.md, Limitations).');
  const flavorL = flavorOf(p.held.lock.kind, p.held.lock.api, kb);
  const chainNote = p.held.chain.length
    ? ` (${p.held.chain.map((l) => `${l.function}() calls ${l.callee}() at ${at(loc(l.file, l.span))}`).join('; ')})`
    : '';
  // The task: the function that takes L is where its thread starts; the allocation may be in a callee.
  const taskName = p.held.function;
  const taskSteps: Step[] = [];
  const taskOpts = { loc: heldLoc, note: `${p.held.function}() takes ${L} by ${p.held.lock.api}()${chainNote}` };
  let fix = '';
  let allocMask: { text: string; value: number; note?: string } | undefined;
  let fixMask = 'GFP_NOWAIT';
  const allocStep = () => {
    const m = allocMask!;
    const text = fixed ? fixMask : m.text;
    const note = `${f.function}(): ${p.api}(${p.mask})${m.note && !fixed ? ` [${m.note}]` : ''}${fixed ? ` [fixed variant: ${fixMask}]` : ''}`;
    return step('alloc', { mask: mask(text), loc: siteLoc, note });
  };

  if (f.code === 'reclaim-in-fence') {
    allocMask = allocMaskOf(p.mask, kb);
    const F = b.resource('fence', L, `the fence of the signalling section ${p.held.lock.api}() begins at ${at(heldLoc)}`);
    b.reclaim('dma_fence_wait_in_reclaim', {
      kind: 'shrinker', gate: [], from: 'any',
      note: 'shrinkers and mmu notifiers wait on DMA fences, so reclaim may wait for this one (drivers/dma-buf/dma-fence.c: dma_fence_begin_signalling)',
      steps: [step('wait', { resource: F, note: 'dma_fence_wait() in a shrinker or an mmu notifier' })],
    });
    fixMask = 'GFP_NOWAIT';
    taskSteps.push(allocStep(), step('signal', { resource: F, note: 'the fence is signalled after the section (dma_fence_end_signalling, then dma_fence_signal)' }));
    fix = `alloc ${fixMask} at ${at(siteLoc)} (reclaim, and mmu notifiers under any direct-reclaim mask, may wait on fences)`;
    b.thread(taskName, 'task', taskSteps, { loc: heldLoc, note: `${p.held.function}() begins a fence signalling section by ${p.held.lock.api}()${chainNote}` });
    return { title, text: finish(header, fix, b.model), fix };
  }

  if (f.code === 'reclaim-frozen-queue') {
    allocMask = allocMaskOf(p.mask, kb);
    const Q = b.resource('queue', L, `frozen by ${p.held.lock.api}() at ${at(heldLoc)}`);
    b.reclaim('swap_writepage', {
      kind: 'swap', gate: ['__GFP_IO'], from: 'any',
      note: 'reclaim writes to swap or writes dirty folios back only with __GFP_IO (mm/vmscan.c: may_enter_fs / add_to_swap)',
      steps: [step('io', { resource: Q, note: 'submit_bio() → blk_queue_enter() waits while the queue is frozen' })],
    });
    fixMask = 'GFP_NOIO';
    taskSteps.push(step('freeze', { resource: Q, loc: heldLoc, note: `${p.held.function}(): ${p.held.lock.api}()` }), allocStep(), step('unfreeze', { resource: Q, note: 'unfreezes the queue' }));
    fix = `alloc ${fixMask} at ${at(siteLoc)} (reclaim's I/O needs __GFP_IO; or a memalloc_noio scope)`;
    b.thread(taskName, 'task', taskSteps, { loc: heldLoc, note: `${p.held.function}() freezes ${L} by ${p.held.lock.api}()${chainNote}` });
    return { title, text: finish(header, fix, b.model), fix };
  }

  const t = p.take;
  if (!t) return 'the finding names nothing reclaim or the fault takes';
  const three = !!p.dep && t.cls !== L;
  const M = three ? t.cls : L;
  const lastStep = t.steps[t.steps.length - 1];
  const flavorM = three ? flavorOf(lastStep?.api ? kb?.lock(lastStep.api)?.kind : undefined, lastStep?.api, kb) : flavorL;
  const declL = b.resource(flavorL, L, `${flavorL === 'transaction' ? 'opened' : 'taken'} by ${p.held.lock.api}() in ${p.held.function}() at ${at(heldLoc)}`);
  const declM = three ? b.resource(flavorM, M, lastStep ? `taken by ${lastStep.api}() in ${lastStep.function}() at ${at(loc(lastStep.file, lastStep.span))}` : undefined) : declL;
  const acquire = (flavor: ResourceFlavor, res: string, read: boolean, o: StepOpts, inReclaim = false) => {
    const ops = OPS[flavor];
    const op = inReclaim && ops.reclaimTake ? ops.reclaimTake : read && ops.read ? ops.read : ops.take;
    return step(op, { ...o, resource: res });
  };
  const release = (flavor: ResourceFlavor, res: string, note?: string) => step(OPS[flavor].release, { resource: res, ...(note ? { note } : {}) });
  const path = pathText(t);
  const via = t.via === 'priming' ? 'lockdep priming (fs_reclaim_acquire … might_lock)' : t.cross ? `${t.cross.name} (${t.cross.waitsFor})` : t.entry?.struct ? `${t.entry.struct}.${t.entry.field}` : `->${t.entry?.field ?? t.via}`;
  const cbName = t.binding?.fn ?? t.steps[0]?.function ?? (t.cross ? t.cross.path[t.cross.path.length - 1]?.fn : undefined) ?? t.via;
  const cbLoc = t.binding ? loc(t.binding.file, t.binding.span) : citation(t.entry?.source) ?? (t.cross ? citation(t.cross.source) : undefined);
  const cbNote = `${via}: ${path}${t.rare ? `; only ${t.rare}` : ''}`;
  const fromOf: ReclaimFrom = t.kswapdOnly ? 'kswapd' : 'any';
  const extra: (() => void)[] = [];

  // What reclaim (or the fault) does: take the lock at its line, or (loop-back NFS) wait for a thread that takes it.
  const cbSteps: Step[] = [];
  const gate = gateOf(t);
  if (t.cross) {
    const cw = t.cross;
    const C = b.resource('completion', `${cw.waitsFor}_reply`, `${cw.name}: reclaim waits for ${cw.waitsFor}`);
    cbSteps.push(step('wait', { resource: C, loc: citation(cw.path[cw.path.length - 1]?.source), note: `${cw.path.map((x) => x.fn).join(' → ')} waits for ${cw.waitsFor}` }));
    const taken = cw.takes.find((x) => x.cls === M) ?? cw.takes[0];
    extra.push(() => b.thread(cw.waitsFor, cw.waitsFor === 'nfsd' ? 'nfsd' : 'kthread', [
      acquire(flavorM, declM, false, { loc: citation(taken?.source), note: `${taken?.fn ?? cw.waitsFor}() takes ${M}` }),
      step('signal', { resource: C, note: `${cw.waitsFor} answers` }),
      release(flavorM, declM),
    ], { note: `${cw.name}: the thread reclaim waits for` }));
  } else {
    const calls = t.steps.length > 1 ? ` (${t.steps.slice(0, -1).map((s) => `${s.function}() calls ${s.callee}() at ${at(loc(s.file, s.span))}`).join('; ')})` : '';
    cbSteps.push(acquire(three ? flavorM : flavorL, M, t.read, {
      loc: lastStep ? loc(lastStep.file, lastStep.span) : undefined,
      note: lastStep ? `${lastStep.function}(): ${lastStep.api}(${M})${calls}` : `takes ${M}`,
    }, true));
    if (!(OPS[three ? flavorM : flavorL].reclaimTake)) cbSteps.push(release(three ? flavorM : flavorL, M));
  }

  const isFault = f.code === 'fault-deadlock' || t.context === 'fault';
  let handler = '';
  if (isFault) {
    handler = b.fault(cbName, { loc: cbLoc, note: cbNote, steps: cbSteps });
  } else {
    b.reclaim(cbName, { kind: reclaimKind(t), gate, from: fromOf, loc: cbLoc, note: cbNote, steps: cbSteps });
  }

  // Paths the task's own direct reclaim does not close (kswapd-only, nested transaction handles): the allocation
  // throttled behind kswapd, and kswapd running the callback.
  const transaction = flavorL === 'transaction';
  const viaKswapd = !isFault && (t.kswapdOnly || transaction);
  if (viaKswapd) {
    const P = b.resource('completion', 'kswapd_progress', 'kswapd restored the watermarks');
    b.reclaim('throttle_direct_reclaim', {
      kind: 'other', gate: [], from: 'direct',
      note: 'mm/vmscan.c: throttle_direct_reclaim / reclaim_throttle: a direct reclaimer that makes no progress waits for kswapd',
      steps: [step('wait', { resource: P, note: 'waits on pgdat->pfmemalloc_wait' })],
    });
    extra.push(() => b.thread('kswapd0', 'kswapd', [
      step('reclaim', { mask: mask('GFP_KERNEL'), note: 'balance_pgdat: kswapd reclaims with GFP_KERNEL' }),
      step('signal', { resource: P, note: 'wake_up_all(&pgdat->pfmemalloc_wait)' }),
    ]));
    if (transaction) {
      extra.push(() => b.thread('transaction-commit', 'kthread', [
        step('commit', { resource: declL, note: 'the transaction commit (btrfs_commit_transaction, the jbd2 commit) closes the transaction and waits for every open handle' }),
      ]));
    }
  }

  if (isFault) {
    fix = `delete the fault step at ${at(siteLoc)}: copy outside ${L}, or pagefault_disable() + __copy_${/from/.test(p.api) ? 'from' : 'to'}_user_inatomic() so that no fault handler runs`;
  } else {
    allocMask = allocMaskOf(p.mask, kb);
    fixMask = viaKswapd ? 'GFP_NOWAIT' : fixMaskFor(gateOf(t));
    const why = fixMask === 'GFP_NOFS' ? `${cbName} runs only with __GFP_FS` : fixMask === 'GFP_NOIO' ? `${cbName} runs only with __GFP_IO`
      : viaKswapd ? 'an allocation that does not reclaim never waits for kswapd' : `${cbName} has no gate: any allocation that may reclaim directly can run it`;
    fix = `alloc ${fixMask} at ${at(siteLoc)} (${why})`;
    if (t.context === 'reclaim' && !viaKswapd && fixMask === 'GFP_NOWAIT' && !t.cross) {
      header.push(`// ${cbName} has no gate: direct reclaim runs it under GFP_NOFS and GFP_NOIO too (lockdep's fs_reclaim`,
        '// covers only __GFP_FS allocations), so only an allocation that does not reclaim directly avoids it.');
    }
  }

  taskSteps.push(acquire(flavorL, declL, p.held.lock.read, { loc: heldLoc, note: `${p.held.function}(): ${p.held.lock.api}(${L})` }));
  if (isFault) {
    if (!fixed) taskSteps.push(step('fault', { handler, loc: siteLoc, note: `${f.function}(): ${p.api}() may fault on user memory that maps the same file` }));
  } else {
    taskSteps.push(allocStep());
  }
  taskSteps.push(release(flavorL, declL, 'end of the critical section'));
  b.thread(taskName, 'task', taskSteps, taskOpts);

  if (three && p.dep) {
    const d = p.dep;
    const from = d.from;
    b.thread(from?.function ?? d.function, 'task', [
      from
        ? acquire(flavorM, declM, false, { loc: loc(from.file, from.span), note: `${from.function}(): ${from.api}(${M}), then calls on to ${d.function}()` })
        : acquire(flavorM, declM, false, { note: `${d.function}() holds ${M} here (taken before, in it or a caller)` }),
      acquire(flavorL, declL, d.read, { loc: loc(d.file, d.span), note: `${d.function}(): ${d.api}(${L}) while holding ${M}` }),
      release(flavorL, declL),
      release(flavorM, declM),
    ], { note: `the lock-order witness: takes ${L} while holding ${M}` });
  }
  for (const e of extra) e();
  // Both sides shared: a writer queued in between is what blocks the second reader (rwsems are fair).
  const readRead = flavorL === 'rwsem' && p.held.lock.read && (three ? !!p.dep?.read : t.read);
  if (readRead) {
    b.thread(`${L}-writer`, 'task', [
      step('lock', { resource: declL, note: `any writer of ${L}: a queued writer blocks new readers` }),
      step('unlock', { resource: declL }),
    ]);
  }
  return { title, text: finish(header, fix, b.model), fix };
}

/** `shrinker.scan_objects: … → do_shrink_slab → ->scan_objects() → demo_cache_scan → mutex_lock`. */
function pathText(t: Take): string {
  const names: string[] = [];
  const generic = (fns: string[]) => (fns.length <= 2 ? fns : ['…', ...fns.slice(-2)]);
  if (t.entry) names.push(...generic(t.entry.path.map((x) => x.fn)), `->${t.entry.field}()`);
  if (t.cross) names.push(...generic(t.cross.path.map((x) => x.fn)), t.cross.waitsFor);
  for (const s of t.steps) names.push(s.function);
  const last = t.steps[t.steps.length - 1];
  if (last?.api) names.push(last.api);
  return names.join(' → ');
}

export function finish(header: string[], fix: string, model: Model): string {
  return [...header, `// Fixed variant, one edit: ${fix}.`, '', printModel(model)].join('\n');
}

/** Splits a long message into comment lines of about 110 characters. */
export function wrap(text: string, width = 110): string[] {
  const out: string[] = [];
  let cur = '';
  for (const w of text.replace(/\s+/g, ' ').split(' ')) {
    if (cur && cur.length + 1 + w.length > width) {
      out.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) out.push(cur);
  return out;
}
