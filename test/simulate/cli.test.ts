import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runSimulate } from '../../server/src/cli/simulate';
import { MODELS_DIR } from './fixtures';

function cli(argv: string[], files: Record<string, string> = {}): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runSimulate(argv, {
    readFile: (p) => {
      if (Object.prototype.hasOwnProperty.call(files, p)) return files[p];
      return fs.readFileSync(path.resolve(MODELS_DIR, p), 'utf8');
    },
    stdout: (s) => { out += s; },
    stderr: (s) => { err += s; },
  });
  return { code, out, err };
}

test('exit 1 and a lockdep report when a deadlock is reachable', () => {
  const r = cli(['xfs-ilock-super-cache-scan.rlsim']);
  assert.equal(r.code, 1);
  assert.match(r.out, /WARNING: possible circular locking dependency detected/);
  assert.equal(r.err, '');
});

test('exit 0 and "no deadlock: N states explored" otherwise', () => {
  const r = cli(['xfs-ilock-nofs-scope-fixed.rlsim']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^no deadlock: \d+ states explored/);
});

test('formats: json, svg, promela', () => {
  const j = cli(['nfs-loopback-commit.rlsim', '--format', 'json']);
  assert.equal(j.code, 1);
  assert.equal(JSON.parse(j.out).verdict, 'deadlock');
  const s = cli(['simulate', 'nfs-loopback-commit.rlsim', '--format=svg']);
  assert.equal(s.code, 1);
  assert.match(s.out, /^<svg /);
  const p = cli(['nfs-loopback-nofs-fixed.rlsim', '--format', 'promela']);
  assert.equal(p.code, 0);
  assert.match(p.out, /active proctype T0_writer\(\)/);
  const full = cli(['three-thread-ordered.rlsim', '--no-reduce', '--format', 'json']);
  assert.equal(JSON.parse(full.out).reduced, false);
});

test('exit 2 on model errors, printed as file:line:col diagnostics', () => {
  const r = cli(['bad.rlsim'], { 'bad.rlsim': 'mutex &a\nthread t {\n  lock &b\n}\n' });
  assert.equal(r.code, 2);
  assert.equal(r.out, '');
  assert.equal(r.err, "bad.rlsim:3:8: error: '&b' is not declared (declare it first, e.g. mutex &b)\n");
});

test('warnings are printed but do not stop the simulation', () => {
  const r = cli(['warn.rlsim'], { 'warn.rlsim': 'mutex &a\nthread t {\n  unlock &a\n}\n' });
  assert.equal(r.code, 0);
  assert.match(r.err, /^warn\.rlsim:3:10: warning: unlock of '&a'/);
});

test('exit 2 on usage and IO errors', () => {
  const missing = cli(['does-not-exist.rlsim']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read does-not-exist\.rlsim/);
  assert.equal(cli([]).code, 2);
  assert.equal(cli(['a.rlsim', 'b.rlsim']).code, 2);
  const fmt = cli(['xfs-ilock-super-cache-scan.rlsim', '--format', 'dot']);
  assert.equal(fmt.code, 2);
  assert.match(fmt.err, /unknown --format 'dot'/);
  assert.equal(cli(['--bogus']).code, 2);
  assert.equal(cli(['x.rlsim', '--max-states', 'many']).code, 2);
  const limit = cli(['three-thread-ordered.rlsim', '--max-states', '3']);
  assert.equal(limit.code, 2);
  assert.match(limit.err, /state limit reached/);
});

test('--finding is run by the reclaim-lens command (it analyses a tree first), not by runSimulate', () => {
  const r = cli(['--finding', 'reclaim-deadlock:fs/xfs/xfs_iomap.c:1793', '--root', '/tmp']);
  assert.equal(r.code, 2);
  assert.equal(r.err, 'reclaim-lens: simulate --finding analyses a source tree: run it as `reclaim-lens simulate --finding ID`\n');
});
