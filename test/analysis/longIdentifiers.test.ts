// Found by the LSP fuzz (#8): a pasted identifier of 150,000 characters made forget() build a RegExp too large to
// compile (the function went unanalysed) and sideEffectFree()'s RegExp backtrack for a minute. Both are plain
// string scans now; the timeout turns a regression of the second into a failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKbProvider } from '../../server/src/analysis/kbView';
import { AnalysisHost } from '../../server/src/ide/host';
import { initParser } from '../../server/src/syntax/parser';

test('a 150,000-character identifier in a condition and an assignment is analysed, and soon', { timeout: 20_000 }, async () => {
  const word = `x${'a'.repeat(150_000)}`;
  const text = `void *f(int n)\n{\n\tint ${word} = n;\n\tvoid *p = NULL;\n\n\tif (${word})\n\t\tp = kmalloc(16, GFP_KERNEL);\n\tif (${word} > 1)\n\t\t${word} = 0;\n\tif (${word})\n\t\tkfree(p);\n\treturn p;\n}\n`;
  const host = new AnalysisHost(await initParser(), createKbProvider().view);
  const a = host.analyse(text, { kernelVersion: '6.12', disabledChecks: [] }, (fn, e) => assert.fail(`${fn}(): ${String(e)}`));
  assert.deepEqual(a.facts.problems, []);
  assert.deepEqual(a.facts.functions.map((f) => [f.name, f.sites.length]), [['f', 1]]);
});
