// What reclaim (and kswapd, mmu-notifier invalidation, page faults) can take: for every function bound to an
// ops-table field those paths call through (knowledge base: reclaimEntries), the locks it and its callees acquire
// blocking, each with the calls that lead there and the gates on the way (`if (!(sc->gfp_mask & __GFP_FS))`).
// Also the locks lockdep priming declares (`fs_reclaim_acquire(GFP_KERNEL); might_lock(&l);`) and the locks of
// cross-thread waits the settings enable (loop-back NFS).
import type { CrossWaitEntry, ReclaimEntry } from '../../model/kb/types';
import type { GfpModel } from '../../model/gfp';
import type { FunctionFacts, Gate, LockAcquire, Span } from '../facts';
import { fsOfPath, nameResolver, type FunctionId, type Program } from '../interproc';
import { contradicts, needsAt, needsKey, translateNeeds, type Needs } from '../paramGuards';

export type ReclaimContext = 'reclaim' | 'kswapd' | 'mmu-notifier' | 'fault';

/** One step of a path inside the analysed tree: where `function` calls `callee` (or takes the lock: no callee). */
export interface TreeStep {
  file: string;
  function: string;
  span: Span;
  /** the function called here; absent for the final acquisition */
  callee?: string;
  /** the lock API of the final acquisition */
  api?: string;
}

/** A lock some reclaim (or fault) path takes blocking. */
export interface Take {
  cls: string;
  read: boolean;
  context: ReclaimContext;
  /** how the path starts: `super_operations.evict_inode`, `scan_objects`, `priming`, `loopback-nfs` */
  via: string;
  /** the knowledge-base entry (its generic path, with citations, outside the analysed functions) */
  entry?: ReclaimEntry;
  cross?: CrossWaitEntry;
  /** where the callback is bound (`.evict_inode = xfs_fs_evict_inode`), for entries found in the tree */
  binding?: { file: string; span: Span; fn: string };
  /** calls from the callback down to the acquisition */
  steps: TreeStep[];
  /** gfp bits the allocation's mask must have for reclaim to get there (entry and gates together) */
  requires: number;
  requireNames: string[];
  kswapdOnly: boolean;
  objects?: 'unreferenced-inode' | 'any';
  /** the path is taken only under a rare condition (knowledge base): which */
  rare?: string;
  /** the filesystem whose code takes the lock (`fs/<name>/`), '*' for generic code */
  fs: string;
  /**
   * Lock classes the path itself holds (taken blocking or by a successful trylock) when it gets to the acquisition:
   * `bch_mca_scan` try-locks `&cache_set->bucket_lock` before `mca_reap` takes `&btree->write_lock`.
   */
  holds?: readonly string[];
}

/** Per function: what it (and its callees) acquire blocking, relative to its entry. */
interface Partial {
  cls: string;
  read: boolean;
  steps: TreeStep[];
  requires: number;
  requireNames: string[];
  kswapdOnly: boolean;
  rare?: string;
  /** the function's parameters must have these truth values for the path to run (paramGuards) */
  needs?: Needs;
  holds?: readonly string[];
}

const MAX_PER_FUNCTION = 64;

export interface TakesOptions {
  /** names of the cross-wait settings that are on (`reclaimLens.model.loopbackNfs`) */
  crossWaits: readonly string[];
}

export interface Takes {
  /** by context, then by lock class */
  byContext: Map<ReclaimContext, Map<string, Take[]>>;
  /** functions bound to reclaim/fault fields and the entries they were bound to */
  roots: { fn: FunctionId; entry: ReclaimEntry; file: string; span: Span }[];
}

export interface TakesKb {
  reclaimEntry(field: string, struct: string | undefined): ReclaimEntry | undefined;
  crossWaits(): readonly CrossWaitEntry[];
  deferredCall(caller: string, callee: string): unknown;
  /** calls through this `struct.field` are followed (knowledge base: dispatches) */
  dispatch(structField: string): unknown;
  gfp: GfpModel;
}

