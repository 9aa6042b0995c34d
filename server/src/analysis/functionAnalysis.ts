// Intraprocedural dataflow over one function: held locks (lockdep-style classes), memalloc scopes with their
// cookies, transactions, atomic context and gfp_t locals. The state at a program point is a small set of distinct
// abstract states, each with the number of acyclic paths that reach it, so results can say
// "GFP_NOFS on 2 paths, GFP_KERNEL on 1" instead of picking one.
import type { Node } from 'web-tree-sitter';
import { callArgs, calleeName, declsOf, rewritesIn, type FunctionInfo, type VarDecl } from '../syntax/ast';
import type { SourceFile } from '../syntax/sourceFile';
import type { LockApiEntry, PfFlag } from '../model/kb/types';
import { buildCfg, reversePostOrder, type Cfg, type CfgOp } from './cfg';
import type { SitePath, AllocSite, CallObservation, CallSite, HeldLock, LockAcquire, PathFacts, ScopeFrame, Span } from './facts';
import { andVal, applyScopeVal, clearBits, evalGfp, known, setBits, symbol, type GfpEnv, type GfpVal } from './gfpValue';
import type { KbView } from './kbView';
import { constArgsAt, paramResolver, resolveArgs, simpleTest } from './paramGuards';
import { tokenBits, tokensOf, TK } from './tokens';
import { wordOccurrences } from './words';
import { lockClassFromText, lockClassesOfCall, objectTypeKey, type CallLockClass, type LockContexts, type TypeEnv } from './lockClass';

/**
 * Every identifier the transfer functions react to: knowledge-base names (with 6.12 `_noprof` variants), `guard`,
 * and functions of this file with lock annotations. A function or statement whose text has none of them is skipped
 * without visiting its syntax tree (node access crosses into WASM and dominates the cost).
 */
function isRelevantToken(kb: KbView, callees: CalleeEffects) {
  return (t: string) => callees.has(t) || (tokenBits(kb, t) & TK.kb) !== 0;
}

/**
 * Names longer than this (pasted garbage, never a kernel identifier) are not put into a RegExp: V8 rejects one of
 * some 150,000 characters ("Regular expression too large"), and the function would go unanalysed.
 */
const MAX_NAME = 256;
const LABELS = /^[ \t]*[A-Za-z_]\w*[ \t]*:(?!:)/gm;
/** A condition without calls, assignments or increments: its value cannot change by being evaluated. */
/** `x = name(` and `int x = name(`: a variable given a call's result (the call is checked against the knowledge base). */
const FALLIBLE_ASSIGN = /\b([A-Za-z_]\w{0,255})\s*=\s*([A-Za-z_]\w{0,255})\s*\(/g;

function sideEffectFree(text: string): boolean {
  // `\b` anchors the identifier: without it the regex retries from every letter of a long word (quadratic).
  return !/\b[A-Za-z_]\w*\s*\(|\+\+|--|[^=!<>]=[^=]/.test(text);
}

/**
 * `xe_vm_in_lr_mode(vm)`: a call whose arguments have no side effects and call nothing. Tested twice in a function
 * (a lock taken under it and released under it), it is taken to have the same value both times, as its author
 * does; a predicate that changes in between (`need_resched()`) would make the analysis miss a path, never invent one.
 */
function predicateCall(c: string): boolean {
  const m = /^[A-Za-z_]\w*\(([^()]*)\)$/.exec(c);
  return !!m && sideEffectFree(m[1]);
}

/**
 * The side-effect-free conditions of the `if`s in a body, normalised as assume() keys them (outer `!`, likely()
 * and unlikely() stripped, and for `a && b` / `a || b` each side): the conditions branches can correlate on.
 */
function branchConditions(body: string): string[] {
  const out: string[] = [];
  const re = /\bif\s*\(/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    let depth = 1;
    let i = re.lastIndex;
    for (; i < body.length && depth > 0; i++) {
      if (body[i] === '(') depth++;
      else if (body[i] === ')') depth--;
    }
    let c = body.slice(re.lastIndex, i - 1).replace(/\s+/g, '');
    for (const part of c.split(/&&|\|\|/)) {
      c = part;
      for (;;) {
        const inner = /^!?(?:(?:un)?likely)?\((.*)\)$/.exec(c) ?? /^!(.*)$/.exec(c);
        if (!inner) break;
        c = inner[1];
      }
      if (c && (/^[A-Za-z_][\w.>-]*$/.test(c) || sideEffectFree(c) || predicateCall(c))) out.push(c);
    }
  }
  return out;
}

function hasMarkIn(marks: readonly number[], start: number, end: number): boolean {
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid] < start) lo = mid + 1;
    else hi = mid;
  }
  return lo < marks.length && marks[lo] < end;
}

/** Identifiers; a fresh regex per use, since a shared /g regex carries lastIndex into matchAll(). */
const identifiers = () => /[A-Za-z_]\w*/g;

/** `gfp_t a, b = …;`: the declarator text after gfp_t, up to the end of the declaration. */
const GFP_DECL = /\bgfp_t\s+([^;()]*)/g;

/**
 * The declaration of `name` in a function body: the first place where the name follows a type-like token
 * (`struct xfs_inode *ip`, `unsigned int flags`, `, *b`), checked on the tree by jumping to that offset.
 */
function findDeclaration(body: Node, bodyText: string, name: string): VarDecl | undefined {
  if (name.length > MAX_NAME) return undefined;
  const re = new RegExp(`(?:[\\w*]|,)\\s*\\b${name}\\b(?!\\s*[(.]|\\s*->)`, 'g');
  let tries = 0;
  for (let m = re.exec(bodyText); m && tries < 6; m = re.exec(bodyText), tries++) {
    const at = body.startIndex + m.index + m[0].length - name.length;
    let n: Node | null = body.descendantForIndex(at, at + name.length);
    for (let up = 0; n && up < 8; up++, n = n.parent) {
      if (n.type === 'declaration') return declsOf(n).find((d) => d.name === name);
      if (n.type === 'expression_statement' || n.type === 'compound_statement' || n.type === 'function_definition') break;
    }
  }
  return undefined;
}

/** Paths reaching one block are merged beyond this many distinct states (the result is then marked approximate). */
const MAX_STATES = 16;

export interface AState {
  held: readonly HeldLock[];
  scopes: readonly ScopeFrame[];
  vars: Readonly<Record<string, GfpVal>>;
  /**
   * Branch conditions known on this path (`err` → true after `if (err)`), so that a later `if (err)` follows the
   * same way: the kernel's `if (x) save(); … if (x) restore();` is balanced. Dropped when the variable is assigned.
   */
  conds: Readonly<Record<string, boolean>>;
}

interface Counted {
  s: AState;
  count: number;
}

/** A scope or lock event worth a diagnostic, recorded while walking (checks turn them into findings). */
export interface ScopeEvent {
  kind: 'restore-without-save' | 'restore-wrong-cookie' | 'restore-out-of-order' | 'restore-mixed-family';
  call: Span;
  api: string;
  cookie: string;
  /** the save the restore was matched against, if any */
  save?: ScopeFrame;
  /** the innermost open scope when the restore was out of order */
  inner?: ScopeFrame;
}

export interface ExitState {
  at: Span;
  count: number;
  state: AState;
}

/** Everything one function's walk produces; checks read it while the syntax tree is still alive. */
export interface FunctionRun {
  fn: FunctionInfo;
  file: SourceFile;
  kb: KbView;
  sites: (AllocSite & { gfpNode?: Node; callNode: Node })[];
  calls: CallObservation[];
  callSites: CallSite[];
  acquires: LockAcquire[];
  /** releases of locks the function did not take (its callers') */
  releases: { cls: string; span: Span }[];
  /** restores of scope cookies kept in objects that this function did not save (it closes its caller's scope) */
  foreignRestores: { cookie: string; family: string }[];
  gfpParams: { index: number; name: string }[];
  scopeEvents: ScopeEvent[];
  exits: ExitState[];
  cfg: Cfg;
  approximate: boolean;
}

const span = (n: Node): Span => ({ start: n.startIndex, end: n.endIndex });

const keys = new WeakMap<AState, string>();

/** A string identifying the state; states are immutable, so it is computed once per state object. */
export function stateKey(s: AState): string {
  let k = keys.get(s);
  if (k === undefined) keys.set(s, (k = computeKey(s)));
  return k;
}

function computeKey(s: AState): string {
  let k = '';
  for (const h of s.held) k += `${h.cls}@${h.site.start}${h.read ? 'r' : ''};`;
  k += '|';
  for (const f of s.scopes) k += `${f.family}:${f.cookie ?? ''}@${f.site.start};`;
  k += '|';
  for (const name of Object.keys(s.vars).sort()) {
    const v = s.vars[name];
    k += `${name}=${v.sym ?? ''}/${v.set}/${v.clear};`;
  }
  k += '|';
  for (const c of Object.keys(s.conds).sort()) k += `${c}=${s.conds[c] ? 1 : 0};`;
  return k;
}

export function isAtomic(s: AState): boolean {
  return s.held.some((h) => h.atomic);
}

export function scopeFlags(s: AState): PfFlag[] {
  const out: PfFlag[] = [];
  for (const f of s.scopes) for (const fl of f.flags) if (!out.includes(fl)) out.push(fl);
  return out;
}

function pathFacts(c: Counted): PathFacts {
  return { count: c.count, held: [...c.s.held], scopes: [...c.s.scopes], atomic: isAtomic(c.s) };
}

/**
 * Lock and scope effects of functions defined in the same file, seen by their callers in this file:
 * - from sparse annotations: `static int f(struct xfs_inode *ip) __releases(&ip->i_flags_lock)` releases the
 *   caller's lock (`expr` is the annotation argument, the callee's parameter names replaced by the call's arguments);
 * - derived from the callee's own code (deriveCalleeEffects): it returns on every path holding a lock it took
 *   (a lock wrapper), releases a lock of its caller, returns with a memalloc scope or transaction open whose cookie
 *   it keeps in an object or returns (a scope opener), or restores a cookie kept in an object (its closer).
 */
