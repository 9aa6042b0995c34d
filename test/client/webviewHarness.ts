// A static page that runs dist/webview.js as the panel would, for headless Chromium: the panel's own HTML (CSP and
// nonce included), a stub acquireVsCodeApi, and a driver that posts a host message and presses keys.
// Used by webview.test.ts; `node --import tsx test/client/webviewHarness.ts OUT.png [model.rlsim] [keys]` takes a
// screenshot for a visual check.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { webviewHtml } from '../../client/src/simulation/html';
import type { HostMessage } from '../../client/src/simulation/messages';

const ROOT = path.join(__dirname, '..', '..');
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));

/** VS Code's Dark Modern colours for the variables the stylesheet uses (the webview gets them from the editor). */
const DARK_THEME = `
html {
  --vscode-font-family: system-ui, sans-serif; --vscode-font-size: 13px; --vscode-editor-font-family: monospace; --vscode-editor-font-size: 12px;
  --vscode-editor-foreground: #cccccc; --vscode-editor-background: #1f1f1f; --vscode-descriptionForeground: #9d9d9d;
  --vscode-errorForeground: #f85149; --vscode-panel-border: #2b2b2b; --vscode-focusBorder: #0078d4;
  --vscode-button-background: #0078d4; --vscode-button-foreground: #ffffff; --vscode-button-hoverBackground: #026ec1;
  --vscode-button-secondaryBackground: #313131; --vscode-button-secondaryForeground: #cccccc; --vscode-button-border: #ffffff12;
  --vscode-list-inactiveSelectionBackground: #37373d; --vscode-list-hoverBackground: #2a2d2e; --vscode-editorWidget-background: #202020;
  --vscode-badge-background: #616161; --vscode-badge-foreground: #f8f8f8; --vscode-textLink-foreground: #4daafc;
  --vscode-inputValidation-errorBackground: #5a1d1d; --vscode-textCodeBlock-background: #2b2b2b; --vscode-testing-iconPassed: #73c991;
  --vscode-charts-blue: #3794ff; --vscode-charts-purple: #b180d7; --vscode-charts-orange: #d18616; --vscode-charts-yellow: #cca700;
}`;

export interface HarnessOptions {
  /** false: drop the CSP meta, to show that escaping alone keeps hostile names inert. */
  csp?: boolean;
  /** Keys to press after the message, e.g. ['ArrowRight', 'ArrowRight']. */
  keys?: string[];
}

/** JSON inside an inline script: `<` escaped, so a `</script>` in a model name cannot end the script. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function harnessHtml(message: HostMessage, opts: HarnessOptions = {}): string {
  const nonce = 'harness-nonce-1234';
  let html = webviewHtml({ cspSource: 'file:', nonce, scriptUri: pathToFileURL(path.join(ROOT, 'dist', 'webview.js')).toString() });
  if (opts.csp === false) html = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\n/, '');
  const stub = `<style nonce="${nonce}">${DARK_THEME}</style>
<script nonce="${nonce}">
window.__posted = [];
window.alert = () => document.documentElement.setAttribute('data-pwned', 'alert');
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => undefined, setState: (s) => { window.__state = s; } });
</script>
`;
  const driver = `
<script nonce="${nonce}">
window.dispatchEvent(new MessageEvent('message', { data: ${scriptJson(message)} }));
for (const key of ${scriptJson(opts.keys ?? [])}) document.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
document.body.setAttribute('data-posted', JSON.stringify(window.__posted));
</script>`;
  html = html.replace('</head>', `${stub}</head>`).replace('</body>', `${driver}\n</body>`);
  return html;
}

function runChromium(html: string, args: string[]): { stdout: string; dir: string } {
  if (!CHROMIUM) throw new Error('no chromium');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reclaim-lens-webview-'));
  const page = path.join(dir, 'page.html');
  fs.writeFileSync(page, html);
  const r = spawnSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--allow-file-access-from-files', `--user-data-dir=${path.join(dir, 'profile')}`,
    ...args, pathToFileURL(page).toString(),
  ], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`chromium exited with ${r.status}: ${r.stderr}`);
  return { stdout: r.stdout, dir };
}

/** The page's DOM after the driver ran, serialised by Chromium. */
export function dumpDom(html: string): string {
  const { stdout, dir } = runChromium(html, ['--dump-dom']);
  fs.rmSync(dir, { recursive: true, force: true });
  return stdout;
}

export function screenshot(html: string, out: string, size = '1280,900'): void {
  const { dir } = runChromium(html, [`--screenshot=${out}`, `--window-size=${size}`, '--hide-scrollbars']);
  fs.rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) {
  // Manual visual check: render a model's simulation (through the engine, as the server does) and screenshot it.
  void (async () => {
    const { simulateText } = await import('../../server/src/ide/simulation');
    const { toSimulateResult } = await import('../../server/src/lsp/rlsim');
    const [out, model = path.join(ROOT, 'test/fixtures/models/xfs-ilock-super-cache-scan.rlsim'), keys = ''] = process.argv.slice(2);
    const o = simulateText(fs.readFileSync(model, 'utf8'), { name: path.basename(model) });
    const msg: HostMessage = o.ok
      ? { type: 'show', source: { kind: 'file', uri: pathToFileURL(model).toString() }, title: path.basename(model), result: toSimulateResult(o.report, () => undefined) }
      : { type: 'failed', source: { kind: 'file', uri: pathToFileURL(model).toString() }, title: path.basename(model), message: o.message, problems: [] };
    screenshot(harnessHtml(msg, { keys: keys ? keys.split(',') : [] }), path.resolve(out));
    console.log(`wrote ${out}`);
  })();
}
