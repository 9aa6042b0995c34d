// Hardening of the simulation webview (#8), beside webview.test.ts (which shows that the hostile model of
// test/fixtures/simulation/hostile.rlsim renders as text, in the fake DOM and in Chromium): here, that the panel's
// CSP is what it must be to block inline script, and that in Chromium it does block it. Markup is injected into the
// panel's own page as if escaping had failed — an inline <script>, one with a wrong nonce, inline event handlers and
// a javascript: link — and none of it runs, while the page's nonced scripts do; without the CSP the same probes run,
// so they are live and the CSP is what stops them.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../client/src/simulation/html';
import type { HostMessage } from '../../client/src/simulation/messages';
import { simulateText } from '../../server/src/ide/simulation';
import { toSimulateResult } from '../../server/src/lsp/rlsim';
import { CHROMIUM, dumpDom, harnessHtml } from './webviewHarness';

const ROOT = path.join(__dirname, '..', '..');
const HOSTILE_FILE = path.join(ROOT, 'test', 'fixtures', 'simulation', 'hostile.rlsim');

function showHostile(): HostMessage {
  const o = simulateText(fs.readFileSync(HOSTILE_FILE, 'utf8'), { name: 'hostile.rlsim' });
  assert.ok(o.ok, o.ok ? '' : o.message);
  return { type: 'show', source: { kind: 'file', uri: pathToFileURL(HOSTILE_FILE).toString() }, title: 'hostile.rlsim', result: toSimulateResult(o.report, () => undefined) };
}

/** The directives of a CSP, each with its sources. */
function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...sources]) => [name, sources]));
}

test('the panel CSP allows scripts by nonce only: no inline script, handler, eval or javascript: URL', () => {
  const nonce = makeNonce();
  const cspSource = 'https://*.vscode-cdn.net';
  const html = webviewHtml({ cspSource, nonce, scriptUri: 'https://file%2B.vscode-resource.vscode-cdn.net/ext/dist/webview.js' });
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
  assert.equal(meta, contentSecurityPolicy({ cspSource, nonce }));
  const d = directives(meta!);
  assert.deepEqual(d.get('default-src'), ["'none'"], 'everything not named is blocked (frames, objects, connections)');
  assert.deepEqual(d.get('script-src'), [`'nonce-${nonce}'`], 'scripts: only those carrying this page\'s nonce');
  for (const [name, sources] of d) {
    for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'strict-dynamic'", '*', 'data:', 'blob:']) {
      assert.ok(!(name === 'script-src' || name === 'default-src') || !sources.includes(bad), `${name} allows ${bad}`);
    }
    assert.ok(!sources.includes("'unsafe-inline'"), `${name} allows 'unsafe-inline'`);
  }
  assert.ok(!d.has('script-src-attr') && !d.has('script-src-elem'), 'no directive widens script-src');
  // The CSP is the first thing in <head> that could load or run anything.
  assert.ok(html.indexOf('Content-Security-Policy') < html.search(/<(script|style|link)\b/));
});

const PROBES = [
  '<script>document.documentElement.setAttribute("data-probe-inline", "ran")</script>',
  '<script nonce="not-the-nonce">document.documentElement.setAttribute("data-probe-wrong-nonce", "ran")</script>',
  '<img src="x-missing.png" onerror="document.documentElement.setAttribute(\'data-probe-onerror\', \'ran\')">',
  '<svg onload="document.documentElement.setAttribute(\'data-probe-onload\', \'ran\')"></svg>',
  '<a id="probe-link" href="javascript:document.documentElement.setAttribute(\'data-probe-href\', \'ran\')">x</a>',
].join('\n');
const PROBE_NAMES = ['inline', 'wrong-nonce', 'onerror', 'onload', 'href'];

/** The panel page with the hostile model shown, the probes injected before the app, and the link clicked. */
function probedPage(csp: boolean): string {
  const html = harnessHtml(showHostile(), { csp });
  const click = `<script nonce="harness-nonce-1234">document.getElementById('probe-link').click();</script>`;
  assert.ok(html.includes('<div id="app"'));
  return html.replace('<div id="app"', `${PROBES}\n${click}\n<div id="app"`);
}

const ran = (dom: string) => PROBE_NAMES.filter((n) => new RegExp(`<html[^>]*data-probe-${n}="ran"`).test(dom));

// No skips: CI installs Debian's chromium (.ci/run); without it these tests fail and say what to install.
const needChromium = () => assert.ok(CHROMIUM, 'Debian chromium is not installed (apt-get install chromium)');

test('in headless Chromium the panel CSP blocks injected inline script and handlers; the nonced page script runs', { timeout: 120_000 }, () => {
  needChromium();
  const dom = dumpDom(probedPage(true));
  assert.deepEqual(ran(dom), [], 'no injected script ran under the CSP');
  assert.ok(!/<html[^>]*data-pwned/.test(dom), 'no alert() from the model');
  // The page's own (nonced) scripts did run: the block is the CSP's doing, not a page that runs nothing.
  assert.match(dom, /data-posted="\[\{&quot;type&quot;:&quot;ready&quot;\}\]"/);
  assert.ok(dom.includes('Deadlock (circular)'), 'the model rendered');
  const app = dom.slice(dom.indexOf('<div id="app"'), dom.indexOf('<script', dom.indexOf('<div id="app"')));
  assert.ok(app.includes('&lt;img src=x onerror=alert(1)&gt;'), 'the hostile names are text');
  assert.ok(app.includes('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(!/<(img|svg|iframe|script|b)[\s/>]/i.test(app), 'no markup from the model');
});

test('in headless Chromium without the CSP the same probes run: they are live, the CSP is what stops them', { timeout: 120_000 }, () => {
  needChromium();
  const dom = dumpDom(probedPage(false));
  assert.ok(!dom.includes('Content-Security-Policy'));
  for (const n of ['inline', 'wrong-nonce', 'onerror', 'href']) assert.ok(ran(dom).includes(n), `${n} ran without the CSP: ${ran(dom)}`);
  // Escaping alone still keeps the model's strings inert.
  assert.ok(!/<html[^>]*data-pwned/.test(dom));
});
