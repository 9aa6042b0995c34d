// Reclaim and fault deadlock detection over multi-file fixtures (test/fixtures/deadlock/*.c). Expectations are
// exhaustive: a line `//! <severity> <code>: <text>` expects a finding of that code and severity, whose message
// contains <text>, on the closest line above it that is not an expectation; any other finding fails the test.
// A line `// options: loopbackNfs no-class-level` sets the settings of a fixture.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { contextOptionsOf, findDeadlocks } from '../../server/src/analysis/deadlock';
import { buildProgram, compactFacts, contexts, positionAt } from '../../server/src/analysis/interproc';
import { analyseProgram, splitMultiFile } from '../harness/multifile';

const DIR = path.join(__dirname, '..', 'fixtures', 'deadlock');

interface Expectation {
  file: string;
  line: number;
  severity: string;
  code: string;
  text: string;
  fixtureLine: number;
}

function expectationsOf(text: string): { expected: Expectation[]; crossWaits: string[]; classLevel: boolean } {
  const expected: Expectation[] = [];
  const crossWaits: string[] = [];
  let classLevel = true;
  const opt = /^\/\/ options:(.*)$/m.exec(text);
  if (opt) {
    for (const o of opt[1].trim().split(/\s+/)) {
      if (o === 'loopbackNfs') crossWaits.push('reclaimLens.model.loopbackNfs');
      else if (o === 'no-class-level') classLevel = false;
      else throw new Error(`unknown fixture option ${o}`);
    }
  }
  for (const f of splitMultiFile(text)) {
    const lines = f.text.split('\n');
    let last = 0;
    lines.forEach((l, i) => {
      const m = /^\s*\/\/! (error|warning|information|hint) ([a-z-]+): (.*)$/.exec(l);
      if (!m) {
        if (l.trim() !== '') last = i + 1;
        return;
      }
      expected.push({ file: f.path, line: last, severity: m[1], code: m[2], text: m[3].trim(), fixtureLine: f.firstLine + i });
    });
  }
  return { expected, crossWaits, classLevel };
}

async function run(name: string) {
  const text = fs.readFileSync(path.join(DIR, name), 'utf8');
  const { expected, crossWaits, classLevel } = expectationsOf(text);
  const { program, kb } = await analyseProgram(text);
  const ctxs = contexts(program, contextOptionsOf(kb));
  const { findings } = findDeadlocks(program, ctxs, kb, { crossWaits, classLevel });
  const lineOf = (file: string, o: number) => positionAt(program.files.find((f) => f.path === file)!.lineStarts!, o).line;
  return { expected, findings, lineOf, program };
}

for (const name of fs.readdirSync(DIR).filter((f) => f.endsWith('.c')).sort()) {
  test(`deadlock fixture ${name}`, async () => {
    const { expected, findings, lineOf } = await run(name);
    const unmatched = [...expected];
    const unexpected: string[] = [];
    for (const f of findings) {
      const line = lineOf(f.file, f.span.start);
      const i = unmatched.findIndex((e) => e.file === f.file && e.line === line && e.code === f.code && e.severity === f.severity && f.message.includes(e.text));
      if (i >= 0) unmatched.splice(i, 1);
      else unexpected.push(`${f.file}:${line}: ${f.severity} ${f.code}: ${f.message}`);
    }
    assert.deepEqual(
      { unexpected, missing: unmatched.map((e) => `fixture line ${e.fixtureLine} (${e.file}:${e.line}): ${e.severity} ${e.code}: ${e.text}`) },
      { unexpected: [], missing: [] },
    );
  });
}

test('every fixture gives the same findings over compacted facts (the index shares path objects between call sites)', async () => {
  for (const name of fs.readdirSync(DIR).filter((f) => f.endsWith('.c')).sort()) {
    const text = fs.readFileSync(path.join(DIR, name), 'utf8');
    const { crossWaits, classLevel } = expectationsOf(text);
    const { program, kb } = await analyseProgram(text);
    const plain = findDeadlocks(program, contexts(program, contextOptionsOf(kb)), kb, { crossWaits, classLevel }).findings.map((f) => `${f.file}:${f.span.start} ${f.code} ${f.message}`);
    const compacted = buildProgram(program.files.map((f) => ({ path: f.path, facts: compactFacts(f.facts), lineStarts: f.lineStarts })));
    const got = findDeadlocks(compacted, contexts(compacted, contextOptionsOf(kb)), kb, { crossWaits, classLevel }).findings.map((f) => `${f.file}:${f.span.start} ${f.code} ${f.message}`);
    assert.deepEqual(got, plain, name);
  }
});

test('a fixture expectation that matches nothing fails (the runner is not vacuous)', () => {
  const { expected } = expectationsOf('//- /a.c\nint x;\n//! warning reclaim-deadlock: nothing\n');
  assert.equal(expected.length, 1);
  assert.equal(expected[0].line, 1);
});