export type CalleeLockEffect =
  | { op: 'acquire' | 'release'; expr: string }
  /**
   * `param`: the lock is a field of what that parameter points to (`f2fs_down_write(struct f2fs_rwsem *sem)` takes
   * `&sem->internal_rwsem`); a caller that passes the address of an embedded lock object (`&sbi->cp_rwsem`) takes
   * the class of that object, as lockdep keys such wrapped locks per embedding (init_f2fs_rwsem's static key).
   */
  | { op: 'acquire'; held: Omit<HeldLock, 'api' | 'site'>; param?: number }
  | { op: 'release'; cls: string; param?: number }
  | { op: 'scope-open'; frame: Omit<ScopeFrame, 'site'> }
  | { op: 'scope-close'; cookie: string; family: string };
export type CalleeEffects = ReadonlyMap<string, { params: string[]; effects: CalleeLockEffect[] }>;

export function calleeEffectsOf(functions: readonly FunctionInfo[], file: SourceFile): CalleeEffects {
  const out = new Map<string, { params: string[]; effects: CalleeLockEffect[] }>();
  for (const fn of functions) {
    const effects: CalleeLockEffect[] = [];
    for (const rw of file.rewrites) {
      if (rw.kind !== 'lock-annotation' || rw.start < fn.start || rw.start >= fn.body.startIndex || !rw.args?.[0]) continue;
      if (rw.macro === '__acquires') effects.push({ op: 'acquire', expr: rw.args[0].text });
      else if (rw.macro === '__releases') effects.push({ op: 'release', expr: rw.args[0].text });
    }
    if (effects.length) out.set(fn.name, { params: fn.params.map((p) => p.name), effects });
  }
  return out;
}

/** Rounds of re-analysis after callee effects derived from code change (wrappers of wrappers); bounded for recursion. */
const EFFECT_ROUNDS = 3;

/**
 * Every function of a file, each analysed with the lock and scope effects of the file's other functions
 * (calleeEffectsOf from annotations, deriveCalleeEffects from code). Functions are analysed callees first (the
 * same-file call graph, read off the token index), so a caller of a lock wrapper or scope opener defined here sees
 * its effect on the first walk; `external` gives the effects of functions defined outside the file (its local
 * headers' static inline functions, ide/host.ts headerEffects); only callers inside recursion are walked again when
 * an effect they saw changed (bounded). A failure in one function is recorded and never stops the others.
 */
