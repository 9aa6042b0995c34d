// Quick fixes for the scoped memalloc APIs, each verified by re-analysis before it is offered (verify.ts).
// codeFixes(): the verified fixes (and the refusals, with reasons) for the findings in a range, for code actions.
// fixAll(): applies verified fixes one at a time, re-analysing after each, until none is left (fix-all, --fix).
// Pure: parse and analysis come in through an Analyser (ide/host.ts makes one); no IO.
import type { Parser } from 'web-tree-sitter';
import type { FileFacts, Finding, FunctionFacts } from '../../analysis/facts';
import { analyseFunction, analyseFunctions, type CalleeEffects, type FunctionRun } from '../../analysis/functionAnalysis';
import { analyseFile } from '../../analysis/fileAnalysis';
import type { KbView } from '../../analysis/kbView';
import { lineOf } from '../../analysis/lines';
import { listFunctions, type FunctionInfo } from '../../syntax/ast';
import { parseSource } from '../../syntax/sourceFile';
import { atomicMask } from './atomicMask';
import { preloadMove } from './preloadMove';
import { closeScope } from './closeScope';
import { offsetMapper, type TextEdit } from './edits';
import { narrowOr } from './narrowOr';
import { redundantNofs } from './redundantNofs';
import { scopeCandidate } from './scopeCandidate';
import { wrapperScope } from './wrapperScope';
import type { Analyser, CallerOracle, CandidateFix, DeadlockTarget, FixBuilder, Refusal, Snapshot, VerifiedFix } from './types';
import { unnecessaryNofs } from './unnecessaryNofs';
import { deadlockMask } from './deadlockMask';
import { deadlockScope } from './deadlockScope';
import { deadlockSite } from './deadlockTarget';
import { hasBit, renderVal } from '../../analysis/gfpValue';
import { snapshotOf, verify } from './verify';

export type { Analyser, CallerOracle, CallerVerdict, CandidateFix, DeadlockTarget, FixKind, Refusal, VerifiedFix } from './types';
export type { TextEdit } from './edits';
export { applyEdits } from './edits';
export { deadlockTargetOf } from './deadlockTarget';

/**
 * The builders of each code, in the order their fixes are listed; of a finding's verified fixes only the first that
 * its builder marks preferred stays preferred, and fix-all applies the first verified one marked fixAll.
 */
const BUILDERS: Readonly<Record<string, readonly FixBuilder[]>> = {
  'scope-unbalanced': [closeScope],
  'gfp-or-ineffective': [narrowOr],
  'nofs-redundant': [redundantNofs],
  'nofs-scope-candidate': [scopeCandidate, wrapperScope],
  'nofs-unnecessary': [unnecessaryNofs],
  'sleep-in-atomic': [atomicMask, preloadMove],
};

/**
 * Fixes for whole-program findings handed in through FixRequest.extra (fix 3): the scope around the held lock's
 * critical section first (the kernel's preference), then the narrow mask.
 */
const PROGRAM_BUILDERS: Readonly<Record<string, readonly FixBuilder[]>> = {
  'reclaim-deadlock': [deadlockScope, deadlockMask],
  'reclaim-frozen-queue': [deadlockScope, deadlockMask],
};
export const PROGRAM_FIXABLE_CODES: readonly string[] = Object.keys(PROGRAM_BUILDERS);

/** Codes with quick fixes, in the order fix-all applies them (balanced scopes first: other fixes require them). */
export const FIXABLE_CODES: readonly string[] = Object.keys(BUILDERS);
/**
 * Codes fix-all and `check --fix` apply when none is named: those whose fixes are of high confidence.
 * sleep-in-atomic offers alternatives (a choice); nofs-unnecessary is of lower confidence and applied only when named
 * (and then only where the whole program's calling contexts are known and clean).
 */
export const FIX_ALL_CODES: readonly string[] = FIXABLE_CODES.filter((c) => c !== 'sleep-in-atomic' && c !== 'nofs-unnecessary');

