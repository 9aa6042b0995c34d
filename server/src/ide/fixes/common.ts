// Helpers shared by the fix builders: gfp expressions written as an OR of names, refusals, lock classes of calls.
import type { Node } from 'web-tree-sitter';
import type { Finding } from '../../analysis/facts';
import type { KbView } from '../../analysis/kbView';
import type { PfFlag } from '../../model/kb/types';
import { lockClassesOfCall, type TypeEnv } from '../../analysis/lockClass';
import { collectDeclarations, type FunctionInfo, type VarDecl } from '../../syntax/ast';
import type { TextEdit } from './edits';
import { callArgs, calleeName } from '../../syntax/ast';
import type { FixKind, Refusal } from './types';

export function refuse(target: Finding, reason: string, kind?: FixKind): Refusal {
  return { code: target.code, kind, target, reason };
}

/** A composite mask name (`GFP_KERNEL`, `GFP_NOIO`, `GFP_USER`, …) that lets the allocator enter direct reclaim. */
export function isBlockingComposite(name: string, kb: KbView): boolean {
  const bits = kb.gfp.lookup(name);
  const direct = kb.gfp.lookup('__GFP_DIRECT_RECLAIM') ?? 0;
  return name.startsWith('GFP_') && bits !== undefined && (bits & direct) !== 0;
}

/** The operands of `a | b | (c | d)`, through parentheses; a lone expression is its own operand. */
export function orOperands(n: Node): Node[] {
  const out: Node[] = [];
  const visit = (x: Node) => {
    while (x.type === 'parenthesized_expression' && x.namedChild(0)) x = x.namedChild(0)!;
    if (x.type === 'binary_expression' && (x.childForFieldName('operator')?.text ?? x.child(1)?.text) === '|') {
      const l = x.childForFieldName('left');
      const r = x.childForFieldName('right');
      if (l) visit(l);
      if (r) visit(r);
      return;
    }
    out.push(x);
  };
  visit(n);
  return out;
}

/**
 * A gfp argument written as an OR of known names (`GFP_NOFS | __GFP_ZERO`), rewritten: `replace` maps a name to its
 * new spelling, or to null to drop the operand. The mask before and after, for the fix's intent. Undefined when an
 * operand is not a name the gfp table knows (a variable, a number, a call).
 */
export function rewriteOr(gfp: Node, text: string, kb: KbView, replace: (name: string) => string | null | undefined): { edits: TextEdit[]; before: number; after: number } | undefined {
  const m = kb.gfp;
  const ops = orOperands(gfp);
  if (!ops.every((o) => o.type === 'identifier' && m.lookup(o.text) !== undefined)) return undefined;
  let before = 0;
  let after = 0;
  const kept: Node[] = [];
  const edits: TextEdit[] = [];
  let dropped = 0;
  for (const o of ops) {
    const v = m.lookup(o.text)!;
    before |= v;
    const r = replace(o.text);
    if (r === null) {
      dropped++;
      continue;
    }
    // A replacement may be an OR of names itself (`GFP_NOFS | __GFP_ACCOUNT`).
    const name = r ?? o.text;
    const parts = name.split('|').map((x) => m.lookup(x.trim()));
    if (parts.some((x) => x === undefined)) return undefined;
    const nv = parts.reduce((acc: number, x) => acc | x!, 0);
    after |= nv;
    kept.push(o);
    if (r !== undefined && r !== o.text) edits.push({ start: o.startIndex, end: o.endIndex, newText: r });
  }
  if (!kept.length) return undefined;
  if (dropped) {
    // Rebuild the whole expression from the kept operands (and their replacements), keeping outer parentheses.
    const inner = kept.map((o) => edits.find((e) => e.start === o.startIndex)?.newText ?? text.slice(o.startIndex, o.endIndex)).join(' | ');
    const paren = gfp.type === 'parenthesized_expression' && kept.length > 1;
    return { edits: [{ start: gfp.startIndex, end: gfp.endIndex, newText: paren ? `(${inner})` : inner }], before, after };
  }
  return { edits, before, after };
}

/** Declared names of a function (parameters and locals), for lock classes and for fresh identifiers. */
export function typeEnvOf(info: FunctionInfo): TypeEnv & { names: Set<string> } {
  const decls = new Map<string, VarDecl>();
  for (const p of info.params) decls.set(p.name, p);
  for (const d of collectDeclarations(info.body)) if (!decls.has(d.name)) decls.set(d.name, d);
  return { has: (n) => decls.has(n), get: (n) => decls.get(n), names: new Set(decls.keys()) };
}

