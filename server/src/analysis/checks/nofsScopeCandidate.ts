// Diagnostic: nofs-scope-candidate
// A GFP_NOFS (or GFP_NOIO) allocation made while a sleeping lock is held or a transaction is open, on every path,
// with no memalloc scope active. Documentation/core-api/gfp_mask-from-fs-io.rst asks for the scope API around
// the critical section instead ("call memalloc_nofs_save() before any critical section with respect to the
// reclaim"), which also covers the allocations of that section that cannot take a mask. A refactoring, not a bug:
// off by default in the Problems view; its quick fix (ide/fixes/scopeCandidate.ts) opens the scope after the lock
// is taken and closes it before each release.
import type { AllocSite, Finding, HeldLock, ScopeFrame, SitePath } from '../facts';
import { hasBit } from '../gfpValue';
import { lineOf } from '../lines';
import type { Check } from './types';
import type { GfpModel } from '../../model/gfp';
import type { LockKind } from '../../model/kb/types';

/** Lock kinds a task can sleep under while holding: the locks reclaim may wait for (spinlocks make it atomic). */
const SLEEPING_LOCKS: ReadonlySet<LockKind> = new Set(['mutex', 'rwsem', 'percpu_rwsem', 'semaphore', 'bitlock', 'queue-freeze', 'other']);

/** `GFP_NOFS` / `GFP_NOIO` written at the call: one known literal on every path, blocking, with the bit clear. */
export function restrictedLiteral(site: Pick<AllocSite, 'gfpArg' | 'paths'>, m: GfpModel): 'nofs' | 'noio' | undefined {
  if (!site.gfpArg || site.paths.length === 0) return undefined;
  const lit = site.paths[0].literal;
  if (lit.sym !== undefined || site.paths.some((p) => p.literal.sym !== undefined || p.literal.set !== lit.set)) return undefined;
  const FS = m.lookup('__GFP_FS') ?? 0;
  const IO = m.lookup('__GFP_IO') ?? 0;
  const DIRECT = m.lookup('__GFP_DIRECT_RECLAIM') ?? 0;
  if (hasBit(lit, DIRECT) !== 'yes' || hasBit(lit, FS) !== 'no') return undefined;
  return hasBit(lit, IO) === 'no' ? 'noio' : 'nofs';
}

/** A scope frame that clears __GFP_FS (nofs) or __GFP_IO as well (noio) in every configuration. */
export function covers(f: ScopeFrame, kind: 'nofs' | 'noio'): boolean {
  if (f.conditional) return false;
  return kind === 'noio' ? f.flags.includes('PF_MEMALLOC_NOIO') : f.flags.some((x) => x === 'PF_MEMALLOC_NOFS' || x === 'PF_MEMALLOC_NOIO');
}

/** Held locks that make reclaim recursion a deadlock risk: sleeping locks taken by a call (not declared by annotations). */
export function sleepingLocks(p: SitePath): HeldLock[] {
  return p.held.filter((h) => !h.atomic && SLEEPING_LOCKS.has(h.kind) && !h.api.startsWith('__'));
}

/** What makes the scope necessary at a site, common to every path: the innermost lock, else an open transaction. */
export type Anchor = { kind: 'lock'; lock: HeldLock } | { kind: 'transaction'; frame: ScopeFrame };

export function anchorOf(site: Pick<AllocSite, 'paths'>): Anchor | undefined {
  const paths = site.paths;
  if (!paths.length) return undefined;
  // The innermost lock class held on every path, taken at the same call on every path.
  const first = sleepingLocks(paths[0]);
  for (let i = first.length - 1; i >= 0; i--) {
    const h = first[i];
    if (paths.every((p) => sleepingLocks(p).some((x) => x.cls === h.cls && x.site.start === h.site.start))) return { kind: 'lock', lock: h };
  }
  // A transaction whose own scope some configurations leave out (ext4 without a journal) is not one to add a scope to.
  const tx = [...paths[0].scopes].reverse().find((f) => f.family.startsWith('trans:') && !f.conditional);
  if (tx && paths.every((p) => p.scopes.some((f) => f.family === tx.family && f.site.start === tx.site.start))) return { kind: 'transaction', frame: tx };
  return undefined;
}

export function describeAnchor(a: Anchor, file: { text: string }): string {
  return a.kind === 'lock'
    ? `${a.lock.cls} is held (${a.lock.api}() at line ${lineOf(file, a.lock.site.start)})`
    : `a ${a.frame.family.slice('trans:'.length)} transaction is open (${a.frame.api}() at line ${lineOf(file, a.frame.site.start)})`;
}

export const nofsScopeCandidate: Check = {
  code: 'nofs-scope-candidate',
  defaultSeverity: 'information',
  offByDefault: true,
  run(fn) {
    const out: Finding[] = [];
    const m = fn.kb.gfp;
    for (const site of fn.sites) {
      const kind = restrictedLiteral(site, m);
      if (!kind || !site.gfpArg) continue;
      // Atomic paths are sleep-in-atomic's; a path inside a memalloc scope is nofs-redundant's, or already scoped
      // (a GFP_NOIO inside a NOFS scope keeps its mask on purpose).
      if (site.paths.some((p) => p.atomic || p.scopes.some((f) => covers(f, 'nofs')))) continue;
      const anchor = anchorOf(site);
      if (!anchor) continue;
      const name = kind === 'noio' ? 'GFP_NOIO' : 'GFP_NOFS';
      const pair = kind === 'noio' ? 'memalloc_noio_save()' : 'memalloc_nofs_save()';
      const where = anchor.kind === 'lock' ? `after ${anchor.lock.api}()` : `after ${anchor.frame.api}()`;
      const siteOf = anchor.kind === 'lock' ? anchor.lock.site : anchor.frame.site;
      out.push({
        code: 'nofs-scope-candidate', severity: 'information', span: site.gfpArg, function: site.function,
        message: `${name} while ${describeAnchor(anchor, fn.file)}: a ${pair} scope opened ${where} would cover the whole critical section, including allocations that take no mask; the allocations in it can then use GFP_KERNEL`,
        related: [{ span: siteOf, message: anchor.kind === 'lock' ? `${anchor.lock.cls} taken here by ${anchor.lock.api}()` : `transaction opened here by ${anchor.frame.api}()` }],
      });
    }
    return out;
  },
};
