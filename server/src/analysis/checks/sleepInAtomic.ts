// Diagnostic: sleep-in-atomic
// A blocking allocation (its effective mask has __GFP_DIRECT_RECLAIM), an allocator that always sleeps (vmalloc),
// a sleeping lock or a known sleeper, reached while the context is atomic: a spinlock, rwlock or raw spinlock is
// held, or rcu_read_lock, preempt/irq/bh disabling, or an idr/radix-tree preload section is active.
// CONFIG_DEBUG_ATOMIC_SLEEP reports it at run time as "BUG: sleeping function called from invalid context".
import type { Finding, PathFacts } from '../facts';
import { hasBit, renderVal } from '../gfpValue';
import { lineOf } from '../lines';
import type { Check } from './types';

export const sleepInAtomic: Check = {
  code: 'sleep-in-atomic',
  defaultSeverity: 'error',
  run(fn) {
    const out: Finding[] = [];
    const m = fn.kb.gfp;
    const direct = m.lookup('__GFP_DIRECT_RECLAIM') ?? 0;
    const describe = (bad: PathFacts[], all: PathFacts[]) => {
      const lock = [...bad[0].held].reverse().find((h) => h.atomic)!;
      const onPaths = bad.length < all.length ? ` on ${count(bad)} of ${count(all)} paths` : '';
      return { lock, onPaths };
    };
    for (const site of fn.sites) {
      const bad = site.paths.filter((p) => p.atomic && (site.entry.mayAlwaysSleep || hasBit(p.effective, direct) === 'yes'));
      if (!bad.length) continue;
      const { lock, onPaths } = describe(bad, site.paths);
      const what = site.entry.mayAlwaysSleep && hasBit(bad[0].effective, direct) !== 'yes'
        ? `${site.api}() always may sleep`
        : `${renderVal(bad[0].effective, m)} may sleep`;
      out.push({
        code: 'sleep-in-atomic', severity: 'error', span: site.call, function: site.function,
        message: `${what} while holding ${lock.cls}${onPaths}`,
        related: [{ span: lock.site, message: `${lock.cls} taken here by ${lock.api}() (line ${lineOf(fn.file, lock.site.start)})` }],
      });
    }
    for (const call of fn.calls) {
      if (call.kind !== 'sleep') continue;
      const bad = call.paths.filter((p) => p.held.some((h) => h.atomic && !(h.site.start === call.call.start)));
      if (!bad.length) continue;
      const { lock, onPaths } = describe(bad, call.paths);
      out.push({
        code: 'sleep-in-atomic', severity: 'error', span: call.call, function: call.function,
        message: `${call.api}() may sleep while holding ${lock.cls}${onPaths}`,
        related: [{ span: lock.site, message: `${lock.cls} taken here by ${lock.api}() (line ${lineOf(fn.file, lock.site.start)})` }],
      });
    }
    return out;
  },
};

function count(paths: PathFacts[]): number {
  return Math.max(1, paths.reduce((a, p) => a + p.count, 0));
}
