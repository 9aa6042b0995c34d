// Fix 3 in atomic context, the preload idiom (sleep-in-atomic at an allocation): move the allocation, with its mask,
// out of the atomic section, to right before the statement that begins it (`spin_lock()`, `rcu_read_lock()`, …),
// together with the failure check that follows it. Conservative: offered only when
//   - the atomic section begins in this function, at one statement on every path to the allocation, in the same
//     block as the allocation, which is a plain `x = kmalloc(…);` assigning a local variable;
//   - the statements from the one that begins the section to the allocation cannot leave the block (return, goto,
//     break, continue), hold no label, and do not mention x;
//   - the arguments evaluate the same before the section: locals and parameters that no statement of the section
//     before the allocation assigns (nor passes to a call, which a macro may assign: `spin_lock_irqsave(l, flags)`),
//     constants, gfp names, anything inside sizeof; no call, no field or array read, no dereference (the lock may
//     protect what they read);
//   - a failure check right after it (`if (!x) …`) moves with it: it must end by returning, and the releases of the
//     section's own locks in it are dropped (before the section they are not held yet); a check that jumps (goto) or
//     touches another lock of the section is refused with the reason.
// Not preferred and never applied by fix-all: it changes the order of side effects, which the author must accept.
// Verification: the sleep-in-atomic finding gone, no new finding, the moved allocation with the same masks.
import type { Node } from 'web-tree-sitter';
import { lineOf } from '../../analysis/lines';
import { callArgs } from '../../syntax/ast';
import { callAt, lockClassesOfApiCall, refuse, typeEnvOf } from './common';
import { indentAt, startsLine, type TextEdit } from './edits';
import { callsIn, statementOf } from './flow';
import type { FixBuilder } from './types';

const KIND = 'preload-move' as const;
const JUMPS = new Set(['return_statement', 'goto_statement', 'break_statement', 'continue_statement', 'labeled_statement']);

export const preloadMove: FixBuilder = (input, finding) => {
  const no = (reason: string) => refuse(finding, `cannot move the allocation before the atomic section: ${reason}`, KIND);
  const kb = input.analyser.kb;
  const text = input.snap.text;
  const fn = input.fn.name;
  const site = input.run.sites.find((s) => s.call.start === finding.span.start && s.call.end === finding.span.end);
  if (!site) return refuse(finding, 'not an allocation (a sleeping lock or a sleeper): nothing to move', KIND);
  // The outermost atomic section, begun at the same place on every path.
  const firsts = site.paths.map((p) => p.held.find((h) => h.atomic));
  const lock = firsts[0];
  if (!lock || firsts.some((h) => !h || h.site.start !== lock.site.start)) return no('it is not inside one atomic section begun at the same place on every path');
  if (lock.guard) return no(`${lock.cls} is taken by a cleanup.h guard`);
  const body = input.info.body;
  const lockCall = callAt(body, lock.site.start, lock.site.end);
  if (!lockCall || lockCall.startIndex !== lock.site.start) return no(`the atomic section (${lock.cls}) begins in a caller of ${fn}(), where the allocation would have to go`);
  const lockStmt = statementOf(lockCall);
  const allocStmt = statementOf(site.callNode);
  if (!lockStmt || !allocStmt) return no('the lock or the allocation is inside an expression');
  // `x = kmalloc(…);`
  const expr = allocStmt.type === 'expression_statement' ? allocStmt.namedChildren.find((c) => c && c.type !== 'comment') : undefined;
  const left = expr?.type === 'assignment_expression' && expr.childForFieldName('operator')?.text === '=' ? expr.childForFieldName('left') : undefined;
  if (!expr || !left || expr.childForFieldName('right')?.id !== site.callNode.id || left.type !== 'identifier') {
    return no(`the allocation is not a plain \`x = ${site.api}(…);\` statement assigning a local variable`);
  }
  const x = left.text;
  const types = typeEnvOf(input.info);
  if (!types.names.has(x)) return no(`${x} is not a local variable of ${fn}()`);
  const block = allocStmt.parent;
  if (!block || block.type !== 'compound_statement' || lockStmt.parent?.id !== block.id || lockStmt.startIndex >= allocStmt.startIndex) {
    return no(`the allocation is not in the block where ${lock.api}() begins the section (a branch or loop lies in between)`);
  }
  const stmts = block.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment');
  const from = stmts.findIndex((c) => c.id === lockStmt.id);
  const to = stmts.findIndex((c) => c.id === allocStmt.id);
  const section = stmts.slice(from, to); // the statement that begins the section and those up to the allocation
  for (const s of section.slice(1)) {
    const jump = find(s, (n) => JUMPS.has(n.type));
    if (jump) return no(`line ${lineOf(input.snap, jump.startIndex)} can leave the section before the allocation (${jump.type.replace(/_statement$/, '')}): the moved allocation would leak on that path`);
    if (find(s, (n) => n.type === 'identifier' && n.text === x)) return no(`${x} is used at line ${lineOf(input.snap, s.startIndex)}, between ${lock.api}() and the allocation`);
  }
  const written = writtenIn(section);
  // The arguments must evaluate to the same values before the section.
  for (const arg of callArgs(site.callNode)) {
    const bad = argProblem(arg, (id) => {
      if (kb.gfp.lookup(id) !== undefined) return undefined;
      if (types.names.has(id)) return written.direct.has(id) ? `${id} may be assigned inside the section (line ${lineOf(input.snap, written.direct.get(id)!)})` : undefined;
      return /^[A-Z][A-Z0-9_]*$/.test(id) ? undefined : `${id} is not a local of ${fn}() (shared data the lock may protect)`;
    });
    if (bad) return no(`its arguments: ${bad}`);
  }

  // The failure check right after it moves too.
  const next = stmts[to + 1];
  const check = next && isFailureCheck(next, x) ? next : undefined;
  let checkText: string[] = [];
  const indent = indentAt(text, allocStmt.startIndex);
  if (check) {
    const r = movedCheck(input, check, written, lockStmt.startIndex, allocStmt.startIndex, site.paths.flatMap((p) => p.held), indent);
    if (typeof r === 'string') return no(`the failure check after it (line ${lineOf(input.snap, check.startIndex)}) ${r}`);
    checkText = r;
  }
  const last = check ?? allocStmt;
  if (!startsLine(text, allocStmt.startIndex) || !startsLine(text, lockStmt.startIndex) || !/^[ \t]*(\r?\n|$)/.test(text.slice(last.endIndex))) {
    return no('the statements do not stand on lines of their own');
  }
  const lineStart = (o: number) => text.lastIndexOf('\n', o - 1) + 1;
  const eol = text.indexOf('\n', last.endIndex);
  const edits: TextEdit[] = [
    { start: lineStart(lockStmt.startIndex), end: lineStart(lockStmt.startIndex), newText: `${indent}${text.slice(allocStmt.startIndex, allocStmt.endIndex)}\n${checkText.join('')}` },
    { start: lineStart(allocStmt.startIndex), end: eol < 0 ? text.length : eol + 1, newText: '' },
  ];
  return [{
    kind: KIND, code: finding.code, target: finding,
    title: `Allocate before ${lock.api}() (keeps ${site.literalText || 'its mask'}${check ? ', moves its failure check' : ''})`,
    edits, preferred: false, confidence: 'high', fixAll: false,
    note: `the allocation then runs before ${lock.cls} is taken; the section no longer sleeps`,
    intent: { literals: new Map(), moved: new Set([site.callee.start]) },
  }];
};

