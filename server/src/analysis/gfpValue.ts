// Symbolic gfp values: a known mask, or a symbol (a caller's `gfp`, `mapping_gfp_mask(m)`, `sc->gfp_mask`)
// with bits known to be set and bits known to be clear. The effective-mask pipeline (reference §b.4) is applied to
// these values so that "from caller `gfp` & ~__GFP_FS" stays exact until the calling context is known.
import type { Node } from 'web-tree-sitter';
import { REAL_BITS, type GfpModel, type Mask } from '../model/gfp';
import type { MaskHelperEntry, PfFlag } from '../model/kb/types';

export interface GfpVal {
  /** undefined: the whole value is known and is `set` */
  sym?: string;
  /** where the symbol comes from: a parameter of this function, a mapping, another expression */
  symKind?: 'param' | 'mapping' | 'expr' | 'unknown';
  set: Mask;
  clear: Mask;
}

export const known = (m: Mask): GfpVal => ({ set: m, clear: 0 });
export const symbol = (sym: string, symKind: GfpVal['symKind']): GfpVal => ({ sym, symKind, set: 0, clear: 0 });

export function orVal(a: GfpVal, b: GfpVal): GfpVal {
  if (a.sym === undefined && b.sym === undefined) return known(a.set | b.set);
  if (a.sym !== undefined && b.sym !== undefined) {
    if (a.sym === b.sym) return { ...a, set: a.set | b.set, clear: a.clear & b.clear };
    return symbol(`(${a.sym}) | (${b.sym})`, 'unknown');
  }
  const [s, k] = a.sym !== undefined ? [a, b] : [b, a];
  return { ...s, set: s.set | k.set, clear: s.clear & ~k.set };
}

export function andVal(a: GfpVal, b: GfpVal): GfpVal {
  if (a.sym === undefined && b.sym === undefined) return known(a.set & b.set);
  if (a.sym !== undefined && b.sym !== undefined) {
    if (a.sym === b.sym) return { ...a, set: a.set & b.set, clear: a.clear | b.clear };
    return symbol(`(${a.sym}) & (${b.sym})`, 'unknown');
  }
  const [s, k] = a.sym !== undefined ? [a, b] : [b, a];
  return { ...s, set: s.set & k.set, clear: s.clear | ~k.set };
}

export function clearBits(v: GfpVal, bits: Mask): GfpVal {
  return v.sym === undefined ? known(v.set & ~bits) : { ...v, set: v.set & ~bits, clear: v.clear | bits };
}

export function setBits(v: GfpVal, bits: Mask): GfpVal {
  return v.sym === undefined ? known(v.set | bits) : { ...v, set: v.set | bits, clear: v.clear & ~bits };
}

export function sameVal(a: GfpVal, b: GfpVal): boolean {
  return a.sym === b.sym && a.set === b.set && (a.sym === undefined || (a.clear & ALL) === (b.clear & ALL));
}

/** Three-valued bit test. */
export type Tri = 'yes' | 'no' | 'maybe';
export function hasBit(v: GfpVal, bit: Mask): Tri {
  if (v.set & bit) return 'yes';
  if (v.sym === undefined || (v.clear & bit) === bit) return 'no';
  return 'maybe';
}

const ALL = 0x7fffffff;

/** Kernel notation: `GFP_NOFS|__GFP_ZERO`, or `gfp & ~__GFP_FS`, `mapping_gfp_mask(mapping) | __GFP_ZERO`. */
export function renderVal(v: GfpVal, model: GfpModel): string {
  if (v.sym === undefined) return model.render(v.set);
  let s = v.sym;
  const clear = v.clear & ALL & ~v.set;
  if (v.set) s = `${s} | ${model.bitNames(v.set).join(' | ')}`;
  if (clear) {
    // `mapping_gfp_constraint(m, GFP_KERNEL)` clears everything but three bits: say `& GFP_KERNEL`, not `& ~(…)`.
    const keep = REAL_BITS & ~clear;
    const popcount = (x: number) => { let n = 0; for (; x; x &= x - 1) n++; return n; };
    if (popcount(keep) < popcount(clear & REAL_BITS)) return `${v.set ? `(${s})` : s} & ${keep ? model.render(keep) : '0'}`;
    const names = model.bitNames(clear);
    s = `${v.set ? `(${s})` : s} & ~${names.length > 1 ? `(${names.join(' | ')})` : names[0]}`;
  }
  return s;
}

export interface GfpEnv {
  model: GfpModel;
  /** value of a gfp_t local or parameter in the current state */
  variable(name: string): GfpVal | undefined;
  /** for parameters that are not (yet) in the state */
  isParam(name: string): boolean;
  /** knowledge base: helpers that return a mapping-derived mask (mapping_gfp_mask, mapping_gfp_constraint, …) */
  maskHelper(name: string): MaskHelperEntry | undefined;
}

/**
 * Evaluates a gfp expression. Returns several values when the expression is a ternary (each arm), never throws.
 * Unknown identifiers become symbols named after their text.
 */
