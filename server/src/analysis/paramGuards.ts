// Branches decided by a parameter: `if (!swap) nfs_start_io_direct(inode);`, `if (!flush) goto out_unlock;`.
// A caller that passes a constant for the parameter (`nfs_file_direct_write(iocb, iter, true)` from the swap path,
// `__btree_node_reclaim(c, b, false, …)` from the shrinker) never runs the code the test keeps it out of. The reclaim
// and fault paths (deadlock/takes.ts) use these guards with the constant arguments recorded at call sites to drop
// paths no caller on the way can take. Only plain truth tests of a parameter the function never assigns count: `p`,
// `!p`, `p == NULL`, `p != 0`, `false`/`true` comparisons, alone or joined by `&&` for the branch they guard.
import type { Node } from 'web-tree-sitter';
import type { FunctionInfo } from '../syntax/ast';
import type { SourceFile } from '../syntax/sourceFile';
import type { ArgConst, FunctionFacts, ParamGuard } from './facts';
import { enclosingIf, ifConditions, leavesFunction, splitTop, stripOuter } from './gates';
import { isWordAt, wordOccurrences } from './words';

const SIMPLE = /^([A-Za-z_]\w*)(?:\s*(==|!=)\s*(NULL|0|false|true|1))?$/;
const FLAG_TEST = /^([a-z_]\w*)\s*&\s*([A-Z][A-Z0-9_]*)$/;
const FLAG_NAMES = /^\(?\s*[A-Z][A-Z0-9_]*(?:\s*\|\s*[A-Z][A-Z0-9_]*)*\s*\)?$/;
const LABEL = /^[ \t]*(?!default\b)[A-Za-z_]\w*[ \t]*:(?!:)/m;

/**
 * A simple truth test of one name: the name and whether the test is true when the name's value is truthy; or of one
 * flag bit of it (`flags & I915_ACTIVE_AWAIT_BARRIER`).
 */
export function simpleTest(part: string): { name: string; truthy: boolean; flag?: string } | undefined {
  let s = stripOuter(part);
  let neg = false;
  while (s.startsWith('!') && !s.startsWith('!=')) {
    neg = !neg;
    s = stripOuter(s.slice(1));
  }
  const f = FLAG_TEST.exec(s);
  if (f) return { name: f[1], truthy: !neg, flag: f[2] };
  const m = SIMPLE.exec(s);
  if (!m) return undefined;
  let truthy = !neg;
  if (m[2]) {
    const constTruthy = m[3] === 'true' || m[3] === '1';
    // `p == 0` is true when p is falsy; `p != 0` when truthy; `p == true` when truthy.
    const eqTruthy = m[2] === '==' ? constTruthy : !constTruthy;
    truthy = neg ? !eqTruthy : eqTruthy;
  }
  return { name: m[1], truthy };
}

export function paramGuardsOf(fn: FunctionInfo, file: SourceFile): ParamGuard[] {
  const text = file.text;
  const out: ParamGuard[] = [];
  const paramIndex = paramResolver(fn, text);
  for (const { at, open, close } of ifConditions(fn, file)) {
    const cond = stripOuter(text.slice(open, close));
    // `a && b`: both hold in the branch; `a || b`: neither holds in the else branch or after a branch that leaves.
    const ands = splitTop(cond, '&&');
    const ors = ands && ands.length > 1 ? undefined : splitTop(cond, '||');
    const testsOf = (parts: string[] | undefined) => {
      const tests: { param: number; truthy: boolean; flag?: string }[] = [];
      for (const p of parts ?? []) {
        const s = simpleTest(p);
        const i = s && paramIndex(s.name);
        if (s && i !== undefined) tests.push({ param: i, truthy: s.truthy, ...(s.flag ? { flag: s.flag } : {}) });
      }
      return tests;
    };
    const inBranch = testsOf(ands);
    // The negation of a single test or of a disjunction's tests holds on the other side.
    const otherSide = ors ? testsOf(ors).map((t) => ({ ...t, truthy: !t.truthy })) : [];
    if (!inBranch.length && !otherSide.length) continue;
    const ifNode = enclosingIf(fn.body, at);
    if (!ifNode) continue;
    const consequence = ifNode.childForFieldName('consequence');
    if (!consequence) continue;
    for (const g of inBranch) out.push({ region: { start: consequence.startIndex, end: consequence.endIndex }, ...g });
    if (!otherSide.length) continue;
    const alt = ifNode.childForFieldName('alternative');
    const altBody = alt && (alt.type === 'else_clause' ? alt.namedChildren.find((c) => c !== null && c.type !== 'comment') ?? null : alt);
    const rest = leavesFunction(consequence) ? restOfBlock(ifNode, text) : undefined;
    for (const g of otherSide) {
      if (altBody) out.push({ region: { start: altBody.startIndex, end: altBody.endIndex }, ...g });
      if (rest) out.push({ region: rest, ...g });
    }
  }
  return out;
}

