// The whole-program layer over per-file facts (#3, first slice): a symbol table with file-static scoping, the call
// graph, its strongly connected components, calling contexts computed top-down (the locks, memalloc scopes, atomic
// state and gfp parameter values a function is called with), the effective mask of every allocation per calling
// context, and may-sleep summaries computed bottom-up for the cross-function sleep-in-atomic check.
//
// Pure: plain facts in, plain data out; no IO, no clocks. Everything is bounded so that it terminates on the whole
// kernel: contexts per function (the most frequent are kept), chain length, fixpoint rounds inside recursive SCCs.
// Lock and scope effects of wrapper functions are derived from their code per file (functionAnalysis.ts,
// deriveCalleeEffects: a caller in the same file sees the lock held or the scope open after the call); across files
// they still come from knowledge-base entries and sparse annotations (#3).
import { lineStartsOf, positionAt } from './lines';
import { constsKey, contradicts, needsAt, type Consts } from './paramGuards';
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

/**
 * The program: functions, and the call graph in compressed form (a kernel tree has millions of edges). The edges
 * of function f are `outCallee[outStart[f] .. outStart[f + 1])` with their call sites in `outSite`, and likewise
 * for incoming edges; `callsFrom` and `callsTo` give them as objects.
 */
export interface Program {
  files: ProgramFileInput[];
  functions: ProgramFunction[];
  outStart: Int32Array;
  outCallee: Int32Array;
  outSite: Int32Array;
  inStart: Int32Array;
  inCaller: Int32Array;
  inSite: Int32Array;
  /** callee names that no definition in the program resolves, with their number of call sites */
  unresolved: Map<string, number>;
  /**
   * strongly connected components, callees before callers (bottom-up order; reverse it for top-down): component i
   * is `sccNodes[sccStart[i] .. sccStart[i + 1])` (sccMembers)
   */
  sccStart: Int32Array;
  sccNodes: Int32Array;
  sccOf: Int32Array;
  /** per function: the number of call sites of the functions before it (a program-wide call-site number) */
  siteBase: Int32Array;
  /** how the indirect call sites resolved (set by programWithContexts, from the call sites before pruning) */
  indirect?: IndirectStats;
  /** for each resolved indirect call site name (`->dlm_unlock@ocfs2_stack_plugin.sp_ops`), the struct field it reached */
  indirectVia: Map<string, string>;
  /** call edges through function pointers (not part of the components: see passesOf) */
  indirectEdges: number;
}

/**
 * How many times the passes over components go over the program: components and their order follow direct calls, so a
 * call through a function pointer may go from a component processed later to one processed earlier; a second pass
 * gives such calls their caller's result (one level: a chain of several such calls against the order is approximate).
 */
const passesOf = (p: Program) => (p.indirectEdges ? 2 : 1);

/** The calls a function makes to functions of the program, one per (call site, resolved definition). */
export function callsFrom(p: Program, f: FunctionId): CallEdge[] {
  const out: CallEdge[] = [];
  for (let i = p.outStart[f]; i < p.outStart[f + 1]; i++) out.push({ caller: f, callee: p.outCallee[i], site: p.outSite[i] });
  return out;
}

/** The calls to a function from functions of the program. */
export function callsTo(p: Program, f: FunctionId): CallEdge[] {
  const out: CallEdge[] = [];
  for (let i = p.inStart[f]; i < p.inStart[f + 1]; i++) out.push({ caller: p.inCaller[i], callee: f, site: p.inSite[i] });
  return out;
}

export const edgeCount = (p: Program) => p.outCallee.length;
export const sccCount = (p: Program) => p.sccStart.length - 1;

/** The number of functions of the largest strongly connected component (mutual recursion the passes iterate). */
export function largestScc(p: Program): number {
  let max = 0;
  for (let i = 0; i + 1 < p.sccStart.length; i++) max = Math.max(max, p.sccStart[i + 1] - p.sccStart[i]);
  return max;
}
export const sccMembers = (p: Program, i: number): Int32Array => p.sccNodes.subarray(p.sccStart[i], p.sccStart[i + 1]);

/** A component with a cycle: several functions, or one that calls itself. */
function isRecursive(p: Program, scc: Int32Array): boolean {
  if (scc.length > 1) return true;
  for (let i = p.outStart[scc[0]]; i < p.outStart[scc[0] + 1]; i++) if (p.outCallee[i] === scc[0]) return true;
  return false;
}

const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
};

interface Symbols {
  local: Map<string, FunctionId[]>[];
  global: Map<string, FunctionId[]>;
  headerStatic: Map<string, FunctionId[]>;
  /** per file: the architecture of arch/<name>/ paths */
  arch: (string | undefined)[];
  /** per file: the program it belongs to (user-space trees of the kernel source are programs of their own) */
  world: string[];
  /** per function: its file */
  fileOf: Int32Array;
  /** the functions stored into each field of a struct of function pointers (file bindings), for indirect calls */
  ops: OpsIndex;
  /** a struct key with the member hops the program's struct definitions type replaced (canonicalKey) */
  canon: (key: string) => string;
}

/** field → struct key ("super_operations", "elevator_type.ops"; "" when not known) → functions stored there */
type OpsIndex = Map<string, Map<string, FunctionId[]>>;

/**
 * An indirect call resolves to at most this many functions; a wider one (`file->f_op->read_iter(…)` in a whole tree)
 * is left unresolved, as a call to an unknown function is: the VFS's context reaching every filesystem's method says
 * little about any of them. Measured on the extracted 6.12 tree (warm check): the whole-program step took 8.5 s
 * without indirect calls, 14.9 s with up to 8 targets, 11.9 s with up to 4.
 */
export const MAX_INDIRECT_TARGETS = 4;

/** How the indirect calls (`ops->field(…)`) of a program resolved, by call site. */
export interface IndirectStats {
  /** resolved call sites per struct key of the bindings they reached */
  resolved: Map<string, number>;
  /** the call's object type is not known (or only as a path of fields whose types are not known) */
  ambiguous: number;
  /** more than MAX_INDIRECT_TARGETS functions */
  wide: number;
  /** no function of the program is stored into the field */
  unbound: number;
}

const archOf = (path: string) => /^arch\/([^/]+)\//.exec(path)?.[1];
/** tools/, scripts/, samples/ and usr/ hold user-space programs: the kernel never calls into them, nor they into it. */
const worldOf = (path: string) => /^(tools|scripts|samples|usr)\//.exec(path)?.[1] ?? 'kernel';

