// Every fixture under test/fixtures/checks/ is analysed and compared exhaustively with its inline expectations.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { diagnostics } from '../../server/src/ide/diagnostics';
import { inlayHints } from '../../server/src/ide/inlayHints';
import { groupSite } from '../../server/src/ide/siteView';
import { analyseText } from '../harness/analyse';
import { compare, parseExpectations, type Actual } from '../harness/fixture';

const ROOT = path.join(__dirname, '..', 'fixtures', 'checks');

function fixtureFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? fixtureFiles(p) : d.name.endsWith('.c') ? [p] : [];
  }).sort();
}

const files = fixtureFiles(ROOT);

test('there are fixtures for every check and at least 60 annotated cases', () => {
  let cases = 0;
  for (const f of files) cases += parseExpectations(fs.readFileSync(f, 'utf8')).expectations.length;
  assert.ok(cases >= 60, `only ${cases} annotated cases`);
  for (const code of ['sleep-in-atomic', 'scope-unbalanced', 'nofs-redundant', 'gfp-or-ineffective', 'vmalloc-nofs', 'nofail-without-reclaim', 'nofs-scope-candidate', 'nofs-unnecessary']) {
    assert.ok(fs.existsSync(path.join(ROOT, code)), `no fixture folder for ${code}`);
  }
});

for (const file of files) {
  test(`fixture ${path.relative(ROOT, file)}`, async () => {
    const text = fs.readFileSync(file, 'utf8');
    const { expectations, kernelVersion } = parseExpectations(text);
    const a = await analyseText(text, kernelVersion ?? '6.12');
    const m = a.kb.gfp;
    const actual: Actual[] = [];
    for (const fn of a.facts.functions) {
      for (const s of fn.sites) {
        const masks = [...new Set(groupSite(s, m).map((g) => g.effective))].join(' | ');
        actual.push({ kind: 'site', start: s.callee.start, end: s.callee.end, key: masks, text: '' });
      }
    }
    for (const h of inlayHints(a.facts, { start: 0, end: text.length }, { mode: 'changed' }, m)) {
      actual.push({ kind: 'inlay', start: h.offset, end: h.offset, key: h.label.map((p) => p.text).join(''), text: '' });
    }
    // Refactoring suggestions too (off by default in the editor): the expectations stay exhaustive.
    for (const d of diagnostics(a.facts, { disabled: [], minimumSeverity: 'hint', showRefactorings: true })) {
      actual.push({ kind: 'diag', start: d.range.start, end: d.range.end, key: `${d.severity} ${d.code}`, text: d.message });
    }
    assert.deepEqual(a.facts.problems, [], 'analysis problems');
    const problems = compare(expectations, actual, text);
    assert.deepEqual(problems, [], `${path.basename(file)}:\n${problems.join('\n')}`);
  });
}
