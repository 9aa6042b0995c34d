// Reclaim gates: tests in reclaim and fault callbacks that keep reclaim out of the code after (or inside) them.
// `if (!(sc->gfp_mask & __GFP_FS)) return SHRINK_STOP;` admits only allocations whose mask has __GFP_FS to the rest
// of the shrinker; `if (current->flags & PF_MEMALLOC) return;` keeps reclaim out altogether. Which tokens gate, and
// what they mean, is knowledge-base data (reclaimGates); this file reads the conditions.
import type { Node } from 'web-tree-sitter';
import type { FunctionInfo } from '../syntax/ast';
import type { SourceFile } from '../syntax/sourceFile';
import type { Gate } from './facts';
import type { KbView } from './kbView';
import { tokensOf, TK } from './tokens';

const IDENT = /[A-Za-z_]\w*/g;

export function gatesOf(fn: FunctionInfo, file: SourceFile, kb: KbView): Gate[] {
  const text = file.text;
  const start = fn.body.startIndex;
  const end = fn.body.endIndex;
  const tokens = tokensOf(file);
  const cls = tokens.classes(kb);
  const [lo, hi] = tokens.range(start, end);
  let any = false;
  for (let i = lo; i < hi && !any; i++) any = (cls[tokens.ids[i]] & TK.gate) !== 0;
  if (!any) return [];
  const out: Gate[] = [];
  for (const { at, open, close } of ifConditions(fn, file)) {
    const cond = boolLocal(text.slice(open, close), text, fn.body.startIndex, fn.body.endIndex);
    const tokens = [...cond.matchAll(IDENT)].map((t) => t[0]).filter((t) => kb.reclaimGate(t));
    if (!tokens.length) continue;
    const ifNode = enclosingIf(fn.body, at);
    if (!ifNode) continue;
    const consequence = ifNode.childForFieldName('consequence');
    if (!consequence) continue;
    const leaves = leavesFunction(consequence);
    const parts = splitTop(stripOuter(cond), leaves ? '||' : '&&');
    if (!parts) continue; // `a && b` guarding a return (or `a || b` guarding a body) says nothing about a or b alone
    const region = leaves ? { start: ifNode.endIndex, end } : { start: consequence.startIndex, end: consequence.endIndex };
    const site = { start: open, end: close };
    for (const part of parts) {
      const negated = negationOf(part);
      for (const t of new Set([...part.matchAll(IDENT)].map((x) => x[0]))) {
        const g = kb.reclaimGate(t);
        if (!g) continue;
        // What must be true of the token's test for reclaim to be in the region.
        const mustHold = leaves ? negated : !negated;
        const gate: Gate = { region, site, token: t };
        if (g.meaning === 'gfp-bits' && mustHold && g.bits?.length) gate.requires = [...g.bits];
        else if (g.meaning === 'in-reclaim' && !mustHold) gate.excluded = true;
        else if (g.meaning === 'kswapd' && mustHold) gate.kswapdOnly = true;
        else if (g.meaning === 'blockable' && !mustHold) gate.excluded = true;
        else if (g.meaning === 'unlinked-inode' && !mustHold) gate.rare = 'only for an inode with no links left (i_nlink == 0), which the shrinkers rarely evict';
        else continue;
        out.push(gate);
      }
    }
  }
  return out;
}

/**
 * The `if` statements of a function body, from the file's token index: where each starts, and its condition's text
 * range (after its '(' up to its ')'). Shared by the reclaim gates and the parameter guards (paramGuards.ts).
 */
export function* ifConditions(fn: FunctionInfo, file: SourceFile): Generator<{ at: number; open: number; close: number }> {
  const text = file.text;
  const end = fn.body.endIndex;
  const tokens = tokensOf(file);
  const [lo, hi] = tokens.range(fn.body.startIndex, end);
  for (let t = lo; t < hi; t++) {
    if (tokens.names[tokens.ids[t]] !== 'if') continue;
    const at = tokens.starts[t];
    let open = at + 2;
    while (open < end && /\s/.test(text[open])) open++;
    if (text[open] !== '(') continue;
    const close = matchParen(text, open + 1, end);
    if (close >= 0) yield { at, open: open + 1, close };
  }
}

