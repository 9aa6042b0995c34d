// A parsed C file as a value: the original text, the kernel-idiom-rewritten text tree-sitter saw, the tree,
// the rewrites and a line index. Nothing here throws on user input: problems are returned as messages.
//
// Broken items: when a top-level ERROR node spans several top-level items (kernel style starts each at column 0),
// each item inside it whose brackets do not balance (a function being typed) is blanked and the text reparsed
// once, so that the functions after it are found. The blanked range is an 'other' rewrite with macro
// 'lines A-B', and a problem says that part is not analysed.
//
// Incremental reparse: parseSource(parser, text, previous) diffs the previous parsedText against the new one
// (common prefix and suffix: an editor change is one contiguous edit), applies it to a copy of the previous tree
// with tree.edit() and lets tree-sitter reuse the unchanged subtrees. Preprocessing always runs on the whole
// text: it is a linear scan (a few ms for a 5,000-line file) and its output is what the tree must match.
// Measured by scripts/parse-quality.ts (section "incremental"): on the 20 largest files of fs/ + mm/ of
// linux-source-6.12, after a one-line insert in a function body, a full preprocess+parse took 85 ms/file and the
// incremental one 23 ms/file (2-core machine), with identical trees in 20/20 files: worth it for the editor.
//
// Pure: no IO (bytes in, values out).
import type { Node, Parser, Point, Tree } from 'web-tree-sitter';
import { bracketsBalanced, preprocessKernelC, type Rewrite } from './kernelIdioms';
import { LineIndex } from './lineIndex';

export interface DecodeOptions {
  /** Files larger than this are not analysed. */
  maxBytes: number;
}

export interface DecodeResult {
  /** The text, unless the file is not analysed (binary, too large). */
  text?: string;
  /** Why the file is not analysed, or how it was decoded when that is worth telling. */
  problem?: string;
}

/** Bytes scanned for NUL to call a file binary (like git and grep). */
const BINARY_PROBE = 8 * 1024;

function mb(n: number): string {
  const v = n / (1024 * 1024);
  return v >= 10 ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, '');
}

/** Decode file bytes: UTF-8 (BOM dropped), else Latin-1 with a problem; binary and oversized files are refused. */
export function decodeSource(bytes: Uint8Array, opts: DecodeOptions): DecodeResult {
  if (bytes.length > opts.maxBytes) {
    return { problem: `file too large (${mb(bytes.length)} MB > limit ${mb(opts.maxBytes)} MB), not analysed` };
  }
  const probe = Math.min(bytes.length, BINARY_PROBE);
  for (let i = 0; i < probe; i++) if (bytes[i] === 0) return { problem: 'binary file, not analysed' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { text: latin1(bytes), problem: 'not valid UTF-8; decoded as Latin-1' };
  }
}

/** ISO-8859-1: each byte is the code point (TextDecoder's 'latin1' label is windows-1252, which differs in 0x80–0x9F). */
function latin1(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    parts.push(String.fromCharCode(...bytes.subarray(i, i + CHUNK)));
  }
  return parts.join('');
}

export interface SourceFile {
  /** The text as the user wrote it: all offsets refer to it. */
  readonly text: string;
  /** The same-length text tree-sitter parsed (kernel idioms rewritten). */
  readonly parsedText: string;
  readonly tree: Tree;
  /** What preprocessKernelC changed, sorted by start. */
  readonly rewrites: readonly Rewrite[];
  readonly lineIndex: LineIndex;
  /** The tree has ERROR or MISSING nodes somewhere, or a broken item was blanked (see problems). */
  readonly hasErrors: boolean;
  /** Problems of the parse itself (not syntax errors), e.g. a cancelled or failed parse. */
  readonly problems: readonly string[];
  /** Frees the tree; idempotent. */
  dispose(): void;
}

export interface ParseOptions {
  /** Give up (with a problem, and an empty tree) after this many milliseconds. */
  timeoutMs?: number;
  /** When given, the milliseconds spent preprocessing and parsing are added to it (for benchmarks). */
  timings?: { preprocessMs: number; parseMs: number };
}

