// Hardening of settings and knowledge-base override files (#8): a bad value or a bad file is reported in one line
// naming the key (and the file) and the reason, the default is used, and nothing crashes. parseConfig and the
// override loader directly, then the bundled server (dist/server.js) with bad settings of every kind at once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { createKbProvider } from '../../server/src/analysis/kbView';
import { DEFAULT_CONFIG, parseConfig, type Config } from '../../server/src/lsp/config';
import { loadKnowledgeBase } from '../../server/src/model/kb';

const ROOT = path.join(__dirname, '..', '..');

/** The value at a dotted key of a Config. */
const at = (c: Config, key: string): unknown => {
  const alias: Record<string, string> = { 'kernel.root': 'kernelRoot', 'kb.paths': 'kbPaths' };
  return (alias[key] ?? key).split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], c);
};

/** `{ a: { b: v } }` from 'a.b'. */
const nested = (key: string, v: unknown): Record<string, unknown> => key.split('.').reduceRight<unknown>((inner, k) => ({ [k]: inner }), v) as Record<string, unknown>;

test('what VS Code sends (every default of package.json) is accepted without a message', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const conf = pkg.contributes.configuration;
  const raw: Record<string, unknown> = {};
  for (const c of Array.isArray(conf) ? conf : [conf]) {
    for (const [key, spec] of Object.entries(c.properties as Record<string, { default: unknown }>)) {
      const parts = key.replace(/^reclaimLens\./, '').split('.');
      let o = raw;
      for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
      o[parts.at(-1)!] = spec.default;
    }
  }
  assert.deepEqual(parseConfig(raw).problems, []);
});

test('a bad value of every setting, of every kind, is reported by key with the value, and its default used', () => {
  const cases: [key: string, kind: string, values: unknown[]][] = [
    ['kernelVersion', 'version', ['banana', '7', '6.x', '', 6.12, null, ['6.12'], 'auto\nsneaky']],
    ['inlayHints.mode', 'enum', ['sometimes', 'ALL', '', 1, true, null, ['all']]],
    ['diagnostics.minimumSeverity', 'enum', ['loud', 'Error', 3, null]],
    ['index.enabled', 'enum', ['yes', true, 1, null]],
    ['maxFileSizeMB', 'number', ['10', 0, -1, 0.05, 1025, 1e308, null, true, [10]]],
    ['diagnostics.showRefactorings', 'boolean', ['true', 'yes', 1, 0, null, [true]]],
    ['model.loopbackNfs', 'boolean', ['false', 1, null]],
    ['deadlock.classLevel', 'boolean', ['no', 0, null]],
    ['diagnostics.disabled', 'array', ['sleep-in-atomic', [1], [null], { 0: 'sleep-in-atomic' }, null, true]],
    ['kb.paths', 'array', ['.reclaim-lens/kb.jsonc', [42], [['x']], null]],
    ['index.paths', 'array', ['fs', ['/abs'], ['fs/../../etc'], [''], ['C:\\linux'], null]],
    ['kernel.root', 'path', [42, ['/src/linux'], true, null]],
  ];
  for (const [key, kind, values] of cases) {
    for (const v of values) {
      const what = `${key} (${kind}) = ${JSON.stringify(v)}`;
      const r = parseConfig(nested(key, v));
      assert.equal(r.problems.length, 1, `${what}: ${r.problems.join(' | ')}`);
      const p = r.problems[0];
      assert.ok(p.startsWith(`reclaimLens.${key}: `), `${what}: names the key: ${p}`);
      assert.ok(p.includes(JSON.stringify(v).slice(0, 40)), `${what}: shows the value: ${p}`);
      assert.match(p, /; using the default .+$/, `${what}: says the default is used`);
      assert.ok(!/[\n\r]/.test(p), `${what}: one line`);
      assert.deepEqual(r.config, DEFAULT_CONFIG, `${what}: every setting is its default`);
      assert.deepEqual(at(r.config, key), at(DEFAULT_CONFIG, key));
    }
  }
  // A bad value leaves the good ones next to it alone.
  const mixed = parseConfig({ inlayHints: { mode: 'all' }, maxFileSizeMB: 'big', diagnostics: { minimumSeverity: 'warning', showRefactorings: 'y' } });
  assert.deepEqual(mixed.problems.map((p) => p.split(':')[0]), ['reclaimLens.diagnostics.showRefactorings', 'reclaimLens.maxFileSizeMB']);
  assert.equal(mixed.config.inlayHints.mode, 'all');
  assert.equal(mixed.config.diagnostics.minimumSeverity, 'warning');
  assert.equal(mixed.config.maxFileSizeMB, 10);
  // A long value is cut short: the message stays readable.
  const long = parseConfig({ kernelVersion: 'x'.repeat(5000) }).problems[0];
  assert.ok(long.length < 200, long);
});

