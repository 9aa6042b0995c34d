// Quick fixes, before and after: every test/fixtures/fixes/<kind>/NAME.c is fixed in memory and compared byte for
// byte with NAME.expected.c. Directives in the input (C comments):
//   // fix: CODE[,CODE]        fix-all over these codes (default: the code of the folder's fix kind)
//   // apply: TEXT             instead, apply the one verified quick fix whose title contains TEXT
//   // applied: N              exactly N fixes are applied
//   // refused: TEXT           some fix is not offered, for a reason that contains TEXT
//   // resolved: TEXT          a whole-program finding needs no fix after an earlier one, for a reason containing TEXT
//   // kernel-version: V       analyse as kernel V (default 6.12)
//   // deadlock: CODE BITS LOCK TEXT
//                              a whole-program finding (FixRequest.extra) at the first occurrence of TEXT below the
//                              directives, in the function around it, whose reclaim path requires BITS (comma-separated
//                              gfp bits, or - for none), holding LOCK; its message is detect.ts's (what the language
//                              server passes on), with demo_scan() as the reclaim path
//   // deadlock-data: JSON     fields merged into the next deadlock target (held, takenIn, reclaim, message)
// Every fixed text is analysed again: no finding of the fixed codes may be left that a fix could remove, and a second
// fix-all over the expected text changes nothing (the fixes are idempotent).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { createKbProvider } from '../../server/src/analysis/kbView';
import { applyEdits, codeFixes, createAnalyser, fixAll, FIX_ALL_CODES, type Analyser, type DeadlockTarget } from '../../server/src/ide/fixes';
import { applyEdits as apply, insertBeforeStatement, offsetMapper } from '../../server/src/ide/fixes/edits';
import { initParser } from '../../server/src/syntax/parser';

const ROOT = path.join(__dirname, '..', 'fixtures', 'fixes');
const KIND_CODE: Record<string, string> = {
  'redundant-nofs': 'nofs-redundant', 'close-scope': 'scope-unbalanced', 'narrow-or': 'gfp-or-ineffective',
  'scope-candidate': 'nofs-scope-candidate', 'unnecessary-nofs': 'nofs-unnecessary', 'atomic-mask': 'sleep-in-atomic',
  'deadlock-scope': 'reclaim-deadlock', 'preload-move': 'sleep-in-atomic', 'wrapper-scope': 'nofs-scope-candidate',
};

/** The `// deadlock:` targets of a fixture, as the language server or the CLI hands them to the fixes. */
function deadlockTargets(text: string): DeadlockTarget[] {
  const out: DeadlockTarget[] = [];
  let data: Partial<DeadlockTarget> = {};
  for (const m of text.matchAll(/^\s*\/\/ (deadlock|deadlock-data): (.*)$/gm)) {
    if (m[1] === 'deadlock-data') {
      data = JSON.parse(m[2]) as Partial<DeadlockTarget>;
      continue;
    }
    const [, code, bits, lock, needle] = /^(\S+) (\S+) (\S+) (.*)$/.exec(m[2].trim())!;
    // The first occurrence outside the directive lines.
    const body = text.indexOf('\n', text.lastIndexOf('// deadlock'));
    const start = text.indexOf(needle, body);
    assert.ok(start >= 0, `no ${needle} in the fixture`);
    const fnStart = text.lastIndexOf('\n{', start);
    const fn = /(\w+)\([^()]*\)\s*$/.exec(text.slice(text.lastIndexOf('\n', fnStart - 1) + 1, fnStart))?.[1] ?? '';
    out.push({
      code, severity: 'warning', span: { start, end: start + needle.length }, function: fn, related: [],
      message: code === 'reclaim-frozen-queue'
        ? `${needle} may do I/O to reclaim while ${lock} is frozen (frozen at x.c:1): reclaim's I/O waits for the queue to unfreeze; use GFP_NOIO or a memalloc_noio scope`
        : `${needle} may enter reclaim while ${lock} is held, and reclaim can take ${lock} via … → do_shrink_slab → demo_scan → mutex_lock (fs/demo/shrinker.c:9)`,
      requires: bits === '-' ? [] : bits.split(','), ...data,
    });
    data = {};
  }
  return out;
}

const analysers = new Map<string, Promise<Analyser>>();
function analyser(version: string): Promise<Analyser> {
  let a = analysers.get(version);
  if (!a) analysers.set(version, (a = initParser().then((p) => createAnalyser(p, createKbProvider().view, version))));
  return a;
}

function inputs(): { kind: string; file: string }[] {
  return fs.readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) =>
    fs.readdirSync(path.join(ROOT, d.name)).filter((f) => f.endsWith('.c') && !f.endsWith('.expected.c')).sort()
      .map((f) => ({ kind: d.name, file: path.join(ROOT, d.name, f) })));
}

