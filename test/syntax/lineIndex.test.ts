// Offsets ↔ positions, and the unit web-tree-sitter 0.25 reports for JS-string input (pinned here).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Parser } from 'web-tree-sitter';
import { listFunctions } from '../../server/src/syntax/ast';
import { LineIndex } from '../../server/src/syntax/lineIndex';
import { initParser } from '../../server/src/syntax/parser';
import { parseSource } from '../../server/src/syntax/sourceFile';

let parser: Parser;
before(async () => {
  parser = await initParser();
});

test('web-tree-sitter reports UTF-16 code units in startIndex and startPosition.column', () => {
  // `é` is 1 UTF-16 unit (2 UTF-8 bytes), `😀` is 2 UTF-16 units (4 UTF-8 bytes).
  const text = '/* é 😀 */ int f(void) { return 1; }\n/* ééé 😀😀 */ int g(void) { return 2; }\n';
  const tree = parser.parse(text)!;
  const [f, g] = tree.rootNode.namedChildren.filter((n) => n!.type === 'function_definition');
  assert.equal(f!.startIndex, text.indexOf('int f')); // 11 UTF-16 units; UTF-8 bytes would be 14
  assert.equal(f!.startIndex, 11);
  assert.deepEqual(f!.startPosition, { row: 0, column: 11 });
  assert.equal(f!.endIndex, text.indexOf('}') + 1);
  const gAt = text.indexOf('int g');
  assert.equal(g!.startIndex, gAt);
  assert.deepEqual(g!.startPosition, { row: 1, column: gAt - text.indexOf('\n') - 1 }); // 15 units; bytes would be 22
  assert.equal(g!.startPosition.column, 15);
  tree.delete();
});

test('LineIndex positions agree with tree-sitter offsets (UTF-16, LSP default encoding)', () => {
  const text = '/* é 😀 */\nint f(void) { return "😀"; }\n\tint g;\n';
  const file = parseSource(parser, text);
  const [fn] = listFunctions(file);
  assert.deepEqual(file.lineIndex.positionAt(fn.nameNode!.startIndex), { line: 1, character: 4 });
  const str = text.indexOf('"😀"');
  const semi = text.indexOf(';');
  assert.deepEqual(file.lineIndex.positionAt(semi), { line: 1, character: semi - text.indexOf('\n') - 1 });
  assert.equal(semi - str, 4); // the emoji counts 2
  file.dispose();
});

test('line terminators: \\n, \\r\\n and lone \\r end lines (LSP rules)', () => {
  const li = new LineIndex('a\nbc\r\nd\re');
  assert.equal(li.lineCount, 4);
  assert.deepEqual([0, 1, 2, 3].map((l) => [li.lineStart(l), li.lineEnd(l)]), [[0, 1], [2, 4], [6, 7], [8, 9]]);
  assert.deepEqual(li.positionAt(0), { line: 0, character: 0 });
  assert.deepEqual(li.positionAt(3), { line: 1, character: 1 });
  assert.deepEqual(li.positionAt(5), { line: 1, character: 2 }); // between \r and \n: end of the line
  assert.deepEqual(li.positionAt(8), { line: 3, character: 0 });
  assert.deepEqual(li.positionAt(99), { line: 3, character: 1 });
  assert.deepEqual(li.positionAt(-5), { line: 0, character: 0 });
});

test('offsetAt clamps and round-trips', () => {
  const text = 'int x;\n\t😀 y;\n\nlast';
  const li = new LineIndex(text);
  for (let o = 0; o <= text.length; o++) {
    const p = li.positionAt(o);
    assert.equal(li.offsetAt(p), o, `offset ${o}`);
  }
  assert.equal(li.offsetAt({ line: 0, character: 99 }), 6);
  assert.equal(li.offsetAt({ line: 9, character: 0 }), text.length);
  assert.equal(li.offsetAt({ line: -1, character: 3 }), 0);
  assert.equal(li.lineOf(text.indexOf('last')), 3);
});

test('empty text has one empty line', () => {
  const li = new LineIndex('');
  assert.equal(li.lineCount, 1);
  assert.deepEqual(li.positionAt(0), { line: 0, character: 0 });
  assert.equal(li.offsetAt({ line: 0, character: 5 }), 0);
});
