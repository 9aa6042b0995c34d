// Diagnostic: nofs-redundant
// GFP_NOFS (or GFP_NOIO) written at an allocation that every path reaches inside a scope that already clears the
// bit: memalloc_nofs_save()/memalloc_noio_save(), or a transaction that opens one (jbd2 handle, XFS transaction).
// The scope is the documented way (Documentation/core-api/gfp_mask-from-fs-io.rst); GFP_KERNEL says the same here
// and keeps working if the code moves out of the critical section. Not reported when only some paths are scoped,
// nor when the scope comes from a wrapper that some configurations run without one (ext4 without a journal).
import type { Finding } from '../facts';
import { hasBit } from '../gfpValue';
import { lineOf } from '../lines';
import type { Check } from './types';

export const nofsRedundant: Check = {
  code: 'nofs-redundant',
  defaultSeverity: 'information',
  run(fn) {
    const out: Finding[] = [];
    const m = fn.kb.gfp;
    const FS = m.lookup('__GFP_FS') ?? 0;
    const IO = m.lookup('__GFP_IO') ?? 0;
    const DIRECT = m.lookup('__GFP_DIRECT_RECLAIM') ?? 0;
    for (const site of fn.sites) {
      if (!site.gfpArg || site.paths.length === 0) continue;
      // Only literal masks that are NOFS/NOIO because the author wrote so: blocking, FS (or IO) known clear.
      const lit = site.paths[0].literal;
      if (site.paths.some((p) => p.literal.sym !== undefined || p.literal.set !== lit.set)) continue;
      if (lit.sym !== undefined || hasBit(lit, DIRECT) !== 'yes' || hasBit(lit, FS) !== 'no') continue;
      const noio = hasBit(lit, IO) === 'no';
      const need = noio ? 'PF_MEMALLOC_NOIO' : null;
      // A scope that some configurations do not open (ext4 without a journal) does not make the mask redundant.
      const covering = site.paths.map((p) => [...p.scopes].reverse().find((f) => !f.conditional && (need ? f.flags.includes('PF_MEMALLOC_NOIO') : f.flags.some((x) => x === 'PF_MEMALLOC_NOFS' || x === 'PF_MEMALLOC_NOIO'))));
      if (covering.some((f) => !f)) continue;
      const f = covering[0]!;
      const literalName = noio ? 'GFP_NOIO' : 'GFP_NOFS';
      const clears = noio ? '__GFP_IO and __GFP_FS' : '__GFP_FS';
      out.push({
        code: 'nofs-redundant', severity: 'information', span: site.gfpArg, function: site.function,
        message: `${literalName} is redundant: ${f.api}() at line ${lineOf(fn.file, f.site.start)} already clears ${clears} here; GFP_KERNEL gives the same mask`,
        related: [{ span: f.site, message: `scope opened by ${f.api}()` }],
      });
    }
    return out;
  },
};