test('there are before/after fixtures for every fix kind', () => {
  const kinds = new Set(inputs().map((i) => i.kind));
  for (const k of Object.keys(KIND_CODE)) assert.ok(kinds.has(k), `no fixture folder for ${k}`);
  for (const i of inputs()) assert.ok(fs.existsSync(i.file.replace(/\.c$/, '.expected.c')), `${i.file}: no .expected.c`);
});

for (const { kind, file } of inputs()) {
  test(`fix ${kind}/${path.basename(file)}`, async () => {
    const text = fs.readFileSync(file, 'utf8');
    const expected = fs.readFileSync(file.replace(/\.c$/, '.expected.c'), 'utf8');
    const directive = (name: string) => [...text.matchAll(new RegExp(`^\\s*// ${name}: (.*)$`, 'gm'))].map((m) => m[1].trim());
    const version = directive('kernel-version')[0] ?? '6.12';
    const an = await analyser(version);
    const codes = directive('fix')[0]?.split(',').map((c) => c.trim()) ?? [KIND_CODE[kind]];
    const extra = deadlockTargets(text);
    let out: string;
    let applied: number;
    let reasons: string[];
    let resolved: string[] = [];
    const apply1 = directive('apply')[0];
    if (apply1) {
      const r = codeFixes(an, text, { codes, extra });
      const fix = r.fixes.find((f) => f.title.includes(apply1));
      assert.ok(fix, `no verified fix titled "${apply1}": ${r.fixes.map((f) => f.title).join('; ')}; refused: ${r.refused.map((x) => x.reason).join('; ')}`);
      out = applyEdits(text, fix.edits);
      applied = 1;
      reasons = r.refused.map((x) => x.reason);
    } else {
      const r = fixAll(an, text, { codes, extra });
      out = r.text;
      applied = r.applied.length;
      // Refusals, and why the fixes listed before an applied one were passed over (a deadlock's scope).
      reasons = [...r.refused, ...r.applied.flatMap((a) => a.passedOver)].map((x) => x.reason);
      resolved = r.resolved.map((x) => x.reason);
      // Idempotent: fixing the result again changes nothing (whole-program findings are gone once fixed: none left).
      assert.equal(fixAll(an, r.text, { codes }).text, r.text, 'a second fix-all changes the text again');
    }
    if (out !== expected && process.env.UPDATE_FIXES) fs.writeFileSync(file.replace(/\.c$/, '.expected.c'), out);
    assert.equal(out, expected, `${path.basename(file)}: the fixed text differs from the .expected.c`);
    const want = directive('applied')[0];
    if (want !== undefined) assert.equal(applied, Number(want), `applied fixes; refused: ${reasons.join('; ')}`);
    for (const r of directive('refused')) assert.ok(reasons.some((x) => x.includes(r)), `no refusal mentions "${r}"; refusals: ${reasons.join('; ')}`);
    for (const r of directive('resolved')) assert.ok(resolved.some((x) => x.includes(r)), `no resolved finding mentions "${r}"; resolved: ${resolved.join('; ')}`);
    assert.equal(resolved.length, directive('resolved').length, `resolved: ${resolved.join('; ')}`);
  });
}

test('offset mapping and statement insertion', async () => {
  const edits = [{ start: 2, end: 2, newText: 'xx' }, { start: 5, end: 7, newText: 'y' }];
  const map = offsetMapper(edits);
  assert.deepEqual([0, 2, 3, 5, 6, 7, 9].map(map), [0, 4, 5, 7, 7, 8, 10]);
  assert.equal(apply('0123456789', edits), '01xx234y789');
  assert.throws(() => apply('0123', [{ start: 0, end: 2, newText: '' }, { start: 1, end: 3, newText: '' }]), /overlapping/);
  const parser = await initParser();
  const src = 'void f(int e)\n{\n\tif (e)\n\t\treturn;\n\tg();\n}\n';
  const tree = parser.parse(src)!;
  const ret = tree.rootNode.descendantForIndex(src.indexOf('return'))!.parent!;
  assert.equal(ret.type, 'return_statement');
  assert.equal(apply(src, insertBeforeStatement(src, ret, 'h();')!), 'void f(int e)\n{\n\tif (e) {\n\t\th();\n\t\treturn;\n\t}\n\tg();\n}\n');
  tree.delete();
});

test('every fix-all code has a fixture folder and sleep-in-atomic is never applied by fix-all', () => {
  assert.ok(!FIX_ALL_CODES.includes('sleep-in-atomic'));
  for (const c of FIX_ALL_CODES) assert.ok(Object.values(KIND_CODE).includes(c), c);
});
