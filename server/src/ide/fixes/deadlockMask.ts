// Fix 3, the narrow part, for a whole-program reclaim deadlock at an allocation (reclaim-deadlock,
// reclaim-frozen-queue): give this allocation a mask that cannot reach the reclaim path of the cycle. The path's
// requirements come from the finding (the knowledge-base entry and gates it went through: `requires`): when reclaim
// takes the lock only with __GFP_FS, GFP_NOFS breaks the cycle; only with __GFP_IO (block I/O, a frozen queue),
// GFP_NOIO; when any direct reclaim gets there (mmu-notifier invalidation, reclaim without __GFP_FS), only a mask
// without __GFP_DIRECT_RECLAIM does: GFP_NOWAIT, which may fail. The other flag bits stay.
// The scope alternative of fix 1 (memalloc_nofs_save() around the critical section) is offered by
// nofs-scope-candidate once the allocation is GFP_NOFS.
import { isBlockingComposite, refuse, rewriteOr } from './common';
import type { CandidateFix, DeadlockTarget, FixBuilder } from './types';

/** Blocking composites and what each becomes without __GFP_FS / without __GFP_IO. */
const NARROWER: Record<string, { nofs: string; noio: string }> = {
  GFP_KERNEL: { nofs: 'GFP_NOFS', noio: 'GFP_NOIO' },
  GFP_NOFS: { nofs: 'GFP_NOFS', noio: 'GFP_NOIO' },
  GFP_NOIO: { nofs: 'GFP_NOIO', noio: 'GFP_NOIO' },
};

export const deadlockMask: FixBuilder = (input, finding) => {
  const requires = (finding as DeadlockTarget).requires ?? [];
  const site = input.run.sites.find((s) => s.call.start >= finding.span.start && s.call.end <= finding.span.end);
  if (!site) return refuse(finding, 'not an allocation in this function: no mask to change here', 'deadlock-mask');
  if (!site.gfpNode) return refuse(finding, `${site.api}() takes no gfp argument here: use a scope (memalloc_nofs_save()) around the critical section`, 'deadlock-mask');
  const kb = input.analyser.kb;
  const want = requires.includes('__GFP_FS') ? 'nofs' : requires.includes('__GFP_IO') ? 'noio' : 'nowait';
  let named = 0;
  let to = '';
  const r = rewriteOr(site.gfpNode, input.snap.text, kb, (n) => {
    if (!isBlockingComposite(n, kb)) return undefined;
    named++;
    to = want === 'nowait' ? 'GFP_NOWAIT' : NARROWER[n]?.[want] ?? '';
    return to || undefined;
  });
  if (!r || named !== 1 || !to) {
    return refuse(finding, `the mask is not written as one of ${Object.keys(NARROWER).join(', ')} plus flag bits: change it where the value is set, or use a scope`, 'deadlock-mask');
  }
  if (r.after === r.before) return refuse(finding, `the mask already lacks ${requires.join(' and ')}: the cycle comes through a caller's value`, 'deadlock-mask');
  const why = want === 'nowait'
    ? 'any direct reclaim reaches the lock: only a mask without __GFP_DIRECT_RECLAIM breaks the cycle, and the allocation may then fail'
    : `reclaim takes the lock only with ${want === 'nofs' ? '__GFP_FS' : '__GFP_IO'}`;
  const fix: CandidateFix = {
    kind: 'deadlock-mask', code: finding.code, target: finding,
    title: `Use ${to} for this allocation: ${why}`,
    edits: r.edits, preferred: want !== 'nowait', confidence: want === 'nowait' ? 'low' : 'high', fixAll: false,
    note: want === 'nowait' ? 'GFP_NOWAIT fails instead of reclaiming: the caller must handle the failure' : 'a memalloc_nofs_save() scope around the critical section is the alternative the kernel prefers',
    intent: { literals: new Map([[site.callee.start, { removed: r.before & ~r.after, added: r.after & ~r.before }]]) },
  };
  return [fix];
};
