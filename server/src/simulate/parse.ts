// Error-tolerant parser for `.rlsim` models (language reference: docs/rlsim.md).
// The language is line-oriented: one declaration or step per line, blocks open with `{` at the end of a line
// and close with `}` on a line of its own. Comments start with `//`. A bad line yields a problem and is skipped;
// parseModel never throws.
import { evalMask } from './gfp';
import {
  RECLAIM_KINDS, SCOPE_OPS, STEP_RESOURCE_KINDS, THREAD_ROLES,
  type FaultHandler, type MaskValue, type Model, type ParseResult, type Problem, type ReclaimCallback,
  type ReclaimFrom, type ReclaimKind, type ResourceDecl, type ResourceFlavor, type ResourceKind, type SourceLocation,
  type Span, type Step, type StepOp, type ThreadDecl, type ThreadRole,
} from './model';

interface Tok {
  kind: 'word' | 'string' | 'loc' | 'lbrace' | 'rbrace';
  text: string;
  /** Decoded string contents for `string` tokens. */
  value: string;
  line: number;
  column: number;
  endColumn: number;
}

const RESOURCE_KEYWORDS: Record<string, { kind: ResourceKind; flavor: ResourceFlavor }> = {
  mutex: { kind: 'mutex', flavor: 'mutex' },
  spinlock: { kind: 'spinlock', flavor: 'spinlock' },
  rwsem: { kind: 'rwsem', flavor: 'rwsem' },
  completion: { kind: 'completion', flavor: 'completion' },
  fence: { kind: 'completion', flavor: 'fence' },
  transaction: { kind: 'transaction', flavor: 'transaction' },
  queue: { kind: 'queue', flavor: 'queue' },
};

const STEP_OPS: readonly StepOp[] = [
  'lock', 'rlock', 'trylock', 'tryrlock', 'unlock', 'wait', 'signal', 'start', 'stop', 'commit',
  'freeze', 'unfreeze', 'io', 'enter', 'exit', 'alloc', 'reclaim', 'fault', ...SCOPE_OPS,
];

const SCOPE_BLOCKS: Record<string, StepOp> = { nofs: 'nofs_save', noio: 'noio_save', noreclaim: 'noreclaim_save' };

/** Tokenise one line; `//` outside a string starts a comment. */
function tokenize(lineText: string, line: number, problems: Problem[]): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const n = lineText.length;
  while (i < n) {
    const c = lineText[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && lineText[i + 1] === '/') break;
    const start = i;
    if (c === '{' || c === '}') {
      toks.push({ kind: c === '{' ? 'lbrace' : 'rbrace', text: c, value: c, line, column: i + 1, endColumn: i + 2 });
      i++;
      continue;
    }
    if (c === '"') {
      let value = '';
      i++;
      let closed = false;
      while (i < n) {
        const d = lineText[i];
        if (d === '\\' && i + 1 < n) {
          const e = lineText[i + 1];
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        value += d;
        i++;
      }
      if (!closed) {
        problems.push({ message: 'unterminated string (missing closing \'"\')', severity: 'error', line, column: start + 1, endLine: line, endColumn: n + 1 });
      }
      toks.push({ kind: 'string', text: lineText.slice(start, i), value, line, column: start + 1, endColumn: i + 1 });
      continue;
    }
    while (i < n) {
      const d = lineText[i];
      if (d === ' ' || d === '\t' || d === '\r' || d === '{' || d === '}' || d === '"') break;
      if (d === '/' && lineText[i + 1] === '/' && i > start && lineText[start] !== '@') break;
      i++;
    }
    const text = lineText.slice(start, i);
    toks.push({ kind: text.startsWith('@') ? 'loc' : 'word', text, value: text, line, column: start + 1, endColumn: i + 1 });
  }
  return toks;
}

/** A name token's text: quoted names (`mutex "(work_completion)(&w->work)"`) may contain spaces. */
function nameOf(t: Tok): string {
  return t.kind === 'string' ? t.value : t.text;
}

function spanOf(a: Tok, b: Tok = a): Span {
  return { line: a.line, column: a.column, endLine: b.line, endColumn: b.endColumn };
}

interface OpenBlock {
  type: 'reclaim' | 'fault' | 'thread' | 'scope';
  steps: Step[];
  opener: Tok;
  name: string;
  restore?: StepOp;
}

