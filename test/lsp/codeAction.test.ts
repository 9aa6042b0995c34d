// textDocument/codeAction over stdio against the bundled server (dist/server.js): verified quick fixes with their
// diagnostic, a refactoring's fix while its diagnostic is hidden, disabled actions with the reason a fix is not
// offered, source.fixAll.reclaimLens, and the diagnostics.showRefactorings setting. `npm test` builds the bundle.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { CodeAction, Diagnostic, PublishDiagnosticsParams, TextEdit } from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';

const ROOT = path.join(__dirname, '..', '..');

let proc: ChildProcess;
let conn: ProtocolConnection;
let settings: unknown = {};
const waiting = new Map<string, ((d: Diagnostic[]) => void)[]>();

function nextDiagnostics(uri: string): Promise<Diagnostic[]> {
  return new Promise((resolve) => waiting.set(uri, [...(waiting.get(uri) ?? []), resolve]));
}

before(async () => {
  proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    const w = waiting.get(p.uri) ?? [];
    waiting.set(p.uri, []);
    for (const f of w) f(p.diagnostics);
  });
  conn.onNotification('window/showMessage', () => undefined);
  conn.onNotification('window/logMessage', () => undefined);
  conn.onNotification('reclaimLens/status', () => undefined);
  conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => settings));
  conn.onRequest('client/registerCapability', () => null);
  conn.listen();
  const init = await conn.sendRequest('initialize', {
    processId: process.pid, rootUri: pathToFileURL(ROOT).toString(), workspaceFolders: null,
    capabilities: { workspace: { configuration: true }, textDocument: { codeAction: { disabledSupport: true, codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'source'] } } } } },
  }) as { capabilities: { codeActionProvider?: { codeActionKinds?: string[] } } };
  assert.deepEqual(init.capabilities.codeActionProvider?.codeActionKinds, ['quickfix', 'source.fixAll.reclaimLens']);
  await conn.sendNotification('initialized', {});
});

after(() => {
  conn.dispose();
  proc.kill();
});

const SOURCE = `struct foo { struct mutex lock; };

static int leaks(int err)
{
	unsigned int flags = memalloc_nofs_save();
	void *p;

	if (err)
		return err;
	p = kmalloc(32, GFP_KERNEL);
	memalloc_nofs_restore(flags);
	kfree(p);
	return 0;
}

static void *candidate(struct foo *f, size_t n)
{
	void *p;

	mutex_lock(&f->lock);
	p = kmalloc(n, GFP_NOFS);
	mutex_unlock(&f->lock);
	return p;
}

static void *or_nofs(size_t n)
{
	return kmalloc(n, GFP_KERNEL | GFP_NOFS);
}

static void atomic(spinlock_t *l)
{
	spin_lock(l);
	vmalloc(64);
	spin_unlock(l);
}
`;

async function open(uri: string, text: string): Promise<Diagnostic[]> {
  const d = nextDiagnostics(uri);
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text } });
  return d;
}

const at = (text: string, needle: string) => {
  const doc = TextDocument.create('x', 'c', 1, text);
  const o = text.indexOf(needle);
  return { start: doc.positionAt(o), end: doc.positionAt(o + needle.length) };
};

function applied(text: string, edits: TextEdit[]): string {
  return TextDocument.applyEdits(TextDocument.create('x', 'c', 1, text), edits);
}

