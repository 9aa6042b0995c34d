// An independent count of allocation calls, to judge the analysis against: no tree-sitter, no kernel-idiom
// rewriting, no CFG, no knowledge-base loader. Only the allocator NAMES are shared with the analysis (read straight
// from server/src/model/kb/data/allocators.json); how calls are found is a plain text scan:
//   1. comments, string literals and character literals are blanked (newlines kept, so line numbers survive);
//   2. `#define` lines and their backslash continuations are blanked: a call inside a macro body is not a call
//      until the macro is used, and the analysis does not expand macros either;
//   3. every `NAME (` with NAME an allocator of the table (or `NAME_noprof` for entries marked `noprof`) is a hit,
//      unless it follows `.` or `->` (a member function pointer, not the allocator) or sits at brace depth 0
//      (outside any function body: a definition or prototype such as `void *kmalloc_noprof(size_t size, …)`).
// Brace depth is counted over the blanked text; `#if`/`#else` arms with unbalanced braces could skew it, which is
// why the depth-0 hits are returned too, for the test to show.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Hit {
  /** 1-based */
  line: number;
  name: string;
}

export interface Count {
  /** calls inside function bodies: what the analysis should report as allocation sites */
  calls: Hit[];
  /** NAME( at file scope: definitions and prototypes */
  fileScope: Hit[];
  /** NAME( inside `#define` bodies (not counted as calls) */
  inDefines: number;
  /** `->NAME(` or `.NAME(`: calls through a member, not of the allocator */
  members: number;
  /** NAME( anywhere in the raw text, comments and strings included: what a plain grep would say */
  naive: number;
}

const ALLOCATORS = path.join(__dirname, '..', '..', 'server', 'src', 'model', 'kb', 'data', 'allocators.json');

/** Allocator names of one kernel table ("6.12", "6.1"), with the `_noprof` spellings of 6.12's alloc_hooks(). */
export function allocatorNames(table: string): Set<string> {
  const data = JSON.parse(fs.readFileSync(ALLOCATORS, 'utf8')) as { allocators: { name: string; versions?: string[]; noprof?: boolean }[] };
  const names = new Set<string>();
  for (const a of data.allocators) {
    if (a.versions && !a.versions.includes(table)) continue;
    names.add(a.name);
    if (a.noprof && table !== '6.1') names.add(`${a.name}_noprof`);
  }
  return names;
}

const blank = (s: string): string => s.replace(/[^\n]/g, ' ');

/** Comments, strings and character literals replaced by spaces of the same length (newlines kept). */
export function stripCommentsAndStrings(text: string): string {
  // Left to right, the earliest match wins: a `//` inside a string is part of the string, a quote inside a comment
  // part of the comment.
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\[\s\S]|[^"\\\n])*"|'(?:\\[\s\S]|[^'\\\n])*'/g, blank);
}

/** `#define` lines (with their continuations) replaced by spaces; returns the text and the blanked parts. */
export function stripDefines(text: string): { text: string; defines: string[] } {
  const lines = text.split('\n');
  const defines: string[] = [];
  let continued = false;
  for (let i = 0; i < lines.length; i++) {
    if (continued || /^\s*#\s*define\b/.test(lines[i])) {
      continued = /\\\s*$/.test(lines[i]);
      defines.push(lines[i]);
      lines[i] = blank(lines[i]);
    }
  }
  return { text: lines.join('\n'), defines };
}

// A fresh global regex per use: a shared one carries lastIndex from one scan into the next.
const callRe = (): RegExp => /([A-Za-z_]\w*)\s*\(/g;

export function countAllocatorCalls(source: string, names: ReadonlySet<string>): Count {
  let naive = 0;
  for (const m of source.matchAll(callRe())) if (names.has(m[1])) naive++;
  const { text, defines } = stripDefines(stripCommentsAndStrings(source));
  let inDefines = 0;
  for (const d of defines) for (const m of d.matchAll(callRe())) if (names.has(m[1])) inDefines++;
  const out: Count = { calls: [], fileScope: [], inDefines, members: 0, naive };
  let depth = 0;
  let line = 1;
  let pos = 0;
  const advance = (to: number) => {
    for (; pos < to; pos++) {
      const c = text.charCodeAt(pos);
      if (c === 123 /* { */) depth++;
      else if (c === 125 /* } */) depth--;
      else if (c === 10 /* \n */) line++;
    }
  };
  const re = callRe();
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (!names.has(m[1])) continue;
    advance(m.index);
    if (/(?:\.|->)\s*$/.test(text.slice(Math.max(0, m.index - 8), m.index))) {
      out.members++;
      continue;
    }
    (depth > 0 ? out.calls : out.fileScope).push({ line, name: m[1] });
  }
  return out;
}
