// Line numbers for messages and output: line starts of a text, and 1-based line/column of an offset.
// The one place that turns offsets into lines (the CLI keeps only line starts of files it no longer holds).

/** Offsets at which the lines of `text` start. */
export function lineStartsOf(text: string): Uint32Array {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  const out = new Uint32Array(n);
  let k = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out[k++] = i + 1;
  return out;
}

/** 1-based line and column (UTF-16 code units) of an offset, given the line starts. */
export function positionAt(starts: ArrayLike<number>, offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

const cache = new WeakMap<object, Uint32Array>();

function startsOf(file: { text: string }): Uint32Array {
  let starts = cache.get(file);
  if (!starts) cache.set(file, (starts = lineStartsOf(file.text)));
  return starts;
}

/** 1-based line of an offset ("memalloc_nofs_save() at line 12"), line starts cached per file object. */
export function lineOf(file: { text: string }, offset: number): number {
  return positionAt(startsOf(file), offset).line;
}

/** 1-based line and column (UTF-16 code units) of an offset. */
export function positionOf(file: { text: string }, offset: number): { line: number; column: number } {
  return positionAt(startsOf(file), offset);
}
