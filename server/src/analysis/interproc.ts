// The whole-program layer over per-file facts (#3, first slice): a symbol table with file-static scoping, the call
// graph, its strongly connected components, calling contexts computed top-down (the locks, memalloc scopes, atomic
// state and gfp parameter values a function is called with), the effective mask of every allocation per calling
// context, and may-sleep summaries computed bottom-up for the cross-function sleep-in-atomic check.
//
// Pure: plain facts in, plain data out; no IO, no clocks. Everything is bounded so that it terminates on the whole
// kernel: contexts per function (the most frequent are kept), chain length, fixpoint rounds inside recursive SCCs.
// Not here yet (later slices of #3): lock and scope effects of wrapper functions derived from their code, calls
// through function pointers and ops tables.
import type { GfpModel } from '../model/gfp';
import type { PfFlag } from '../model/kb/types';
import type { AllocSite, CallSite, FileFacts, Finding, FunctionFacts, HeldLock, PathFacts, ScopeFrame, Span } from './facts';
import { applyScopeVal, clearBits, hasBit, renderVal, setBits, type GfpVal } from './gfpValue';

export type FunctionId = number;

export interface ProgramFileInput {
  /** the file's path as results should name it (relative to the kernel root, forward slashes) */
  path: string;
  facts: FileFacts;
  /** offsets at which lines start (lineStartsOf), to put line numbers into messages; offsets are shown without it */
  lineStarts?: ArrayLike<number>;
}

export interface ProgramFunction {
  id: FunctionId;
  /** index into Program.files */
  file: number;
  facts: FunctionFacts;
}

export interface CallEdge {
  caller: FunctionId;
  callee: FunctionId;
  /** index into the caller's facts.callSites */
  site: number;
}

export interface Program {
  files: ProgramFileInput[];
  functions: ProgramFunction[];
  /** outgoing and incoming edges per function; one edge per (call site, resolved definition) */
  out: CallEdge[][];
  in: CallEdge[][];
  /** callee names that no definition in the program resolves, with their number of call sites */
  unresolved: Map<string, number>;
  /** strongly connected components, callees before callers (bottom-up order); reverse it for top-down */
  sccs: FunctionId[][];
  sccOf: Int32Array;
  /** per function: the number of call sites of the functions before it (a program-wide call-site number) */
  siteBase: Int32Array;
}

const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
};

/**
 * Symbols and the call graph. A call in file F to name N resolves to F's own definitions of N (a static function
 * shadows every other; a non-static one is what the linker would pick for F too), else to every non-static
 * definition of N, else to the static (inline) definitions of N in headers, which every includer sees.
 */
export function buildProgram(files: ProgramFileInput[]): Program {
  const functions: ProgramFunction[] = [];
  const local: Map<string, FunctionId[]>[] = [];
  const global = new Map<string, FunctionId[]>();
  const headerStatic = new Map<string, FunctionId[]>();
  files.forEach((f, fi) => {
    const isHeader = f.path.endsWith('.h');
    const own = new Map<string, FunctionId[]>();
    for (const fn of f.facts.functions) {
      const id = functions.length;
      functions.push({ id, file: fi, facts: fn });
      push(own, fn.name, id);
      if (!fn.isStatic) push(global, fn.name, id);
      else if (isHeader) push(headerStatic, fn.name, id);
    }
    local.push(own);
  });
  const n = functions.length;
  const out: CallEdge[][] = Array.from({ length: n }, () => []);
  const inn: CallEdge[][] = Array.from({ length: n }, () => []);
  const unresolved = new Map<string, number>();
  const siteBase = new Int32Array(n + 1);
  for (const fn of functions) {
    siteBase[fn.id + 1] = siteBase[fn.id] + fn.facts.callSites.length;
    const own = local[fn.file];
    fn.facts.callSites.forEach((cs, site) => {
      const targets = own.get(cs.callee) ?? global.get(cs.callee) ?? headerStatic.get(cs.callee);
      if (!targets) {
        unresolved.set(cs.callee, (unresolved.get(cs.callee) ?? 0) + 1);
        return;
      }
      for (const callee of targets) {
        const e: CallEdge = { caller: fn.id, callee, site };
        out[fn.id].push(e);
        inn[callee].push(e);
      }
    });
  }
  const { sccs, sccOf } = stronglyConnected(n, out);
  return { files, functions, out, in: inn, unresolved, sccs, sccOf, siteBase };
}

