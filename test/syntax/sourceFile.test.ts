// decodeSource and parseSource: bad input gets a clear message and never a crash.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Parser } from 'web-tree-sitter';
import { listFunctions, syntaxErrors } from '../../server/src/syntax/ast';
import { initParser } from '../../server/src/syntax/parser';
import { decodeSource, diffEdit, parseSource } from '../../server/src/syntax/sourceFile';

let parser: Parser;
before(async () => {
  parser = await initParser();
});

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('UTF-8 decodes as is; a BOM is dropped', () => {
  assert.deepEqual(decodeSource(enc('int é;\n'), { maxBytes: 1000 }), { text: 'int é;\n' });
  assert.deepEqual(decodeSource(new Uint8Array([0xef, 0xbb, 0xbf, 0x69]), { maxBytes: 1000 }), { text: 'i' });
});

test('binary: a NUL byte in the first 8 KiB', () => {
  const bytes = new Uint8Array(100).fill(0x41);
  bytes[50] = 0;
  assert.deepEqual(decodeSource(bytes, { maxBytes: 1000 }), { problem: 'binary file, not analysed' });
  const late = new Uint8Array(9000).fill(0x41);
  late[8500] = 0;
  assert.equal(decodeSource(late, { maxBytes: 1 << 20 }).text?.length, 9000);
});

test('too large: size and limit in MB', () => {
  const r = decodeSource(new Uint8Array(2 * 1024 * 1024 + 1), { maxBytes: 1024 * 1024 });
  assert.deepEqual(r, { problem: 'file too large (2 MB > limit 1 MB), not analysed' });
  const r2 = decodeSource(new Uint8Array(1572864), { maxBytes: 524288 });
  assert.equal(r2.problem, 'file too large (1.5 MB > limit 0.5 MB), not analysed');
});

test('invalid UTF-8 decodes as Latin-1 (ISO-8859-1) with a problem', () => {
  // "/* Tschüß */" in Latin-1, then 0x80 which windows-1252 would turn into €.
  const bytes = new Uint8Array([0x2f, 0x2a, 0x20, 0x54, 0x73, 0x63, 0x68, 0xfc, 0xdf, 0x20, 0x2a, 0x2f, 0x80, 0x0a]);
  const r = decodeSource(bytes, { maxBytes: 1000 });
  assert.equal(r.problem, 'not valid UTF-8; decoded as Latin-1');
  assert.equal(r.text, '/* Tschüß */\u0080\n');
});

test('half-typed code: the other functions are parsed and listed', () => {
  const text = [
    'static int ok_before(void)',
    '{',
    '\treturn 0;',
    '}',
    '',
    'static int typing(struct inode *inode)',
    '{',
    '\tspin_lock(&inode->i_lock',
    '\tif (inode->',
    '}',
    '',
    'static int ok_after(void)',
    '{',
    '\treturn 1;',
    '}',
    '',
  ].join('\n');
  const f = parseSource(parser, text);
  assert.equal(f.hasErrors, true);
  // The function being typed leaves brackets open: it is set aside (blanked) so that ok_after is found.
  assert.deepEqual(f.problems, ['syntax errors in lines 6-11; that part is not analysed']);
  const fns = listFunctions(f);
  assert.deepEqual(fns.map((x) => [x.name, x.hasError]), [['ok_before', false], ['ok_after', false]]);
  assert.equal(f.text, text);
  assert.equal(f.parsedText.length, text.length);
  f.dispose();
  f.dispose(); // idempotent

  // An error that keeps brackets balanced stays in the tree, inside its function.
  const g = parseSource(parser, text.replace('\tspin_lock(&inode->i_lock\n\tif (inode->\n', '\tspin_lock(&inode->i_lock 1);\n'));
  assert.deepEqual(listFunctions(g).map((x) => [x.name, x.hasError]), [['ok_before', false], ['typing', true], ['ok_after', false]]);
  assert.ok(syntaxErrors(g.tree.rootNode).length > 0);
  g.dispose();
});

test('parse never throws: empty, garbage, control characters, huge lines', () => {
  const inputs = ['', '\u0000\u0001\u0002', '}}}}{{{{', '#if\n#else\n#else', 'x'.repeat(200000), '"'.repeat(1001), '😀'.repeat(5000)];
  for (const s of inputs) {
    const f = parseSource(parser, s);
    assert.equal(f.text, s);
    assert.equal(f.parsedText.length, s.length);
    listFunctions(f);
    f.dispose();
  }
});

test('a parse that runs past its time limit gives an empty tree and a problem', () => {
  const big = 'int f(void) { return 1; }\n'.repeat(40000);
  const f = parseSource(parser, big, undefined, { timeoutMs: 0 });
  assert.match(f.problems[0] ?? '', /^parse cancelled after 0 ms; file not analysed$/);
  assert.equal(listFunctions(f).length, 0);
  f.dispose();
  // The parser is still usable afterwards.
  const g = parseSource(parser, 'int g(void) { return 0; }\n');
  assert.deepEqual(listFunctions(g).map((x) => x.name), ['g']);
  g.dispose();
});

test('incremental reparse gives the same tree as a full parse', () => {
  const v1 = 'static int a(void)\n{\n\tlist_for_each_entry(p, h, m) {\n\t\tx();\n\t}\n\treturn 0;\n}\nint b(void) { return 1; }\n';
  const v2 = v1.replace('\t\tx();', '\t\tx();\n\t\tscoped_guard(mutex, &l)\n\t\t\ty();');
  const first = parseSource(parser, v1);
  const inc = parseSource(parser, v2, first);
  const full = parseSource(parser, v2);
  assert.equal(inc.tree.rootNode.toString(), full.tree.rootNode.toString());
  assert.equal(inc.hasErrors, false);
  assert.deepEqual(listFunctions(inc).map((x) => x.name), ['a', 'b']);
  assert.deepEqual(inc.rewrites.map((r) => r.kind), ['iterator', 'scoped-guard']);
  // The previous file is still valid and unchanged.
  assert.deepEqual(listFunctions(first).map((x) => x.name), ['a', 'b']);
  for (const f of [first, inc, full]) f.dispose();
});

test('diffEdit: one contiguous change with tree-sitter points', () => {
  const e = diffEdit('ab\ncd\nef', 'ab\ncXYd\nef');
  assert.deepEqual(e, {
    startIndex: 4, oldEndIndex: 4, newEndIndex: 6,
    startPosition: { row: 1, column: 1 }, oldEndPosition: { row: 1, column: 1 }, newEndPosition: { row: 1, column: 3 },
  });
});