test('quick fixes: verified edits with their diagnostic; the hidden refactoring still gets its fix', async () => {
  const uri = 'file:///tmp/rl-codeaction.c';
  const diags = await open(uri, SOURCE);
  const codes = diags.map((d) => d.code).sort();
  // nofs-scope-candidate (and the nofs-unnecessary the OR fix would leave) are off in the Problems view by default.
  assert.deepEqual(codes, ['gfp-or-ineffective', 'scope-unbalanced', 'sleep-in-atomic']);
  const leak = diags.find((d) => d.code === 'scope-unbalanced')!;
  const actions = await conn.sendRequest('textDocument/codeAction', {
    textDocument: { uri }, range: leak.range, context: { diagnostics: [leak], only: ['quickfix'] },
  }) as CodeAction[];
  const fix = actions.find((a) => !a.disabled)!;
  assert.equal(fix.kind, 'quickfix');
  assert.equal(fix.isPreferred, true);
  assert.deepEqual(fix.diagnostics, [leak]);
  assert.match(fix.title, /Restore flags with memalloc_nofs_restore\(\)/);
  const fixed = applied(SOURCE, fix.edit!.changes![uri]);
  assert.match(fixed, /\tif \(err\) \{\n\t\tmemalloc_nofs_restore\(flags\);\n\t\treturn err;\n\t\}\n/);

  const cand = await conn.sendRequest('textDocument/codeAction', {
    textDocument: { uri }, range: at(SOURCE, 'GFP_NOFS);'), context: { diagnostics: [] },
  }) as CodeAction[];
  const scope = cand.find((a) => a.title.startsWith('Open a memalloc_nofs_save() scope'));
  assert.ok(scope, cand.map((a) => a.title).join('; '));
  assert.equal(scope.diagnostics, undefined, 'no diagnostic attached: it is not shown');
  const scoped = applied(SOURCE, scope.edit!.changes![uri]);
  assert.match(scoped, /\tvoid \*p;\n\tunsigned int nofs_flags;\n\n\tmutex_lock\(&f->lock\);\n\t\/\* &f->lock is held: reclaim must not recurse into the filesystem \*\/\n\tnofs_flags = memalloc_nofs_save\(\);\n\tp = kmalloc\(n, GFP_KERNEL\);\n\tmemalloc_nofs_restore\(nofs_flags\);\n\tmutex_unlock/);
});

test('a fix that is not offered comes back disabled, with the reason', async () => {
  const uri = 'file:///tmp/rl-codeaction.c';
  const actions = await conn.sendRequest('textDocument/codeAction', {
    textDocument: { uri }, range: at(SOURCE, 'vmalloc(64)'), context: { diagnostics: [] },
  }) as CodeAction[];
  const off = actions.find((a) => a.disabled);
  assert.ok(off, JSON.stringify(actions));
  assert.match(off.disabled!.reason, /vmalloc\(\) always may sleep/);
  assert.equal(off.edit, undefined);
});

test('source.fixAll.reclaimLens applies every verified fix of the shown codes, one edit', async () => {
  const uri = 'file:///tmp/rl-codeaction.c';
  const actions = await conn.sendRequest('textDocument/codeAction', {
    textDocument: { uri }, range: at(SOURCE, 'struct'), context: { diagnostics: [], only: ['source.fixAll'] },
  }) as CodeAction[];
  assert.equal(actions.length, 1);
  assert.equal(actions[0].kind, 'source.fixAll.reclaimLens');
  assert.match(actions[0].title, /2 verified fixes/);
  const all = applied(SOURCE, actions[0].edit!.changes![uri]);
  assert.match(all, /memalloc_nofs_restore\(flags\);\n\t\treturn err;/);
  assert.match(all, /return kmalloc\(n, GFP_NOFS\);/);
  assert.match(all, /p = kmalloc\(n, GFP_NOFS\);/, 'the hidden refactoring is not applied by fix-all');
});

test('diagnostics.showRefactorings shows the refactorings, and fix-all then applies them', async () => {
  settings = { diagnostics: { showRefactorings: true } };
  const uri = 'file:///tmp/rl-codeaction-2.c';
  const w = nextDiagnostics(uri);
  await conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text: SOURCE } });
  const diags = await w;
  assert.ok(diags.some((d) => d.code === 'nofs-scope-candidate'), diags.map((d) => d.code).join(', '));
  const actions = await conn.sendRequest('textDocument/codeAction', {
    textDocument: { uri }, range: at(SOURCE, 'struct'), context: { diagnostics: [], only: ['source.fixAll.reclaimLens'] },
  }) as CodeAction[];
  const all = applied(SOURCE, actions[0].edit!.changes![uri]);
  assert.match(all, /nofs_flags = memalloc_nofs_save\(\);/);
  settings = { diagnostics: { showRefactorings: 'yes' } };
  const w2 = nextDiagnostics(uri);
  await conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
  const d2 = await w2;
  assert.ok(!d2.some((d) => d.code === 'nofs-scope-candidate'), 'a bad value falls back to the default (off)');
  settings = {};
});
