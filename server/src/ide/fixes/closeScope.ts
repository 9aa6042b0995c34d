// Fix 4 (scope-unbalanced, a save that leaks): insert the missing `memalloc_*_restore(cookie);` on the paths that
// leave the function with the scope open, and only on those. A return reached only by leaking paths gets the
// restore right before it; where leaking and balanced paths merge (the usual `goto out` unwind that jumps over the
// restore), the restore goes before each leaking `goto` (or before the label, for the path that falls into it),
// walking back through the statements between the label and the return. Where paths merge at an if/else the
// fix is not offered. Restores without a save, wrong cookies and out-of-order restores need a human: no fix.
import type { Node } from 'web-tree-sitter';
import { insertBeforeClosingBrace, insertBeforeStatement, type TextEdit } from './edits';
import { callArgs, calleeName } from '../../syntax/ast';
import { callsIn, CLOSED, OPEN, walkFlow, type Effect } from './flow';
import { refuse, restoreFor } from './common';
import type { FixBuilder } from './types';
import { lineOf } from '../../analysis/lines';

export const closeScope: FixBuilder = (input, finding) => {
  const kb = input.analyser.kb;
  const frame = input.run.exits.flatMap((e) => e.state.scopes).find((f) => f.site.start === finding.span.start && f.site.end === finding.span.end);
  if (!frame) return refuse(finding, 'only a save that leaks out of the function has a mechanical fix (a restore without save, a wrong cookie or out-of-order restores need a decision)', 'close-scope');
  if (frame.storage !== 'local' || !frame.cookie) return refuse(finding, 'the cookie is discarded: the scope is meant to last (a kernel thread), or the save needs a variable first', 'close-scope');
  const restore = restoreFor(frame.api, kb);
  if (!restore) return refuse(finding, `no restore in the knowledge base pairs with ${frame.api}()`, 'close-scope');
  const cookie = frame.cookie;
  const code = `${restore}(${cookie});`;
  const text = input.snap.text;
  const body = input.info.body;
  const effect = (n: Node): Effect => {
    let e: Effect;
    for (const c of callsIn(n)) {
      if (c.startIndex === frame.site.start) e = 'open';
      else {
        const name = calleeName(c);
        const api = name ? kb.scope(name) : undefined;
        if (api?.op === 'restore' && callArgs(c)[api.cookieArg ?? 0]?.text.replace(/\s+/g, '') === cookie) e = 'close';
      }
    }
    return e;
  };
  const flow = walkFlow(body, effect, CLOSED);
  const edits: TextEdit[] = [];
  const done = new Set<number>();
  let problem: string | undefined;
  const statusBefore = (n: Node) => flow.before.get(n.id) ?? 0;
  const insertBefore = (stmt: Node) => {
    if (done.has(stmt.id)) return;
    done.add(stmt.id);
    const e = insertBeforeStatement(text, stmt, code);
    if (!e) problem ??= `cannot insert a statement before line ${lineOf(input.snap, stmt.startIndex)}`;
    else edits.push(...e);
  };
  const transparent = (n: Node) => (n.type === 'expression_statement' || n.type === 'declaration') && effect(n) === undefined;
  /** Makes the paths that reach `stmt` with the scope open restore it first; `status` is theirs and the others'. */
  const fixBefore = (stmt: Node, status: number, depth: number): void => {
    if (problem || !(status & OPEN)) return;
    if (status === OPEN) return insertBefore(stmt);
    if (depth > 16) {
      problem = 'the paths that leak merge with balanced ones too far from the exit';
      return;
    }
    // Mixed. A label: fix its sources (the gotos, and the statement falling into it).
    const labeled = stmt.type === 'labeled_statement' ? stmt : stmt.parent?.type === 'labeled_statement' && stmt.parent.namedChildren.find((c) => c && c.type !== 'statement_identifier' && c.type !== 'comment')?.id === stmt.id ? stmt.parent : undefined;
    if (labeled) {
      const label = labeled.childForFieldName('label')?.text ?? '';
      for (const g of flow.gotos.get(label) ?? []) {
        if (g.status === OPEN) insertBefore(g.node);
        else if (g.status & OPEN) problem ??= `the goto at line ${lineOf(input.snap, g.node.startIndex)} is reached with and without the scope`;
      }
      const fall = flow.fallInto.get(label) ?? 0;
      if (fall === OPEN) insertBefore(labeled);
      else if (fall & OPEN) {
        const prev = labeled.previousNamedSibling;
        if (prev && (transparent(prev) || prev.type === 'labeled_statement')) fixBefore(prev, statusBefore(prev), depth + 1);
        else problem ??= `leaking and balanced paths merge before line ${lineOf(input.snap, labeled.startIndex)} (at a branch), so no single place restores only the leaking ones`;
      }
      return;
    }
    // Statements that change nothing between the merge and here: walk back through them.
    const prev = stmt.previousNamedSibling;
    if (prev && prev.type !== 'comment' && (transparent(prev) || prev.type === 'labeled_statement')) return fixBefore(prev, statusBefore(prev), depth + 1);
    problem ??= `leaking and balanced paths merge before line ${lineOf(input.snap, stmt.startIndex)} (at a branch), so no single place restores only the leaking ones`;
  };
  for (const r of flow.returns) fixBefore(r.node, r.status, 0);
  if (flow.end & OPEN) {
    if (flow.end === OPEN) {
      const e = insertBeforeClosingBrace(text, body, code);
      if (e) edits.push(...e);
      else problem ??= 'cannot insert before the end of the function';
    } else {
      const last = [...body.namedChildren].reverse().find((c) => c && c.type !== 'comment');
      if (last) fixBefore(last, statusBefore(last), 0);
    }
  }
  if (problem) return refuse(finding, problem, 'close-scope');
  if (!edits.length) return refuse(finding, 'the syntax walk finds no exit that leaves the scope open (the leak may come from branch conditions the walk does not correlate)', 'close-scope');
  const n = done.size + (flow.end === OPEN ? 1 : 0);
  return [{
    kind: 'close-scope', code: finding.code, target: finding,
    title: `Restore ${cookie} with ${restore}() on the ${n} exit${n === 1 ? '' : 's'} that leak${n === 1 ? 's' : ''} the scope`,
    edits, preferred: true, confidence: 'high', fixAll: true,
    intent: { literals: new Map() },
  }];
};