/** The statements after `n` in its block, up to the first label (a jump may enter there); undefined if none. */
function restOfBlock(n: Node, text: string): { start: number; end: number } | undefined {
  const parent = n.parent;
  if (!parent || (parent.type !== 'compound_statement' && parent.type !== 'case_statement')) return undefined;
  const from = n.endIndex;
  let to = parent.type === 'compound_statement' ? parent.endIndex - 1 : parent.endIndex;
  if (to <= from) return undefined;
  const m = LABEL.exec(text.slice(from, to));
  if (m) to = from + m.index;
  return to > from ? { start: from, end: to } : undefined;
}

/** An argument as written: a constant, or-ed flag names, or a plain identifier (resolved to a parameter by the caller). */
export interface RawArg {
  index: number;
  truthy?: boolean;
  flags?: string[];
  ident?: string;
}

/**
 * The arguments of a call, whose argument list starts at or after `from`, that can decide a callee's tests:
 * `f(a, true, NULL)`, `f(x, A_FLAG | B_FLAG)`, and plain identifiers (`f(flags)`).
 */
export function constArgsAt(text: string, from: number, limit: number): RawArg[] | undefined {
  let i = from;
  const max = Math.min(limit, text.length);
  while (i < max && text[i] !== '(') {
    if (text[i] === ';' || text[i] === '{') return undefined;
    i++;
  }
  if (i >= max) return undefined;
  let out: RawArg[] | undefined;
  let depth = 0;
  let argStart = i + 1;
  let index = 0;
  for (let j = i + 1; j < max; j++) {
    const ch = text[j];
    if (ch === '"' || ch === '\'') {
      // skip a string or character literal
      for (j++; j < max && text[j] !== ch; j++) if (text[j] === '\\') j++;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if ((ch === ')' || ch === ']' || ch === '}') && depth > 0) depth--;
    else if ((ch === ',' && depth === 0) || ch === ')') {
      const arg = text.slice(argStart, j).trim();
      const v = constTruth(arg);
      if (v !== undefined) (out ??= []).push({ index, truthy: v });
      else if (FLAG_NAMES.test(arg)) (out ??= []).push({ index, flags: arg.replace(/[()\s]/g, '').split('|') });
      else if (/^[a-z_]\w{0,255}$/.test(arg)) (out ??= []).push({ index, ident: arg });
      if (ch === ')') return out;
      index++;
      argStart = j + 1;
    }
  }
  return out;
}

function constTruth(arg: string): boolean | undefined {
  if (arg === 'true') return true;
  if (arg === 'false' || arg === 'NULL') return false;
  if (/^(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*$/.test(arg)) return Number.parseInt(arg, arg.startsWith('0x') || arg.startsWith('0X') ? 16 : 10) !== 0;
  return undefined;
}

export type Need = { param: number; truthy: boolean; flag?: string };
export type Needs = readonly Need[];
export type Consts = readonly ArgConst[];

/** The parameter values the code at an offset of a function needs (its paramGuards); undefined when none. */
export function needsAt(facts: Pick<FunctionFacts, 'paramGuards'>, at: number): Needs | undefined {
  let out: Need[] | undefined;
  for (const g of facts.paramGuards ?? []) {
    if (at < g.region.start || at >= g.region.end) continue;
    if (!out) out = [];
    if (!out.some((n) => n.param === g.param && n.flag === g.flag)) out.push({ param: g.param, truthy: g.truthy, ...(g.flag ? { flag: g.flag } : {}) });
  }
  return out;
}

/**
 * Whether the arguments give some needed parameter the other value: a constant of the other truth, or flag names
 * without (with) the tested flag. Distinct flag names are taken to be distinct bits (a composite name that includes
 * the tested bit would make a path look impossible: the analysis may then miss it, never invent one).
 */
export function contradicts(needs: Needs | undefined, consts: Consts | undefined): boolean {
  if (!needs || !consts) return false;
  return needs.some((n) => consts.some((c) => {
    if (c.index !== n.param) return false;
    if (n.flag) {
      if (c.flags) return c.flags.includes(n.flag) !== n.truthy;
      return c.truthy === false && n.truthy; // 0: no flag set
    }
    return c.truthy !== undefined && c.truthy !== n.truthy;
  }));
}

/**
 * The needs of a callee's path seen from its caller: a need on a parameter the call passes one of the caller's
 * own parameters to becomes a need on that one (`i915_sw_fence_await_active(…, flags)` → `await_active(ref, flags, …)`).
 */
export function translateNeeds(needs: Needs | undefined, consts: Consts | undefined): Need[] {
  const out: Need[] = [];
  if (!needs || !consts) return out;
  for (const n of needs) {
    const c = consts.find((x) => x.index === n.param && x.param !== undefined);
    if (c) out.push({ ...n, param: c.param! });
  }
  return out;
}

/** The key of some needs, for maps. */
export const needsKey = (needs: Needs | undefined) => (needs ? needs.map((n) => `|${n.param}${n.flag ? `&${n.flag}` : ''}${n.truthy ? '+' : '-'}`).join('') : '');

/** The key of some argument constants, for maps. */
export const constsKey = (c: Consts | undefined) => (c ? c.map((x) => `${x.index}${x.truthy === undefined ? '' : x.truthy ? '+' : '-'}${x.flags ? `=${x.flags.join('|')}` : ''}`).join(',') : '');

/**
 * A function's raw arguments with identifiers resolved against its parameters (`paramIndex`): other identifiers,
 * which say nothing about the callee's tests, are dropped.
 */
export function resolveArgs(raw: RawArg[] | undefined, paramIndex: (name: string) => number | undefined): ArgConst[] | undefined {
  if (!raw) return undefined;
  const out: ArgConst[] = [];
  for (const a of raw) {
    if (a.ident !== undefined) {
      const p = paramIndex(a.ident);
      if (p !== undefined) out.push({ index: a.index, param: p });
    } else out.push(a.flags ? { index: a.index, flags: a.flags } : { index: a.index, truthy: a.truthy });
  }
  return out.length ? out : undefined;
}

/**
 * A function's parameter index by name, for parameters passed on unchanged: a name not in the function's head, or
 * assigned (or its address taken) in the body, resolves to nothing. Cheap for the common case (no parameter
 * passed on): the head's identifiers are read once, the parameter nodes only when one matches.
 */
export function paramResolver(fn: FunctionInfo, text: string): (name: string) => number | undefined {
  let head: Set<string> | undefined;
  let params: Map<string, number> | undefined;
  const memo = new Map<string, number | undefined>();
  return (name) => {
    if (memo.has(name)) return memo.get(name);
    head ??= new Set(text.slice(fn.start, fn.body.startIndex).match(/[A-Za-z_]\w*/g) ?? []);
    let r: number | undefined;
    if (head.has(name) && name.length <= 256) {
      params ??= new Map(fn.params.map((p, i) => [p.name, i]));
      r = params.get(name);
      if (r !== undefined && assignedIn(text.slice(fn.body.startIndex, fn.body.endIndex), name)) r = undefined;
    }
    memo.set(name, r);
    return r;
  };
}

/**
 * Whether the body assigns `name` (`=`, a compound assignment, `++`/`--` either side) or takes its address after
 * `(`, `,`, `=` or `return`. Scans only the name's occurrences (a RegExp per name over the whole body was 6% of the
 * analysis of fs + mm).
 */
export function assignedIn(body: string, name: string): boolean {
  const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
  for (const i of wordOccurrences(body, name)) {
    // After: `name =` (not `==`), `name op=`, `name <<=`, `name ++`.
    let j = i + name.length;
    while (isSpace(body.charCodeAt(j))) j++;
    const a = body[j];
    const b = body[j + 1];
    if (a === '=' && b !== '=') return true;
    if (a !== undefined && '-+*/%&|^'.includes(a) && b === '=' && body[j + 2] !== '=') return true;
    if ((a === '<' || a === '>') && b === a && body[j + 2] === '=' && body[j + 3] !== '=') return true;
    if ((a === '+' || a === '-') && b === a) return true;
    // Before: `++ name`, `& name` after `(`, `,`, `=` or `return`.
    let k = i - 1;
    while (k >= 0 && isSpace(body.charCodeAt(k))) k--;
    if (k >= 1 && (body[k] === '+' || body[k] === '-') && body[k - 1] === body[k]) return true;
    if (k >= 0 && body[k] === '&') {
      let m = k - 1;
      while (m >= 0 && isSpace(body.charCodeAt(m))) m--;
      if (m >= 0 && '(,='.includes(body[m])) return true;
      if (m >= 5 && body.slice(m - 5, m + 1) === 'return' && !isWordAt(body, m - 6)) return true;
    }
  }
  return false;
}
