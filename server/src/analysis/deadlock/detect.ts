// Reclaim and fault deadlocks over the whole program, lockdep-style but static. Reclaim is the pseudo-lock
// `fs_reclaim` (taken by allocations that may enter FS reclaim, held while reclaim runs), mmu-notifier invalidation
// the pseudo-lock `mmu_notifier_invalidate_range_start` (touched by every allocation that may directly reclaim), a
// page fault the lock `&mm->mmap_lock` (taken by every user-memory access, held while fault handlers run). An
// allocation or user access made while holding L closes a cycle when the matching path takes L itself (the shortest
// cycle) or takes M while someone else acquires L holding M (a three-lock chain). Fence-signalling sections and
// frozen queues are rules rather than cycles: reclaim waits on fences and on I/O to the frozen queue.
import type { GfpModel } from '../../model/gfp';
import type { HeldLock, PathFacts, Span } from '../facts';
import { applyScopeVal, hasBit, renderVal, type GfpVal } from '../gfpValue';
import { flagsOf, fsOfPath as fsOf, nameResolver, programLine, substitute, type CallingContext, type ChainLink, type Contexts, type Program, type ProgramFinding, type ProgramFunction } from '../interproc';
import { contradicts, needsAt } from '../paramGuards';
import { lockdepReport, type ReportInput } from './report';
import type { ReclaimContext, Take, Takes } from './takes';

export const FS_RECLAIM = 'fs_reclaim';
export const MMU_NOTIFIER = 'mmu_notifier_invalidate_range_start';
export const MMAP_LOCK = '&mm->mmap_lock';
/** Direct reclaim by an allocation without __GFP_FS: lockdep has no map for it (fs_reclaim is taken only with __GFP_FS). */
export const DIRECT_RECLAIM = 'direct reclaim (no __GFP_FS)';

export type DeadlockCode = 'reclaim-deadlock' | 'fault-deadlock' | 'reclaim-in-fence' | 'reclaim-frozen-queue';
export const DEADLOCK_CODES: readonly DeadlockCode[] = ['reclaim-deadlock', 'fault-deadlock', 'reclaim-in-fence', 'reclaim-frozen-queue'];

export interface DeadlockOptions {
  /** report class-level cycles (the same lock class, but reclaim only reaches other instances) */
  classLevel: boolean;
}

/** One link of a reported chain, for JSON and the lockdep-format report. */
export interface ChainStep {
  file?: string;
  span?: Span;
  /** kernel source cited by the knowledge base, for steps outside the analysed tree */
  source?: string;
  function: string;
  what: string;
}

export interface DeadlockFinding extends ProgramFinding {
  code: DeadlockCode;
  /** the lockdep-format report */
  report: string;
  chain: ChainStep[];
  /** the locks of the cycle, in order, starting with the held one */
  cycle: string[];
  classLevel?: boolean;
  /** the finding's pieces as data, for a model of it (ide/findingModel.ts: `simulate --finding`, "Simulate deadlock") */
  parts?: DeadlockParts;
}

/** What a deadlock finding is made of: the held lock and who took it, the allocation or user access, what reclaim takes. */
export interface DeadlockParts {
  /** the allocation's (or user access's) API: `kmalloc`, `copy_to_user` */
  api: string;
  /** the allocation's effective mask as rendered (`GFP_KERNEL`, `GFP_NOIO`); '' for a user access */
  mask: string;
  nolockdep?: boolean;
  /** the held lock (or open transaction: kind 'other', api the scope API), the file and function that took it, and the calls from there down to the allocating function */
  held: { lock: HeldLock; file: string; function: string; chain: ChainLink[] };
  /** the pseudo-lock of a cycle: fs_reclaim, mmu_notifier_invalidate_range_start, &mm->mmap_lock */
  pseudo?: string;
  /** what reclaim (kswapd, mmu-notifier invalidation, the fault) takes: its context, entry, gate and steps */
  take?: Take;
  /** a chain of three: who takes the held lock while holding the one reclaim takes */
  dep?: Witness;
}

