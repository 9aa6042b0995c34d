// The bundled server (dist/server.js) over stdio, as an editor starts it: initialize, diagnostics, inlay hints,
// hover, bad input and a bad setting. `npm test` builds the bundle first (pretest).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { Diagnostic, InlayHint, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';

const ROOT = path.join(__dirname, '..', '..');
const DEMO = path.join(ROOT, 'test', 'fixtures', 'lsp', 'demo.c');

let proc: ChildProcess;
let conn: ProtocolConnection;
const diagnostics = new Map<string, ((d: Diagnostic[]) => void)[]>();
const lastDiagnostics = new Map<string, Diagnostic[]>();
let settings: unknown = {};
const warnings: string[] = [];

function nextDiagnostics(uri: string): Promise<Diagnostic[]> {
  return new Promise((resolve) => {
    const list = diagnostics.get(uri) ?? [];
    list.push(resolve);
    diagnostics.set(uri, list);
  });
}

before(async () => {
  proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    lastDiagnostics.set(p.uri, p.diagnostics);
    const waiters = diagnostics.get(p.uri) ?? [];
    diagnostics.set(p.uri, []);
    for (const w of waiters) w(p.diagnostics);
  });
  conn.onNotification('window/showMessage', (p: { message: string }) => {
    warnings.push(p.message);
  });
  conn.onRequest('window/showMessageRequest', (p: { message: string }) => {
    warnings.push(p.message);
    return null;
  });
  conn.onNotification('window/logMessage', () => undefined);
  conn.onNotification('reclaimLens/status', () => undefined);
  conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => settings));
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/inlayHint/refresh', () => null);
  conn.listen();
  const init = await conn.sendRequest('initialize', {
    processId: process.pid, rootUri: pathToFileURL(ROOT).toString(), workspaceFolders: null,
    capabilities: { workspace: { configuration: true, inlayHint: { refreshSupport: true } }, textDocument: { inlayHint: {}, hover: {} } },
  }) as { capabilities: Record<string, unknown> };
  assert.ok(init.capabilities.inlayHintProvider, 'inlay hints advertised');
  assert.equal(init.capabilities.hoverProvider, true);
  await conn.sendNotification('initialized', {});
});

after(() => {
  conn.dispose();
  proc.kill();
});

async function open(uri: string, text: string, languageId = 'c'): Promise<Diagnostic[]> {
  const d = nextDiagnostics(uri);
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  return d;
}

test('diagnostics, inlay hints and hover for a kernel-style file', async () => {
  const uri = pathToFileURL(DEMO).toString();
  const text = fs.readFileSync(DEMO, 'utf8');
  const diags = await open(uri, text);
  assert.equal(diags.length, 1);
  assert.equal(diags[0].code, 'sleep-in-atomic');
  assert.equal(diags[0].range.start.line, 21);
  assert.match(String(diags[0].message), /GFP_KERNEL may sleep while holding &inode->i_lock/);
  assert.match(String(diags[0].codeDescription?.href), /docs\/checks\/sleep-in-atomic\.md$/);
  assert.equal(diags[0].relatedInformation?.[0].location.range.start.line, 20);

  const hints = await conn.sendRequest('textDocument/inlayHint', {
    textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 30, character: 0 } },
  }) as InlayHint[];
  assert.equal(hints.length, 1);
  assert.deepEqual(hints[0].position, { line: 10, character: 30 });
  const label = hints[0].label as { value: string; location?: { range: { start: { line: number } } } }[];
  assert.equal(label.map((p) => p.value).join(''), '⇒ GFP_NOFS');
  assert.equal(label[1].location?.range.start.line, 9, 'the mask links to memalloc_nofs_save()');

  const hover = await conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 10, character: 9 } }) as { contents: { value: string } };
  assert.match(hover.contents.value, /memalloc_nofs_save\(\) at line 10 sets `PF_MEMALLOC_NOFS`/);
  assert.match(hover.contents.value, /\*\*Held locks:\*\* `&inode->i_rwsem`/);
  assert.match(hover.contents.value, /may enter FS reclaim: no/);
});

test('broken, binary and huge input never crash the server', async () => {
  const broken = 'file:///tmp/broken.c';
  const d1 = await open(broken, 'static int f(void) { spin_lock(&l); p = kmalloc(8, GFP_KERNEL; \n int g(void) { return kmalloc(1, GFP_KERNEL); }');
  assert.ok(Array.isArray(d1));
  const bin = 'file:///tmp/binary.c';
  const d2 = await open(bin, 'int x;\u0000\u0001\u0002');
  assert.match(String(d2[0].message), /binary file, not analysed/);
  const huge = 'file:///tmp/huge.c';
  const d3 = await open(huge, 'int x;\n'.repeat(2_000_000));
  assert.match(String(d3[0].message), /file too large/);
  const deep = 'file:///tmp/deep.c';
  const d4 = await open(deep, `void f(void) { ${'{'.repeat(10000)} kmalloc(1, GFP_KERNEL); ${'}'.repeat(10000)} }`);
  assert.ok(Array.isArray(d4));
  // The server still answers.
  const h = await conn.sendRequest('textDocument/hover', { textDocument: { uri: broken }, position: { line: 0, character: 40 } });
  assert.ok(h === null || typeof h === 'object');
});

test('a bad setting is reported by name and the default is used', async () => {
  settings = { inlayHints: { mode: 'sometimes' }, kernelVersion: 'banana' };
  const uri = 'file:///tmp/settings.c';
  const waiting = nextDiagnostics(uri);
  await conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text: 'void f(spinlock_t *l) { spin_lock(l); kmalloc(1, GFP_KERNEL); spin_unlock(l); }' } });
  const d = await waiting;
  assert.equal(d.length, 1);
  assert.ok(warnings.some((w) => w.includes('reclaimLens.inlayHints.mode') && w.includes('sometimes')), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('reclaimLens.kernelVersion') && w.includes('banana')), warnings.join('\n'));
  settings = {};
});
