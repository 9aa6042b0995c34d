// Hardening of the CLI (#8): bad input gives one clear line on stderr and the documented exit code (README "CLI
// reference": 0 clean, 1 findings, 2 usage or I/O error); the cache is checked before use and an interrupted run
// leaves nothing a later run trusts; `check --fix` writes atomically and leaves a file untouched on any error.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { FileFacts } from '../../server/src/analysis/facts';
import { createKbProvider } from '../../server/src/analysis/kbView';
import { FixSession } from '../../server/src/cli/fix';
import { analyseFiles } from '../../server/src/index/analyseFiles';
import { analyseText } from '../harness/analyse';
import { tempDir } from '../harness/tmp';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'reclaim-lens.js');
const EXAMPLES = path.join(ROOT, 'examples');
/** chmod 000 does not stop root from reading: the unreadable-file cases take another way there. */
const IS_ROOT = process.getuid?.() === 0;
/** node:fs itself (an `import * as` is a read-only view of it): what the --fix failure tests make fail. */
const nodeFs: typeof fs = require('node:fs');

function run(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 256 << 20,
    env: { ...process.env, XDG_CACHE_HOME: tempDir(path.join(os.tmpdir(), 'rl-hard-home-')), ...env },
  });
  assert.equal(r.signal, null, `reclaim-lens ${args.join(' ')} was killed (${r.signal}): it hung`);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Every stderr line is one of ours, and none is a crash. */
function assertCleanErrors(err: string): void {
  assert.doesNotMatch(err, /internal error|TypeError|    at /, err);
  for (const line of err.split('\n').filter(Boolean)) {
    if (line.startsWith('usage:') || line.startsWith(' ') || line === '' || /^(commands|exit status):/.test(line)) continue;
    assert.match(line, /^reclaim-lens: \S/, `a stray stderr line: ${line}`);
  }
}

const firstLine = (s: string) => s.split('\n')[0];

const BUGGY = 'static void f(spinlock_t *l)\n{\n\tspin_lock(l);\n\tkmalloc(8, GFP_KERNEL);\n\tspin_unlock(l);\n}\n';

// ---- bad input

test('a directory of binary .c files: each is named, nothing analysed is exit 2, not a clean run', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-bin-'));
  fs.mkdirSync(path.join(dir, 'blobs'));
  fs.writeFileSync(path.join(dir, 'blobs', 'elf.c'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0]));
  fs.writeFileSync(path.join(dir, 'blobs', 'zeros.h'), Buffer.alloc(4096));
  const r = run(['check', 'blobs'], dir);
  assert.equal(r.code, 2, r.err);
  assert.equal(r.out, '');
  assertCleanErrors(r.err);
  assert.match(r.err, /^reclaim-lens: blobs\/elf\.c: binary file, not analysed$/m);
  assert.match(r.err, /^reclaim-lens: blobs\/zeros\.h: binary file, not analysed$/m);
  assert.match(r.err, /^reclaim-lens: blobs: none of its 2 \.c and \.h files could be analysed$/m);
  // A binary file named as the PATH: its own line says why, and the exit status is 2.
  const one = run(['check', 'blobs/elf.c'], dir);
  assert.equal(one.code, 2);
  assert.equal(one.err, 'reclaim-lens: blobs/elf.c: binary file, not analysed\n');
  // Beside a real source file, a binary one is a warning: the run's status is that of the findings.
  fs.writeFileSync(path.join(dir, 'blobs', 'real.c'), BUGGY);
  const mixed = run(['check', 'blobs'], dir);
  assert.equal(mixed.code, 1, mixed.err);
  assert.match(mixed.out, /^blobs\/real\.c:4:\d+: error: GFP_KERNEL may sleep while holding \*l \[sleep-in-atomic\]$/m);
  assert.doesNotMatch(mixed.err, /could be analysed/);
});

test('an empty directory or one without C files is exit 2 with a message, not a clean run', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-empty-'));
  fs.mkdirSync(path.join(dir, 'empty'));
  fs.mkdirSync(path.join(dir, 'docs'));
  fs.writeFileSync(path.join(dir, 'docs', 'README'), 'text\n');
  for (const p of ['empty', 'docs']) {
    const r = run(['check', p], dir);
    assert.equal(r.code, 2, p);
    assert.equal(r.err, `reclaim-lens: ${p}: no .c or .h files below it\n`);
  }
});