export function analyseFunctions(
  fns: readonly FunctionInfo[],
  file: SourceFile,
  kb: KbView,
  onError?: (fn: string, e: unknown) => void,
  external: CalleeEffects = new Map(),
): { runs: (FunctionRun | undefined)[]; callees: CalleeEffects; problems: string[] } {
  const problems: string[] = [];
  const annotated = calleeEffectsOf(fns, file);
  const callees = new Map(annotated);
  const runs: (FunctionRun | undefined)[] = fns.map(() => undefined);
  const failed = new Set<number>();

  // Effects are derived only for names defined once in the file. A function with sparse annotations gets its derived
  // lock effects when the code shows some (gfs2_log_lock() is `__acquires(&sdp->sd_log_lock)` around spin_lock():
  // derived, the caller knows it holds a spinlock), else the annotation's.
  const byName = new Map<string, number[]>();
  fns.forEach((fn, i) => byName.set(fn.name, [...(byName.get(fn.name) ?? []), i]));
  // Effects of functions the file does not define (the static inline functions of the local headers it includes):
  // a definition in the file itself wins.
  for (const [name, e] of external) if (!byName.has(name)) callees.set(name, e);
  const derivable = (i: number) => byName.get(fns[i].name)!.length === 1;
  const effectKey = new Map<string, string>();
  const keyOf = (name: string) => effectKey.get(name) ?? '';

  // deps[i]: the file's derivable functions named in i's body.
  const tokens = tokensOf(file);
  const deps = fns.map((fn, i) => {
    const out = new Set<number>();
    const [lo, hi] = tokens.range(fn.body.startIndex, fn.body.endIndex);
    for (let t = lo; t < hi; t++) {
      const js = byName.get(tokens.names[tokens.ids[t]]);
      if (js && js.length === 1 && js[0] !== i && derivable(js[0])) out.add(js[0]);
    }
    return [...out];
  });
  const seenWith: string[] = fns.map(() => '');
  const snapshot = (i: number) => deps[i].map((j) => keyOf(fns[j].name)).join('\n');

  const analyse = (i: number) => {
    seenWith[i] = snapshot(i);
    try {
      runs[i] = analyseFunction(fns[i], file, kb, callees);
    } catch (e) {
      runs[i] = undefined;
      if (!failed.has(i)) {
        failed.add(i);
        problems.push(`analysis of ${fns[i].name}() failed: ${e instanceof Error ? e.message : String(e)}`);
        onError?.(fns[i].name, e);
      }
    }
    const run = runs[i];
    if (!run || !derivable(i)) return;
    const derived = deriveCalleeEffects(run);
    const note = annotated.get(fns[i].name);
    const effects = !note || derived.some((e) => e.op === 'acquire' || e.op === 'release') ? derived : [...note.effects, ...derived];
    const key = effects.length ? JSON.stringify(effects) : '';
    if (key === keyOf(fns[i].name)) return;
    effectKey.set(fns[i].name, key);
    if (effects.length) callees.set(fns[i].name, { params: fns[i].params.map((p) => p.name), effects });
    else callees.delete(fns[i].name);
  };

  // Callees first: post-order of an iterative depth-first search over deps.
  const state = new Uint8Array(fns.length);
  for (let root = 0; root < fns.length; root++) {
    if (state[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [i, k] = top;
      if (k < deps[i].length) {
        top[1]++;
        const j = deps[i][k];
        if (!state[j]) {
          state[j] = 1;
          stack.push([j, 0]);
        }
        continue;
      }
      stack.pop();
      analyse(i);
    }
  }
  // Recursion: a caller walked before an effect it depends on settled is walked again.
  for (let round = 0; round < EFFECT_ROUNDS; round++) {
    let again = false;
    for (let i = 0; i < fns.length; i++) {
      if (deps[i].length && seenWith[i] !== snapshot(i)) {
        analyse(i);
        again = true;
      }
    }
    if (!again) break;
  }
  return { runs, callees, problems };
}

export function analyseFunction(fn: FunctionInfo, file: SourceFile, kb: KbView, callees: CalleeEffects = new Map()): FunctionRun {
  const rewrites = file.rewrites;
  const bodyText = file.text.slice(fn.body.startIndex, fn.body.endIndex);
  const kbRelevant = isRelevantToken(kb, callees);
  const bodyRewrites = rewritesIn(rewrites, fn.body.startIndex, fn.body.endIndex);
  const hasGuard = bodyRewrites.some((r) => r.kind === 'scoped-guard');
  const gfpParams = gfpParamsOf(fn, file.text);
  // The body's identifiers, from the file's token index (one scan per file, one classification per name).
  const tokens = tokensOf(file);
  const tokenClass = tokens.classes(kb);
  const [tokLo, tokHi] = tokens.range(fn.body.startIndex, fn.body.endIndex);
  const isCallee = (id: number) => callees.size > 0 && callees.has(tokens.names[id]);
  // A body that passes gfp values on (`bar(GFP_NOFS)`, `baz(gfp)`) is walked even when it names nothing the knowledge
  // base knows: its call sites must carry the gfp arguments for calling contexts (#3).
  const gfpParamNames = new Set(gfpParams.map((p) => p.name));
  let relevantBody = hasGuard;
  for (let i = tokLo; i < tokHi && !relevantBody; i++) {
    const id = tokens.ids[i];
    if (tokenClass[id] & (TK.kb | TK.gfpName | TK.gfpType) || isCallee(id) || gfpParamNames.has(tokens.names[id])) relevantBody = true;
  }
  // Declarations are looked up one name at a time: find where the name is declared in the body text and jump to
  // that node, instead of walking the whole body (node access crosses into WASM and is what analysis costs).
  const params = new Set(fn.params.map((p) => p.name));
  const declared = new Map<string, VarDecl | null>();
  for (const p of fn.params) declared.set(p.name, p);
  const lookup = (name: string): VarDecl | undefined => {
    let d = declared.get(name);
    if (d === undefined) declared.set(name, (d = findDeclaration(fn.body, bodyText, name) ?? null));
    return d ?? undefined;
  };
  const types: TypeEnv = { has: (n) => !!lookup(n), get: lookup, accessor: (n) => kb.accessor(n)?.returns, fieldType: (s, f) => kb.fieldType(s, f) };
  if (!relevantBody) {
    // Nothing here allocates, locks, opens a scope or sleeps: no facts, no findings.
    const empty: Cfg = { blocks: [], entry: 0, exit: 0, problems: [] };
    const callSites: CallSite[] = [];
    const nothing: PathFacts = { count: 1, held: [], scopes: [], atomic: false };
    const resolve = paramResolver(fn, file.text);
    for (const c of textualCalls(file.text, fn.body.startIndex, fn.body.endIndex)) {
      const consts = resolveArgs(constArgsAt(file.text, c.span.end, fn.body.endIndex), resolve);
      const callee = c.object === undefined ? c.name : indirectCallee(c.name, objectTypeKey(c.object, types, fileScopeStructs(file)));
      callSites.push({ callee, span: c.span, paths: [nothing], gfpArgs: [], ...(consts ? { consts } : {}) });
    }
    return { fn, file, kb, sites: [], calls: [], callSites, acquires: [], releases: [], foreignRestores: [], gfpParams, scopeEvents: [], exits: [], cfg: empty, approximate: false };
  }
  const isGfp = (d: VarDecl) => /\bgfp_t\b/.test(d.typeText) && d.pointerDepth === 0;
  const gfpLocals = new Set<string>(fn.params.filter(isGfp).map((p) => p.name));
  for (const m of bodyText.matchAll(GFP_DECL)) {
    for (const id of m[1].matchAll(identifiers())) {
      const d = lookup(id[0]);
      if (d && isGfp(d)) gfpLocals.add(d.name);
    }
  }

  // Variables that branch conditions remember (`if (x)`, `if (!x)`, `if (a->b)` on two or more branches) and gfp_t
  // locals: assignments to them must stay visible; mere reads need not.
  const condCount = new Map<string, number>();
  for (const c of branchConditions(bodyText)) condCount.set(c, (condCount.get(c) ?? 0) + 1);
  const tracked = new Set<string>(gfpLocals);
  const correlated = new Set<string>();
  for (const [c, n] of condCount) {
    if (n < 2) continue;
    correlated.add(c);
    for (const id of c.matchAll(identifiers())) if (!/^[A-Z_][A-Z0-9_]*$/.test(id[0])) tracked.add(id[0]);
  }
  // `err = mutex_lock_interruptible(&l); if (err) …`: the result variable decides whether the lock is held.
  for (const m of bodyText.matchAll(FALLIBLE_ASSIGN)) {
    if (!kb.lock(m[2])?.mayFail) continue;
    correlated.add(m[1]);
    tracked.add(m[1]);
  }
  for (const t of tracked) if (t.length > MAX_NAME) tracked.delete(t);
  const assigns = tracked.size ? new RegExp(`\\b(?:${[...tracked].join('|')})\\b[^;={}()]*?(?:[-+*/%&|^]|<<|>>)?=(?!=)`, 'g') : undefined;
  // Offsets of everything that makes a statement matter (relevant names, assignments to tracked variables, jumps,
  // labels, scoped guards), found in one scan of the body text; a statement with none inside is opaque to the CFG.
  const marks: number[] = [];
  const base = fn.body.startIndex;
  for (let i = tokLo; i < tokHi; i++) {
    const id = tokens.ids[i];
    if (tokenClass[id] & (TK.jump | TK.kb | TK.gfpName) || isCallee(id) || gfpLocals.has(tokens.names[id])) marks.push(tokens.starts[i]);
  }
  if (assigns) for (const m of bodyText.matchAll(assigns)) marks.push(base + m.index!);
  for (const m of bodyText.matchAll(LABELS)) marks.push(base + m.index!);
  for (const r of bodyRewrites) if (r.kind === 'scoped-guard') marks.push(r.start);
  marks.sort((a, b) => a - b);
  const cfg = buildCfg(fn.body, {
    scopedGuard(stmt) {
      const rw = bodyRewrites.find((r) => r.kind === 'scoped-guard' && r.start === stmt.startIndex);
      if (!rw || !rw.args || rw.args.length === 0) return undefined;
      const cond = stmt.childForFieldName('condition');
      // The condition is `(name, lock, …)`: a parenthesized comma expression; flatten it.
      const parts: Node[] = [];
      const flatten = (n: Node | null) => {
        if (!n) return;
        if (n.type === 'parenthesized_expression') return flatten(n.namedChild(0));
        if (n.type === 'comma_expression') {
          flatten(n.childForFieldName('left'));
          flatten(n.childForFieldName('right'));
          return;
        }
        parts.push(n);
      };
      flatten(cond);
      return { name: rw.args[0].text.trim(), args: parts.slice(1), site: stmt };
    },
    opaque: (stmt) => !hasMarkIn(marks, stmt.startIndex, stmt.endIndex),
  });

  const run: FunctionRun = { fn, file, kb, sites: [], calls: [], callSites: [], acquires: [], releases: [], foreignRestores: [], gfpParams, scopeEvents: [], exits: [], cfg, approximate: false };
  const callSiteIndex = new Map<number, CallSite>();
  const siteIndex = new Map<number, FunctionRun['sites'][number]>();
  const callIndex = new Map<string, CallObservation>();

  const initVars: Record<string, GfpVal> = {};
  for (const p of fn.params) if (gfpLocals.has(p.name)) initVars[p.name] = symbol(p.name, 'param');
  // `__must_hold(&l)` on the function: its callers hold l (sparse's contract; lockdep_assert_held() is the same
  // declaration in the body and is applied where it stands).
  const mustHold = mustHoldOf(fn, file, types, (n) => kb.lockContext(n)?.cls);
  const init: AState = { held: mustHold, scopes: [], vars: initVars, conds: {} };

  const ctx: WalkCtx = {
    kb, types, gfpLocals, params, run, siteIndex, callIndex, callSiteIndex, acquireIndex: new Map(), opaqueCalls: new Map(), callSiteStates: new Map(), recording: false, callees,
    lockContexts: (n) => kb.lockContext(n)?.cls, relevant: kbRelevant, marks, interesting: new Map(), names: new Map(), args: new Map(), conds: new Map(), fallibleInCond: new Set(), correlated, classes: new Map(),
  };

  // Pass over the DAG in reverse post-order; back edges feed new states into loop heads for another pass.
  const order = reversePostOrder(cfg);
  const backIn = new Map<number, Map<string, Counted>>();
  let ins: Map<number, Map<string, Counted>> = new Map();
  for (let pass = 0; pass < 4; pass++) {
    const last = pass === 3;
    ins = new Map();
    ins.set(cfg.entry, new Map([[stateKey(init), { s: init, count: 1 }]]));
    for (const [b, m] of backIn) {
      const into = getOrSet(ins, b);
      for (const [k, c] of m) if (!into.has(k)) into.set(k, { s: c.s, count: 0 });
    }
    const newBack = new Map<number, Map<string, Counted>>();
    ctx.recording = true;
    run.sites.length = 0;
    run.calls.length = 0;
    run.scopeEvents.length = 0;
    run.exits.length = 0;
    run.callSites.length = 0;
    run.acquires.length = 0;
    run.releases.length = 0;
    run.foreignRestores.length = 0;
    ctx.acquireIndex.clear();
    callSiteIndex.clear();
    ctx.callSiteStates.clear();
    siteIndex.clear();
    callIndex.clear();
    for (const b of order) {
      const inStates = ins.get(b);
      if (!inStates || inStates.size === 0) continue;
      const block = cfg.blocks[b];
      let states = [...inStates.values()];
      for (const op of block.ops) states = transferOp(op, states, ctx);
      for (const e of block.succs) {
        for (const c of states) {
          const out = e.assume ? assume(c.s, e.assume.cond, e.assume.value, ctx, !e.assume.loop) : c.s;
          if (!out) continue; // infeasible on this path
          const target = e.back ? getOrSet(newBack, e.to) : getOrSet(ins, e.to);
          addCounted(target, out, e.back ? 0 : c.count, run);
        }
      }
    }
    // Converged when the back edges bring nothing new.
    let grew = false;
    for (const [b, m] of newBack) {
      const have = getOrSet(backIn, b);
      const seen = ins.get(b);
      for (const [k, c] of m) {
        if (!have.has(k) && !(seen && seen.has(k))) {
          have.set(k, c);
          grew = true;
        }
      }
    }
    if (!grew || last) break;
  }
  return run;
}

function getOrSet<K, V>(m: Map<K, Map<string, V>>, k: K): Map<string, V> {
  let v = m.get(k);
  if (!v) m.set(k, (v = new Map()));
  return v;
}

function addCounted(target: Map<string, Counted>, s: AState, count: number, run: FunctionRun) {
  const k = stateKey(s);
  const have = target.get(k);
  if (have) {
    have.count += count;
    return;
  }
  if (target.size >= MAX_STATES) {
    // Merge into the state with the same held locks and scopes if there is one, else the first: approximate.
    run.approximate = true;
    const lockScopeKey = (key: string) => key.split('|').slice(0, 2).join('|');
    const lk = lockScopeKey(k);
    for (const [ok, c] of target) {
      if (lockScopeKey(ok) === lk) {
        c.count += count;
        return;
      }
    }
    target.values().next().value!.count += count;
    return;
  }
  target.set(k, { s, count });
}

interface WalkCtx {
  kb: KbView;
  types: TypeEnv;
  gfpLocals: Set<string>;
  params: Set<string>;
  run: FunctionRun;
  siteIndex: Map<number, FunctionRun['sites'][number]>;
  callIndex: Map<string, CallObservation>;
  callSiteIndex: Map<number, CallSite>;
  /** per acquisition site and class: the recorded acquisition */
  acquireIndex: Map<string, LockAcquire>;
  /** the call sites found in each opaque statement's text */
  opaqueCalls: Map<number, { name: string; span: Span; object?: string }[]>;
  /** per call site: the keys of the states already recorded (a site is reached once per distinct state) */
  callSiteStates: Map<number, Map<string, PathFacts>>;
  recording: boolean;
  callees: CalleeEffects;
  lockContexts: LockContexts;
  relevant: (t: string) => boolean;
  /** sorted offsets of what makes a statement matter (see analyseFunction) */
  marks: readonly number[];
  /** per statement (node id): the calls, assignments and declarators to visit, in evaluation order */
  interesting: Map<number, { n: Node; type: string }[]>;
  /** per call (node id): the callee name; per call: its arguments */
  names: Map<number, string | undefined>;
  args: Map<number, Node[]>;
  conds: Map<number, CondSpec>;
  /** fallible acquires that are a branch condition themselves: taken on the condition's false edge (assume) */
  fallibleInCond: Set<number>;
  /** normalised conditions that at least two branches of the function test */
  correlated: ReadonlySet<string>;
  classes: Map<string, CallLockClass[]>;
  /** parameter index by name, for arguments passed on unchanged (made on first use) */
  paramOf?: (name: string) => number | undefined;
}

function transferOp(op: CfgOp, states: Counted[], ctx: WalkCtx): Counted[] {
  switch (op.kind) {
    case 'cond':
      // Reduce the condition first: a fallible acquire that is the condition is taken on an edge, not here.
      condSpec(op.node, ctx);
      return walkExpr(op.node, states, ctx);
    case 'eval':
      return walkExpr(op.node, states, ctx);
    case 'guard-acquire':
    case 'guard-release': {
      const g = ctx.kb.guard(op.guard.name);
      if (!g) return states;
      const api = ctx.kb.lock(op.kind === 'guard-acquire' ? g.lock : g.unlock);
      if (!api) return states;
      return states.map((c) => ({ s: applyLock(c.s, api, op.guard.args, op.kind === 'guard-acquire' ? op.guard.site : op.at, ctx, true), count: c.count }));
    }
    case 'return':
      for (const c of states) ctx.run.exits.push({ at: span(op.node), count: c.count, state: c.s });
      return states;
    case 'opaque':
      // The statement changes nothing we track, but the functions it calls run in these states.
      return recordTextualCalls(op.start, op.end, states, ctx);
  }
}

/** Applies the calls, assignments and declarators of a statement in evaluation order (post-order). */
/** The calls in [start, end), found in the text, as call sites in these states (nothing else there matters). */
function recordTextualCalls(start: number, end: number, states: Counted[], ctx: WalkCtx): Counted[] {
  let calls = ctx.opaqueCalls.get(start);
  if (!calls) ctx.opaqueCalls.set(start, (calls = [...textualCalls(ctx.run.file.text, start, end)]));
  for (const call of calls) {
    if (call.object === undefined) recordCallSite(ctx, call.name, call.span, states, []);
    else recordCallSite(ctx, indirectCallee(call.name, objectTypeKey(call.object, ctx.types, fileScopeStructs(ctx.run.file))), call.span, states, [], call.span.end);
  }
  return states;
}

function walkExpr(root: Node, states: Counted[], ctx: WalkCtx): Counted[] {
  // An expression with nothing relevant in it (the value of `return helper();`, a condition `if (check(x))` of a
  // statement that matters for its branches) still calls functions: they are call sites in these states.
  if (!hasMarkIn(ctx.marks, root.startIndex, root.endIndex)) return recordTextualCalls(root.startIndex, root.endIndex, states, ctx);
  for (const { n, type } of interestingNodes(root, ctx)) {
    switch (type) {
      case 'call_expression':
        states = onCall(n, states, ctx);
        break;
      case 'assignment_expression':
        states = onAssign(n, states, ctx);
        break;
      case 'init_declarator':
        states = onInitDeclarator(n, states, ctx);
        break;
    }
  }
  return states;
}

/** The nodes walkExpr must visit under `root`, computed once per statement; none when its text is irrelevant. */
function interestingNodes(root: Node, ctx: WalkCtx): { n: Node; type: string }[] {
  const cached = ctx.interesting.get(root.id);
  if (cached) return cached;
  const out: { n: Node; type: string }[] = [];
  ctx.interesting.set(root.id, out);
  if (!hasMarkIn(ctx.marks, root.startIndex, root.endIndex)) return out;
  const stack: { n: Node; visited: boolean }[] = [{ n: root, visited: false }];
  while (stack.length) {
    const top = stack.pop()!;
    const n = top.n;
    if (!top.visited) {
      stack.push({ n, visited: true });
      // Children pushed in reverse so that they pop in source order.
      for (let i = n.namedChildCount - 1; i >= 0; i--) {
        const c = n.namedChild(i);
        if (c && c.namedChildCount > 0) stack.push({ n: c, visited: false });
      }
      continue;
    }
    const type = n.type;
    if (RELEVANT_INNER.has(type)) out.push({ n, type });
  }
  return out;
}

const RELEVANT_INNER = new Set(['call_expression', 'assignment_expression', 'init_declarator']);

function argsOf(call: Node, ctx: WalkCtx): Node[] {
  let a = ctx.args.get(call.id);
  if (!a) ctx.args.set(call.id, (a = callArgs(call)));
  return a;
}

function onCall(call: Node, states: Counted[], ctx: WalkCtx): Counted[] {
  let name = ctx.names.get(call.id);
  if (name === undefined && !ctx.names.has(call.id)) {
    name = calleeName(call);
    ctx.names.set(call.id, name);
  }
  if (!name) {
    // A call through a function pointer in a struct (`e->ops.init_sched(q, e)`): resolved over the whole program.
    const ind = indirectCallOf(call, ctx.types, fileScopeStructs(ctx.run.file));
    if (ind) recordCallSite(ctx, ind.callee, span(call), states, gfpArgsOf(call, states, ctx), ind.argsAt);
    return states;
  }
  if (!ctx.relevant(name)) {
    recordCallSite(ctx, name, span(call), states, gfpArgsOf(call, states, ctx));
    return states;
  }
  const kb = ctx.kb;
  const lock = kb.lock(name);
  if (lock) {
    // idr_preload(gfp) both allocates (before the section starts) and opens a preload section.
    const alloc = kb.allocator(name);
    if (alloc) recordSite(call, name, alloc, states, ctx);
    // A trylock in a branch condition acquires on the success edge (see assume); elsewhere the outcome is unknown.
    if (lock.op === 'trylock') {
      recordAcquires(lock, argsOf(call, ctx), call, states, ctx, { trylock: true });
      return states;
    }
    if (lock.op === 'might-acquire') {
      recordAcquires(lock, argsOf(call, ctx), call, states, ctx, { declared: true });
      return states;
    }
    if (lock.op === 'assert-held') return states.map((c) => ({ s: assertHeld(c.s, lock, argsOf(call, ctx), call, ctx), count: c.count }));
    if (lock.op === 'acquire' && lock.sleeps) observe(ctx, 'sleep', name, call, states);
    if (lock.op === 'acquire' && lock.mayFail && (ctx.fallibleInCond.has(call.id) || assignedResult(call, ctx))) {
      // `if (mutex_lock_interruptible(&m)) return -EINTR;`: held on the false edge only (assume); `err = …;`: held
      // on the paths where err is 0 (onAssign splits them).
      recordAcquires(lock, argsOf(call, ctx), call, states, ctx, {});
      return states;
    }
    return states.map((c) => ({ s: applyLock(c.s, lock, argsOf(call, ctx), call, ctx, false), count: c.count }));
  }
  const scope = kb.scope(name);
  if (scope) return states.map((c) => ({ s: applyScopeApi(c.s, scope.op, scope, call, ctx), count: c.count }));
  const tx = kb.transaction(name);
  if (tx) {
    // jbd2__journal_start(journal, …, gfp_mask, …) allocates the handle before the scope begins.
    const alloc = kb.allocator(name);
    if (alloc) recordSite(call, name, alloc, states, ctx);
    // Opening a transaction waits for a commit in progress, so it is an acquisition of the resource (lockdep's
    // jbd2_handle and btrfs_trans_num_writers maps) for the dependency graph.
    if (tx.op === 'open' && ctx.recording) {
      const key = `${call.startIndex}:${tx.resource}`;
      let a = ctx.acquireIndex.get(key);
      if (!a) {
        a = { cls: tx.resource, api: name, kind: 'other', read: true, trylock: false, span: span(call), heldBefore: [] };
        ctx.acquireIndex.set(key, a);
        ctx.run.acquires.push(a);
      }
      for (const c of states) for (const h of c.s.held) if (!a.heldBefore.includes(h.cls)) a.heldBefore.push(h.cls);
    }
    return states.map((c) => {
      if (tx.op === 'open') {
        const frame: ScopeFrame = {
          flags: tx.scope === 'none' ? [] : [tx.scope], family: `trans:${tx.subsystem}`, api: name, site: span(call),
          storage: 'handle', resource: tx.resource, ...(tx.conditional ? { conditional: tx.conditional } : {}),
        };
        return { s: { ...c.s, scopes: [...c.s.scopes, frame] }, count: c.count };
      }
      const idx = lastIndex(c.s.scopes, (f) => f.family === `trans:${tx.subsystem}`);
      if (idx < 0) return c;
      return { s: { ...c.s, scopes: c.s.scopes.filter((_, i) => i !== idx) }, count: c.count };
    });
  }
  const alloc = kb.allocator(name);
  if (alloc) {
    recordSite(call, name, alloc, states, ctx);
    if (alloc.mayFault) observe(ctx, 'uaccess', name, call, states);
    return states;
  }
  const ua = kb.uaccess(name);
  if (ua) {
    if (ua.mayFault) observe(ctx, 'uaccess', name, call, states);
    return states;
  }
  const sleeper = kb.sleeper(name);
  if (sleeper) observe(ctx, 'sleep', name, call, sleeper.releasesArg === undefined ? states : withoutArgLock(states, argsOf(call, ctx)[sleeper.releasesArg], ctx));
  const callee = ctx.callees.get(name);
  if (callee) {
    // A function of this file with annotated lock effects is still an edge of the call graph.
    recordCallSite(ctx, name, span(call), states, gfpArgsOf(call, states, ctx));
    return states.map((c) => ({ s: applyCalleeEffects(c.s, callee, call, ctx), count: c.count }));
  }
  return states;
}

function applyCalleeEffects(s: AState, callee: { params: string[]; effects: CalleeLockEffect[] }, call: Node, ctx: WalkCtx): AState {
  const args = argsOf(call, ctx);
  // The callee's parameter names replaced by the caller's argument texts.
  const substitute = (text: string) => text.replace(/[A-Za-z_]\w*/g, (id) => {
    const i = callee.params.indexOf(id);
    return i >= 0 && args[i] ? `(${args[i].text})` : id;
  }).replace(/\(([A-Za-z_]\w*)\)/g, '$1').replace(/\s+/g, '');
  const api = calleeName(call) ?? '?';
  for (const e of callee.effects) {
    if (e.op === 'scope-open') {
      // A cookie the callee returns lands where the caller puts the call's value.
      const where = e.frame.cookie === '<return>' ? cookieOf(call, ctx) : { storage: e.frame.storage, cookie: e.frame.cookie && substitute(e.frame.cookie) };
      s = { ...s, scopes: [...s.scopes, { ...e.frame, ...where, api, site: span(call) }] };
      continue;
    }
    if (e.op === 'scope-close') {
      const cookie = substitute(e.cookie);
      const i = lastIndex(s.scopes, (f) => f.cookie === cookie && (f.family === e.family || f.family.startsWith('trans:') === e.family.startsWith('trans:')));
      if (i >= 0) s = { ...s, scopes: s.scopes.filter((_, j) => j !== i) };
      continue;
    }
    // A lock of an embedded object the caller passes by address (`f2fs_up_write(&sbi->cp_rwsem)`): that object's class.
    const byArg = 'param' in e && e.param !== undefined ? objectClass(args[e.param], ctx) : undefined;
    const cls = 'held' in e ? e.held.cls : 'cls' in e ? byArg ?? e.cls : lockClassFromText(substitute(e.expr), ctx.types, ctx.lockContexts);
    if (e.op === 'release') {
      const i = lastIndex(s.held, (h) => h.cls === cls);
      if (i >= 0) s = { ...s, held: s.held.filter((_, j) => j !== i) };
      // A callee that releases a lock this function does not hold releases its caller's (dlm's ls_recover() →
      // enable_locking() → up_write(&ls->ls_in_recovery), held by dlm_recoverd): a foreign release here too.
      else recordForeignRelease(ctx, cls, call);
    } else if ('held' in e) {
      const held = byArg ? { ...e.held, cls: byArg } : e.held;
      // Then the call is where this function takes that class (the wrapper's own acquisition names only the wrapped
      // field's class): recorded as its acquisition, so what reclaim and faults take through it is known per object.
      if (byArg) recordEffectAcquire(ctx, held, api, call, s);
      s = { ...s, held: [...s.held, { ...held, api, site: span(call) }] };
    } else {
      const atomicLike = s.held.find((h) => h.cls === cls);
      s = { ...s, held: [...s.held, { cls, kind: atomicLike?.kind ?? 'other', read: false, atomic: atomicLike?.atomic ?? cls.startsWith('rcu_read_lock'), irqsOff: false, api, site: span(call) }] };
    }
  }
  return s;
}

/** The class of an embedded lock object passed by address (`&sbi->cp_rwsem`); undefined for any other argument. */
function objectClass(arg: Node | undefined, ctx: WalkCtx): string | undefined {
  if (!arg) return undefined;
  const text = ctx.run.file.text.slice(arg.startIndex, arg.endIndex);
  return text.trimStart().startsWith('&') ? lockClassFromText(text, ctx.types, ctx.lockContexts) : undefined;
}

/** A held lock the function declares its caller holds (`__must_hold`, lockdep_assert_held()) rather than takes. */
export function declaredHeld(h: HeldLock, kb: KbView): boolean {
  return h.api === '__must_hold' || kb.lock(h.api)?.op === 'assert-held';
}

/**
 * What a function's callers see of it (CalleeLockEffect): the locks it holds at every exit that it took itself,
 * the scopes open at every exit that it opened with the cookie kept outside its frame, its callers' locks it
 * releases and the object-kept cookies it restores. Locks known only through a local pointer (`*lock`) and
 * cleanup.h guards are left out: the caller cannot name them.
 */
export function deriveCalleeEffects(run: FunctionRun): CalleeLockEffect[] {
  const out: CalleeLockEffect[] = [];
  const { startIndex: start, endIndex: end } = run.fn.body;
  // Taken in this function: not a lock its caller holds and it only declares (__must_hold, lockdep_assert_held).
  const mine = (site: Span) => site.start >= start && site.end <= end;
  const taken = (h: HeldLock) => mine(h.site) && !declaredHeld(h, run.kb);
  if (run.exits.length) {
    const everyExit = <T>(pick: (st: AState) => readonly T[], key: (x: T) => string): T[] => {
      let common: Map<string, T> | undefined;
      for (const e of run.exits) {
        const here = new Map<string, T>();
        for (const x of pick(e.state)) here.set(key(x), x);
        common = common ? new Map([...common].filter(([k]) => here.has(k))) : here;
      }
      return [...(common ?? new Map<string, T>()).values()];
    };
    // A lock of the caller that the function drops and takes again (`spin_unlock(l); schedule(); spin_lock(l);`)
    // is neither taken nor released by it, as its caller sees it.
    const dropped = new Set(run.releases.map((r) => r.cls));
    // A lock taken by an API that can fail (mutex_lock_interruptible) is held only if the caller's test of the result
    // says so: such a function (xe_vm_lock returns dma_resv_lock_interruptible's value) is not a wrapper to callers.
    // A semaphore still held when the function returns is usually handed to an I/O completion that up()s it (bcache's
    // bch_btree_node_write: down(&b->io_mutex), released by btree_node_write_done): not a lock its callers hold.
    const sure = (x: HeldLock) => !run.kb.lock(x.api)?.mayFail && x.kind !== 'semaphore';
    for (const h of everyExit((st) => st.held.filter((x) => taken(x) && sure(x) && !x.guard && !x.cls.startsWith('*') && !dropped.has(x.cls)), (x) => x.cls)) {
      const param = lockParam(run, h.site);
      out.push({ op: 'acquire', held: { cls: h.cls, kind: h.kind, read: h.read, atomic: h.atomic, irqsOff: h.irqsOff }, ...(param !== undefined ? { param } : {}) });
    }
    for (const f of everyExit((st) => st.scopes.filter((x) => mine(x.site) && x.storage !== 'local' && x.storage !== 'discarded'), (x) => `${x.family}:${x.cookie}`)) {
      const { site: _site, ...frame } = f;
      out.push({ op: 'scope-open', frame });
    }
  }
  // Only a pure release (no exit holds the class again): a function that drops its caller's lock on some paths and
  // takes it back (check_new_map's `mutex_unlock(&mdsc->mutex); …; mutex_lock(&mdsc->mutex);`) leaves it held.
  const retaken = (cls: string) => run.exits.some((e) => e.state.held.some((h) => h.cls === cls));
  for (const r of run.releases) {
    if (r.cls.startsWith('*') || retaken(r.cls) || out.some((e) => e.op === 'release' && 'cls' in e && e.cls === r.cls)) continue;
    const param = lockParam(run, r.span);
    out.push({ op: 'release', cls: r.cls, ...(param !== undefined ? { param } : {}) });
  }
  for (const r of run.foreignRestores) out.push({ op: 'scope-close', cookie: r.cookie, family: r.family });
  return out;
}

/**
 * The parameter whose pointee holds the lock a wrapper takes: the lock call's first argument is `&P->field` (or
 * `&P.field`) with P one of the function's parameters.
 */
function lockParam(run: FunctionRun, site: Span): number | undefined {
  const call = run.file.text.slice(site.start, site.end);
  const m = /^[A-Za-z_]\w*\s*\(\s*&\s*\(?\s*([A-Za-z_]\w*)\s*\)?\s*(?:->|\.)/.exec(call);
  if (!m) return undefined;
  const i = run.fn.params.findIndex((p) => p.name === m[1]);
  return i >= 0 ? i : undefined;
}

/** Arguments that are gfp expressions (GFP_/__GFP_ names, gfp_t variables), evaluated in each state. */
function gfpArgsOf(call: Node, states: Counted[], ctx: WalkCtx): CallSite['gfpArgs'] {
  if (!ctx.recording) return [];
  const out: CallSite['gfpArgs'] = [];
  // From the file's token index: no slicing or scanning of the argument texts (this runs at every call).
  const tokens = tokensOf(ctx.run.file);
  const cls = tokens.classes(ctx.kb);
  const isGfp = (start: number, end: number) => {
    const [lo, hi] = tokens.range(start, end);
    for (let i = lo; i < hi; i++) if (cls[tokens.ids[i]] & TK.gfpName || ctx.gfpLocals.has(tokens.names[tokens.ids[i]])) return true;
    return false;
  };
  argsOf(call, ctx).forEach((a, index) => {
    if (!isGfp(a.startIndex, a.endIndex)) return;
    const values: GfpVal[] = [];
    for (const c of states) for (const v of evalGfp(a, gfpEnv(c.s, ctx))) if (!values.some((x) => x.sym === v.sym && x.set === v.set && x.clear === v.clear)) values.push(v);
    out.push({ index, values: values.slice(0, 8) });
  });
  return out;
}

function recordCallSite(ctx: WalkCtx, callee: string, at: Span, states: Counted[], gfpArgs: CallSite['gfpArgs'], argsAt = at.start + callee.length) {
  if (!ctx.recording) return;
  let c = ctx.callSiteIndex.get(at.start);
  let seen = ctx.callSiteStates.get(at.start);
  if (!c || !seen) {
    const consts = resolveArgs(constArgsAt(ctx.run.file.text, argsAt, ctx.run.fn.body.endIndex), ctx.paramOf ??= paramResolver(ctx.run.fn, ctx.run.file.text));
    c = { callee, span: at, paths: [], gfpArgs, ...(consts ? { consts } : {}) };
    ctx.callSiteIndex.set(at.start, c);
    ctx.callSiteStates.set(at.start, (seen = new Map()));
    ctx.run.callSites.push(c);
  }
  for (const s of states) {
    // Only what a callee can see matters here: held locks, scopes, atomicity (not gfp locals or branch facts).
    const key = stateKey(s.s).split('|').slice(0, 2).join('|');
    const have = seen.get(key);
    if (have) have.count += s.count;
    else {
      const p = pathFacts(s);
      seen.set(key, p);
      c.paths.push(p);
    }
  }
}

const NOT_CALLS = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', 'typeof', '__typeof__', 'defined', 'alignof', '_Alignof', '__alignof__', 'offsetof', '__builtin_expect', 'likely', 'unlikely', 'do']);

/**
 * `name(` in a stretch of text that was not walked (an opaque statement or a function without relevant names);
 * `obj->field(` and `obj.field(` are calls through a function pointer, with the object's text.
 */
function* textualCalls(text: string, start: number, end: number): Generator<{ name: string; span: Span; object?: string }> {
  // Comments and string literals are stepped over: `freed by unpoison_memory()` in a comment is no call.
  const re = /\/\*[\s\S]*?(?:\*\/|$)|\/\/[^\n]*|"(?:\\[\s\S]|[^"\\\n])*"|'(?:\\[\s\S]|[^'\\\n])*'|\b([A-Za-z_]\w*)\s*\(/g;
  re.lastIndex = start;
  for (let m = re.exec(text); m && m.index < end; m = re.exec(text)) {
    if (m[1] === undefined) continue;
    const at = { start: m.index, end: m.index + m[1].length };
    const object = objectBefore(text, m.index, start);
    if (object !== undefined) {
      if (object) yield { name: m[1], span: at, object };
      continue;
    }
    if (NOT_CALLS.has(m[1]) || /^[A-Z0-9_]+$/.test(m[1])) continue; // keywords and MACROS()
    yield { name: m[1], span: at };
  }
}

