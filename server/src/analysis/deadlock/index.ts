// Reclaim and fault deadlock detection (#4) over a whole program: what reclaim and faults take (takes.ts), the
// cycles allocations and user accesses close (detect.ts), reported in lockdep's format (report.ts).
import type { KbView } from '../kbView';
import type { ContextOptions, Contexts, Program } from '../interproc';
import { detectDeadlocks, type DeadlockFinding } from './detect';
import { reclaimTakes, type Takes } from './takes';

export { DEADLOCK_CODES, type ChainStep, type DeadlockCode, type DeadlockFinding } from './detect';
export type { Take, Takes, ReclaimContext } from './takes';

export interface DeadlockSettings {
  /** report class-level cycles (reclaim reaches only other instances of the held lock's class); default true */
  classLevel: boolean;
  /** cross-thread waits to model, by setting name (`reclaimLens.model.loopbackNfs`); default none */
  crossWaits: readonly string[];
}

export const DEFAULT_DEADLOCK_SETTINGS: DeadlockSettings = { classLevel: true, crossWaits: [] };

export function findDeadlocks(program: Program, ctxs: Contexts, kb: KbView, settings: Partial<DeadlockSettings> = {}): { findings: DeadlockFinding[]; takes: Takes } {
  const s = { ...DEFAULT_DEADLOCK_SETTINGS, ...settings };
  const takes = reclaimTakes(program, kb, { crossWaits: s.crossWaits });
  const dkb = {
    perFs: (cls: string) => !!kb.perFsTypeClass(cls),
    documentedOrder: (a: string, b: string) => !!kb.lockOrder(a, b),
    access: (api: string) => kb.uaccess(api)?.access ?? (kb.allocator(api)?.mayFault ? 'read' as const : undefined),
    cutCall: cutCallsOf(kb),
    readdir: (api: string) => !!kb.uaccess(api)?.readdir,
  };
  return { findings: detectDeadlocks(program, ctxs, takes, kb.gfp, { classLevel: s.classLevel }, dkb), takes };
}

/**
 * Calls that reach nothing relevant from their caller, on any path (knowledge base: deferredCalls marked
 * `everywhere`): calling contexts are not propagated through them (programWithContexts' cutCall).
 */
export function cutCallsOf(kb: Pick<KbView, 'deferredCall'>): (caller: string, callee: string) => boolean {
  return (caller, callee) => !!kb.deferredCall(caller, callee)?.everywhere;
}

/**
 * The calling-context options the deadlock detection needs: the knowledge base's cut calls, and contexts kept apart
 * per filesystem for lock classes keyed per filesystem type.
 */
export function contextOptionsOf(kb: Pick<KbView, 'deferredCall' | 'perFsTypeClass'>): Partial<ContextOptions> {
  return { cutCall: cutCallsOf(kb), fsKeyed: (cls) => !!kb.perFsTypeClass(cls) };
}