test('an unreadable file is named with the reason and the run exits 2; the readable files are still checked', async () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-unreadable-'));
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'a.c'), BUGGY);
  const locked = path.join(dir, 'src', 'locked.c');
  fs.writeFileSync(locked, BUGGY);
  fs.chmodSync(locked, 0o000);
  let readable = true;
  try {
    fs.readFileSync(locked);
  } catch {
    readable = false;
  }
  if (!readable) {
    const r = run(['check', 'src'], dir);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err, 'reclaim-lens: src/locked.c: cannot read: EACCES\n');
    assert.match(r.out, /^src\/a\.c:4:\d+: error: .*\[sleep-in-atomic\]$/m, 'the other file is still reported');
  } else {
    // Running as root (or with CAP_DAC_OVERRIDE), chmod 000 does not stop a read, so the CLI cannot be made to
    // fail on this file. The same error path is taken instead with a path that is listed as a file and cannot be
    // read as one (a directory named x.c: EISDIR), through the analyser the CLI uses.
    assert.ok(IS_ROOT || readable);
    const notAFile = path.join(dir, 'src', 'x.c');
    fs.mkdirSync(notAFile);
    const problems: { abs: string; message: string; isError: boolean }[] = [];
    const analysed: string[] = [];
    await analyseFiles([path.join(dir, 'src', 'a.c'), notAFile], {
      jobs: 1, kernelVersion: '6.12', disabledChecks: [], maxBytes: 1 << 20,
      onFile: (r) => analysed.push(r.abs),
      onProblem: (abs, message, isError) => problems.push({ abs, message, isError }),
    });
    assert.deepEqual(problems, [{ abs: notAFile, message: 'cannot read: EISDIR', isError: true }]);
    assert.deepEqual(analysed, [path.join(dir, 'src', 'a.c')]);
  }
  // Whoever runs the tests: a FIFO named as a PATH is refused (reading it would block), and a .c symlink to a FIFO
  // inside a folder is skipped rather than read (it used to hang the run).
  execFileSync('mkfifo', [path.join(dir, 'pipe.c')]);
  const fifo = run(['check', 'pipe.c'], dir);
  assert.equal(fifo.code, 2);
  assert.equal(fifo.err, 'reclaim-lens: pipe.c: not a regular file or directory\n');
  fs.symlinkSync(path.join(dir, 'pipe.c'), path.join(dir, 'src', 'pipe.c'));
  fs.chmodSync(locked, 0o644);
  const withLink = run(['check', '--format', 'json', 'src'], dir);
  assert.equal(withLink.code, 1, withLink.err);
  assert.deepEqual(JSON.parse(withLink.out).findings.map((f: { file: string }) => f.file), ['src/a.c', 'src/locked.c']);
});

test('symbolic link loops: a PATH that is one is an error, loops inside a folder are broken', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-loop-'));
  fs.symlinkSync('l2', path.join(dir, 'l1'));
  fs.symlinkSync('l1', path.join(dir, 'l2'));
  const r = run(['check', 'l1'], dir);
  assert.equal(r.code, 2);
  assert.equal(r.err, 'reclaim-lens: l1: symbolic link loop\n');
  fs.mkdirSync(path.join(dir, 'tree', 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'tree', 'sub', 'a.c'), BUGGY);
  fs.symlinkSync('..', path.join(dir, 'tree', 'sub', 'up'));
  fs.symlinkSync('self.c', path.join(dir, 'tree', 'self.c'));
  fs.symlinkSync('../l1', path.join(dir, 'tree', 'loop.c'));
  const t = run(['check', '--format', 'json', 'tree'], dir);
  assert.equal(t.code, 1, t.err);
  assert.equal(t.err, '');
  assert.deepEqual(JSON.parse(t.out).findings.map((f: { file: string }) => f.file), ['tree/sub/a.c']);
});