/**
 * The object expression before `->field` or `.field` ending at `at` (identifiers, `->`, `.`, `[…]`, balanced `(…)`):
 * `e->ops` in `e->ops.init_sched(`. Undefined when `at` is not preceded by a member access; empty when the object
 * cannot be read back (a cast, a call result spanning lines).
 */
function objectBefore(text: string, at: number, limit: number): string | undefined {
  let i = at - 1;
  while (i >= limit && (text[i] === ' ' || text[i] === '\t')) i--;
  if (text[i] === '.' && i > limit && /[\w)\]]/.test(text[i - 1] ?? '')) i--;
  else if (text[i] === '>' && text[i - 1] === '-') i -= 2;
  else return undefined;
  const end = i + 1;
  let depth = 0;
  for (; i >= limit; i--) {
    const ch = text[i];
    if (ch === ')' || ch === ']') depth++;
    else if (ch === '(' || ch === '[') {
      if (depth === 0) break;
      depth--;
    } else if (depth > 0) continue;
    else if (ch === ' ' || ch === '\t') {
      // Spaces belong to the object only around `->` and `.` (`ops ->f`, `a-> b`): `return ops->f(` stops at `ops`.
      let j = i;
      while (j > limit && (text[j - 1] === ' ' || text[j - 1] === '\t')) j--;
      const left = text[j - 1];
      const right = text[i + 1];
      if (right === '-' || right === '.' || left === '>' || left === '.') {
        i = j;
        continue;
      }
      break;
    } else if (!/[\w.>\-*]/.test(ch)) break;
    else if (ch === '>' && text[i - 1] !== '-') break;
    else if (ch === '-' && text[i + 1] !== '>') break;
    else if (ch === '*' && /[\w)\]]/.test(text[i - 1] ?? '')) break;
  }
  const obj = text.slice(i + 1, end).trim().replace(/^\*+/, '');
  return /^[A-Za-z_(]/.test(obj) ? obj : '';
}