/** An Analyser over a parser and the knowledge base (incremental reparse of the previous snapshot's tree). */
export function createAnalyser(parser: Parser, kbFor: (kernelVersion: string) => KbView, kernelVersion: string): Analyser {
  const kb = kbFor(kernelVersion);
  return {
    kb, kernelVersion,
    parse: (text, previous) => parseSource(parser, text, previous),
    analyse: (file) => analyseFile(file, kb, { kernelVersion, disabledChecks: [] }),
  };
}

export interface FixRequest {
  /** codes to fix (default: every fixable code) */
  codes?: readonly string[];
  /** only findings whose span intersects this range */
  range?: { start: number; end: number };
  /** what calling contexts say (nofs-unnecessary); default: the file's own call graph */
  callers?: CallerOracle;
  /**
   * whole-program findings in this file that the file's facts do not hold (the workspace index's or the CLI's reclaim
   * deadlocks), fixed by PROGRAM_BUILDERS; fix-all applies them only when their code is named in `codes`
   */
  extra?: readonly DeadlockTarget[];
}

/** Per snapshot: the function list and callee lock effects, and each function's walk on demand. */
class Walks {
  readonly infos: FunctionInfo[];
  readonly callees: CalleeEffects;
  private readonly runs = new Map<number, FunctionRun>();
  constructor(private readonly snap: Snapshot, private readonly kb: KbView) {
    this.infos = listFunctions(snap.file);
    // The same callee effects as the file's analysis (annotations and wrappers derived from code), so a fix is
    // verified against the walk that reported the finding.
    const { runs, callees } = analyseFunctions(this.infos, snap.file, kb);
    this.callees = callees;
    runs.forEach((run, i) => run && this.runs.set(this.infos[i].node.startIndex, run));
  }
  of(fn: FunctionFacts): { info: FunctionInfo; run: FunctionRun } | undefined {
    const info = this.infos.find((i) => i.node.startIndex === fn.span.start && i.name === fn.name);
    if (!info) return undefined;
    let run = this.runs.get(info.node.startIndex);
    if (!run) this.runs.set(info.node.startIndex, (run = analyseFunction(info, this.snap.file, this.kb, this.callees)));
    return { info, run };
  }
}

/** The candidate fixes of every builder of the finding's code, in order, and the builders' refusals. */
interface Candidates {
  cands: CandidateFix[];
  refused: Refusal[];
  /** the index of the builder each candidate and refusal came from (its place in the preference order) */
  rank: Map<CandidateFix | Refusal, number>;
}

function candidatesFor(an: Analyser, snap: Snapshot, walks: Walks, fn: FunctionFacts, f: Finding, callers: CallerOracle, builders = BUILDERS): Candidates {
  const list = builders[f.code];
  const no = (reason: string): Candidates => ({ cands: [], refused: [{ code: f.code, target: f, reason }], rank: new Map() });
  if (!list?.length) return no('no quick fix for this code');
  if (fn.hasError) return no(`${fn.name}() has a syntax error: its analysis cannot verify a fix`);
  const w = walks.of(fn);
  if (!w) return no('the function is not found in the syntax tree');
  const out: Candidates = { cands: [], refused: [], rank: new Map() };
  list.forEach((builder, i) => {
    try {
      const r = builder({ analyser: an, snap, fn, info: w.info, run: w.run, callers, file: { infos: walks.infos, callees: walks.callees } }, f);
      for (const x of Array.isArray(r) ? r : [r]) out.rank.set(x, i);
      if (Array.isArray(r)) out.cands.push(...r);
      else out.refused.push(r);
    } catch (e) {
      const x = { code: f.code, target: f, reason: `internal: ${e instanceof Error ? e.message : String(e)}` };
      out.rank.set(x, i);
      out.refused.push(x);
    }
  });
  return out;
}

/** Of one finding's verified fixes, only the first one marked preferred stays preferred. */
function onePreferred(fixes: VerifiedFix[]): VerifiedFix[] {
  let seen = false;
  return fixes.map((f) => {
    if (!f.preferred) return f;
    if (seen) return { ...f, preferred: false };
    seen = true;
    return f;
  });
}