test('a missing PATH is named and exits 2, also next to a good one (which is still checked)', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-missing-'));
  fs.writeFileSync(path.join(dir, 'a.c'), BUGGY);
  const r = run(['check', 'nope/x.c'], dir);
  assert.equal(r.code, 2);
  assert.equal(r.err, 'reclaim-lens: nope/x.c: no such file or directory\n');
  const both = run(['check', 'a.c', 'gone'], dir);
  assert.equal(both.code, 2);
  assert.equal(both.err, 'reclaim-lens: gone: no such file or directory\n');
  assert.match(both.out, /^a\.c:4:\d+: error: .*\[sleep-in-atomic\]$/m);
  const root = run(['check', '--root', 'nowhere', 'a.c'], dir);
  assert.equal(root.code, 2);
  assert.equal(root.err, 'reclaim-lens: --root nowhere: not a directory\n');
});

test('bad --kernel-version, --jobs, flags and formats: one line naming the option, exit 2, nothing on stdout', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-usage-'));
  fs.writeFileSync(path.join(dir, 'a.c'), BUGGY);
  for (const v of ['banana', '7', '6.x', '6.12.1.1', '']) {
    for (const verb of ['check', 'hints']) {
      const r = run([verb, '--kernel-version', v, 'a.c'], dir);
      assert.equal(r.code, 2, `${verb} --kernel-version '${v}'`);
      assert.equal(r.out, '');
      assert.equal(r.err, `reclaim-lens: bad kernel version '${v}': expected 'auto' or a version like 6.1 or 6.12.117\n`);
    }
  }
  const usage = (args: string[], want: RegExp) => {
    const r = run(args, dir);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.out, '', args.join(' '));
    assertCleanErrors(r.err);
    assert.match(firstLine(r.err), want, args.join(' '));
  };
  for (const j of ['0', 'abc', '-1', '1.5', '257', '']) usage(['check', `--jobs=${j}`, 'a.c'], /^reclaim-lens: --jobs must be a whole number from 1 to 256$/);
  usage(['check', '--jobs'], /^reclaim-lens: Option '--jobs <value>' argument missing$/);
  usage(['check', '--nope', 'a.c'], /^reclaim-lens: Unknown option '--nope'\./);
  usage(['hints', '--fix', 'a.c'], /^reclaim-lens: Unknown option '--fix'\./);
  usage(['check', '--format', 'xml', 'a.c'], /^reclaim-lens: --format must be one of text, json, sarif for check$/);
  usage(['check', '--min-severity', 'loud', 'a.c'], /^reclaim-lens: --min-severity must be one of error, warning, information, hint$/);
  usage(['check', '--no-cache', '--cache', 'c', 'a.c'], /^reclaim-lens: --cache and --no-cache exclude each other$/);
  usage(['check', '--fix=vmalloc-nofs', 'a.c'], /^reclaim-lens: --fix: 'vmalloc-nofs' has no fixes/);
  usage(['check'], /^reclaim-lens: check needs at least one PATH$/);
  usage(['explain', 'a.c'], /^reclaim-lens: explain needs FILE:LINE first$/);
  usage(['frobnicate'], /^reclaim-lens: unknown command 'frobnicate'$/);
});

// ---- the cache

