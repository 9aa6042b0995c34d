// Offsets ↔ {line, character}, the one place where that conversion happens.
//
// Units. Every offset in this project is an index into a JavaScript string, i.e. a count of UTF-16 code units.
// web-tree-sitter 0.25 parses a JS string as UTF-16, and its `node.startIndex`/`endIndex` AND
// `startPosition.column` are in UTF-16 code units as well (pinned by test/syntax/lineIndex.test.ts with `é` and
// an emoji before a function). LSP positions default to UTF-16 code units too, so `character` below is simply
// `offset - lineStart`: no transcoding anywhere, as long as nobody mixes in UTF-8 byte counts.
//
// Lines. Following LSP, a line ends at `\n`, `\r\n` or a lone `\r`. tree-sitter counts rows by `\n` only, so its
// `startPosition.row` differs from ours in files with lone `\r`: derive positions from `startIndex` through this
// class, never from tree-sitter points.
//
// Pure: no IO.

export interface LineCol {
  /** 0-based line. */
  line: number;
  /** 0-based column in UTF-16 code units. */
  character: number;
}

export class LineIndex {
  /** Offset of the first character of each line; lineStarts[0] === 0. */
  private readonly lineStarts: number[];

  constructor(readonly text: string) {
    const starts = [0];
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        starts.push(i + 1);
      }
    }
    this.lineStarts = starts;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** Offset of the first character of `line` (clamped to the document). */
  lineStart(line: number): number {
    if (line <= 0) return 0;
    if (line >= this.lineStarts.length) return this.text.length;
    return this.lineStarts[line];
  }

  /** Offset just past the last character of `line`, before its line terminator. */
  lineEnd(line: number): number {
    if (line < 0) return 0;
    if (line >= this.lineStarts.length - 1) return this.text.length;
    let end = this.lineStarts[line + 1];
    if (end > 0 && this.text.charCodeAt(end - 1) === 10) end--;
    if (end > 0 && this.text.charCodeAt(end - 1) === 13) end--;
    return end;
  }

  /** 0-based line containing `offset` (offsets are clamped to [0, length]). */
  lineOf(offset: number): number {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Position of `offset`. An offset inside a `\r\n` pair reports the end of the line. */
  positionAt(offset: number): LineCol {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const line = this.lineOf(o);
    const character = Math.min(o, this.lineEnd(line)) - this.lineStarts[line];
    return { line, character };
  }

  /** Offset of a position; a line past the end clamps to the end of the text, a character past the line end to the line end. */
  offsetAt(pos: LineCol): number {
    if (pos.line >= this.lineStarts.length) return this.text.length;
    if (pos.line < 0) return 0;
    const start = this.lineStarts[pos.line];
    return Math.max(start, Math.min(start + Math.max(0, pos.character), this.lineEnd(pos.line)));
  }
}
