// The wrapper variant of fix 1 (ide/fixes/wrapperScope.ts): for each fixture of test/fixtures/fixes/wrapper-scope, the
// exact code actions offered on its nofs-scope-candidate findings (titles, one per finding, never preferred, never
// applied by fix-all) and the exact reasons it is refused; for the applied ones, the verified re-analysis of the
// result (no finding left, every allocation under the lock without __GFP_FS, nothing else changed); and the
// invariants of verify.ts/wrapperCheck.ts on candidates tampered with (no save, no restore, a direct lock, nesting).
// fixes.test.ts compares the applied text byte for byte with the .expected.c files.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { createKbProvider } from '../../server/src/analysis/kbView';
import { hasBit } from '../../server/src/analysis/gfpValue';
import { applyEdits, codeFixes, createAnalyser, fixAll, type Analyser, type VerifiedFix } from '../../server/src/ide/fixes';
import { snapshotOf, verify } from '../../server/src/ide/fixes/verify';
import { initParser } from '../../server/src/syntax/parser';

const DIR = path.join(__dirname, '..', 'fixtures', 'fixes', 'wrapper-scope');
const read = (n: string) => fs.readFileSync(path.join(DIR, n), 'utf8');
let analyser: Promise<Analyser> | undefined;
const an = () => (analyser ??= initParser().then((p) => createAnalyser(p, createKbProvider().view, '6.12')));

interface Expect {
  /** the functions of the nofs-scope-candidate findings, in order */
  findings: string[];
  /** the wrapper variant's title on each finding (empty: none offered) */
  titles: string[];
  /** the wrapper variant's refusal reasons, one per finding */
  refused: string[];
  /** the lock whose critical sections the applied fix covers */
  cls?: string;
}

const T_MUTEX = 'Open the memalloc_nofs_save() scope inside foo_lock()/foo_unlock() for all 3 callers (4 allocations in 3 functions → GFP_KERNEL; cookie in struct foo.nofs_flags)';
const T_BAR = (via: string) => `Open the memalloc_nofs_save() scope inside bar_lock()/bar_unlock()/bar_put_unlock() for all 3 callers${via} (2 allocations in 2 functions → GFP_KERNEL; cookie in struct bar.nofs_flag)`;
const R_OTHER = 'the scope inside foo_lock(): the cookie needs a field in struct foo, which is defined in another file';
const R_BYPASS = 'the scope inside foo_lock(): &foo->m is also taken directly in foo_peek() (mutex_lock() at line 38), not through a wrapper: that critical section would get no scope, and the unlock wrapper would restore a cookie nobody saved there';
const R_NESTED = 'the scope inside foo_lock(): foo_lock() is called with &foo->m already held in foo_move() (line 30): a second save would overwrite the cookie of the first';
const R_SHARED = 'the scope inside foo_read_lock(): &foo->rw is taken shared (for reading): several tasks hold it at once and would overwrite each other\'s cookie';
const R_PARTIAL = 'the new scope covers the kmalloc() at line 35 on some paths only';

const EXPECT: Record<string, Expect> = {
  'mutex.c': { findings: ['foo_add_extent', 'foo_add_extent', 'foo_add_extent', 'foo_grow', 'foo_reset'], titles: Array(5).fill(T_MUTEX), refused: [], cls: '&foo->m' },
  'through.c': { findings: ['bar_fill', 'bar_resize'], titles: [T_BAR(', also through bar_get()'), T_BAR('')], refused: [], cls: '&bar->lock' },
  'other-file.c': { findings: ['foo_set', 'foo_clear'], titles: [], refused: [R_OTHER, R_OTHER] },
  'bypass.c': { findings: ['foo_set', 'foo_clear'], titles: [], refused: [R_BYPASS, R_BYPASS] },
  'nested.c': { findings: ['foo_set', 'foo_move'], titles: [], refused: [R_NESTED, R_NESTED] },
  'shared.c': { findings: ['foo_copy'], titles: [], refused: [R_SHARED] },
  'partial.c': { findings: ['foo_set'], titles: [], refused: [R_PARTIAL] },
};

test('every wrapper-scope fixture has its expectations', () => {
  const inputs = fs.readdirSync(DIR).filter((f) => f.endsWith('.c') && !f.endsWith('.expected.c')).sort();
  assert.deepEqual(inputs, Object.keys(EXPECT).sort());
});