function cacheEntries(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else out.push(path.join(d, e.name));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

/** What a cache entry's checksum is (index/cache.ts), to write entries that pass it but are wrong otherwise. */
const checksumOf = (facts: unknown) => createHash('sha256').update(JSON.stringify(facts)).digest('hex').slice(0, 16);

function reference(): string {
  const r = run(['check', '--no-cache', '--format', 'json', '--root', EXAMPLES, EXAMPLES], ROOT);
  assert.equal(r.code, 1, r.err);
  return r.out;
}

function cachedRun(cache: string) {
  const r = run(['check', '--stats', '--jobs', '1', '--cache', cache, '--format', 'json', '--root', EXAMPLES, EXAMPLES], ROOT);
  const stats = /cache .*: (\d+) hits, (\d+) misses, (\d+) corrupted entries rebuilt/.exec(r.err);
  assert.ok(stats, r.err);
  return { ...r, hits: Number(stats[1]), misses: Number(stats[2]), corrupted: Number(stats[3]) };
}

test('corrupted cache entries of every kind are detected, deleted and rebuilt, never trusted', () => {
  const want = reference();
  type Corruption = (file: string, entry: Record<string, unknown>) => string | Buffer;
  const corruptions: Record<string, Corruption> = {
    truncated: (f) => fs.readFileSync(f).subarray(0, 40),
    empty: () => '',
    'garbage bytes': () => Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) & 0xff)),
    'JSON null': () => 'null',
    'JSON array': () => '[1, 2, 3]',
    'an object without facts': (_f, e) => JSON.stringify({ schema: e.schema, key: e.key }),
    'another schema': (_f, e) => JSON.stringify({ ...e, schema: 999 }),
    'another analyser version (checksum valid)': (_f, e) => JSON.stringify({ ...e, key: { ...(e.key as object), analyser: '0.0.1-old' } }),
    'another kernel version (checksum valid)': (_f, e) => JSON.stringify({ ...e, key: { ...(e.key as object), kernelVersion: '6.1' } }),
    'a flipped payload byte': (f) => fs.readFileSync(f, 'utf8').replace(/"start":(\d)/, '"start":9$1'),
    // Self-consistent entries (the checksum matches) whose facts do not have FileFacts' shape: they used to crash
    // the run (fn.findings is not iterable) or silently lose the deadlock finding (no bindings).
    'functions of the wrong type (checksum valid)': (_f, e) => {
      const facts = { functions: [42], bindings: [], problems: [] };
      return JSON.stringify({ ...e, facts, checksum: checksumOf(facts) });
    },
    'facts without bindings (checksum valid)': (_f, e) => {
      const facts = { ...(e.facts as object), bindings: undefined };
      return JSON.stringify({ ...e, facts, checksum: checksumOf(facts) });
    },
    'functions without findings (checksum valid)': (_f, e) => {
      const facts = e.facts as { functions: Record<string, unknown>[] };
      const broken = { ...facts, functions: facts.functions.map(({ findings: _x, span: _s, ...rest }) => rest) };
      return JSON.stringify({ ...e, facts: broken, checksum: checksumOf(broken) });
    },
  };
  const cache = tempDir(path.join(os.tmpdir(), 'rl-corrupt-'));
  const cold = cachedRun(cache);
  assert.equal(cold.out, want);
  const entries = cacheEntries(cache);
  assert.equal(entries.length, 3);
  const pristine = new Map(entries.map((f) => [f, fs.readFileSync(f)]));
  for (const [name, corrupt] of Object.entries(corruptions)) {
    for (const f of entries) fs.writeFileSync(f, pristine.get(f)!);
    // Corrupt every entry, so the result can only be right if none of them was used.
    for (const f of entries) fs.writeFileSync(f, corrupt(f, JSON.parse(pristine.get(f)!.toString('utf8'))));
    const r = cachedRun(cache);
    assert.equal(r.code, 1, `${name}: ${r.err}`);
    assertCleanErrors(r.err);
    assert.deepEqual([r.hits, r.misses, r.corrupted], [0, 3, 3], `${name}: every entry detected`);
    assert.equal(r.out, want, `${name}: the results are those of a run without cache`);
    // Rebuilt: each entry is again what a clean run writes.
    for (const f of entries) assert.ok(fs.readFileSync(f).equals(pristine.get(f)!), `${name}: ${path.basename(f)} rebuilt`);
  }
  const warm = cachedRun(cache);
  assert.deepEqual([warm.hits, warm.corrupted], [3, 0]);
  assert.equal(warm.out, want);
});

