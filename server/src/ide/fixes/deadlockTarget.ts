// Whole-program deadlock findings as targets of the fixes (FixRequest.extra): what the fixes need of a finding of the
// deadlock pass (analysis/deadlock) — the gfp bits its reclaim path requires, the held lock, who takes it and the
// reclaim path that takes it — and, for a target that carries only the finding's message (the language server
// passes the diagnostic), the same read off the message detect.ts writes.
import type { DeadlockFinding } from '../../analysis/deadlock/detect';
import type { Finding } from '../../analysis/facts';
import { deadlockRequires } from '../programDiagnostics';
import type { DeadlockTarget, FixInput } from './types';

/** A deadlock finding of the whole-program pass (cli: findDeadlocks) as a fix target, offsets into its file. */
export function deadlockTargetOf(f: DeadlockFinding): DeadlockTarget {
  const t = f.parts?.take;
  const callback = t?.binding?.fn ?? t?.steps[0]?.function;
  const via = t?.entry ? (t.entry.struct ? `${t.entry.struct}.${t.entry.field}` : `->${t.entry.field}`) : t?.cross ? t.cross.name : t?.via;
  const reclaim = callback ? `${callback}()${via ? ` (${via})` : ''}` : via;
  return {
    code: f.code, severity: f.severity, span: { start: f.span.start, end: f.span.end }, message: f.message, function: f.function,
    related: [], requires: deadlockRequires(f),
    ...(f.cycle[0] ? { held: f.cycle[0] } : {}),
    ...(f.parts?.held.function ? { takenIn: f.parts.held.function } : {}),
    ...(reclaim ? { reclaim } : {}),
  };
}

/** The held lock of the cycle: the target's, else the one the message names (`… while L is held`, `… while L is frozen`). */
export function heldLockOf(t: DeadlockTarget): string | undefined {
  return t.held ?? /\bwhile (\S+) is (?:held|frozen)\b/.exec(t.message)?.[1];
}

/**
 * The reclaim path, for the scope's comment: the target's, else the function that takes the lock in the path the
 * message prints (`via … → do_shrink_slab → demo_scan → mutex_lock (fs/demo/shrinker.c:9)`: demo_scan()).
 */
export function reclaimPathOf(t: DeadlockTarget): string | undefined {
  if (t.reclaim) return t.reclaim;
  const m = /\bvia (.+?) \([^()]*:\d+\)/.exec(t.message);
  const names = m ? m[1].split(' → ').filter((n) => n !== '…' && /^[A-Za-z_]\w*$/.test(n)) : [];
  const fn = names.length >= 2 ? names[names.length - 2] : names[0];
  return fn ? `${fn}()` : undefined;
}

/** The allocation of a deadlock finding in the function's walk (the finding spans the call). */
export function deadlockSite(input: FixInput, finding: Finding): FixInput['run']['sites'][number] | undefined {
  return input.run.sites.find((s) => s.call.start >= finding.span.start && s.call.end <= finding.span.end);
}