function symbolsOf(files: readonly ProgramFileInput[]): Symbols {
  const local: Map<string, FunctionId[]>[] = [];
  const global = new Map<string, FunctionId[]>();
  const headerStatic = new Map<string, FunctionId[]>();
  const fileOf: number[] = [];
  let id = 0;
  files.forEach((f, fi) => {
    const isHeader = f.path.endsWith('.h');
    const own = new Map<string, FunctionId[]>();
    for (const fn of f.facts.functions) {
      push(own, fn.name, id);
      if (!fn.isStatic) push(global, fn.name, id);
      else if (isHeader) push(headerStatic, fn.name, id);
      fileOf.push(fi);
      id++;
    }
    local.push(own);
  });
  // Struct-typed members of the structs the program defines; one defined twice with different types is left out.
  const fieldTypes = new Map<string, string | null>();
  for (const f of files) {
    for (const x of f.facts.fields ?? []) {
      const k = `${x.struct}.${x.field}`;
      const have = fieldTypes.get(k);
      if (have === undefined) fieldTypes.set(k, x.type);
      else if (have !== x.type) fieldTypes.set(k, null);
    }
  }
  const canon = (key: string) => canonicalKey(key, fieldTypes);
  const ops: OpsIndex = new Map();
  files.forEach((f, fi) => {
    for (const b of f.facts.bindings ?? []) {
      const ids = local[fi].get(b.fn) ?? global.get(b.fn) ?? headerStatic.get(b.fn);
      if (!ids) continue;
      const key = canon(b.struct ? (b.nested?.length ? `${b.struct}.${b.nested.join('.')}` : b.struct) : b.object ?? '');
      let byKey = ops.get(b.field);
      if (!byKey) ops.set(b.field, (byKey = new Map()));
      const list = byKey.get(key);
      if (!list) byKey.set(key, [...ids]);
      else for (const id of ids) if (!list.includes(id)) list.push(id);
    }
  });
  return { local, global, headerStatic, arch: files.map((f) => archOf(f.path)), world: files.map((f) => worldOf(f.path)), fileOf: Int32Array.from(fileOf), ops, canon };
}

/**
 * A struct key with the member hops whose types the program's struct definitions give replaced by the struct they
 * lead to: `ocfs2_stack_plugin.sp_ops` → `ocfs2_stack_operations`, `elevator_type.ops` → `elevator_mq_ops`.
 */
function canonicalKey(key: string, fieldTypes: ReadonlyMap<string, string | null>): string {
  if (!key.includes('.')) return key;
  const parts = key.split('.');
  let at = parts[0];
  let i = 1;
  for (; i < parts.length; i++) {
    const next = fieldTypes.get(`${at}.${parts[i]}`);
    if (!next) break;
    at = next;
  }
  return i === 1 ? key : [at, ...parts.slice(i)].join('.');
}

const resolve = (sym: Symbols, file: number, name: string) =>
  name.startsWith('->') ? indirectOf(sym, name).targets : sym.local[file].get(name) ?? sym.global.get(name) ?? sym.headerStatic.get(name);

const indirectMemo = new WeakMap<Symbols, Map<string, ReturnType<typeof indirectTargets>>>();

function indirectOf(sym: Symbols, name: string): ReturnType<typeof indirectTargets> {
  let m = indirectMemo.get(sym);
  if (!m) indirectMemo.set(sym, (m = new Map()));
  let r = m.get(name);
  if (!r) m.set(name, (r = indirectTargets(sym.ops, name, sym.canon)));
  return r;
}

/**
 * The functions an indirect call site reaches (`->init_sched@elevator_type.ops`: the field, and the struct key of the
 * object when its type is known; functionAnalysis.ts indirectCallee): those the program stores into that field under
 * that key — designated initializers of the struct (nested ones as `elevator_type.ops`) and assignments through a
 * pointer declared to that struct. A call through an object of unknown type stays unresolved, as does one that would
 * reach more than MAX_INDIRECT_TARGETS functions.
 *
 * Resolving by field name alone was tried and dropped: over fs/, mm/, block/, drivers/gpu/ and drivers/md/ of 6.12 it
 * resolved 6,341 call sites, but joined unrelated subsystems' locks in one class graph (`->fasync`, `->scan_objects`:
 * a DAX fault "reaching" pipe_fasync) and raised the deadlock warnings from 21 to 370.
 */
function indirectTargets(ops: OpsIndex, name: string, canon: (key: string) => string): { targets?: FunctionId[]; key?: string; why?: 'ambiguous' | 'wide' | 'unbound' } {
  const at = name.indexOf('@');
  const field = name.slice(2, at < 0 ? undefined : at);
  const key = at < 0 ? undefined : canon(name.slice(at + 1));
  const byKey = ops.get(field);
  if (!byKey) return { why: 'unbound' };
  // Only a call whose object's struct type is known reaches the functions stored under that struct: a field name alone
  // (`->release`, `->open`) joins unrelated subsystems, and their locks, in one class graph.
  if (key === undefined) return { why: 'ambiguous' };
  const targets = byKey.get(key);
  if (!targets) return { why: key.includes('.') ? 'ambiguous' : 'unbound' };
  if (targets.length > MAX_INDIRECT_TARGETS) return { why: 'wide' };
  return { targets, key: `${key}.${field}` };
}

/** How the indirect call sites of these files resolve (the CLI's --stats; the index tests). */
export function indirectStats(files: readonly ProgramFileInput[]): IndirectStats {
  return indirectStatsOf(symbolsOf(files), files);
}

function indirectStatsOf(sym: Symbols, files: readonly ProgramFileInput[]): IndirectStats {
  const out: IndirectStats = { resolved: new Map(), ambiguous: 0, wide: 0, unbound: 0 };
  for (const f of files) for (const fn of f.facts.functions) for (const cs of fn.callSites) {
    if (!cs.callee.startsWith('->')) continue;
    const r = indirectOf(sym, cs.callee);
    if (r.targets) out.resolved.set(r.key!, (out.resolved.get(r.key!) ?? 0) + 1);
    else out[r.why!]++;
  }
  return out;
}

/**
 * The definitions of another file a call can reach: those of the caller's world (the kernel, or one user-space tree),
 * and of one architecture: definitions per architecture (arch/x86/…, arch/arm64/…) are one function in a build, so
 * a caller under arch/<a>/ gets <a>'s, any other caller the definitions outside arch/ if there are some, else those
 * of `preferArch`, else those of the first architecture. Definitions outside arch/ are all kept (config variants).
 */
function narrowDefinitions(sym: Symbols, all: FunctionId[], callerFile: number, preferArch: string): FunctionId[] {
  const world = sym.world[callerFile];
  const defs = all.every((d) => sym.world[sym.fileOf[d]] === world) ? all : all.filter((d) => sym.world[sym.fileOf[d]] === world);
  if (defs.length < 2) return defs;
  const archOfDef = (d: FunctionId) => sym.arch[sym.fileOf[d]];
  if (defs.every((d) => archOfDef(d) === undefined)) return defs;
  const pick = (a: string | undefined) => defs.filter((d) => archOfDef(d) === a);
  const callerArch = sym.arch[callerFile];
  const order = callerArch === undefined ? [undefined, preferArch, archOfDef(defs[0])] : [callerArch, undefined, preferArch, archOfDef(defs[0])];
  for (const a of order) {
    const got = pick(a);
    if (got.length) return got;
  }
  return defs;
}

