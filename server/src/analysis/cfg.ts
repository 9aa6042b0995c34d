// Per-function control-flow graph built from the tree-sitter body.
// Blocks hold ops in execution order; edges may carry an assumption about a branch condition so that
// `if (!mutex_trylock(&l)) return;` acquires the lock only on the success edge.
// Handles if/else, switch (case fall-through), while/for/do loops, break/continue, goto/labels, return,
// and cleanup.h guards: `guard(name)(args);` releases at the end of its compound statement and on every jump out
// of it; `scoped_guard(name, args) { … }` (rewritten to a while statement by syntax/kernelIdioms) holds the lock
// for its body only.
import type { Node } from 'web-tree-sitter';

export type GuardUse = {
  /** guard class name as written: `spinlock_irqsave`, `mutex`, … */
  name: string;
  /** the argument expressions (lock object first) */
  args: Node[];
  /** the node that opened it (the guard() call or the scoped_guard statement) */
  site: Node;
};

export type CfgOp =
  | { kind: 'eval'; node: Node }
  | { kind: 'cond'; node: Node } // a branch condition: evaluated like 'eval' but trylocks wait for the edge
  | { kind: 'guard-acquire'; guard: GuardUse }
  | { kind: 'guard-release'; guard: GuardUse; at: Node }
  | { kind: 'return'; node: Node }
  /** a statement the analysis skipped (see CfgHooks.opaque): only its extent is kept, for call sites inside */
  | { kind: 'opaque'; start: number; end: number };

export interface Edge {
  to: number;
  /** the branch condition and the value it has on this edge */
  assume?: { cond: Node; value: boolean; loop?: boolean };
  back?: boolean;
}

export interface Block {
  id: number;
  ops: CfgOp[];
  succs: Edge[];
}

export interface Cfg {
  blocks: Block[];
  entry: number;
  exit: number;
  /** nodes the builder could not interpret (ERROR nodes, unknown statements): the analysis stays sound-ish */
  problems: Node[];
}

/** Scoped-guard detection is supplied by the caller (it knows the syntax layer's rewrites). */
export interface CfgHooks {
  scopedGuard(stmt: Node): GuardUse | undefined;
  /**
   * A statement the analysis does not care about and control cannot leave or enter abnormally (no return, goto,
   * break, continue or label inside): built as nothing, without visiting its subtree.
   */
  opaque?(stmt: Node): boolean;
}

interface Scope {
  guards: GuardUse[];
  node: Node;
}

interface LoopCtx {
  breakTo: number;
  continueTo: number;
  scopeDepth: number;
}

const ORDINARY_STATEMENTS = new Set([
  'expression_statement', 'declaration', 'type_definition', 'struct_specifier', 'enum_specifier', 'union_specifier',
  'comment', 'preproc_call', 'attributed_statement', 'gnu_asm_expression', 'seh_leave_statement',
]);

