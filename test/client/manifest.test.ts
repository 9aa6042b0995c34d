// The manifest's contract: settings, commands, languages and grammars, check docs, and what a VSIX contains.
// Reads package.json and files as data; nothing here imports `vscode`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { renderStatus, type ClientPhase } from '../../client/src/statusModel';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string): string => readFileSync(path.join(root, rel), 'utf8');

interface Setting {
  type?: string | string[];
  default?: unknown;
  scope?: string;
  description?: string;
  markdownDescription?: string;
  enum?: unknown[];
  items?: { type?: string; enum?: string[] };
}
interface Manifest {
  main: string;
  activationEvents: string[];
  contributes: {
    languages: { id: string; extensions?: string[]; filenamePatterns?: string[] }[];
    grammars: { language?: string; scopeName: string; path: string }[];
    commands: { command: string; title: string; category?: string }[];
    configuration: { title: string; properties: Record<string, Setting> };
  };
}

const manifest = JSON.parse(read('package.json')) as Manifest;
const settings = manifest.contributes.configuration.properties;
const SCOPES = ['application', 'machine', 'machine-overridable', 'window', 'resource', 'language-overridable'];

test('every setting is prefixed, described and scoped', () => {
  const keys = Object.keys(settings);
  assert.ok(keys.length > 0);
  for (const key of keys) {
    const s = settings[key];
    assert.match(key, /^reclaimLens\.[a-zA-Z]+(\.[a-zA-Z]+)*$/, `${key}: not under reclaimLens.`);
    assert.ok((s.markdownDescription ?? s.description ?? '').length > 20, `${key}: missing or too short description`);
    assert.ok(s.scope && SCOPES.includes(s.scope), `${key}: scope ${String(s.scope)} is not one of ${SCOPES.join(', ')}`);
    assert.ok(s.type, `${key}: no type`);
    assert.ok('default' in s, `${key}: no default`);
    if (s.enum) assert.ok(s.enum.includes(s.default), `${key}: default ${String(s.default)} is not in its enum`);
  }
});

test('the settings of the first release have the agreed shapes and defaults', () => {
  const expected: Record<string, Partial<Setting>> = {
    'reclaimLens.kernelVersion': { type: 'string', default: 'auto' },
    'reclaimLens.inlayHints.mode': { type: 'string', default: 'changed', enum: ['changed', 'all', 'off'] },
    'reclaimLens.diagnostics.disabled': { type: 'array', default: [] },
    'reclaimLens.diagnostics.minimumSeverity': { type: 'string', default: 'hint', enum: ['error', 'warning', 'information', 'hint'] },
    'reclaimLens.diagnostics.showRefactorings': { type: 'boolean', default: false },
    'reclaimLens.kernel.root': { type: 'string', default: '' },
    'reclaimLens.kb.paths': { type: 'array', default: ['.reclaim-lens/*.jsonc'] },
    'reclaimLens.maxFileSizeMB': { type: 'number', default: 10 },
    'reclaimLens.model.loopbackNfs': { type: 'boolean', default: false },
    'reclaimLens.index.enabled': { type: 'string', default: 'auto', enum: ['auto', 'on', 'off'] },
    'reclaimLens.index.paths': { type: 'array', default: [] },
    'reclaimLens.deadlock.classLevel': { type: 'boolean', default: true },
    'reclaimLens.trace.server': { type: 'string', default: 'off', enum: ['off', 'messages', 'verbose'] },
  };
  assert.deepEqual(Object.keys(settings).sort(), Object.keys(expected).sort());
  for (const [key, want] of Object.entries(expected)) {
    for (const [field, value] of Object.entries(want)) {
      assert.deepEqual(settings[key][field as keyof Setting], value, `${key}.${field}`);
    }
  }
  assert.equal(settings['reclaimLens.trace.server'].scope, 'window');
  assert.equal(settings['reclaimLens.kb.paths'].items?.type, 'string');
});

test('kernelVersion accepts auto and explicit versions only', () => {
  const pattern = new RegExp((settings['reclaimLens.kernelVersion'] as Setting & { pattern: string }).pattern);
  for (const ok of ['auto', '6.1', '6.12', '6.12.117', '5.17']) assert.match(ok, pattern);
  for (const bad of ['', 'latest', '6', 'v6.1', '6.1-rc1']) assert.doesNotMatch(bad, pattern);
});