export function reclaimTakes(program: Program, kb: TakesKb, options: TakesOptions): Takes {
  const model = kb.gfp;
  const bitsOf = (names: readonly string[]) => names.reduce((a, n) => a | (model.lookup(n) ?? 0), 0);
  const byName = nameResolver(program);
  const memo = new Map<FunctionId, Partial[]>();
  const busy = new Set<FunctionId>();
  const fileOf = (f: FunctionId) => program.files[program.functions[f].file].path;

  const summary = (f: FunctionId): Partial[] => {
    const have = memo.get(f);
    if (have) return have;
    if (busy.has(f)) return [];
    busy.add(f);
    const facts = program.functions[f].facts;
    const file = fileOf(f);
    const out = new Map<string, Partial>();
    const add = (p: Partial) => {
      // A path that needs a parameter's value is kept beside the best one that does not: callers passing the other
      // value rule it out.
      // So is the best path that holds nothing on the way beside one that does (an allocator holding that lock meets
      // only the first).
      const key = `${p.cls}${p.read ? '(r)' : ''}${needsKey(p.needs)}${p.holds?.length ? '|h' : ''}`;
      const old = out.get(key);
      if (!old || better(p, old)) out.set(key, p);
    };
    for (const a of facts.acquires) {
      if (a.trylock || a.nonblocking || a.kind === 'bitlock' || a.cls.startsWith('*')) continue;
      const g = gateAt(facts, a.span.start, bitsOf);
      if (!g) continue;
      const needs = needsAt(facts, a.span.start);
      const holds = a.heldAlways?.length ? a.heldAlways : undefined;
      add({ cls: a.cls, read: a.read, steps: [{ file, function: facts.name, span: a.span, api: a.api }], ...g, ...(needs ? { needs } : {}), ...(holds ? { holds } : {}) });
    }
    for (let i = program.outStart[f]; i < program.outStart[f + 1]; i++) {
      const callee = program.outCallee[i];
      const cs = facts.callSites[program.outSite[i]];
      // A call through a function pointer is followed only through the fields the knowledge base lists (dispatches:
      // `active_stack->sp_ops->dlm_unlock(…)`, ocfs2's stack plugin), and is named by the function it reaches. The
      // call graph resolves such a call to every function stored in that field of that struct type; on the reclaim side
      // that made every table's locks reclaim's (a page-table walker's `walk->ops->pt_entry(…)`, SMB1's
      // `server->ops->sync_read(…)` under `->read_folio`: followed up to two targets, 6.1's warnings went from 10 to 27).
      const indirect = cs.callee.startsWith('->');
      if (indirect && !kb.dispatch(program.indirectVia.get(cs.callee) ?? '')) continue;
      const calleeName = indirect ? program.functions[callee].facts.name : cs.callee;
      if (kb.deferredCall(facts.name, calleeName)) continue;
      const g = gateAt(facts, cs.span.start, bitsOf);
      if (!g) continue;
      const needs = needsAt(facts, cs.span.start);
      const here = heldOnEveryPath(cs.paths);
      for (const p of summary(callee)) {
        // The callee's path needs a parameter value this call never passes (`nfs_file_direct_write(…, true)` skips
        // the `if (!swap)` branch).
        if (contradicts(p.needs, cs.consts)) continue;
        const rare = p.rare ?? g.rare;
        const holds = union(here, p.holds ?? []);
        // The callee's needs on parameters this call passes the caller's own parameters to become the caller's.
        const passed = translateNeeds(p.needs, cs.consts);
        const all = passed.length ? [...(needs ?? []), ...passed] : needs;
        add({
          ...(all ? { needs: all } : {}),
          ...(holds.length ? { holds } : {}),
          cls: p.cls, read: p.read, steps: [{ file, function: facts.name, span: cs.span, callee: calleeName }, ...p.steps],
          requires: p.requires | g.requires, requireNames: union(p.requireNames, g.requireNames), kswapdOnly: p.kswapdOnly || g.kswapdOnly,
          ...(rare ? { rare } : {}),
        });
      }
    }
    const list = [...out.values()].sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0)).slice(0, MAX_PER_FUNCTION);
    busy.delete(f);
    memo.set(f, list);
    return list;
  };

  const byContext = new Map<ReclaimContext, Map<string, Take[]>>();
  const put = (t: Take) => {
    let m = byContext.get(t.context);
    if (!m) byContext.set(t.context, (m = new Map()));
    const list = m.get(t.cls);
    if (list) list.push(t);
    else m.set(t.cls, [t]);
  };
  const roots: Takes['roots'] = [];
  program.files.forEach((file, fi) => {
    for (const b of file.facts.bindings ?? []) {
      const entry = kb.reclaimEntry(b.field, b.struct);
      if (!entry) continue;
      // The kernel's call through the table that reclaim never makes for this callback (hugetlbfs_evict_inode).
      if (entry.struct && kb.deferredCall(`${entry.struct}.${entry.field}`, b.fn)) continue;
      for (const fn of byName(fi, b.fn)) {
        roots.push({ fn, entry, file: file.path, span: b.span });
        const entryBits = bitsOf(entry.requires ?? []);
        const context: ReclaimContext = entry.context;
        for (const p of summary(fn)) {
          put({
            cls: p.cls, read: p.read, context, via: entry.struct ? `${entry.struct}.${entry.field}` : entry.field, entry,
            binding: { file: file.path, span: b.span, fn: b.fn }, steps: p.steps,
            requires: p.requires | entryBits, requireNames: union(p.requireNames, entry.requires ?? []),
            kswapdOnly: p.kswapdOnly || context === 'kswapd', ...(entry.objects ? { objects: entry.objects } : {}),
            ...(entry.rare ?? p.rare ? { rare: entry.rare ?? p.rare } : {}), fs: fsOfPath(p.steps[p.steps.length - 1].file),
            ...(p.holds ? { holds: p.holds } : {}),
          });
        }
      }
    }
  });
  // Priming: a lock acquired (or declared with might_lock) while fs_reclaim is held is a lock reclaim takes.
  program.functions.forEach((fn) => {
    for (const a of fn.facts.acquires) {
      if (a.trylock || !a.heldBefore.length) continue;
      const ctx = primingContext(a);
      if (!ctx) continue;
      const file = fileOf(fn.id);
      // fs_reclaim is lockdep's map of reclaim with __GFP_FS (fs_reclaim_acquire() takes it only for such masks):
      // a lock primed under it is declared taken by FS reclaim, not by reclaim from a GFP_NOFS allocation.
      const req = ctx === 'reclaim' ? ['__GFP_FS'] : [];
      put({ cls: a.cls, read: a.read, context: ctx, via: 'priming', steps: [{ file, function: fn.facts.name, span: a.span, api: a.api }], requires: bitsOf(req), requireNames: req, kswapdOnly: false, fs: fsOfPath(file) });
    }
  });
  for (const w of kb.crossWaits()) {
    if (!options.crossWaits.includes(w.setting)) continue;
    const req = w.requires ?? [];
    for (const t of w.takes) put({ cls: t.cls, read: false, context: w.context, via: w.name, cross: w, steps: [], requires: bitsOf(req), requireNames: req, kswapdOnly: false, fs: '*' });
  }
  for (const m of byContext.values()) for (const list of m.values()) list.sort((a, b) => a.requireNames.length - b.requireNames.length || a.steps.length - b.steps.length);
  return { byContext, roots };
}