/** The lock classes a lock-API call names, as the analysis computes them (analysis/lockClass.ts). */
export function lockClassesOfApiCall(call: Node, kb: KbView, types: TypeEnv): { op: string; classes: string[] } | undefined {
  const name = calleeName(call);
  const api = name ? kb.lock(name) : undefined;
  if (!api) return undefined;
  const classes = lockClassesOfCall(api, callArgs(call), (n) => kb.lockFlags(n), types, (n) => kb.lockContext(n)?.cls);
  return { op: api.op, classes: classes.map((c) => c.cls) };
}

/** The restore API of a save API's family (memalloc_nofs_save → memalloc_nofs_restore), from the knowledge base. */
export function restoreFor(saveApi: string, kb: KbView): string | undefined {
  const save = kb.scope(saveApi);
  if (!save || save.op !== 'save') return undefined;
  const name = saveApi.replace(/_save$/, '_restore');
  const r = kb.scope(name);
  return r && r.op === 'restore' && r.family === save.family ? name : undefined;
}

/** The smallest node covering [start, end) that is a call_expression, if any. */
export function callAt(root: Node, start: number, end: number): Node | undefined {
  let n: Node | null = root.descendantForIndex(start, Math.max(start, end - 1));
  while (n && !(n.type === 'call_expression' && n.startIndex <= start && n.endIndex >= end)) n = n.parent;
  return n ?? undefined;
}

/** A name for a new local that no identifier of the function (or a macro of the file) uses. */
export function freshName(preferred: readonly string[], fnText: string, fileText: string, taken: Set<string>): string {
  const used = (n: string) => taken.has(n) || new RegExp(`\\b${n}\\b`).test(fnText) || new RegExp(`#\\s*define\\s+${n}\\b`).test(fileText);
  for (const p of preferred) if (!used(p)) return p;
  for (let i = 2; ; i++) {
    const n = `${preferred[0]}${i}`;
    if (!used(n)) return n;
  }
}

/**
 * The scoped APIs of fix 1, weakest first. What each one clears is data: its flags in the knowledge base (scopes.json)
 * and what current_gfp_context() does with them (model/gfp.ts applyScope).
 */
export const SCOPED_SAVES = ['memalloc_nofs_save', 'memalloc_noio_save'] as const;

/**
 * The scope fix's API pair (NOIO when `noio`, else NOFS) from the knowledge base, with the flags it sets and the
 * names a new cookie may take; or why there is none for this kernel.
 */
export function scopeApis(noio: boolean, kb: KbView, kernelVersion: string):
  { save: string; restore: string; flags: PfFlag[]; family: string; cookieNames: string[] } | { error: string } {
  const save = SCOPED_SAVES[noio ? 1 : 0];
  const restore = restoreFor(save, kb);
  const entry = kb.scope(save);
  if (!entry || !restore) return { error: `the knowledge base has no ${save}() with its restore for kernel ${kernelVersion}` };
  if (entry.flags === 'arg') return { error: `${save}() takes its flags as an argument` };
  const name = noio ? 'noio' : 'nofs';
  return { save, restore, flags: [...entry.flags], family: entry.family, cookieNames: [`${name}_flags`, `${name}_flag`, `${name}_cookie`] };
}

/**
 * What breaks a reclaim cycle at an allocation whose reclaim path requires the gfp bits `requires` (deadlockRequires):
 * the weakest scoped API whose flags clear one of them, with those bits. Undefined when none does (the path needs
 * only __GFP_DIRECT_RECLAIM: mmu-notifier invalidation, reclaim that does not test the mask).
 */
export function cycleBreaker(requires: readonly string[], kb: KbView): { save: string; flags: PfFlag[]; cleared: string[] } | undefined {
  const m = kb.gfp;
  const need = requires.filter((n) => (m.lookup(n) ?? 0) !== 0);
  const all = need.reduce((acc, n) => acc | m.lookup(n)!, 0);
  if (!all) return undefined;
  for (const save of SCOPED_SAVES) {
    const e = kb.scope(save);
    if (!e || e.op !== 'save' || e.flags === 'arg') continue;
    const left = m.applyScope(all, e.flags);
    const cleared = need.filter((n) => (left & m.lookup(n)!) === 0);
    if (cleared.length) return { save, flags: [...e.flags], cleared };
  }
  return undefined;
}

/**
 * A blocking composite narrowed as a scope with `flags` would narrow it (current_gfp_context()), in kernel notation
 * with spaces (`GFP_KERNEL` → `GFP_NOFS`, `GFP_KERNEL_ACCOUNT` → `GFP_NOFS | __GFP_ACCOUNT`); undefined for a name
 * the gfp table does not know.
 */
export function narrowedName(name: string, flags: readonly PfFlag[], kb: KbView): string | undefined {
  const v = kb.gfp.lookup(name);
  if (v === undefined) return undefined;
  return kb.gfp.render(kb.gfp.applyScope(v, flags)).split('|').join(' | ');
}
