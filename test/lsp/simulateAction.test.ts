// "Simulate deadlock" (server/src/lsp/simulateActions.ts) through the bundled server (dist/server.js over stdio):
// the workspace index publishes a reclaim-deadlock diagnostic, textDocument/codeAction on it answers a quickfix
// that runs the client's reclaimLens.simulateDeadlock with the finding's model and a base URI in the indexed root,
// and reclaimLens/simulate with that { text, baseUri } (what the simulation panel sends) finds the deadlock, with its
// steps resolved to the workspace's files. `npm run build` first.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import type { CodeAction, Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import type { SimulateResult } from '../../server/src/lsp/protocol';
import { SHRINKER, write } from '../harness/deadlockWorkspace';
import { tempDir } from '../harness/tmp';

const ROOT = path.join(__dirname, '..', '..');
const TIMEOUT = 60_000;


const ALLOC = `// Allocates under the lock the shrinker takes.
extern struct mutex demo_cache_lock;

void *demo_insert(size_t size)
{
	void *p;

	mutex_lock(&demo_cache_lock);
	p = kmalloc(64, GFP_KERNEL);
	mutex_unlock(&demo_cache_lock);
	return p;
}
`;

let proc: ChildProcess | undefined;
let conn: ProtocolConnection | undefined;
after(() => {
  conn?.dispose();
  proc?.kill();
});


