// Builds the simulation view with createElement and text nodes only: every string of a model (thread, lock and
// callback names, notes, file names) reaches the page as text, never as markup. No innerHTML anywhere.
// Functions take the Document, so tests run them against a small fake document.
import type { ModelProblem, SimStepInfo, SimulateResult } from '../../server/src/lsp/protocol';
import { baseName, buildTimeline, locationText, rowLabel, statusAfter, verdictText, type Timeline } from './timeline';

export type Action = 'first' | 'prev' | 'play' | 'next' | 'last' | 'openModel' | 'rerun';

export interface Actions {
  act(a: Action): void;
  /** A row was clicked: select it and reveal its source. */
  pick(row: number): void;
  revealModel(line: number): void;
}

/** What to show: a result, a failure, or nothing yet; `busy` while a run is under way. */
export interface View {
  title: string;
  busy: boolean;
  result?: SimulateResult;
  failure?: { message: string; problems: ModelProblem[] };
}

export interface Page {
  /** The sticky header: the thread headings stick right below it. */
  bar: HTMLElement;
  timeline?: Timeline;
  rows: HTMLElement[];
  stateCells: HTMLElement[];
  position: HTMLElement;
  buttons: Record<Action, HTMLButtonElement>;
}

type Child = Node | string | undefined | false;

/** An element with a class, attributes and children; strings become text nodes. Inline handlers are refused. */
export function h<K extends keyof HTMLElementTagNameMap>(
  doc: Document, tag: K, cls?: string, attrs?: Record<string, string>, ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = doc.createElement(tag);
  if (cls) el.className = cls;
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (/^on/i.test(k) || k.toLowerCase() === 'style') throw new Error(`refusing attribute ${k}`);
    el.setAttribute(k, v);
  }
  for (const c of children) if (c !== undefined && c !== false) el.appendChild(typeof c === 'string' ? doc.createTextNode(c) : c);
  return el;
}

const BUTTONS: { a: Action; text: string; label: string; cls?: string }[] = [
  { a: 'first', text: '|◀', label: 'First step (Home)' },
  { a: 'prev', text: '◀', label: 'Previous step (←)' },
  { a: 'play', text: '▶ Play', label: 'Play (Space)', cls: 'primary' },
  { a: 'next', text: '▶', label: 'Next step (→)' },
  { a: 'last', text: '▶|', label: 'Last step (End)' },
  { a: 'openModel', text: 'Open model', label: 'Open the model text beside the simulation' },
  { a: 'rerun', text: 'Re-run', label: 'Run the model again (after editing it)' },
];

function verdictClass(v: View): string {
  if (v.failure) return 'failed';
  if (!v.result) return 'busy';
  return v.result.verdict;
}

function verdictLine(v: View): string {
  const base = v.failure ? 'The model has errors' : v.result ? verdictText(v.result) : 'Running the model…';
  return v.busy && (v.result || v.failure) ? `${base} · re-running…` : base;
}

/** Replaces the content of `root` with the view; returns the parts `showPosition` updates. */
export function renderPage(doc: Document, root: HTMLElement, v: View, actions: Actions): Page {
  const buttons = {} as Record<Action, HTMLButtonElement>;
  const toolbar = h(doc, 'div', 'toolbar', { role: 'toolbar', 'aria-label': 'Replay' });
  const position = h(doc, 'span', 'position', { 'aria-live': 'polite' });
  for (const b of BUTTONS) {
    if (b.a === 'openModel') toolbar.appendChild(position);
    if (b.a === 'openModel') toolbar.appendChild(h(doc, 'span', 'gap'));
    const el = h(doc, 'button', b.cls, { type: 'button', title: b.label, 'aria-label': b.label, 'data-act': b.a }, b.text);
    el.addEventListener('click', () => actions.act(b.a));
    buttons[b.a] = el;
    toolbar.appendChild(el);
  }
  buttons.rerun.disabled = v.busy;
  const header = h(doc, 'header', 'bar', {},
    h(doc, 'h1', undefined, {}, v.result?.model ?? v.title),
    h(doc, 'span', `verdict ${verdictClass(v)}`, { role: 'status' }, verdictLine(v)),
    toolbar);
  const page: Page = { bar: header, rows: [], stateCells: [], position, buttons };
  const parts: Child[] = [header];
  if (v.failure) parts.push(renderFailure(doc, v.failure, actions));
  else if (v.result) {
    const tl = buildTimeline(v.result);
    page.timeline = tl;
    parts.push(renderSummary(doc, v.result, tl), renderTimeline(doc, v.result, tl, page, actions), renderLockdep(doc, v.result));
  } else parts.push(h(doc, 'p', 'muted empty', {}, 'Running the model…'));
  root.replaceChildren(...parts.filter((p): p is Node => p !== undefined && p !== false && typeof p !== 'string'));
  root.setAttribute('aria-busy', v.busy ? 'true' : 'false');
  return page;
}

