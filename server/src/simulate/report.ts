// Two views of a simulation: lockdep-format text (kernel/locking/lockdep.c's circular-dependency splat, with
// every link of the chain and its file:line, and a per-thread scenario table) and structured JSON for the
// webview and scripts.
import type { SourceLocation } from './model';
import type { ChainLink, SimStep, Simulation } from './trace';

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '(no source location)';
  return `${loc.file}:${loc.line}${loc.column !== undefined ? ':' + loc.column : ''}`;
}

const RULE = '======================================================';
const DASH = '------------------------------------------------------';

function titleOf(sim: Simulation): string {
  switch (sim.kind) {
    case 'recursive': return 'WARNING: possible recursive locking detected';
    case 'sleep-in-atomic': return 'BUG: sleeping function called from invalid context';
    case 'stuck': return 'INFO: task blocked forever (no thread can make progress)';
    default: return 'WARNING: possible circular locking dependency detected';
  }
}

function where(step: { location?: SourceLocation; context: string[] }): string {
  const ctx = step.context.length ? ` [in ${step.context.join(' → ')}]` : '';
  return `${step.location ? formatLocation(step.location) : ''}${ctx}`.trim();
}

function summaryLine(sim: Simulation): string {
  return `${sim.result.statesExplored} states explored${sim.result.reduced ? ' (partial-order reduced)' : ''}`;
}

/** `no deadlock: N states explored` or the full lockdep-style report. */
export function renderText(sim: Simulation): string {
  const name = sim.modelName ? ` (model "${sim.modelName}")` : '';
  if (sim.verdict === 'no-deadlock') return `no deadlock: ${sim.result.statesExplored} states explored${name}\n`;
  if (sim.verdict === 'limit') return `incomplete: state limit reached after ${sim.result.statesExplored} states${name}\n`;
  const out: string[] = [];
  out.push(RULE, titleOf(sim), `reclaim-lens simulate${name}`, DASH);
  if (sim.kind === 'sleep-in-atomic') renderAtomic(sim, out);
  else if (sim.kind === 'stuck') renderStuck(sim, out);
  else renderCircular(sim, out);
  renderHeld(sim, out);
  out.push('', `shortest trace (${sim.length} step${sim.length === 1 ? '' : 's'}; ${summaryLine(sim)}):`);
  renderTrace(sim.steps, out);
  return out.join('\n') + '\n';
}

function renderCircular(sim: Simulation, out: string[]): void {
  const last = sim.cycle[sim.cycle.length - 1];
  const trying = sim.steps.find((s) => s.blocked && s.thread === last.thread)!;
  const finalLinks = sim.links.filter((l) => l.thread === last.thread);
  const firstOfTrying = finalLinks[0];
  const acquires = ['lock', 'rlock', 'trylock', 'tryrlock', 'start', 'enter'].includes(trying.action);
  out.push(acquires ? `${trying.threadName} is trying to acquire lock:` : `${trying.threadName} is waiting for:`);
  out.push(` (${trying.resource ?? trying.label}), at: ${trying.label} ${where(trying)}`);
  out.push('');
  const fs = firstOfTrying?.fromSite;
  out.push(fs?.pending ? 'but task has yet to signal:' : 'but task is already holding lock:');
  out.push(` (${firstOfTrying?.from ?? '?'}), at: ${fs ? `${fs.label} ${formatLocation(fs.location)}` : '(unknown)'}`);
  out.push('');
  out.push('which lock already depends on the new lock.');
  out.push('');
  out.push('');
  out.push('the existing dependency chain (in reverse order) is:');
  const total = sim.links.length;
  sim.links.forEach((l, i) => {
    out.push('');
    out.push(`-> #${total - 1 - i} (${l.to}):`);
    out.push(`       ${l.via}  ${formatLocation(l.location)}  [${sim.threads[l.thread].name}${l.context.length ? `, in ${l.context.join(' → ')}` : ''}]${l.blocked ? '  <-- blocked' : ''}`);
    out.push(`       while holding (${l.from})${linkFromSite(l)}`);
  });
  out.push('');
  out.push('Chain exists of:');
  out.push('  ' + sim.chain.join(' --> '));
  out.push('');
  out.push('other info that might help us debug this:');
  out.push('');
  renderScenario(sim, out);
}

