// A `.rlsim` model (docs/rlsim.md) generated from a `sleep-in-atomic` finding: the task takes the atomic sections the
// finding names (spinlocks, rwlocks, rcu_read_lock, preempt_disable, local_irq_save, … — the model language has only
// spinlocks for atomic context, so each section is one), then does what sleeps (an allocation that may reclaim, a
// sleeping lock or a sleeper), every step with the file:line it came from and a note naming the kernel function.
// The explorer stops a thread at a step that may sleep while it holds a spinlock and reports "BUG: sleeping function
// called from invalid context". A second CPU that takes the same spinlock shows the consequence: it spins forever.
// The fixed variant is one edit away: the allocation's mask GFP_ATOMIC, or (an allocator that always sleeps, a
// sleeping lock, a sleeper, a __GFP_NOFAIL allocation) the sleeping step moved before the atomic section.
// Per-function findings are read off the function's facts (the same paths the check reported); cross-function ones
// (analysis/interproc.ts crossSleepInAtomic) carry their data in `sleep`. Pure: no IO.
import type { FunctionFacts, HeldLock, Span } from '../analysis/facts';
import { hasBit, renderVal } from '../analysis/gfpValue';
import type { ChainLink, ProgramFinding } from '../analysis/interproc';
import type { GfpModel } from '../model/gfp';
import type { LockKind } from '../model/kb/types';
import type { SourceLocation, Step } from '../simulate/model';
import {
  allocMaskOf, Builder, findingId, finish, flavorOf, mask, step, wrap, type FindingModelEnv, type FindingModelKb, type FindingModelResult,
} from './findingModel';

export const SLEEP_CODE = 'sleep-in-atomic';

/** An atomic section active where the finding sleeps: a held lock that makes the context atomic. */
export interface AtomicSection {
  /** `&inode->i_lock`, `rcu_read_lock`, `preempt_disable`, `local_irq_disable` */
  cls: string;
  api: string;
  kind: LockKind;
  read: boolean;
  file: string;
  site: Span;
  /** taken by a cleanup.h guard (`guard(spinlock)(&l)`) */
  guard?: boolean;
}

/** What sleeps: an allocation (its effective mask), a sleeping lock (its class when known) or a sleeper (msleep, wait_event, …). */
export type Sleeper =
  | { kind: 'alloc'; api: string; mask: string; alwaysSleeps: boolean; file: string; span: Span; function: string }
  | { kind: 'lock'; api: string; cls?: string; file: string; span: Span; function: string }
  | { kind: 'sleeper'; api: string; file: string; span: Span; function: string };

/** A sleep-in-atomic finding with what its model needs. */
export interface SleepFinding {
  /** as `check --format json` prints it: `sleep-in-atomic:fs/demo/lock.c:demo_flush:1` */
  id: string;
  file: string;
  function: string;
  span: Span;
  message: string;
  /** the atomic sections at the sleep, outermost first */
  sections: AtomicSection[];
  sleeper: Sleeper;
  /** calls from the finding's function down to the one that sleeps (empty: it sleeps itself) */
  links: ChainLink[];
  /** the blocking mask is a gfp parameter's value, passed by a caller (the note says so) */
  passed?: string;
}

/** The knowledge base as the sleep model reads it (KbView fits): lock APIs with their operation and argument. */
export interface SleepModelKb extends FindingModelKb {
  lock(name: string): { kind: LockKind; op?: string; read?: boolean; lockArg?: number | null } | undefined;
}

export interface SleepModelEnv extends FindingModelEnv {
  kb?: SleepModelKb;
}

/** A per-function finding of the file, by id, with its data or why it has none. */
export interface FunctionSleepFinding {
  id: string;
  function: string;
  span: Span;
  data?: SleepFinding;
  problem?: string;
}

const SPINNING: readonly LockKind[] = ['spinlock', 'raw_spinlock', 'rwlock', 'seqlock', 'bitlock'];

/**
 * The sleep-in-atomic findings of one function, numbered as `check --format json` numbers them (code, file,
 * function, ordinal), each with the data of the path the check reported: the first path on which the context is
 * atomic and the operation sleeps.
 */
