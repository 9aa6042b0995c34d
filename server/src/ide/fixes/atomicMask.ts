// Fix 3, the narrow part (sleep-in-atomic at an allocation): in atomic context, replace the blocking composite of
// the mask by GFP_ATOMIC (may dip into reserves) or GFP_NOWAIT (fails early, for callers with a fallback); the
// other flag bits stay. Two alternatives, neither preferred, never applied by fix-all: the choice is the author's.
// Allocators that always sleep (vmalloc) get no fix.
import { isBlockingComposite, refuse, rewriteOr } from './common';
import type { CandidateFix, FixBuilder } from './types';


export const atomicMask: FixBuilder = (input, finding) => {
  const site = input.run.sites.find((s) => s.call.start === finding.span.start && s.call.end === finding.span.end);
  if (!site) return refuse(finding, 'not an allocation (a sleeping lock or a sleeper): no mask to change', 'atomic-mask');
  if (site.entry.mayAlwaysSleep) return refuse(finding, `${site.api}() always may sleep, whatever the mask: move it out of the atomic section`, 'atomic-mask');
  if (!site.gfpNode) return refuse(finding, `${site.api}() takes no gfp argument here`, 'atomic-mask');
  const kb = input.analyser.kb;
  const out: CandidateFix[] = [];
  for (const to of ['GFP_NOWAIT', 'GFP_ATOMIC']) {
    if (kb.gfp.lookup(to) === undefined) continue;
    let named = 0;
    const r = rewriteOr(site.gfpNode, input.snap.text, kb, (n) => {
      if (!isBlockingComposite(n, kb)) return undefined;
      named++;
      return to;
    });
    if (!r || named !== 1) return refuse(finding, 'the mask is not written as one blocking GFP_* name plus flag bits', 'atomic-mask');
    out.push({
      kind: 'atomic-mask', code: finding.code, target: finding,
      title: to === 'GFP_ATOMIC'
        ? 'Use GFP_ATOMIC: may use the atomic reserves; the allocation can still fail'
        : 'Use GFP_NOWAIT: does not sleep and fails early; the caller must handle failure',
      edits: r.edits, preferred: false, confidence: 'high', fixAll: false,
      note: 'in atomic context the allocation must not enter direct reclaim',
      intent: { literals: new Map([[site.callee.start, { removed: r.before & ~r.after, added: r.after & ~r.before }]]) },
    });
  }
  return out;
};
