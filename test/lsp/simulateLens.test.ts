// "Simulate deadlock" as a code lens and as an inlay hint's label part (server/src/lsp/simulateLenses.ts), through the
// bundled server (dist/server.js over stdio): the workspace index finds the reclaim deadlock, textDocument/codeLens
// on the open file answers a lens on the kmalloc line titled with the cycle that runs reclaimLens.simulateDeadlock
// with the finding's model (the code action's arguments), textDocument/inlayHint adds " ⚠ deadlock" with the same
// command (appended to the mask hint in mode `all`, a hint of its own in mode `changed`), and after a fix is saved
// the server asks for workspace/codeLens/refresh and both are gone. `npm run build` first.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import type { CodeAction, CodeLens, Diagnostic, InlayHint, InlayHintLabelPart, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import type { SimulateResult } from '../../server/src/lsp/protocol';
import { SHRINKER, write } from '../harness/deadlockWorkspace';
import { tempDir } from '../harness/tmp';

const ROOT = path.join(__dirname, '..', '..');
const TIMEOUT = 60_000;


const alloc = (gfp: string) => `// Allocates under the lock the shrinker takes.
extern struct mutex demo_cache_lock;

void *demo_insert(size_t size)
{
	void *p;

	mutex_lock(&demo_cache_lock);
	p = kmalloc(64, ${gfp});
	mutex_unlock(&demo_cache_lock);
	return p;
}

void *demo_other(void)
{
	return kmalloc(32, GFP_KERNEL);
}
`;

let proc: ChildProcess | undefined;
let conn: ProtocolConnection | undefined;
after(() => {
  conn?.dispose();
  proc?.kill();
});


const parts = (h: InlayHint): InlayHintLabelPart[] => (typeof h.label === 'string' ? [{ value: h.label }] : h.label);
const text = (h: InlayHint) => parts(h).map((p) => p.value).join('');