export function sleepFindingsOf(rel: string, fn: FunctionFacts, gfp: GfpModel): FunctionSleepFinding[] {
  const out: FunctionSleepFinding[] = [];
  const direct = gfp.lookup('__GFP_DIRECT_RECLAIM') ?? 0;
  let n = 0;
  for (const x of fn.findings) {
    if (x.code !== SLEEP_CODE) continue;
    const id = `${SLEEP_CODE}:${rel}:${fn.name}:${++n}`;
    const same = (s: Span) => s.start === x.span.start && s.end === x.span.end;
    const base = { id, function: x.function, span: x.span };
    const sectionsOf = (held: readonly HeldLock[], except: number) => held
      .filter((h) => h.atomic && h.site.start !== except)
      .map((h): AtomicSection => ({ cls: h.cls, api: h.api, kind: h.kind, read: h.read, file: rel, site: h.site, ...(h.guard ? { guard: true } : {}) }));
    const site = fn.sites.find((s) => same(s.call));
    const badSite = site?.paths.find((p) => p.atomic && (site.entry.mayAlwaysSleep || hasBit(p.effective, direct) === 'yes'));
    if (site && badSite) {
      out.push({
        ...base, data: {
          id, file: rel, function: x.function, span: x.span, message: x.message, links: [], sections: sectionsOf(badSite.held, -1),
          sleeper: { kind: 'alloc', api: site.api, mask: renderVal(badSite.effective, gfp), alwaysSleeps: !!site.entry.mayAlwaysSleep, file: rel, span: site.call, function: site.function },
        },
      });
      continue;
    }
    const call = fn.calls.find((c) => c.kind === 'sleep' && same(c.call));
    const badCall = call?.paths.find((p) => p.held.some((h) => h.atomic && h.site.start !== call.call.start));
    if (call && badCall) {
      const cls = fn.acquires.find((a) => a.span.start === call.call.start && a.api === call.api)?.cls;
      const sleeper: Sleeper = cls !== undefined || fn.acquires.some((a) => a.span.start === call.call.start)
        ? { kind: 'lock', api: call.api, ...(cls !== undefined ? { cls } : {}), file: rel, span: call.call, function: call.function }
        : { kind: 'sleeper', api: call.api, file: rel, span: call.call, function: call.function };
      out.push({ ...base, data: { id, file: rel, function: x.function, span: x.span, message: x.message, links: [], sections: sectionsOf(badCall.held, call.call.start), sleeper } });
      continue;
    }
    out.push({ ...base, problem: 'the function\'s facts do not show the reported path (the analysis changed?)' });
  }
  return out;
}

/** A cross-function finding (crossSleepInAtomic, `check --callees`) with the data its model needs, or why it has none. */
export function crossSleepFinding(f: ProgramFinding): SleepFinding | string {
  const s = f.sleep;
  const w = s?.witness;
  if (!s || !w?.sleeper) return 'the finding carries no model data';
  const id = findingId(f);
  const sp = w.sleeper;
  const sleeper: Sleeper = sp.alloc
    ? { kind: 'alloc', api: sp.api, mask: s.mask ?? sp.alloc.mask, alwaysSleeps: sp.alloc.alwaysSleeps, file: w.file, span: w.span, function: w.function }
    : sp.lock !== undefined
      ? { kind: 'lock', api: sp.api, cls: sp.lock, file: w.file, span: w.span, function: w.function }
      : { kind: 'sleeper', api: sp.api, file: w.file, span: w.span, function: w.function };
  const passed = s.callers?.length
    ? `${s.mask} passed by ${s.callers.map((l) => `${l.function}()`).join(' → ')}`
    : s.mask ? `${s.mask} passed to ${w.links[w.links.length - 1]?.callee ?? w.function}()` : w.passed;
  // The finding's call is the first link when the sleep is in a callee.
  const callee = w.links[0]?.function ?? w.function;
  const links = w.span.start === f.span.start && w.file === f.file ? w.links : [{ function: f.function, file: f.file, span: f.span, callee }, ...w.links];
  return {
    id, file: f.file, function: f.function, span: f.span, message: f.message, links, ...(passed ? { passed } : {}),
    sections: s.held.filter((h) => h.atomic).map((h) => ({ cls: h.cls, api: h.api, kind: h.kind, read: h.read, file: f.file, site: h.site, ...(h.guard ? { guard: true } : {}) })),
    sleeper,
  };
}