export function evalGfp(node: Node | null, env: GfpEnv, depth = 0): GfpVal[] {
  if (!node || depth > 64) return [symbol('?', 'unknown')];
  const m = env.model;
  switch (node.type) {
    case 'parenthesized_expression':
      return evalGfp(node.namedChild(0), env, depth + 1);
    case 'cast_expression':
      return evalGfp(node.childForFieldName('value'), env, depth + 1);
    case 'number_literal': {
      const n = parseCNumber(node.text);
      return n === undefined ? [symbol(node.text, 'unknown')] : [known(m.fromNumber(n))];
    }
    case 'identifier': {
      const name = node.text;
      const v = env.variable(name);
      if (v) return [v];
      const c = m.lookup(name);
      if (c !== undefined) return [known(c)];
      if (env.isParam(name)) return [symbol(name, 'param')];
      return [symbol(name, 'unknown')];
    }
    case 'field_expression':
      return [symbol(node.text.replace(/\s+/g, ''), 'expr')];
    case 'conditional_expression': {
      const a = evalGfp(node.childForFieldName('consequence'), env, depth + 1);
      const b = evalGfp(node.childForFieldName('alternative'), env, depth + 1);
      return dedupe([...a, ...b]);
    }
    case 'unary_expression': {
      const op = node.childForFieldName('operator')?.text ?? node.child(0)?.text;
      const arg = node.childForFieldName('argument');
      if (op === '~') {
        const vs = evalGfp(arg, env, depth + 1);
        return vs.map((v) => (v.sym === undefined ? known(~v.set & ALL) : symbol(`~${v.sym}`, 'unknown')));
      }
      return [symbol(node.text, 'unknown')];
    }
    case 'binary_expression': {
      const op = node.childForFieldName('operator')?.text ?? node.child(1)?.text;
      const l = node.childForFieldName('left');
      const r = node.childForFieldName('right');
      if (op !== '|' && op !== '&') return [symbol(node.text, 'unknown')];
      // `x & ~BITS` keeps the complement symbolic-friendly: clear BITS from x.
      if (op === '&' && r && r.type === 'unary_expression' && (r.childForFieldName('operator')?.text ?? r.child(0)?.text) === '~') {
        const bits = evalGfp(r.childForFieldName('argument'), env, depth + 1);
        const left = evalGfp(l, env, depth + 1);
        if (bits.every((b) => b.sym === undefined)) {
          return dedupe(left.flatMap((lv) => bits.map((b) => clearBits(lv, b.set))));
        }
      }
      const lv = evalGfp(l, env, depth + 1);
      const rv = evalGfp(r, env, depth + 1);
      const out: GfpVal[] = [];
      for (const a of lv) for (const b of rv) out.push(op === '|' ? orVal(a, b) : andVal(a, b));
      return dedupe(out);
    }
    case 'call_expression': {
      const fn = node.childForFieldName('function')?.text;
      const args = (node.childForFieldName('arguments')?.namedChildren ?? []).filter((c): c is Node => !!c && c.type !== 'comment');
      const helper = fn ? env.maskHelper(fn) : undefined;
      const mapping = helper ? args[helper.mappingArg] : undefined;
      if (helper && mapping) {
        const base = symbol(`mapping_gfp_mask(${mapping.text})`, 'mapping');
        const adds = (helper.adds ?? []).reduce((acc, b) => acc | (m.lookup(b) ?? 0), 0);
        const values = helper.gfpArg === undefined ? [base] : evalGfp(args[helper.gfpArg] ?? null, env, depth + 1).map((v) => andVal(base, v));
        return dedupe(values.map((v) => setBits(v, adds)));
      }
      return [symbol(node.text.replace(/\s+/g, ' '), 'expr')];
    }
    default:
      return [symbol(node.text.replace(/\s+/g, ' '), 'unknown')];
  }
}

function dedupe(vs: GfpVal[]): GfpVal[] {
  const out: GfpVal[] = [];
  for (const v of vs) if (!out.some((o) => sameVal(o, v))) out.push(v);
  return out.slice(0, 8);
}

export function parseCNumber(text: string): number | undefined {
  const t = text.replace(/[uUlL]+$/, '');
  const n = /^0[xX][0-9a-fA-F]+$/.test(t) ? parseInt(t, 16) : /^0[0-7]*$/.test(t) ? parseInt(t, 8) : /^[1-9][0-9]*$/.test(t) ? parseInt(t, 10) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** current_gfp_context(): NOIO wins over NOFS; PIN clears __GFP_MOVABLE (include/linux/sched/mm.h). */
export function applyScopeVal(v: GfpVal, flags: readonly PfFlag[], model: GfpModel): GfpVal {
  const bit = (n: string) => model.lookup(n) ?? 0;
  let out = v;
  if (flags.includes('PF_MEMALLOC_NOIO')) out = clearBits(out, bit('__GFP_IO') | bit('__GFP_FS'));
  else if (flags.includes('PF_MEMALLOC_NOFS')) out = clearBits(out, bit('__GFP_FS'));
  if (flags.includes('PF_MEMALLOC_PIN')) out = clearBits(out, bit('__GFP_MOVABLE'));
  return out;
}