/**
 * Name resolution as the call graph does it, for names the call graph did not see as calls (functions bound to
 * ops-table fields): the file's own definitions, else the program's, narrowed to one architecture.
 */
export function nameResolver(program: Program, preferArch = 'x86'): (file: number, name: string) => FunctionId[] {
  const sym = symbolsOf(program.files);
  return (file, name) => {
    const own = sym.local[file].get(name);
    if (own) return own;
    const defs = sym.global.get(name) ?? sym.headerStatic.get(name);
    return defs ? narrowDefinitions(sym, defs, file, preferArch) : [];
  };
}

export interface ProgramOptions {
  /** the architecture whose arch/<name>/ definitions generic code calls when it has no generic one; default x86 */
  arch: string;
}

/**
 * Symbols and the call graph. A call in file F to name N resolves to F's own definitions of N (a static function
 * shadows every other; a non-static one is what the linker would pick for F too), else to every non-static
 * definition of N, else to the static (inline) definitions of N in headers, which every includer sees; definitions
 * per architecture are narrowed to one architecture, and user-space trees are programs of their own
 * (narrowDefinitions).
 */
export function buildProgram(files: ProgramFileInput[], alsoUnresolved?: ReadonlyMap<string, number>, options: Partial<ProgramOptions> = {}): Program {
  return programOf(files, symbolsOf(files), alsoUnresolved, options);
}

/** buildProgram with the files' symbols already made (the pruned files of pruneUnresolvedCalls have the same). */
function programOf(files: ProgramFileInput[], sym: Symbols, alsoUnresolved?: ReadonlyMap<string, number>, options: Partial<ProgramOptions> = {}): Program {
  const preferArch = options.arch ?? 'x86';
  const narrowed = new Map<string, FunctionId[]>();
  const functions: ProgramFunction[] = [];
  files.forEach((f, fi) => {
    for (const fn of f.facts.functions) functions.push({ id: functions.length, file: fi, facts: fn });
  });
  const n = functions.length;
  const unresolved = new Map(alsoUnresolved);
  const indirectVia = new Map<string, string>();
  const siteBase = new Int32Array(n + 1);
  const outStart = new Int32Array(n + 1);
  const callee: number[] = [];
  const site: number[] = [];
  // Edges of calls through function pointers: left out of the components (below).
  const indirectAt: number[] = [];
  const inCount = new Int32Array(n + 1);
  for (const fn of functions) {
    siteBase[fn.id + 1] = siteBase[fn.id] + fn.facts.callSites.length;
    const callerArch = sym.arch[fn.file];
    const own = sym.local[fn.file];
    fn.facts.callSites.forEach((cs, i) => {
      const indirect = cs.callee.startsWith('->');
      let targets: FunctionId[] | undefined;
      if (indirect) {
        const r = indirectOf(sym, cs.callee);
        targets = r.targets;
        if (r.key) indirectVia.set(cs.callee, r.key);
      } else targets = own.get(cs.callee);
      if (!targets && !indirect) {
        // Definitions in other files: the same for every caller of one architecture, so narrowed once.
        const key = `${callerArch ?? ''}\u0000${sym.world[fn.file]}\u0000${cs.callee}`;
        targets = narrowed.get(key);
        if (!targets) {
          const defs = sym.global.get(cs.callee) ?? sym.headerStatic.get(cs.callee);
          if (defs) narrowed.set(key, (targets = narrowDefinitions(sym, defs, fn.file, preferArch)));
        }
      }
      if (!targets || !targets.length) {
        unresolved.set(cs.callee, (unresolved.get(cs.callee) ?? 0) + 1);
        return;
      }
      for (const t of targets) {
        if (indirect) indirectAt.push(callee.length);
        callee.push(t);
        site.push(i);
        inCount[t + 1]++;
      }
    });
    outStart[fn.id + 1] = callee.length;
  }
  const outCallee = Int32Array.from(callee);
  const outSite = Int32Array.from(site);
  callee.length = site.length = 0;
  const inStart = new Int32Array(n + 1);
  for (let f = 0; f < n; f++) inStart[f + 1] = inStart[f] + inCount[f + 1];
  const fill = inStart.slice(0, n);
  const inCaller = new Int32Array(outCallee.length);
  const inSite = new Int32Array(outCallee.length);
  for (let f = 0; f < n; f++) {
    for (let i = outStart[f]; i < outStart[f + 1]; i++) {
      const k = fill[outCallee[i]]++;
      inCaller[k] = f;
      inSite[k] = outSite[i];
    }
  }
  // Components over direct calls only: calls through function pointers, resolved to every function of a field, would
  // join thousands of functions into one component (9,669 of the extracted 6.12 tree); the passes that follow
  // components go over the program twice instead when there are such calls (passesOf).
  const indirectEdge = new Uint8Array(outCallee.length);
  for (const i of indirectAt) indirectEdge[i] = 1;
  const { sccStart, sccNodes, sccOf } = stronglyConnected(n, outStart, outCallee, indirectEdge);
  return {
    files, functions, outStart, outCallee, outSite, inStart, inCaller, inSite, unresolved, sccStart, sccNodes, sccOf, siteBase,
    indirectVia, indirectEdges: indirectAt.length,
  };
}

/**
 * The whole-program pass as every caller runs it: unresolved call sites pruned, the call graph built, calling
 * contexts computed. Returns the pruned inputs too (callers keep those facts instead of the full ones).
 */
export function programWithContexts(inputs: readonly ProgramFileInput[], options: Partial<ContextOptions> = {}): { files: ProgramFileInput[]; program: Program; ctxs: Contexts } {
  const sym = symbolsOf(inputs);
  const pruned = pruneWith(inputs, sym);
  // Pruning drops call sites only: the pruned files have the same functions and bindings, so the same symbols.
  const program = programOf(pruned.files, sym, pruned.unresolved);
  program.indirect = pruned.indirect;
  return { files: pruned.files, program, ctxs: contexts(program, options) };
}

/**
 * Drops the call sites no definition in `files` resolves (most of them: macros-like helpers of headers not in the
 * run, library functions), before the program is built: a whole tree's call sites are most of its facts. Returns
 * the files with pruned facts (everything else shared) and the dropped names with their counts.
 */
export function pruneUnresolvedCalls(files: readonly ProgramFileInput[]): { files: ProgramFileInput[]; unresolved: Map<string, number>; indirect: IndirectStats } {
  return pruneWith(files, symbolsOf(files));
}