/** Who holds a lock in a context: the lock with the file and function that took it. */
interface Holder {
  lock: HeldLock;
  file: string;
  function: string;
  /** calls from the function that took the lock down to the allocating function */
  chain: ChainLink[];
  /** a transaction handle rather than a lock */
  resource?: boolean;
  /** the lock is a caller's whose context reaches here only through calls through function pointers */
  viaIndirect?: boolean;
}

/** Where a lock is taken: the lock-order witness's acquisition, or where its held lock was taken. */
export interface WitnessSite {
  file: string;
  function: string;
  span: Span;
  api: string;
}

/** A lock-order witness as findings carry it: who takes the held lock while holding the one reclaim takes. */
export interface Witness extends WitnessSite {
  /** the witness takes the held lock shared */
  read: boolean;
  /** where a caller took the held lock, when the witness holds it through a calling context (ntfs_fallocate's) */
  from?: WitnessSite;
}

interface DepWitness extends Witness {
  /**
   * The filesystem where the held (`from`) lock was taken: a caller's, when the witness holds it through its
   * calling context (ovl_splice_write's i_rwsem around the generic pipe lock). A class keyed per filesystem type is
   * that filesystem's.
   */
  fromFs: string;
}

const INODE_LIKE = /^&?(?:[a-z0-9_]*inode(?:_info)?|address_space)(?:->|\.)|^PG_(?:locked|writeback)$/;

/** Which lock classes have a lockdep key per filesystem type (knowledge base: classKeys). */
export type PerFsType = (cls: string) => boolean;

/** Knowledge the cycle search needs besides the gfp model. */
export interface DetectKb {
  /** the class's lockdep key is per filesystem type (knowledge base: classKeys) */
  perFs: PerFsType;
  /** `before` → `after` is a documented lock order (knowledge base: lockOrders) */
  documentedOrder(before: string, after: string): boolean;
  /** whether a user-memory access reads or writes (knowledge base: uaccess); a read fault never runs ->page_mkwrite */
  access(api: string): 'read' | 'write' | 'either' | undefined;
  /** an allocator call that allocates nothing from this caller (knowledge base: deferredCalls with `everywhere`) */
  cutCall?(caller: string, callee: string): boolean;
  /** a user copy of a directory entry in ->iterate_shared (knowledge base: uaccess `readdir`) */
  readdir?(api: string): boolean;
}

const NO_KB: DetectKb = { perFs: () => false, documentedOrder: () => false, access: () => undefined };