/** The first node in n's subtree (n included) that satisfies p, not inside nested function definitions. */
function find(n: Node, p: (n: Node) => boolean): Node | undefined {
  const stack = [n];
  while (stack.length) {
    const c = stack.pop()!;
    if (p(c)) return c;
    for (let i = c.namedChildCount - 1; i >= 0; i--) {
      const k = c.namedChild(i);
      if (k && k.type !== 'function_definition') stack.push(k);
    }
  }
  return undefined;
}

/**
 * What the statements may change: `direct`, the locals they may assign (`v =`, `v++`, `&v`, `v` passed to a call,
 * which a macro may assign: `spin_lock_irqsave(l, flags)`), and `deep`, the locals through which they write memory
 * (`v->f =`, `*v =`, `v[i]++`), each with where.
 */
function writtenIn(stmts: readonly Node[]): { direct: Map<string, number>; deep: Map<string, number> } {
  const direct = new Map<string, number>();
  const deep = new Map<string, number>();
  const strip = (n: Node | null | undefined) => {
    while (n?.type === 'parenthesized_expression') n = n.namedChild(0);
    return n;
  };
  const note = (n: Node | null | undefined, lvalue: boolean) => {
    let r = strip(n);
    if (r?.type === 'identifier') {
      if (!direct.has(r.text)) direct.set(r.text, r.startIndex);
      return;
    }
    if (!lvalue) return;
    while (r && (r.type === 'subscript_expression' || r.type === 'field_expression' || r.type === 'pointer_expression' || r.type === 'parenthesized_expression')) {
      r = r.type === 'parenthesized_expression' ? r.namedChild(0) : r.childForFieldName('argument');
    }
    if (r?.type === 'identifier' && !deep.has(r.text)) deep.set(r.text, r.startIndex);
  };
  for (const s of stmts) {
    find(s, (n) => {
      if (n.type === 'assignment_expression') note(n.childForFieldName('left'), true);
      else if (n.type === 'update_expression') note(n.childForFieldName('argument'), true);
      else if (n.type === 'pointer_expression' && n.child(0)?.text === '&') note(n.childForFieldName('argument'), false);
      else if (n.type === 'init_declarator') note(n.childForFieldName('declarator'), false);
      else if (n.type === 'call_expression') for (const a of callArgs(n)) note(a, false);
      return false;
    });
  }
  return { direct, deep };
}