function pruneWith(files: readonly ProgramFileInput[], sym: Symbols): { files: ProgramFileInput[]; unresolved: Map<string, number>; indirect: IndirectStats } {
  const unresolved = new Map<string, number>();
  const indirect = indirectStatsOf(sym, files);
  const out = files.map((f, fi) => ({
    ...f,
    facts: {
      ...f.facts,
      functions: f.facts.functions.map((fn) => {
        if (fn.callSites.every((cs) => resolve(sym, fi, cs.callee))) return fn;
        const kept = fn.callSites.filter((cs) => {
          if (resolve(sym, fi, cs.callee)) return true;
          unresolved.set(cs.callee, (unresolved.get(cs.callee) ?? 0) + 1);
          return false;
        });
        return { ...fn, callSites: kept.length ? kept : NONE as unknown as CallSite[] };
      }),
    },
  }));
  return { files: out, unresolved, indirect };
}

/** Tarjan's algorithm without recursion (kernel call chains are deep); components come out callees first. */
function stronglyConnected(n: number, outStart: Int32Array, outCallee: Int32Array, skip?: Uint8Array): { sccStart: Int32Array; sccNodes: Int32Array; sccOf: Int32Array } {
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const sccOf = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const starts: number[] = [0];
  const sccNodes = new Int32Array(n);
  let placed = 0;
  const work: number[] = [];
  const edge: number[] = [];
  let counter = 0;
  const enter = (v: number) => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = 1;
    work.push(v);
    edge.push(outStart[v]);
  };
  for (let s = 0; s < n; s++) {
    if (index[s] !== -1) continue;
    enter(s);
    while (work.length) {
      const top = work.length - 1;
      const v = work[top];
      const i = edge[top];
      if (i < outStart[v + 1]) {
        edge[top] = i + 1;
        if (skip?.[i]) continue;
        const w = outCallee[i];
        if (index[w] === -1) enter(w);
        else if (onStack[w] && index[w] < low[v]) low[v] = index[w];
        continue;
      }
      work.pop();
      edge.pop();
      if (low[v] === index[v]) {
        // The component is the stack above v, in discovery order.
        const from = stack.lastIndexOf(v);
        for (let k = from; k < stack.length; k++) {
          const w = stack[k];
          onStack[w] = 0;
          sccOf[w] = starts.length - 1;
          sccNodes[placed++] = w;
        }
        stack.length = from;
        starts.push(placed);
      }
      if (work.length) {
        const u = work[work.length - 1];
        if (low[v] < low[u]) low[u] = low[v];
      }
    }
  }
  return { sccStart: Int32Array.from(starts), sccNodes, sccOf };
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
  /** those call sites, as program-wide numbers (Program.siteBase[caller] + index in the caller's callSites) */
  callSites: readonly number[];
  /**
   * Constants the callers pass for parameters this function tests (paramGuards): `__btree_node_reclaim(c, b, false)`.
   * Calls and allocations in a branch that needs the other value are not reached in this context.
   */
  consts?: Consts;
  /**
   * Every call that gives this context passes through a call through a function pointer (resolved by the struct
   * type of its object, so to every function stored in that field, not only the one the caller's object holds).
   * Good enough for masks and for the locks a callee runs under; not taken as evidence of a lock order
   * (deadlock/detect.ts dependencies).
   */
  viaIndirect?: boolean;
}

export interface ContextOptions {
  /** contexts kept per function (the most frequent); default 8 */
  maxContextsPerFunction: number;
  /** links kept per chain; default 12 */
  maxChainDepth: number;
  /** fixpoint rounds inside a recursive SCC; default 8 */
  maxRounds?: number;
  /** calls that reach nothing relevant from this caller (knowledge base: deferredCalls with `everywhere`) */
  cutCall?: (caller: string, callee: string) => boolean;
  /**
   * Lock classes whose lockdep key is per filesystem type (knowledge base: classKeys): contexts that hold such a
   * class taken in two filesystems (fs/<name>/) are two contexts, so the deadlock detector knows whose lock a
   * callee's acquisition nests in (generic pipe_lock() under overlayfs' i_rwsem is not under ocfs2's).
   */
  fsKeyed?: (cls: string) => boolean;
}

/** The filesystem a file belongs to (`fs/ext4/inode.c` → `ext4`); '*' for generic code (fs/*.c, mm/, include/). */
export function fsOfPath(path: string): string {
  return /^fs\/([^/]+)\//.exec(path)?.[1] ?? '*';
}

/**
 * Contexts per function. Beyond maxContextsPerFunction, contexts that differ only in held locks are merged first
 * (keeping the locks all of them hold: `coarsened`), then the least frequent are dropped (`capped`).
 */
export interface Contexts extends Map<FunctionId, CallingContext[]> {
  coarsened: Set<FunctionId>;
  capped: Set<FunctionId>;
  /** recursive SCCs that had not converged after maxRounds (their contexts are then a bounded approximation) */
  unconverged: number;
}

export const DEFAULT_CONTEXT_OPTIONS: ContextOptions = { maxContextsPerFunction: 8, maxChainDepth: 12, maxRounds: 8 };

const ALL = 0x7fffffff;
const MAX_VALUES = 8;
const NONE: readonly never[] = Object.freeze([]);
const NO_PARAMS: Record<string, GfpVal[]> = Object.freeze({}) as Record<string, GfpVal[]>;
const EMPTY: CallingContext = Object.freeze({ held: [], scopes: [], atomic: false, gfpParams: {}, chain: [], callers: 0, callSites: [] }) as CallingContext;

const valKey = (v: GfpVal) => (v.sym === undefined ? `#${v.set}` : `${v.sym}/${v.set}/${v.clear & ALL}`);

/** A value that says nothing: a parameter passed on unchanged from a frame where it is unknown. */
const isPlainParam = (v: GfpVal) => v.sym !== undefined && v.symKind === 'param' && v.set === 0 && (v.clear & ALL) === 0;

/** (w & ~clear) | set: what `v` (in terms of a parameter) is when the parameter is `w`. */
function applyDelta(w: GfpVal, v: GfpVal): GfpVal {
  return setBits(clearBits(w, v.clear & ALL & ~v.set), v.set);
}

/** Replaces a gfp parameter of `fn` in `v` by the values a context binds to it. */
export function substitute(v: GfpVal, fn: FunctionFacts, bound: Record<string, GfpVal[]>): GfpVal[] {
  if (v.sym === undefined || v.symKind !== 'param') return [v];
  const ws = bound[v.sym];
  if (!ws || !fn.gfpParams.some((p) => p.name === v.sym)) return [v];
  return ws.map((w) => applyDelta(w, v));
}

function pushVal(out: GfpVal[], v: GfpVal) {
  const k = valKey(v);
  if (out.length < MAX_VALUES && !out.some((o) => valKey(o) === k)) out.push(v);
}

export function flagsOf(scopes: readonly ScopeFrame[], into: PfFlag[] = []): PfFlag[] {
  for (const s of scopes) for (const f of s.flags) if (!into.includes(f)) into.push(f);
  return into;
}

/** What makes two contexts the same: held lock classes, scope flags, atomic, gfp parameter values. */
export function contextKey(c: CallingContext, fsKeyed?: (cls: string) => boolean): string {
  return `${baseKey(c.held, c.scopes, c.atomic, fsKeyed)}|${gfpKey(c.gfpParams)}`;
}