export function detectDeadlocks(program: Program, ctxs: Contexts, takes: Takes, model: GfpModel, options: DeadlockOptions, dkb: DetectKb = NO_KB): DeadlockFinding[] {
  const perFs = dkb.perFs;
  const bit = (n: string) => model.lookup(n) ?? 0;
  const DIRECT = bit('__GFP_DIRECT_RECLAIM');
  const FS = bit('__GFP_FS');
  const IO = bit('__GFP_IO');
  const deps = dependencies(program, ctxs);
  const opMask = opMasks(program);
  const out: DeadlockFinding[] = [];
  const line = (file: string, o: number) => programLine(program, file, o);

  for (const f of program.functions) {
    const file = program.files[f.file].path;
    const cs = ctxs.get(f.id);
    const contexts: CallingContext[] = cs && cs.length ? cs : [EMPTY_CONTEXT];
    const best = new Map<string, Candidate>(); // per span start and code
    const consider = (c: Candidate) => {
      // Held by a caller reached only through a call through a function pointer: the call graph resolves such a call
      // to every function stored in that field of that struct, and which one that caller's object holds is not known
      // here. Reported, hedged.
      if (c.held.viaIndirect && (c.severity === 'warning' || c.severity === 'error')) c = { ...c, severity: 'information', indirect: true };
      const k = `${c.code}@${c.span.start}`;
      const have = best.get(k);
      if (!have || rank(c) < rank(have)) best.set(k, c);
    };
    for (const site of f.facts.sites) {
      if (dkb.cutCall?.(f.facts.name, site.api)) continue;
      const siteNeeds = f.facts.paramGuards ? needsAt(f.facts, site.call.start) : undefined;
      for (const p of site.paths) {
        if (p.atomic) continue; // sleep-in-atomic territory
        const maskNeeds = p.when ? [p.when] : undefined;
        // An allocator that goes through the filesystem's own ops (iget_locked → ->alloc_inode) gets its masks.
        const requested = (site.entry.maskFrom && opMask(site.entry.maskFrom, fsOf(file))) || [p.requested];
        for (const c of contexts) {
          if (c.atomic || contradicts(siteNeeds, c.consts) || contradicts(maskNeeds, c.consts)) continue;
          const flags = flagsOf(p.scopes, flagsOf(c.scopes));
          if (flags.includes('PF_MEMALLOC')) continue; // reclaim does not recurse
          const holders = holdersOf(c, p, file, f.facts.name, f.facts.releases, site.call.start);
          if (!holders.length) continue;
          const held = heldSet(holders);
          for (const r of requested.flatMap((q) => substitute(q, f.facts, c.gfpParams))) {
            const v = applyScopeVal(r, flags, model);
            if (hasBit(v, DIRECT) !== 'yes' && !site.entry.mayAlwaysSleep) continue;
            const mask = renderVal(v, model);
            const what = `${site.api}(${mask})`;
            const nolockdep = /__GFP_NOLOCKDEP/.test(site.literalText);
            for (const h of holders) {
              if (h.lock.kind === 'fence') {
                consider({ code: 'reclaim-in-fence', span: site.call, held: h, what, mask, severity: 'error', len: 1, context: c });
                continue;
              }
              if (h.lock.kind === 'queue-freeze' && hasBit(v, IO) === 'yes') {
                consider({ code: 'reclaim-frozen-queue', span: site.call, held: h, what, mask, severity: 'warning', len: 1, context: c });
                continue;
              }
            }
            // Direct reclaim runs shrinkers and ->release_folio whatever the mask; the entries that need __GFP_FS say so
            // (admitted() below). lockdep's fs_reclaim covers only __GFP_FS allocations: without it the cycle is one
            // lockdep cannot see.
            const fsReclaim = hasBit(v, FS) === 'yes';
            const reclaimLock = fsReclaim ? FS_RECLAIM : DIRECT_RECLAIM;
            const pseudo: [ReclaimContext, string][] = [['reclaim', reclaimLock], ['kswapd', reclaimLock], ['mmu-notifier', MMU_NOTIFIER]];
            for (const [ctxName, pseudoLock] of pseudo) {
              const admitted = (t: Take) => t.requireNames.every((n) => hasBit(v, bit(n)) === 'yes');
              for (const h of holders) {
                if (h.lock.kind === 'fence' || h.lock.kind === 'queue-freeze') continue;
                if (dkb.documentedOrder(h.lock.cls, pseudoLock)) continue;
                const cand = cycleFor(h, ctxName, pseudoLock, admitted, takes, deps, perFs, held);
                if (!cand) continue;
                consider({ code: 'reclaim-deadlock', span: site.call, held: h, what, mask, nolockdep, context: c, ...cand });
              }
            }
          }
        }
      }
    }
    for (const call of f.facts.calls) {
      if (call.kind !== 'uaccess') continue;
      const callNeeds = f.facts.paramGuards ? needsAt(f.facts, call.call.start) : undefined;
      for (const p of call.paths) {
        if (p.atomic) continue;
        for (const c of contexts) {
          if (c.atomic || contradicts(callNeeds, c.consts)) continue;
          const holders = holdersOf(c, p, file, f.facts.name, f.facts.releases, call.call.start);
          const held = heldSet(holders);
          for (const h of holders) {
            // A fault runs in the faulting task, which nests its own transaction handle (current->journal_info).
            if (h.resource || dkb.documentedOrder(h.lock.cls, MMAP_LOCK)) continue;
            const reads = dkb.access(call.api) === 'read';
            const cand = cycleFor(h, 'fault', MMAP_LOCK, (t) => !(reads && t.entry?.onWrite), takes, deps, perFs, held);
            if (!cand) continue;
            // readdir's copy runs under the directory's own locks; the fault is on a mapping of a regular file.
            if (cand.len === 2 && !cand.classLevel && dkb.readdir?.(call.api) && h.lock.cls.includes('->')) {
              Object.assign(cand, {
                classLevel: true, severity: 'information',
                classWhy: `. Class-level only: ${call.api}() runs under the directory's ${h.lock.cls}, and a directory is never mmapped: the fault takes the ${h.lock.cls} of the mapped file, another instance`,
              });
            }
            consider({ code: 'fault-deadlock', span: call.call, held: h, what: `${call.api}()`, mask: '', context: c, ...cand });
          }
        }
      }
    }
    let ordinal = 0;
    for (const c of [...best.values()].sort((a, b) => a.span.start - b.span.start || a.code.localeCompare(b.code))) {
      if (c.classLevel && !options.classLevel) continue;
      out.push(toFinding(c, f, file, ++ordinal, line));
    }
  }
  return out;
}

