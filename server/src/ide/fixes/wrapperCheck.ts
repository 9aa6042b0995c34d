// The invariants of a scope opened inside a lock wrapper (wrapperScope.ts), checked by verify.ts on the re-analysis
// of the edited file, beyond those every fix must keep:
//   1. the lock wrapper still returns holding the lock on every path, now with the scope open on every path (its
//      callers see it as a scope opener whose cookie is the new field), and each unlock wrapper releases the lock and
//      restores that cookie (a scope closer);
//   2. the lock is taken in the file only in the lock wrapper, and released only in the unlock wrappers;
//   3. no lock wrapper is called (and the lock wrapper takes the lock) with the lock already held: nesting would
//      save over the cookie;
//   4. on every path of every allocation and every call of the file, the lock is held (by a call) exactly when the new
//      scope is open: it opens with the lock and closes with it;
//   5. no allocation's effective mask gains __GFP_FS on a path where the lock is held.
import type { CallSite, FunctionFacts, PathFacts, ScopeFrame } from '../../analysis/facts';
import { analyseFunctions } from '../../analysis/functionAnalysis';
import { hasBit } from '../../analysis/gfpValue';
import { lineOf } from '../../analysis/lines';
import { listFunctions } from '../../syntax/ast';
import { heldByCall, lockCallsOf } from './wrapperScope';
import type { Analyser, CandidateFix, Snapshot } from './types';

export function checkWrapper(an: Analyser, before: Snapshot, after: Snapshot, fix: CandidateFix, map: (o: number) => number): string | undefined {
  const w = fix.intent.wrapper;
  if (!w) return undefined;
  const kb = an.kb;
  const { cls, field } = w;
  const line = (o: number) => lineOf(after, o);
  const ownCookie = (c: string | undefined) => !!c && (c.endsWith(`->${field}`) || c.endsWith(`.${field}`));
  const isNew = (f: ScopeFrame) => ownCookie(f.cookie) && f.family === w.family;
  const holds = (p: PathFacts) => p.held.some((h) => h.cls === cls && heldByCall(h, kb));

  // 1. What the callers see of the wrappers after the edit.
  const infos = listFunctions(after.file);
  const { callees } = analyseFunctions(infos, after.file, kb);
  for (const l of w.lockFns) {
    const e = callees.get(l)?.effects ?? [];
    if (!e.some((x) => x.op === 'acquire' && 'held' in x && x.held.cls === cls)) return `${l}() would no longer return holding ${cls} on every path`;
    if (!e.some((x) => x.op === 'scope-open' && x.frame.family === w.family && ownCookie(x.frame.cookie))) return `${l}() would not return with the scope open (cookie ${field}) on every path`;
  }
  for (const u of w.unlockFns) {
    const e = callees.get(u)?.effects ?? [];
    if (!e.some((x) => x.op === 'release' && 'cls' in x && x.cls === cls)) return `${u}() would no longer release ${cls} for its callers`;
    if (!e.some((x) => x.op === 'scope-close' && ownCookie(x.cookie))) return `${u}() would not restore the scope's cookie (${field})`;
  }
  const lockers = new Set([...callees].filter(([, e]) => e.effects.some((x) => x.op === 'acquire' && 'held' in x && x.held.cls === cls)).map(([n]) => n));

  // 2 and 3: every acquisition in the lock wrapper, not nested; every release in an unlock wrapper.
  for (const fn of after.facts.functions) {
    for (const a of fn.acquires) {
      if (a.cls !== cls || a.declared) continue;
      if (!w.lockFns.includes(fn.name)) return `${fn.name}() takes ${cls} directly (${a.api}() at line ${line(a.span.start)}), not through ${w.lockFns.join('/')}()`;
      if (a.heldBefore.includes(cls)) return `${fn.name}() takes ${cls} at line ${line(a.span.start)} while holding it: the second save would overwrite the cookie`;
    }
    for (const c of fn.callSites) {
      if (lockers.has(c.callee) && c.paths.some((p) => p.held.some((h) => h.cls === cls))) {
        return `${c.callee}() is called with ${cls} already held in ${fn.name}() (line ${line(c.span.start)}): the second save would overwrite the cookie`;
      }
    }
  }
  for (const c of lockCallsOf(infos, kb, cls)) {
    if (c.op === 'release' && !w.unlockFns.includes(c.fn.name)) return `${c.fn.name}() releases ${cls} directly (line ${line(c.call.startIndex)}), not through ${w.unlockFns.join('/')}()`;
    if (c.op !== 'release' && !w.lockFns.includes(c.fn.name)) return `${c.fn.name}() takes ${cls} directly (line ${line(c.call.startIndex)}), not through ${w.lockFns.join('/')}()`;
  }

  // 4. The scope is open exactly where the lock is held.
  const mismatch = (fn: FunctionFacts, paths: readonly PathFacts[], at: number, what: string): string | undefined => {
    const p = paths.find((x) => holds(x) !== x.scopes.some(isNew));
    if (!p) return undefined;
    return holds(p)
      ? `${what} at line ${line(at)} in ${fn.name}() would run holding ${cls} outside the scope on some path`
      : `${what} at line ${line(at)} in ${fn.name}() would run inside the scope without ${cls} held on some path (the scope would outlive the lock)`;
  };
  for (const fn of after.facts.functions) {
    for (const s of fn.sites) {
      const why = mismatch(fn, s.paths, s.callee.start, `the ${s.api}()`);
      if (why) return why;
    }
    for (const c of fn.callSites as CallSite[]) {
      const why = mismatch(fn, c.paths, c.span.start, `the call to ${c.callee}()`);
      if (why) return why;
    }
  }

  // 5. No allocation gains __GFP_FS where the lock is held.
  const FS = kb.gfp.lookup('__GFP_FS') ?? 0;
  const afterSites = new Map<number, { paths: readonly (PathFacts & { effective: Parameters<typeof hasBit>[0] })[] }>();
  for (const fn of after.facts.functions) for (const s of fn.sites) afterSites.set(s.callee.start, s);
  const mayFs = (paths: readonly (PathFacts & { effective: Parameters<typeof hasBit>[0] })[]) => paths.some((p) => holds(p) && hasBit(p.effective, FS) !== 'no');
  for (const fn of before.facts.functions) {
    for (const s of fn.sites) {
      const a = afterSites.get(map(s.callee.start));
      if (a && mayFs(a.paths) && !mayFs(s.paths)) return `the ${s.api}() at line ${line(map(s.callee.start))} would gain __GFP_FS while ${cls} is held`;
    }
  }
  return undefined;
}