test('commands have the "Reclaim Lens" category and match what the client registers', () => {
  const ids = manifest.contributes.commands.map((c) => c.command);
  for (const c of manifest.contributes.commands) {
    assert.equal(c.category, 'Reclaim Lens', `${c.command}: category`);
    assert.match(c.command, /^reclaimLens\.[a-zA-Z]+$/);
    assert.ok(c.title.length > 0 && !c.title.startsWith('Reclaim Lens'), `${c.command}: title repeats the category`);
  }
  assert.deepEqual(ids.sort(), ['reclaimLens.restartServer', 'reclaimLens.showOutput', 'reclaimLens.simulateDeadlock', 'reclaimLens.simulateModel']);
  const registered = [...read('client/src/commands.ts').matchAll(/'(reclaimLens\.[a-zA-Z]+)'/g)].map((m) => m[1]);
  assert.deepEqual(registered.sort(), ids.sort(), 'client/src/commands.ts registers a different set of commands');
});

test('the status item only links to contributed commands', () => {
  const ids = new Set(manifest.contributes.commands.map((c) => c.command));
  const phases: ClientPhase[] = ['starting', 'running', 'restarting', 'stopped', 'startFailed'];
  for (const phase of phases) {
    const view = renderStatus({ kind: 'client', phase });
    assert.ok(ids.has(view.command), `${phase}: ${view.command} is not contributed`);
  }
});

test('languages, grammars and activation events agree', () => {
  const languages = manifest.contributes.languages;
  const rlsim = languages.find((l) => l.id === 'rlsim');
  assert.ok(rlsim, 'the rlsim language is contributed');
  assert.deepEqual(rlsim.extensions, ['.rlsim']);

  const grammar = manifest.contributes.grammars.find((g) => g.language === 'rlsim');
  assert.ok(grammar, 'rlsim has a grammar');
  assert.equal(grammar.scopeName, 'source.rlsim');
  assert.equal(grammar.path, './syntaxes/rlsim.tmLanguage.json');

  const ids = new Set(languages.map((l) => l.id));
  for (const g of manifest.contributes.grammars) {
    assert.ok(g.language === undefined || ids.has(g.language), `grammar ${g.scopeName}: language ${g.language} is not contributed`);
    assert.match(g.path, /^\.\/syntaxes\/[^/]+\.tmLanguage\.json$/, `grammar ${g.scopeName}: outside syntaxes/`);
    const file = path.join(root, g.path);
    // The grammar files are written separately; once one exists it must declare the scope the manifest names.
    if (existsSync(file)) {
      const declared = (JSON.parse(readFileSync(file, 'utf8')) as { scopeName?: string }).scopeName;
      assert.equal(declared, g.scopeName, `${g.path} declares scopeName ${declared}`);
    }
  }

  assert.ok(manifest.activationEvents.includes('onLanguage:c'));
  for (const id of ids) assert.ok(manifest.activationEvents.includes(`onLanguage:${id}`), `no onLanguage:${id} activation event`);
  assert.equal(manifest.main, './dist/client.js');
});