export function buildCfg(body: Node, hooks: CfgHooks): Cfg {
  const blocks: Block[] = [];
  const problems: Node[] = [];
  const newBlock = (): number => {
    blocks.push({ id: blocks.length, ops: [], succs: [] });
    return blocks.length - 1;
  };
  const entry = newBlock();
  const exit = newBlock();
  const labels = new Map<string, number>();
  const labelScopes = new Map<string, Node>();
  const pendingGotos: { from: number; label: string; scopes: Scope[]; node: Node }[] = [];
  const scopes: Scope[] = [];
  const loops: LoopCtx[] = [];
  const switches: { breakTo: number; scopeDepth: number; caseBlocks: { node: Node; block: number }[]; hasDefault: boolean }[] = [];

  const edge = (from: number, to: number, extra?: Partial<Edge>) => {
    blocks[from].succs.push({ to, ...extra });
  };

  // Releases guards of scopes deeper than `depth`, innermost first, into block `b`.
  const releaseGuards = (b: number, depth: number, at: Node) => {
    for (let i = scopes.length - 1; i >= depth; i--) {
      const gs = scopes[i].guards;
      for (let j = gs.length - 1; j >= 0; j--) blocks[b].ops.push({ kind: 'guard-release', guard: gs[j], at });
    }
  };

  // Builds `node` starting in block `cur`; returns the block where control continues, or -1 if it does not.
  const stmt = (node: Node, cur: number): number => {
    if (cur < 0) {
      // Unreachable code after return/goto: still give it a block so labels inside are reachable by goto.
      cur = newBlock();
    }
    if (hooks.opaque && node.type !== 'labeled_statement' && node.type !== 'case_statement' && hooks.opaque(node)) {
      blocks[cur].ops.push({ kind: 'opaque', start: node.startIndex, end: node.endIndex });
      return cur;
    }
    switch (node.type) {
      case 'compound_statement':
        return compound(node, cur);
      case 'if_statement': {
        const cond = node.childForFieldName('condition');
        const cons = node.childForFieldName('consequence');
        const alt = node.childForFieldName('alternative');
        if (cond) blocks[cur].ops.push({ kind: 'cond', node: cond });
        const thenB = newBlock();
        const after = newBlock();
        edge(cur, thenB, cond ? { assume: { cond, value: true } } : {});
        const thenEnd = cons ? stmt(cons, thenB) : thenB;
        if (thenEnd >= 0) edge(thenEnd, after);
        if (alt) {
          const elseB = newBlock();
          edge(cur, elseB, cond ? { assume: { cond, value: false } } : {});
          const altBody = alt.type === 'else_clause' ? alt.namedChildren.find((c) => c !== null && c.type !== 'comment') ?? null : alt;
          const elseEnd = altBody ? stmt(altBody, elseB) : elseB;
          if (elseEnd >= 0) edge(elseEnd, after);
        } else {
          edge(cur, after, cond ? { assume: { cond, value: false } } : {});
        }
        return after;
      }
      case 'while_statement': {
        const guard = hooks.scopedGuard(node);
        if (guard) return scopedGuard(node, guard, cur);
        const cond = node.childForFieldName('condition');
        const head = newBlock();
        const bodyB = newBlock();
        const after = newBlock();
        edge(cur, head);
        if (cond) blocks[head].ops.push({ kind: 'cond', node: cond });
        edge(head, bodyB, cond ? { assume: { cond, value: true, loop: true } } : {});
        edge(head, after, cond ? { assume: { cond, value: false, loop: true } } : {});
        loops.push({ breakTo: after, continueTo: head, scopeDepth: scopes.length });
        const b = node.childForFieldName('body');
        const end = b ? stmt(b, bodyB) : bodyB;
        loops.pop();
        if (end >= 0) edge(end, head, { back: true });
        return after;
      }
      case 'do_statement': {
        const cond = node.childForFieldName('condition');
        const bodyB = newBlock();
        const condB = newBlock();
        const after = newBlock();
        edge(cur, bodyB);
        loops.push({ breakTo: after, continueTo: condB, scopeDepth: scopes.length });
        const b = node.childForFieldName('body');
        const end = b ? stmt(b, bodyB) : bodyB;
        loops.pop();
        if (end >= 0) edge(end, condB);
        if (cond) blocks[condB].ops.push({ kind: 'cond', node: cond });
        edge(condB, bodyB, cond ? { assume: { cond, value: true, loop: true }, back: true } : { back: true });
        edge(condB, after, cond ? { assume: { cond, value: false, loop: true } } : {});
        return after;
      }
      case 'for_statement': {
        const init = node.childForFieldName('initializer');
        const cond = node.childForFieldName('condition');
        const update = node.childForFieldName('update');
        if (init) blocks[cur].ops.push({ kind: 'eval', node: init });
        const head = newBlock();
        const bodyB = newBlock();
        const updB = newBlock();
        const after = newBlock();
        edge(cur, head);
        if (cond) blocks[head].ops.push({ kind: 'cond', node: cond });
        edge(head, bodyB, cond ? { assume: { cond, value: true, loop: true } } : {});
        if (cond) edge(head, after, { assume: { cond, value: false, loop: true } });
        loops.push({ breakTo: after, continueTo: updB, scopeDepth: scopes.length });
        const b = node.childForFieldName('body');
        const end = b ? stmt(b, bodyB) : bodyB;
        loops.pop();
        if (end >= 0) edge(end, updB);
        if (update) blocks[updB].ops.push({ kind: 'eval', node: update });
        edge(updB, head, { back: true });
        return after;
      }
      case 'switch_statement': {
        const cond = node.childForFieldName('condition');
        if (cond) blocks[cur].ops.push({ kind: 'eval', node: cond });
        const after = newBlock();
        const sw = { breakTo: after, scopeDepth: scopes.length, caseBlocks: [] as { node: Node; block: number }[], hasDefault: false };
        switches.push(sw);
        const b = node.childForFieldName('body');
        let end = -1;
        if (b) {
          scopes.push({ guards: [], node: b });
          for (const child of b.namedChildren) {
            if (!child) continue;
            if (child.type === 'case_statement') {
              const caseB = newBlock();
              if (end >= 0) edge(end, caseB); // fall-through
              edge(cur, caseB);
              if (!child.childForFieldName('value')) sw.hasDefault = true;
              end = caseB;
              const value = child.childForFieldName('value');
              for (const s of child.namedChildren) {
                // web-tree-sitter hands out a new object per access: compare nodes by id, never with ===.
                if (!s || (value && s.id === value.id)) continue;
                end = stmt(s, end);
              }
            } else {
              end = stmt(child, end);
            }
          }
          if (end >= 0) releaseGuards(end, scopes.length - 1, b);
          scopes.pop();
        }
        switches.pop();
        if (end >= 0) edge(end, after);
        if (!sw.hasDefault) edge(cur, after);
        return after;
      }
      case 'break_statement': {
        const loop = loops[loops.length - 1];
        const sw = switches[switches.length - 1];
        // The innermost of loop/switch wins: compare their scope depth (both record it when pushed).
        const target = sw && (!loop || sw.scopeDepth >= loop.scopeDepth) ? sw : loop;
        if (!target) { problems.push(node); return -1; }
        releaseGuards(cur, target.scopeDepth, node);
        edge(cur, target.breakTo);
        return -1;
      }
      case 'continue_statement': {
        const loop = loops[loops.length - 1];
        if (!loop) { problems.push(node); return -1; }
        releaseGuards(cur, loop.scopeDepth, node);
        edge(cur, loop.continueTo, { back: true });
        return -1;
      }
      case 'return_statement': {
        const val = node.namedChildren.find((c) => c && c.type !== 'comment');
        if (val) blocks[cur].ops.push({ kind: 'eval', node: val });
        releaseGuards(cur, 0, node);
        blocks[cur].ops.push({ kind: 'return', node });
        edge(cur, exit);
        return -1;
      }
      case 'goto_statement': {
        const label = node.childForFieldName('label');
        if (!label) { problems.push(node); return -1; }
        pendingGotos.push({ from: cur, label: label.text, scopes: scopes.slice(), node });
        return -1;
      }
      case 'labeled_statement': {
        const label = node.childForFieldName('label');
        const target = newBlock();
        if (cur >= 0) edge(cur, target);
        if (label) {
          labels.set(label.text, target);
          labelScopes.set(label.text, scopes[scopes.length - 1]?.node ?? body);
        }
        let end = target;
        for (const s of node.namedChildren) {
          if (!s || (label && s.id === label.id)) continue;
          end = stmt(s, end);
        }
        return end;
      }
      case 'case_statement':
        // A case label outside a switch body's direct children (e.g. Duff's device): treat as a plain block.
        for (const s of node.namedChildren) if (s && s.id !== node.childForFieldName('value')?.id) cur = stmt(s, cur);
        return cur;
      case ';':
      case 'empty_statement':
        return cur;
      default:
        if (node.type === 'expression_statement') {
          const guard = guardCall(node);
          if (guard) {
            blocks[cur].ops.push({ kind: 'guard-acquire', guard });
            scopes[scopes.length - 1]?.guards.push(guard);
            return cur;
          }
        }
        if (node.type === 'ERROR' || node.isMissing) problems.push(node);
        else if (!ORDINARY_STATEMENTS.has(node.type)) problems.push(node);
        blocks[cur].ops.push({ kind: 'eval', node });
        return cur;
    }
  };

  const compound = (node: Node, cur: number): number => {
    scopes.push({ guards: [], node });
    for (const child of node.namedChildren) {
      if (!child) continue;
      cur = stmt(child, cur);
    }
    if (cur >= 0) releaseGuards(cur, scopes.length - 1, node.lastChild ?? node);
    scopes.pop();
    return cur;
  };

  const scopedGuard = (node: Node, guard: GuardUse, cur: number): number => {
    blocks[cur].ops.push({ kind: 'guard-acquire', guard });
    const bodyB = newBlock();
    edge(cur, bodyB);
    scopes.push({ guards: [guard], node });
    const b = node.childForFieldName('body');
    const end = b ? stmt(b, bodyB) : bodyB;
    if (end >= 0) releaseGuards(end, scopes.length - 1, node);
    scopes.pop();
    return end;
  };

  const end = compound(body, entry);
  if (end >= 0) {
    blocks[end].ops.push({ kind: 'return', node: body.lastChild ?? body });
    edge(end, exit);
  }
  for (const g of pendingGotos) {
    const target = labels.get(g.label);
    if (target === undefined) {
      problems.push(g.node);
      continue;
    }
    // Release guards of scopes the jump leaves: those not enclosing the label.
    const labelScope = labelScopes.get(g.label);
    let keep = 0;
    while (keep < g.scopes.length && isAncestorOrSelf(g.scopes[keep].node, labelScope)) keep++;
    const jump = newBlock();
    for (let i = g.scopes.length - 1; i >= keep; i--) {
      const gs = g.scopes[i].guards;
      for (let j = gs.length - 1; j >= 0; j--) blocks[jump].ops.push({ kind: 'guard-release', guard: gs[j], at: g.node });
    }
    edge(g.from, jump);
    edge(jump, target, { back: target < g.from });
  }
  return { blocks, entry, exit, problems };
}

