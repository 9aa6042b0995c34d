// Where is a resource (a memalloc scope, a held lock) open? A small forward walk over one function body's syntax
// tree with a two-bit status (OPEN, CLOSED) that records the status before every statement, every jump and at the
// labels, so fixes can put a restore exactly on the paths that need it. It follows structured control flow, goto
// (iterated to a fixed point), break/continue and switch; it knows nothing of branch correlation (the analysis
// does, and verification re-runs the analysis on the result).
import type { Node } from 'web-tree-sitter';

export const OPEN = 1;
export const CLOSED = 2;

/** The effect of one statement (or condition) on the resource: opens it, closes it, or leaves it. */
export type Effect = 'open' | 'close' | undefined;

export interface Flow {
  /** status just before each statement (by node id), merged over the walk's iterations */
  before: Map<number, number>;
  /** goto statements per label, with the status at each */
  gotos: Map<string, { node: Node; status: number }[]>;
  /** the status flowing into each label from the statement before it */
  fallInto: Map<string, number>;
  /** return statements with the status before each */
  returns: { node: Node; status: number }[];
  /** status when control falls off the end of the body */
  end: number;
}

interface Jumps {
  breaks: number;
  continues: number;
  loop: boolean;
}

/**
 * `effect(n)` is asked for leaf statements and for conditions; it should look for the relevant calls inside n.
 * `initial` is the status at function entry (CLOSED for a resource this function opens).
 */
export function walkFlow(body: Node, effect: (n: Node) => Effect, initial = CLOSED): Flow {
  const labelIn = new Map<string, number>();
  let flow: Flow = { before: new Map(), gotos: new Map(), fallInto: new Map(), returns: [], end: 0 };
  for (let iter = 0; iter < 8; iter++) {
    flow = { before: new Map(), gotos: new Map(), fallInto: new Map(), returns: [], end: 0 };
    const stack: Jumps[] = [];
    const apply = (n: Node | null, s: number): number => {
      if (!n || !s) return s;
      const e = effect(n);
      return e === 'open' ? OPEN : e === 'close' ? CLOSED : s;
    };
    const note = (n: Node, s: number) => flow.before.set(n.id, (flow.before.get(n.id) ?? 0) | s);
    const walk = (n: Node, s: number): number => {
      note(n, s);
      switch (n.type) {
        case 'compound_statement': {
          for (const c of n.namedChildren) if (c && c.type !== 'comment') s = walk(c, s);
          return s;
        }
        case 'if_statement': {
          const cond = n.childForFieldName('condition');
          s = apply(cond, s);
          const cons = n.childForFieldName('consequence');
          const alt = n.childForFieldName('alternative');
          const t = cons ? walk(cons, s) : s;
          let e = s;
          if (alt) {
            const body = alt.type === 'else_clause' ? alt.namedChildren.find((c) => c && c.type !== 'comment') ?? null : alt;
            e = body ? walk(body, s) : s;
          }
          return t | e;
        }
        case 'while_statement':
        case 'for_statement': {
          if (n.type === 'for_statement') s = apply(n.childForFieldName('initializer'), s);
          const cond = n.childForFieldName('condition');
          const body = n.childForFieldName('body');
          const j: Jumps = { breaks: 0, continues: 0, loop: true };
          stack.push(j);
          let head = s;
          for (let k = 0; k < 4; k++) {
            const h = apply(cond, head);
            const out = body ? walk(body, h) : h;
            const next = head | out | j.continues;
            if (next === head) break;
            head = next;
          }
          stack.pop();
          const infinite = n.type === 'for_statement' && !cond;
          return (infinite ? 0 : apply(cond, head)) | j.breaks;
        }
        case 'do_statement': {
          const body = n.childForFieldName('body');
          const cond = n.childForFieldName('condition');
          const j: Jumps = { breaks: 0, continues: 0, loop: true };
          stack.push(j);
          let head = s;
          let out = 0;
          for (let k = 0; k < 4; k++) {
            out = apply(cond, (body ? walk(body, head) : head) | j.continues);
            const next = head | out;
            if (next === head) break;
            head = next;
          }
          stack.pop();
          return out | j.breaks;
        }
        case 'switch_statement': {
          s = apply(n.childForFieldName('condition'), s);
          const body = n.childForFieldName('body');
          const j: Jumps = { breaks: 0, continues: 0, loop: false };
          stack.push(j);
          let fall = 0;
          let hasDefault = false;
          for (const c of body?.namedChildren ?? []) {
            if (!c || c.type === 'comment') continue;
            if (c.type === 'case_statement') {
              if (!c.childForFieldName('value')) hasDefault = true;
              fall = walkCase(c, s | fall);
            } else fall = walk(c, fall);
          }
          stack.pop();
          // continue inside a switch belongs to the enclosing loop.
          const outer = [...stack].reverse().find((x) => x.loop);
          if (outer) outer.continues |= j.continues;
          return fall | j.breaks | (hasDefault ? 0 : s);
        }
        case 'case_statement':
          return walkCase(n, s);
        case 'break_statement': {
          const t = stack[stack.length - 1];
          if (t) t.breaks |= s;
          return 0;
        }
        case 'continue_statement': {
          const t = [...stack].reverse().find((x) => x.loop);
          if (t) t.continues |= s;
          return 0;
        }
        case 'return_statement': {
          s = apply(n.namedChildren.find((c) => c && c.type !== 'comment') ?? null, s);
          if (s) flow.returns.push({ node: n, status: s });
          return 0;
        }
        case 'goto_statement': {
          const label = n.childForFieldName('label')?.text;
          if (label && s) {
            const list = flow.gotos.get(label) ?? [];
            list.push({ node: n, status: s });
            flow.gotos.set(label, list);
            labelIn.set(label, (labelIn.get(label) ?? 0) | s);
          }
          return 0;
        }
        case 'labeled_statement': {
          const label = n.childForFieldName('label')?.text;
          if (label) flow.fallInto.set(label, (flow.fallInto.get(label) ?? 0) | s);
          const merged = s | (label ? labelIn.get(label) ?? 0 : 0);
          note(n, merged);
          let out = merged;
          for (const c of n.namedChildren) {
            if (!c || c.type === 'statement_identifier' || c.type === 'comment') continue;
            out = walk(c, out);
          }
          return out;
        }
        default:
          return apply(n, s);
      }
    };
    const walkCase = (c: Node, s: number): number => {
      note(c, s);
      const value = c.childForFieldName('value');
      for (const st of c.namedChildren) {
        if (!st || (value && st.id === value.id) || st.type === 'comment') continue;
        s = walk(st, s);
      }
      return s;
    };
    const before = new Map(labelIn);
    flow.end = walk(body, initial);
    if ([...labelIn].every(([k, v]) => before.get(k) === v)) break;
  }
  return flow;
}

