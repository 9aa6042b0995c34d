// `reclaim-lens check --fix [CODE,...]` (README "CLI reference"): writes verified fixes only when asked, prints what it
// changed and what it did not, atomically, and refuses a file that changed after it was analysed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { FixSession } from '../../server/src/cli/fix';
import { analyseText } from '../harness/analyse';
import { tempDir } from '../harness/tmp';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'reclaim-lens.js');

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: tempDir(path.join(os.tmpdir(), 'rl-fix-cache-')) } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const DEMO = `struct foo { struct mutex lock; };

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

static void *redundant(size_t n)
{
	unsigned int flags = memalloc_nofs_save();
	void *p = kmalloc(n, GFP_NOFS);

	memalloc_nofs_restore(flags);
	return p;
}

static void *candidate(struct foo *f, size_t n)
{
	void *p;

	mutex_lock(&f->lock);
	p = kmalloc(n, GFP_NOFS);
	mutex_unlock(&f->lock);
	return p;
}

static void atomic(spinlock_t *l)
{
	void *p;

	spin_lock(l);
	p = kmalloc(8, GFP_KERNEL);
	spin_unlock(l);
	kfree(p);
}
`;

function project(): { dir: string; file: string } {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-fix-'));
  fs.mkdirSync(path.join(dir, 'fs'));
  const file = path.join(dir, 'fs', 'demo.c');
  fs.writeFileSync(file, DEMO);
  return { dir, file };
}

test('check without --fix never writes', () => {
  const { dir, file } = project();
  const r = run(['check', 'fs/'], dir);
  assert.equal(r.code, 1, r.err);
  assert.equal(fs.readFileSync(file, 'utf8'), DEMO);
  assert.doesNotMatch(r.out, /nofs-scope-candidate/, 'refactorings are not reported without --fix');
});

test('check --fix applies every fix-all code, prints what it changed and what it did not, and the remaining findings', () => {
  const { dir, file } = project();
  const r = run(['check', '--fix', 'fs/'], dir);
  assert.equal(r.code, 1, r.err);
  const after = fs.readFileSync(file, 'utf8');
  assert.match(r.out, /^fs\/demo\.c:5:23: fixed: Restore flags with memalloc_nofs_restore\(\) on the 1 exit that leaks the scope \[scope-unbalanced\]$/m);
  assert.match(r.out, /^fs\/demo\.c:\d+:\d+: fixed: Use GFP_KERNEL: memalloc_nofs_save\(\) at line \d+ already makes this allocation NOFS \[nofs-redundant\]$/m);
  assert.match(r.out, /^fs\/demo\.c:\d+:\d+: fixed: Open a memalloc_nofs_save\(\) scope while &f->lock is held \(1 allocation → GFP_KERNEL\) \[nofs-scope-candidate\]$/m);
  // The sleep-in-atomic finding has a choice of fixes: reported, not applied.
  assert.match(r.out, /^fs\/demo\.c:\d+:\d+: error: GFP_KERNEL may sleep while holding \*l \[sleep-in-atomic\]$/m);
  assert.equal([...r.out.matchAll(/ fixed: /g)].length, 3);
  assert.match(after, /\tif \(err\) \{\n\t\tmemalloc_nofs_restore\(flags\);\n\t\treturn err;\n\t\}/);
  assert.match(after, /void \*p = kmalloc\(n, GFP_KERNEL\);/);
  assert.match(after, /nofs_flags = memalloc_nofs_save\(\);\n\tp = kmalloc\(n, GFP_KERNEL\);\n\tmemalloc_nofs_restore\(nofs_flags\);\n\tmutex_unlock/);
  // Written through a temporary file that is gone now; the mode is kept.
  assert.deepEqual(fs.readdirSync(path.join(dir, 'fs')), ['demo.c']);
  // A second run has nothing left to fix.
  const again = run(['check', '--fix', 'fs/'], dir);
  assert.doesNotMatch(again.out, / fixed: /);
  assert.equal(fs.readFileSync(file, 'utf8'), after);
});

