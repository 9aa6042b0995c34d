// A parsed C file as a value: the original text, the kernel-idiom-rewritten text tree-sitter saw, the tree,
// the rewrites and a line index. Nothing here throws on user input: problems are returned as messages.
//
// Incremental reparse: parseSource(parser, text, previous) diffs the previous parsedText against the new one
// (common prefix and suffix: an editor change is one contiguous edit), applies it to a copy of the previous tree
// with tree.edit() and lets tree-sitter reuse the unchanged subtrees. Preprocessing always runs on the whole
// text: it is a linear scan (a few ms for a 5,000-line file) and its output is what the tree must match.
// Measured by scripts/parse-quality.ts (section "incremental"): see its header for the figures.
//
// Pure: no IO (bytes in, values out).
import type { Parser, Point, Tree } from 'web-tree-sitter';
import { preprocessKernelC, type Rewrite } from './kernelIdioms';
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
  /** The tree has ERROR or MISSING nodes somewhere. */
  readonly hasErrors: boolean;
  /** Problems of the parse itself (not syntax errors), e.g. a cancelled or failed parse. */
  readonly problems: readonly string[];
  /** Frees the tree; idempotent. */
  dispose(): void;
}

export interface ParseOptions {
  /** Give up (with a problem, and an empty tree) after this many milliseconds. */
  timeoutMs?: number;
}

/** Preprocess and parse `text`; never throws. `previous` (same parser, not disposed) enables incremental reparse. */
export function parseSource(parser: Parser, text: string, previous?: SourceFile, opts: ParseOptions = {}): SourceFile {
  const problems: string[] = [];
  let parsedText = text;
  let rewrites: Rewrite[] = [];
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
  }

  let disposed = false;
  const t = tree;
  return {
    text,
    parsedText,
    tree: t,
    rewrites,
    lineIndex: new LineIndex(text),
    hasErrors: t.rootNode.hasError,
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