function linkFromSite(l: ChainLink): string {
  if (!l.fromSite) return '';
  const verb = l.fromSite.pending ? 'to be released by' : 'taken by';
  return `, ${verb} ${l.fromSite.label} at ${formatLocation(l.fromSite.location)}`;
}

/** " Possible unsafe locking scenario:" with one column per thread of the cycle, ending in *** DEADLOCK ***. */
function renderScenario(sim: Simulation, out: string[]): void {
  const members = sim.cycle.map((c) => c.thread);
  const rows: { col: number; label: string; loc: string; order: number; text?: string }[] = [];
  for (const [col, t] of members.entries()) {
    const links = sim.links.filter((l) => l.thread === t);
    links.forEach((l, j) => {
      if (j === 0 && l.fromSite && !l.fromSite.pending) {
        const acq = sim.steps.find((s) => !s.blocked && s.thread === t && s.label === l.fromSite!.label && s.location === l.fromSite!.location);
        rows.push({ col, label: `${l.fromSite.label};`, loc: formatLocation(l.fromSite.location), order: acq ? acq.index : 0 });
      }
      if (!l.blocked) {
        const entry = sim.steps.find((s) => !s.blocked && s.thread === t && s.location === l.location && s.callback !== undefined);
        rows.push({ col, label: `lock(${l.to});`, loc: formatLocation(l.location), order: entry ? entry.index : 0 });
      } else {
        rows.push({ col, label: `${blockedLabel(sim, t)};`, loc: formatLocation(l.location), order: 1e9 + col });
      }
    });
  }
  rows.sort((a, b) => a.order - b.order);
  for (const [c] of members.entries()) {
    const lw = Math.max(0, ...rows.filter((r) => r.col === c).map((r) => r.label.length));
    for (const r of rows) if (r.col === c) r.text = `${r.label.padEnd(lw)}  ${r.loc}`;
  }
  const headers = members.map((t) => sim.threads[t].name);
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.filter((r) => r.col === c).map((r) => r.text!.length)) + 4);
  const indent = (c: number): string => ' '.repeat(widths.slice(0, c).reduce((a, b) => a + b, 0));
  out.push(' Possible unsafe locking scenario:');
  out.push('');
  out.push('       ' + headers.map((h, c) => h.padEnd(widths[c])).join('').trimEnd());
  out.push('       ' + headers.map((h, c) => '----'.padEnd(widths[c])).join('').trimEnd());
  for (const r of rows) out.push('  ' + indent(r.col) + r.text!);
  out.push('');
  out.push(' *** DEADLOCK ***');
}

function blockedLabel(sim: Simulation, t: number): string {
  const st = sim.steps.find((s) => s.blocked && s.thread === t);
  return st ? st.label : '?';
}

function renderAtomic(sim: Simulation, out: string[]): void {
  for (const s of sim.steps.filter((x) => x.blocked)) {
    const w = sim.waits.find((x) => x.thread === s.thread);
    if (!w || w.res >= 0) continue;
    out.push(`in_atomic(): 1, thread: ${s.threadName}, at: ${formatLocation(s.location)}`);
    out.push(`  ${s.label} may sleep ${where(s)}`);
    for (const h of sim.atomicHolds ?? []) {
      if (h.thread === s.thread) out.push(`  while holding spinlock (${h.lock}), taken at ${formatLocation(h.location)}`);
    }
    out.push('');
  }
  out.push('A sleeping step under a spinlock is modelled as never resuming: the explorer stops that thread here.');
}

function renderStuck(sim: Simulation, out: string[]): void {
  for (const w of sim.waits) {
    const s = sim.steps.find((x) => x.blocked && x.thread === w.thread)!;
    out.push(`${s.threadName} blocked at ${s.label} ${where(s)}`);
    out.push(`  ${s.detail}`);
  }
  out.push('');
  out.push('No wait-for cycle: the resource will never be released or signalled by any remaining thread.');
}