test('check --fix CODE applies only that code; --format json adds the fixes', () => {
  const { dir, file } = project();
  const r = run(['check', '--format', 'json', '--fix', 'nofs-redundant', 'fs/'], dir);
  assert.equal(r.code, 1, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual(j.fixes.map((f: { code: string; applied: boolean; function: string }) => [f.code, f.applied, f.function]), [['nofs-redundant', true, 'redundant']]);
  assert.deepEqual(Object.keys(j.fixes[0]).sort(), ['applied', 'code', 'column', 'file', 'function', 'line', 'message']);
  assert.deepEqual(j.findings.map((f: { code: string }) => f.code).sort(), ['scope-unbalanced', 'sleep-in-atomic']);
  const after = fs.readFileSync(file, 'utf8');
  assert.equal(after, DEMO.replace('void *p = kmalloc(n, GFP_NOFS);', 'void *p = kmalloc(n, GFP_KERNEL);'));
  // --fix=CODE,CODE is the same syntax; a code without fixes is a usage error.
  const bad = run(['check', '--fix=nofs-redundant,vmalloc-nofs', 'fs/'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--fix: 'vmalloc-nofs' has no fixes/);
});

test('check --fix with a refactoring named reports the ones it could not fix, with the reason', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-fix-'));
  const file = path.join(dir, 'x.c');
  const text = 'void *exported(size_t n)\n{\n\treturn kmalloc(n, GFP_NOFS);\n}\n';
  fs.writeFileSync(file, text);
  const r = run(['check', '--fix', 'nofs-unnecessary', 'x.c'], dir);
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /^x\.c:3:20: not fixed: offered as a choice in the editor, not applied automatically: .*exported\(\) has no caller among the analysed files.* \[nofs-unnecessary\]$/m);
  assert.match(r.out, /^x\.c:3:20: information: GFP_NOFS with no lock held/m);
  assert.equal(fs.readFileSync(file, 'utf8'), text);
});

test('a file that changed after it was analysed is not written', async () => {
  const { file } = project();
  const facts = (await analyseText(DEMO)).facts;
  const s = new FixSession({ codes: ['nofs-redundant'] });
  s.collect(file, 'fs/demo.c', DEMO, facts);
  const edited = DEMO.replace('static int leaks', 'static int leaks_renamed');
  fs.writeFileSync(file, edited);
  let out = '';
  let err = '';
  const { createKbProvider } = await import('../../server/src/analysis/kbView');
  const code = await s.finish({
    stdout: (x) => { out += x; }, stderr: (x) => { err += x; }, findings: [], format: 'text', kernelVersion: '6.12',
    kbFor: createKbProvider().view, ioError: false, version: 'test', helpBase: '',
  });
  assert.equal(code, 2);
  assert.match(err, /^reclaim-lens: fs\/demo\.c: changed since it was analysed; not fixed$/m);
  assert.equal(fs.readFileSync(file, 'utf8'), edited);
  assert.doesNotMatch(out, / fixed: /);
});

test('check --fix nofs-unnecessary asks the whole tree: clean calling contexts are fixed, a caller holding a lock is not', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-fix-'));
  fs.mkdirSync(path.join(dir, 'fs'));
  fs.writeFileSync(path.join(dir, 'fs', 'alloc.c'), 'void *foo_alloc(size_t n)\n{\n\treturn kmalloc(n, GFP_NOFS);\n}\n\nvoid *foo_alloc_locked(size_t n)\n{\n\treturn kmalloc(n, GFP_NOFS);\n}\n');
  fs.writeFileSync(path.join(dir, 'fs', 'user.c'), [
    'struct foo { struct mutex lock; void *p; };', '',
    'int foo_mount(struct foo *f)', '{', '\tf->p = foo_alloc(8);', '\treturn 0;', '}', '',
    'void foo_update(struct foo *f)', '{', '\tmutex_lock(&f->lock);', '\tf->p = foo_alloc_locked(8);', '\tmutex_unlock(&f->lock);', '}', '',
  ].join('\n'));
  // A plain --fix leaves the lower-confidence code alone.
  const plain = run(['check', '--fix', 'fs/'], dir);
  assert.equal(plain.code, 0, plain.err);
  assert.equal(plain.out, '');
  const r = run(['check', '--fix', 'nofs-unnecessary', 'fs/'], dir);
  assert.match(r.out, /^fs\/alloc\.c:3:20: fixed: Use GFP_KERNEL \(lower confidence: its 1 call site among the analysed files holds no lock and opens no scope\) \[nofs-unnecessary\]$/m);
  assert.match(r.out, /^fs\/alloc\.c:8:20: not fixed: foo_alloc_locked\(\) is called holding &foo->lock \(from foo_update\(\) in fs\/user\.c\) \[nofs-unnecessary\]$/m);
  assert.equal(fs.readFileSync(path.join(dir, 'fs', 'alloc.c'), 'utf8'), 'void *foo_alloc(size_t n)\n{\n\treturn kmalloc(n, GFP_KERNEL);\n}\n\nvoid *foo_alloc_locked(size_t n)\n{\n\treturn kmalloc(n, GFP_NOFS);\n}\n');
});