/** The verified fixes for the findings in a text (or in a range of it), with the reasons for those not offered. */
export function codeFixes(an: Analyser, text: string, req: FixRequest = {}): { fixes: VerifiedFix[]; refused: Refusal[]; findings: Finding[] } {
  const codes = req.codes ?? FIXABLE_CODES;
  const callers = req.callers ?? fileCallers;
  const snap = snapshotOf(an, text);
  const fixes: VerifiedFix[] = [];
  const refused: Refusal[] = [];
  const findings: Finding[] = [];
  const offer = (c: Candidates, f: Finding) => {
    refused.push(...c.refused);
    const mine: VerifiedFix[] = [];
    for (const cand of c.cands) {
      const v = verify(an, snap, cand);
      if (v.ok) {
        v.after.file.dispose();
        mine.push({ ...cand, followUps: v.followUps });
      } else refused.push({ code: cand.code, kind: cand.kind, target: f, reason: v.reason });
    }
    fixes.push(...onePreferred(mine));
  };
  try {
    const walks = new Walks(snap, an.kb);
    for (const fn of snap.facts.functions) {
      for (const f of fn.findings) {
        if (!codes.includes(f.code)) continue;
        if (req.range && (f.span.end < req.range.start || f.span.start > req.range.end)) continue;
        findings.push(f);
        offer(candidatesFor(an, snap, walks, fn, f, callers), f);
      }
    }
    for (const f of req.extra ?? []) {
      if (!PROGRAM_BUILDERS[f.code]) continue;
      if (req.range && (f.span.end < req.range.start || f.span.start > req.range.end)) continue;
      const fn = snap.facts.functions.find((x) => x.span.start <= f.span.start && f.span.end <= x.span.end);
      if (!fn) {
        refused.push({ code: f.code, target: f, reason: 'the finding is not inside a function of this text (the file changed since the workspace index saw it)' });
        continue;
      }
      findings.push(f);
      offer(candidatesFor(an, snap, walks, fn, f, callers, PROGRAM_BUILDERS), f);
    }
  } finally {
    snap.file.dispose();
  }
  return { fixes, refused, findings };
}

export interface AppliedFix {
  fix: VerifiedFix;
  /** where the fix's finding was, as an offset into the final text */
  at: number;
  /** why the fixes listed before it for the same finding (the scope of a deadlock fix) were not applied */
  passedOver: Refusal[];
}

export interface FixAllResult {
  text: string;
  applied: AppliedFix[];
  /** findings of the requested codes left unfixed, with the reason (offsets into the final text) */
  refused: (Refusal & { at: number })[];
  /**
   * whole-program findings (FixRequest.extra) that a fix applied before them already resolved: a scope opened for
   * another allocation of the same critical section now keeps this one out of the cycle too (offsets into the final text)
   */
  resolved: { target: Finding; at: number; reason: string }[];
  /** the analysis of the final text */
  facts: FileFacts;
}

/**
 * Applies the verified fixes of the requested codes one at a time, re-analysing after each (the verification's
 * analysis of the result is the next round's starting point), until no finding of those codes has a fix left.
 * Only fixes marked fixAll are applied, the first of a finding's that verifies; sleep-in-atomic alternatives never
 * are. Whole-program findings (req.extra) are fixed after the file's own, when their code is named in req.codes;
 * their offsets are carried through every applied edit.
 */