function renderFailure(doc: Document, f: { message: string; problems: ModelProblem[] }, actions: Actions): HTMLElement {
  const list = h(doc, 'ul', 'problems');
  for (const p of f.problems) {
    const where = `line ${p.range.start.line + 1}, column ${p.range.start.character + 1}`;
    const go = h(doc, 'button', undefined, { type: 'button', title: 'Show in the model' }, where);
    go.addEventListener('click', () => actions.revealModel(p.range.start.line));
    list.appendChild(h(doc, 'li', p.severity, {}, go, `: ${p.severity}: ${p.message}`));
  }
  // The message names the first problem; with the list below, a short lead-in is enough.
  const lead = f.problems.length > 0 ? 'The model does not parse; fix it and save (or Re-run):' : f.message;
  return h(doc, 'section', 'summary', { 'aria-label': 'Problems' }, h(doc, 'p', undefined, {}, lead), f.problems.length > 0 && list);
}

function renderSummary(doc: Document, r: SimulateResult, tl: Timeline): HTMLElement {
  const s = h(doc, 'section', 'summary', { 'aria-label': 'Summary' });
  if (r.chain.length > 0) s.appendChild(h(doc, 'div', undefined, {}, 'Chain: ', h(doc, 'span', 'chain mono', {}, r.chain.join(' → '))));
  for (const c of r.cycle) {
    s.appendChild(h(doc, 'div', undefined, {},
      h(doc, 'strong', undefined, {}, c.thread), ' waits for ', h(doc, 'span', 'lock contended', {}, c.waitsFor),
      c.heldBy ? ' held by ' : ' (nobody will release it)', c.heldBy ? h(doc, 'strong', undefined, {}, c.heldBy) : undefined));
  }
  if (r.verdict === 'no-deadlock') s.appendChild(h(doc, 'div', 'muted', {}, `Every interleaving of the ${tl.threads.length} thread${tl.threads.length === 1 ? '' : 's'} finishes: there is no deadlock trace to replay.`));
  if (r.verdict === 'limit') s.appendChild(h(doc, 'div', 'muted', {}, 'The explorer stopped at its state limit before it could decide: simplify the model.'));
  if (r.warnings.length > 0) {
    const w = h(doc, 'ul', 'warnings');
    for (const x of r.warnings) w.appendChild(h(doc, 'li', undefined, {}, `line ${x.range.start.line + 1}: warning: ${x.message}`));
    s.appendChild(w);
  }
  return s;
}

function lockChips(doc: Document, parent: HTMLElement, holds: string[], contended?: Set<string>): void {
  if (holds.length === 0) parent.appendChild(h(doc, 'span', 'muted', {}, 'nothing'));
  for (const l of holds) parent.appendChild(h(doc, 'span', contended?.has(baseName(l)) ? 'lock contended' : 'lock', {}, l));
}

function stepCard(doc: Document, s: SimStepInfo, r: SimulateResult, tl: Timeline): HTMLElement {
  const cls = ['card'];
  if (s.callback) cls.push('callback');
  if (s.failed) cls.push('failed');
  if (s.phase) cls.push('queued');
  if (s.blocked) cls.push('blocked');
  if (s.blocked && tl.cycleThreads.has(s.threadIndex)) cls.push('cycle');
  const card = h(doc, 'div', cls.join(' '), {},
    h(doc, 'div', 'label', {}, `${s.blocked ? '✗ ' : ''}${s.label}${s.callback ? ` → ${s.callback}` : ''}${s.failed ? ' (failed: bails out)' : ''}`));
  if (s.detail !== s.label) card.appendChild(h(doc, 'div', 'detail', {}, s.detail));
  if (s.location || s.context.length) {
    card.appendChild(h(doc, 'div', 'meta', {},
      s.location && h(doc, 'span', 'loc', {}, locationText(s)),
      s.context.length > 0 && `${s.location ? ' ' : ''}in ${s.context.join(' → ')}`));
  }
  if (s.note) card.appendChild(h(doc, 'div', 'note', {}, s.note));
  const holds = h(doc, 'div', 'holds', {}, s.blocked ? 'holds ' : 'then holds ');
  lockChips(doc, holds, s.holdsAfter, s.blocked ? tl.cycleLocks : undefined);
  card.appendChild(holds);
  if (s.blocked) {
    const w = r.cycle.find((c) => c.thread === s.thread);
    if (w) card.appendChild(h(doc, 'div', 'detail', {}, `waits for ${w.waitsFor}${w.heldBy ? `, held by ${w.heldBy}` : ''}`));
  }
  return card;
}

