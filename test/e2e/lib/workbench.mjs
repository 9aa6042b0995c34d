// Driving the VS Code workbench (code-server 4.100.3 in Debian's Chromium) with playwright-core.
// Every wait is on a DOM state with a timeout; nothing sleeps. The selectors are VS Code 1.100's
// (see shared/docs/real-vscode-e2e.md).
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Chromium flags that work on these machines (no network but the registries, no sandbox as root). */
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** Monaco renders spaces as U+00A0 (and tabs as runs of them): compare text after this. */
export const normalise = (s) => s.replace(/[\u00a0\s]+/g, ' ').trim();

/** A regular expression for `literal`, with any run of white space (NBSP included) matching any other. */
export const loose = (literal) =>
  new RegExp(literal.split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+'));

export class Workbench {
  /**
   * @param {{ url: string, workspace: string, artifacts: string, run: string }} env
   */
  constructor(env) {
    this.env = env;
    this.shots = 0;
    this.server = undefined;
    this.browser = undefined;
    this.page = undefined;
  }

  static fromEnv() {
    const need = (k) => {
      const v = process.env[k];
      if (!v) throw new Error(`${k} is not set: run the e2e test with bash test/e2e/run.sh`);
      return v;
    };
    return new Workbench({
      url: need('RL_E2E_URL'), workspace: need('RL_E2E_WORKSPACE'), artifacts: need('RL_E2E_ARTIFACTS'), run: need('RL_E2E_RUN'),
    });
  }

  /** Waits for code-server's /healthz, starts Chromium and opens the workspace folder. */
  async open() {
    try {
      await this.openWorkspace();
    } catch (error) {
      let shot = '(none: no page)';
      if (this.page) shot = await this.shot('open-workspace-FAILED').catch(() => shot);
      const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      throw new Error(`opening the workspace failed: ${first}\n    screenshot: ${shot}`, { cause: error });
    }
  }

  async openWorkspace() {
    await waitForHealth(`${this.env.url}/healthz`, 30_000);
    // launchServer (not launch) so the browser's process id is known: playwright starts Chromium as the leader of
    // a process group of its own, and run.sh stops that group even when this process dies first.
    this.server = await chromium.launchServer({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const pid = this.server.process().pid;
    if (pid) writeFileSync(join(this.env.run, 'chromium.pgid'), String(pid));
    this.browser = await chromium.connect(this.server.wsEndpoint());
    const context = await this.browser.newContext({ viewport: { width: 1440, height: 900 } });
    this.page = await context.newPage();
    this.page.setDefaultTimeout(20_000);
    await this.page.goto(`${this.env.url}/?folder=${encodeURIComponent(this.env.workspace)}`);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // The explorer shows the folder once the workbench has restored its layout.
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
  }

  async close() {
    await this.browser?.close().catch(() => undefined);
    await this.server?.close().catch(() => undefined);
  }

  /** Saves a screenshot as test-artifacts/e2e/NN-name.png and returns its path. */
  async shot(name, options = {}) {
    const file = join(this.env.artifacts, `${String(++this.shots).padStart(2, '0')}-${name}.png`);
    await (options.locator ?? this.page).screenshot({ path: file, animations: 'disabled' });
    return file;
  }

  /** A picture for the README (scripts/screenshots.sh copies these to docs/images/). */
  async readmeShot(name, locator) {
    const dir = join(this.env.artifacts, 'readme');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name}.png`);
    await (locator ?? this.page).screenshot({ path: file, animations: 'disabled' });
    return file;
  }

  get keyboard() {
    return this.page.keyboard;
  }

  /** Closes hovers, widgets and the quick input. */
  async escape(times = 2) {
    for (let i = 0; i < times; i++) await this.page.keyboard.press('Escape');
  }

  /** Quick Open (Ctrl+P): opens a workspace file by its path and waits for its editor tab to be active. */
  async openFile(relPath) {
    const base = relPath.split('/').pop();
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(relPath);
    await this.page.locator(`.quick-input-list .monaco-list-row[aria-label*="${base}"]`).first().waitFor();
    await this.page.keyboard.press('Enter');
    await this.page.locator(`.tabs-container .tab.active[aria-label*="${base}"]`).waitFor();
    await this.activeEditor().locator('.view-lines .view-line').first().waitFor();
  }

  /** The focused editor group's editor. */
  activeEditor() {
    return this.page.locator('.editor-group-container.active .monaco-editor').first();
  }

  /** Moves the keyboard focus to the active editor (by clicking its tab) and waits for it. */
  async focusEditor() {
    await this.page.locator('.editor-group-container.active .tabs-container .tab.active').click();
    await this.page.locator('.editor-group-container.active .monaco-editor.focused').waitFor();
  }

  /**
   * Puts the workbench in a known state for the next step: no widget open, the panel hidden, one editor group
   * (editors stay open). Steps that open something beside (the simulation view) start from one column again.
   */
  async reset() {
    await this.escape();
    await this.closePanel();
    await this.closeSimulationView();
    if ((await this.page.locator('.editor-group-container').count()) > 1) {
      await this.runCommand('View: Single Column Editor Layout');
      await this.page.locator('.editor-group-container').nth(1).waitFor({ state: 'detached' });
    }
  }

  /** Go to Line/Column (Ctrl+G), 1-based (the column counts characters, a tab is one), and waits for the line. */
  async gotoLine(line, column = 1) {
    await this.page.keyboard.press('Control+G');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    // The status bar counts a tab as tabSize columns, Go to Line counts characters: compare the line only.
    await this.page.locator('[id="status.editor.selection"]', { hasText: `Ln ${line},` }).waitFor();
  }

  /** The rendered editor line whose text matches `text` (a string compared loosely, or a RegExp). */
  line(text) {
    return this.activeEditor().locator('.view-lines .view-line', { hasText: typeof text === 'string' ? loose(text) : text });
  }

  /**
   * Runs a command from the Command Palette by its label ("Category: Title") and waits for the palette to close.
   */
  async runCommand(label) {
    await this.openPalette(label);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
    await row.waitFor();
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /**
   * Opens the quick fix menu (Ctrl+.) at the cursor and runs the action whose row shows `title`: moves the focus
   * to it with the arrow keys (the menu has no filter; clicking a row times out) and presses Enter.
   */
  async runQuickFix(title) {
    await this.keyboard.press('Control+.');
    const rows = this.page.locator('.action-widget .monaco-list-row');
    await rows.filter({ hasText: title }).first().waitFor();
    const focused = this.page.locator('.action-widget .monaco-list-row.focused');
    const n = await rows.count();
    for (let i = 0; i <= n; i++) {
      if ((await focused.count()) > 0 && (await focused.first().innerText()).includes(title)) {
        await this.keyboard.press('Enter');
        await this.page.locator('.action-widget').waitFor({ state: 'hidden' });
        return;
      }
      await this.keyboard.press('ArrowDown');
    }
    const seen = (await rows.allInnerTexts()).map(normalise).join(' | ');
    throw new Error(`the quick fix menu never focused "${title}"; its rows: ${seen}`);
  }

  /** Moves the mouse to the empty part of the explorer and waits for the workbench's tooltips (a tab's path) to go. */
  async dismissHovers() {
    await this.page.mouse.move(150, 700);
    await this.page.locator('.workbench-hover').first().waitFor({ state: 'hidden' });
  }

  /** Opens the Command Palette filtered by `filter`; leaves it open. */
  async openPalette(filter) {
    const input = this.page.locator('.quick-input-widget input');
    // F1 is lost when the keyboard focus is inside a webview (the simulation view) that has not forwarded it yet:
    // then focus the workbench (the status bar) and press it again.
    for (let attempt = 0; ; attempt++) {
      await this.page.keyboard.press('F1');
      try {
        await input.waitFor({ timeout: attempt < 2 ? 4000 : undefined });
        break;
      } catch (e) {
        if (attempt >= 2) throw e;
        await this.page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } });
      }
    }
    await input.fill(`>${filter}`);
  }

  /** Closes the "Reclaim Lens: Simulation" editor if one is open (the next run then opens it beside the editor). */
  async closeSimulationView() {
    const tab = this.page.locator('.tabs-container .tab', { hasText: 'Reclaim Lens: Simulation' });
    if ((await tab.count()) === 0) return;
    // A middle click closes a tab without moving the keyboard focus into the webview (where F1 can get lost).
    await tab.first().click({ button: 'middle' });
    await tab.first().waitFor({ state: 'detached' });
  }

  /** The content of the simulation webview (VS Code nests the page in two iframes). */
  simulationView() {
    return this.page.frameLocator('iframe.webview').first().frameLocator('#active-frame');
  }

  /** Shows the Problems panel (Ctrl+Shift+M) and returns it. */
  async problemsPanel() {
    const panel = this.page.locator('.markers-panel');
    if (!(await panel.isVisible())) await this.page.keyboard.press('Control+Shift+M');
    await panel.waitFor();
    return panel;
  }

  /** Hides the panel area (Problems, Output) if it is open. */
  async closePanel() {
    const panel = this.page.locator('.part.panel');
    if (await panel.isVisible()) {
      await this.runCommand('View: Hide Panel');
      await panel.waitFor({ state: 'hidden' });
    }
  }

  /**
   * Hovers the language status item ({} in the status bar) and returns the hover's text once it matches `re`;
   * re-opens the hover until then, since the item's text changes while the server works.
   */
  async languageStatus(re, timeout = 30_000) {
    const entry = this.page.locator('[id="status.languageStatus"]');
    await entry.waitFor();
    const hover = this.page.locator('.hover-language-status').first();
    let last = '';
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      await entry.hover();
      await hover.waitFor();
      last = normalise(await hover.innerText());
      if (re.test(last)) return last;
      // Move away and wait for the hover to go before looking again.
      await this.page.mouse.move(640, 300);
      await hover.waitFor({ state: 'hidden' });
    }
    throw new Error(`language status never matched ${re}; last: ${last}`);
  }
}

async function waitForHealth(url, timeout) {
  const deadline = Date.now() + timeout;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    // Between polls of a server that is starting; not a wait for a DOM state.
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`code-server did not answer ${url} within ${timeout} ms (${last})`);
}
