// Text edits on offsets of the user's text: applying a set, mapping offsets from before to after, and the
// statement-level insertions the fixes need in kernel style (tabs, a line of its own, braces added around a lone
// statement that gains a sibling).
import type { Node } from 'web-tree-sitter';

/** Replace [start, end) of the text the fix was computed on by newText (offsets are UTF-16 code units). */
export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

/** Edits sorted by position; throws when two of them overlap (a bug in a fix, never user input). */
export function sortEdits(edits: readonly TextEdit[]): TextEdit[] {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1];
    const e = sorted[i];
    if (e.start < p.end || (e.start === p.start && p.start !== p.end && e.start !== e.end)) throw new Error(`overlapping edits at ${p.start}-${p.end} and ${e.start}-${e.end}`);
  }
  return sorted;
}

export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = sortEdits(edits);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    if (e.start < at || e.end > text.length) throw new Error(`edit ${e.start}-${e.end} outside the text`);
    out += text.slice(at, e.start) + e.newText;
    at = e.end;
  }
  return out + text.slice(at);
}

/**
 * Maps an offset of the text before the edits to the text after them. An offset inside a replaced range maps to the
 * start of its replacement; an insertion at exactly the offset pushes the offset to after the inserted text.
 */
export function offsetMapper(edits: readonly TextEdit[]): (o: number) => number {
  const sorted = sortEdits(edits);
  return (o: number) => {
    let delta = 0;
    for (const e of sorted) {
      if (e.end <= o) {
        delta += e.newText.length - (e.end - e.start);
        continue;
      }
      if (e.start <= o) return e.start + delta;
      break;
    }
    return o + delta;
  };
}

/** The ranges of the text after the edits that the edits wrote (to tell inserted code from moved code). */
export function insertedRanges(edits: readonly TextEdit[]): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let delta = 0;
  for (const e of sortEdits(edits)) {
    out.push({ start: e.start + delta, end: e.start + delta + e.newText.length });
    delta += e.newText.length - (e.end - e.start);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Statement-level insertions

/** The whitespace at the start of the line holding `offset`. */
export function indentAt(text: string, offset: number): string {
  const ls = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(ls, offset))![0];
}

