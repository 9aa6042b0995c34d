// The local headers of a file: `#include "…"` resolved relative to the including file, transitively and bounded;
// `<…>` includes, missing, binary, oversized and non-.h files are not read; a header included twice or in a cycle
// is read once.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { localIncludeNames, readLocalIncludes, type HeaderReads } from '../../server/src/io/localIncludes';
import { tempDir } from '../harness/tmp';

const decode = (b: Uint8Array) => (b.includes(0) ? undefined : Buffer.from(b).toString('latin1'));

test('#include "…" names, in order, each once; <…> and commented-out forms are not local includes', () => {
  const text = '#include <linux/slab.h>\n#include "a.h"\n  #  include "sub/b.h"\n#include "a.h"\n// see "c.h"\n#define X "d.h"\n';
  assert.deepEqual(localIncludeNames(text), ['a.h', 'sub/b.h']);
});

test('headers are read relative to the including file, breadth-first, once each, bounded in depth and count', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-includes-'));
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'a.h'), '#include "sub/b.h"\n#include "a.h"\nstatic inline void a(void) {}\n');
  fs.writeFileSync(path.join(dir, 'sub', 'b.h'), '#include "../a.h"\n#include "c.h"\n');
  fs.writeFileSync(path.join(dir, 'sub', 'c.h'), '#include "d.h"\n');
  fs.writeFileSync(path.join(dir, 'sub', 'd.h'), 'int too_deep;\n');
  fs.writeFileSync(path.join(dir, 'bin.h'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]));
  fs.writeFileSync(path.join(dir, 'big.h'), 'x'.repeat(200));
  fs.writeFileSync(path.join(dir, 'data.c'), 'int y;\n');
  const main = path.join(dir, 'main.c');
  const text = '#include <linux/fs.h>\n#include "a.h"\n#include "missing.h"\n#include "bin.h"\n#include "big.h"\n#include "data.c"\n';
  const limits = { headers: 24, bytes: 100, depth: 3 };
  const got = readLocalIncludes(main, text, decode, limits).map((h) => path.relative(dir, h.path));
  // a.h (level 1), sub/b.h (level 2), sub/c.h (level 3); sub/d.h is level 4. bin.h is binary, big.h over the size
  // limit, data.c not a header, missing.h absent; the cycle back to a.h and a.h's own include are read once.
  assert.deepEqual(got, ['a.h', path.join('sub', 'b.h'), path.join('sub', 'c.h')]);
  assert.deepEqual(readLocalIncludes(main, text, decode, { ...limits, headers: 2 }).map((h) => path.relative(dir, h.path)), ['a.h', path.join('sub', 'b.h')]);
  assert.deepEqual(readLocalIncludes(main, text, decode, { ...limits, depth: 1 }).map((h) => path.relative(dir, h.path)), ['a.h']);
});

test('a run reads a header once for all its includers, and again when it changes', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'rl-includes-reads-'));
  fs.writeFileSync(path.join(dir, 'h.h'), 'static inline void a(void) {}\n');
  const reads: HeaderReads = new Map();
  const first = readLocalIncludes(path.join(dir, 'a.c'), '#include "h.h"\n', decode, undefined, reads);
  const second = readLocalIncludes(path.join(dir, 'b.c'), '#include "h.h"\n', decode, undefined, reads);
  assert.equal(first.length, 1);
  assert.equal(second[0], first[0], 'the same header object: read once');
  fs.writeFileSync(path.join(dir, 'h.h'), 'static inline void a(void) { b(); }\n');
  const third = readLocalIncludes(path.join(dir, 'c.c'), '#include "h.h"\n', decode, undefined, reads);
  assert.notEqual(third[0], first[0]);
  assert.match(third[0].text, /b\(\)/);
});