/** The key without the gfp values: held lock classes (with their filesystem, for fsKeyed ones), scope flags, atomic. */
function baseKey(held: readonly HeldLock[], scopes: readonly ScopeFrame[], atomic: boolean, fsKeyed?: (cls: string) => boolean): string {
  const name = (h: HeldLock) => {
    const k = h.read ? `${h.cls}(r)` : h.cls;
    return fsKeyed && 'file' in h && fsKeyed(h.cls) ? `${k}@${fsOfPath((h as ContextLock).file)}` : k;
  };
  const classes = held.length ? [...new Set(held.map(name))].sort().join(',') : '';
  return `${classes}|${flagsOf(scopes).sort().join(',')}|${atomic ? 1 : 0}`;
}

function gfpKey(params: Record<string, GfpVal[]>): string {
  if (params === NO_PARAMS) return '';
  return Object.keys(params).sort().map((k) => `${k}=${params[k].map(valKey).sort().join('/')}`).join(',');
}

/** The part of a context that can change a mask or atomicity: scope flags, atomic, gfp parameter values. */
function maskKey(scopes: readonly ScopeFrame[], atomic: boolean, params: Record<string, GfpVal[]>): string {
  return `${flagsOf(scopes).sort().join(',')}|${atomic ? 1 : 0}|${gfpKey(params)}`;
}

const NO_INDEXES: ReadonlySet<number> = new Set();

/**
 * Per function, the parameters whose values decide something: those it tests (paramGuards), those choosing a mask
 * (`atomic ? GFP_ATOMIC : GFP_KERNEL`), and those it passes on to a parameter that decides something in a callee —
 * computed callees first. Only constants for these are kept in calling contexts: a constant that decides nothing
 * would only split contexts (and push the ones that matter over the cap).
 */