/** The call site name of a call through a struct's function pointer: `->init_sched@elevator_type.ops` (interproc.ts). */
function indirectCallee(field: string, key: string | undefined): string {
  return key ? `->${field}@${key}` : `->${field}`;
}

/** `ops->f(…)`, `e->ops.f(…)`, `(*ops->f)(…)`: the call site name and where its arguments start. */
function indirectCallOf(call: Node, types: TypeEnv, fileScope: (name: string) => string | undefined): { callee: string; argsAt: number } | undefined {
  const fnNode = call.childForFieldName('function');
  let f: Node | null = fnNode;
  while (f && (f.type === 'parenthesized_expression' || f.type === 'pointer_expression')) f = f.type === 'pointer_expression' ? f.childForFieldName('argument') : f.namedChild(0);
  if (!f || f.type !== 'field_expression') return undefined;
  const field = f.childForFieldName('field')?.text;
  const object = f.childForFieldName('argument')?.text;
  if (!field || object === undefined) return undefined;
  return { callee: indirectCallee(field, objectTypeKey(object, types, fileScope)), argsAt: fnNode!.endIndex };
}

const fileScopes = new WeakMap<SourceFile, (name: string) => string | undefined>();

/**
 * The struct a file-scope pointer or object is declared with (`static struct ocfs2_stack_plugin *active_stack;` at
 * the start of a line), read from the text on first use per name.
 */