/** The model of a sleep-in-atomic finding and its fixed variant. */
export function sleepModel(f: SleepFinding, env: SleepModelEnv): FindingModelResult {
  if (!f.sections.length) return { ok: false, message: 'the finding names no atomic section' };
  try {
    const a = build(f, env, false);
    const b = build(f, env, true);
    return { ok: true, model: { id: f.id, title: a.title, text: a.text, fixed: b.text, fix: a.fix } };
  } catch (e) {
    return { ok: false, message: `cannot build a model of this finding: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function build(f: SleepFinding, env: SleepModelEnv, fixed: boolean): { title: string; text: string; fix: string } {
  const kb = env.kb;
  const loc = (file: string, span: Span): SourceLocation | undefined => {
    if (/[\s"]/.test(file)) return undefined;
    const line = env.line(file, span.start);
    return line >= 1 ? { file, line } : undefined;
  };
  const at = (l: SourceLocation | undefined) => (l ? `${l.file}:${l.line}` : 'an unknown line');
  const siteLoc = loc(f.file, f.span);
  const title = `${SLEEP_CODE} in ${f.function}() at ${at(siteLoc)}`;
  const b = new Builder(title);
  const header = [
    `// Generated by Reclaim Lens from the finding ${f.id}:`,
    ...wrap(f.message).map((l) => `//   ${l}`),
    '// A step that may sleep, taken while the thread holds a spinlock, never happens: the explorer stops the thread there',
    '// and reports it as CONFIG_DEBUG_ATOMIC_SLEEP does ("BUG: sleeping function called from invalid context").',
  ];

  // The sections, outermost first; a class held twice (nested rcu_read_lock) is one section.
  const sections: AtomicSection[] = [];
  for (const s of f.sections) if (!sections.some((x) => x.cls === s.cls)) sections.push(s);
  const contextOnly = sections.filter((s) => !SPINNING.includes(s.kind));
  if (contextOnly.length) {
    header.push(...wrap(`${contextOnly.map((s) => `${s.api}() (${s.kind})`).join(', ')}: the model language has no such context, so ${contextOnly.length > 1 ? 'each section is' : 'the section is'} a spinlock: holding it makes the thread atomic.`).map((l) => `// ${l}`));
  }
  const first = loc(sections[0].file, sections[0].site);
  const noArg = (s: AtomicSection) => kb?.lock(s.api)?.lockArg === null;
  const call = (s: AtomicSection) => `${s.api}(${noArg(s) ? '' : s.cls})${s.guard ? ' (a cleanup.h guard)' : ''}`;
  for (const s of sections) {
    const where = `in ${f.function}() at ${at(loc(s.file, s.site))}`;
    b.resource('spinlock', s.cls, SPINNING.includes(s.kind) ? `taken by ${s.api}() ${where}` : `the ${s.kind} section ${s.api}() begins ${where} (atomic context)`);
  }

  // What sleeps, and its step.
  const sl = f.sleeper;
  const sleepLoc = loc(sl.file, sl.span);
  const calls = f.links.length ? ` (${f.links.map((l) => `${l.function}() calls ${l.callee}() at ${at(loc(l.file, l.span))}`).join('; ')})` : '';
  const passed = f.passed ? `; ${f.passed}` : '';
  let sleepStep: Step;
  let release: Step | undefined;
  let waker: Step[] | undefined;
  let fix: string;
  let move = true;
  const atomicMask = 'GFP_ATOMIC';
  if (sl.kind === 'alloc') {
    const m = allocMaskOf(sl.mask, kb);
    const nofail = /__GFP_NOFAIL/.test(sl.mask);
    move = sl.alwaysSleeps || nofail;
    const text = fixed && !move ? atomicMask : m.text;
    const note = `${sl.function}(): ${sl.api}(${sl.mask})${calls}${passed}${m.note ? ` [${m.note}]` : ''}${fixed && !move ? ` [fixed variant: ${atomicMask}]` : ''}${fixed && move ? ' [fixed variant: before the atomic section]' : ''}`;
    sleepStep = step('alloc', { mask: mask(text), loc: sleepLoc, note });
    fix = move
      ? `the alloc step at ${at(sleepLoc)} moved before ${sections[0].api}() at ${at(first)} (${sl.alwaysSleeps ? `${sl.api}() sleeps whatever its mask` : '__GFP_NOFAIL needs a mask that may sleep'}: allocate before the atomic section, the preload idiom)`
      : `alloc ${atomicMask} at ${at(sleepLoc)} (${f.passed ? `GFP_ATOMIC passed instead of ${sl.mask}: ` : ''}GFP_ATOMIC, like GFP_NOWAIT, has no __GFP_DIRECT_RECLAIM: it never sleeps; the caller must handle failure)`;
  } else if (sl.kind === 'lock') {
    const entry = kb?.lock(sl.api);
    const flavor = flavorOf(entry?.kind, sl.api, kb);
    const res = b.resource(flavor === 'rwsem' ? 'rwsem' : 'mutex', sl.cls ?? `lock-of-${sl.api}`, `taken by ${sl.api}() in ${sl.function}() at ${at(sleepLoc)}; it may sleep`);
    const read = flavor === 'rwsem' && !!entry?.read;
    sleepStep = step(read ? 'rlock' : 'lock', {
      resource: res, loc: sleepLoc,
      note: `${sl.function}(): ${sl.api}(${sl.cls ?? ''}) may sleep${calls}${fixed ? ' [fixed variant: before the atomic section]' : ''}`,
    });
    release = step('unlock', { resource: res, note: `${sl.cls ?? 'the lock'} is released (where is not recorded)` });
    fix = `the ${read ? 'rlock' : 'lock'} step at ${at(sleepLoc)} moved before ${sections[0].api}() at ${at(first)} (take ${sl.cls ?? 'the sleeping lock'} before the atomic section)`;
  } else {
    const res = b.resource('completion', `wakeup(${sl.api})`, `whatever ends ${sl.api}(): the timer, the event or the completion it waits for`);
    sleepStep = step('wait', {
      resource: res, loc: sleepLoc,
      note: `${sl.function}(): ${sl.api}() sleeps until woken${calls}${fixed ? ' [fixed variant: before the atomic section]' : ''}`,
    });
    waker = [step('signal', { resource: res, note: `wakes ${sl.api}()` })];
    fix = `the wait step at ${at(sleepLoc)} moved before ${sections[0].api}() at ${at(first)} (sleep outside the atomic section)`;
  }

  // The task: the sections, the sleep, the sections released innermost first.
  const steps: Step[] = [];
  if (fixed && move) steps.push(sleepStep);
  for (const s of sections) {
    const op = kb?.lock(s.api)?.op === 'trylock' ? 'trylock' : 'lock';
    steps.push(step(op, { resource: s.cls, loc: loc(s.file, s.site), note: `${f.function}(): ${call(s)}` }));
  }
  if (!(fixed && move)) steps.push(sleepStep);
  [...sections].reverse().forEach((s, i) => steps.push(step('unlock', { resource: s.cls, ...(i === sections.length - 1 ? { note: 'end of the atomic section' } : {}) })));
  if (release) steps.push(release);
  const inner = sections[sections.length - 1];
  b.thread(f.function, 'task', steps, { loc: first, note: `${f.function}() ${f.links.length ? `reaches ${sl.api}() through ${f.links[0].callee}()` : `calls ${sl.api}()`} in the atomic section of ${call(inner)}` });

  // Another CPU that takes the innermost spinning lock spins while the holder sleeps with it held.
  const spun = [...sections].reverse().find((s) => SPINNING.includes(s.kind));
  if (spun) {
    b.thread('other-cpu', 'task', [
      step('lock', { resource: spun.cls, note: `another CPU takes ${spun.cls} and spins until the holder, asleep with it held and preemption off, runs again` }),
      step('unlock', { resource: spun.cls }),
    ], { note: `contends for ${spun.cls}` });
  }
  if (waker) b.thread('waker', 'kthread', waker, { note: `whatever wakes ${sl.api}() (a timer, wake_up(), complete())` });
  return { title, text: finish(header, fix, b.model), fix };
}
