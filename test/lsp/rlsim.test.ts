// `.rlsim` models in the bundled server (dist/server.js over stdio): parse diagnostics, hover, go-to-source,
// the "▶ Run model" code lens and the reclaimLens/simulate request. `npm test` builds the bundle first (pretest).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { CodeLens, Diagnostic, Hover, Location, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import type { SimulateErrorData, SimulateResult } from '../../server/src/lsp/protocol';

const ROOT = path.join(__dirname, '..', '..');
const LSP_DIR = path.join(ROOT, 'test', 'fixtures', 'lsp');
const DEMO_URI = pathToFileURL(path.join(LSP_DIR, 'demo.c')).toString();
const XFS = path.join(ROOT, 'test', 'fixtures', 'models', 'xfs-ilock-super-cache-scan.rlsim');
// Opened from the editor only (never written): `demo.c` is beside it, `test/fixtures/lsp/demo.c` is under the root.
const MODEL_URI = pathToFileURL(path.join(LSP_DIR, 'abba.rlsim')).toString();
const MODEL = `model "AB-BA in demo.c"
mutex &a
mutex &b
thread t1 {
  lock &a @demo.c:21 note "beside the model"
  lock &b @test/fixtures/lsp/demo.c:10
  unlock &b
  unlock &a
}
thread t2 {
  lock &b @fs/missing.c:1
  lock &a @../../../../../../etc/passwd:1
  unlock &a
  unlock &b
}
`;

let proc: ChildProcess;
let conn: ProtocolConnection;
const waiting = new Map<string, ((d: Diagnostic[]) => void)[]>();
let lensRefreshes = 0;

function nextDiagnostics(uri: string): Promise<Diagnostic[]> {
  return new Promise((resolve) => waiting.set(uri, [...(waiting.get(uri) ?? []), resolve]));
}

before(async () => {
  proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    const list = waiting.get(p.uri) ?? [];
    waiting.set(p.uri, []);
    for (const w of list) w(p.diagnostics);
  });
  conn.onNotification('window/showMessage', () => undefined);
  conn.onNotification('window/logMessage', () => undefined);
  conn.onNotification('reclaimLens/status', () => undefined);
  conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => ({})));
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/codeLens/refresh', () => {
    lensRefreshes++;
    return null;
  });
  conn.listen();
  const init = await conn.sendRequest('initialize', {
    processId: process.pid, rootUri: pathToFileURL(ROOT).toString(), workspaceFolders: null,
    capabilities: { workspace: { configuration: true, codeLens: { refreshSupport: true } }, textDocument: { hover: {}, definition: {}, codeLens: {} } },
  }) as { capabilities: Record<string, unknown> };
  assert.equal(init.capabilities.definitionProvider, true);
  assert.deepEqual(init.capabilities.codeLensProvider, { resolveProvider: false });
  await conn.sendNotification('initialized', {});
});

after(() => {
  conn.dispose();
  proc.kill();
});

async function open(uri: string, text: string, version = 1): Promise<Diagnostic[]> {
  const d = nextDiagnostics(uri);
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'rlsim', version, text } });
  return d;
}

const hoverAt = (uri: string, line: number, character: number) =>
  conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character } }) as Promise<Hover | null>;
const definitionAt = (uri: string, line: number, character: number) =>
  conn.sendRequest('textDocument/definition', { textDocument: { uri }, position: { line, character } }) as Promise<Location | null>;
const lenses = (uri: string) => conn.sendRequest('textDocument/codeLens', { textDocument: { uri } }) as Promise<CodeLens[]>;
const simulate = (params: unknown) => conn.sendRequest('reclaimLens/simulate', params) as Promise<SimulateResult>;

async function simulateError(params: unknown): Promise<ResponseError<SimulateErrorData>> {
  try {
    await simulate(params);
  } catch (e) {
    assert.ok(e instanceof ResponseError, String(e));
    return e as ResponseError<SimulateErrorData>;
  }
  assert.fail('reclaimLens/simulate succeeded');
}

test('a model: no diagnostics, hover with the source location, go-to-source beside the model and under the root', async () => {
  assert.deepEqual(await open(MODEL_URI, MODEL), []);
  const h = (await hoverAt(MODEL_URI, 4, 4))!;
  const md = (h.contents as { value: string }).value;
  assert.match(md, /\*\*lock\*\* `&a`/);
  assert.match(md, /in thread t1; source: `demo\.c:21`/);
  assert.match(md, /beside the model/);
  assert.ok(md.endsWith(`[Open demo.c:21](${DEMO_URI}#L21)`), md);
  assert.deepEqual(h.range, { start: { line: 4, character: 2 }, end: { line: 4, character: 44 } });

  assert.deepEqual(await definitionAt(MODEL_URI, 4, 4), { uri: DEMO_URI, range: { start: { line: 20, character: 0 }, end: { line: 20, character: 0 } } });
  assert.deepEqual(await definitionAt(MODEL_URI, 5, 4), { uri: DEMO_URI, range: { start: { line: 9, character: 0 }, end: { line: 9, character: 0 } } });
  assert.equal(await definitionAt(MODEL_URI, 10, 4), null, 'fs/missing.c does not exist');
  assert.equal(await definitionAt(MODEL_URI, 11, 4), null, 'a path leaving the workspace is not followed');
  assert.deepEqual(await definitionAt(MODEL_URI, 4, 8), { uri: MODEL_URI, range: { start: { line: 1, character: 6 }, end: { line: 1, character: 8 } } }, 'operand → declaration');
  assert.equal(await hoverAt(MODEL_URI, 3, 20), null);
});