/** True when only whitespace precedes `offset` on its line. */
export function startsLine(text: string, offset: number): boolean {
  const ls = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*$/.test(text.slice(ls, offset));
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** One indentation level deeper than `indent`, in the file's style (kernel: a tab). */
function deeper(indent: string): string {
  return indent.includes(' ') && !indent.includes('\t') ? `${indent}        ` : `${indent}\t`;
}

/** Statement node types that may stand alone as the body of if/else/while/for/do. */
const BODY_PARENTS = new Set(['if_statement', 'else_clause', 'while_statement', 'for_statement', 'do_statement']);

/**
 * Edits that put `code` (one statement, no indentation, no newline) right before statement `stmt`, on the same paths:
 * a line of its own with the statement's indentation; a lone body of if/else/loops gets braces first
 * (`if (err) return err;` → `if (err) {\n\t\tcode\n\t\treturn err;\n\t}`). Returns undefined where it cannot.
 */
export function insertBeforeStatement(text: string, stmt: Node, code: string): TextEdit[] | undefined {
  const parent = stmt.parent;
  if (!parent) return undefined;
  if (BODY_PARENTS.has(parent.type) && stmt.type !== 'compound_statement') return wrapInBraces(text, stmt, [code], []);
  if (stmt.type === 'compound_statement') {
    // `if (x) { … }`: inside the braces, before the first statement.
    const first = stmt.namedChildren.find((c) => c && c.type !== 'comment');
    if (first) return insertBeforeStatement(text, first, code);
    return undefined;
  }
  if (startsLine(text, stmt.startIndex)) {
    let indent = indentAt(text, stmt.startIndex);
    if (stmt.type === 'labeled_statement' && indent.length === 0) indent = siblingIndent(text, stmt) ?? '\t';
    const at = lineStart(text, stmt.startIndex);
    return [{ start: at, end: at, newText: `${indent}${code}\n` }];
  }
  // `out: return ret;` or `{ return x; }` on one line: before it, on the same line.
  return [{ start: stmt.startIndex, end: stmt.startIndex, newText: `${code} ` }];
}

/** Edits that put `code` right after statement `stmt` (which must end with `;` or `}`), on its own line. */
export function insertAfterStatement(text: string, stmt: Node, lines: string[]): TextEdit[] | undefined {
  const parent = stmt.parent;
  if (!parent) return undefined;
  if (BODY_PARENTS.has(parent.type) && stmt.type !== 'compound_statement') return wrapInBraces(text, stmt, [], lines);
  const indent = startsLine(text, stmt.startIndex) ? indentAt(text, stmt.startIndex) : indentAt(text, stmt.startIndex) || '\t';
  // After a trailing comment on the same line, if any.
  let at = stmt.endIndex;
  const eol = text.indexOf('\n', at);
  const rest = text.slice(at, eol < 0 ? text.length : eol);
  if (/^\s*(\/\*.*\*\/\s*|\/\/.*)?$/.test(rest)) at = eol < 0 ? text.length : eol;
  return [{ start: at, end: at, newText: lines.map((l) => `\n${indent}${l}`).join('') }];
}

/** `if (c) stmt;` → `if (c) {\n<before…>\n stmt\n<after…>\n}` by edits around stmt (its own text untouched). */
function wrapInBraces(text: string, stmt: Node, before: string[], after: string[]): TextEdit[] | undefined {
  const parent = stmt.parent!;
  // The token before the statement: `)` of the condition, `else`, or `do`.
  let prevEnd = -1;
  for (let i = 0; i < parent.childCount; i++) {
    const c = parent.child(i);
    if (!c) continue;
    if (c.startIndex >= stmt.startIndex) break;
    prevEnd = c.endIndex;
  }
  if (prevEnd < 0) return undefined;
  const between = text.slice(prevEnd, stmt.startIndex);
  if (!/^[ \t\r\n]*$/.test(between)) return undefined; // a comment in between: leave it alone
  // The indentation of the line holding the if/else/while keyword.
  const ownerStart = parent.type === 'else_clause' ? parent.startIndex : parent.startIndex;
  const indent = indentAt(text, ownerStart);
  const inner = deeper(indent);
  const head = ` {${before.map((l) => `\n${inner}${l}`).join('')}\n${inner}`;
  const tail = `${after.map((l) => `\n${inner}${l}`).join('')}\n${indent}}`;
  // A do-while body: `do stmt; while (c);` → the closing brace goes before `while`.
  return [
    { start: prevEnd, end: stmt.startIndex, newText: head },
    { start: stmt.endIndex, end: stmt.endIndex, newText: tail },
  ];
}

/** The indentation of the statements around a column-0 label (the previous or the labelled statement's). */
function siblingIndent(text: string, labeled: Node): string | undefined {
  const prev = labeled.previousNamedSibling;
  if (prev && startsLine(text, prev.startIndex)) {
    const i = indentAt(text, prev.startIndex);
    if (i) return i;
  }
  const inner = labeled.namedChildren.find((c) => c && c.type !== 'statement_identifier' && c.type !== 'comment');
  if (inner && startsLine(text, inner.startIndex)) return indentAt(text, inner.startIndex) || undefined;
  return undefined;
}

/** Edits that put `code` before the closing brace of a function body (a void function falling off its end). */
export function insertBeforeClosingBrace(text: string, body: Node, code: string): TextEdit[] | undefined {
  const close = body.endIndex - 1;
  if (text[close] !== '}') return undefined;
  const last = [...body.namedChildren].reverse().find((c) => c && c.type !== 'comment');
  const indent = last && startsLine(text, last.startIndex) ? indentAt(text, last.startIndex) || '\t' : '\t';
  if (startsLine(text, close)) {
    const at = lineStart(text, close);
    return [{ start: at, end: at, newText: `${indent}${code}\n` }];
  }
  return [{ start: close, end: close, newText: `${code} ` }];
}