function fileScopeStructs(file: SourceFile): (name: string) => string | undefined {
  let f = fileScopes.get(file);
  if (!f) {
    const memo = new Map<string, string | undefined>();
    f = (name) => {
      if (memo.has(name)) return memo.get(name);
      const re = new RegExp(`^(?:static\\s+|extern\\s+)?(?:const\\s+)?struct\\s+([A-Za-z_]\\w*)\\s*(?:\\*\\s*)*(?:const\\s+)?${name}\\s*[;=\\[]`, 'm');
      const got = name.length <= 64 ? re.exec(file.text)?.[1] : undefined;
      memo.set(name, got);
      return got;
    };
    fileScopes.set(file, f);
  }
  return f;
}

function gfpParamsOf(fn: FunctionInfo, text: string): { index: number; name: string }[] {
  const out: { index: number; name: string }[] = [];
  if (!text.slice(fn.start, fn.body.startIndex).includes('gfp_t')) return out; // spares the parameter nodes
  fn.params.forEach((p, index) => {
    if (/\bgfp_t\b/.test(p.typeText) && p.pointerDepth === 0) out.push({ index, name: p.name });
  });
  return out;
}

/**
 * The states as a sleeper that drops a lock while it sleeps sees them (`wait_event_lock_irq(wq, cond, conf->lock)`
 * unlocks `&conf->lock` around schedule()): that lock is not held while it sleeps.
 */
function withoutArgLock(states: Counted[], arg: Node | undefined, ctx: WalkCtx): Counted[] {
  if (!arg) return states;
  const text = arg.text.trim();
  const cls = lockClassFromText(text.startsWith('&') ? text : `&${text}`, ctx.types, ctx.lockContexts);
  return states.map((c) => {
    const held = c.s.held.filter((h) => h.cls !== cls);
    if (held.length === c.s.held.length) return c;
    return { s: { ...c.s, held }, count: c.count };
  });
}

function observe(ctx: WalkCtx, kind: 'sleep' | 'uaccess', api: string, call: Node, states: Counted[]) {
  if (!ctx.recording) return;
  const key = `${kind}:${call.startIndex}`;
  let o = ctx.callIndex.get(key);
  if (!o) {
    o = { kind, api, function: ctx.run.fn.name, call: span(call), paths: [] };
    ctx.callIndex.set(key, o);
    ctx.run.calls.push(o);
  }
  for (const c of states) o.paths.push(pathFacts(c));
}

function lastIndex<T>(xs: readonly T[], p: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (p(xs[i])) return i;
  return -1;
}

function applyLock(s: AState, api: LockApiEntry, args: Node[], site: Node, ctx: WalkCtx, guard: boolean): AState {
  const classes = lockClassesFor(api, args, ctx);
  if (api.op === 'release') {
    if (classes.length && classes[0].anyOf) {
      // One of these classes, unknown which: the most recently taken of them. None taken here: the caller's, whichever
      // it holds (xfs_dir2_block_getdents's `xfs_iunlock(dp, *lock_mode)` drops what xfs_readdir took).
      const i = lastIndex(s.held, (h) => classes.some((c) => c.cls === h.cls));
      if (i < 0) for (const { cls } of classes) recordForeignRelease(ctx, cls, site);
      return i < 0 ? s : { ...s, held: s.held.filter((_, j) => j !== i) };
    }
    let held = s.held;
    for (const { cls } of classes) {
      const i = lastIndex(held, (h) => h.cls === cls);
      if (i >= 0) {
        // Declared held (lockdep_assert_held, __must_hold): the caller took it, so this releases the caller's lock.
        const h = held[i];
        if (declaredHeld(h, ctx.kb)) recordForeignRelease(ctx, cls, site);
        held = held.filter((_, j) => j !== i);
      } else recordForeignRelease(ctx, cls, site);
    }
    return held === s.held ? s : { ...s, held };
  }
  if (api.op !== 'acquire' && api.op !== 'trylock') return s;
  recordAcquires(api, args, site, [{ s, count: 1 }], ctx, { trylock: api.op === 'trylock' });
  const add: HeldLock[] = classes.map((c) => ({
    cls: c.cls, kind: api.kind, read: c.read, atomic: api.atomic,
    irqsOff: !!api.irqsOff, api: api.name, site: span(site), ...(guard ? { guard: true } : {}),
  }));
  return { ...s, held: [...s.held, ...add] };
}

/** Sections that exclude something (preemption, interrupts, RCU grace periods) but never wait for another holder. */
const NEVER_WAITS = new Set<string>(['rcu', 'srcu', 'preempt', 'irq', 'bh', 'preload', 'pagefault', 'fence']);

/** Records an acquisition (once per site and class; the classes held before it accumulate over states). */
function recordAcquires(api: LockApiEntry, args: Node[], site: Node, states: readonly Counted[], ctx: WalkCtx, how: { trylock?: boolean; declared?: boolean }) {
  if (!ctx.recording) return;
  for (const { cls, read } of lockClassesFor(api, args, ctx)) {
    const key = `${site.startIndex}:${cls}`;
    let a = ctx.acquireIndex.get(key);
    if (!a) {
      a = {
        cls, api: api.name, kind: api.kind, read, trylock: !!how.trylock, span: span(site), heldBefore: [],
        ...(how.declared ? { declared: true } : {}), ...((!api.sleeps && !api.atomic) || NEVER_WAITS.has(api.kind) ? { nonblocking: true } : {}),
      };
      ctx.acquireIndex.set(key, a);
      ctx.run.acquires.push(a);
    }
    for (const c of states) noteHeldBefore(a, c.s);
  }
}

/** An acquisition through a callee's lock effect (a wrapper of an embedded lock object), as recordAcquires records one. */
function recordEffectAcquire(ctx: WalkCtx, h: Omit<HeldLock, 'api' | 'site'>, api: string, call: Node, s: AState) {
  if (!ctx.recording) return;
  const key = `${call.startIndex}:${h.cls}`;
  let a = ctx.acquireIndex.get(key);
  if (!a) {
    a = { cls: h.cls, api, kind: h.kind, read: h.read, trylock: false, span: span(call), heldBefore: [], ...(NEVER_WAITS.has(h.kind) ? { nonblocking: true } : {}) };
    ctx.acquireIndex.set(key, a);
    ctx.run.acquires.push(a);
  }
  noteHeldBefore(a, s);
}

/**
 * The classes held before an acquisition on one more path: any path (heldBefore) and every path (heldAlways).
 * Spinning holders are left out: taking a sleeping lock under one is sleep-in-atomic, not a dependency.
 */
function noteHeldBefore(a: LockAcquire, s: AState) {
  const here: string[] = [];
  for (const x of s.held) if (x.cls !== a.cls && !x.atomic && !here.includes(x.cls)) here.push(x.cls);
  for (const x of here) if (!a.heldBefore.includes(x)) a.heldBefore.push(x);
  a.heldAlways = a.heldAlways === undefined ? here : a.heldAlways.filter((x) => here.includes(x));
}

/** A release of a lock this function did not take: its caller's, released here (ocfs2_fiemap_inline's up_read). */
function recordForeignRelease(ctx: WalkCtx, cls: string, site: Node) {
  if (!ctx.recording) return;
  const at = site.startIndex;
  if (!ctx.run.releases.some((r) => r.cls === cls && r.span.start === at)) ctx.run.releases.push({ cls, span: span(site) });
}

/** lockdep_assert_held(&l): the lock is held here (added when the walk has not seen it taken: a caller took it). */
function assertHeld(s: AState, api: LockApiEntry, args: Node[], site: Node, ctx: WalkCtx): AState {
  const add: HeldLock[] = [];
  for (const c of lockClassesFor(api, args, ctx)) {
    if (s.held.some((h) => h.cls === c.cls) || add.some((h) => h.cls === c.cls)) continue;
    const like = ctx.kb.lock(api.name);
    add.push({ cls: c.cls, kind: like?.kind ?? 'other', read: c.read, atomic: false, irqsOff: false, api: api.name, site: span(site) });
  }
  return add.length ? { ...s, held: [...s.held, ...add] } : s;
}

/** `__must_hold(&ip->i_lock)` between the function's name and body: held on entry. */
function mustHoldOf(fn: FunctionInfo, file: SourceFile, types: TypeEnv, contexts: LockContexts): HeldLock[] {
  const out: HeldLock[] = [];
  for (const rw of file.rewrites) {
    if (rw.kind !== 'lock-annotation' || rw.macro !== '__must_hold' || rw.start < fn.start || rw.start >= fn.body.startIndex || !rw.args?.[0]) continue;
    const cls = lockClassFromText(rw.args[0].text, types, contexts);
    if (!out.some((h) => h.cls === cls)) out.push({ cls, kind: 'other', read: false, atomic: false, irqsOff: false, api: '__must_hold', site: { start: rw.start, end: rw.end } });
  }
  return out;
}

