// Parse quality on the real kernel (linux-source-6.12 fs/ + mm/), judged against universal-ctags, and a few facts
// checked by reading the code. Needs the tree from scripts/extract-kernel.sh and Debian's universal-ctags.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import type { Node, Parser } from 'web-tree-sitter';
import { listFunctions, type FunctionInfo } from '../../server/src/syntax/ast';
import { initParser } from '../../server/src/syntax/parser';
import { decodeSource, parseSource, type SourceFile } from '../../server/src/syntax/sourceFile';
import { measure } from '../../scripts/parse-quality';

const TREE = path.join(__dirname, '..', '..', '.cache', 'kernel', '6.12');

function requireTree(): void {
  if (!fs.existsSync(path.join(TREE, 'fs', 'xfs')) || !fs.existsSync(path.join(TREE, 'mm'))) {
    assert.fail(`no kernel tree at ${TREE}: run scripts/extract-kernel.sh`);
  }
}

let parser: Parser;
before(async () => {
  parser = await initParser();
});

function load(rel: string): SourceFile {
  const decoded = decodeSource(fs.readFileSync(path.join(TREE, rel)), { maxBytes: 8 << 20 });
  assert.ok(decoded.text !== undefined, decoded.problem);
  return parseSource(parser, decoded.text);
}

function fn(file: SourceFile, name: string): FunctionInfo {
  const f = listFunctions(file).find((x) => x.name === name);
  assert.ok(f, `${name} not found`);
  return f;
}

const line = (file: SourceFile, offset: number): number => file.lineIndex.lineOf(offset) + 1;

function descendants(n: Node, type: string): Node[] {
  return n.descendantsOfType(type).filter((x): x is Node => !!x);
}

test('fs/ + mm/: at most 1% of functions analysed with a wrong structure (oracle: universal-ctags)', async (t) => {
  requireTree();
  const [r] = await measure({ tree: TREE, groups: [{ name: 'fs+mm', dirs: ['fs', 'mm'] }], raw: false, worst: 10, showWrong: 20 });
  t.diagnostic(`files ${r.files}, oracle functions ${r.oracle.functions}, wrong ${r.wrong.total} (${(100 * r.wrong.rate).toFixed(2)}%) ` +
    JSON.stringify(r.wrong.byKind));
  for (const w of r.worst) t.diagnostic(`${w.count} ${w.pattern} e.g. ${w.example}`);
  assert.ok(r.files > 2000, `only ${r.files} files: incomplete extraction?`);
  assert.ok(r.oracle.functions > 40000, `ctags listed only ${r.oracle.functions} functions`);
  assert.deepEqual(r.skippedFiles, []);
  assert.ok(r.wrong.rate <= 0.01, `wrong structure ${(100 * r.wrong.rate).toFixed(2)}% > 1%: ${JSON.stringify(r.wrongExamples.slice(0, 10))}`);
  // Preprocessing must not cost much next to parsing.
  assert.ok(r.pre.preprocessMs < 0.5 * r.pre.parseMs, `preprocess ${r.pre.preprocessMs} ms vs parse ${r.pre.parseMs} ms`);
});

test('fs/xfs/xfs_inode.c: xfs_ilock has its name on line 139, its body ends on line 167', () => {
  requireTree();
  const file = load('fs/xfs/xfs_inode.c');
  const f = fn(file, 'xfs_ilock');
  assert.equal(line(file, f.nameNode!.startIndex), 139);
  assert.equal(line(file, f.body.endIndex - 1), 167);
  assert.equal(f.returnTypeText, 'void');
  assert.deepEqual(f.params.map((p) => [p.name, p.typedefName, p.pointerDepth]), [['ip', 'xfs_inode_t', 1], ['lock_flags', 'uint', 0]]);
  assert.equal(f.hasError, false);
  file.dispose();
});

test('fs/xfs/xfs_mru_cache.c: lock annotations in the head, iterator bodies as loops', () => {
  requireTree();
  const file = load('fs/xfs/xfs_mru_cache.c');
  const f = fn(file, '_xfs_mru_cache_clear_reap_list');
  assert.equal(line(file, f.nameNode!.startIndex), 228);
  assert.equal(line(file, f.body.endIndex - 1), 254);
  const head = file.rewrites.filter((r) => r.kind === 'lock-annotation' && r.start > f.start && r.end < f.body.startIndex);
  assert.deepEqual(head.map((r) => [r.macro, r.args?.map((a) => a.text)]), [['__releases', ['mru->lock']], ['__acquires', ['mru->lock']]]);
  const loops = descendants(f.body, 'while_statement');
  assert.equal(loops.length, 2);
  for (const loop of loops) {
    const rw = file.rewrites.find((r) => r.start === loop.startIndex);
    assert.equal(rw?.macro, 'list_for_each_entry_safe');
    assert.equal(loop.childForFieldName('body')?.type, 'compound_statement');
  }
  assert.equal(f.hasError, false);
  file.dispose();
});

test('fs/open.c: SYSCALL_DEFINE3(open, …) is sys_open on line 1440', () => {
  requireTree();
  const file = load('fs/open.c');
  const f = fn(file, 'sys_open');
  assert.equal(line(file, f.start), 1440);
  assert.deepEqual(f.params.map((p) => p.name), ['filename', 'flags', 'mode']);
  assert.equal(f.hasError, false);
  file.dispose();
});

test('fs/pstore/inode.c: scoped_guard(mutex, …) in pstore_unlink are lock scopes', () => {
  requireTree();
  const file = load('fs/pstore/inode.c');
  const f = fn(file, 'pstore_unlink');
  const guards = file.rewrites.filter((r) => r.kind === 'scoped-guard' && r.start > f.body.startIndex && r.end < f.body.endIndex);
  assert.deepEqual(guards.map((g) => [line(file, g.start), g.args?.map((a) => a.text)]), [
    [191, ['mutex', '&records_list_lock']],
    [199, ['mutex', '&record->psi->read_mutex']],
  ]);
  const loops = descendants(f.body, 'while_statement');
  assert.deepEqual(loops.map((l) => l.startIndex), guards.map((g) => g.start));
  assert.equal(loops[1].childForFieldName('body')?.type, 'expression_statement');
  file.dispose();
});