test('"Simulate deadlock" on a workspace deadlock diagnostic opens the finding\'s model, which deadlocks', { timeout: 3 * TIMEOUT }, async () => {
  const ws = tempDir(path.join(os.tmpdir(), 'rl-simaction-'));
  write(path.join(ws, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n');
  const shrinker = path.join(ws, 'fs', 'demo', 'shrinker.c');
  const cache = path.join(ws, 'mm', 'demo_cache.c');
  write(shrinker, SHRINKER);
  write(cache, ALLOC);
  const cacheUri = pathToFileURL(cache).toString();
  const cacheDir = tempDir(path.join(os.tmpdir(), 'rl-simaction-cache-'));
  proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, XDG_CACHE_HOME: cacheDir } });
  const c = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn = c;
  const diagnostics = new Map<string, Diagnostic[]>();
  const logs: string[] = [];
  let wake = () => undefined as void;
  c.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    diagnostics.set(p.uri, p.diagnostics);
    wake();
  });
  c.onNotification('window/logMessage', (p: { message: string }) => {
    logs.push(p.message);
  });
  c.onNotification('window/showMessage', () => undefined);
  c.onNotification('$/progress', () => undefined);
  c.onNotification('reclaimLens/status', () => undefined);
  c.onRequest('window/workDoneProgress/create', () => null);
  c.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => ({})));
  c.onRequest('client/registerCapability', () => null);
  c.onRequest('workspace/inlayHint/refresh', () => null);
  c.onRequest('workspace/codeLens/refresh', () => null);
  c.listen();
  await c.sendRequest('initialize', {
    processId: process.pid, rootUri: pathToFileURL(ws).toString(),
    workspaceFolders: [{ uri: pathToFileURL(ws).toString(), name: 'ws' }],
    capabilities: { window: { workDoneProgress: true }, workspace: { configuration: true }, textDocument: { codeAction: {} } },
  });
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
  await c.sendNotification('textDocument/didOpen', { textDocument: { uri: cacheUri, languageId: 'c', version: 1, text: ALLOC } });
  diagnostics.delete(cacheUri);
  await until('the opened file\'s diagnostics', () => !!deadlockOf());
  const d = deadlockOf()!;
  assert.equal(d.range.start.line, 8);

  const actions = await c.sendRequest('textDocument/codeAction', {
    textDocument: { uri: cacheUri }, range: { start: { line: 8, character: 6 }, end: { line: 8, character: 6 } }, context: { diagnostics: [d] },
  }) as CodeAction[];
  const sim = actions.filter((a) => a.command?.command === 'reclaimLens.simulateDeadlock');
  assert.equal(sim.length, 1, JSON.stringify(actions.map((a) => a.title)));
  const [a] = sim;
  assert.equal(a.title, 'Simulate deadlock: demo_insert() (reclaim-deadlock)');
  assert.equal(a.kind, 'quickfix');
  assert.deepEqual(a.diagnostics, [d]);
  const [model, baseUri] = a.command!.arguments as [string, string];
  assert.equal(baseUri, pathToFileURL(path.join(ws, 'demo_insert.rlsim')).toString());
  assert.match(model, /^reclaim demo_scan kind shrinker gate __GFP_FS @fs\/demo\/shrinker\.c:17 /m);
  assert.match(model, /^ {2}alloc GFP_KERNEL @mm\/demo_cache\.c:9 note "demo_insert\(\): kmalloc\(GFP_KERNEL\)"$/m);
  assert.match(model, /^\/\/ Fixed variant, one edit: alloc GFP_NOFS at mm\/demo_cache\.c:9 /m);

  // The quick fixes of the deadlock (ide/fixes/deadlockScope.ts, deadlockMask.ts): the shrinker is gated on
  // __GFP_FS, so a memalloc_nofs_save() scope around the critical section (preferred) or GFP_NOFS breaks the cycle;
  // both verified by re-analysis; the narrow one is one edit of the mask.
  const scope = actions.filter((x) => x.title.startsWith('Open a memalloc_nofs_save() scope'));
  assert.deepEqual(scope.map((x) => [x.title, x.isPreferred]), [['Open a memalloc_nofs_save() scope for the critical section of demo_cache_lock (1 allocation in it)', true]]);
  // Its comment names the reclaim callback and the table field it is bound to (the index keeps them with the finding).
  const comment = (scope[0].edit?.changes?.[cacheUri] ?? []).map((e) => e.newText).join('');
  assert.match(comment, /demo_scan\(\) \(shrinker\.scan_objects\)/, comment);
  const narrow = actions.filter((x) => x.title.startsWith('Use GFP_NOFS for this allocation'));
  assert.equal(narrow.length, 1, JSON.stringify(actions.map((x) => x.title)));
  assert.equal(narrow[0].title, 'Use GFP_NOFS for this allocation: reclaim takes the lock only with __GFP_FS');
  assert.equal(narrow[0].kind, 'quickfix');
  assert.equal(narrow[0].isPreferred, undefined);
  assert.deepEqual(narrow[0].diagnostics, [d]);
  const edits = narrow[0].edit?.changes?.[cacheUri] ?? [];
  assert.deepEqual(edits.map((e) => [e.range.start.line, e.range.start.character, e.range.end.character, e.newText]), [[8, 17, 27, 'GFP_NOFS']]);

  // Only asked for source actions (fix-all on save): no simulation; elsewhere in the file: none either.
  const fixAll = await c.sendRequest('textDocument/codeAction', {
    textDocument: { uri: cacheUri }, range: d.range, context: { diagnostics: [], only: ['source.fixAll.reclaimLens'] },
  }) as CodeAction[];
  assert.ok(!fixAll.some((x) => x.command?.command === 'reclaimLens.simulateDeadlock'));
  const elsewhere = await c.sendRequest('textDocument/codeAction', {
    textDocument: { uri: cacheUri }, range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, context: { diagnostics: [] },
  }) as CodeAction[];
  assert.deepEqual(elsewhere.filter((x) => x.command?.command === 'reclaimLens.simulateDeadlock'), []);

  // What the simulation panel then sends.
  const r = await c.sendRequest('reclaimLens/simulate', { text: model, baseUri }) as SimulateResult;
  assert.equal(r.verdict, 'deadlock');
  const alloc = r.steps.find((s) => s.action === 'alloc');
  assert.equal(alloc?.location?.uri, cacheUri, 'the allocation step resolves to the workspace file');
  const taken = r.steps.find((s) => s.blocked);
  assert.equal(taken?.location?.uri, pathToFileURL(shrinker).toString(), 'the shrinker\'s lock step resolves too');
  const fixed = await c.sendRequest('reclaimLens/simulate', { text: model.replace(/^( {2}alloc )GFP_KERNEL/m, '$1GFP_NOFS'), baseUri }) as SimulateResult;
  assert.equal(fixed.verdict, 'no-deadlock', 'the fixed variant, one edit away');
});