for (const [name, want] of Object.entries(EXPECT)) {
  test(`wrapper variant: ${name}`, async () => {
    const a = await an();
    const text = read(name);
    const r = codeFixes(a, text, { codes: ['nofs-scope-candidate'] });
    assert.deepEqual(r.findings.map((f) => f.function), want.findings);
    const mine = r.fixes.filter((f) => f.kind === 'wrapper-scope');
    assert.deepEqual(mine.map((f) => f.title), want.titles);
    assert.deepEqual(r.refused.filter((x) => x.kind === 'wrapper-scope').map((x) => x.reason), want.refused);
    // No other fix is offered: the per-function scope is refused for a lock taken by a wrapper.
    assert.deepEqual(r.fixes.filter((f) => f.kind !== 'wrapper-scope'), []);
    for (const f of mine) {
      assert.equal(f.preferred, false);
      assert.equal(f.fixAll, false);
      assert.equal(f.confidence, 'high');
      assert.deepEqual(f.followUps, []);
    }
    // Fix-all (and check --fix) never apply it.
    const all = fixAll(a, text, { codes: ['nofs-scope-candidate'] });
    assert.equal(all.text, text);
    assert.equal(all.applied.length, 0);
    if (!want.cls) return;

    // Every finding gets the same edit; applied, it is the .expected.c of fixes.test.ts.
    const fix = mine[0];
    for (const f of mine) assert.deepEqual(f.edits, fix.edits);
    const out = applyEdits(text, fix.edits);
    assert.equal(out, read(name.replace(/\.c$/, '.expected.c')));
    // The verified re-analysis passes when run again on its own.
    const before = snapshotOf(a, text);
    const v = verify(a, before, fix);
    before.file.dispose();
    assert.ok(v.ok, v.ok ? '' : v.reason);
    v.after.file.dispose();
    // The result: no nofs-scope-candidate left, every allocation under the lock without __GFP_FS on every path,
    // and every other finding as before.
    const after = a.analyse(a.parse(out));
    const beforeFacts = a.analyse(a.parse(text));
    const codes = (facts: typeof after) => facts.functions.flatMap((f) => f.findings.map((x) => `${f.name}:${x.code}`)).filter((c) => !c.endsWith(':nofs-scope-candidate')).sort();
    assert.deepEqual(codes(after), codes(beforeFacts));
    assert.deepEqual(after.functions.flatMap((f) => f.findings.filter((x) => x.code === 'nofs-scope-candidate')), []);
    const FS = a.kb.gfp.lookup('__GFP_FS')!;
    let under = 0;
    for (const fn of after.functions) {
      for (const s of fn.sites) {
        for (const p of s.paths) {
          if (!p.held.some((h) => h.cls === want.cls)) continue;
          under++;
          assert.equal(hasBit(p.effective, FS), 'no', `${fn.name}: ${s.api}() under ${want.cls} may enter FS reclaim`);
          assert.ok(p.scopes.some((x) => x.cookie?.endsWith('->nofs_flags') || x.cookie?.endsWith('->nofs_flag')), `${fn.name}: ${s.api}() under ${want.cls} outside the scope`);
        }
      }
    }
    assert.ok(under > 0);
    // Nothing is left to offer on the result.
    const again = codeFixes(a, out, { codes: ['nofs-scope-candidate'] });
    assert.deepEqual(again.findings, []);
  });
}

/** The verified wrapper fix of mutex.c, and a verifier for variants of it (reasons name lines of the edited text). */
async function mutexFix(): Promise<{ a: Analyser; text: string; fix: VerifiedFix; check: (edits: VerifiedFix['edits']) => string | undefined }> {
  const a = await an();
  const text = read('mutex.c');
  const fix = codeFixes(a, text, { codes: ['nofs-scope-candidate'] }).fixes.find((f) => f.kind === 'wrapper-scope')!;
  assert.ok(fix);
  const check = (edits: VerifiedFix['edits']) => {
    const before = snapshotOf(a, text);
    try {
      const v = verify(a, before, { ...fix, edits });
      if (v.ok) {
        v.after.file.dispose();
        return undefined;
      }
      return v.reason;
    } finally {
      before.file.dispose();
    }
  };
  return { a, text, fix, check };
}

test('verification: the wrapper fix without its restore is refused (the scope would outlive the lock)', async () => {
  const { fix, check } = await mutexFix();
  const reason = check(fix.edits.filter((e) => !e.newText.includes('memalloc_nofs_restore')));
  assert.equal(reason, 'foo_unlock() would not restore the scope\'s cookie (nofs_flags)');
});

test('verification: the wrapper fix without its save is refused (GFP_KERNEL under the lock, unnarrowed)', async () => {
  const { fix, check } = await mutexFix();
  const reason = check(fix.edits.filter((e) => !e.newText.includes('memalloc_nofs_save();')));
  assert.equal(reason, 'the kmem_cache_alloc() at line 36 gets its mask rewritten but the new scope does not cover it');
});

test('verification: a direct lock and unlock added beside the wrappers is refused', async () => {
  const { text, fix, check } = await mutexFix();
  const at = text.indexOf('\tkfree(old);');
  const reason = check([...fix.edits, { start: at, end: at, newText: '\tmutex_lock(&f->m);\n\tmutex_unlock(&f->m);\n' }]);
  assert.equal(reason, 'foo_reset() takes &foo->m directly (mutex_lock() at line 80), not through foo_lock()');
});

test('verification: a nested call of the lock wrapper added after the edit is refused', async () => {
  const { text, fix, check } = await mutexFix();
  const at = text.indexOf('\tkfree(f->buf);');
  const reason = check([...fix.edits, { start: at, end: at, newText: '\tfoo_lock(f);\n\tfoo_unlock(f);\n' }]);
  assert.equal(reason, 'foo_lock() is called with &foo->m already held in foo_reset() (line 77): the second save would overwrite the cookie');
});
