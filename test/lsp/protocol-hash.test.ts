// docs/lsp-extensions.md records the SHA-256 of server/src/lsp/protocol.ts; a protocol change must update the doc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PROTOCOL = 'server/src/lsp/protocol.ts';
const DOC = 'docs/lsp-extensions.md';

test('docs/lsp-extensions.md records the current hash of protocol.ts', () => {
  const actual = createHash('sha256').update(readFileSync(path.join(root, PROTOCOL))).digest('hex');
  const doc = readFileSync(path.join(root, DOC), 'utf8');
  const recorded = /^protocol\.ts hash: ([0-9a-f]{64})$/m.exec(doc)?.[1];
  assert.ok(recorded, `${DOC} has no "protocol.ts hash: <sha256>" line`);
  assert.equal(
    recorded,
    actual,
    `${PROTOCOL} changed: update ${DOC} to describe the new protocol, then set its hash line to "protocol.ts hash: ${actual}"`,
  );
});

test('every reclaimLens/* method in protocol.ts is documented', () => {
  const source = readFileSync(path.join(root, PROTOCOL), 'utf8');
  const doc = readFileSync(path.join(root, DOC), 'utf8');
  const methods = [...source.matchAll(/method = '(reclaimLens\/[A-Za-z]+)'/g)].map((m) => m[1]);
  assert.ok(methods.length > 0, `no reclaimLens/* methods found in ${PROTOCOL}`);
  for (const method of methods) {
    assert.ok(doc.includes(`## \`${method}\``), `${DOC} has no section for ${method}`);
  }
});