/** Preprocess and parse `text`; never throws. `previous` (same parser, not disposed) enables incremental reparse. */
export function parseSource(parser: Parser, text: string, previous?: SourceFile, opts: ParseOptions = {}): SourceFile {
  const problems: string[] = [];
  let parsedText = text;
  let rewrites: Rewrite[] = [];
  const t0 = opts.timings ? performance.now() : 0;
  try {
    const pre = preprocessKernelC(text);
    if (pre.text.length === text.length) {
      parsedText = pre.text;
      rewrites = pre.rewrites;
    } else {
      problems.push('internal: kernel-idiom rewrite changed the text length; parsed the text as written');
    }
  } catch (e) {
    problems.push(`internal: kernel-idiom rewrite failed (${message(e)}); parsed the text as written`);
  }

  const t1 = opts.timings ? performance.now() : 0;
  let tree: Tree | null = null;
  let oldTree: Tree | null = null;
  try {
    if (previous && previous.parsedText !== parsedText) {
      oldTree = previous.tree.copy();
      oldTree.edit(diffEdit(previous.parsedText, parsedText));
    } else if (previous) {
      oldTree = previous.tree.copy();
    }
    const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : undefined;
    tree = parser.parse(parsedText, oldTree, deadline === undefined ? undefined : {
      progressCallback: () => Date.now() > deadline,
    });
    if (!tree) problems.push(`parse cancelled after ${opts.timeoutMs} ms; file not analysed`);
  } catch (e) {
    problems.push(`parse failed (${message(e)}); file not analysed`);
    tree = null;
  } finally {
    oldTree?.delete();
  }
  if (!tree) {
    parser.reset();
    tree = parser.parse('')!;
  } else if (tree.rootNode.hasError) {
    // A half-typed function can leave brackets open and swallow the functions after it: blank it and reparse.
    const recovered = isolateBrokenItems(parsedText, tree);
    if (recovered) {
      try {
        const again = parser.parse(recovered.text);
        if (again) {
          tree.delete();
          tree = again;
          parsedText = recovered.text;
          rewrites = [...rewrites, ...recovered.rewrites].sort((a, b) => a.start - b.start);
          for (const r of recovered.rewrites) problems.push(`syntax errors in ${r.macro}; that part is not analysed`);
        }
      } catch (e) {
        problems.push(`reparse failed (${message(e)})`);
      }
    }
  }

  if (opts.timings) {
    opts.timings.preprocessMs += t1 - t0;
    opts.timings.parseMs += performance.now() - t1;
  }
  const recoveredSomething = rewrites.some((r) => r.kind === 'other' && r.macro.startsWith('lines '));
  let disposed = false;
  const t = tree;
  return {
    text,
    parsedText,
    tree: t,
    rewrites,
    lineIndex: new LineIndex(text),
    hasErrors: t.rootNode.hasError || recoveredSomething,
    problems,
    dispose() {
      if (disposed) return;
      disposed = true;
      t.delete();
    },
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** tree-sitter point of an offset: rows count `\n` only; columns are UTF-16 code units (see lineIndex.ts). */
function pointAt(text: string, offset: number): Point {
  let row = 0;
  let lastNl = -1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lastNl = i;
  }
  return { row, column: offset - lastNl - 1 };
}

/** The single contiguous edit turning `before` into `after` (common prefix and suffix kept). */
export function diffEdit(before: string, after: string) {
  const max = Math.min(before.length, after.length);
  let p = 0;
  while (p < max && before.charCodeAt(p) === after.charCodeAt(p)) p++;
  let s = 0;
  while (s < max - p && before.charCodeAt(before.length - 1 - s) === after.charCodeAt(after.length - 1 - s)) s++;
  const oldEnd = before.length - s;
  const newEnd = after.length - s;
  return {
    startIndex: p,
    oldEndIndex: oldEnd,
    newEndIndex: newEnd,
    startPosition: pointAt(before, p),
    oldEndPosition: pointAt(before, oldEnd),
    newEndPosition: pointAt(after, newEnd),
  };
}

/** Column-0 line starting a top-level item: an identifier that is not a label, or `}`-free code. */
const ITEM_START = /^[A-Za-z_]\w*(?![\w \t]*:)/;

function isolateBrokenItems(text: string, tree: Tree): { text: string; rewrites: Rewrite[] } | undefined {
  const root = tree.rootNode;
  const errors: Node[] = root.isError ? [root] : root.children.filter((c): c is Node => !!c && c.isError);
  if (errors.length === 0) return undefined;
  const out: string[] = [];
  const rewrites: Rewrite[] = [];
  let at = 0;
  for (const err of errors) {
    // Item starts inside the ERROR node: column-0 lines beginning with an identifier.
    const starts: number[] = [err.startIndex];
    for (let nl = text.indexOf('\n', err.startIndex); nl >= 0 && nl + 1 < err.endIndex; nl = text.indexOf('\n', nl + 1)) {
      if (ITEM_START.test(text.slice(nl + 1, nl + 81))) starts.push(nl + 1);
    }
    if (starts.length < 2) continue;
    starts.push(err.endIndex);
    for (let i = 0; i + 1 < starts.length; i++) {
      const a = starts[i];
      const b = starts[i + 1];
      if (b <= a || bracketsBalanced(text, a, b)) continue;
      out.push(text.slice(at, a), text.slice(a, b).replace(/[^\r\n]/g, ' '));
      at = b;
      const lines = (s: number): number => text.slice(0, s).split('\n').length;
      rewrites.push({ start: a, end: b, kind: 'other', macro: `lines ${lines(a)}-${lines(b - 1)}` });
    }
  }
  if (rewrites.length === 0) return undefined;
  out.push(text.slice(at));
  return { text: out.join(''), rewrites };
}
