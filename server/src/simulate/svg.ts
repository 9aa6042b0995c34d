// Swimlane picture of a simulation trace (for mailing-list links and docs): one lane per thread, one row per
// step, blocked steps in red, wait-for arrows between the blocked steps. Every string is XML-escaped.
import { formatLocation } from './report';
import type { SimStep, Simulation } from './trace';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CHAR_W = 6.6;
const ROW_H = 46;
const TOP = 78;

function truncate(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, Math.max(1, max - 1)) + '…';
}

function fill(step: SimStep): { fill: string; stroke: string } {
  if (step.blocked) return { fill: '#fde2e1', stroke: '#c0392b' };
  if (step.failed) return { fill: '#fff1d6', stroke: '#d68910' };
  if (step.callback) return { fill: '#e3eefc', stroke: '#2e6bc6' };
  if (step.phase) return { fill: '#f3e8fd', stroke: '#7d3c98' };
  return { fill: '#f4f4f4', stroke: '#888888' };
}

function headOf(s: SimStep): string {
  return `${s.blocked ? '✗ ' : `${s.index}. `}${s.label}${s.callback ? ` → ${s.callback}` : ''}${s.failed ? ' failed' : ''}${s.phase === 'queued' ? ' (queued)' : ''}`;
}

function subOf(s: SimStep): string {
  const loc = s.location ? formatLocation(s.location) : '';
  const ctx = s.context.length ? ` in ${s.context[s.context.length - 1]}` : '';
  return loc + ctx;
}

export function renderSvg(sim: Simulation): string {
  const n = sim.threads.length;
  const steps = sim.steps;
  const longest = Math.max(24, ...steps.map((s) => Math.max(headOf(s).length, subOf(s).length * 0.9)), ...sim.threads.map((t) => t.name.length + t.role.length + 4));
  const laneW = Math.min(440, Math.max(200, Math.ceil(longest * CHAR_W) + 28));
  const maxChars = Math.floor((laneW - 24) / CHAR_W);
  const waits = sim.cycle.length > 0 ? sim.cycle : sim.waits;
  const footer: string[] = [];
  if (sim.verdict === 'deadlock') {
    if (sim.chain.length > 0) footer.push('Chain exists of: ' + sim.chain.join(' --> '));
    for (const w of waits) {
      const held = w.heldBy.map((h) => sim.threads[h].name).join(', ') || 'nobody';
      footer.push(`${sim.threads[w.thread].name} waits for ${w.waitsFor}, held by ${held}`);
    }
  }
  const width = Math.ceil(Math.max(n * laneW + 40, 420, ...footer.map((f) => f.length * CHAR_W + 40)));
  const height = TOP + Math.max(1, steps.length) * ROW_H + 30 + Math.max(1, footer.length) * 18;
  const title = sim.verdict === 'no-deadlock'
    ? `no deadlock: ${sim.result.statesExplored} states explored`
    : sim.verdict === 'limit'
      ? `incomplete: state limit after ${sim.result.statesExplored} states`
      : `${sim.kind === 'sleep-in-atomic' ? 'sleeping function called from invalid context' : sim.kind === 'stuck' ? 'blocked forever' : 'deadlock'}: shortest trace ${sim.length} steps (${sim.result.statesExplored} states explored)`;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="11">`);
  out.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c0392b"/></marker></defs>');
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="20" y="22" font-size="13" font-weight="bold">${escapeXml(truncate(sim.modelName ?? 'reclaim-lens simulation', 90))}</text>`);
  out.push(`<text x="20" y="40" fill="${sim.verdict === 'deadlock' ? '#c0392b' : '#1e8449'}">${escapeXml(title)}</text>`);
  const laneX = (t: number): number => 20 + t * laneW;
  for (let t = 0; t < n; t++) {
    const x = laneX(t);
    const th = sim.threads[t];
    out.push(`<g class="lane"><rect x="${x + 4}" y="${TOP - 26}" width="${laneW - 8}" height="20" rx="3" fill="#34495e"/>`);
    out.push(`<text x="${x + laneW / 2}" y="${TOP - 12}" text-anchor="middle" fill="#ffffff">${escapeXml(truncate(`${th.name} (${th.role})`, maxChars))}</text>`);
    out.push(`<line x1="${x + laneW / 2}" y1="${TOP - 6}" x2="${x + laneW / 2}" y2="${TOP + Math.max(1, steps.length) * ROW_H}" stroke="#bbbbbb" stroke-dasharray="4 3"/></g>`);
  }
  const boxOf = new Map<number, { x: number; y: number }>();
  steps.forEach((s, i) => {
    const x = laneX(s.thread) + 8;
    const y = TOP + i * ROW_H;
    const w = laneW - 16;
    const c = fill(s);
    const loc = s.location ? formatLocation(s.location) : '';
    const head = headOf(s);
    const tip = `${s.threadName}: ${s.detail}${loc ? `\n${loc}` : ''}${s.note ? `\n${s.note}` : ''}\nholds: ${s.holdsAfter.join(', ') || 'nothing'}`;
    out.push(`<g class="step${s.blocked ? ' blocked' : ''}"><title>${escapeXml(tip)}</title>`);
    out.push(`<rect x="${x}" y="${y}" width="${w}" height="${ROW_H - 8}" rx="4" fill="${c.fill}" stroke="${c.stroke}"/>`);
    out.push(`<text x="${x + 6}" y="${y + 15}">${escapeXml(truncate(head, maxChars))}</text>`);
    out.push(`<text x="${x + 6}" y="${y + 30}" fill="#555555" font-size="10">${escapeXml(truncate(subOf(s), maxChars + 6))}</text></g>`);
    if (s.blocked) boxOf.set(s.thread, { x, y });
  });
  if (steps.length === 0) {
    out.push(`<text x="20" y="${TOP + 20}" fill="#1e8449">${escapeXml(title)}</text>`);
  }
  // Wait-for arrows between blocked steps.
  for (const w of waits) {
    const a = boxOf.get(w.thread);
    for (const h of w.heldBy.slice(0, 1)) {
      const b = boxOf.get(h);
      if (!a || !b) continue;
      const boxW = laneW - 16;
      if (h === w.thread) {
        const x = a.x + boxW;
        out.push(`<path d="M${x},${a.y + 10} C${x + 14},${a.y + 2} ${x + 14},${a.y + 34} ${x},${a.y + 28}" fill="none" stroke="#c0392b" marker-end="url(#arrow)"/>`);
      } else if (b.x > a.x) {
        out.push(`<line x1="${a.x + boxW}" y1="${a.y + 19}" x2="${b.x}" y2="${b.y + 19}" stroke="#c0392b" marker-end="url(#arrow)"/>`);
      } else {
        // Back to an earlier lane: curve below the boxes instead of crossing them.
        const below = Math.max(a.y, b.y) + ROW_H + 4;
        const x1 = a.x + boxW / 2;
        const x2 = b.x + boxW / 2;
        out.push(`<path d="M${x1},${a.y + ROW_H - 8} C${x1},${below} ${x2},${below} ${x2},${b.y + ROW_H - 8}" fill="none" stroke="#c0392b" marker-end="url(#arrow)"/>`);
      }
    }
  }
  let y = TOP + Math.max(1, steps.length) * ROW_H + 24;
  footer.forEach((f, i) => {
    out.push(`<text x="20" y="${y}"${i > 0 || sim.chain.length === 0 ? ' fill="#c0392b"' : ''}>${escapeXml(f)}</text>`);
    y += 18;
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