interface Attrs {
  location?: SourceLocation;
  note?: string;
  /** Tokens before the first attribute. */
  rest: Tok[];
  /** key → value tokens for `kind`, `gate`, `from`, `role` (when allowed). */
  keyed: Map<string, { key: Tok; values: Tok[] }>;
  opensBlock: boolean;
  closesInline: boolean;
  lastTok: Tok;
}

export function parseModel(text: string): ParseResult {
  const problems: Problem[] = [];
  const model: Model = { resources: [], reclaims: [], faults: [], threads: [] };
  const err = (message: string, a: Tok | Span, b?: Tok, severity: 'error' | 'warning' = 'error'): void => {
    const s = 'kind' in a ? spanOf(a, b ?? a) : a;
    problems.push({ message, severity, line: s.line, column: s.column, endLine: s.endLine, endColumn: s.endColumn });
  };

  const parseLocation = (tok: Tok): SourceLocation | undefined => {
    const m = /^@(.+?):(\d+)(?::(\d+))?$/.exec(tok.text);
    if (!m) {
      err(`bad source location '${tok.text}': expected @path:line (e.g. @fs/xfs/xfs_icache.c:1035)`, tok);
      return undefined;
    }
    const loc: SourceLocation = { file: m[1], line: Number(m[2]) };
    if (m[3] !== undefined) loc.column = Number(m[3]);
    return loc;
  };

  /**
   * Split a line's tokens (after the leading keyword) into positional tokens, keyed attributes, `@location`,
   * `note "..."` and a trailing `{` / `{ }`. Keys are only recognised when listed in `keys`.
   */
  const attributes = (toks: Tok[], keys: readonly string[]): Attrs | undefined => {
    const out: Attrs = { rest: [], keyed: new Map(), opensBlock: false, closesInline: false, lastTok: toks[toks.length - 1] };
    // Positional tokens are allowed before any attribute; after a key they are that key's values;
    // after `@location` or `note "..."` only further attributes may follow.
    let current: Tok[] | null = out.rest;
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.kind === 'lbrace') {
        const after = toks.slice(i + 1);
        if (after.length === 0) {
          out.opensBlock = true;
        } else if (after.length === 1 && after[0].kind === 'rbrace') {
          out.opensBlock = true;
          out.closesInline = true;
        } else {
          err("'{' must end the line (put each step on its own line)", after[0], after[after.length - 1]);
          return undefined;
        }
        break;
      }
      if (t.kind === 'rbrace') {
        err("unexpected '}' (a closing brace must be on a line of its own)", t);
        return undefined;
      }
      if (t.kind === 'loc') {
        if (out.location) err('more than one source location on this line', t);
        out.location = parseLocation(t);
        current = null;
        continue;
      }
      if (t.kind === 'word' && t.text === 'note') {
        const s = toks[i + 1];
        if (!s || s.kind !== 'string') {
          err('expected a quoted string after note (note "text")', s ?? t);
          return undefined;
        }
        out.note = s.value;
        i++;
        current = null;
        continue;
      }
      if (t.kind === 'string' && current !== out.rest) {
        err('unexpected string (only names and note take a string)', t);
        return undefined;
      }
      if (t.kind === 'word' && keys.includes(t.text)) {
        if (out.keyed.has(t.text)) err(`'${t.text}' given twice`, t);
        const entry = { key: t, values: [] as Tok[] };
        out.keyed.set(t.text, entry);
        current = entry.values;
        continue;
      }
      if (current === null) {
        err(`unexpected '${t.text}' after the source location or note`, t);
        return undefined;
      }
      current.push(t);
    }
    return out;
  };

  const maskFrom = (toks: Tok[], what: string, anchor: Tok): MaskValue | undefined => {
    if (toks.length === 0) {
      err(`expected a gfp mask after ${what} (e.g. GFP_KERNEL)`, anchor);
      return undefined;
    }
    // Rebuild the expression text with the original spacing so error offsets map back to columns.
    const first = toks[0];
    let exprText = '';
    let col = first.column;
    for (const t of toks) {
      exprText += ' '.repeat(Math.max(0, t.column - col)) + t.text;
      col = t.endColumn;
    }
    const r = evalMask(exprText);
    if (r.value === undefined) {
      const e = r.error!;
      const startCol = first.column + e.offset;
      err(e.message, { line: first.line, column: startCol, endLine: first.line, endColumn: startCol + Math.max(1, e.length) });
      return undefined;
    }
    return { text: exprText, value: r.value };
  };

  const blocks: OpenBlock[] = [];
  const lines = text.split('\n');

  const parseStep = (toks: Tok[], into: OpenBlock): void => {
    const head = toks[0];
    const word = head.text;
    if (Object.prototype.hasOwnProperty.call(SCOPE_BLOCKS, word) && toks[toks.length - 1].kind === 'lbrace') {
      const a = attributes(toks.slice(1), []);
      if (!a) return;
      if (a.rest.length > 0) {
        err(`unexpected '${a.rest[0].text}': a scope block is written '${word} {'`, a.rest[0]);
        return;
      }
      const save = SCOPE_BLOCKS[word];
      into.steps.push({ op: save, span: spanOf(head, toks[toks.length - 1]), location: a.location, note: a.note });
      const restore = save.replace('_save', '_restore') as StepOp;
      if (a.closesInline) {
        into.steps.push({ op: restore, span: spanOf(toks[toks.length - 1]) });
        return;
      }
      blocks.push({ type: 'scope', steps: into.steps, opener: head, name: word, restore });
      return;
    }
    if (!(STEP_OPS as readonly string[]).includes(word)) {
      const hint = RESOURCE_KEYWORDS[word] || word === 'thread' || word === 'model'
        ? ` ('${word}' declarations belong at the top level)` : '';
      err(`unknown step '${word}'${hint}; expected one of: ${STEP_OPS.join(', ')}`, head);
      return;
    }
    const op = word as StepOp;
    const a = attributes(toks.slice(1), []);
    if (!a) return;
    if (a.opensBlock) {
      err(`a ${op} step does not open a block`, head);
      return;
    }
    const step: Step = { op, span: spanOf(head, a.lastTok ?? head), location: a.location, note: a.note };
    if (STEP_RESOURCE_KINDS[op]) {
      if (a.rest.length !== 1) {
        err(a.rest.length === 0 ? `${op} needs a resource name (e.g. ${op} &inode->i_rwsem)` : `${op} takes one resource name; unexpected '${a.rest[1].text}'`,
          a.rest.length === 0 ? head : a.rest[1], a.rest.length === 0 ? head : a.rest[a.rest.length - 1]);
        return;
      }
      step.resource = nameOf(a.rest[0]);
      step.operandSpan = spanOf(a.rest[0]);
    } else if (op === 'alloc' || op === 'reclaim') {
      const mask = maskFrom(a.rest, op, head);
      if (!mask) return;
      step.mask = mask;
      step.operandSpan = spanOf(a.rest[0], a.rest[a.rest.length - 1]);
    } else if (op === 'fault') {
      if (a.rest.length > 1) {
        err(`fault takes at most one handler name; unexpected '${a.rest[1].text}'`, a.rest[1]);
        return;
      }
      if (a.rest.length === 1) {
        step.handler = nameOf(a.rest[0]);
        step.operandSpan = spanOf(a.rest[0]);
      }
    } else if (a.rest.length > 0) {
      err(`${op} takes no operand; unexpected '${a.rest[0].text}'`, a.rest[0]);
      return;
    }
    into.steps.push(step);
  };

  const parseTopLevel = (toks: Tok[]): void => {
    const head = toks[0];
    const word = head.text;
    if (word === 'model') {
      const rest = toks.slice(1);
      if (rest.length === 0) {
        err('expected a model name (model "xfs ILOCK vs super_cache_scan")', head);
        return;
      }
      if (model.name !== undefined) err('model name given twice', head);
      model.name = rest.length === 1 && rest[0].kind === 'string' ? rest[0].value : rest.map((t) => t.kind === 'string' ? t.value : t.text).join(' ');
      return;
    }
    if (RESOURCE_KEYWORDS[word]) {
      const a = attributes(toks.slice(1), []);
      if (!a) return;
      if (a.opensBlock) {
        err(`a ${word} declaration does not open a block`, head);
        return;
      }
      if (a.rest.length !== 1) {
        err(a.rest.length === 0 ? `expected a name after ${word} (e.g. ${word} &inode->i_rwsem)` : `unexpected '${a.rest[1].text}' after the ${word} name`,
          a.rest.length === 0 ? head : a.rest[1]);
        return;
      }
      const nameTok = a.rest[0];
      const { kind, flavor } = RESOURCE_KEYWORDS[word];
      const decl: ResourceDecl = { kind, flavor, name: nameOf(nameTok), span: spanOf(head, a.lastTok), nameSpan: spanOf(nameTok), location: a.location, note: a.note };
      if (model.resources.some((r) => r.name === decl.name)) {
        err(`'${decl.name}' is already declared`, nameTok);
        return;
      }
      model.resources.push(decl);
      return;
    }
    if (word === 'reclaim' || word === 'fault' || word === 'thread') {
      const keys = word === 'reclaim' ? ['kind', 'gate', 'from'] : word === 'thread' ? ['role'] : [];
      const a = attributes(toks.slice(1), keys);
      if (!a) return;
      if (a.rest.length === 0) {
        err(`expected a name after ${word}`, head);
        return;
      }
      if (a.rest.length > 1) {
        err(`unexpected '${a.rest[1].text}' after the ${word} name${keys.length ? ` (attributes: ${keys.join(', ')}, @location, note)` : ''}`, a.rest[1]);
        return;
      }
      // `thread kswapd0 role kswapd` may omit its body: it then runs one default reclaim pass.
      const bodyless = word === 'thread' && a.keyed.get('role')?.values[0]?.text === 'kswapd';
      if (!a.opensBlock && !bodyless) {
        err(`expected '{' at the end of the ${word} line`, a.lastTok);
      }
      const nameTok = a.rest[0];
      const span = spanOf(head, a.lastTok);
      const single = (key: string): Tok | undefined => {
        const e = a.keyed.get(key);
        if (!e) return undefined;
        if (e.values.length !== 1) {
          err(`'${key}' takes one value`, e.values[1] ?? e.key);
          return undefined;
        }
        return e.values[0];
      };
      let block: OpenBlock;
      if (word === 'reclaim') {
        const cb: ReclaimCallback = {
          type: 'reclaim', name: nameOf(nameTok), kind: 'other', gate: null, from: 'any', steps: [],
          location: a.location, note: a.note, span, nameSpan: spanOf(nameTok),
        };
        const kindTok = single('kind');
        if (kindTok) {
          if ((RECLAIM_KINDS as readonly string[]).includes(kindTok.text)) cb.kind = kindTok.text as ReclaimKind;
          else err(`unknown reclaim kind '${kindTok.text}'; expected one of: ${RECLAIM_KINDS.join(', ')}`, kindTok);
        }
        const gate = a.keyed.get('gate');
        if (gate) cb.gate = maskFrom(gate.values, 'gate', gate.key) ?? null;
        const fromTok = single('from');
        if (fromTok) {
          if (['any', 'direct', 'kswapd'].includes(fromTok.text)) cb.from = fromTok.text as ReclaimFrom;
          else err(`unknown 'from' value '${fromTok.text}'; expected direct, kswapd or any`, fromTok);
        }
        if (model.reclaims.some((r) => r.name === cb.name) || model.faults.some((f) => f.name === cb.name)) err(`'${cb.name}' is already declared`, nameTok);
        model.reclaims.push(cb);
        block = { type: 'reclaim', steps: cb.steps, opener: head, name: cb.name };
      } else if (word === 'fault') {
        const fh: FaultHandler = { type: 'fault', name: nameOf(nameTok), steps: [], location: a.location, note: a.note, span, nameSpan: spanOf(nameTok) };
        if (model.reclaims.some((r) => r.name === fh.name) || model.faults.some((f) => f.name === fh.name)) err(`'${fh.name}' is already declared`, nameTok);
        model.faults.push(fh);
        block = { type: 'fault', steps: fh.steps, opener: head, name: fh.name };
      } else {
        const th: ThreadDecl = { name: nameOf(nameTok), role: 'task', steps: [], location: a.location, note: a.note, span, nameSpan: spanOf(nameTok) };
        const roleTok = single('role');
        if (roleTok) {
          if ((THREAD_ROLES as readonly string[]).includes(roleTok.text)) th.role = roleTok.text as ThreadRole;
          else err(`unknown thread role '${roleTok.text}'; expected one of: ${THREAD_ROLES.join(', ')}`, roleTok);
        }
        if (model.threads.some((t) => t.name === th.name)) err(`thread '${th.name}' is already declared`, nameTok);
        model.threads.push(th);
        block = { type: 'thread', steps: th.steps, opener: head, name: th.name };
      }
      if (a.opensBlock && !a.closesInline) blocks.push(block);
      return;
    }
    if ((STEP_OPS as readonly string[]).includes(word)) {
      err(`step '${word}' outside a thread, reclaim or fault block`, head);
      return;
    }
    err(`unknown declaration '${word}'; expected model, mutex, spinlock, rwsem, completion, fence, transaction, queue, reclaim, fault or thread`, head);
  };

  for (let ln = 0; ln < lines.length; ln++) {
    const toks = tokenize(lines[ln], ln + 1, problems);
    if (toks.length === 0) continue;
    if (toks[0].kind === 'rbrace') {
      if (toks.length > 1) err("unexpected text after '}'", toks[1], toks[toks.length - 1]);
      const open = blocks.pop();
      if (!open) {
        err("unmatched '}'", toks[0]);
        continue;
      }
      if (open.type === 'scope' && open.restore) open.steps.push({ op: open.restore, span: spanOf(toks[0]) });
      continue;
    }
    if (toks[0].kind !== 'word') {
      err(`unexpected '${toks[0].text}' at the start of a line`, toks[0]);
      continue;
    }
    const inner = blocks[blocks.length - 1];
    if (inner) parseStep(toks, inner);
    else parseTopLevel(toks);
  }
  for (const open of blocks.reverse()) {
    err(open.type === 'scope' ? `'${open.name} {' is not closed (missing '}')` : `${open.type} '${open.name}' is not closed (missing '}')`, open.opener);
  }

  check(model, problems);
  return { model, problems };
}

