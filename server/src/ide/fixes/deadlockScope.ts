// Fix 3, the scope part, for a whole-program reclaim deadlock at an allocation (reclaim-deadlock,
// reclaim-frozen-queue): the scope conversion of fix 1 (scopeCandidate.ts planScope) around the critical section of
// the cycle's held lock — memalloc_nofs_save() right after the lock is taken in this function, the restore before
// every release of it on every path — under a one-line comment naming the lock and the reclaim path that takes it.
// The scope is the weakest one that clears a gfp bit the cycle's reclaim path requires (common.ts cycleBreaker): the
// NOFS pair for a path that needs __GFP_FS, the NOIO pair for one that needs only __GFP_IO (I/O to a frozen queue).
// Unlike the narrow mask fix it also covers the allocations of the section that take no mask, and those in callees.
// Refused, with the reason: a cycle whose reclaim path needs neither bit (mmu-notifier invalidation: only
// memalloc_noreclaim_save(), which is reserved for reclaim itself, would keep the allocation out), a lock this
// function does not take (a caller holds it), and whatever fix 1 refuses (a guard, a lock never released here).
// Verification checks, besides fix 1's invariants, that the allocation's effective mask lacks a required bit.
import { coveredBy, planScope } from './scopeCandidate';
import { cycleBreaker, refuse, SCOPED_SAVES } from './common';
import { deadlockSite, heldLockOf, reclaimPathOf } from './deadlockTarget';
import type { DeadlockTarget, FixBuilder } from './types';
import type { HeldLock } from '../../analysis/facts';

export const deadlockScope: FixBuilder = (input, finding) => {
  const t = finding as DeadlockTarget;
  const kb = input.analyser.kb;
  const fn = input.fn.name;
  const site = deadlockSite(input, finding);
  if (!site) return refuse(finding, 'not an allocation in this function: no critical section to scope here', 'deadlock-scope');
  const breaker = cycleBreaker(t.requires ?? [], kb);
  if (!breaker) {
    return refuse(finding, 'the cycle\'s reclaim path needs neither __GFP_FS nor __GFP_IO (any direct reclaim gets there, e.g. mmu-notifier invalidation): no memalloc_nofs/noio scope keeps this allocation out of it, only memalloc_noreclaim_save(), which is reserved for the reclaim path itself', 'deadlock-scope');
  }
  const L = heldLockOf(t);
  if (!L) return refuse(finding, 'the finding does not name the lock it holds', 'deadlock-scope');
  if (t.takenIn && t.takenIn !== fn) {
    return refuse(finding, `${L} is taken in ${t.takenIn}(), a caller of ${fn}(), not here: the scope belongs in ${t.takenIn}() after the lock is taken (or use the narrow mask fix here)`, 'deadlock-scope');
  }
  // The held lock as this function's walk sees it: taken here, at one call, on every path to the allocation.
  const per = site.paths.map((p) => [...p.held].reverse().find((h) => h.cls === L));
  if (!per.length || per.some((h) => !h)) {
    return refuse(finding, `${L} is not taken in ${fn}() on every path to the allocation (a caller holds it): the scope belongs where the lock is taken`, 'deadlock-scope');
  }
  const lock = per[0] as HeldLock;
  if (per.some((h) => h!.site.start !== lock.site.start)) return refuse(finding, `${L} is taken at different places on different paths to the allocation: write the scope by hand`, 'deadlock-scope');
  const anchor = { kind: 'lock' as const, lock };
  const noio = breaker.save === SCOPED_SAVES[1];
  const path = reclaimPathOf(t);
  const frozen = lock.kind === 'queue-freeze';
  const comment = frozen ? `${L} is frozen; reclaim I/O waits for it`
    : `${L} is held; reclaim waits for it${path ? ` via ${path}` : ''}`;
  const plan = planScope(input, finding, { kind: 'deadlock-scope', anchor, site, noio, comment: () => comment });
  if ('reason' in plan) return plan;
  const others = input.run.sites.filter((s) => s !== site && coveredBy(anchor)(s)).length;
  return [{
    kind: 'deadlock-scope', code: finding.code, target: finding,
    title: `Open a ${plan.save}() scope for the critical section of ${L} (${others + 1} allocation${others ? 's' : ''} in it${plan.turned ? `, ${plan.turned} → GFP_KERNEL` : ''})`,
    edits: plan.edits, preferred: true, confidence: 'high', fixAll: true,
    note: `the kernel's guidance (Documentation/core-api/gfp_mask-from-fs-io.rst): mark the critical section rather than the allocation; reclaim takes ${L} only with ${breaker.cleared.join(' and ')}`,
    intent: { ...plan.intent, breaks: { site: site.callee.start, without: [...(t.requires ?? []), '__GFP_DIRECT_RECLAIM'] } },
  }];
};