/** The offset of the ')' closing the '(' just before `from`, or -1. */
export function matchParen(text: string, from: number, limit: number): number {
  let depth = 1;
  for (let i = from; i < limit; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  return -1;
}

export function enclosingIf(body: Node, at: number): Node | undefined {
  for (let n: Node | null = body.descendantForIndex(at, at + 2); n && n.startIndex >= body.startIndex; n = n.parent) {
    if (n.type === 'if_statement' && n.startIndex === at) return n;
    if (n.startIndex < at) break;
  }
  return undefined;
}

/** The branch leaves the function (or jumps to its exit label): `return …;`, `goto out;`, or a block ending so. */
export function leavesFunction(n: Node): boolean {
  if (n.type === 'return_statement' || n.type === 'goto_statement') return true;
  if (n.type !== 'compound_statement') return false;
  for (let i = n.namedChildCount - 1; i >= 0; i--) {
    const c = n.namedChild(i);
    if (!c || c.type === 'comment') continue;
    return c.type === 'return_statement' || c.type === 'goto_statement';
  }
  return false;
}

/** Strips outer parentheses and likely()/unlikely(). */
export function stripOuter(c: string): string {
  let s = c.trim();
  for (;;) {
    const m = /^(?:(?:un)?likely\s*)?\(([\s\S]*)\)$/.exec(s);
    if (!m || matchParen(s, s.indexOf('(') + 1, s.length) !== s.length - 1) return s;
    s = m[1].trim();
  }
}

/** The condition's operands at the top level of `op`; undefined when the other operator is also at the top level. */
export function splitTop(c: string, op: '&&' | '||'): string[] | undefined {
  const other = op === '&&' ? '||' : '&&';
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < c.length; i++) {
    const ch = c[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && c.startsWith(other, i)) return undefined;
    else if (depth === 0 && c.startsWith(op, i)) {
      parts.push(c.slice(from, i));
      from = i + 2;
      i++;
    }
  }
  parts.push(c.slice(from));
  return parts.map((p) => p.trim());
}

/** Whether an operand is true when its token's test fails: `!(x & F)`, `!f()`, `(x & F) != F`, `(x & F) == 0`. */
function negationOf(part: string): boolean {
  let s = stripOuter(part);
  let neg = false;
  while (s.startsWith('!') && !s.startsWith('!=')) {
    neg = !neg;
    s = stripOuter(s.slice(1));
  }
  const top = topLevel(s);
  if (/!=/.test(top)) neg = !neg;
  else if (/==\s*0\b/.test(top)) neg = !neg;
  return neg;
}

/** The text outside any parentheses. */
function topLevel(s: string): string {
  let out = '';
  let depth = 0;
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}

/**
 * A condition that tests a local boolean initialised once from a gate's test (`bool delete = !inode->v.i_nlink &&
 * !is_bad_inode(&inode->v); … if (delete) …`, bcachefs) reads as that test; any other condition as written.
 */
function boolLocal(cond: string, text: string, start: number, end: number): string {
  const m = /^\s*(!?)\s*([A-Za-z_]\w{0,63})\s*$/.exec(cond);
  if (!m) return cond;
  const body = text.slice(start, end);
  const decl = new RegExp(`\\bbool\\s+${m[2]}\\s*=\\s*([^;]+);`).exec(body);
  if (!decl) return cond;
  // Assigned again later: the test is no longer the initialiser's.
  if (new RegExp(`\\b${m[2]}\\s*=[^=]`, 'g').test(body.slice(decl.index + decl[0].length))) return cond;
  return `${m[1]}(${decl[1]})`;
}
