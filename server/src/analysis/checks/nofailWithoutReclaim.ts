// Diagnostic: nofail-without-reclaim
// __GFP_NOFAIL asks the allocator to retry forever, which it can only do by reclaiming: without
// __GFP_DIRECT_RECLAIM (GFP_ATOMIC|__GFP_NOFAIL, GFP_NOWAIT|__GFP_NOFAIL) the page allocator warns and may fail
// anyway (mm/page_alloc.c, __alloc_pages_slowpath: "__GFP_NOFAIL without __GFP_DIRECT_RECLAIM").
import type { Finding } from '../facts';
import { hasBit, renderVal } from '../gfpValue';
import type { Check } from './types';

export const nofailWithoutReclaim: Check = {
  code: 'nofail-without-reclaim',
  defaultSeverity: 'warning',
  run(fn) {
    const out: Finding[] = [];
    const m = fn.kb.gfp;
    const NOFAIL = m.lookup('__GFP_NOFAIL') ?? 0;
    const DIRECT = m.lookup('__GFP_DIRECT_RECLAIM') ?? 0;
    for (const site of fn.sites) {
      const p = site.paths.find((q) => hasBit(q.literal, NOFAIL) === 'yes' && hasBit(q.literal, DIRECT) === 'no');
      if (!p || !site.gfpArg) continue;
      out.push({
        code: 'nofail-without-reclaim', severity: 'warning', span: site.gfpArg, function: site.function,
        message: `${renderVal(p.literal, m)}: __GFP_NOFAIL without __GFP_DIRECT_RECLAIM cannot be honoured; the allocation can still fail`,
        related: [],
      });
    }
    return out;
  },
};
