// The simulation webview (bundled by esbuild to dist/webview.js, loaded by client/src/simulation/panel.ts).
// Receives the panel's messages, renders with render.ts, replays the trace (buttons, keyboard, play) and keeps its
// state with setState so the panel serializer can restore it after a reload. Talks to the host only by postMessage.
import type { HostMessage, PanelSource, PanelState, WebviewMessage } from '../src/simulation/messages';
import { renderPage, showPosition, type Action, type Page, type View } from './render';

export interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: PanelState): void;
}

/** Everything the app touches outside itself, so tests can pass fakes. */
export interface Env {
  window: { addEventListener(type: 'message' | 'resize', listener: (e: { data: unknown }) => void): void };
  document: Document;
  api: VsCodeApi;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(id: unknown): void;
}

export const PLAY_INTERVAL_MS = 900;

const CONTROLS = new Set(['BUTTON', 'SUMMARY', 'A', 'INPUT', 'SELECT', 'TEXTAREA']);

export class App {
  private view: View = { title: 'model', busy: true };
  private source: PanelSource | undefined;
  private page: Page | undefined;
  private pos = 0;
  private timer: unknown;

  constructor(private readonly env: Env, private readonly root: HTMLElement) {}

  get position(): number {
    return this.pos;
  }

  get playing(): boolean {
    return this.timer !== undefined;
  }

  /** Shows the state saved before a reload at once; a fresh run replaces it. */
  restore(saved: unknown): void {
    const s = saved as Partial<PanelState> | undefined;
    if (!s || s.version !== 1 || typeof s.title !== 'string') return;
    this.source = s.source;
    this.view = { title: s.title, busy: true, result: s.result };
    this.pos = typeof s.position === 'number' ? s.position : 0;
    this.render();
  }

  receive(m: HostMessage): void {
    if (!m || typeof m !== 'object' || typeof m.type !== 'string') return;
    const same = JSON.stringify(m.source) === JSON.stringify(this.source);
    this.source = m.source;
    if (m.type === 'busy') this.view = same ? { ...this.view, title: m.title, busy: true } : { title: m.title, busy: true };
    else if (m.type === 'show') {
      this.view = { title: m.title, busy: false, result: m.result };
      if (!same) this.pos = 0;
    } else if (m.type === 'failed') this.view = { title: m.title, busy: false, failure: { message: m.message, problems: m.problems } };
    else return;
    if (!same || m.type === 'failed') this.stop();
    this.render();
    this.persist();
  }

  private get last(): number {
    return (this.page?.timeline?.rows.length ?? 0) - 1;
  }

  private render(): void {
    const doc = this.env.document;
    const active = doc.activeElement as HTMLElement | null;
    const hadRow = active?.getAttribute?.('role') === 'option';
    const act = active?.getAttribute?.('data-act') as Action | null | undefined;
    this.page = renderPage(doc, this.root, this.view, this);
    this.layout();
    this.pos = Math.max(0, Math.min(this.pos, this.last));
    showPosition(doc, this.page, this.pos, this.playing);
    if (hadRow) this.page.rows[this.pos]?.focus();
    else if (act && this.page.buttons[act] && !this.page.buttons[act].disabled) this.page.buttons[act].focus();
  }

  /** The thread headings stick below the header bar, whose height depends on the panel's width. */
  layout(): void {
    const height = this.page?.bar.getBoundingClientRect?.().height;
    if (height) this.root.style.setProperty('--bar-height', `${Math.ceil(height)}px`);
  }

  private persist(): void {
    if (!this.source) return;
    this.env.api.setState({ version: 1, source: this.source, title: this.view.title, result: this.view.result, position: this.pos });
  }

  /** Selects row `p` (clamped); moves the focus along when it was on a row. */
  select(p: number, focusRow = false): void {
    if (!this.page) return;
    this.pos = Math.max(0, Math.min(p, this.last));
    showPosition(this.env.document, this.page, this.pos, this.playing);
    const row = this.page.rows[this.pos];
    if (row) {
      row.scrollIntoView?.({ block: 'nearest' });
      if (focusRow) row.focus();
    }
    this.persist();
  }

  act(a: Action): void {
    switch (a) {
      case 'first': return this.select(0);
      case 'prev': return this.select(this.pos - 1);
      case 'next': return this.select(this.pos + 1);
      case 'last': return this.select(this.last);
      case 'play': return this.playing ? this.stop() : this.play();
      case 'openModel': return this.env.api.postMessage({ type: 'openModel' });
      case 'rerun': return this.env.api.postMessage({ type: 'rerun' });
    }
  }

  /** A click on a row: select it and ask the host to reveal its source line. */
  pick(r: number): void {
    this.select(r);
    this.reveal();
  }

  revealModel(line: number): void {
    this.env.api.postMessage({ type: 'revealModel', line });
  }

  private reveal(): void {
    const row = this.page?.timeline?.rows[this.pos];
    if (!row) return;
    const at = row.kind === 'step' ? row.at : (row.blocked.find((b) => this.page!.timeline!.cycleThreads.has(b.step.threadIndex)) ?? row.blocked[0]).at;
    this.env.api.postMessage({ type: 'reveal', step: at });
  }

  private play(): void {
    if (this.last < 1) return;
    if (this.pos >= this.last) this.select(0);
    this.timer = this.env.setInterval(() => {
      if (this.pos >= this.last) this.stop();
      else this.select(this.pos + 1);
    }, PLAY_INTERVAL_MS);
    if (this.page) showPosition(this.env.document, this.page, this.pos, true);
  }

  private stop(): void {
    if (this.timer === undefined) return;
    this.env.clearInterval(this.timer);
    this.timer = undefined;
    if (this.page) showPosition(this.env.document, this.page, this.pos, false);
  }

  /** ←/↑ previous, →/↓ next, Home/End, Space play/pause (buttons keep their own Space), Enter on a row reveals. */
  key(e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const target = e.target as HTMLElement | null;
    const onControl = !!target?.tagName && CONTROLS.has(target.tagName.toUpperCase());
    const onRow = target?.getAttribute?.('role') === 'option';
    let handled = true;
    switch (e.key) {
      case 'ArrowRight': case 'ArrowDown': this.select(this.pos + 1, onRow); break;
      case 'ArrowLeft': case 'ArrowUp': this.select(this.pos - 1, onRow); break;
      case 'Home': this.select(0, onRow); break;
      case 'End': this.select(this.last, onRow); break;
      case ' ': case 'Spacebar':
        if (onControl) return;
        this.act('play');
        break;
      case 'Enter': {
        const r = onRow ? this.page?.rows.indexOf(target!) ?? -1 : -1;
        if (r < 0) return;
        this.pick(r);
        break;
      }
      default: handled = false;
    }
    if (handled) e.preventDefault();
  }
}

export function boot(env: Env): App {
  const root = env.document.getElementById('app');
  if (!root) throw new Error('no #app element');
  const app = new App(env, root);
  app.restore(env.api.getState());
  env.window.addEventListener('message', (e) => app.receive(e.data as HostMessage));
  env.window.addEventListener('resize', () => app.layout());
  env.document.addEventListener('keydown', (e) => app.key(e));
  env.api.postMessage({ type: 'ready' });
  return app;
}

declare function acquireVsCodeApi(): VsCodeApi;

if (typeof acquireVsCodeApi === 'function') {
  boot({
    window, document, api: acquireVsCodeApi(),
    setInterval: (fn, ms) => window.setInterval(fn, ms),
    clearInterval: (id) => window.clearInterval(id as number),
  });
}