interface Candidate {
  code: DeadlockCode;
  span: Span;
  held: Holder;
  what: string;
  mask: string;
  severity: ProgramFinding['severity'];
  /** locks in the cycle (2: L → pseudo → L; 3: L → pseudo → M → L) */
  len: number;
  context: CallingContext;
  pseudo?: string;
  take?: Take;
  /** cycle of three: who takes L while holding M */
  dep?: DepWitness;
  classLevel?: boolean;
  /** why the cycle is class-level, when it is not the unreferenced-inode reason */
  classWhy?: string;
  nolockdep?: boolean;
  /** the held lock reaches here through a call through a function pointer (Holder.viaIndirect) */
  indirect?: boolean;
}

const heldSet = (holders: readonly Holder[]) => new Set(holders.map((h) => h.lock.cls));

/**
 * A path that holds, on its way to the lock, a class this task holds too (try-locked: `bch_mca_scan` try-locks
 * `&cache_set->bucket_lock`, held by the allocating task): it gets there only for another instance of that class.
 */
function instanceOnly(t: Take, held: ReadonlySet<string>): string | undefined {
  const x = t.holds?.find((c) => held.has(c));
  return x && `. Class-level only: the path holds ${x} on its way there, and so does this task here: it can get past that lock only for another instance of it (taken blocking, it would wait for this task first)`;
}

const SEVERITY_RANK = { error: 0, warning: 1, information: 2, hint: 3 } as const;
const rank = (c: Candidate) => SEVERITY_RANK[c.severity] * 10 + c.len;

function cycleFor(h: Holder, ctxName: ReclaimContext, pseudo: string, admitted: (t: Take) => boolean, takes: Takes, deps: Deps, perFs: PerFsType, held: ReadonlySet<string>):
  Pick<Candidate, 'severity' | 'len' | 'pseudo' | 'take' | 'dep' | 'classLevel' | 'classWhy'> | undefined {
  const m = takes.byContext.get(ctxName);
  if (!m) return undefined;
  // A class keyed per filesystem type is one class per filesystem: both ends must be in the same one (or generic).
  const sameFs = (cls: string, a: string, b: string) => !perFs(cls) || a === '*' || b === '*' || a === b;
  const holderFs = fsOf(h.file);
  // Takes whose path holds nothing this task holds first; the others close only class-level cycles.
  // FIXME(#4): the first such take in root order is reported, not the strongest: a rare path (an unlinked inode's
  // evict) found first hides a routine one. Preferring routine paths was tried this session; it turned up 30 false
  // 6.1 warnings whose routine path is real but whose cycle needs a filesystem that cannot hold the other end (cifs
  // has no quotactl), so it waits for per-filesystem reasoning on the fault side.
  const pick = (list: readonly Take[] | undefined, ok: (t: Take) => boolean) =>
    list?.find((t) => ok(t) && !instanceOnly(t, held)) ?? list?.find(ok);
  const direct = pick(m.get(h.lock.cls), (t) => admitted(t) && sameFs(h.lock.cls, holderFs, t.fs));
  if (direct) {
    const classWhy = instanceOnly(direct, held);
    const classLevel = !!classWhy || (direct.objects === 'unreferenced-inode' && INODE_LIKE.test(h.lock.cls));
    return { severity: weak(classLevel, h.lock.read && direct.read, direct), len: 2, pseudo, take: direct, classLevel, ...(classWhy ? { classWhy } : {}) };
  }
  // L → pseudo → M → L: someone acquires L while holding M.
  const into = deps.into.get(h.lock.cls);
  if (!into) return undefined;
  let fallback: ReturnType<typeof cycleFor>;
  for (const [from, ws] of into) for (const w of ws) {
    // Generic code taking L with M of filesystem X held by its caller (`smb2_reconnect()` → … →
    // `iterate_supers_type()`) takes it on X's behalf: for a class keyed per filesystem type, X's.
    const wFs = fsOf(w.file) === '*' && w.from ? w.fromFs : fsOf(w.file);
    if (!sameFs(h.lock.cls, holderFs, wFs)) continue;
    // The witness ties both classes to one filesystem (generic code takes both for the same file): the held lock's
    // and the reclaim-taken lock's filesystems must agree too.
    const t = pick(m.get(from), (x) => admitted(x) && sameFs(from, x.fs, w.fromFs) && (!perFs(from) || !perFs(h.lock.cls) || sameFs(from, x.fs, holderFs)));
    if (!t) continue;
    const classWhy = instanceOnly(t, held);
    const classLevel = !!classWhy || (t.objects === 'unreferenced-inode' && INODE_LIKE.test(from));
    const found = { severity: weak(classLevel, h.lock.read && w.read, t), len: 3, pseudo, take: t, dep: w, classLevel, ...(classWhy ? { classWhy } : {}) };
    if (!classWhy) return found;
    fallback ??= found;
  }
  return fallback;
}

