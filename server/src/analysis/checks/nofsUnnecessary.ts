// Diagnostic: nofs-unnecessary
// GFP_NOFS (or GFP_NOIO) at an allocation that, on every path through its function, holds no lock, has no
// transaction open and no memalloc scope active. Within the function nothing needs the restriction; whether a
// caller does is a question about calling contexts, which one function cannot answer: the finding says so, and
// the quick fix (ide/fixes/unnecessaryNofs.ts) is offered only when the calling contexts the analysis can see are
// free of locks and scopes too, at a lower confidence. Documentation/core-api/gfp_mask-from-fs-io.rst: GFP_NOFS used
// "just in case" has "led to abuses"; excessive use "can lead to memory over-reclaim". Off by default.
import type { Finding } from '../facts';
import { restrictedLiteral } from './nofsScopeCandidate';
import type { Check } from './types';

export const nofsUnnecessary: Check = {
  code: 'nofs-unnecessary',
  defaultSeverity: 'information',
  offByDefault: true,
  run(fn) {
    const out: Finding[] = [];
    const m = fn.kb.gfp;
    for (const site of fn.sites) {
      const kind = restrictedLiteral(site, m);
      if (!kind || !site.gfpArg) continue;
      if (site.paths.some((p) => p.atomic || p.held.length > 0 || p.scopes.length > 0)) continue;
      // The mask comes from the caller's side as well when the function passes a gfp on: not this check's case.
      if (fn.gfpParams.length > 0) continue;
      const name = kind === 'noio' ? 'GFP_NOIO' : 'GFP_NOFS';
      out.push({
        code: 'nofs-unnecessary', severity: 'information', span: site.gfpArg, function: site.function,
        message: `${name} with no lock held, no transaction open and no scope active in ${fn.fn.name}() on any path: unless a caller holds a lock that reclaim takes, or ${fn.fn.name}() runs from reclaim or writeback, GFP_KERNEL is enough (lower confidence: depends on the callers)`,
        related: [],
      });
    }
    return out;
  },
};