function renderHeld(sim: Simulation, out: string[]): void {
  for (const [t, th] of sim.threads.entries()) {
    const pending = sim.steps.find((s) => s.blocked && s.thread === t);
    if (!pending) continue;
    const holds = pending.holdsAfter;
    out.push('');
    out.push(holds.length === 0 ? `no locks held by ${th.name}/${t}.` : `${holds.length} lock${holds.length === 1 ? '' : 's'} held by ${th.name}/${t}:`);
    holds.forEach((h, i) => {
      const m = / \((.*)\)$/.exec(h);
      const base = m ? h.slice(0, m.index) : h;
      let acq: SimStep | undefined;
      for (const s of sim.steps) if (!s.blocked && !s.failed && s.thread === t && s.resource === base && /^(lock|rlock|trylock|tryrlock|start|enter|freeze|commit)$/.test(s.action) && s.phase !== 'queued') acq = s;
      out.push(` #${i}: (${base})${m ? ` ${m[1]}` : ''}, at: ${acq ? `${acq.label} ${formatLocation(acq.location)}` : '(unknown)'}`);
    });
  }
}

function renderTrace(steps: SimStep[], out: string[]): void {
  const w = Math.max(...steps.map((s) => s.threadName.length));
  for (const s of steps) {
    const mark = s.blocked ? '  <-- blocked' : '';
    out.push(`  ${s.blocked ? '   ' : '#' + String(s.index).padEnd(2)} ${s.threadName.padEnd(w)}  ${s.detail}  ${where(s)}`.trimEnd() + mark);
  }
}

export interface JsonStep {
  index: number;
  thread: string;
  threadIndex: number;
  action: string;
  resource?: string;
  mask?: string;
  callback?: string;
  context: string[];
  location?: { file: string; line: number };
  note?: string;
  label: string;
  detail: string;
  holdsAfter: string[];
  blocked?: boolean;
  failed?: boolean;
  phase?: string;
}

export interface JsonReport {
  verdict: 'deadlock' | 'no-deadlock' | 'limit';
  kind?: string;
  model?: string;
  statesExplored: number;
  reduced: boolean;
  length: number;
  threads: { name: string; role: string }[];
  steps: JsonStep[];
  cycle: { thread: string; waitsFor: string; heldBy: string | null }[];
  chain: string[];
  links: { from: string; to: string; thread: string; via: string; location?: { file: string; line: number }; blocked: boolean }[];
}

function jsonLoc(loc: SourceLocation | undefined): { file: string; line: number } | undefined {
  return loc ? { file: loc.file, line: loc.line } : undefined;
}

export function toJson(sim: Simulation): JsonReport {
  const name = (t: number): string => sim.threads[t].name;
  const waits = sim.cycle.length > 0 ? sim.cycle : sim.waits;
  return {
    verdict: sim.verdict,
    kind: sim.kind,
    model: sim.modelName,
    statesExplored: sim.result.statesExplored,
    reduced: sim.result.reduced,
    length: sim.length,
    threads: sim.threads.map((t) => ({ name: t.name, role: t.role })),
    steps: sim.steps.map((s) => {
      const j: JsonStep = {
        index: s.index, thread: s.threadName, threadIndex: s.thread, action: s.action, context: s.context,
        label: s.label, detail: s.detail, holdsAfter: s.holdsAfter,
      };
      if (s.resource !== undefined) j.resource = s.resource;
      if (s.mask !== undefined) j.mask = s.mask;
      if (s.callback !== undefined) j.callback = s.callback;
      if (s.location) j.location = jsonLoc(s.location);
      if (s.note !== undefined) j.note = s.note;
      if (s.blocked) j.blocked = true;
      if (s.failed) j.failed = true;
      if (s.phase) j.phase = s.phase;
      return j;
    }),
    cycle: sim.verdict === 'deadlock'
      ? waits.map((w) => ({ thread: name(w.thread), waitsFor: w.waitsFor, heldBy: w.heldBy.length ? name(w.heldBy[0]) : null }))
      : [],
    chain: sim.chain,
    links: sim.links.map((l) => ({ from: l.from, to: l.to, thread: name(l.thread), via: l.via, location: jsonLoc(l.location), blocked: l.blocked })),
  };
}

export function renderJson(sim: Simulation): string {
  return JSON.stringify(toJson(sim), null, 2) + '\n';
}
