// 1-based line numbers for messages ("memalloc_nofs_save() at line 12"), cached per file object.
const cache = new WeakMap<object, number[]>();

export function lineOf(file: { text: string }, offset: number): number {
  let starts = cache.get(file);
  if (!starts) {
    starts = [0];
    const t = file.text;
    for (let i = t.indexOf('\n'); i >= 0; i = t.indexOf('\n', i + 1)) starts.push(i + 1);
    cache.set(file, starts);
  }
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** 1-based line and column (UTF-16 code units) of an offset. */
export function positionOf(file: { text: string }, offset: number): { line: number; column: number } {
  const line = lineOf(file, offset);
  const starts = cache.get(file)!;
  return { line, column: offset - starts[line - 1] + 1 };
}