/** Why an argument may not evaluate the same before the section; `id` judges each identifier read. */
function argProblem(arg: Node, id: (name: string) => string | undefined): string | undefined {
  let problem: string | undefined;
  const visit = (n: Node) => {
    if (problem) return;
    switch (n.type) {
      case 'sizeof_expression':
      case 'alignof_expression':
      case 'type_descriptor':
      case 'number_literal':
      case 'char_literal':
      case 'string_literal':
      case 'true':
      case 'false':
      case 'null':
      case 'comment':
        return;
      case 'identifier':
        problem = id(n.text);
        return;
      case 'call_expression':
        problem = `it calls ${n.childForFieldName('function')?.text ?? 'a function'}()`;
        return;
      case 'field_expression':
      case 'subscript_expression':
      case 'pointer_expression':
        problem = `it reads ${n.text.replace(/\s+/g, ' ')}, which the lock may protect`;
        return;
      default:
        for (let i = 0; i < n.namedChildCount; i++) {
          const c = n.namedChild(i);
          if (c) visit(c);
        }
    }
  };
  visit(arg);
  return problem;
}

/** `if (!x)`, `if (x == NULL)`, `if (unlikely(!x))`, `if (IS_ERR(x))` with no else. */
function isFailureCheck(n: Node, x: string): boolean {
  if (n.type !== 'if_statement' || n.childForFieldName('alternative')) return false;
  const cond = n.childForFieldName('condition')?.text.replace(/\s+/g, '') ?? '';
  return new RegExp(`^\\((?:unlikely\\()?(?:!${x}|${x}==NULL|NULL==${x}|IS_ERR(?:_OR_NULL)?\\(${x}\\))\\)?\\)$`).test(cond);
}

/**
 * The failure check as it reads before the section: the releases of the section's own locks dropped, the rest as
 * written; lines with the statement's indentation. A reason (a string) when it cannot move.
 */
function movedCheck(input: Parameters<FixBuilder>[0], check: Node, written: ReturnType<typeof writtenIn>, sectionStart: number, allocStart: number,
  held: readonly { cls: string; site: { start: number } }[], indent: string): string[] | string {
  const kb = input.analyser.kb;
  const text = input.snap.text;
  const types = typeEnvOf(input.info);
  const cons = check.childForFieldName('consequence');
  if (!cons) return 'has no body';
  const inner = cons.type === 'compound_statement' ? cons.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment') : [cons];
  if (cons.type === 'compound_statement' && cons.namedChildren.some((c) => c?.type === 'comment')) return 'holds comments the fix would have to place';
  // The locks taken from the start of the section up to the allocation: before the section they are not held.
  const mine = new Set(held.filter((h) => h.site.start >= sectionStart && h.site.start < allocStart).map((h) => h.cls));
  const kept: Node[] = [];
  for (const s of inner) {
    const calls = callsIn(s).map((c) => ({ c, l: lockClassesOfApiCall(c, kb, types) })).filter((x) => x.l);
    const releasesMine = s.type === 'expression_statement' && calls.length === 1 && calls[0].l!.op === 'release' && calls[0].l!.classes.some((c) => mine.has(c));
    if (releasesMine) continue;
    const other = calls.find((x) => x.l!.classes.some((c) => mine.has(c)));
    if (other) return `takes or releases ${other.l!.classes.join(', ')} other than by a plain release`;
    const jump = find(s, (n) => n.type === 'goto_statement' || n.type === 'break_statement' || n.type === 'continue_statement' || n.type === 'labeled_statement');
    if (jump) return `jumps (${jump.type.replace(/_statement$/, '')}): where it lands the section's lock may be released`;
    const w = find(s, (n) => n.type === 'identifier' && (written.direct.has(n.text) || written.deep.has(n.text)));
    if (w) return `reads ${w.text}, which the section may ${written.direct.has(w.text) ? 'assign' : 'write through'} before the allocation`;
    kept.push(s);
  }
  if (!kept.length || kept[kept.length - 1].type !== 'return_statement') return 'does not end by returning';
  const cond = check.childForFieldName('condition')!.text;
  const lineOfNode = (s: Node) => {
    // A statement's own text, each continuation line as written (it stays at the same depth).
    return text.slice(s.startIndex, s.endIndex);
  };
  if (kept.length === 1 && !lineOfNode(kept[0]).includes('\n')) return [`${indent}if ${cond}\n`, `${indent}\t${lineOfNode(kept[0])}\n`];
  return [`${indent}if ${cond} {\n`, ...kept.map((s) => `${indent}\t${lineOfNode(s)}\n`), `${indent}}\n`];
}
