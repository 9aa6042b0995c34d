// Knowledge-base override files in the editor (reclaimLens.kb.paths, #8): the default `.reclaim-lens/*.jsonc` of the
// workspace folder is loaded, its allocator shows in the diagnostics of an open file, and a change of the setting
// re-analyses open files without it. The bundled server (dist/server.js) over stdio.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver-protocol/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';

const ROOT = path.join(__dirname, '..', '..');
const FOLDER = path.join(ROOT, 'test', 'fixtures', 'kb');
const FILE = path.join(FOLDER, 'pool.c');
const URI = pathToFileURL(FILE).toString();

const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
let settings: Record<string, unknown> = {};
const messages: string[] = [];
const published: Diagnostic[][] = [];
let waiter: (() => void) | undefined;
conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
  if (p.uri !== URI) return;
  published.push(p.diagnostics);
  waiter?.();
});
conn.onNotification('window/showMessage', (p: { message: string }) => {
  messages.push(p.message);
});
conn.onNotification('window/logMessage', () => undefined);
conn.onNotification('reclaimLens/status', () => undefined);
conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => settings));
conn.onRequest('client/registerCapability', () => null);
conn.onRequest('workspace/inlayHint/refresh', () => null);
conn.onRequest('window/workDoneProgress/create', () => null);
conn.listen();
after(() => {
  conn.dispose();
  proc.kill();
});

/** The diagnostics once `pred` holds for the latest publication (or fail after 10 s). */
async function diagnosticsWhen(pred: (d: Diagnostic[]) => boolean): Promise<Diagnostic[]> {
  const deadline = Date.now() + 10_000;
  while (!(published.length && pred(published.at(-1)!))) {
    if (Date.now() > deadline) assert.fail(`no matching diagnostics; last: ${JSON.stringify(published.at(-1))}`);
    await new Promise<void>((r) => {
      waiter = r;
      setTimeout(r, 200);
    });
  }
  return published.at(-1)!;
}

test('reclaimLens.kb.paths: the folder\'s .reclaim-lens/*.jsonc is loaded by default; a change of the setting re-analyses', async () => {
  await conn.sendRequest('initialize', {
    processId: process.pid, rootUri: pathToFileURL(FOLDER).toString(), workspaceFolders: null,
    capabilities: { workspace: { configuration: true }, textDocument: { inlayHint: {}, hover: {} } },
  });
  await conn.sendNotification('initialized', {});
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri: URI, languageId: 'c', version: 1, text: fs.readFileSync(FILE, 'utf8') } });
  const withDefault = await diagnosticsWhen((d) => d.length > 0);
  assert.deepEqual(withDefault.map((d) => [d.code, d.range.start.line, d.message]), [['sleep-in-atomic', 11, 'GFP_KERNEL may sleep while holding &pool->lock']]);

  settings = { kb: { paths: [] } };
  await conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
  assert.deepEqual(await diagnosticsWhen((d) => d.length === 0), []);

  settings = { kb: { paths: ['bad.jsonc', 'missing.jsonc', '.reclaim-lens/pool.jsonc'] } };
  await conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
  const again = await diagnosticsWhen((d) => d.length > 0);
  assert.equal(again[0].code, 'sleep-in-atomic');
  assert.ok(messages.includes('Reclaim Lens: reclaimLens.kb.paths: missing.jsonc: cannot read (ENOENT); knowledge-base override not loaded'), messages.join('\n'));
  assert.ok(messages.some((m) => m.startsWith('Reclaim Lens: knowledge base: bad.jsonc: allocators[0] (pool_get).gfpArg: ')), messages.join('\n'));
});