test('unknown check codes in diagnostics.disabled are named; the known ones still apply', () => {
  const r = parseConfig({ diagnostics: { disabled: ['sleep-in-atomc', 'nofs-redundant', 'reclaim-deadlock', 'x\ny'] } });
  assert.deepEqual(r.config.diagnostics.disabled, ['nofs-redundant', 'reclaim-deadlock']);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0], /^reclaimLens\.diagnostics\.disabled: unknown check codes "sleep-in-atomc", "x\\ny" ignored \(known: sleep-in-atomic, .*reclaim-deadlock.*\)$/);
});

test('settings that are not objects where groups of settings belong are reported, not silently ignored', () => {
  for (const raw of ['auto', 42, true, [], ['kernelVersion']]) {
    const r = parseConfig(raw);
    assert.equal(r.problems.length, 1, JSON.stringify(raw));
    assert.match(r.problems[0], /^reclaimLens: settings must be an object, not .+; using defaults$/);
    assert.deepEqual(r.config, DEFAULT_CONFIG);
  }
  assert.deepEqual(parseConfig(null), { config: DEFAULT_CONFIG, problems: [] }, 'no settings: defaults, quietly');
  for (const [group, v] of [['inlayHints', 'all'], ['diagnostics', ['sleep-in-atomic']], ['kb', '.reclaim-lens/kb.jsonc'], ['index', true], ['deadlock', 0]] as const) {
    const r = parseConfig({ [group]: v });
    assert.equal(r.problems.length, 1, group);
    assert.equal(r.problems[0], `reclaimLens.${group}: ${JSON.stringify(v)} is not an object of settings (reclaimLens.${group}.*); using the defaults`);
    assert.deepEqual(r.config, DEFAULT_CONFIG);
  }
});

// ---- knowledge-base override files

test('knowledge-base override files: bad JSON, wrong types and unknown keys name the file, the key and the reason', () => {
  const file = '/ws/.reclaim-lens/kb.jsonc';
  const cases: [text: string, want: RegExp][] = [
    ['{ "allocators": [ ', /^\/ws\/\.reclaim-lens\/kb\.jsonc: invalid JSON \(line 1\): .+; file ignored$/],
    ['{\n  // my allocators\n  "allocators": [\n    { "name": "my_alloc" "class": "slab" }\n  ]\n}', /^\/ws\/\.reclaim-lens\/kb\.jsonc: invalid JSON \(line 4\): .+; file ignored$/],
    ['\u0000\u0001binary', /: invalid JSON: Unexpected token .+; file ignored$/],
    ['x\ny', /: invalid JSON: Unexpected token 'x', "x\\u000ay" is not valid JSON; file ignored$/],
    ['[]', /: expected an object such as \{ "allocators": \[\.\.\.\] \}; file ignored$/],
    ['"allocators"', /: expected an object/],
    ['{ "allocators": {} }', /^\/ws\/\.reclaim-lens\/kb\.jsonc: allocators: expected an array; ignored$/],
    ['{ "allocators": [42] }', /: allocators\[0\]: .+; entry skipped$/],
    ['{ "allocators": [{ "name": "my_alloc", "class": "slab", "gfpArg": "two", "source": "x.h:1" }] }', /: allocators\[0\] \(my_alloc\)\.gfpArg: Expected number, received string.*; entry skipped$/],
    ['{ "allocators": [{ "name": "my_alloc", "class": "slab", "gfpArg": 1, "source": "x.h:1", "gfp_arg": 1 }] }', /: allocators\[0\] \(my_alloc\): Unrecognized key\(s\) in object: 'gfp_arg'; entry skipped$/],
    ['{ "allocaters": [] }', /: unknown key "allocaters" \(expected allocators, .+\); ignored$/],
    ['{ "bad\\nkey": [] }', /: unknown key "bad\\nkey" /],
    ['{ "allocators": [{ "name": "a\\nb<img onerror=x>", "class": "slab", "gfpArg": 1, "source": "x.h:1" }] }', /: allocators\[0\] \("a\\nb<img onerror=x>"\)\.name: /],
  ];
  const builtin = loadKnowledgeBase().kb.allocators.length;
  for (const [text, want] of cases) {
    const r = loadKnowledgeBase([{ path: file, text }]);
    assert.ok(r.problems.length >= 1, text);
    assert.match(r.problems[0], want, text);
    for (const p of r.problems) {
      assert.ok(p.startsWith(`${file}: `), p);
      assert.ok(!/[\n\r]/.test(p), `one line: ${JSON.stringify(p)}`);
    }
    assert.equal(r.kb.allocators.length, builtin, `${text}: the built-in entries are kept`);
    assert.ok(r.index.allocator('kmalloc'), 'the defaults still apply');
  }
  // The provider the CLI and the server build never throws on them, and carries the messages.
  const kb = createKbProvider([{ path: 'a.json', text: '{' }, { path: 'b.json', text: '{ "locks": [{ "name": 1 }] }' }]);
  assert.deepEqual(kb.problems.map((p) => p.split(':')[0]), ['a.json', 'b.json']);
  assert.ok(kb.view('6.12').allocator('kmalloc'));
});