function decidingParams(program: Program): ReadonlySet<number>[] {
  const { functions } = program;
  const out: ReadonlySet<number>[] = new Array(functions.length).fill(NO_INDEXES);
  const own = (fn: FunctionFacts) => {
    const s = new Set<number>();
    for (const g of fn.paramGuards ?? []) s.add(g.param);
    for (const site of fn.sites) for (const p of site.paths) if (p.when) s.add(p.when.param);
    return s;
  };
  const step = (f: number): boolean => {
    const fn = functions[f].facts;
    const s = new Set<number>(own(fn));
    for (let i = program.outStart[f]; i < program.outStart[f + 1]; i++) {
      const cs = fn.callSites[program.outSite[i]];
      if (!cs.consts) continue;
      const theirs = out[program.outCallee[i]];
      for (const c of cs.consts) if (c.param !== undefined && theirs.has(c.index)) s.add(c.param);
    }
    const changed = s.size !== out[f].size;
    if (changed) out[f] = s;
    return changed;
  };
  // Components come callees first (Program.sccStart).
  for (let pass = 0; pass < passesOf(program); pass++) {
    for (let i = 0; i < sccCount(program); i++) {
      const scc = sccMembers(program, i);
      for (let round = 0, changed = true; changed && round < 8; round++) {
        changed = false;
        for (const f of scc) if (step(f)) changed = true;
      }
    }
  }
  return out;
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

/** The held locks, scopes and atomicity of a callee at one path of a call site, when the caller runs in `cc`. */
interface Composed {
  held: ContextLock[];
  scopes: ContextScope[];
  atomic: boolean;
  base: string;
}

/** A candidate context of a callee: what it is, and the call that gives it (its chain is built only if kept). */
interface Candidate {
  key: string;
  part: Composed;
  gfpParams: Record<string, GfpVal[]>;
  consts?: Consts;
  /** the caller's context and the call; undefined for the empty context of a root */
  from?: { cc: CallingContext; caller: ProgramFunction; site: CallSite };
  chainLen: number;
  sites: Set<number>;
  /** every source of this candidate passes through an indirect call (CallingContext.viaIndirect) */
  indirect: boolean;
}

/**
 * Calling contexts, top-down: callers before callees, recursive SCCs iterated to a bounded fixpoint. A function
 * with no caller in the program (a root, or reached only through pointers we do not see yet) has the empty context;
 * so does every function of a recursive SCC that nothing outside calls.
 *
 * The context of a callee at a call = the caller's context composed with the path facts at the call (held locks and
 * scopes appended, atomic if either is) and the gfp arguments with the caller's own gfp parameters replaced by the
 * values of the caller's context. Equal contexts are merged, counting their distinct call sites.
 */
export function contexts(program: Program, options: Partial<ContextOptions> = {}): Contexts {
  const opts: ContextOptions = { ...DEFAULT_CONTEXT_OPTIONS, ...options };
  const result = new Map<FunctionId, CallingContext[]>() as Contexts;
  result.coarsened = new Set();
  result.capped = new Set();
  result.unconverged = 0;
  const ann = annotator();
  const deciding = decidingParams(program);
  const { functions, sccOf } = program;
  // Every context of a function is composed with the same few paths for each of its callees: once per pair.
  const keys = new WeakMap<CallingContext, { base: string; key: string }>();
  const emptyBase = baseKey([], [], false);
  const fsKeyed = opts.fsKeyed;
  keys.set(EMPTY, { base: emptyBase, key: `${emptyBase}|` });
  const composed = new WeakMap<CallingContext, Map<PathFacts, Map<string, Composed>>>();
  const compose = (caller: ProgramFunction, cc: CallingContext, path: PathFacts, at: number): Composed => {
    // A callers' lock this function drops before the call (bcachefs's `percpu_up_write(&c->mark_lock);
    // bch2_mark_replicas(…); percpu_down_write(&c->mark_lock);`) is not held by the callee: the rule the deadlock
    // detector applies at a site (detect.ts holdersOf). A path that took it again holds it in path.held. The result
    // then depends on the call's position, not only on its path facts (which call sites share: compactFacts).
    let held = cc.held;
    const releases = caller.facts.releases;
    let dropKey = '';
    if (releases?.length && held.length) {
      const dropped = releases.filter((r) => r.span.start < at).map((r) => r.cls);
      if (dropped.length && held.some((h) => dropped.includes(h.cls))) {
        held = held.filter((h) => !dropped.includes(h.cls));
        dropKey = [...new Set(dropped)].sort().join(',');
      }
    }
    let m = composed.get(cc);
    if (!m) composed.set(cc, (m = new Map()));
    let byDrop = m.get(path);
    if (!byDrop) m.set(path, (byDrop = new Map()));
    let c = byDrop.get(dropKey);
    if (c) return c;
    const file = program.files[caller.file].path;
    const name = caller.facts.name;
    // New arrays only when the path adds something, and of exact size (contexts are many).
    for (const h of path.held) if (!held.some((x) => x.cls === h.cls)) held = held.concat(ann.lock(h, file, name));
    let scopes = cc.scopes;
    for (const s of path.scopes) {
      // A recursion that opens a scope again adds nothing new: one frame per family and flags keeps contexts finite.
      if (!scopes.some((x) => x.family === s.family && x.flags.join() === s.flags.join())) scopes = scopes.concat(ann.scope(s, file, name));
    }
    const atomic = cc.atomic || path.atomic;
    const same = held === cc.held && scopes === cc.scopes && atomic === cc.atomic;
    c = { held, scopes, atomic, base: same ? keys.get(cc)!.base : baseKey(held, scopes, atomic, fsKeyed) };
    byDrop.set(dropKey, c);
    return c;
  };
  const bind = (caller: ProgramFunction, cc: CallingContext, site: CallSite, callee: ProgramFunction): Record<string, GfpVal[]> => {
    let params = NO_PARAMS;
    for (const p of callee.facts.gfpParams) {
      const arg = site.gfpArgs.find((a) => a.index === p.index);
      if (!arg) continue;
      const vals: GfpVal[] = [];
      for (const v of arg.values) for (const w of substitute(v, caller.facts, cc.gfpParams)) pushVal(vals, w);
      if (vals.length && !vals.every(isPlainParam)) {
        if (params === NO_PARAMS) params = {};
        params[p.name] = vals;
      }
    }
    return params;
  };
  const materialise = (c: Candidate, callee: ProgramFunction): CallingContext => {
    let chain: ChainLink[] = NONE as unknown as ChainLink[];
    let elided = 0;
    if (c.from) {
      const { cc, caller, site } = c.from;
      const link = ann.link(program.files[caller.file].path, caller.facts.name, site, callee.facts.name);
      if (isEmptyContext(cc)) chain = [link];
      else ({ chain, elided } = trimChain([...cc.chain, link], opts.maxChainDepth, cc.elided ?? 0));
    }
    const ctx: CallingContext = {
      held: c.part.held, scopes: c.part.scopes, atomic: c.part.atomic, gfpParams: c.gfpParams, chain,
      callers: c.sites.size, callSites: c.sites.size ? [...c.sites].sort((a, b) => a - b) : NONE,
      ...(c.consts ? { consts: c.consts } : {}),
      ...(c.indirect ? { viaIndirect: true } : {}),
    };
    if (elided) ctx.elided = elided;
    keys.set(ctx, { base: c.part.base, key: c.key });
    return ctx;
  };

  const computeOne = (f: FunctionId, seed: boolean): CallingContext[] => {
    const merged = new Map<string, Candidate>();
    const callee = functions[f];
    if (seed) merged.set(keys.get(EMPTY)!.key, { key: keys.get(EMPTY)!.key, part: { held: [], scopes: [], atomic: false, base: emptyBase }, gfpParams: NO_PARAMS, chainLen: 0, sites: new Set(), indirect: false });
    for (let i = program.inStart[f]; i < program.inStart[f + 1]; i++) {
      const from = program.inCaller[i];
      const callerCtxs = result.get(from);
      if (!callerCtxs) continue;
      const caller = functions[from];
      const site = caller.facts.callSites[program.inSite[i]];
      if (opts.cutCall?.(caller.facts.name, site.callee)) continue;
      const siteId = program.siteBase[from] + program.inSite[i];
      // The caller reaches this call only with some parameter values (`if (!flush) goto out;` before it).
      const needs = caller.facts.paramGuards ? needsAt(caller.facts, site.span.start) : undefined;
      // The constants this call passes for the parameters the callee tests are part of the callee's context; a
      // parameter of the caller passed on carries the caller's constant for it, in each of the caller's contexts.
      const decides = deciding[f];
      const tested = decides.size && site.consts ? site.consts.filter((c) => decides.has(c.index)) : undefined;
      for (const cc of callerCtxs) {
        if (contradicts(needs, cc.consts)) continue;
        let consts: Consts | undefined = tested;
        if (tested?.some((c) => c.param !== undefined)) {
          consts = tested.flatMap((c) => (c.param === undefined ? [c] : (cc.consts ?? []).filter((x) => x.index === c.param && x.param === undefined).map((x) => ({ ...x, index: c.index }))));
        }
        const ck = consts?.length ? `|c${constsKey(consts)}` : '';
        const gfpParams = callee.facts.gfpParams.length ? bind(caller, cc, site, callee) : NO_PARAMS;
        const gk = gfpKey(gfpParams) + ck;
        const chainLen = isEmptyContext(cc) ? 1 : Math.min(cc.chain.length + 1, opts.maxChainDepth);
        const indirect = site.callee.startsWith('->') || !!cc.viaIndirect;
        for (const p of site.paths) {
          const part = compose(caller, cc, p, site.span.start);
          const key = `${part.base}|${gk}`;
          const have = merged.get(key);
          if (!have) merged.set(key, { key, part, gfpParams, ...(consts?.length ? { consts } : {}), from: { cc, caller, site }, chainLen, sites: new Set([siteId]), indirect });
          else {
            have.indirect &&= indirect;
            have.sites.add(siteId);
            if (chainLen < have.chainLen) Object.assign(have, { part, from: { cc, caller, site }, chainLen });
          }
        }
      }
    }
    let list = [...merged.values()];
    if (list.length > opts.maxContextsPerFunction) {
      // Locks matter less than masks: merge the contexts that differ only in held locks, keeping the common ones.
      result.coarsened.add(f);
      const coarse = new Map<string, Candidate>();
      for (const x of list) {
        const k = maskKey(x.part.scopes, x.part.atomic, x.gfpParams);
        const have = coarse.get(k);
        if (!have) {
          coarse.set(k, { ...x, sites: new Set(x.sites) });
          continue;
        }
        for (const id of x.sites) have.sites.add(id);
        have.indirect &&= x.indirect;
        if (have.consts && constsKey(have.consts) !== constsKey(x.consts)) delete have.consts;
        const rep = x.chainLen < have.chainLen ? x : have;
        const held = have.part.held.filter((h) => x.part.held.some((o) => o.cls === h.cls));
        const part = { ...rep.part, held, base: baseKey(held, rep.part.scopes, rep.part.atomic, fsKeyed) };
        Object.assign(have, { part, from: rep.from, chainLen: rep.chainLen, key: `${part.base}|${gfpKey(have.gfpParams)}` });
      }
      list = [...coarse.values()];
    }
    list.sort((a, b) => b.sites.size - a.sites.size || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (list.length > opts.maxContextsPerFunction) {
      result.capped.add(f);
      list.length = opts.maxContextsPerFunction;
    }
    return list.map((c) => materialise(c, callee));
  };
  const signature = (cs: CallingContext[]) => cs.map((c) => `${keys.get(c)!.key}#${c.callers}`).join(';');

  const hasCallers = (f: FunctionId) => program.inStart[f + 1] > program.inStart[f];
  const unconverged = new Set<number>();
  /** Computes component i's contexts; with `track`, whether some member's contexts changed. */
  const runComponent = (i: number, track = false): boolean => {
    const scc = sccMembers(program, i);
    const before = track ? Array.from(scc, (f) => result.get(f)) : undefined;
    if (!isRecursive(program, scc)) result.set(scc[0], computeOne(scc[0], !hasCallers(scc[0])));
    else {
      const external = (f: FunctionId) => {
        for (let k = program.inStart[f]; k < program.inStart[f + 1]; k++) if (sccOf[program.inCaller[k]] !== i) return true;
        return false;
      };
      const seeded = !scc.some(external);
      let converged = false;
      for (let round = 0; round < (opts.maxRounds ?? 8) && !converged; round++) {
        converged = true;
        for (const f of scc) {
          const was = result.get(f);
          const now = computeOne(f, seeded);
          if (!was || signature(was) !== signature(now)) converged = false;
          result.set(f, now);
        }
      }
      if (converged) unconverged.delete(i);
      else unconverged.add(i);
    }
    return !!before && scc.some((f, k) => !before[k] || signature(before[k]!) !== signature(result.get(f)!));
  };
  for (let i = sccCount(program) - 1; i >= 0; i--) runComponent(i);
  if (passesOf(program) > 1) {
    // Again, only what a call through a function pointer against the order reaches: the callee of such a call, then
    // the callees of every component whose contexts changed.
    const dirty = new Uint8Array(functions.length);
    const touch = (f: FunctionId) => {
      for (let k = program.outStart[f]; k < program.outStart[f + 1]; k++) dirty[program.outCallee[k]] = 1;
    };
    for (const fn of functions) {
      for (let k = program.outStart[fn.id]; k < program.outStart[fn.id + 1]; k++) if (sccOf[fn.id] < sccOf[program.outCallee[k]]) dirty[program.outCallee[k]] = 1;
    }
    for (let i = sccCount(program) - 1; i >= 0; i--) {
      const scc = sccMembers(program, i);
      if (scc.some((f) => dirty[f]) && runComponent(i, true)) for (const f of scc) touch(f);
    }
  }
  result.unconverged = unconverged.size;
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
 * the per-path ones. `only` restricts it to some functions (one file's, for a hover).
 */
export function siteContexts(program: Program, ctxs: Contexts, model: GfpModel, only?: (fn: ProgramFunction) => boolean): Map<FunctionId, SiteContext[][]> {
  const out = new Map<FunctionId, SiteContext[][]>();
  for (const fn of program.functions) {
    if (!fn.facts.sites.length || (only && !only(fn))) continue;
    const cs = ctxs.get(fn.id);
    if (!cs || !cs.some((c) => c.callers > 0)) continue;
    out.set(fn.id, fn.facts.sites.map((s) => siteInContexts(fn.facts, s, cs, model)));
  }
  return out;
}

function siteInContexts(fn: FunctionFacts, site: AllocSite, cs: CallingContext[], model: GfpModel): SiteContext[] {
  const groups = new Map<string, SiteContext & { from: Set<number>; sites: Set<number> }>();
  cs.forEach((c, ci) => {
    const cflags = flagsOf(c.scopes);
    for (const p of site.paths) {
      const flags = flagsOf(p.scopes, [...cflags]);
      for (const r of substitute(p.requested, fn, c.gfpParams)) {
        const value = applyScopeVal(r, flags, model);
        const effective = renderVal(value, model);
        let g = groups.get(effective);
        if (!g) {
          g = { effective, value, callers: 0, chain: c.chain, held: [], scopes: [], atomic: false, from: new Set(), sites: new Set() };
          if (c.elided) g.elided = c.elided;
          groups.set(effective, g);
        }
        if (!g.from.has(ci)) {
          g.from.add(ci);
          for (const id of c.callSites) g.sites.add(id);
          g.callers = g.sites.size;
          for (const h of c.held) if (!g.held.some((x) => x.cls === h.cls)) g.held.push(h);
          for (const s of c.scopes) if (!g.scopes.includes(s)) g.scopes.push(s);
        }
        g.atomic ||= c.atomic || p.atomic;
      }
    }
  });
  return [...groups.values()]
    .sort((a, b) => b.callers - a.callers || a.effective.localeCompare(b.effective))
    .map(({ from: _f, sites: _s, ...g }) => g);
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
  /** what sleeps, for the finding's model (ide/sleepModel.ts) */
  sleeper?: Sleeper;
}

/** The operation that sleeps: an allocation (its mask as rendered; the allocator may always sleep) or a call (a sleeping lock, with its class, or a sleeper). */
export interface Sleeper {
  api: string;
  alloc?: { mask: string; alwaysSleeps: boolean };
  /** a sleeping lock's class */
  lock?: string;
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
          s.witness = {
            links: [], what: `${site.api}(${describeMask(p, model)})`, function: name, file, span: site.call,
            sleeper: { api: site.api, alloc: { mask: renderVal(p.effective, model), alwaysSleeps: !!site.entry.mayAlwaysSleep } },
          };
        } else if (!sleeps && hasBit(p.effective, direct) === 'maybe') {
          const param = paramOf(p.effective, f.facts);
          if (param && !s.params[param]) {
            s.params[param] = {
              links: [], what: `${site.api}(${renderVal(p.literal, model)})`, function: name, file, span: site.call,
              sleeper: { api: site.api, alloc: { mask: renderVal(p.effective, model), alwaysSleeps: !!site.entry.mayAlwaysSleep } },
            };
          }
        }
      }
    }
    if (!s.witness) {
      for (const c of f.facts.calls) {
        if (c.kind !== 'sleep' || !c.paths.some((p) => !p.atomic)) continue;
        const lock = f.facts.acquires.find((a) => a.span.start === c.call.start && a.api === c.api)?.cls;
        s.witness = { links: [], what: `${c.api}()`, function: name, file, span: c.call, sleeper: { api: c.api, ...(lock ? { lock } : {}) } };
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
    for (const e of callsFrom(program, f.id)) {
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
            const sleeper = w.sleeper?.alloc ? { sleeper: { ...w.sleeper, alloc: { ...w.sleeper.alloc, mask: renderVal(v, model) } } } : {};
            next.witness = { ...via(w), passed: `${renderVal(v, model)} passed to ${callee.facts.name}() for ${pname}`, ...sleeper };
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

  for (let pass = 0; pass < passesOf(program); pass++) for (let i = 0; i < sccCount(program); i++) {
    const scc = sccMembers(program, i);
    if (!isRecursive(program, scc)) {
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
  /** sleep-in-atomic through callees: what its model needs (ide/sleepModel.ts) */
  sleep?: CrossSleep;
}

/** A cross-function sleep-in-atomic finding's data: the atomic sections, what sleeps and the blocking mask that reaches it. */
export interface CrossSleep {
  /** the locks held at the finding on the reported path, in order (the atomic ones make the context atomic) */
  held: HeldLock[];
  /** the sleeping operation and the calls that reach it from the finding's function */
  witness: SleepWitness;
  /** an allocation whose mask is a gfp parameter: the blocking value a caller passes */
  mask?: string;
  /** the callers that pass it, outermost first (an allocation with the function's own gfp parameter) */
  callers?: ChainLink[];
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
    const emit = (span: Span, message: string, lock: HeldLock, related: ProgramFinding['related'], sleep: CrossSleep) => {
      if (reported.has(span.start)) return;
      reported.add(span.start);
      out.push({
        code: 'sleep-in-atomic', severity: 'error', span, function: f.facts.name, file, message, ordinal: ++ordinal,
        related: [{ file, span: lock.site, message: `${lock.cls} taken here by ${lock.api}() (line ${lineOf(file, lock.site.start)})` }, ...related],
        sleep,
      });
    };
    const byCallSite = new Map<number, CallEdge[]>();
    for (const e of callsFrom(program, f.id)) push(byCallSite, e.site, e);
    for (const [siteIdx, edges] of byCallSite) {
      const cs = f.facts.callSites[siteIdx];
      const bad = cs.paths.filter((p) => p.atomic);
      if (!bad.length) continue;
      let found: { w: SleepWitness; extra: string; callee: string; related: ProgramFinding['related']; mask?: string; callers?: ChainLink[] } | undefined;
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
              found = { w, extra: `, with ${renderVal(v, model)} passed to ${callee.name}() for ${pname}`, callee: callee.name, related: [], mask: renderVal(v, model) };
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
                mask: renderVal(hit, model), callers: c.chain,
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
      const sleep: CrossSleep = { held: bad[0].held, witness: w, ...(found.mask ? { mask: found.mask } : {}), ...(found.callers ? { callers: found.callers } : {}) };
      emit(cs.span, `${found.callee}() may sleep (${w.what} in ${w.function}() at ${w.file}:${lineOf(w.file, w.span.start)}${passed}) while holding ${lock.cls}${onPaths}`, lock, related, sleep);
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
        const witness: SleepWitness = {
          links: [], what: `${site.api}(${renderVal(p.literal, model)})`, function: f.facts.name, file, span: site.call,
          sleeper: { api: site.api, alloc: { mask: renderVal(hit.v, model), alwaysSleeps: !!site.entry.mayAlwaysSleep } },
        };
        emit(site.call, `${renderVal(hit.v, model)} (${renderVal(p.literal, model)} from ${first?.function ?? '?'}()) may sleep while holding ${lock.cls}`, lock,
          hit.c.chain.map((l) => ({ file: l.file, span: l.span, message: `${l.function}() calls ${l.callee}() (line ${lineOf(l.file, l.span.start)})` })),
          { held: p.held, witness, mask: renderVal(hit.v, model), callers: hit.c.chain });
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

/**
 * The facts the whole-program pass needs, in less memory: call sites reached in the empty state share one path
 * list, empty lists are shared, callee names are interned, and what only per-file output uses is dropped (the
 * function's problems, findings other than sleep-in-atomic). The input is not changed.
 */
export function compactFacts(facts: FileFacts, names: Map<string, string> = new Map()): FileFacts {
  const intern = (n: string) => {
    const have = names.get(n);
    if (have !== undefined) return have;
    names.set(n, n);
    return n;
  };
  const shared = <T>(xs: T[]): T[] => (xs.length ? xs : NONE as unknown as T[]);
  return {
    problems: NONE as unknown as string[],
    bindings: shared(facts.bindings ?? []),
    ...(facts.fields?.length ? { fields: facts.fields } : {}),
    functions: facts.functions.map((fn) => {
      const paths = pathInterner();
      return {
      ...fn,
      name: intern(fn.name),
      sites: shared(fn.sites),
      gfpParams: shared(fn.gfpParams),
      calls: shared(fn.calls),
      acquires: shared(fn.acquires ?? []),
      gates: shared(fn.gates ?? []),
      callSites: shared(fn.callSites.map((cs) => new CompactCallSite(
        intern(cs.callee), cs.span.start, cs.span.end,
        cs.paths.length === 1 && isEmptyPath(cs.paths[0]) ? NO_PATH as PathFacts[] : paths(cs.paths),
        cs.gfpArgs.length ? cs.gfpArgs : NONE as unknown as CallSite['gfpArgs'],
        cs.consts,
      ))),
      findings: shared(fn.findings.some((f) => f.code !== 'sleep-in-atomic') ? fn.findings.filter((f) => f.code === 'sleep-in-atomic') : fn.findings),
      problems: NONE as unknown as Span[],
      };
    }),
  };
}

/**
 * The call sites of one function mostly share their states (every call under the same lock): one object per
 * distinct lock, scope, path and list of paths.
 */
function pathInterner(): (ps: PathFacts[]) => PathFacts[] {
  const objs = new Map<string, unknown>();
  const one = <T>(key: string, make: () => T): T => {
    let o = objs.get(key) as T | undefined;
    if (o === undefined) objs.set(key, (o = make()));
    return o;
  };
  const lockKey = (h: HeldLock) => `L${h.cls}|${h.site.start}|${h.api}|${h.read ? 1 : 0}${h.guard ? 'g' : ''}`;
  const scopeKey = (f: ScopeFrame) => `S${f.family}|${f.site.start}|${f.api}|${f.cookie ?? ''}|${f.storage}`;
  const pathKey = (p: PathFacts) => `P${p.count}|${p.atomic ? 1 : 0}|${p.held.map(lockKey).join(';')}|${p.scopes.map(scopeKey).join(';')}`;
  return (ps) => one(`A${ps.map(pathKey).join('#')}`, () => ps.map((p) => one(pathKey(p), () => ({
    count: p.count, atomic: p.atomic,
    held: p.held.length ? one(`H${p.held.map(lockKey).join(';')}`, () => p.held.map((h) => one(lockKey(h), () => h))) : NONE as unknown as HeldLock[],
    scopes: p.scopes.length ? one(`F${p.scopes.map(scopeKey).join(';')}`, () => p.scopes.map((f) => one(scopeKey(f), () => f))) : NONE as unknown as ScopeFrame[],
  }))));
}

const isEmptyPath = (p: PathFacts) => p.held.length === 0 && p.scopes.length === 0 && !p.atomic;

/** A CallSite in a third of the memory: the span kept as two numbers (there are millions of call sites). */
class CompactCallSite implements CallSite {
  constructor(
    readonly callee: string,
    private readonly start: number,
    private readonly end: number,
    readonly paths: PathFacts[],
    readonly gfpArgs: CallSite['gfpArgs'],
    readonly consts?: CallSite['consts'],
  ) {}

  get span(): Span {
    return { start: this.start, end: this.end };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Lines without texts: the CLI keeps these arrays instead of whole files.

export { lineStartsOf, positionAt };

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