/** lockdep's priming idioms: `fs_reclaim_acquire(); might_lock(&l);` and the mmu-notifier map held around one. */
function primingContext(a: LockAcquire): ReclaimContext | undefined {
  if (a.cls === 'fs_reclaim' || a.cls.includes('mmu_notifier_invalidate_range_start')) return undefined;
  if (a.heldBefore.includes('fs_reclaim')) return 'reclaim';
  if (a.heldBefore.some((h) => h.includes('mmu_notifier_invalidate_range_start'))) return 'mmu-notifier';
  return undefined;
}

/** The lock classes held on every path to a call site (relative to the function's entry). */
function heldOnEveryPath(paths: readonly { held: readonly { cls: string; kind: string }[] }[]): string[] {
  if (!paths.length) return [];
  let out = paths[0].held.filter((h) => h.kind !== 'bitlock').map((h) => h.cls);
  for (let i = 1; i < paths.length && out.length; i++) out = out.filter((c) => paths[i].held.some((h) => h.cls === c));
  return out;
}

/** The gates covering an offset of a function: undefined when reclaim never gets there. */
function gateAt(facts: FunctionFacts, at: number, bitsOf: (n: readonly string[]) => number): { requires: number; requireNames: string[]; kswapdOnly: boolean; rare?: string } | undefined {
  let requireNames: string[] = [];
  let kswapdOnly = false;
  let rare: string | undefined;
  for (const g of facts.gates ?? []) {
    if (at < g.region.start || at >= g.region.end) continue;
    if (g.excluded) return undefined;
    if (g.requires) requireNames = union(requireNames, g.requires);
    if (g.kswapdOnly) kswapdOnly = true;
    if (g.rare) rare = g.rare;
  }
  return { requires: bitsOf(requireNames), requireNames, kswapdOnly, ...(rare ? { rare } : {}) };
}

export function gateSummary(g: Gate): string {
  if (g.excluded) return `reclaim never gets past this test of ${g.token}`;
  if (g.kswapdOnly) return `only kswapd gets past this test of ${g.token}`;
  return `reclaim gets past this test only with ${g.requires?.join('|')} in its mask`;
}

/** Fewer requirements first (admits more masks), then not kswapd-only, not rare, then shorter. */
function better(a: Partial, b: Partial): boolean {
  if (a.requireNames.length !== b.requireNames.length) return a.requireNames.length < b.requireNames.length;
  if (a.kswapdOnly !== b.kswapdOnly) return !a.kswapdOnly;
  if (!a.rare !== !b.rare) return !a.rare;
  if ((a.holds?.length ?? 0) !== (b.holds?.length ?? 0)) return (a.holds?.length ?? 0) < (b.holds?.length ?? 0);
  return a.steps.length < b.steps.length;
}

function union(a: readonly string[], b: readonly string[]): string[] {
  if (!b.length) return a as string[];
  if (!a.length) return b as string[];
  const out = [...a];
  for (const x of b) if (!out.includes(x)) out.push(x);
  return out;
}

