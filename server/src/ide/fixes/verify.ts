// Verification by re-analysis: a candidate fix is applied to a copy of the text in memory, the copy is parsed and
// analysed with every check on, and the fix is accepted only if
//   1. the parse has no more ERROR/MISSING nodes than before;
//   2. the targeted finding is gone;
//   3. no finding appears that was not there before (matched by code, function and position mapped through the
//      edits), except refactoring suggestions and hints on the code the fix wrote (reported as follow-ups);
//   4. every scope is balanced: no scope-unbalanced finding in the functions the fix touched;
//   5. every allocation site keeps its effective masks, or gets exactly the masks the fix intends (a rewritten
//      literal, a new scope covering it on every path), and every call keeps the scope flags its callee runs under
//      (or gains exactly the new scope's). A site the fix moves (the preload idiom) is looked for in the code the fix
//      wrote and judged the same way;
//   6. a fix for a whole-program deadlock (whose finding is not in the file's facts) leaves the allocation's
//      effective mask without a bit the cycle's reclaim path requires, on every path;
//   7. a scope opened inside a lock wrapper (wrapperScope.ts) keeps the invariants of wrapperCheck.ts: the wrappers
//      balanced on every path, every acquisition and release of the lock through them, no nesting, the scope open
//      exactly where the lock is held, no allocation gaining __GFP_FS under the lock.
// A literal the fix rewrites for a new scope must be inside that scope on every path.
import { OFF_BY_DEFAULT } from '../../analysis/checks';
import type { AllocSite, CallSite, FileFacts, Finding, FunctionFacts, ScopeFrame, Span } from '../../analysis/facts';
import { applyScopeVal, clearBits, hasBit, renderVal, setBits, type GfpVal } from '../../analysis/gfpValue';
import { lineOf } from '../../analysis/lines';
import type { PfFlag } from '../../model/kb/types';
import { syntaxErrors } from '../../syntax/ast';
import { applyEdits, insertedRanges, offsetMapper } from './edits';
import type { Analyser, CandidateFix, Snapshot } from './types';
import { checkWrapper } from './wrapperCheck';

export function snapshotOf(an: Analyser, text: string, previous?: Snapshot): Snapshot {
  const file = an.parse(text, previous?.file);
  try {
    const facts = an.analyse(file);
    return { text, file, facts, errors: syntaxErrors(file.tree.rootNode, 1_000_000).length };
  } catch (e) {
    file.dispose();
    throw e;
  }
}

export type Verdict = { ok: true; after: Snapshot; followUps: Finding[] } | { ok: false; reason: string };

const within = (o: number, rs: readonly Span[]) => rs.some((r) => o >= r.start && o < r.end);

export function verify(an: Analyser, before: Snapshot, fix: CandidateFix): Verdict {
  let text: string;
  try {
    text = applyEdits(before.text, fix.edits);
  } catch (e) {
    return { ok: false, reason: `internal: ${e instanceof Error ? e.message : String(e)}` };
  }
  const after = snapshotOf(an, text, before);
  const r = judge(an, before, after, fix);
  if (r.ok) return { ok: true, after, followUps: r.followUps };
  after.file.dispose();
  return r;
}