/** Tarjan's algorithm without recursion (kernel call chains are deep); components come out callees first. */
function stronglyConnected(n: number, out: CallEdge[][]): { sccs: FunctionId[][]; sccOf: Int32Array } {
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const sccOf = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const sccs: FunctionId[][] = [];
  const work: number[] = [];
  const edge: number[] = [];
  let counter = 0;
  const enter = (v: number) => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = 1;
    work.push(v);
    edge.push(0);
  };
  for (let s = 0; s < n; s++) {
    if (index[s] !== -1) continue;
    enter(s);
    while (work.length) {
      const top = work.length - 1;
      const v = work[top];
      const i = edge[top];
      if (i < out[v].length) {
        edge[top] = i + 1;
        const w = out[v][i].callee;
        if (index[w] === -1) enter(w);
        else if (onStack[w] && index[w] < low[v]) low[v] = index[w];
        continue;
      }
      work.pop();
      edge.pop();
      if (low[v] === index[v]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          sccOf[w] = sccs.length;
          comp.push(w);
        } while (w !== v);
        sccs.push(comp.reverse());
      }
      if (work.length) {
        const u = work[work.length - 1];
        if (low[v] < low[u]) low[u] = low[v];
      }
    }
  }
  return { sccs, sccOf };
}

// ---------------------------------------------------------------------------------------------------------------
// Calling contexts (top-down)

/** One call on the way from a root caller: `function` (in `file`) calls `callee` at `span`. */
export interface ChainLink {
  function: string;
  file: string;
  span: Span;
  callee: string;
}

/** A held lock or an open scope of a calling context, with the function and file that took or opened it. */
export interface ContextLock extends HeldLock {
  file: string;
  function: string;
}
export interface ContextScope extends ScopeFrame {
  file: string;
  function: string;
}

export interface CallingContext {
  held: ContextLock[];
  scopes: ContextScope[];
  atomic: boolean;
  /** values the callers pass for this function's gfp_t parameters, by parameter name (absent: unknown) */
  gfpParams: Record<string, GfpVal[]>;
  /**
   * The calls from where this context's state began (the first caller that holds a lock, opened a scope or passes
   * a gfp value) down to this function; the direct caller alone when the context is empty.
   */
  chain: ChainLink[];
  /** links dropped from the middle of a chain longer than maxChainDepth */
  elided?: number;
  /** distinct call sites that call this function in this context (0: the function's own frame, no known caller) */
  callers: number;
}

export interface ContextOptions {
  /** contexts kept per function (the most frequent); default 8 */
  maxContextsPerFunction: number;
  /** links kept per chain; default 12 */
  maxChainDepth: number;
  /** fixpoint rounds inside a recursive SCC; default 8 */
  maxRounds?: number;
}

/** Contexts per function, plus the functions whose contexts were cut at maxContextsPerFunction. */
export interface Contexts extends Map<FunctionId, CallingContext[]> {
  capped: Set<FunctionId>;
  /** recursive SCCs that had not converged after maxRounds (their contexts are then a bounded approximation) */
  unconverged: number;
}

export const DEFAULT_CONTEXT_OPTIONS: ContextOptions = { maxContextsPerFunction: 8, maxChainDepth: 12, maxRounds: 8 };

const ALL = 0x7fffffff;
const MAX_VALUES = 8;
const EMPTY: CallingContext = Object.freeze({ held: [], scopes: [], atomic: false, gfpParams: {}, chain: [], callers: 0 }) as CallingContext;

const valKey = (v: GfpVal) => (v.sym === undefined ? `#${v.set}` : `${v.sym}/${v.set}/${v.clear & ALL}`);

/** A value that says nothing: a parameter passed on unchanged from a frame where it is unknown. */
const isPlainParam = (v: GfpVal) => v.sym !== undefined && v.symKind === 'param' && v.set === 0 && (v.clear & ALL) === 0;

/** (w & ~clear) | set: what `v` (in terms of a parameter) is when the parameter is `w`. */
function applyDelta(w: GfpVal, v: GfpVal): GfpVal {
  return setBits(clearBits(w, v.clear & ALL & ~v.set), v.set);
}