/** Lock classes an API call names: one, or several for flag-selected APIs such as xfs_ilock(ip, A|B). */
function lockClassesFor(api: LockApiEntry, args: Node[], ctx: WalkCtx): CallLockClass[] {
  // Types are flow-insensitive, so the classes of a call are the same in every state: computed once.
  const key = `${api.name}@${args[0]?.id ?? -1}`;
  let c = ctx.classes.get(key);
  if (!c) ctx.classes.set(key, (c = lockClassesOfCall(api, args, (n) => ctx.kb.lockFlags(n), ctx.types, ctx.lockContexts)));
  return c;
}

function applyScopeApi(s: AState, op: 'save' | 'restore', api: { name: string; flags: PfFlag[] | 'arg'; family: string; cookieArg?: number }, call: Node, ctx: WalkCtx): AState {
  const args = callArgs(call);
  if (op === 'save') {
    const flags: PfFlag[] = api.flags === 'arg' ? parsePfFlags(args[0]?.text ?? '') : api.flags;
    const { storage, cookie } = cookieOf(call, ctx);
    const frame: ScopeFrame = { flags, family: api.family, api: api.name, site: span(call), storage, cookie };
    return { ...s, scopes: [...s.scopes, frame] };
  }
  const cookieNode = args[api.cookieArg ?? 0];
  const cookie = cookieNode ? normalise(cookieNode.text) : '';
  const idx = lastIndex(s.scopes, (f) => f.cookie === cookie && !f.family.startsWith('trans:'));
  if (idx < 0) {
    // A cookie kept in an object is opened elsewhere (a scope closer): interprocedural, not a finding here.
    const isLocal = ctx.types.has(cookie) && !ctx.params.has(cookie);
    if (!isLocal && ctx.recording && cookie && !ctx.run.foreignRestores.some((r) => r.cookie === cookie)) {
      ctx.run.foreignRestores.push({ cookie, family: api.family });
    }
    if (isLocal && ctx.recording) {
      const open = lastIndex(s.scopes, (f) => f.storage === 'local');
      ctx.run.scopeEvents.push(open >= 0
        ? { kind: 'restore-wrong-cookie', call: span(call), api: api.name, cookie, inner: s.scopes[open] }
        : { kind: 'restore-without-save', call: span(call), api: api.name, cookie });
    }
    return s;
  }
  const frame = s.scopes[idx];
  if (ctx.recording) {
    const innermost = lastIndex(s.scopes, (f) => !f.family.startsWith('trans:'));
    if (innermost !== idx) {
      ctx.run.scopeEvents.push({ kind: 'restore-out-of-order', call: span(call), api: api.name, cookie, save: frame, inner: s.scopes[innermost] });
    }
    if (frame.family !== api.family && api.family !== 'flags' && frame.family !== 'flags') {
      ctx.run.scopeEvents.push({ kind: 'restore-mixed-family', call: span(call), api: api.name, cookie, save: frame });
    } else if ((api.family === 'flags') !== (frame.family === 'flags')) {
      ctx.run.scopeEvents.push({ kind: 'restore-mixed-family', call: span(call), api: api.name, cookie, save: frame });
    }
  }
  return { ...s, scopes: s.scopes.filter((_, i) => i !== idx) };
}

const PF_NAMES: PfFlag[] = ['PF_MEMALLOC_NOFS', 'PF_MEMALLOC_NOIO', 'PF_MEMALLOC_PIN', 'PF_MEMALLOC'];
function parsePfFlags(text: string): PfFlag[] {
  const out: PfFlag[] = [];
  for (const m of text.matchAll(/\bPF_MEMALLOC(?:_NOFS|_NOIO|_PIN)?\b/g)) {
    const f = m[0] as PfFlag;
    if (PF_NAMES.includes(f) && !out.includes(f)) out.push(f);
  }
  return out;
}

function normalise(text: string): string {
  return text.replace(/\s+/g, '');
}

/** Where the value of a save call goes: `x = save()`, `int x = save()`, `tp->t_pflags = save()`, `return save()`. */
function cookieOf(call: Node, ctx: WalkCtx): { storage: ScopeFrame['storage']; cookie?: string } {
  let p = call.parent;
  while (p && (p.type === 'parenthesized_expression' || p.type === 'cast_expression')) p = p.parent;
  if (!p) return { storage: 'discarded' };
  if (p.type === 'init_declarator') {
    const d = p.childForFieldName('declarator');
    return { storage: 'local', cookie: d ? normalise(d.text) : undefined };
  }
  if (p.type === 'assignment_expression') {
    const left = p.childForFieldName('left');
    const text = left ? normalise(left.text) : '';
    const isLocal = left?.type === 'identifier' && ctx.types.has(text) && !ctx.params.has(text);
    return { storage: isLocal ? 'local' : 'object', cookie: text };
  }
  if (p.type === 'return_statement') return { storage: 'object', cookie: '<return>' };
  if (p.type === 'expression_statement') return { storage: 'discarded' };
  return { storage: 'object', cookie: normalise(p.text).slice(0, 80) };
}

function onAssign(n: Node, states: Counted[], ctx: WalkCtx): Counted[] {
  const left = n.childForFieldName('left');
  if (left) {
    const target = left.text.replace(/\s+/g, '');
    states = states.map((c) => ({ s: forget(c.s, target), count: c.count }));
  }
  const rhs = n.childForFieldName('right');
  if (left?.type === 'identifier' && rhs) {
    const split = fallibleResult(left.text, rhs, states, ctx);
    if (split) return split;
  }
  if (!left || left.type !== 'identifier' || !ctx.gfpLocals.has(left.text)) return states;
  const op = n.childForFieldName('operator')?.text ?? n.child(1)?.text ?? '=';
  const right = n.childForFieldName('right');
  const name = left.text;
  return flatMapStates(states, (s) => {
    const env = gfpEnv(s, ctx);
    const rv = evalGfp(right, env);
    const cur = s.vars[name] ?? symbol(name, ctx.params.has(name) ? 'param' : 'unknown');
    const values = rv.map((v) => {
      if (op === '|=') return v.sym === undefined ? setBits(cur, v.set) : symbol(`${name} | ${v.sym}`, 'unknown');
      if (op === '&=') {
        // `gfp &= ~__GFP_FS` arrives here with v = ~bits as a known mask.
        return v.sym === undefined ? clearBits(cur, ~v.set & 0x7fffffff) : symbol(`${name} & ${v.sym}`, 'unknown');
      }
      return v;
    });
    return values.map((v) => ({ ...s, vars: { ...s.vars, [name]: v } }));
  });
}

function onInitDeclarator(n: Node, states: Counted[], ctx: WalkCtx): Counted[] {
  const d = n.childForFieldName('declarator');
  const v = n.childForFieldName('value');
  if (d?.type === 'identifier' && v) {
    const split = fallibleResult(d.text, v, states, ctx);
    if (split) return split;
  }
  if (!d || !v || d.type !== 'identifier' || !ctx.gfpLocals.has(d.text)) return states;
  return flatMapStates(states, (s) => evalGfp(v, gfpEnv(s, ctx)).map((val) => ({ ...s, vars: { ...s.vars, [d.text]: val } })));
}

/** The call a variable is assigned the result of (`err = mutex_lock_killable(&l)`), when it is a fallible acquire. */
function fallibleCallOf(value: Node, ctx: WalkCtx): { call: Node; api: LockApiEntry } | undefined {
  let n: Node | null = value;
  while (n && n.type === 'parenthesized_expression') n = n.namedChild(0);
  if (!n || n.type !== 'call_expression') return undefined;
  const name = calleeName(n);
  const api = name ? ctx.kb.lock(name) : undefined;
  return api && api.op === 'acquire' && api.mayFail ? { call: n, api } : undefined;
}

/** Whether a call's result is assigned to a variable (`err = f(…)`, `int err = f(…)`). */
function assignedResult(call: Node, ctx: WalkCtx): boolean {
  let n: Node = call;
  while (n.parent?.type === 'parenthesized_expression') n = n.parent;
  const p = n.parent;
  if (!p) return false;
  if (p.type === 'assignment_expression') return p.childForFieldName('right')?.id === n.id && p.childForFieldName('left')?.type === 'identifier' && (p.childForFieldName('operator')?.text ?? '=') === '=' && ctx.correlated.has(p.childForFieldName('left')!.text);
  if (p.type === 'init_declarator') return p.childForFieldName('value')?.id === n.id && p.childForFieldName('declarator')?.type === 'identifier' && ctx.correlated.has(p.childForFieldName('declarator')!.text);
  return false;
}

/**
 * `err = mutex_lock_interruptible(&l);`: two paths from here, err != 0 without the lock and err == 0 with it, and a
 * later `if (err)` follows the one it is on.
 */
function fallibleResult(name: string, value: Node, states: Counted[], ctx: WalkCtx): Counted[] | undefined {
  if (!ctx.correlated.has(name)) return undefined;
  const f = fallibleCallOf(value, ctx);
  if (!f || !assignedResult(f.call, ctx)) return undefined;
  const out: Counted[] = [];
  for (const c of states) {
    out.push({ s: { ...c.s, conds: { ...c.s.conds, [name]: true } }, count: c.count });
    const held = applyLock(c.s, f.api, argsOf(f.call, ctx), f.call, ctx, false);
    out.push({ s: { ...held, conds: { ...held.conds, [name]: false } }, count: c.count });
  }
  return out;
}

function flatMapStates(states: Counted[], f: (s: AState) => AState[]): Counted[] {
  const out: Counted[] = [];
  for (const c of states) {
    const next = f(c.s);
    // Each alternative value is a different path split; the count stays with each (paths are not multiplied here).
    for (const s of next) out.push({ s, count: c.count });
  }
  return out;
}

function gfpEnv(s: AState, ctx: WalkCtx): GfpEnv {
  return {
    model: ctx.kb.gfp,
    variable: (name) => s.vars[name],
    isParam: (name) => ctx.params.has(name),
    maskHelper: (name) => ctx.kb.maskHelper(name),
  };
}

/** A branch condition reduced once to what assumptions can use (node access is costly; states are many). */
type CondSpec =
  | { k: 'none' }
  | { k: 'not'; of: CondSpec }
  | { k: 'var'; key: string }
  | { k: 'and' | 'or'; l: CondSpec; r: CondSpec }
  | { k: 'trylock'; api: LockApiEntry; args: Node[]; call: Node }
  /** an acquire that can fail (mutex_lock_interruptible): 0 is success, so the lock is held on the false edge */
  | { k: 'fallible'; api: LockApiEntry; args: Node[]; call: Node };