function judge(an: Analyser, before: Snapshot, after: Snapshot, fix: CandidateFix): { ok: true; followUps: Finding[] } | { ok: false; reason: string } {
  const m = an.kb.gfp;
  const map = offsetMapper(fix.edits);
  const inserted = insertedRanges(fix.edits);
  const line = (o: number) => lineOf(after, o);
  if (after.errors > before.errors) return { ok: false, reason: `the edit does not parse cleanly (${after.errors - before.errors} new syntax error${after.errors - before.errors === 1 ? '' : 's'})` };
  if (after.facts.functions.length !== before.facts.functions.length) return { ok: false, reason: 'the edit changes which functions the file defines' };
  // Functions the edits touch, before and after (same order: the list of functions is the same).
  const touched = new Set<number>();
  before.facts.functions.forEach((f, i) => {
    if (fix.edits.some((e) => e.start >= f.span.start && e.end <= f.span.end)) touched.add(i);
  });
  for (const i of touched) {
    const b = before.facts.functions[i];
    const a = after.facts.functions[i];
    if (a.name !== b.name) return { ok: false, reason: 'the edit changes which functions the file defines' };
    if (a.hasError) return { ok: false, reason: `${a.name}() does not parse cleanly after the edit` };
    if (a.approximate) return { ok: false, reason: `the analysis of ${a.name}() merges paths (state limit), so the edit cannot be verified` };
  }

  // 2 + 3: findings, matched by code, function and mapped position.
  const beforeFindings = before.facts.functions.flatMap((f) => f.findings);
  const key = (code: string, fn: string, start: number) => `${code}\u0000${fn}\u0000${start}`;
  const expected = new Map<string, number>();
  for (const f of beforeFindings) {
    const k = key(f.code, f.function, map(f.span.start));
    expected.set(k, (expected.get(k) ?? 0) + 1);
  }
  const targetKey = key(fix.target.code, fix.target.function, map(fix.target.span.start));
  const followUps: Finding[] = [];
  for (const fn of after.facts.functions) {
    for (const f of fn.findings) {
      const k = key(f.code, f.function, f.span.start);
      if (k === targetKey) return { ok: false, reason: `the ${fix.target.code} finding is still reported after the edit: ${f.message}` };
      const n = expected.get(k) ?? 0;
      if (n > 0) {
        expected.set(k, n - 1);
        continue;
      }
      // On the code the fix wrote, a refactoring suggestion or a hint (vmalloc-nofs after 5.17: "prefer the scope API")
      // is a follow-up, not a new problem.
      if ((OFF_BY_DEFAULT.includes(f.code) || f.severity === 'hint') && within(f.span.start, inserted)) {
        followUps.push(f);
        continue;
      }
      if (f.code === 'scope-unbalanced') return { ok: false, reason: `a scope would not be balanced on every path (line ${line(f.span.start)}: ${f.message})` };
      return { ok: false, reason: `the edit would add a ${f.code} finding at line ${line(f.span.start)}: ${f.message}` };
    }
  }
  // 4: scopes balanced in the functions the edit touches.
  for (const i of touched) {
    const bad = after.facts.functions[i].findings.find((f) => f.code === 'scope-unbalanced' && f.severity !== 'information');
    if (bad && fix.code !== 'scope-unbalanced') return { ok: false, reason: `${after.facts.functions[i].name}() keeps an unbalanced scope (line ${line(bad.span.start)}: ${bad.message}); not touched by a fix for ${fix.code}` };
    if (bad && fix.code === 'scope-unbalanced' && bad.span.start === map(fix.target.span.start)) return { ok: false, reason: bad.message };
  }

  // 5: effective masks of every allocation site, scope flags of every call.
  const afterSites = new Map<number, { site: AllocSite; fn: FunctionFacts }>();
  for (const fn of after.facts.functions) for (const s of fn.sites) afterSites.set(s.callee.start, { site: s, fn });
  const afterCalls = new Map<number, CallSite>();
  for (const fn of after.facts.functions) for (const c of fn.callSites) afterCalls.set(c.span.start, c);
  // A new frame: a save the fix wrote, or (a scope opened inside a lock wrapper) one whose cookie is the fix's new field,
  // seen by the wrapper's callers at their call of it.
  const field = fix.intent.scope?.cookieField;
  const isNew = (f: ScopeFrame) => within(f.site.start, inserted) || (!!field && !!f.cookie && (f.cookie.endsWith(`->${field}`) || f.cookie.endsWith(`.${field}`)));
  const coverage = (scopesPerPath: readonly (readonly ScopeFrame[])[]): 'all' | 'none' | 'some' => {
    const n = scopesPerPath.filter((ss) => ss.some(isNew)).length;
    return n === 0 ? 'none' : n === scopesPerPath.length ? 'all' : 'some';
  };
  const newFlags: PfFlag[] = fix.intent.scope?.flags ?? [];
  const moved = (s: AllocSite, i: number) => {
    const fn = after.facts.functions[i];
    const x = fn?.sites.find((y) => y.api === s.api && y.literalText === s.literalText && within(y.callee.start, inserted));
    return x && { site: x, fn };
  };
  let broken = !fix.intent.breaks;
  for (const [i, fn] of before.facts.functions.entries()) {
    for (const s of fn.sites) {
      const a = fix.intent.moved?.has(s.callee.start) ? moved(s, i) : afterSites.get(map(s.callee.start));
      if (!a || a.site.api !== s.api) return { ok: false, reason: `the allocation at line ${lineOf(before, s.callee.start)} (${s.api}) is not found after the edit` };
      const cov = coverage(a.site.paths.map((p) => p.scopes));
      if (cov === 'some') return { ok: false, reason: `the new scope covers the ${s.api}() at line ${line(a.site.callee.start)} on some paths only` };
      if (cov === 'all' && !fix.intent.scope) return { ok: false, reason: `the edit puts the ${s.api}() at line ${line(a.site.callee.start)} inside a new scope` };
      const lit = fix.intent.literals.get(s.callee.start);
      // A literal rewritten for a new scope is inside it on every path (else GFP_KERNEL would reach reclaim unnarrowed).
      if (lit && fix.intent.scope && cov !== 'all') return { ok: false, reason: `the ${s.api}() at line ${line(a.site.callee.start)} gets its mask rewritten but the new scope does not cover it` };
      const adds = bitsOf(s.entry.adds, m);
      const clears = bitsOf(s.entry.clears, m);
      const want = new Set<string>();
      for (const p of s.paths) {
        let v: GfpVal = p.requested;
        if (lit) v = setBits(clearBits(v, lit.removed & ~adds), lit.added & ~clears);
        const flags = flagsOf(p.scopes);
        if (cov === 'all') for (const f of newFlags) if (!flags.includes(f)) flags.push(f);
        want.add(renderVal(applyScopeVal(v, flags, m), m));
      }
      const got = new Set(a.site.paths.map((p) => renderVal(p.effective, m)));
      if (!sameSet(want, got)) {
        return { ok: false, reason: `the ${s.api}() at line ${line(a.site.callee.start)} would get ${[...got].join(' | ')} instead of ${[...want].join(' | ')}` };
      }
      const breaks = fix.intent.breaks;
      if (breaks && breaks.site === s.callee.start) {
        const bits = breaks.without.map((n) => m.lookup(n) ?? 0).filter((b) => b !== 0);
        const keeps = a.site.paths.find((p) => !bits.some((b) => hasBit(p.effective, b) === 'no'));
        if (keeps || !a.site.paths.length) return { ok: false, reason: `the ${s.api}() at line ${line(a.site.callee.start)} would still get ${keeps ? renderVal(keeps.effective, m) : 'no known mask'}, which the cycle's reclaim path admits (it needs ${breaks.without.join(' and ')})` };
        broken = true;
      }
    }
    for (const c of fn.callSites) {
      const a = afterCalls.get(map(c.span.start));
      if (!a) continue; // calls are recorded from text: a call the edit rewrote is covered by the checks above
      const cov = coverage(a.paths.map((p) => p.scopes));
      if (cov === 'some') return { ok: false, reason: `the new scope covers the call to ${c.callee}() at line ${line(a.span.start)} on some paths only` };
      const want = new Set(c.paths.map((p) => {
        const flags = flagsOf(p.scopes);
        if (cov === 'all') for (const f of newFlags) if (!flags.includes(f)) flags.push(f);
        return flags.sort().join(',');
      }));
      const got = new Set(a.paths.map((p) => flagsOf(p.scopes).sort().join(',')));
      if (!sameSet(want, got)) return { ok: false, reason: `${c.callee}() at line ${line(a.span.start)} would run under ${[...got].map((x) => x || 'no scope').join(' | ')} instead of ${[...want].map((x) => x || 'no scope').join(' | ')}` };
    }
  }
  if (!broken) return { ok: false, reason: 'the allocation of the deadlock finding is not found in the analysis' };
  // 7: a scope inside a lock wrapper and its unlock wrapper.
  const wrapper = checkWrapper(an, before, after, fix, map);
  if (wrapper) return { ok: false, reason: wrapper };
  return { ok: true, followUps };
}

function flagsOf(scopes: readonly ScopeFrame[]): PfFlag[] {
  const out: PfFlag[] = [];
  for (const s of scopes) for (const f of s.flags) if (!out.includes(f)) out.push(f);
  return out;
}

function bitsOf(names: readonly string[] | undefined, m: { lookup(n: string): number | undefined }): number {
  return (names ?? []).reduce((acc, n) => acc | (m.lookup(n) ?? 0), 0);
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** The functions of `facts` as a list with their findings (for callers that want one list). */
export function allFindings(facts: FileFacts): Finding[] {
  return facts.functions.flatMap((f) => f.findings);
}