export function fixAll(an: Analyser, text: string, req: FixRequest = {}, maxFixes = 500): FixAllResult {
  const codes = (req.codes ?? FIX_ALL_CODES).filter((c) => BUILDERS[c]);
  const programCodes = (req.codes ?? []).filter((c) => PROGRAM_BUILDERS[c]);
  const callers = req.callers ?? fileCallers;
  let snap = snapshotOf(an, text);
  const applied: AppliedFix[] = [];
  const refused: (Refusal & { at: number })[] = [];
  const resolved: FixAllResult['resolved'] = [];
  let pending: DeadlockTarget[] = (req.extra ?? []).filter((t) => programCodes.includes(t.code)).map((t) => ({ ...t, span: { ...t.span } }));
  const key = (code: string, fn: string, at: number) => `${code}\u0000${fn}\u0000${at}`;
  let skip = new Set<string>();
  try {
    for (let n = 0; n < maxFixes; n++) {
      const walks = new Walks(snap, an.kb);
      const round: { done?: { fix: VerifiedFix; after: Snapshot; passedOver: Refusal[] } } = {};
      /** The first verified fixAll candidate of a finding, else its refusals. */
      const attempt = (f: Finding, c: Candidates): boolean => {
        const auto = c.cands.filter((x) => x.fixAll);
        if (!auto.length) {
          refused.push(...c.refused.map((x) => ({ ...x, at: f.span.start })));
          if (c.cands.length) refused.push({ code: f.code, target: f, at: f.span.start, reason: `offered as a choice in the editor, not applied automatically: ${c.cands[0].note ?? c.cands[0].title}` });
          else if (!c.refused.length) refused.push({ code: f.code, target: f, at: f.span.start, reason: 'no fix' });
          return false;
        }
        const failed: Refusal[] = [];
        for (const cand of auto) {
          const v = verify(an, snap, cand);
          if (v.ok) {
            // What came before it in the list and was not offered (builders list their fixes in preference order).
            const before = c.refused.filter((x) => (c.rank.get(x) ?? 0) < (c.rank.get(cand) ?? 0));
            round.done = { fix: { ...cand, followUps: v.followUps }, after: v.after, passedOver: [...before, ...failed] };
            return true;
          }
          failed.push({ code: f.code, kind: cand.kind, target: f, reason: v.reason });
        }
        refused.push(...[...c.refused, ...failed].map((x) => ({ ...x, at: f.span.start })));
        return false;
      };
      outer: for (const code of codes) {
        for (const fn of snap.facts.functions) {
          for (const f of fn.findings) {
            if (f.code !== code || skip.has(key(f.code, f.function, f.span.start))) continue;
            skip.add(key(f.code, f.function, f.span.start));
            if (attempt(f, candidatesFor(an, snap, walks, fn, f, callers))) break outer;
          }
        }
      }
      while (!round.done && pending.length) {
        const t = pending.shift()!;
        const fn = snap.facts.functions.find((x) => x.span.start <= t.span.start && t.span.end <= x.span.end);
        if (!fn) {
          refused.push({ code: t.code, target: t, at: t.span.start, reason: 'the finding is not inside a function of this text (the file changed since the whole-program pass saw it)' });
          continue;
        }
        const why = applied.length ? alreadyBroken(an, snap, walks, fn, t) : undefined;
        if (why) {
          resolved.push({ target: t, at: t.span.start, reason: why });
          continue;
        }
        attempt(t, candidatesFor(an, snap, walks, fn, t, callers, PROGRAM_BUILDERS));
      }
      const fixed = round.done;
      if (!fixed) break;
      // Move every remembered offset into the new text.
      const map = offsetMapper(fixed.fix.edits);
      for (const a of applied) a.at = map(a.at);
      for (const r of refused) r.at = map(r.at);
      for (const r of resolved) r.at = map(r.at);
      pending = pending.map((t) => ({ ...t, span: { start: map(t.span.start), end: map(t.span.end) } }));
      skip = new Set([...skip].map((k) => {
        const [c, fnName, at] = k.split('\u0000');
        return key(c, fnName, map(Number(at)));
      }));
      applied.push({ fix: fixed.fix, at: map(fixed.fix.target.span.start), passedOver: fixed.passedOver });
      snap.file.dispose();
      snap = fixed.after;
    }
    return { text: snap.text, applied, refused, resolved, facts: snap.facts };
  } finally {
    snap.file.dispose();
  }
}

/**
 * Why a whole-program deadlock needs no fix of its own any more: after earlier fixes, every path's effective mask at
 * its allocation lacks a bit the cycle's reclaim path requires (a scope opened for another allocation of the section).
 */