test('the code lens runs the model and shows the verdict of the current version', async () => {
  const before = await lenses(MODEL_URI);
  assert.deepEqual(before, [{
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    command: { title: '▶ Run model', command: 'reclaimLens.simulateModel', arguments: [MODEL_URI] },
  }]);
  const refreshes = lensRefreshes;
  const r = await simulate({ uri: MODEL_URI });
  assert.equal(r.verdict, 'deadlock');
  assert.equal(r.summary, 'deadlock in 2 steps');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(lensRefreshes, refreshes + 1, 'the server asked for a lens refresh');
  assert.deepEqual((await lenses(MODEL_URI)).map((l) => l.command?.title), ['▶ Run model', 'deadlock in 2 steps']);

  // Source locations of the run carry the file's URI when it exists beside the model or under the root.
  assert.equal(r.steps.filter((s) => !s.blocked).length, 2);
  const uris = new Map(r.steps.filter((s) => s.location).map((s) => [s.location!.file, s.location!.uri]));
  assert.equal(uris.get('demo.c'), DEMO_URI);
  for (const s of r.steps) if (s.location?.file === 'test/fixtures/lsp/demo.c') assert.equal(s.location.uri, DEMO_URI);
  for (const s of r.steps) if (s.location?.file === 'fs/missing.c' || s.location?.file.includes('passwd')) assert.equal(s.location.uri, undefined);

  // An edit makes the verdict stale.
  await conn.sendNotification('textDocument/didChange', {
    textDocument: { uri: MODEL_URI, version: 2 }, contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '// edited\n' }],
  });
  assert.deepEqual((await lenses(MODEL_URI)).map((l) => l.command?.title), ['▶ Run model']);
});

test('reclaimLens/simulate on a fixture file that is not open', async () => {
  const r = await simulate({ uri: pathToFileURL(XFS).toString() });
  assert.equal(r.verdict, 'deadlock');
  assert.equal(r.kind, 'circular');
  assert.equal(r.length, 5);
  assert.equal(r.summary, 'deadlock in 5 steps');
  assert.deepEqual(r.threads.map((t) => t.name), ['syz-executor', 'kswapd0']);
  assert.equal(r.steps.length, 6);
  const alloc = r.steps.find((s) => s.action === 'alloc')!;
  assert.deepEqual(alloc.location, { file: 'fs/iomap/buffered-io.c', line: 1557 }, 'no kernel tree here: no uri');
  assert.deepEqual(alloc.modelRange, { start: { line: 18, character: 2 }, end: { line: 18, character: 87 } });
  assert.match(r.lockdep, /WARNING: possible circular locking dependency detected/);
  assert.deepEqual(r.chain, ['&xfs_nondir_ilock_class', 'fs_reclaim', '&xfs_nondir_ilock_class']);
  assert.deepEqual(r.warnings, []);

  const fixed = await simulate({ uri: pathToFileURL(XFS.replace('super-cache-scan', 'gfp-nofs-fixed')).toString() });
  assert.equal(fixed.verdict, 'no-deadlock');
  assert.match(fixed.summary, /^no deadlock: \d+ states$/);
  assert.deepEqual(fixed.steps, []);
});

test('reclaimLens/simulate on a text with a base URI', async () => {
  const r = await simulate({ text: MODEL, baseUri: DEMO_URI });
  assert.equal(r.verdict, 'deadlock');
  assert.equal(r.steps.find((s) => s.location?.file === 'demo.c')?.location?.uri, DEMO_URI);
  const noBase = await simulate({ text: MODEL });
  assert.equal(noBase.steps.find((s) => s.location?.file === 'demo.c')?.location?.uri, undefined, 'demo.c is not at the root');
});

test('reclaimLens/simulate on a broken model: RequestFailed with a clear message and the problems', async () => {
  const e = await simulateError({ text: 'mutex a\nthread t {\n  lok a @x.c:1\n  lock b\n}\n' });
  assert.equal(e.code, -32803);
  assert.match(e.message, /^the model has 2 errors: line 3, column 3: unknown step 'lok'; expected one of: lock, .* \(and 1 more error\)$/);
  assert.deepEqual(e.data?.problems.map((p) => [p.range.start, p.severity]), [[{ line: 2, character: 2 }, 'error'], [{ line: 3, character: 7 }, 'error']]);

  const broken = 'file:///tmp/reclaim-lens-test/broken.rlsim';
  const diags = await open(broken, 'mutex a\nthread t {\n  lock\n  lock a\n}\n');
  assert.deepEqual(diags.map((d) => [d.range.start, d.severity, d.message]), [[{ line: 2, character: 2 }, 1, 'lock needs a resource name (e.g. lock &inode->i_rwsem)']]);
  const e2 = await simulateError({ uri: broken });
  assert.equal(e2.message, 'broken.rlsim has 1 error: line 3, column 3: lock needs a resource name (e.g. lock &inode->i_rwsem)');
  assert.deepEqual((await lenses(broken)).map((l) => l.command?.title), ['▶ Run model'], 'a failed run shows no verdict');
});

test('reclaimLens/simulate with bad params or an unreadable model: InvalidParams, and the server keeps answering', async () => {
  for (const params of [{}, { uri: 42 }, null]) {
    const e = await simulateError(params);
    assert.equal(e.code, -32602);
    assert.match(e.message, /needs \{ uri \} or \{ text, baseUri\? \}/);
  }
  const missing = await simulateError({ uri: 'file:///nonexistent/dir/x.rlsim' });
  assert.equal(missing.code, -32602);
  assert.match(missing.message, /^cannot read x\.rlsim: ENOENT/);
  const untitled = await simulateError({ uri: 'untitled:Untitled-1' });
  assert.match(untitled.message, /is not open and not a local file/);
  assert.equal((await simulate({ uri: MODEL_URI })).verdict, 'deadlock');
  assert.equal(await definitionAt(DEMO_URI, 0, 0), null, 'definitions are for models only');
});