/**
 * Cycles that need something more than the two paths to meet are information, not warnings: a class-level cycle
 * (another instance of the class), one where both sides take the lock shared (a writer must queue in between), one
 * only kswapd closes (the allocation stalls behind kswapd; direct reclaim goes on).
 */
function weak(classLevel: boolean, readRead: boolean, t: Take): ProgramFinding['severity'] {
  // Only kswapd closing the cycle is a stall of the allocation, not a deadlock of it: a hint, below the default.
  if (t.kswapdOnly) return 'hint';
  return classLevel || readRead || t.rare ? 'information' : 'warning';
}

const EMPTY_CONTEXT: CallingContext = { held: [], scopes: [], atomic: false, gfpParams: {}, chain: [], callers: 0, callSites: [] };

/** Locks held at a path in a context, callers' first, and transactions reclaim can wait on as held resources. */
function holdersOf(c: CallingContext, p: PathFacts, file: string, fn: string, releases: readonly { cls: string; span: Span }[] = [], at = 0): Holder[] {
  const out: Holder[] = [];
  const seen = new Set<string>();
  // A caller's lock this function drops before the site (`up_read(&oi->ip_alloc_sem)` right before the copy). Only
  // the callers' holds: on a path where this function holds the class itself, it took it again after any such release
  // (or the release was on another path whose tests the analysis could not correlate with this one).
  const dropped = new Set<string>();
  for (const r of releases) if (r.span.start < at) dropped.add(r.cls);
  // Folio bit locks are not lock classes: reclaim only trylocks the folios it scans and locks blocking only folios
  // of objects being torn down, never the one this task holds; instances, not classes, would decide (not modelled).
  for (const h of c.held) {
    if (dropped.has(h.cls) || seen.has(h.cls) || h.atomic || h.kind === 'bitlock' || h.cls.startsWith('*')) continue;
    seen.add(h.cls);
    out.push({ lock: h, file: h.file, function: h.function, chain: chainFrom(c.chain, h.function), ...(c.viaIndirect ? { viaIndirect: true } : {}) });
  }
  for (const h of p.held) {
    if (seen.has(h.cls) || h.atomic || h.kind === 'bitlock' || h.cls.startsWith('*')) continue;
    seen.add(h.cls);
    out.push({ lock: h, file, function: fn, chain: [] });
  }
  // Callers' scopes carry the file and function that opened them; this function's own are here.
  const here = p.scopes.map((s) => ({ ...s, file, function: fn }));
  for (const s of [...c.scopes, ...here]) {
    if (!s.resource || seen.has(s.resource)) continue;
    seen.add(s.resource);
    out.push({
      lock: { cls: s.resource, kind: 'other', read: true, atomic: false, irqsOff: false, api: s.api, site: s.site },
      file: s.file, function: s.function, chain: s.function === fn ? [] : chainFrom(c.chain, s.function), resource: true,
    });
  }
  return out;
}

/** The links of a context's chain from the function that took a lock down to the current function. */
function chainFrom(chain: readonly ChainLink[], taker: string): ChainLink[] {
  const i = chain.findIndex((l) => l.function === taker);
  return i >= 0 ? chain.slice(i) : [...chain];
}