/** Replaces a gfp parameter of `fn` in `v` by the values a context binds to it. */
function substitute(v: GfpVal, fn: FunctionFacts, bound: Record<string, GfpVal[]>): GfpVal[] {
  if (v.sym === undefined || v.symKind !== 'param') return [v];
  const ws = bound[v.sym];
  if (!ws || !fn.gfpParams.some((p) => p.name === v.sym)) return [v];
  return ws.map((w) => applyDelta(w, v));
}

function pushVal(out: GfpVal[], v: GfpVal) {
  const k = valKey(v);
  if (out.length < MAX_VALUES && !out.some((o) => valKey(o) === k)) out.push(v);
}

function flagsOf(scopes: readonly ScopeFrame[], into: PfFlag[] = []): PfFlag[] {
  for (const s of scopes) for (const f of s.flags) if (!into.includes(f)) into.push(f);
  return into;
}

/** What makes two contexts the same: held lock classes, scope flags, atomic, gfp parameter values. */
export function contextKey(c: CallingContext): string {
  const held = [...new Set(c.held.map((h) => (h.read ? `${h.cls}(r)` : h.cls)))].sort().join(',');
  const flags = flagsOf(c.scopes).sort().join(',');
  const gfp = Object.keys(c.gfpParams).sort().map((k) => `${k}=${c.gfpParams[k].map(valKey).sort().join('/')}`).join(',');
  return `${held}|${flags}|${c.atomic ? 1 : 0}|${gfp}`;
}

const isEmptyContext = (c: CallingContext) => c.held.length === 0 && c.scopes.length === 0 && !c.atomic && Object.keys(c.gfpParams).length === 0;

function trimChain(chain: ChainLink[], max: number, elided: number): { chain: ChainLink[]; elided: number } {
  if (chain.length <= max) return { chain, elided };
  const head = Math.ceil(max / 2);
  const tail = Math.max(1, max - head);
  return { chain: [...chain.slice(0, head), ...chain.slice(chain.length - tail)], elided: elided + chain.length - head - tail };
}

interface Annotator {
  lock(h: HeldLock, file: string, fn: string): ContextLock;
  scope(s: ScopeFrame, file: string, fn: string): ContextScope;
  link(file: string, fn: string, site: CallSite, callee: string): ChainLink;
}

/** Facts objects are shared by all contexts of a caller: annotate each lock, scope and call once. */
function annotator(): Annotator {
  const locks = new WeakMap<HeldLock, ContextLock>();
  const scopes = new WeakMap<ScopeFrame, ContextScope>();
  const links = new WeakMap<CallSite, ChainLink>();
  return {
    link(file, fn, site, callee) {
      let l = links.get(site);
      if (!l || l.callee !== callee) links.set(site, (l = { function: fn, file, span: site.span, callee }));
      return l;
    },
    lock(h, file, fn) {
      let a = locks.get(h);
      if (!a) locks.set(h, (a = { ...h, file, function: fn }));
      return a;
    },
    scope(s, file, fn) {
      let a = scopes.get(s);
      if (!a) scopes.set(s, (a = { ...s, file, function: fn }));
      return a;
    },
  };
}

/** The context of `callee` at one path of a call site in `caller`, when `caller` runs in context `cc`. */
function compose(program: Program, caller: ProgramFunction, cc: CallingContext, site: CallSite, path: PathFacts,
  callee: ProgramFunction, opts: ContextOptions, ann: Annotator): CallingContext {
  const file = program.files[caller.file].path;
  const name = caller.facts.name;
  let held = cc.held;
  for (const h of path.held) {
    if (held.some((x) => x.cls === h.cls)) continue;
    if (held === cc.held) held = [...held];
    held.push(ann.lock(h, file, name));
  }
  let scopes = cc.scopes;
  for (const s of path.scopes) {
    // A recursion that opens a scope again adds nothing new: one frame per family and flags keeps contexts finite.
    if (scopes.some((x) => x.family === s.family && x.flags.join() === s.flags.join())) continue;
    if (scopes === cc.scopes) scopes = [...scopes];
    scopes.push(ann.scope(s, file, name));
  }
  const gfpParams: Record<string, GfpVal[]> = {};
  for (const p of callee.facts.gfpParams) {
    const arg = site.gfpArgs.find((a) => a.index === p.index);
    if (!arg) continue;
    const vals: GfpVal[] = [];
    for (const v of arg.values) for (const w of substitute(v, caller.facts, cc.gfpParams)) pushVal(vals, w);
    if (vals.length && !vals.every(isPlainParam)) gfpParams[p.name] = vals;
  }
  const link = ann.link(file, name, site, callee.facts.name);
  const ctx: CallingContext = { held, scopes, atomic: cc.atomic || path.atomic, gfpParams, chain: [], callers: 1 };
  const t = isEmptyContext(cc) ? { chain: [link], elided: 0 } : trimChain([...cc.chain, link], opts.maxChainDepth, cc.elided ?? 0);
  ctx.chain = t.chain;
  if (t.elided) ctx.elided = t.elided;
  return ctx;
}

