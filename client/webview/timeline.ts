// The replay as plain data: one row per executed step in time order, then one row with the blocked waits; the
// locks every thread holds after each row; which threads and locks form the cycle. No DOM here.
import type { SimStepInfo, SimulateResult } from '../../server/src/lsp/protocol';

export type Row =
  | { kind: 'step'; step: SimStepInfo; at: number }
  | { kind: 'deadlock'; blocked: { step: SimStepInfo; at: number }[] };

export type ThreadStatus = 'running' | 'done' | 'blocked';

export interface Timeline {
  threads: { name: string; role: string }[];
  rows: Row[];
  /** holds[r][t]: what thread t holds after row r. */
  holds: string[][][];
  /** Threads on the wait-for cycle (or, without a cycle, every waiting thread). */
  cycleThreads: Set<number>;
  /** Lock names the cycle waits for (base names, without ` (read)` suffixes). */
  cycleLocks: Set<string>;
}

/** `&sb->s_umount (read)` → `&sb->s_umount`. */
export function baseName(hold: string): string {
  const m = / \((?:read(?: x\d+)?|handle|usage|frozen|commit)\)$/.exec(hold);
  return m ? hold.slice(0, m.index) : hold;
}

export function buildTimeline(r: SimulateResult): Timeline {
  const rows: Row[] = [];
  const blocked: { step: SimStepInfo; at: number }[] = [];
  r.steps.forEach((step, at) => {
    if (step.blocked) blocked.push({ step, at });
    else rows.push({ kind: 'step', step, at });
  });
  if (blocked.length > 0) rows.push({ kind: 'deadlock', blocked });
  const n = r.threads.length;
  let current: string[][] = r.threads.map(() => []);
  const holds = rows.map((row) => {
    if (row.kind === 'step' && row.step.threadIndex >= 0 && row.step.threadIndex < n) {
      current = current.map((h, t) => (t === row.step.threadIndex ? row.step.holdsAfter : h));
    }
    return current;
  });
  const byName = new Map(r.threads.map((t, i) => [t.name, i]));
  const cycleThreads = new Set<number>();
  for (const c of r.cycle) {
    const t = byName.get(c.thread);
    if (t !== undefined) cycleThreads.add(t);
  }
  return { threads: r.threads, rows, holds, cycleThreads, cycleLocks: new Set(r.cycle.map((c) => c.waitsFor)) };
}

/** Thread status after row r: blocked in the final row, done when it has no step later and did not block. */
export function statusAfter(tl: Timeline, r: number, t: number): ThreadStatus {
  const last = tl.rows[tl.rows.length - 1];
  const blocks = last?.kind === 'deadlock' && last.blocked.some((b) => b.step.threadIndex === t);
  if (blocks && r === tl.rows.length - 1) return 'blocked';
  const later = tl.rows.slice(r + 1).some((row) => row.kind === 'step' ? row.step.threadIndex === t : row.blocked.some((b) => b.step.threadIndex === t));
  return later || blocks ? 'running' : 'done';
}

export function locationText(s: SimStepInfo): string {
  return s.location ? `${s.location.file}:${s.location.line}` : '';
}

/** What a screen reader announces for a row. */
export function rowLabel(tl: Timeline, r: number): string {
  const row = tl.rows[r];
  const steps = tl.rows.filter((x) => x.kind === 'step').length;
  if (row.kind === 'deadlock') {
    const waits = row.blocked.map((b) => `${b.step.thread} blocked at ${b.step.detail}${b.step.location ? `, ${locationText(b.step)}` : ''}`);
    return `Deadlock after step ${steps}: ${waits.join('; ')}`;
  }
  const s = row.step;
  const parts = [`Step ${s.index} of ${steps}`, `${s.thread}: ${s.detail}`];
  if (s.location) parts.push(locationText(s));
  if (s.context.length) parts.push(`in ${s.context.join(' → ')}`);
  parts.push(s.holdsAfter.length ? `holds ${s.holdsAfter.join(', ')}` : 'holds nothing');
  return parts.join(', ');
}

/** `deadlock (circular) in 5 steps · 27 states explored (partial-order reduced)`. */
export function verdictText(r: SimulateResult): string {
  const states = `${r.statesExplored} state${r.statesExplored === 1 ? '' : 's'} explored${r.reduced ? ' (partial-order reduced)' : ''}`;
  switch (r.verdict) {
    case 'deadlock': return `Deadlock${r.kind ? ` (${r.kind})` : ''} in ${r.length} step${r.length === 1 ? '' : 's'} · ${states}`;
    case 'no-deadlock': return `No deadlock · ${states}`;
    default: return `No verdict: state limit reached · ${states}`;
  }
}
