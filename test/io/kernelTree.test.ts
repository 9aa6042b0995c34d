// Kernel version resolution: `auto` reads the top Makefile of the tree above the file; explicit versions are checked.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../harness/tmp';
import { findKernelRoot, readKernelVersion, resolveKernelVersion } from '../../server/src/io/kernelTree';
import { tableFor } from '../../server/src/model/gfp';

function fakeTree(version: string, patch: string, sub: string): string {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-tree-'));
  fs.writeFileSync(path.join(dir, 'Makefile'), `# SPDX-License-Identifier: GPL-2.0\nVERSION = ${version}\nPATCHLEVEL = ${patch}\nSUBLEVEL = ${sub}\nEXTRAVERSION =\nNAME = Baby Opossum Posse\n`);
  fs.mkdirSync(path.join(dir, 'fs', 'xfs'), { recursive: true });
  return dir;
}

test('auto reads VERSION/PATCHLEVEL/SUBLEVEL from the tree above the file', () => {
  const dir = fakeTree('6', '1', '192');
  assert.equal(readKernelVersion(dir), '6.1.192');
  assert.equal(findKernelRoot(path.join(dir, 'fs', 'xfs')), dir);
  const r = resolveKernelVersion('auto', path.join(dir, 'fs', 'xfs'));
  assert.ok(!('error' in r));
  assert.equal(r.version, '6.1.192');
  assert.equal(tableFor(r.version), '6.1');
});

test('auto without a kernel Makefile falls back to the newest table and says so', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-none-'));
  const r = resolveKernelVersion('auto', dir);
  assert.ok(!('error' in r));
  assert.equal(r.version, '6.12');
  assert.match(r.origin, /default/);
});

test('the real 6.12 tree reads as 6.12.x', () => {
  const tree = path.join(__dirname, '..', '..', '.cache', 'kernel', '6.12');
  assert.ok(fs.existsSync(tree), 'run scripts/extract-kernel.sh');
  assert.match(readKernelVersion(tree) ?? '', /^6\.12\.\d+$/);
});

test('explicit versions are validated', () => {
  assert.deepEqual(resolveKernelVersion('6.12.117', undefined), { version: '6.12.117', origin: 'setting' });
  assert.ok('error' in resolveKernelVersion('banana', undefined));
  assert.ok('error' in resolveKernelVersion('6', undefined));
});
