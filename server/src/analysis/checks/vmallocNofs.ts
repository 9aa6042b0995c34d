// Diagnostic: vmalloc-nofs
// GFP_NOFS / GFP_NOIO passed to vmalloc-backed allocators (__vmalloc, kvmalloc & co.). Before 5.17 vmalloc
// allocated its page tables with GFP_KERNEL whatever the mask said, so the request was silently ignored: a real
// reclaim-recursion bug. Since 5.17 __vmalloc_area_node() turns the mask into a memalloc scope
// (mm/vmalloc.c, memalloc_nofs_save/memalloc_noio_save), so it works; the scope API remains the preferred form.
import type { Finding } from '../facts';
import { hasBit, renderVal } from '../gfpValue';
import { versionAtLeast, type Check } from './types';

export const vmallocNofs: Check = {
  code: 'vmalloc-nofs',
  defaultSeverity: 'warning',
  run(fn, config) {
    const out: Finding[] = [];
    const m = fn.kb.gfp;
    const FS = m.lookup('__GFP_FS') ?? 0;
    const IO = m.lookup('__GFP_IO') ?? 0;
    const DIRECT = m.lookup('__GFP_DIRECT_RECLAIM') ?? 0;
    const fixed = versionAtLeast(config.kernelVersion, '5.17');
    for (const site of fn.sites) {
      if (!site.gfpArg || !(site.entry.class === 'vmalloc' || site.entry.vmallocFallback)) continue;
      const lit = site.paths.find((p) => p.literal.sym === undefined && hasBit(p.literal, DIRECT) === 'yes' && (hasBit(p.literal, FS) === 'no' || hasBit(p.literal, IO) === 'no'))?.literal;
      if (!lit) continue;
      const mask = renderVal(lit, m);
      out.push(fixed
        ? {
          code: 'vmalloc-nofs', severity: 'hint', span: site.gfpArg, function: site.function,
          message: `${site.api}(${mask}): honoured since 5.17 through an internal scope; prefer memalloc_${hasBit(lit, IO) === 'no' ? 'noio' : 'nofs'}_save() around the critical section`,
          related: [],
        }
        : {
          code: 'vmalloc-nofs', severity: 'warning', span: site.gfpArg, function: site.function,
          message: `${site.api}(${mask}) is not honoured before 5.17: vmalloc allocates page tables with GFP_KERNEL and can recurse into the filesystem; use memalloc_${hasBit(lit, IO) === 'no' ? 'noio' : 'nofs'}_save()`,
          related: [],
        });
    }
    return out;
  },
};