function renderTimeline(doc: Document, r: SimulateResult, tl: Timeline, page: Page, actions: Actions): HTMLElement {
  const n = tl.threads.length;
  const wrap = h(doc, 'section', 'timeline', { 'aria-label': 'Trace' });
  wrap.style.setProperty('--lanes', String(Math.max(1, n)));
  const heads = h(doc, 'div', 'grid heads', { 'aria-hidden': 'true' }, h(doc, 'div', 'idx', {}, '#'));
  tl.threads.forEach((t, i) => heads.appendChild(h(doc, 'div', tl.cycleThreads.has(i) ? 'head cycle' : 'head', {}, t.name, ' ', h(doc, 'span', 'role', {}, t.role))));
  wrap.appendChild(heads);
  if (tl.rows.length === 0) return wrap;
  const list = h(doc, 'div', 'rows', { role: 'listbox', 'aria-label': 'Steps in time order' });
  tl.rows.forEach((row, ri) => {
    const el = h(doc, 'div', row.kind === 'deadlock' ? 'row grid deadlock' : 'row grid', {
      role: 'option', id: `row-${ri}`, tabindex: '-1', 'aria-selected': 'false', 'aria-label': rowLabel(tl, ri),
    }, h(doc, 'div', 'idx', {}, row.kind === 'step' ? String(row.step.index) : '✗'));
    for (let t = 0; t < n; t++) {
      const cell = h(doc, 'div', 'cell');
      const s = row.kind === 'step' ? (row.step.threadIndex === t ? row.step : undefined) : row.blocked.find((b) => b.step.threadIndex === t)?.step;
      if (s) cell.appendChild(stepCard(doc, s, r, tl));
      el.appendChild(cell);
    }
    el.addEventListener('click', () => actions.pick(ri));
    page.rows.push(el);
    list.appendChild(el);
  });
  wrap.appendChild(list);
  const state = h(doc, 'div', 'grid state', { 'aria-label': 'Locks held after the selected step' }, h(doc, 'div', 'idx', { title: 'held after the selected step' }, 'held'));
  for (let t = 0; t < n; t++) {
    const cell = h(doc, 'div', 'cell');
    page.stateCells.push(cell);
    state.appendChild(cell);
  }
  wrap.appendChild(state);
  return wrap;
}

function renderLockdep(doc: Document, r: SimulateResult): HTMLElement {
  return h(doc, 'details', 'lockdep', {}, h(doc, 'summary', undefined, {}, 'lockdep report'), h(doc, 'pre', undefined, {}, r.lockdep));
}

/** Marks row `pos` as the current one, updates the held-locks row, the position text and the buttons. */
export function showPosition(doc: Document, page: Page, pos: number, playing: boolean): void {
  const tl = page.timeline;
  const total = tl?.rows.length ?? 0;
  const last = total - 1;
  page.rows.forEach((el, r) => {
    el.classList.toggle('current', r === pos);
    el.classList.toggle('future', r > pos);
    el.classList.toggle('reached', r === pos && tl!.rows[r].kind === 'deadlock');
    el.setAttribute('aria-selected', r === pos ? 'true' : 'false');
    el.setAttribute('tabindex', r === pos ? '0' : '-1');
  });
  if (tl && total > 0) {
    const atEnd = pos === last && tl.rows[last].kind === 'deadlock';
    page.stateCells.forEach((cell, t) => {
      const status = statusAfter(tl, pos, t);
      cell.replaceChildren(h(doc, 'div', `status ${status}`, {}, status));
      lockChips(doc, cell, tl.holds[pos][t], atEnd ? tl.cycleLocks : undefined);
    });
    const row = tl.rows[pos];
    const steps = tl.rows.filter((x) => x.kind === 'step').length;
    page.position.textContent = row.kind === 'deadlock' ? `Deadlock (after step ${steps})` : `Step ${row.step.index} of ${steps}`;
  } else page.position.textContent = total === 0 ? 'No steps' : '';
  const b = page.buttons;
  b.first.disabled = b.prev.disabled = total === 0 || pos <= 0;
  b.next.disabled = b.last.disabled = total === 0 || pos >= last;
  b.play.disabled = total < 2;
  b.play.textContent = playing ? '⏸ Pause' : '▶ Play';
  b.play.setAttribute('aria-pressed', playing ? 'true' : 'false');
}