function isAncestorOrSelf(a: Node, b: Node | undefined): boolean {
  if (!b) return false;
  return a.startIndex <= b.startIndex && b.endIndex <= a.endIndex;
}

/** `guard(name)(args);` → GuardUse. Shape: call_expression(function: call_expression(guard, (name)), args). */
function guardCall(stmtNode: Node): GuardUse | undefined {
  const e = stmtNode.namedChild(0);
  if (!e || e.type !== 'call_expression') return undefined;
  const inner = e.childForFieldName('function');
  if (!inner || inner.type !== 'call_expression') return undefined;
  const fn = inner.childForFieldName('function');
  if (!fn || fn.text !== 'guard') return undefined;
  const nameArgs = inner.childForFieldName('arguments')?.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment') ?? [];
  const args = e.childForFieldName('arguments')?.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment') ?? [];
  if (nameArgs.length !== 1) return undefined;
  return { name: nameArgs[0].text, args, site: e };
}

/** Reverse post-order of the blocks reachable from entry, ignoring back edges (for the DAG pass). */
export function reversePostOrder(cfg: Cfg): number[] {
  const seen = new Uint8Array(cfg.blocks.length);
  const order: number[] = [];
  // Iterative DFS to survive very deep CFGs.
  const stack: { b: number; i: number }[] = [{ b: cfg.entry, i: 0 }];
  seen[cfg.entry] = 1;
  while (stack.length) {
    const top = stack[stack.length - 1];
    const succs = cfg.blocks[top.b].succs;
    if (top.i < succs.length) {
      const e = succs[top.i++];
      if (!seen[e.to]) {
        seen[e.to] = 1;
        stack.push({ b: e.to, i: 0 });
      }
    } else {
      order.push(top.b);
      stack.pop();
    }
  }
  return order.reverse();
}