interface Deps {
  /**
   * to-class → from-class → witnesses (someone acquires `to` while holding `from`): the first one for each pair of
   * filesystems where `from` and `to` were taken (per-filesystem-type classes differ between them).
   */
  into: Map<string, Map<string, DepWitness[]>>;
}

/**
 * The masks a filesystem's ops-table function allocates with (nilfs's `.alloc_inode = nilfs_alloc_inode`, which does
 * `alloc_inode_sb(sb, …, GFP_NOFS)`), for the allocators whose knowledge-base entry says they allocate through that
 * field (`maskFrom`): a call from fs/<name>/ is on that filesystem's superblock. Undefined when the filesystem binds
 * no function there, or one whose masks are not all constants.
 */
function opMasks(program: Program): (from: { struct: string; field: string }, fs: string) => readonly GfpVal[] | undefined {
  const memo = new Map<string, readonly GfpVal[] | undefined>();
  let resolve: ReturnType<typeof nameResolver> | undefined;
  return (from, fs) => {
    if (fs === '*') return undefined;
    const key = `${from.struct}.${from.field}@${fs}`;
    if (memo.has(key)) return memo.get(key);
    resolve ??= nameResolver(program);
    const out: GfpVal[] = [];
    let ok = true;
    program.files.forEach((file, fi) => {
      if (fsOf(file.path) !== fs) return;
      for (const b of file.facts.bindings) {
        if (b.field !== from.field || (b.struct && b.struct !== from.struct)) continue;
        for (const id of resolve!(fi, b.fn)) {
          const sites = program.functions[id].facts.sites;
          if (!sites.length) ok = false;
          for (const site of sites) for (const p of site.paths) {
            const v = p.requested;
            if (v.sym !== undefined) ok = false;
            else if (!out.some((o) => o.set === v.set && o.clear === v.clear)) out.push(v);
          }
        }
      }
    });
    const got = ok && out.length ? out : undefined;
    memo.set(key, got);
    return got;
  };
}

/** Lock-order dependencies of the whole program: in-function (held before) and through calling contexts. */
function dependencies(program: Program, ctxs: Contexts): Deps {
  const into = new Map<string, Map<string, DepWitness[]>>();
  const add = (from: string, to: string, w: DepWitness) => {
    if (from === to || from === FS_RECLAIM || from.includes(MMU_NOTIFIER)) return;
    let m = into.get(to);
    if (!m) into.set(to, (m = new Map()));
    const ws = m.get(from);
    if (!ws) m.set(from, [w]);
    else if (!ws.some((x) => x.fromFs === w.fromFs && fsOf(x.file) === fsOf(w.file))) ws.push(w);
  };
  for (const f of program.functions) {
    if (!f.facts.acquires.length) continue;
    const file = program.files[f.file].path;
    const cs = ctxs.get(f.id) ?? [];
    for (const a of f.facts.acquires) {
      if (a.trylock || a.declared || a.nonblocking || a.kind === 'bitlock') continue;
      const w = { file, function: f.facts.name, span: a.span, api: a.api, read: a.read, fromFs: fsOf(file) };
      // Only what is held on every path to the acquisition: a lock held on some paths only is usually released
      // under the same condition it was taken under (which the analysis cannot always correlate).
      for (const h of a.heldAlways ?? a.heldBefore) add(h, a.cls, w);
      // A context reached only through a call through a function pointer is no evidence of a lock order: the call is
      // resolved to every function of that field, and lockdep would see the order only for the one that runs.
      for (const c of cs) if (!c.viaIndirect) for (const h of c.held) if (!h.atomic && h.kind !== 'bitlock') add(h.cls, a.cls, { ...w, fromFs: fsOf(h.file), from: { file: h.file, function: h.function, span: h.site, api: h.api } });
    }
  }
  return { into };
}