test('a deadlock finding of the workspace index has a "Simulate deadlock" code lens and inlay hint part', { timeout: 4 * TIMEOUT }, async () => {
  const ws = tempDir(path.join(os.tmpdir(), 'rl-simlens-'));
  write(path.join(ws, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n');
  const shrinker = path.join(ws, 'fs', 'demo', 'shrinker.c');
  const cache = path.join(ws, 'mm', 'demo_cache.c');
  write(shrinker, SHRINKER);
  write(cache, alloc('GFP_KERNEL'));
  const cacheUri = pathToFileURL(cache).toString();
  const shrinkerUri = pathToFileURL(shrinker).toString();
  const cacheDir = tempDir(path.join(os.tmpdir(), 'rl-simlens-cache-'));
  proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, XDG_CACHE_HOME: cacheDir } });
  const c = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn = c;
  const diagnostics = new Map<string, Diagnostic[]>();
  const logs: string[] = [];
  let lensRefreshes = 0;
  let settings: unknown = { inlayHints: { mode: 'all' } };
  let wake = () => undefined as void;
  c.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    diagnostics.set(p.uri, p.diagnostics);
    wake();
  });
  c.onNotification('window/logMessage', (p: { message: string }) => {
    logs.push(p.message);
    wake();
  });
  c.onNotification('window/showMessage', () => undefined);
  c.onNotification('$/progress', () => undefined);
  c.onNotification('reclaimLens/status', () => undefined);
  c.onRequest('window/workDoneProgress/create', () => null);
  c.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => settings));
  c.onRequest('client/registerCapability', () => null);
  c.onRequest('workspace/inlayHint/refresh', () => null);
  c.onRequest('workspace/codeLens/refresh', () => {
    lensRefreshes++;
    wake();
    return null;
  });
  c.listen();
  const init = await c.sendRequest('initialize', {
    processId: process.pid, rootUri: pathToFileURL(ws).toString(),
    workspaceFolders: [{ uri: pathToFileURL(ws).toString(), name: 'ws' }],
    capabilities: {
      window: { workDoneProgress: true },
      workspace: { configuration: true, codeLens: { refreshSupport: true }, inlayHint: { refreshSupport: true } },
      textDocument: { codeAction: {}, codeLens: {}, inlayHint: {}, synchronization: { didSave: true } },
    },
  }) as { capabilities: { codeLensProvider?: unknown } };
  assert.deepEqual(init.capabilities.codeLensProvider, { resolveProvider: false }, 'the .rlsim capability, unchanged');
  await c.sendNotification('initialized', {});
  const deadlockOf = () => (diagnostics.get(cacheUri) ?? []).find((d) => d.code === 'reclaim-deadlock');
  const until = (what: string, pred: () => boolean) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; log:\n${logs.join('\n')}`)), TIMEOUT);
    const check = () => {
      if (!pred()) return;
      clearTimeout(timer);
      resolve();
    };
    wake = check;
    check();
  });
  await until('the workspace deadlock diagnostic', () => !!deadlockOf());
  await c.sendNotification('textDocument/didOpen', { textDocument: { uri: cacheUri, languageId: 'c', version: 1, text: alloc('GFP_KERNEL') } });
  diagnostics.delete(cacheUri);
  await until('the opened file\'s diagnostics', () => !!deadlockOf());
  const d = deadlockOf()!;
  assert.equal(d.range.start.line, 8);

  // The code lens: on the allocation, the cycle in the title, the code action's command and arguments.
  const lenses = await c.sendRequest('textDocument/codeLens', { textDocument: { uri: cacheUri } }) as CodeLens[];
  assert.equal(lenses.length, 1, JSON.stringify(lenses));
  const [lens] = lenses;
  assert.deepEqual(lens.range, d.range, 'on the kmalloc call');
  assert.equal(lens.command?.title, '⚠ Simulate deadlock (reclaim-deadlock: demo_cache_lock → fs_reclaim)');
  assert.equal(lens.command?.command, 'reclaimLens.simulateDeadlock');
  const [model, baseUri] = lens.command!.arguments as [string, string];
  assert.equal(baseUri, pathToFileURL(path.join(ws, 'demo_insert.rlsim')).toString());
  assert.match(model, /^ {2}alloc GFP_KERNEL @mm\/demo_cache\.c:9 note "demo_insert\(\): kmalloc\(GFP_KERNEL\)"$/m);
  const actions = await c.sendRequest('textDocument/codeAction', {
    textDocument: { uri: cacheUri }, range: d.range, context: { diagnostics: [d] },
  }) as CodeAction[];
  const action = actions.find((a) => a.command?.command === 'reclaimLens.simulateDeadlock');
  assert.deepEqual(lens.command!.arguments, action?.command?.arguments, 'the same arguments as the code action');
  const r = await c.sendRequest('reclaimLens/simulate', { text: model, baseUri }) as SimulateResult;
  assert.equal(r.verdict, 'deadlock');
  // A file of the index without a deadlock finding of its own: no lens.
  await c.sendNotification('textDocument/didOpen', { textDocument: { uri: shrinkerUri, languageId: 'c', version: 1, text: SHRINKER } });
  assert.deepEqual(await c.sendRequest('textDocument/codeLens', { textDocument: { uri: shrinkerUri } }), []);

  // The inlay hint (mode all): the mask, then " ⚠ deadlock" running the simulation; demo_other's hint is untouched.
  const whole = { start: { line: 0, character: 0 }, end: { line: 20, character: 0 } };
  const hintsAll = await c.sendRequest('textDocument/inlayHint', { textDocument: { uri: cacheUri }, range: whole }) as InlayHint[];
  const at = hintsAll.find((h) => h.position.line === 8);
  assert.ok(at, JSON.stringify(hintsAll));
  assert.equal(text(at), '⇒ GFP_KERNEL ⚠ deadlock');
  assert.equal(at.position.character, 'p = kmalloc(64, GFP_KERNEL'.length + 1, 'after the gfp argument');
  const part = parts(at).at(-1)!;
  assert.equal(part.value, ' ⚠ deadlock');
  assert.equal(part.command?.command, 'reclaimLens.simulateDeadlock');
  assert.deepEqual(part.command?.arguments, [model, baseUri]);
  assert.match(String(part.tooltip), /reclaim-deadlock/);
  const other = hintsAll.find((h) => h.position.line === 15);
  assert.ok(other, JSON.stringify(hintsAll));
  assert.equal(text(other), '⇒ GFP_KERNEL');
  assert.ok(parts(other).every((p) => !p.command), 'no deadlock part where the index has no finding');
  // A range without the allocation: no part.
  const before = await c.sendRequest('textDocument/inlayHint', {
    textDocument: { uri: cacheUri }, range: { start: { line: 0, character: 0 }, end: { line: 5, character: 0 } },
  }) as InlayHint[];
  assert.deepEqual(before, []);

  // Mode changed: the mask is what is written, so no mask hint, but the deadlock hint stays (a hint of its own).
  settings = { inlayHints: { mode: 'changed' } };
  const refreshesBeforeConfig = lensRefreshes;
  await c.sendNotification('workspace/didChangeConfiguration', { settings: {} });
  // The index republishes the files with findings after a change of settings, each with a code lens refresh.
  await until('the code lens refresh after the change of settings', () => lensRefreshes > refreshesBeforeConfig);
  const hintsChanged = await c.sendRequest('textDocument/inlayHint', { textDocument: { uri: cacheUri }, range: whole }) as InlayHint[];
  assert.equal(hintsChanged.length, 1, JSON.stringify(hintsChanged));
  assert.equal(text(hintsChanged[0]), '⚠ deadlock');
  assert.deepEqual(hintsChanged[0].position, at.position);
  assert.equal(parts(hintsChanged[0])[0].command?.command, 'reclaimLens.simulateDeadlock');

  // The fix saved: the index withdraws the finding, asks for a code lens refresh, and the lens and hint are gone.
  const refreshesBefore = lensRefreshes;
  write(cache, alloc('GFP_NOFS'));
  await c.sendNotification('textDocument/didChange', {
    textDocument: { uri: cacheUri, version: 2 },
    contentChanges: [{ text: alloc('GFP_NOFS') }],
  });
  await c.sendNotification('textDocument/didSave', { textDocument: { uri: cacheUri } });
  await until('the finding withdrawn and a code lens refresh', () => lensRefreshes > refreshesBefore && !deadlockOf() && diagnostics.has(cacheUri));
  assert.deepEqual(await c.sendRequest('textDocument/codeLens', { textDocument: { uri: cacheUri } }), []);
  const hintsFixed = await c.sendRequest('textDocument/inlayHint', { textDocument: { uri: cacheUri }, range: whole }) as InlayHint[];
  assert.ok(hintsFixed.every((h) => parts(h).every((p) => !p.command)), JSON.stringify(hintsFixed));
});