/** Name resolution and well-formedness checks over the parsed model. */
function check(model: Model, problems: Problem[]): void {
  const err = (message: string, s: Span, severity: 'error' | 'warning' = 'error'): void => {
    problems.push({ message, severity, line: s.line, column: s.column, endLine: s.endLine, endColumn: s.endColumn });
  };
  const resources = new Map(model.resources.map((r) => [r.name, r]));
  const faults = new Set(model.faults.map((f) => f.name));

  const checkBlock = (steps: Step[], where: 'thread' | 'reclaim' | 'fault'): void => {
    const held: { name: string; mode: string }[] = [];
    const scopes: Record<string, number> = { nofs: 0, noio: 0, noreclaim: 0 };
    for (const step of steps) {
      const kinds = STEP_RESOURCE_KINDS[step.op];
      const at = step.operandSpan ?? step.span;
      if (kinds && step.resource !== undefined) {
        const r = resources.get(step.resource);
        if (!r) {
          err(`'${step.resource}' is not declared (declare it first, e.g. mutex ${step.resource})`, at);
          continue;
        }
        if (!kinds.includes(r.kind)) {
          err(`${step.op} does not apply to ${r.flavor} '${r.name}' (${step.op} works on: ${kinds.join(', ')})`, at);
          continue;
        }
        if (['lock', 'rlock', 'trylock', 'tryrlock', 'start', 'enter', 'freeze'].includes(step.op)) {
          held.push({ name: r.name, mode: step.op });
        } else if (['unlock', 'stop', 'exit', 'unfreeze'].includes(step.op)) {
          let idx = -1;
          for (let i = held.length - 1; i >= 0; i--) {
            if (held[i].name === r.name) {
              idx = i;
              break;
            }
          }
          if (idx < 0) err(`${step.op} of '${r.name}', which this ${where} block does not hold at this point`, at, 'warning');
          else held.splice(idx, 1);
        }
      }
      if (step.op === 'fault') {
        if (where !== 'thread') err(`fault inside a ${where} ${where === 'reclaim' ? 'callback' : 'handler'} is not supported`, step.span);
        else if (step.handler !== undefined && !faults.has(step.handler)) err(`no fault handler named '${step.handler}' (declare: fault ${step.handler} { ... })`, at);
        else if (step.handler === undefined && faults.size === 0) err('fault with no fault handlers declared: the step can only be a no-op', step.span, 'warning');
      }
      if (step.op === 'reclaim' && where === 'reclaim') err('reclaim does not recurse: a reclaim step inside a reclaim callback is not supported', step.span);
      if (SCOPE_OPS.includes(step.op)) {
        const [scope, dir] = step.op.split('_');
        if (dir === 'save') scopes[scope]++;
        else if (scopes[scope] === 0) err(`${step.op} without a matching ${scope}_save in this block`, step.span, 'warning');
        else scopes[scope]--;
      }
    }
  };

  for (const cb of model.reclaims) checkBlock(cb.steps, 'reclaim');
  for (const fh of model.faults) checkBlock(fh.steps, 'fault');
  for (const th of model.threads) {
    checkBlock(th.steps, 'thread');
    if (th.steps.length === 0 && th.role !== 'kswapd') err(`thread '${th.name}' has no steps`, th.nameSpan, 'warning');
  }
  if (model.threads.length === 0) {
    problems.push({ message: 'the model declares no thread (thread NAME { ... })', severity: 'error', line: 1, column: 1, endLine: 1, endColumn: 1 });
  }
}

/** True when no problem is an error (warnings do not stop the explorer). */
export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}
