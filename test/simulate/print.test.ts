import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseModel } from '../../server/src/simulate/parse';
import { printModel } from '../../server/src/simulate/print';
import { exploreModel } from '../../server/src/simulate/explore';
import type { Model } from '../../server/src/simulate/model';
import { loadFixtures } from './fixtures';
import { randomModel } from './random';

/** The AST without positions. */
function strip(m: Model): unknown {
  return JSON.parse(JSON.stringify(m, (k, v) => (k === 'span' || k === 'nameSpan' || k === 'operandSpan' ? undefined : v)));
}

const sources = [
  ...loadFixtures().map((f) => ({ name: f.name, text: f.text })),
  ...[1, 2, 3, 4, 5].map((s) => ({ name: `random ${s}`, text: randomModel(s) })),
];

for (const src of sources) {
  test(`print round-trips: ${src.name}`, () => {
    const parsed = parseModel(src.text);
    const a = parsed.model;
    const printed = printModel(a);
    const b = parseModel(printed);
    assert.deepEqual(b.problems.map((p) => p.message), parsed.problems.map((p) => p.message), printed);
    assert.deepEqual(strip(b.model), strip(a));
    assert.equal(printModel(b.model), printed);
    assert.equal(exploreModel(b.model).path?.length, exploreModel(a).path?.length);
  });
}

test('names that need quoting are quoted', () => {
  const { model } = parseModel('mutex "a lock"\nmutex "x//y"\nthread "my thread" {\n  lock "a lock" note "say \\"hi\\""\n}\n');
  const printed = printModel(model);
  assert.match(printed, /^mutex "a lock"$/m);
  assert.match(printed, /^mutex "x\/\/y"$/m);
  assert.match(printed, /^thread "my thread" \{$/m);
  assert.match(printed, /^  lock "a lock" note "say \\"hi\\""$/m);
  assert.deepEqual(strip(parseModel(printed).model), strip(model));
});