function toFinding(c: Candidate, f: ProgramFunction, file: string, ordinal: number, line: (file: string, o: number) => string): DeadlockFinding {
  const L = c.held.lock.cls;
  const takenAt = `${c.held.file}:${line(c.held.file, c.held.lock.site.start)}`;
  const related: ProgramFinding['related'] = [];
  const chain: ChainStep[] = [];
  const rel = (file: string, span: Span, message: string, fn: string) => {
    related.push({ file, span, message });
    chain.push({ file, span, function: fn, what: message });
  };
  rel(c.held.file, c.held.lock.site, `${L} taken here by ${c.held.lock.api}() in ${c.held.function}()`, c.held.function);
  for (const l of c.held.chain) rel(l.file, l.span, `${l.function}() calls ${l.callee}() with ${L} held`, l.function);
  rel(file, c.span, `${c.what} in ${f.facts.name}()`, f.facts.name);
  let message: string;
  const cycle = [L];
  if (c.code === 'reclaim-in-fence') {
    message = `${c.what} inside a dma-fence signalling section (begun at ${takenAt}): reclaim and mmu notifiers wait on fences, so only a non-blocking allocation is allowed here`;
    cycle.push('dma_fence_map');
  } else if (c.code === 'reclaim-frozen-queue') {
    message = `${c.what} may do I/O to reclaim while ${L} is frozen (frozen at ${takenAt}): reclaim's I/O waits for the queue to unfreeze; use GFP_NOIO or a memalloc_noio scope`;
    cycle.push('blk-mq freeze');
  } else {
    const t = c.take!;
    const via = describeVia(t);
    const pathText = pathOf(t);
    const taken = t.steps.length ? t.steps[t.steps.length - 1] : undefined;
    const takenWhere = taken ? ` (${taken.file}:${line(taken.file, taken.span.start)})` : '';
    const gate = t.requireNames.length ? `; the path requires ${t.requireNames.join('|')}, which ${c.mask} has` : '';
    const M = t.cls;
    if (c.code === 'fault-deadlock') {
      message = c.len === 2
        ? `${c.what} may fault while ${L} is held, and the fault path can take ${L}: ${pathText}${takenWhere}`
        : `${c.what} may fault while ${L} is held; the fault path takes ${M} (${pathText}${takenWhere}) and ${c.dep!.function}() takes ${L} while holding ${M}`;
    } else {
      const into = t.context === 'mmu-notifier' ? 'mmu-notifier invalidation' : t.context === 'kswapd' ? 'kswapd' : 'reclaim';
      message = c.len === 2
        ? `${c.what} may enter ${into} while ${L} is held, and ${into} can take ${L} via ${pathText}${takenWhere}${gate}`
        : `${c.what} may enter ${into} while ${L} is held; ${into} takes ${M} via ${pathText}${takenWhere}${gate}, and ${c.dep!.function}() takes ${L} while holding ${M}`;
    }
    if (c.classWhy) message += c.classWhy;
    else if (c.classLevel) message += `. Class-level only: ${via} reaches only inodes nobody holds a reference to, so this needs another instance of ${L} (lockdep reports it; it deadlocks only if the held one can be such an inode)`;
    if (t.kswapdOnly) message += '. Only kswapd takes this path, so the allocation stalls behind kswapd rather than deadlocking itself';
    if (t.rare) message += `. Reclaim takes this path ${t.rare}`;
    if (c.held.lock.read && (c.len === 2 ? t.read : c.dep!.read)) message += `. Both sides take ${L} shared: it blocks only when a writer is queued between them`;
    if (c.pseudo === DIRECT_RECLAIM) message += `. lockdep cannot report this one: it tracks reclaim (fs_reclaim) only for allocations with __GFP_FS`;
    if (c.nolockdep) message += '. __GFP_NOLOCKDEP hides this from lockdep';
    if (c.held.lock.api.endsWith('_nested')) message += `. The _nested subclass of ${c.held.lock.api}() hides this from lockdep`;
    cycle.push(c.pseudo!);
    if (c.len === 3) cycle.push(M);
    // the reclaim side
    if (t.binding) rel(t.binding.file, t.binding.span, `${t.binding.fn}() is ${via}: ${kernelPath(t)}`, t.binding.fn);
    for (const s of t.steps) {
      rel(s.file, s.span, s.callee ? `${s.function}() calls ${s.callee}()` : `${s.function}() takes ${t.cls} by ${s.api}()`, s.function);
    }
    if (t.cross) chain.push({ function: t.cross.waitsFor, source: t.cross.takes.find((x) => x.cls === t.cls)?.source, what: `${t.cross.waitsFor} takes ${t.cls} (${t.cross.name}: ${t.cross.path.map((p) => p.fn).join(' → ')})` });
    if (c.dep?.from) rel(c.dep.from.file, c.dep.from.span, `${c.dep.from.function}() takes ${M} by ${c.dep.from.api}(), and with it held reaches ${c.dep.function}()`, c.dep.from.function);
    if (c.dep) rel(c.dep.file, c.dep.span, `${c.dep.function}() takes ${L} by ${c.dep.api}() while holding ${M}`, c.dep.function);
  }
  if (c.indirect) {
    message += `. ${L} is held by ${c.held.function}(), which reaches ${f.facts.name}() only through a call through a function pointer: the analysis resolves it to every function stored in that field, not only the one the object holds at run time`;
  }
  const report = lockdepReport(reportInput(c, f, file, line, chain));
  const parts: DeadlockParts = {
    api: c.what.replace(/\(.*$/s, ''), mask: c.mask, ...(c.nolockdep ? { nolockdep: true } : {}), held: c.held,
    ...(c.pseudo ? { pseudo: c.pseudo } : {}), ...(c.take ? { take: c.take } : {}), ...(c.dep ? { dep: c.dep } : {}),
  };
  return { code: c.code, severity: c.severity, span: c.span, function: f.facts.name, file, message, related, ordinal, report, chain, cycle, ...(c.classLevel ? { classLevel: true } : {}), parts };
}

function describeVia(t: Take): string {
  if (t.via === 'priming') return 'lockdep priming (fs_reclaim_acquire … might_lock)';
  if (t.cross) return `${t.cross.name} (${t.cross.waitsFor})`;
  return t.entry?.struct ? `${t.entry.struct}.${t.entry.field}` : `->${t.entry?.field ?? t.via}`;
}

function kernelPath(t: Take): string {
  return t.entry ? `${t.entry.path.map((p) => p.fn).join(' → ')} → ->${t.entry.field}() (${t.entry.source})` : t.via;
}

/** `super_cache_scan → xfs_fs_free_cached_objects → xfs_reclaim_inodes_nr → xfs_ilock`. */
function pathOf(t: Take, full = false): string {
  const names: string[] = [];
  // The generic part of the path (allocator to the callback) is long and the same for every finding: its last
  // two calls say which door reclaim came through; the report and the related information have all of it.
  const generic = (fns: string[]) => (full || fns.length <= 2 ? fns : ['…', ...fns.slice(-2)]);
  if (t.entry) names.push(...generic(t.entry.path.map((p) => p.fn)));
  if (t.cross) {
    names.push(...generic(t.cross.path.map((p) => p.fn)));
    names.push(t.cross.waitsFor);
  }
  if (t.via === 'priming') names.push('lockdep priming');
  for (const s of t.steps) names.push(s.function);
  const last = t.steps[t.steps.length - 1];
  if (last?.api) names.push(last.api);
  return names.join(' → ');
}

function reportInput(c: Candidate, f: ProgramFunction, file: string, line: (file: string, o: number) => string, chain: ChainStep[]): ReportInput {
  const L = c.held.lock.cls;
  const source = c.code === 'reclaim-in-fence' ? 'dma_fence_map' : c.code === 'reclaim-frozen-queue' ? 'blk-mq freeze' : c.pseudo!;
  return {
    title: c.code === 'reclaim-in-fence' || c.code === 'reclaim-frozen-queue' ? 'blocking allocation in a section reclaim waits on' : 'possible circular locking dependency detected',
    task: f.facts.name,
    trying: { cls: source, at: `${c.what} ${file}:${line(file, c.span.start)}` },
    held: { cls: L, read: c.held.lock.read, at: `${c.held.lock.api} ${c.held.file}:${line(c.held.file, c.held.lock.site.start)}` },
    parent: c.len === 3 ? c.take!.cls : undefined,
    chain: chain.map((s) => `${s.what}${s.file && s.span ? ` ${s.file}:${line(s.file, s.span.start)}` : s.source ? ` ${s.source}` : ''}`),
    classLevel: !!c.classLevel,
  };
}

export type { GfpVal };
