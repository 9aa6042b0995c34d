// Groups an allocation site's paths by effective mask and derives what each mask allows (reference §a.3).
import type { AllocSite, ScopeFrame, SitePath } from '../analysis/facts';
import { hasBit, renderVal, type Tri } from '../analysis/gfpValue';
import type { GfpModel } from '../model/gfp';

export interface MaskGroup {
  effective: string;
  requested: string;
  literal: string;
  /** acyclic paths in this group (0 when only reached around a loop) */
  paths: number;
  members: SitePath[];
  /** the innermost scope that narrowed the mask, if any */
  narrowedBy?: ScopeFrame;
  facts: { maySleep: Tri; fsReclaim: Tri; io: Tri; mmuNotifier: Tri };
}

export function groupSite(site: AllocSite, m: GfpModel): MaskGroup[] {
  const groups = new Map<string, MaskGroup>();
  for (const p of site.paths) {
    const effective = renderVal(p.effective, m);
    const requested = renderVal(p.requested, m);
    const key = `${effective}\u0000${requested}`;
    let g = groups.get(key);
    if (!g) {
      const DIRECT = m.lookup('__GFP_DIRECT_RECLAIM') ?? 0;
      const FS = m.lookup('__GFP_FS') ?? 0;
      const IO = m.lookup('__GFP_IO') ?? 0;
      const noreclaim = p.scopes.some((f) => f.flags.includes('PF_MEMALLOC'));
      const sleep = hasBit(p.effective, DIRECT);
      const reclaim: Tri = noreclaim ? 'no' : sleep;
      const both = (a: Tri, b: Tri): Tri => (a === 'no' || b === 'no' ? 'no' : a === 'yes' && b === 'yes' ? 'yes' : 'maybe');
      g = {
        effective, requested, literal: renderVal(p.literal, m), paths: 0, members: [],
        narrowedBy: effective !== requested ? [...p.scopes].reverse().find((f) => f.flags.length > 0) : undefined,
        facts: { maySleep: sleep, fsReclaim: both(reclaim, hasBit(p.effective, FS)), io: both(reclaim, hasBit(p.effective, IO)), mmuNotifier: reclaim },
      };
      groups.set(key, g);
    }
    g.paths += p.count;
    g.members.push(p);
  }
  return [...groups.values()].sort((a, b) => b.paths - a.paths || a.effective.localeCompare(b.effective));
}

export function pathsLabel(n: number): string {
  return n === 0 ? 'loop paths' : `${n} path${n === 1 ? '' : 's'}`;
}