function alreadyBroken(an: Analyser, snap: Snapshot, walks: Walks, fn: FunctionFacts, t: DeadlockTarget): string | undefined {
  const w = walks.of(fn);
  if (!w) return undefined;
  const site = deadlockSite({ run: w.run } as Parameters<typeof deadlockSite>[0], t);
  const m = an.kb.gfp;
  const bits = [...t.requires, '__GFP_DIRECT_RECLAIM'].map((b) => m.lookup(b) ?? 0).filter((b) => b !== 0);
  if (!site?.paths.length || !site.paths.every((p) => bits.some((b) => hasBit(p.effective, b) === 'no'))) return undefined;
  const masks = [...new Set(site.paths.map((p) => renderVal(p.effective, m)))].join(' | ');
  const scope = site.paths[0].scopes.at(-1);
  return `resolved by an earlier fix: the allocation now gets ${masks}${scope ? ` (inside ${scope.api}() at line ${lineOf(snap, scope.site.start)})` : ''}, which the cycle's reclaim path does not admit`;
}

/** One edit that turns `before` into `after` (common prefix and suffix kept): for clients that want a single edit. */
export function wholeEdit(before: string, after: string): TextEdit | undefined {
  if (before === after) return undefined;
  let p = 0;
  while (p < before.length && p < after.length && before[p] === after[p]) p++;
  let s = 0;
  while (s < before.length - p && s < after.length - p && before[before.length - 1 - s] === after[after.length - 1 - s]) s++;
  return { start: p, end: before.length - s, newText: after.slice(p, after.length - s) };
}

// ---------------------------------------------------------------------------------------------------------------
// Calling contexts within one file (the editor's view; the CLI passes the whole program's)

/**
 * nofs-unnecessary needs every calling context free of locks and scopes. One file cannot show that: its functions may
 * be called from other files, through ops tables, from reclaim or writeback. So within a file the verdict is dirty when
 * a caller in the file (directly or further up) holds a lock or has a scope open, and otherwise unknown, with what is
 * known in the reason; only the whole program's calling contexts (the CLI) can say clean.
 */
export const fileCallers: CallerOracle = (fn, file) => {
  const facts = file.facts;
  const seen = new Set<string>([fn.name]);
  const queue: FunctionFacts[] = [fn];
  let sites = 0;
  while (queue.length) {
    const g = queue.shift()!;
    for (const h of facts.functions) {
      for (const c of h.callSites) {
        if (c.callee !== g.name) continue;
        if (g === fn) sites++;
        const bad = c.paths.find((p) => p.held.length > 0 || p.scopes.length > 0);
        if (bad) {
          const what = bad.held.length ? `holding ${bad.held[bad.held.length - 1].cls}` : `inside ${bad.scopes[bad.scopes.length - 1].api}()`;
          return { verdict: 'dirty', reason: `${h.name}() calls ${g.name}() ${what} at line ${lineOf(file, c.span.start)}` };
        }
        if (!seen.has(h.name) && seen.size < 64) {
          seen.add(h.name);
          queue.push(h);
        }
      }
    }
  }
  const why = !fn.isStatic ? `${fn.name}() is not static`
    : addressTaken(fn.name, file.text) ? `the address of ${fn.name}() is taken (an ops table or a callback)`
    : sites === 0 ? `${fn.name}() has no caller in this file` : 'callers further up may be in other files or reached from reclaim';
  return {
    verdict: 'unknown',
    reason: `${sites ? `its ${sites} call site${sites === 1 ? '' : 's'} in this file hold${sites === 1 ? 's' : ''} no lock and open${sites === 1 ? 's' : ''} no scope, but ` : ''}${why}`,
  };
};

/** The name appears other than as a call or a declaration (`name(`): `.op = name`, `register(name)`. */
function addressTaken(name: string, text: string): boolean {
  let uses = 0;
  let calledOrDeclared = 0;
  for (const m of text.matchAll(new RegExp(`\\b${name}\\b(\\s*\\()?`, 'g'))) {
    uses++;
    if (m[1]) calledOrDeclared++;
  }
  return uses > calledOrDeclared;
}