function condSpec(cond: Node, ctx: WalkCtx): CondSpec {
  let spec = ctx.conds.get(cond.id);
  if (!spec) ctx.conds.set(cond.id, (spec = buildCondSpec(cond, ctx, 0)));
  return spec;
}

function buildCondSpec(cond: Node, ctx: WalkCtx, depth: number): CondSpec {
  let n: Node | null = cond;
  while (n && (n.type === 'parenthesized_expression' || isLikely(n))) n = n.type === 'parenthesized_expression' ? n.namedChild(0) : callArgs(n)[0] ?? null;
  if (!n || depth > 32) return { k: 'none' };
  switch (n.type) {
    case 'unary_expression': {
      if ((n.childForFieldName('operator')?.text ?? n.child(0)?.text) !== '!') return { k: 'none' };
      const arg = n.childForFieldName('argument');
      return arg ? { k: 'not', of: buildCondSpec(arg, ctx, depth + 1) } : { k: 'none' };
    }
    case 'identifier':
    case 'field_expression': {
      // Only conditions that two branches test are worth remembering: a one-off condition would just split states.
      const key = n.text.replace(/\s+/g, '');
      return ctx.correlated.has(key) ? { k: 'var', key } : { k: 'none' };
    }
    case 'binary_expression': {
      const op = n.childForFieldName('operator')?.text ?? n.child(1)?.text;
      const l = n.childForFieldName('left');
      const r = n.childForFieldName('right');
      if ((op === '&&' || op === '||') && l && r) return { k: op === '&&' ? 'and' : 'or', l: buildCondSpec(l, ctx, depth + 1), r: buildCondSpec(r, ctx, depth + 1) };
      // `mutex_lock_interruptible(&m) == 0` is `!mutex_lock_interruptible(&m)`, `… != 0` the call itself, and
      // `… < 0` a failure: the same edges as the plain forms (i915's __i915_ggtt_pin takes vm->mutex this way).
      const zero = (x: Node | null) => !!x && /^0[uUlL]*$/.test(x.text.trim());
      if ((op === '==' || op === '!=') && l && r && (zero(l) || zero(r))) {
        const inner = buildCondSpec(zero(r) ? l : r, ctx, depth + 1);
        if (inner.k === 'fallible' || inner.k === 'trylock') return op === '==' ? { k: 'not', of: inner } : inner;
      }
      if (op === '<' && l && zero(r)) {
        const inner = buildCondSpec(l, ctx, depth + 1);
        if (inner.k === 'fallible') return inner;
      }
      // `x & FLAG`, `p != NULL`, `n > 0`: remembered by their text when they have no side effect.
      const text = ctx.run.file.text.slice(n.startIndex, n.endIndex);
      const key = text.replace(/\s+/g, '');
      return sideEffectFree(text) && ctx.correlated.has(key) ? { k: 'var', key } : { k: 'none' };
    }
    case 'call_expression': {
      const name = calleeName(n);
      const api = name ? ctx.kb.lock(name) : undefined;
      if (api && api.op === 'trylock') return { k: 'trylock', api, args: argsOf(n, ctx), call: n };
      if (api && api.op === 'acquire' && api.mayFail) {
        ctx.fallibleInCond.add(n.id);
        return { k: 'fallible', api, args: argsOf(n, ctx), call: n };
      }
      if (!api) {
        const key = ctx.run.file.text.slice(n.startIndex, n.endIndex).replace(/\s+/g, '');
        if (ctx.correlated.has(key) && predicateCall(key)) return { k: 'var', key };
      }
      return { k: 'none' };
    }
    default:
      return { k: 'none' };
  }
}

/**
 * Branch assumptions: `if (mutex_trylock(&l))` holds the lock on the true edge, `if (!spin_trylock(&l))` on the
 * false one; a plain variable or field condition is remembered, and an edge that contradicts a remembered value is
 * infeasible (undefined).
 */
function assume(s: AState, cond: Node, value: boolean, ctx: WalkCtx, remember: boolean): AState | undefined {
  return assumeSpec(s, condSpec(cond, ctx), value, ctx, remember);
}

/** `remember` is off for loop conditions: their variables change every iteration (`i++` is not tracked). */
function assumeSpec(s: AState, c: CondSpec, value: boolean, ctx: WalkCtx, remember: boolean): AState | undefined {
  switch (c.k) {
    case 'none':
      return s;
    case 'not':
      return assumeSpec(s, c.of, !value, ctx, remember);
    case 'var': {
      if (!remember) return s;
      const known = s.conds[c.key];
      if (known !== undefined) return known === value ? s : undefined;
      return { ...s, conds: { ...s.conds, [c.key]: value } };
    }
    case 'and':
    case 'or': {
      // Only the edge on which both sides are known: && true, || false.
      if ((c.k === 'and') !== value) return s;
      const a = assumeSpec(s, c.l, value, ctx, remember);
      return a && assumeSpec(a, c.r, value, ctx, remember);
    }
    case 'trylock':
      return value ? applyLock(s, c.api, c.args, c.call, ctx, false) : s;
    case 'fallible':
      return value ? s : applyLock(s, c.api, c.args, c.call, ctx, false);
  }
}

function isLikely(n: Node): boolean {
  if (n.type !== 'call_expression') return false;
  const f = calleeName(n);
  return f === 'likely' || f === 'unlikely';
}

/** An assignment to `x` (or `x->f`, `x.f`) forgets every remembered condition that mentions it. */
function forget(s: AState, target: string): AState {
  const keys = Object.keys(s.conds);
  if (!keys.length) return s;
  // `vma->vm_end = …` forgets what is known of vma->vm_end (and below it), not of vma->anon_vma; `vma = …` forgets
  // everything known of vma.
  const base = /^[A-Za-z_]\w*(?:(?:->|\.)[A-Za-z_]\w*)*$/.test(target) ? target : /^[A-Za-z_]\w*/.exec(target)?.[0];
  if (!base) return s;
  // The key mentions `base` as a whole word (no RegExp built from it: an identifier can be very long).
  const mentions = (k: string) => !wordOccurrences(k, base).next().done;
  const hit = keys.filter(mentions);
  if (!hit.length) return s;
  const conds = { ...s.conds };
  for (const k of hit) delete conds[k];
  return { ...s, conds };
}

function recordSite(call: Node, name: string, entry: NonNullable<ReturnType<KbView['allocator']>>, states: Counted[], ctx: WalkCtx) {
  if (!ctx.recording) return;
  const args = argsOf(call, ctx);
  const m = ctx.kb.gfp;
  let gfpNode: Node | undefined;
  if (entry.gfpArg !== undefined) {
    const idx = entry.gfpArg === 'last' ? args.length - 1 : entry.gfpArg;
    gfpNode = args[idx];
    if (entry.optional && entry.gfpArg === 'last' && args.length <= 1) gfpNode = undefined;
  }
  let site = ctx.siteIndex.get(call.startIndex);
  if (!site) {
    const callee = call.childForFieldName('function')!;
    site = {
      api: name, entry, function: ctx.run.fn.name, call: span(call), callee: span(callee),
      gfpArg: gfpNode ? span(gfpNode) : undefined, literalText: gfpNode ? gfpNode.text : entry.implicit ?? '', paths: [], gfpNode, callNode: call,
    };
    ctx.siteIndex.set(call.startIndex, site);
    ctx.run.sites.push(site);
  }
  // `atomic ? GFP_ATOMIC : GFP_KERNEL` with `atomic` a parameter: each branch's values with the parameter's value.
  const branches = gfpNode ? paramTernary(gfpNode, ctx) : undefined;
  for (const c of states) {
    let literals: GfpVal[];
    const whens: (SitePath['when'] | undefined)[] = [];
    if (branches) {
      literals = [];
      for (const b of branches) for (const v of evalGfp(b.node, gfpEnv(c.s, ctx))) {
        literals.push(v);
        whens.push(b.when);
      }
    } else if (gfpNode) literals = evalGfp(gfpNode, gfpEnv(c.s, ctx));
    else if (entry.implicit) literals = [known(m.lookup(entry.implicit) ?? 0)];
    else literals = [symbol('?', 'unknown')];
    const lookupAll = (names?: string[]) => (names ?? []).reduce((acc, b) => acc | (m.lookup(b) ?? 0), 0);
    for (const [li, literal] of literals.entries()) {
      // Reference §b.4: the mapping's mask (when the API derives from it), then the API's own adjustments.
      let v = literal;
      if (entry.mapping) {
        const mapArg = args[entry.mapping.arg];
        const base = symbol(`mapping_gfp_mask(${mapArg ? mapArg.text.replace(/\s+/g, '') : '?'})`, 'mapping');
        v = entry.mapping.mode === 'mask' ? base : andVal(base, v);
      }
      v = setBits(v, lookupAll(entry.adds));
      v = clearBits(v, lookupAll(entry.clears));
      const effective = applyScopeVal(v, scopeFlags(c.s), m);
      const when = whens[li];
      site.paths.push({ ...pathFacts(c), ...(when ? { when } : {}), literal, requested: v, effective });
    }
  }
}

/** The branches of a gfp argument `p ? A : B` whose condition is a plain test of an unassigned parameter. */
function paramTernary(arg: Node, ctx: WalkCtx): { node: Node; when: { param: number; truthy: boolean } }[] | undefined {
  let n: Node | null = arg;
  while (n && n.type === 'parenthesized_expression') n = n.namedChild(0);
  if (!n || n.type !== 'conditional_expression') return undefined;
  const cond = n.childForFieldName('condition');
  const a = n.childForFieldName('consequence');
  const b = n.childForFieldName('alternative');
  if (!cond || !a || !b) return undefined;
  // The same plain tests as the parameter guards' (`atomic`, `!atomic`, `gfp_wait == false`); not a flag bit.
  const test = simpleTest(ctx.run.file.text.slice(cond.startIndex, cond.endIndex));
  if (!test || test.flag) return undefined;
  const { truthy } = test;
  const param = (ctx.paramOf ??= paramResolver(ctx.run.fn, ctx.run.file.text))(test.name);
  if (param === undefined) return undefined;
  return [{ node: a, when: { param, truthy } }, { node: b, when: { param, truthy: !truthy } }];
}
