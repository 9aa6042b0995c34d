// The short fuzz of the bundled server (dist/server.js) over stdio, with a fixed seed (test/harness/lspFuzz.ts):
// random incremental edits of a real kernel file interleaved with every request the server advertises, then the
// hostile inputs (random bytes, 20 MB, 10,000-deep nesting, non-UTF-8 and binary files in an indexed folder, a file
// deleted while open). It fails on a server exit, an error answer or logged error, a request slower than 5 s, RSS
// over 1.5 GB, and on inlay hints or diagnostics that differ from those of a fresh server given the final text.
// The long version: `npm run fuzz -- --seed N` (scripts/fuzz.ts). `npm test` builds the bundle first (pretest).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { forEach } from '../../server/src/syntax/ast';
import { preprocessKernelC } from '../../server/src/syntax/kernelIdioms';
import { initParser } from '../../server/src/syntax/parser';
import { parseSource } from '../../server/src/syntax/sourceFile';
import { LspServer, ROOT } from '../harness/lspClient';
import { formatTotals, runFuzz } from '../harness/lspFuzz';

const SEED = 20240808;
const DEMO = path.join(ROOT, 'test', 'fixtures', 'lsp', 'demo.c');

test('the server survives a seeded fuzz of edits, requests and hostile input, with no stale state', { timeout: 120_000 }, async (t) => {
  const { totals, failures } = await runFuzz({
    seed: SEED, editsPerFile: 250, files: ['fs/xfs/xfs_buf.c'], hostileEdits: 8, requestTimeoutMs: 5000, rssLimitMB: 1536,
  });
  t.diagnostic(formatTotals(totals, failures));
  assert.deepEqual(failures, []);
  // The run did what it says: enough edits and answered requests, every open document compared.
  assert.ok(totals.edits >= 250, `edits ${totals.edits}`);
  assert.ok(totals.requests >= 40 && totals.answered === totals.requests, `requests ${totals.requests}, answered ${totals.answered}`);
  assert.ok(totals.compared >= 9, `compared ${totals.compared}`);
  assert.ok(totals.peakRssMB > 0, 'RSS was read');
});

test('the fuzz fails on stale state: a document the server never saw change', { timeout: 60_000 }, async () => {
  const { failures } = await runFuzz({ seed: 1, editsPerFile: 10, files: [DEMO], hostile: false, sabotage: 'desync' });
  assert.ok(failures.some((f) => /stale inlay hints in .*demo\.c/.test(f)), failures.join('\n'));
  assert.ok(failures.some((f) => /stale diagnostics in .*demo\.c/.test(f)), failures.join('\n'));
});

test('the fuzz fails when the server dies', { timeout: 60_000 }, async () => {
  const { failures } = await runFuzz({ seed: 1, editsPerFile: 10, files: [DEMO], hostile: false, sabotage: 'kill' });
  assert.ok(failures.some((f) => /server exited/.test(f)), failures.join('\n'));
});

// Bugs the fuzz found, fixed in server/src/syntax/ (kernelIdioms.ts, ast.ts) and server/src/lsp/server.ts.
test('regression: stray closers after many openers are linear in the kernel-idiom rewrite', () => {
  // Each `)` scanned all 50,000 `{` for its `(` (twice: bracket matching and the frame stack): 6 s; a fuzzed
  // document of 180 kB (a pasted line of `{`) kept the server from answering for 10 s.
  const text = `void f(void)\n{\n${'{'.repeat(50_000)}${')'.repeat(10_000)}\n}\n`;
  const t0 = performance.now();
  const r = preprocessKernelC(text);
  const ms = performance.now() - t0;
  assert.equal(r.text.length, text.length);
  assert.ok(ms < 2000, `${Math.round(ms)} ms`);
});

test('regression: 10,000 nested #if do not overflow the stack of the kernel-idiom rewrite', () => {
  // The conditional tree was walked recursively: RangeError, and the whole file parsed without its rewrites.
  const text = `${'#if 1\n'.repeat(10_000)}void f(void)\n{\n\tscoped_guard(spinlock, &l) {\n\t}\n}\n${'#endif\n'.repeat(10_000)}`;
  const r = preprocessKernelC(text);
  assert.equal(r.text.length, text.length);
  assert.ok(r.rewrites.some((w) => w.macro === 'scoped_guard'), 'the idioms inside are still rewritten');
});

test('regression: walking a deep tree is linear (a chain a+a+… of 30,000 operands)', async () => {
  // The walks asked the cursor for its depth at every step up, and tree-sitter counts the whole cursor stack each
  // time: 12 s for this tree (90,000 nodes, 30,000 deep); a fuzzed 220 kB document spent 7 s in analysis for it.
  const file = parseSource(await initParser(), `int x = ${'a+'.repeat(30_000)}a;\n`);
  try {
    let nodes = 0;
    const t0 = performance.now();
    forEach(file.tree.rootNode, () => {
      nodes++;
    });
    const ms = performance.now() - t0;
    assert.equal(nodes, 90_008);
    assert.ok(ms < 3000, `${Math.round(ms)} ms`);
  } finally {
    file.dispose();
  }
});

test('regression: a document tree-sitter parses for a minute does not stall the server', { timeout: 60_000 }, async () => {
  // A long operator chain before a syntax error (reduced from a fuzzed mm/vmscan.c): tree-sitter's error recovery
  // is quadratic in it (8,000 operands: 2 s; 40,000: about a minute, during which the server answered nothing). The server gives up after
  // PARSE_TIMEOUT_MS (4 s) and says the document is not analysed.
  const server = await LspServer.start();
  try {
    const uri = 'file:///tmp/reclaim-lens-fuzz/slow-parse.c';
    const t0 = performance.now();
    const diags = await server.open(uri, `long remove_mapping(struct address_space *mapping, strua${'+a'.repeat(40_000)}+spin_unlock(&#define X(#if 0\n`, 1, 30_000);
    assert.match(String(diags[0]?.message), /parsing took longer than 4 s/);
    const hint = await server.request('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } } }, 5000);
    assert.deepEqual(hint.result, []);
    const action = await server.request('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 9 } }, context: { diagnostics: [] } }, 5000);
    assert.equal(action.result, null);
    assert.ok(performance.now() - t0 < 25_000, `${Math.round(performance.now() - t0)} ms`);
    assert.deepEqual(server.errors, []);
  } finally {
    await server.dispose();
  }
});
