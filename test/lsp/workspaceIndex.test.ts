// The workspace index of the bundled server (dist/server.js over stdio): a kernel-like folder is indexed in the
// background with work-done progress, the whole-program reclaim-deadlock finding is published for a file that is
// not open (related locations in the shrinker's file), merged into an opened file's diagnostics and shown on hover
// as the lockdep-format report, and withdrawn after a fix is saved. A folder that is not a kernel tree is not
// indexed under `auto`; bad settings are reported and replaced by their defaults. `npm test` builds the bundle first.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { Diagnostic, Hover, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { parseConfig } from '../../server/src/lsp/config';
import { tempDir } from '../harness/tmp';

const ROOT = path.join(__dirname, '..', '..');
const TIMEOUT = 60_000;

const SHRINKER = `// A shrinker whose scan takes the cache lock.
#include <linux/shrinker.h>

DEFINE_MUTEX(demo_cache_lock);
static struct shrinker *demo_shrinker;

static unsigned long demo_scan(struct shrinker *s, struct shrink_control *sc)
{
	unsigned long freed = 0;

	mutex_lock(&demo_cache_lock);
	freed = demo_prune(sc->nr_to_scan);
	mutex_unlock(&demo_cache_lock);
	return freed;
}

int demo_init(void)
{
	demo_shrinker = shrinker_alloc(0, "demo");
	demo_shrinker->scan_objects = demo_scan;
	shrinker_register(demo_shrinker);
	return 0;
}
`;

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
`;

interface Server {
  conn: ProtocolConnection;
  proc: ChildProcess;
  diagnostics: Map<string, Diagnostic[]>;
  messages: string[];
  logs: string[];
  progress: { token: unknown; value: { kind: string; message?: string; title?: string; percentage?: number } }[];
  progressCreated: number;
  settings: unknown;
  /** resolves when `pred` holds for what the server has sent (checked on every message) */
  until(what: string, pred: () => boolean): Promise<void>;
}

const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.conn.dispose();
    s.proc.kill();
  }
});

async function startServer(workspace: string, settings: unknown): Promise<Server> {
  const cache = tempDir(path.join(os.tmpdir(), 'rl-wsindex-cache-'));
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js'), '--stdio'], {
    stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, XDG_CACHE_HOME: cache },
  });
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  const waiters: { pred: () => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.pred()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const s: Server = {
    conn, proc, diagnostics: new Map(), messages: [], logs: [], progress: [], progressCreated: 0, settings,
    until: (what, pred) => new Promise<void>((resolve, reject) => {
      if (pred()) return resolve();
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; log:\n${s.logs.join('\n')}\nmessages:\n${s.messages.join('\n')}`)), TIMEOUT);
      waiters.push({ pred, resolve: () => { clearTimeout(timer); resolve(); } });
    }),
  };
  conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    s.diagnostics.set(p.uri, p.diagnostics);
    check();
  });
  conn.onNotification('window/showMessage', (p: { message: string }) => {
    s.messages.push(p.message);
    check();
  });
  conn.onNotification('window/logMessage', (p: { message: string }) => {
    s.logs.push(p.message);
    check();
  });
  conn.onNotification('$/progress', (p: Server['progress'][number]) => {
    s.progress.push(p);
    check();
  });
  conn.onRequest('window/workDoneProgress/create', () => {
    s.progressCreated++;
    return null;
  });
  conn.onNotification('reclaimLens/status', () => undefined);
  conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => s.settings));
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/inlayHint/refresh', () => null);
  conn.listen();
  await conn.sendRequest('initialize', {
    processId: process.pid, rootUri: pathToFileURL(workspace).toString(),
    workspaceFolders: [{ uri: pathToFileURL(workspace).toString(), name: path.basename(workspace) }],
    capabilities: { window: { workDoneProgress: true }, workspace: { configuration: true }, textDocument: { hover: {}, synchronization: { didSave: true } } },
  });
  await conn.sendNotification('initialized', {});
  servers.push(s);
  return s;
}

function write(file: string, text: string) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

const deadlocks = (d: Diagnostic[] | undefined) => (d ?? []).filter((x) => x.code === 'reclaim-deadlock');