/**
 * Calling contexts, top-down: callers before callees, recursive SCCs iterated to a bounded fixpoint. A function
 * with no caller in the program (a root, or reached only through pointers we do not see yet) has the empty context;
 * so does every function of a recursive SCC that nothing outside calls.
 */
export function contexts(program: Program, options: Partial<ContextOptions> = {}): Contexts {
  const opts: ContextOptions = { ...DEFAULT_CONTEXT_OPTIONS, ...options };
  const result = new Map<FunctionId, CallingContext[]>() as Contexts;
  result.capped = new Set();
  result.unconverged = 0;
  const ann = annotator();
  const { functions, sccOf } = program;

  const computeOne = (f: FunctionId, seed: boolean): CallingContext[] => {
    const merged = new Map<string, { ctx: CallingContext; sites: Set<number> }>();
    const add = (c: CallingContext, siteId: number) => {
      const k = contextKey(c);
      const m = merged.get(k);
      if (!m) {
        merged.set(k, { ctx: c, sites: new Set(siteId < 0 ? [] : [siteId]) });
        return;
      }
      if (siteId >= 0) m.sites.add(siteId);
      if (c.chain.length < m.ctx.chain.length) m.ctx = { ...c, callers: m.ctx.callers };
    };
    if (seed) add(EMPTY, -1);
    const callee = functions[f];
    for (const e of program.in[f]) {
      const callerCtxs = result.get(e.caller);
      if (!callerCtxs) continue;
      const caller = functions[e.caller];
      const site = caller.facts.callSites[e.site];
      const siteId = program.siteBase[e.caller] + e.site;
      for (const cc of callerCtxs) for (const p of site.paths) add(compose(program, caller, cc, site, p, callee, opts, ann), siteId);
    }
    const list = [...merged.entries()].map(([k, m]) => ({ k, ctx: { ...m.ctx, callers: m.sites.size } }));
    list.sort((a, b) => b.ctx.callers - a.ctx.callers || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    if (list.length > opts.maxContextsPerFunction) {
      result.capped.add(f);
      list.length = opts.maxContextsPerFunction;
    }
    return list.map((x) => x.ctx);
  };
  const signature = (cs: CallingContext[]) => cs.map((c) => `${contextKey(c)}#${c.callers}`).join(';');

  for (let i = program.sccs.length - 1; i >= 0; i--) {
    const scc = program.sccs[i];
    const external = (f: FunctionId) => program.in[f].some((e) => sccOf[e.caller] !== i);
    const sccHasEntry = scc.some(external);
    const seeded = (f: FunctionId) => !sccHasEntry || (program.in[f].length === 0);
    const recursive = scc.length > 1 || program.out[scc[0]].some((e) => e.callee === scc[0]);
    if (!recursive) {
      result.set(scc[0], computeOne(scc[0], program.in[scc[0]].length === 0));
      continue;
    }
    let converged = false;
    for (let round = 0; round < (opts.maxRounds ?? 8) && !converged; round++) {
      converged = true;
      for (const f of scc) {
        const before = result.get(f);
        const now = computeOne(f, seeded(f));
        if (!before || signature(before) !== signature(now)) converged = false;
        result.set(f, now);
      }
    }
    if (!converged) result.unconverged++;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Effective masks per calling context

export interface SiteContext {
  /** the effective mask in kernel notation */
  effective: string;
  value: GfpVal;
  /** distinct call sites over the contexts that give this mask */
  callers: number;
  /** the chain of the most frequent of those contexts */
  chain: ChainLink[];
  elided?: number;
  /** locks held and scopes open in those contexts (from callers; the site's own are in its paths) */
  held: ContextLock[];
  scopes: ContextScope[];
  atomic: boolean;
}

/**
 * For each allocation site of a function with callers in the program: the effective mask in every calling context
 * (the gfp parameter replaced by the values callers pass, then the callers' scopes applied after the site's own),
 * grouped by mask. Indexed by function, then by the site's index in facts.sites. Roots are left out: their masks are
 * the per-path ones.
 */
export function siteContexts(program: Program, ctxs: Contexts, model: GfpModel): Map<FunctionId, SiteContext[][]> {
  const out = new Map<FunctionId, SiteContext[][]>();
  for (const fn of program.functions) {
    if (!fn.facts.sites.length) continue;
    const cs = ctxs.get(fn.id);
    if (!cs || !cs.some((c) => c.callers > 0)) continue;
    out.set(fn.id, fn.facts.sites.map((s) => siteInContexts(fn.facts, s, cs, model)));
  }
  return out;
}

function siteInContexts(fn: FunctionFacts, site: AllocSite, cs: CallingContext[], model: GfpModel): SiteContext[] {
  const groups = new Map<string, SiteContext & { from: Set<number> }>();
  cs.forEach((c, ci) => {
    const cflags = flagsOf(c.scopes);
    for (const p of site.paths) {
      const flags = flagsOf(p.scopes, [...cflags]);
      for (const r of substitute(p.requested, fn, c.gfpParams)) {
        const value = applyScopeVal(r, flags, model);
        const effective = renderVal(value, model);
        let g = groups.get(effective);
        if (!g) {
          g = { effective, value, callers: 0, chain: c.chain, held: [], scopes: [], atomic: false, from: new Set() };
          if (c.elided) g.elided = c.elided;
          groups.set(effective, g);
        }
        if (!g.from.has(ci)) {
          g.from.add(ci);
          g.callers += c.callers;
          for (const h of c.held) if (!g.held.some((x) => x.cls === h.cls)) g.held.push(h);
          for (const s of c.scopes) if (!g.scopes.includes(s)) g.scopes.push(s);
        }
        g.atomic ||= c.atomic || p.atomic;
      }
    }
  });
  return [...groups.values()]
    .sort((a, b) => b.callers - a.callers || a.effective.localeCompare(b.effective))
    .map(({ from: _f, ...g }) => g);
}

// ---------------------------------------------------------------------------------------------------------------
// May-sleep summaries (bottom-up) and the cross-function sleep-in-atomic check

/** The operation that sleeps, and the calls that lead to it from the summarised function. */
export interface SleepWitness {
  /** calls from the summarised function down to the function that sleeps (empty: it sleeps itself) */
  links: ChainLink[];
  /** the sleeping operation: `kmalloc(GFP_KERNEL)`, `msleep()`, `mutex_lock()` */
  what: string;
  function: string;
  file: string;
  span: Span;
  /** the sleep needs a blocking gfp value, and this is the one passed: `GFP_KERNEL passed to foo() for gfp` */
  passed?: string;
}

export interface SleepSummary {
  /** 'if-gfp-param:<name>': only when a caller passes a blocking mask for that gfp parameter */
  maySleep: 'yes' | `if-gfp-param:${string}` | 'no';
  witness?: SleepWitness;
  /** per gfp parameter of this function: how a blocking value for it makes the function sleep */
  params: Record<string, SleepWitness>;
}

const MAX_WITNESS_LINKS = 16;

/** Summaries per function (indexed by FunctionId), bottom-up over SCCs, iterating each recursive SCC to its fixpoint. */
export function sleepSummaries(program: Program, model: GfpModel): SleepSummary[] {
  const direct = model.lookup('__GFP_DIRECT_RECLAIM') ?? 0;
  const sums: SleepSummary[] = program.functions.map(() => ({ maySleep: 'no', params: {} }));
  const fileOf = (f: ProgramFunction) => program.files[f.file].path;

  const own = (f: ProgramFunction): SleepSummary => {
    const s: SleepSummary = { maySleep: 'no', params: {} };
    const file = fileOf(f);
    const name = f.facts.name;
    for (const site of f.facts.sites) {
      for (const p of site.paths) {
        if (p.atomic) continue; // reported inside the function when it blocks; not a sleep the callers add to
        const sleeps = site.entry.mayAlwaysSleep || hasBit(p.effective, direct) === 'yes';
        if (sleeps && !s.witness) {
          s.witness = { links: [], what: `${site.api}(${describeMask(p, model)})`, function: name, file, span: site.call };
        } else if (!sleeps && hasBit(p.effective, direct) === 'maybe') {
          const param = paramOf(p.effective, f.facts);
          if (param && !s.params[param]) s.params[param] = { links: [], what: `${site.api}(${renderVal(p.literal, model)})`, function: name, file, span: site.call };
        }
      }
    }
    if (!s.witness) {
      for (const c of f.facts.calls) {
        if (c.kind !== 'sleep' || !c.paths.some((p) => !p.atomic)) continue;
        s.witness = { links: [], what: `${c.api}()`, function: name, file, span: c.call };
        break;
      }
    }
    return s;
  };
  const owns = new Map<FunctionId, SleepSummary>();

  const update = (f: ProgramFunction): boolean => {
    let s = owns.get(f.id);
    if (!s) owns.set(f.id, (s = own(f)));
    const next: SleepSummary = { maySleep: 'no', witness: s.witness, params: { ...s.params } };
    const file = fileOf(f);
    for (const e of program.out[f.id]) {
      const cs = f.facts.callSites[e.site];
      if (!cs.paths.some((p) => !p.atomic)) continue;
      const g = sums[e.callee];
      const callee = program.functions[e.callee];
      const link: ChainLink = { function: f.facts.name, file, span: cs.span, callee: callee.facts.name };
      const via = (w: SleepWitness): SleepWitness => ({ ...w, links: [link, ...w.links].slice(0, MAX_WITNESS_LINKS) });
      if (g.witness && (!next.witness || next.witness.links.length > g.witness.links.length + 1)) next.witness = via(g.witness);
      for (const [pname, w] of Object.entries(g.params)) {
        for (const v of argValues(cs, callee.facts, pname)) {
          const bit = hasBit(v, direct);
          if (bit === 'yes' && (!next.witness || next.witness.links.length > w.links.length + 1)) {
            next.witness = { ...via(w), passed: `${renderVal(v, model)} passed to ${callee.facts.name}() for ${pname}` };
          } else if (bit === 'maybe') {
            const param = paramOf(v, f.facts);
            if (param && !next.params[param]) next.params[param] = via(w);
          }
        }
      }
    }
    const params = Object.keys(next.params);
    next.maySleep = next.witness ? 'yes' : params.length ? `if-gfp-param:${params[0]}` : 'no';
    const prev = sums[f.id];
    const changed = prev.maySleep !== next.maySleep || Object.keys(prev.params).length !== params.length;
    sums[f.id] = next;
    return changed;
  };

  for (const scc of program.sccs) {
    const recursive = scc.length > 1 || program.out[scc[0]].some((e) => e.callee === scc[0]);
    if (!recursive) {
      update(program.functions[scc[0]]);
      continue;
    }
    // Monotone (no → if-gfp-param → yes, parameters only added): at most 2 + parameters rounds per function.
    for (let round = 0; round < 4 * scc.length + 4; round++) {
      let changed = false;
      for (const f of scc) changed = update(program.functions[f]) || changed;
      if (!changed) break;
    }
  }
  return sums;
}

/** The values a call site passes for the callee's gfp parameter `pname` (none when not recorded). */
function argValues(cs: CallSite, callee: FunctionFacts, pname: string): GfpVal[] {
  const p = callee.gfpParams.find((x) => x.name === pname);
  if (!p) return [];
  return cs.gfpArgs.find((a) => a.index === p.index)?.values ?? [];
}

/** The gfp parameter of `fn` that a value is expressed in, if any. */
function paramOf(v: GfpVal, fn: FunctionFacts): string | undefined {
  return v.sym !== undefined && v.symKind === 'param' && fn.gfpParams.some((p) => p.name === v.sym) ? v.sym : undefined;
}

/** The mask as written, and what a scope made of it: `GFP_KERNEL`, `GFP_KERNEL ⇒ GFP_NOFS`. */
function describeMask(p: { literal: GfpVal; requested: GfpVal; effective: GfpVal }, model: GfpModel): string {
  const lit = renderVal(p.literal, model);
  const eff = renderVal(p.effective, model);
  return renderVal(p.requested, model) === eff ? lit : `${lit} ⇒ ${eff}`;
}

/** A finding in a file of the program, whose related locations may lie in other files. */
export interface ProgramFinding extends Omit<Finding, 'related'> {
  file: string;
  related: { file: string; span: Span; message: string }[];
  /** the finding's number among its function's findings of this code, after the function's own (for stable ids) */
  ordinal: number;
}

/**
 * sleep-in-atomic through callees: at every call made while the caller holds a spinlock (or is in an rcu, preempt,
 * irq or preload section) to a function that may sleep, given the gfp values passed at that call; and at an
 * allocation whose mask is the function's gfp parameter, under its own spinlock, when a caller passes a blocking
 * value. Never at a span where the intraprocedural check already reports.
 */
export function crossSleepInAtomic(program: Program, ctxs: Contexts, model: GfpModel, sums = sleepSummaries(program, model)): ProgramFinding[] {
  const direct = model.lookup('__GFP_DIRECT_RECLAIM') ?? 0;
  const out: ProgramFinding[] = [];
  const lineOf = (file: string, offset: number) => programLine(program, file, offset);
  for (const f of program.functions) {
    const file = program.files[f.file].path;
    const own = f.facts.findings.filter((x) => x.code === 'sleep-in-atomic');
    const reported = new Set(own.map((x) => x.span.start));
    let ordinal = own.length;
    const fctx = ctxs.get(f.id) ?? [];
    const emit = (span: Span, message: string, lock: HeldLock, related: ProgramFinding['related']) => {
      if (reported.has(span.start)) return;
      reported.add(span.start);
      out.push({
        code: 'sleep-in-atomic', severity: 'error', span, function: f.facts.name, file, message, ordinal: ++ordinal,
        related: [{ file, span: lock.site, message: `${lock.cls} taken here by ${lock.api}() (line ${lineOf(file, lock.site.start)})` }, ...related],
      });
    };
    const byCallSite = new Map<number, CallEdge[]>();
    for (const e of program.out[f.id]) push(byCallSite, e.site, e);
    for (const [siteIdx, edges] of byCallSite) {
      const cs = f.facts.callSites[siteIdx];
      const bad = cs.paths.filter((p) => p.atomic);
      if (!bad.length) continue;
      let found: { w: SleepWitness; extra: string; callee: string; related: ProgramFinding['related'] } | undefined;
      for (const e of edges) {
        const g = sums[e.callee];
        const callee = program.functions[e.callee].facts;
        if (g.witness) {
          found = { w: g.witness, extra: '', callee: callee.name, related: [] };
          break;
        }
        for (const [pname, w] of Object.entries(g.params)) {
          for (const v of argValues(cs, callee, pname)) {
            const bit = hasBit(v, direct);
            if (bit === 'yes') {
              found = { w, extra: `, with ${renderVal(v, model)} passed to ${callee.name}() for ${pname}`, callee: callee.name, related: [] };
              break;
            }
            const param = bit === 'maybe' ? paramOf(v, f.facts) : undefined;
            if (!param) continue;
            // The caller's own gfp parameter: blocking when one of its callers passes a blocking value.
            for (const c of fctx) {
              const hit = substitute(v, f.facts, c.gfpParams).find((x) => hasBit(x, direct) === 'yes');
              if (!hit || c.callers === 0) continue;
              found = {
                w, extra: `, with ${renderVal(hit, model)} passed to ${f.facts.name}() for ${param} by ${c.chain[0]?.function ?? '?'}()`, callee: callee.name,
                related: c.chain.map((l) => ({ file: l.file, span: l.span, message: `${l.function}() calls ${l.callee}() (line ${lineOf(l.file, l.span.start)})` })),
              };
              break;
            }
            if (found) break;
          }
          if (found) break;
        }
        if (found) break;
      }
      if (!found) continue;
      const lock = [...bad[0].held].reverse().find((h) => h.atomic)!;
      const w = found.w;
      const onPaths = bad.length < cs.paths.length ? ` on ${count(bad)} of ${count(cs.paths)} paths` : '';
      const related: ProgramFinding['related'] = [...found.related];
      for (const l of w.links) related.push({ file: l.file, span: l.span, message: `${l.function}() calls ${l.callee}() (line ${lineOf(l.file, l.span.start)})` });
      related.push({ file: w.file, span: w.span, message: `${w.what} may sleep here, in ${w.function}() (line ${lineOf(w.file, w.span.start)})` });
      const passed = w.passed ? `, with ${w.passed}` : found.extra;
      emit(cs.span, `${found.callee}() may sleep (${w.what} in ${w.function}() at ${w.file}:${lineOf(w.file, w.span.start)}${passed}) while holding ${lock.cls}${onPaths}`, lock, related);
    }
    // An allocation with the function's gfp parameter under its own spinlock: blocking when a caller passes so.
    for (const site of f.facts.sites) {
      for (const p of site.paths) {
        if (!p.atomic || hasBit(p.effective, direct) !== 'maybe' || !paramOf(p.effective, f.facts)) continue;
        let hit: { c: CallingContext; v: GfpVal } | undefined;
        for (const c of fctx) {
          if (c.callers === 0) continue;
          const v = substitute(p.requested, f.facts, c.gfpParams).map((r) => applyScopeVal(r, flagsOf(c.scopes, flagsOf(p.scopes)), model)).find((x) => hasBit(x, direct) === 'yes');
          if (v) {
            hit = { c, v };
            break;
          }
        }
        if (!hit) continue;
        const lock = [...p.held].reverse().find((h) => h.atomic)!;
        const first = hit.c.chain[0];
        emit(site.call, `${renderVal(hit.v, model)} (${renderVal(p.literal, model)} from ${first?.function ?? '?'}()) may sleep while holding ${lock.cls}`, lock,
          hit.c.chain.map((l) => ({ file: l.file, span: l.span, message: `${l.function}() calls ${l.callee}() (line ${lineOf(l.file, l.span.start)})` })));
        break;
      }
    }
  }
  return out;
}

function count(paths: PathFacts[]): number {
  return Math.max(1, paths.reduce((a, p) => a + p.count, 0));
}

// ---------------------------------------------------------------------------------------------------------------
// Keeping the facts of a whole tree

const NO_PATH: readonly PathFacts[] = Object.freeze([Object.freeze({ count: 1, held: Object.freeze([]) as unknown as HeldLock[], scopes: Object.freeze([]) as unknown as ScopeFrame[], atomic: false })]);
const NONE: readonly never[] = Object.freeze([]);

/**
 * The facts the whole-program pass needs, in less memory: call sites reached in the empty state share one path
 * list, empty lists are shared, callee names are interned, and what only per-file output uses is dropped (the
 * function's problems, findings other than sleep-in-atomic, user-access observations). The input is not changed.
 */
export function compactFacts(facts: FileFacts, names: Map<string, string> = new Map()): FileFacts {
  const intern = (n: string) => {
    const have = names.get(n);
    if (have !== undefined) return have;
    names.set(n, n);
    return n;
  };
  return {
    problems: NONE as unknown as string[],
    functions: facts.functions.map((fn) => ({
      ...fn,
      name: intern(fn.name),
      calls: fn.calls.some((c) => c.kind !== 'sleep') ? fn.calls.filter((c) => c.kind === 'sleep') : fn.calls,
      callSites: fn.callSites.map((cs) => ({
        callee: intern(cs.callee),
        span: cs.span,
        paths: cs.paths.length === 1 && isEmptyPath(cs.paths[0]) ? NO_PATH as PathFacts[] : cs.paths,
        gfpArgs: cs.gfpArgs.length ? cs.gfpArgs : NONE as unknown as CallSite['gfpArgs'],
      })),
      findings: fn.findings.some((f) => f.code !== 'sleep-in-atomic') ? fn.findings.filter((f) => f.code === 'sleep-in-atomic') : fn.findings,
      problems: NONE as unknown as Span[],
    })),
  };
}

const isEmptyPath = (p: PathFacts) => p.held.length === 0 && p.scopes.length === 0 && !p.atomic;

// ---------------------------------------------------------------------------------------------------------------
// Lines without texts: the CLI keeps these arrays instead of whole files.

/** Offsets at which lines start. */
export function lineStartsOf(text: string): Uint32Array {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  const out = new Uint32Array(n);
  let k = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out[k++] = i + 1;
  return out;
}

/** 1-based line and column of an offset, given the line starts. */
export function positionAt(starts: ArrayLike<number>, offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

const fileIndexCache = new WeakMap<Program, Map<string, number>>();

/** The line of an offset in a program file (the offset itself, `@123`, when the file has no line starts). */
export function programLine(program: Program, file: string, offset: number): string {
  let idx = fileIndexCache.get(program);
  if (!idx) {
    idx = new Map(program.files.map((f, i) => [f.path, i]));
    fileIndexCache.set(program, idx);
  }
  const i = idx.get(file);
  const starts = i === undefined ? undefined : program.files[i].lineStarts;
  return starts ? String(positionAt(starts, offset).line) : `@${offset}`;
}