/** Calls inside a node, in source order (not into nested function definitions). */
export function callsIn(n: Node): Node[] {
  const out: Node[] = [];
  const stack: Node[] = [n];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.type === 'call_expression') out.push(x);
    for (let i = x.namedChildCount - 1; i >= 0; i--) {
      const c = x.namedChild(i);
      if (c && c.type !== 'function_definition') stack.push(c);
    }
  }
  return out.sort((a, b) => a.startIndex - b.startIndex);
}


/** The statement that holds `n` and is a direct child of a block (compound, case, label), or a lone if/loop body. */
export function statementOf(n: Node): Node | undefined {
  let cur: Node | null = n;
  while (cur && cur.parent) {
    const p: Node = cur.parent;
    if (p.type === 'compound_statement' || p.type === 'case_statement' || p.type === 'labeled_statement') {
      if (cur.type === 'statement_identifier') return undefined;
      return cur;
    }
    if ((p.type === 'if_statement' || p.type === 'while_statement' || p.type === 'for_statement' || p.type === 'do_statement')
      && p.childForFieldName('body')?.id !== cur.id && p.childForFieldName('consequence')?.id !== cur.id) {
      // inside a condition: the if/loop statement is the statement
      cur = p;
      continue;
    }
    if (p.type === 'if_statement' || p.type === 'while_statement' || p.type === 'for_statement' || p.type === 'do_statement' || p.type === 'else_clause') return cur;
    if (p.type === 'function_definition') return undefined;
    cur = p;
  }
  return undefined;
}