test('an interrupted run: what a killed cache writer leaves is never used, and the next run equals --no-cache', () => {
  const want = reference();
  const cache = tempDir(path.join(os.tmpdir(), 'rl-interrupt-'));
  cachedRun(cache);
  const entries = cacheEntries(cache);
  assert.equal(entries.length, 3);
  assert.ok(entries.every((f) => f.endsWith('.json')), 'only final entries: the temporary files were renamed');
  // The cache writes `<entry>.json.<pid>.<random>.tmp` and renames it into place. Killed before the rename, it
  // leaves the temporary file and no entry: half-written, or complete but for a different (here: empty) result,
  // which the next run would show if it ever read one.
  for (const [i, f] of entries.entries()) {
    const e = JSON.parse(fs.readFileSync(f, 'utf8'));
    const facts = { functions: [], bindings: [], problems: [] };
    const whole = JSON.stringify({ ...e, facts, checksum: checksumOf(facts) });
    fs.writeFileSync(`${f}.4242.k${i}a.tmp`, whole.slice(0, whole.length >> 1));
    fs.writeFileSync(`${f}.4243.k${i}b.tmp`, whole);
    fs.unlinkSync(f);
  }
  const r = cachedRun(cache);
  assert.equal(r.code, 1, r.err);
  assert.deepEqual([r.hits, r.misses, r.corrupted], [0, 3, 0]);
  assert.equal(r.out, want);
  const warm = cachedRun(cache);
  assert.deepEqual([warm.hits, warm.corrupted], [3, 0]);
  assert.equal(warm.out, want);
});

test('a run killed part-way leaves only whole entries: the next run uses them and equals --no-cache', async () => {
  // Enough files that the kill lands while workers are still writing entries.
  const dir = tempDir(path.join(os.tmpdir(), 'rl-kill-'));
  const fnText = (i: number, j: number) => `static void f${i}_${j}(spinlock_t *l)\n{\n\tspin_lock(l);\n\tkmalloc(${j + 1}, ${j % 2 ? 'GFP_NOFS' : 'GFP_KERNEL'});\n\tspin_unlock(l);\n}\n\n`;
  for (let i = 0; i < 150; i++) fs.writeFileSync(path.join(dir, `f${String(i).padStart(3, '0')}.c`), Array.from({ length: 30 }, (_, j) => fnText(i, j)).join(''));
  const cache = tempDir(path.join(os.tmpdir(), 'rl-kill-cache-'));
  const home = tempDir(path.join(os.tmpdir(), 'rl-hard-home-'));
  const child = spawn(process.execPath, [BIN, 'check', '--jobs', '1', '--cache', cache, '--format', 'json', '.'], { cwd: dir, env: { ...process.env, XDG_CACHE_HOME: home }, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const t0 = Date.now();
  while (cacheEntries(cache).filter((f) => f.endsWith('.json')).length < 3 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  await exited;
  const left = cacheEntries(cache);
  const done = left.filter((f) => f.endsWith('.json'));
  assert.ok(done.length >= 3 && done.length < 150, `${done.length} entries written before the kill`);
  const finish = run(['check', '--stats', '--jobs', '2', '--cache', cache, '--format', 'json', '.'], dir);
  assert.equal(finish.code, 1, finish.err);
  const stats = /(\d+) hits, (\d+) misses, (\d+) corrupted/.exec(finish.err)!;
  assert.equal(Number(stats[3]), 0, 'no entry the killed run left is corrupted');
  assert.ok(Number(stats[1]) >= done.length, `the ${done.length} whole entries are used`);
  const nocache = run(['check', '--no-cache', '--format', 'json', '.'], dir);
  assert.equal(finish.out, nocache.out);
});

test('a cache that cannot be written: one warning naming it, the results unchanged', () => {
  const want = reference();
  const dir = tempDir(path.join(os.tmpdir(), 'rl-nowrite-'));
  const file = path.join(dir, 'not-a-dir');
  fs.writeFileSync(file, 'x');
  const r = run(['check', '--cache', file, '--format', 'json', '--root', EXAMPLES, EXAMPLES], ROOT);
  assert.equal(r.code, 1, r.err);
  assert.equal(r.err, `reclaim-lens: cache ${file}: cannot write (ENOTDIR); results not cached\n`);
  assert.equal(r.out, want);
  assert.equal(fs.readFileSync(file, 'utf8'), 'x');
});

test('--no-cache reads and writes no cache, not even the default one', () => {
  const home = tempDir(path.join(os.tmpdir(), 'rl-nocache-home-'));
  const r = run(['check', '--no-cache', '--format', 'json', '--root', EXAMPLES, EXAMPLES], ROOT, { XDG_CACHE_HOME: home });
  assert.equal(r.code, 1, r.err);
  assert.deepEqual(fs.readdirSync(home), []);
  const d = run(['check', '--format', 'json', '--root', EXAMPLES, EXAMPLES], ROOT, { XDG_CACHE_HOME: home });
  assert.equal(d.out, r.out);
  assert.deepEqual(fs.readdirSync(home), ['reclaim-lens'], 'without --no-cache the default cache is written');
});

// ---- check --fix

const FIXABLE = 'static void *redundant(size_t n)\n{\n\tunsigned int flags = memalloc_nofs_save();\n\tvoid *p = kmalloc(n, GFP_NOFS);\n\n\tmemalloc_nofs_restore(flags);\n\treturn p;\n}\n';
const FIXED = FIXABLE.replace('GFP_NOFS', 'GFP_KERNEL');

function fixProject(): { dir: string; file: string } {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-hard-fix-'));
  fs.mkdirSync(path.join(dir, 'fs'));
  const file = path.join(dir, 'fs', 'demo.c');
  fs.writeFileSync(file, FIXABLE, { mode: 0o640 });
  fs.chmodSync(file, 0o640);
  return { dir, file };
}

/** Runs FixSession over `file` as `check --fix nofs-redundant` would, in this process (so fs can be made to fail). */
async function fixInProcess(file: string, rel: string, facts?: FileFacts) {
  facts ??= (await analyseText(FIXABLE)).facts;
  const s = new FixSession({ codes: ['nofs-redundant'] });
  s.collect(file, rel, FIXABLE, facts);
  let out = '';
  let err = '';
  const code = await s.finish({
    stdout: (x) => { out += x; }, stderr: (x) => { err += x; }, findings: [], format: 'text', kernelVersion: '6.12',
    kbFor: createKbProvider().view, ioError: false, version: 'test', helpBase: '',
  });
  return { code, out, err };
}

test('check --fix: the fixed file replaces the old one whole, keeps its mode, leaves no temporary file', () => {
  const { dir, file } = fixProject();
  const r = run(['check', '--fix', 'fs/'], dir);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^fs\/demo\.c:4:\d+: fixed: .*\[nofs-redundant\]$/m);
  assert.equal(fs.readFileSync(file, 'utf8'), FIXED);
  assert.equal(fs.statSync(file).mode & 0o777, 0o640);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'fs')), ['demo.c']);
});