test('the kernel-like workspace is indexed and the reclaim deadlock is shown, hovered and withdrawn after a fix', { timeout: 4 * TIMEOUT }, async (t) => {
  const ws = tempDir(path.join(os.tmpdir(), 'rl-wsindex-kernel-'));
  write(path.join(ws, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n');
  const shrinker = path.join(ws, 'fs', 'demo', 'shrinker.c');
  const cache = path.join(ws, 'mm', 'demo_cache.c');
  write(shrinker, SHRINKER);
  write(cache, alloc('GFP_KERNEL'));
  write(path.join(ws, 'tools', 'ignored.c'), alloc('GFP_KERNEL')); // not under a default indexed folder
  const cacheUri = pathToFileURL(cache).toString();
  const shrinkerUri = pathToFileURL(shrinker).toString();

  // A bad value is reported by key and the default (auto: this is a kernel tree) is used.
  const s = await startServer(ws, { index: { enabled: 'sometimes' }, deadlock: { classLevel: 'yes' } });
  await s.until('the reclaim-deadlock diagnostic of the closed file', () => deadlocks(s.diagnostics.get(cacheUri)).length > 0);
  assert.ok(s.messages.some((m) => m.includes('reclaimLens.index.enabled') && m.includes('sometimes') && m.includes('"auto"')), s.messages.join('\n'));
  assert.ok(s.messages.some((m) => m.includes('reclaimLens.deadlock.classLevel') && m.includes('true')), s.messages.join('\n'));

  const [d] = deadlocks(s.diagnostics.get(cacheUri));
  assert.equal(d.source, 'reclaim-lens');
  assert.equal(d.range.start.line, 8, 'on the kmalloc line');
  assert.match(String(d.codeDescription?.href), /docs\/checks\/reclaim-deadlock\.md$/);
  const related = d.relatedInformation ?? [];
  assert.ok(related.length > 0, 'related information');
  assert.ok(related.some((r) => r.location.uri === shrinkerUri), `a related location in the shrinker's file: ${JSON.stringify(related)}`);
  for (const r of related) {
    assert.ok([cacheUri, shrinkerUri].includes(r.location.uri), r.location.uri);
    const lines = fs.readFileSync(r.location.uri === cacheUri ? cache : shrinker, 'utf8').split('\n');
    assert.ok(r.location.range.start.line < lines.length && r.location.range.start.character <= lines[r.location.range.start.line].length, `in range: ${JSON.stringify(r)}`);
  }
  const taken = related.find((r) => r.location.uri === shrinkerUri && r.location.range.start.line === 10);
  assert.ok(taken, `the shrinker's mutex_lock (line 11) is among the related locations: ${JSON.stringify(related)}`);
  assert.equal(s.diagnostics.get(pathToFileURL(path.join(ws, 'tools', 'ignored.c')).toString()), undefined, 'tools/ is not indexed');

  // Work-done progress: created, begun, "indexing N/M files", "reclaim and fault deadlocks", ended.
  assert.ok(s.progressCreated >= 1, 'window/workDoneProgress/create');
  await s.until('the end of the progress', () => s.progress.some((p) => p.value.kind === 'end'));
  const kinds = s.progress.map((p) => p.value.kind);
  assert.equal(kinds[0], 'begin');
  assert.equal(kinds[kinds.length - 1], 'end');
  assert.ok(s.progress.some((p) => /^indexing \d+\/2 files$/.test(p.value.message ?? '')), JSON.stringify(s.progress));
  assert.ok(s.progress.some((p) => p.value.message === 'reclaim and fault deadlocks'), JSON.stringify(s.progress));

  // Opened: the per-file diagnostics and the whole-program one together; the hover shows the report.
  s.diagnostics.delete(cacheUri);
  await s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: cacheUri, languageId: 'c', version: 1, text: alloc('GFP_KERNEL') } });
  await s.until('diagnostics of the opened file', () => s.diagnostics.has(cacheUri));
  assert.equal(deadlocks(s.diagnostics.get(cacheUri)).length, 1, 'the whole-program finding is merged into the open document\'s diagnostics');
  const hover = await s.conn.sendRequest('textDocument/hover', { textDocument: { uri: cacheUri }, position: { line: 8, character: 7 } }) as Hover;
  const value = (hover.contents as { value: string }).value;
  assert.match(value, /possible circular locking dependency/);
  assert.match(value, /```text\n/);
  assert.match(value, /\*\*kmalloc\(\)\*\*/, 'after the allocation hover');
  assert.ok(value.indexOf('**kmalloc()**') < value.indexOf('possible circular locking dependency'));

  // The fix, saved: the file is analysed again and the finding disappears.
  write(cache, alloc('GFP_NOWAIT'));
  await s.conn.sendNotification('textDocument/didChange', {
    textDocument: { uri: cacheUri, version: 2 }, contentChanges: [{ text: alloc('GFP_NOWAIT') }],
  });
  await s.conn.sendNotification('textDocument/didSave', { textDocument: { uri: cacheUri } });
  await s.until('the refresh after the save', () => s.logs.some((l) => /workspace index: refreshed mm\/demo_cache\.c in \d+ ms/.test(l)));
  await s.until('the deadlock withdrawn', () => s.diagnostics.has(cacheUri) && deadlocks(s.diagnostics.get(cacheUri)).length === 0);
  const refreshed = s.logs.find((l) => /refreshed mm\/demo_cache\.c/.test(l))!;
  t.diagnostic(refreshed);

  // Broken again and saved, then closed: a closed file keeps its whole-program diagnostics.
  write(cache, alloc('GFP_KERNEL'));
  await s.conn.sendNotification('textDocument/didChange', {
    textDocument: { uri: cacheUri, version: 3 }, contentChanges: [{ text: alloc('GFP_KERNEL') }],
  });
  await s.conn.sendNotification('textDocument/didSave', { textDocument: { uri: cacheUri } });
  await s.until('the deadlock back', () => deadlocks(s.diagnostics.get(cacheUri)).length > 0);
  s.diagnostics.delete(cacheUri);
  await s.conn.sendNotification('textDocument/didClose', { textDocument: { uri: cacheUri } });
  await s.until('the diagnostics of the closed file', () => s.diagnostics.has(cacheUri));
  assert.deepEqual(s.diagnostics.get(cacheUri)!.map((x) => x.code), ['reclaim-deadlock'], 'only the whole-program finding stays');

  // Settings that filter: a disabled code withdraws it without indexing again.
  const creates = s.progressCreated;
  s.settings = { diagnostics: { disabled: ['reclaim-deadlock'] } };
  await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
  await s.until('the disabled code withdrawn', () => deadlocks(s.diagnostics.get(cacheUri)).length === 0);
  assert.equal(s.progressCreated, creates, 'not indexed again');
});

/**
 * A kernel-like tree (fs/ and mm/) where demo_helper()'s GFP_KERNEL allocation is called from a NOFS scope (and, with
 * `plain`, from a caller without one); the server started on it, its index ready, helper.c open.
 */
async function contextsWorkspace(prefix: string, plain: boolean) {
  const ws = tempDir(path.join(os.tmpdir(), prefix));
  write(path.join(ws, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n');
  const helperText = 'void *demo_helper(void)\n{\n\treturn kmalloc(64, GFP_KERNEL);\n}\n';
  const helper = path.join(ws, 'fs', 'demo', 'helper.c');
  write(helper, helperText);
  write(path.join(ws, 'fs', 'demo', 'callers.c'), [
    'extern void *demo_helper(void);',
    'int demo_in_scope(void)',
    '{',
    '\tunsigned int flags = memalloc_nofs_save();',
    '\tkfree(demo_helper());',
    '\tmemalloc_nofs_restore(flags);',
    '\treturn 0;',
    '}',
    ...(plain ? ['int demo_plain(void)', '{', '\tkfree(demo_helper());', '\treturn 0;', '}'] : []),
    '',
  ].join('\n'));
  write(path.join(ws, 'mm', 'empty.c'), 'int demo_nothing;\n'); // fs/ and mm/: a kernel-like tree
  const uri = pathToFileURL(helper).toString();
  const s = await startServer(ws, {});
  await s.until('the index ready', () => s.logs.some((l) => /workspace index: ready in/.test(l)));
  await s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text: helperText } });
  return { s, uri };
}

test('the hover on an allocation shows its masks in the calling contexts the workspace index found', { timeout: 4 * TIMEOUT }, async () => {
  const { s, uri } = await contextsWorkspace('rl-wsindex-contexts-', true);
  const hover = await s.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 9 } }) as Hover;
  const value = (hover.contents as { value: string }).value;
  assert.match(value, /\*\*kmalloc\(\)\*\*/);
  assert.match(value, /\*\*In its calling contexts\*\* \(workspace index\):/);
  assert.match(value, /- `GFP_NOFS` from 1 caller \(memalloc_nofs_save\(\) in \[demo_in_scope\(\)\]\(file:\/\/[^)]*\/fs\/demo\/callers\.c#L4\)\) via \[demo_in_scope\(\)\]\(file:[^)]*callers\.c#L5\) → demo_helper\(\)/);
  assert.match(value, /- `GFP_KERNEL` from 1 caller via \[demo_plain\(\)\]\(file:[^)]*callers\.c#L11\) → demo_helper\(\)/);
});

test('the inlay hint on an allocation adds the masks of its callers\' contexts once the workspace index has them', { timeout: 4 * TIMEOUT }, async () => {
  const { s, uri } = await contextsWorkspace('rl-wsindex-hints-', false);
  const range = { start: { line: 0, character: 0 }, end: { line: 4, character: 0 } };
  type Part = { value: string; tooltip?: string; location?: { uri: string; range: { start: { line: number } } } };
  const ask = async () => (await s.conn.sendRequest('textDocument/inlayHint', { textDocument: { uri }, range }) as { label: Part[] }[] | null) ?? [];
  // The own frame's GFP_KERNEL is what is written: no hint until the index's contexts are in (never waited for).
  let hints = await ask();
  for (let i = 0; i < 50 && !hints.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    hints = await ask();
  }
  assert.equal(hints.length, 1);
  const parts = hints[0].label;
  assert.equal(parts.map((p) => p.value).join(''), '⇒ GFP_KERNEL · callers: GFP_NOFS (1)');
  const ctx = parts.find((p) => p.value === 'GFP_NOFS')!;
  assert.match(ctx.tooltip ?? '', /^GFP_NOFS from 1 caller \(memalloc_nofs_save\(\) in demo_in_scope\(\)\), via demo_in_scope\(\) → demo_helper\(\)$/);
  assert.match(ctx.location?.uri ?? '', /\/fs\/demo\/callers\.c$/);
  assert.equal(ctx.location?.range.start.line, 4, 'the call in demo_in_scope (line 5)');
});

test('a folder that is not a kernel tree is not indexed under auto; on indexes it; a missing kernel.root is reported', { timeout: 4 * TIMEOUT }, async () => {
  const ws = tempDir(path.join(os.tmpdir(), 'rl-wsindex-plain-'));
  const shrinker = path.join(ws, 'shrinker.c');
  const cache = path.join(ws, 'cache.c');
  write(shrinker, SHRINKER);
  write(cache, alloc('GFP_KERNEL'));
  const cacheUri = pathToFileURL(cache).toString();
  const s = await startServer(ws, {});
  await s.until('the not-a-kernel-tree log line', () => s.logs.some((l) => l.includes('does not look like a kernel tree')));
  // Give a run that should not happen a moment to show up.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(s.progressCreated, 0, 'no indexing progress');
  assert.equal(s.diagnostics.get(cacheUri), undefined, 'nothing published for a closed file');

  s.settings = { kernel: { root: 'no-such-tree' } };
  await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
  await s.until('a message about the missing tree', () => s.messages.some((m) => m.includes('cannot index') && m.includes('no-such-tree')));

  s.settings = { index: { enabled: 'on', paths: ['/etc'] } };
  await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
  await s.until('the whole folder indexed under on', () => deadlocks(s.diagnostics.get(cacheUri)).length > 0);
  assert.ok(s.messages.some((m) => m.includes('reclaimLens.index.paths')), s.messages.join('\n'));
});

test('the index settings are validated like the others', () => {
  const ok = parseConfig({ index: { enabled: 'on', paths: ['fs/xfs', 'mm'] }, deadlock: { classLevel: false }, model: { loopbackNfs: true } });
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.config.index, { enabled: 'on', paths: ['fs/xfs', 'mm'] });
  assert.equal(ok.config.deadlock.classLevel, false);
  assert.equal(ok.config.model.loopbackNfs, true);
  const defaults = parseConfig({});
  assert.deepEqual(defaults.config.index, { enabled: 'auto', paths: [] });
  assert.equal(defaults.config.deadlock.classLevel, true);
  for (const [raw, key] of [
    [{ index: { enabled: true } }, 'reclaimLens.index.enabled'],
    [{ index: { paths: 'fs' } }, 'reclaimLens.index.paths'],
    [{ index: { paths: ['/abs'] } }, 'reclaimLens.index.paths'],
    [{ index: { paths: ['fs/../../etc'] } }, 'reclaimLens.index.paths'],
    [{ deadlock: { classLevel: 'no' } }, 'reclaimLens.deadlock.classLevel'],
  ] as const) {
    const r = parseConfig(raw);
    assert.equal(r.problems.length, 1, JSON.stringify(raw));
    assert.ok(r.problems[0].startsWith(`${key}:`), r.problems[0]);
    assert.deepEqual(r.config.index, defaults.config.index);
    assert.equal(r.config.deadlock.classLevel, true);
  }
});
