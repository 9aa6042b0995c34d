// The report kernel developers already read: lockdep's "possible circular locking dependency detected" layout
// (kernel/locking/lockdep.c: print_circular_bug, print_circular_lock_scenario), with the one thing lockdep cannot
// give: the source line of every link of the chain, not just the two ends.

export interface ReportInput {
  title: string;
  /** the function that allocates or touches user memory */
  task: string;
  /** the lock being acquired: fs_reclaim, mmu_notifier_invalidate_range_start, &mm->mmap_lock */
  trying: { cls: string; at: string };
  /** the lock already held */
  held: { cls: string; read: boolean; at: string };
  /** for a chain of three: the lock between the pseudo-lock and the held one */
  parent?: string;
  /** every link, in order, with file:line */
  chain: string[];
  classLevel: boolean;
}

const RULE = '======================================================';
const THIN = '------------------------------------------------------';

export function lockdepReport(r: ReportInput): string {
  const lines: string[] = [];
  lines.push(RULE, `WARNING: ${r.title}`, `(Reclaim Lens static analysis${r.classLevel ? ', class-level' : ''})`, THIN);
  lines.push(`${r.task}() is trying to acquire lock:`, ` (${r.trying.cls}), at: ${r.trying.at}`, '');
  lines.push('but task is already holding lock:', ` (${r.held.cls}), at: ${r.held.at}`, '');
  lines.push('which lock already depends on the new lock.', '');
  lines.push('the dependency chain, every link with its source line:', '');
  r.chain.forEach((c, i) => lines.push(`  #${i} ${c}`));
  lines.push('', 'other info that might help us debug this:', '');
  const source = r.trying.cls;
  const target = r.held.cls;
  const parent = r.parent ?? source;
  if (parent !== source) lines.push(' Chain exists of:', `   ${source} --> ${parent} --> ${target}`, '');
  const lock = (cls: string, read: boolean) => `${read ? 'rlock' : 'lock'}(${cls});`;
  lines.push(' Possible unsafe locking scenario:', '');
  lines.push('       CPU0                    CPU1');
  lines.push('       ----                    ----');
  lines.push(`  ${lock(target, r.held.read)}`);
  lines.push(`                               ${lock(parent, false)}`);
  lines.push(`                               ${lock(target, false)}`);
  lines.push(`  ${lock(source, false)}`);
  lines.push('', ' *** DEADLOCK ***', '');
  return lines.join('\n');
}