test('check --fix through a symbolic link fixes the file it names and keeps the link', () => {
  const { dir, file } = fixProject();
  fs.mkdirSync(path.join(dir, 'tree'));
  fs.symlinkSync('../fs/demo.c', path.join(dir, 'tree', 'link.c'));
  const r = run(['check', '--fix', 'tree/'], dir);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^tree\/link\.c:4:\d+: fixed: /m);
  assert.ok(fs.lstatSync(path.join(dir, 'tree', 'link.c')).isSymbolicLink(), 'the link is still a link');
  assert.equal(fs.readFileSync(file, 'utf8'), FIXED);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'fs')), ['demo.c']);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'tree')), ['link.c']);
});

test('check --fix in a read-only folder: exit 2 and the file byte-identical, or (as root, who may write there) the fix applied whole', () => {
  // Root ignores directory permissions, so what this asserts depends on who runs it; both outcomes are checked
  // (CI runs as root: the in-process failure test below covers the refused write there).
  const { dir, file } = fixProject();
  const before = fs.readFileSync(file);
  fs.chmodSync(path.join(dir, 'fs'), 0o555);
  try {
    const r = run(['check', '--fix', 'fs/'], dir);
    if (IS_ROOT) {
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^fs\/demo\.c:4:\d+: fixed: /m);
      assert.equal(fs.readFileSync(file, 'utf8'), FIXED);
    } else {
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /^reclaim-lens: fs\/demo\.c: cannot write \(EACCES\); not fixed$/m);
      assert.doesNotMatch(r.out, / fixed: /);
      assert.ok(fs.readFileSync(file).equals(before));
    }
    assert.deepEqual(fs.readdirSync(path.join(dir, 'fs')), ['demo.c']);
  } finally {
    fs.chmodSync(path.join(dir, 'fs'), 0o755);
  }
});

