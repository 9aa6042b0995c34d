// Knowledge-base override files on the command line (--kb, #8): an override changes what is found, a bad entry is a
// warning naming the file, the key and the reason (the rest still applies), an unreadable file is exit 2, and the
// cache never mixes results computed with and without overrides.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../harness/tmp';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'reclaim-lens.js');
const FIX = 'test/fixtures/kb';
const OVERRIDE = `${FIX}/.reclaim-lens/pool.jsonc`;

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const FINDING = /^test\/fixtures\/kb\/pool\.c:12:8: error: GFP_KERNEL may sleep while holding &pool->lock \[sleep-in-atomic\]$/m;

test('--kb: an allocator the built-in knowledge base does not know becomes an allocation site', () => {
  const without = run(['check', '--no-cache', `${FIX}/pool.c`]);
  assert.equal(without.code, 0, without.err);
  assert.equal(without.out, '');
  const withKb = run(['check', '--no-cache', '--kb', OVERRIDE, `${FIX}/pool.c`]);
  assert.equal(withKb.code, 1, withKb.err);
  assert.match(withKb.out, FINDING);
  assert.equal(withKb.err, '');
  const hints = run(['hints', '--no-cache', '--format', 'json', '--kb', OVERRIDE, `${FIX}/pool.c`]);
  const sites = JSON.parse(hints.out).sites as { api: string; line: number; literal: string; atomic: boolean }[];
  assert.deepEqual(sites.map((s) => [s.api, s.line, s.literal, s.atomic]), [['pool_get', 12, 'GFP_KERNEL', true]]);
});

test('--kb: a bad entry is one warning line naming the file, the entry and the reason; the run goes on', () => {
  const r = run(['check', '--no-cache', '--kb', `${FIX}/bad.jsonc`, `${FIX}/pool.c`]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, 'reclaim-lens: warning: knowledge base: test/fixtures/kb/bad.jsonc: allocators[0] (pool_get).gfpArg: Expected number, received string, or Invalid literal value, expected "last"; entry skipped\n');
  // A good file after a bad one still applies.
  const both = run(['check', '--no-cache', '--kb', `${FIX}/bad.jsonc`, '--kb', OVERRIDE, `${FIX}/pool.c`]);
  assert.equal(both.code, 1, both.err);
  assert.match(both.out, FINDING);
});

test('--kb: a file that cannot be read is an error (exit 2) naming it', () => {
  const r = run(['check', '--no-cache', '--kb', `${FIX}/missing.jsonc`, `${FIX}/pool.c`]);
  assert.equal(r.code, 2);
  assert.equal(r.err, 'reclaim-lens: --kb test/fixtures/kb/missing.jsonc: cannot read (ENOENT); knowledge-base override not loaded\n');
  const dir = run(['check', '--no-cache', '--kb', FIX, `${FIX}/pool.c`]);
  assert.equal(dir.code, 2);
  assert.equal(dir.err, 'reclaim-lens: --kb test/fixtures/kb: not a regular file; knowledge-base override not loaded\n');
});

test('the cache keeps results with and without overrides apart', () => {
  const cache = tempDir(path.join(os.tmpdir(), 'rl-kb-cache-'));
  const plain = ['check', '--cache', cache, `${FIX}/pool.c`];
  assert.equal(run(plain).code, 0);
  assert.equal(run([...plain, '--kb', OVERRIDE]).code, 1, 'a warm cache without the override is not used with it');
  assert.equal(run(plain).code, 0, 'nor the other way round');
  assert.equal(run([...plain, '--kb', OVERRIDE]).code, 1);
});