// docs/checks: README.md indexes one page per code, and the diagnostics.disabled enum lists the same codes.
const checksDir = path.join(root, 'docs/checks');
const readme = read('docs/checks/README.md');
const indexed = [...readme.matchAll(/^\| \[`([a-z0-9-]+)`\]\(([^)]+)\) \|/gm)].map((m) => ({ code: m[1], file: m[2] }));
const planned = new Set(
  [...(readme.split(/^## Planned$/m)[1] ?? '').matchAll(/^\| \[`([a-z0-9-]+)`\]/gm)].map((m) => m[1]),
);

test('every code listed in docs/checks/README.md has its page, and every page is listed', () => {
  assert.ok(indexed.length >= 12, 'README.md lists the first-release and planned codes');
  for (const { code, file } of indexed) {
    assert.equal(file, `${code}.md`, `${code}: links to ${file}`);
    assert.ok(existsSync(path.join(checksDir, file)), `docs/checks/${file} is missing`);
  }
  const pages = readdirSync(checksDir).filter((f) => f.endsWith('.md') && f !== 'README.md');
  assert.deepEqual(pages.map((f) => f.replace(/\.md$/, '')).sort(), indexed.map((i) => i.code).sort());
});

test('each check page has the required parts', () => {
  for (const { code, file } of indexed) {
    const page = readFileSync(path.join(checksDir, file), 'utf8');
    const title = page.split('\n', 1)[0];
    assert.ok(title.startsWith('# ') && title.includes(`\`${code}\``), `${file}: title must name the code`);
    assert.equal(title.includes('(planned)'), planned.has(code), `${file}: "(planned)" in the title must match the README section`);
    assert.match(page, /^\*\*Default severity:\*\* (error|warning|information|hint)/m, `${file}: default severity`);
    for (const heading of ['## What it detects', '## Why it matters', '## Example', '## Silencing']) {
      assert.ok(page.includes(heading), `${file}: missing "${heading}"`);
    }
    assert.ok(page.includes('```c'), `${file}: no C example`);
    assert.ok(page.includes(`"reclaimLens.diagnostics.disabled": ["${code}"]`), `${file}: no silencing snippet for ${code}`);
  }
});

test('each implemented check has a page whose default severity matches the check', () => {
  const dir = path.join(root, 'server/src/analysis/checks');
  if (!existsSync(dir)) return;
  const pages = new Set(indexed.map((i) => i.code));
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(path.join(dir, file), 'utf8');
    const m = /code: '([a-z0-9-]+)',\s*defaultSeverity: '([a-z]+)'/.exec(source);
    if (!m) continue;
    const [, code, severity] = m;
    assert.ok(pages.has(code), `${file}: ${code} has no docs/checks page`);
    assert.ok(!planned.has(code), `${file}: ${code} is implemented but its page is still marked (planned)`);
    const page = readFileSync(path.join(checksDir, `${code}.md`), 'utf8');
    const documented = /^\*\*Default severity:\*\* ([a-z]+)/m.exec(page)?.[1];
    assert.equal(documented, severity, `docs/checks/${code}.md says ${documented}, ${file} says ${severity}`);
  }
});

test('diagnostics.disabled offers exactly the documented codes', () => {
  const offered = settings['reclaimLens.diagnostics.disabled'].items?.enum ?? [];
  assert.deepEqual([...offered].sort(), indexed.map((i) => i.code).sort());
});

// .vscodeignore, read the way vsce reads it: a file is packed when it matches no pattern or matches any "!" pattern.
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') {
      re += '[^/]*';
    } else {
      re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

test('.vscodeignore packs only what the extension runs and shows', () => {
  const lines = read('.vscodeignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const ignore = lines.filter((l) => !l.startsWith('!')).map(globToRegExp);
  const negate = lines.filter((l) => l.startsWith('!')).map((l) => globToRegExp(l.slice(1)));
  const packed = (f: string): boolean => !ignore.some((r) => r.test(f)) || negate.some((r) => r.test(f));

  for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/client.js', 'dist/server.js', 'dist/tree-sitter-c.wasm', 'syntaxes/rlsim.tmLanguage.json']) {
    assert.ok(packed(f), `${f} must be in the VSIX`);
  }
  for (const f of [
    'dist/client.js.map',
    'node_modules/vscode-languageclient/package.json',
    'server/src/main.ts',
    'client/src/extension.ts',
    'test/client/manifest.test.ts',
    '.cache/kernel/6.12/Makefile',
    'docs/lsp-extensions.md',
    'ARCHITECTURE.md',
    'esbuild.mjs',
    'tsconfig.json',
  ]) {
    assert.ok(!packed(f), `${f} must not be in the VSIX`);
  }
  // Relative links in README.md must resolve inside the VSIX (the extension's details page renders it).
  if (existsSync(path.join(root, 'README.md'))) {
    const links = [...read('README.md').matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
    for (const link of links) {
      assert.ok(existsSync(path.join(root, link)), `README.md links to ${link}, which does not exist`);
      assert.ok(packed(path.posix.normalize(link)), `README.md links to ${link}, which .vscodeignore leaves out of the VSIX`);
    }
  }
});

test('LICENSE is MIT for the Reclaim Lens contributors', () => {
  const license = read('LICENSE');
  assert.match(license, /^MIT License/);
  assert.match(license, /Copyright \(c\) \d{4} Reclaim Lens contributors/);
});