// ---- the server

test('the server with bad settings of every kind: one warning per key, defaults used, still answering', { timeout: 120_000 }, async () => {
  const proc: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += d; });
  const conn: ProtocolConnection = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  after(() => {
    conn.dispose();
    proc.kill();
  });
  const warnings: string[] = [];
  const waiting = new Map<string, (d: Diagnostic[]) => void>();
  let settings: unknown = {
    kernelVersion: '7', inlayHints: { mode: 'sometimes' }, maxFileSizeMB: -1, kb: { paths: 'kb.json' },
    diagnostics: { disabled: 'sleep-in-atomic', minimumSeverity: 'loud', showRefactorings: 'yes' },
    model: { loopbackNfs: 1 }, index: { enabled: 'maybe', paths: ['/etc'] }, deadlock: { classLevel: 'no' }, kernel: { root: 42 },
  };
  conn.onNotification('window/showMessage', (p: { message: string }) => {
    warnings.push(p.message);
  });
  conn.onNotification('window/logMessage', () => undefined);
  conn.onNotification('reclaimLens/status', () => undefined);
  conn.onNotification('$/progress', () => undefined);
  conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => waiting.get(p.uri)?.(p.diagnostics));
  conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => settings));
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('window/workDoneProgress/create', () => null);
  conn.onRequest('workspace/inlayHint/refresh', () => null);
  conn.listen();
  await conn.sendRequest('initialize', {
    processId: process.pid, rootUri: null, workspaceFolders: null,
    capabilities: { workspace: { configuration: true }, textDocument: { inlayHint: {}, hover: {} } },
  });
  await conn.sendNotification('initialized', {});
  const open = (uri: string, text: string) => {
    const d = new Promise<Diagnostic[]>((resolve) => waiting.set(uri, resolve));
    void conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text } });
    return d;
  };
  const text = 'void f(spinlock_t *l)\n{\n\tspin_lock(l);\n\tkmalloc(1, GFP_KERNEL);\n\tspin_unlock(l);\n}\n';
  const d = await open('file:///tmp/rl-settings/a.c', text);
  // The defaults: nothing disabled, every severity shown, hints for changed masks.
  assert.deepEqual(d.map((x) => x.code), ['sleep-in-atomic']);
  const hover = await conn.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///tmp/rl-settings/a.c' }, position: { line: 3, character: 2 } });
  assert.ok(hover, 'the server still answers');
  const keys = ['kernelVersion', 'inlayHints.mode', 'maxFileSizeMB', 'kb.paths', 'diagnostics.disabled', 'diagnostics.minimumSeverity',
    'diagnostics.showRefactorings', 'model.loopbackNfs', 'index.enabled', 'index.paths', 'deadlock.classLevel', 'kernel.root'];
  for (const k of keys) {
    const mine = warnings.filter((w) => w.startsWith(`Reclaim Lens: reclaimLens.${k}: `));
    assert.equal(mine.length, 1, `one warning for ${k}:\n${warnings.join('\n')}`);
    assert.match(mine[0], /; using the default .+$/);
    assert.ok(!mine[0].includes('\n'));
  }
  assert.equal(warnings.length, keys.length, warnings.join('\n'));
  // Good settings again: no new warnings, and they take effect.
  settings = { diagnostics: { disabled: ['sleep-in-atomic'] } };
  await conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
  const d2 = await open('file:///tmp/rl-settings/b.c', text);
  assert.deepEqual(d2, []);
  assert.equal(warnings.length, keys.length, warnings.join('\n'));
  assert.equal(proc.exitCode, null, `the server is running: ${stderr}`);
});