test('check --fix: a failure while writing (disk full, rename refused) leaves the file byte-identical and no temporary file', async (t) => {
  // Whoever runs the tests (root included), the file system is made to fail where a full disk or a refused rename
  // would: half of the new text written and then ENOSPC, or the rename failing. Only the temporary file's calls
  // fail; `nodeFs` is the module object fix.ts calls through.
  const isTmp = (p: unknown) => String(p).includes('.reclaim-lens-');
  const fail = (code: string) => {
    throw Object.assign(new Error(`${code}: simulated`), { code });
  };
  const real = { writeFileSync: nodeFs.writeFileSync, renameSync: nodeFs.renameSync, openSync: nodeFs.openSync };
  const failures: [string, string, () => void][] = [
    ['half the text written, then the disk is full', 'ENOSPC', () => {
      t.mock.method(nodeFs, 'writeFileSync', (target: fs.PathOrFileDescriptor, data: string, ...rest: unknown[]) => {
        if (typeof target !== 'number') return real.writeFileSync(target, data, ...(rest as []));
        real.writeFileSync(target, String(data).slice(0, String(data).length >> 1));
        return fail('ENOSPC');
      });
    }],
    ['the rename is refused', 'EIO', () => {
      t.mock.method(nodeFs, 'renameSync', (from: fs.PathLike, to: fs.PathLike) => (isTmp(from) ? fail('EIO') : real.renameSync(from, to)));
    }],
    ['the temporary file cannot be created', 'EACCES', () => {
      t.mock.method(nodeFs, 'openSync', (p: fs.PathLike, ...rest: unknown[]) => (isTmp(p) ? fail('EACCES') : (real.openSync as (...a: unknown[]) => number)(p, ...rest)));
    }],
  ];
  for (const [what, code, arm] of failures) {
    const { dir, file } = fixProject();
    const before = fs.readFileSync(file);
    const facts = (await analyseText(FIXABLE)).facts;
    arm();
    let r;
    try {
      r = await fixInProcess(file, 'fs/demo.c', facts);
    } finally {
      t.mock.restoreAll();
    }
    assert.equal(r.code, 2, what);
    assert.equal(r.err, `reclaim-lens: fs/demo.c: cannot write (${code}); not fixed\n`, what);
    assert.doesNotMatch(r.out, / fixed: /, what);
    assert.ok(fs.readFileSync(file).equals(before), `${what}: the file is byte-identical`);
    assert.equal(fs.statSync(file).mode & 0o777, 0o640, what);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'fs')), ['demo.c'], `${what}: no temporary file left`);
  }
});

test('check --fix: a file replaced by a folder, or edited while the fix was being written, is left alone', async (t) => {
  const a = fixProject();
  fs.rmSync(a.file);
  fs.mkdirSync(a.file);
  fs.writeFileSync(path.join(a.file, 'keep'), 'k');
  const r = await fixInProcess(a.file, 'fs/demo.c');
  assert.equal(r.code, 2);
  assert.equal(r.err, 'reclaim-lens: fs/demo.c: no longer a regular file; not fixed\n');
  assert.deepEqual(fs.readdirSync(a.file), ['keep']);
  assert.deepEqual(fs.readdirSync(path.join(a.dir, 'fs')), ['demo.c']);
  // An editor saves the file while the fixed text is being written to the temporary file: the edit wins.
  const b = fixProject();
  const edited = FIXABLE.replace('redundant', 'redundant_v2');
  const facts = (await analyseText(FIXABLE)).facts;
  const realWrite = nodeFs.writeFileSync;
  t.mock.method(nodeFs, 'writeFileSync', (target: fs.PathOrFileDescriptor, data: string, ...rest: unknown[]) => {
    if (typeof target === 'number') realWrite(b.file, edited);
    return realWrite(target, data, ...(rest as []));
  });
  let r2;
  try {
    r2 = await fixInProcess(b.file, 'fs/demo.c', facts);
  } finally {
    t.mock.restoreAll();
  }
  assert.equal(r2.code, 2);
  assert.equal(r2.err, 'reclaim-lens: fs/demo.c: changed since it was analysed; not fixed\n');
  assert.equal(fs.readFileSync(b.file, 'utf8'), edited);
  assert.deepEqual(fs.readdirSync(path.join(b.dir, 'fs')), ['demo.c']);
});
