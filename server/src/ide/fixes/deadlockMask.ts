// Fix 3, the narrow part, for a whole-program reclaim deadlock at an allocation (reclaim-deadlock,
// reclaim-frozen-queue): give this allocation a mask that cannot reach the reclaim path of the cycle. The path's
// requirements come from the finding (the knowledge-base entry and gates it went through: `requires`). The new mask
// is the old one as the weakest memalloc scope that clears a required bit would narrow it (common.ts cycleBreaker:
// the scope APIs' flags from the knowledge base, current_gfp_context() from the gfp model): a path that needs
// __GFP_FS gets GFP_NOFS, one that needs only __GFP_IO (block I/O, a frozen queue) GFP_NOIO, GFP_KERNEL_ACCOUNT becomes
// GFP_NOFS | __GFP_ACCOUNT. When any direct reclaim gets there (mmu-notifier invalidation, reclaim without __GFP_FS)
// only a mask without __GFP_DIRECT_RECLAIM does: GFP_NOWAIT, which may fail, at low confidence. The other flag bits
// stay. The scope alternative (deadlockScope.ts) comes first and is preferred when it is offered.
import { cycleBreaker, isBlockingComposite, narrowedName, refuse, rewriteOr } from './common';
import { deadlockSite } from './deadlockTarget';
import type { CandidateFix, DeadlockTarget, FixBuilder } from './types';

export const deadlockMask: FixBuilder = (input, finding) => {
  const requires = (finding as DeadlockTarget).requires ?? [];
  const site = deadlockSite(input, finding);
  if (!site) return refuse(finding, 'not an allocation in this function: no mask to change here', 'deadlock-mask');
  if (!site.gfpNode) return refuse(finding, `${site.api}() takes no gfp argument here: use a scope (memalloc_nofs_save()) around the critical section`, 'deadlock-mask');
  const kb = input.analyser.kb;
  const breaker = cycleBreaker(requires, kb);
  let named = 0;
  let to = '';
  const r = rewriteOr(site.gfpNode, input.snap.text, kb, (n) => {
    if (!isBlockingComposite(n, kb)) return undefined;
    named++;
    to = (breaker ? narrowedName(n, breaker.flags, kb) : 'GFP_NOWAIT') ?? '';
    return to || undefined;
  });
  if (!r || named !== 1 || !to) {
    return refuse(finding, 'the mask is not written as one blocking GFP_* name plus flag bits: change it where the value is set, or use a scope', 'deadlock-mask');
  }
  if (r.after === r.before) return refuse(finding, `the mask already lacks ${breaker?.cleared.join(' and ') ?? '__GFP_DIRECT_RECLAIM'}: the cycle comes through a caller's value`, 'deadlock-mask');
  const why = !breaker
    ? 'any direct reclaim reaches the lock: only a mask without __GFP_DIRECT_RECLAIM breaks the cycle, and the allocation may then fail'
    : `reclaim takes the lock only with ${breaker.cleared.join(' and ')}`;
  const fix: CandidateFix = {
    kind: 'deadlock-mask', code: finding.code, target: finding,
    title: `Use ${to} for this allocation: ${why}`,
    // Preferred when the scope fix (listed first) is not offered; never GFP_NOWAIT, whose failure the caller must handle.
    edits: r.edits, preferred: !!breaker, confidence: breaker ? 'high' : 'low', fixAll: !!breaker,
    note: !breaker ? 'GFP_NOWAIT fails instead of reclaiming: the caller must handle the failure' : `a ${breaker.save}() scope around the critical section is the alternative the kernel prefers`,
    intent: {
      literals: new Map([[site.callee.start, { removed: r.before & ~r.after, added: r.after & ~r.before }]]),
      breaks: { site: site.callee.start, without: [...requires, '__GFP_DIRECT_RECLAIM'] },
    },
  };
  return [fix];
};
