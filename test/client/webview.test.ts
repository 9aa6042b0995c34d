// The simulation webview: rendered against a small fake document (fakeDom.ts) and, where Debian's Chromium is
// installed, in a real headless browser with the panel's own HTML and CSP (webviewHarness.ts). Hostile model
// names must render as text; the page must carry a nonce CSP and no inline handlers; the replay must move.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../client/src/simulation/html';
import {
  isModelUri, parsePanelSource, parsePanelState, parseWebviewMessage, type HostMessage, type PanelState, type WebviewMessage,
} from '../../client/src/simulation/messages';
import { allowedRoot, isInside } from '../../client/src/simulation/paths';
import { boot, PLAY_INTERVAL_MS, type App } from '../../client/webview/main';
import { STYLE } from '../../client/webview/style';
import { simulateText } from '../../server/src/ide/simulation';
import { toSimulateResult } from '../../server/src/lsp/rlsim';
import type { SimulateResult } from '../../server/src/lsp/protocol';
import { FakeDocument, type FakeElement } from './fakeDom';
import { CHROMIUM, dumpDom, harnessHtml } from './webviewHarness';

const ROOT = path.join(__dirname, '..', '..');
const HOSTILE_FILE = path.join(ROOT, 'test', 'fixtures', 'simulation', 'hostile.rlsim');
const XFS_FILE = path.join(ROOT, 'test', 'fixtures', 'models', 'xfs-ilock-super-cache-scan.rlsim');
const IMG = '<img src=x onerror=alert(1)>';
const SCRIPT = '</script><script>alert(1)</script>';

function resultOf(file: string): SimulateResult {
  const o = simulateText(fs.readFileSync(file, 'utf8'), { name: path.basename(file) });
  assert.ok(o.ok, o.ok ? '' : o.message);
  return toSimulateResult(o.report, (f) => (f === 'fs/a.c' ? '/ws/fs/a.c' : undefined));
}

function show(file: string): HostMessage {
  return { type: 'show', source: { kind: 'file', uri: pathToFileURL(file).toString() }, title: path.basename(file), result: resultOf(file) };
}

interface Harness {
  app: App;
  doc: FakeDocument;
  root: FakeElement;
  posted: WebviewMessage[];
  states: PanelState[];
  receive(m: HostMessage): void;
  tick(): void;
  timers: Map<number, () => void>;
}

function start(saved?: unknown): Harness {
  const doc = new FakeDocument();
  const posted: WebviewMessage[] = [];
  const states: PanelState[] = [];
  const timers = new Map<number, () => void>();
  let nextTimer = 1;
  let onMessage: ((e: { data: unknown }) => void) | undefined;
  const app = boot({
    window: { addEventListener: (t, l) => { if (t === 'message') onMessage = l; } },
    document: doc as unknown as Document,
    api: { postMessage: (m) => posted.push(m), getState: () => saved, setState: (s) => states.push(s) },
    setInterval: (fn, ms) => {
      assert.equal(ms, PLAY_INTERVAL_MS);
      timers.set(nextTimer, fn);
      return nextTimer++;
    },
    clearInterval: (id) => timers.delete(id as number),
  });
  return {
    app, doc, root: doc.getElementById('app')!, posted, states, timers,
    receive: (m) => onMessage!({ data: m }),
    tick: () => [...timers.values()].forEach((fn) => fn()),
  };
}

const rows = (h: Harness) => h.root.all().filter((e) => e.getAttribute('role') === 'option');
const current = (h: Harness) => rows(h).findIndex((r) => r.classList.contains('current'));
const button = (h: Harness, act: string) => h.root.all().find((e) => e.getAttribute('data-act') === act)!;

/** Tags the webview may create: anything else (img, script, iframe, svg, …) would mean markup got through. */
const ALLOWED_TAGS = new Set(['DIV', 'SPAN', 'SECTION', 'HEADER', 'H1', 'P', 'UL', 'LI', 'BUTTON', 'STRONG', 'DETAILS', 'SUMMARY', 'PRE']);

function assertInert(h: Harness): void {
  for (const el of h.root.all()) {
    assert.ok(ALLOWED_TAGS.has(el.tagName), `unexpected <${el.tagName.toLowerCase()}> in the page`);
    for (const name of el.attributes.keys()) assert.ok(!/^on/i.test(name) && name !== 'style' && name !== 'href' && name !== 'src', `attribute ${name}`);
  }
}

test('a hostile model renders as text: names, notes, files, callbacks and the lockdep report', () => {
  const h = start();
  assert.deepEqual(h.posted, [{ type: 'ready' }]);
  h.receive(show(HOSTILE_FILE));
  assertInert(h);
  const texts = h.root.texts();
  const all = texts.join('\n');
  // Thread headers, lock chips and the model title are the raw strings, as text nodes.
  assert.ok(texts.includes(IMG), 'the thread / lock name is a text node of its own');
  assert.ok(texts.includes(SCRIPT));
  assert.equal(h.root.byClass('head').length, 2);
  assert.ok(h.root.byClass('head')[0].textContent.startsWith(IMG));
  assert.ok(h.root.byClass('head')[1].textContent.startsWith(SCRIPT));
  assert.equal(h.root.all().find((e) => e.tagName === 'H1')?.textContent, IMG);
  for (const s of ['<svg onload=alert(2)>', '<iframe src=javascript:alert(4)>', '<b onmouseover=alert(5)>x</b>', '<img/src=x/onerror=alert(3)>.c:7']) {
    assert.ok(all.includes(s), `${s} is shown as text`);
  }
  const pre = h.root.all().find((e) => e.tagName === 'PRE')!;
  assert.match(pre.textContent, /WARNING: possible circular locking dependency detected/);
  assert.ok(pre.textContent.includes(`lock(${IMG})`));
  // Serialised, every one of them is escaped.
  const html = h.root.innerHTML;
  assert.ok(!/<(img|script|svg|iframe|b)[\s/>]/i.test(html), 'no markup from the model');
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(html.includes('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
});

test('a failure with hostile problem messages renders as text, and problems link to model lines', () => {
  const h = start();
  const source = { kind: 'text' as const, text: `thread t {\n  ${IMG}\n}\n` };
  const o = simulateText(source.text, {});
  assert.equal(o.ok, false);
  if (o.ok) return;
  const problems = o.problems.map((p) => ({ range: { start: { line: p.line - 1, character: p.column - 1 }, end: { line: p.endLine - 1, character: p.endColumn - 1 } }, severity: p.severity, message: p.message }));
  h.receive({ type: 'failed', source, title: SCRIPT, message: o.message, problems });
  assertInert(h);
  assert.equal(h.root.byClass('verdict')[0].textContent, 'The model has errors');
  assert.equal(h.root.byClass('summary')[0].all().find((e) => e.tagName === 'P')?.textContent, 'The model does not parse; fix it and save (or Re-run):');
  assert.ok(h.root.texts().some((t) => t.includes("unknown step '<img'")), h.root.texts().join('|'));
  assert.equal(h.root.all().find((e) => e.tagName === 'H1')?.textContent, SCRIPT);
  const link = h.root.byClass('problems')[0].all().find((e) => e.tagName === 'BUTTON')!;
  assert.equal(link.textContent, 'line 2, column 3');
  link.click();
  assert.deepEqual(h.posted.at(-1), { type: 'revealModel', line: 1 });
  assert.equal(rows(h).length, 0);
  // Without problems (the server is down, a file cannot be read), the message itself is shown.
  h.receive({ type: 'failed', source, title: 't', message: `cannot read ${IMG}.rlsim: ENOENT`, problems: [] });
  assertInert(h);
  assert.equal(h.root.byClass('summary')[0].all().find((e) => e.tagName === 'P')?.textContent, `cannot read ${IMG}.rlsim: ENOENT`);
});

test('a run of another model clears the old result while it is busy', () => {
  const h = start();
  h.receive(show(XFS_FILE));
  h.receive({ type: 'busy', source: { kind: 'text', text: 'x' }, title: 'other' });
  assert.equal(rows(h).length, 0);
  assert.equal(h.root.all().find((e) => e.tagName === 'H1')?.textContent, 'other');
  assert.equal(h.root.byClass('verdict')[0].textContent, 'Running the model…');
  assert.equal(h.root.getAttribute('aria-busy'), 'true');
});

test('swimlanes: one column per thread, steps in time order, held locks per thread, the cycle at the end', () => {
  const h = start();
  const msg = show(XFS_FILE);
  h.receive(msg);
  const r = (msg as Extract<HostMessage, { type: 'show' }>).result;
  assert.deepEqual(h.root.byClass('head').map((e) => e.texts()[0]), ['syz-executor', 'kswapd0']);
  assert.equal(rows(h).length, r.length + 1, 'one row per executed step, then the deadlock row');
  // Each step row has its card in its own thread's column (cells follow the index cell).
  r.steps.filter((s) => !s.blocked).forEach((s, i) => {
    const cells = rows(h)[i].children.slice(1) as FakeElement[];
    assert.equal(cells.length, 2);
    cells.forEach((c, t) => assert.equal(c.byClass('card').length, t === s.threadIndex ? 1 : 0, `row ${i}, lane ${t}`));
    assert.equal((rows(h)[i].children[0] as FakeElement).textContent, String(s.index));
  });
  const last = rows(h).at(-1)!;
  assert.ok(last.classList.contains('deadlock'));
  assert.equal(last.byClass('blocked').length, 1);
  assert.equal(last.byClass('cycle').length, 1, 'the blocked step on the cycle is marked');
  assert.match(last.getAttribute('aria-label')!, /^Deadlock after step 5: syz-executor blocked at lock\(&xfs_nondir_ilock_class\): blocked/);
  assert.match(rows(h)[2].getAttribute('aria-label')!, /^Step 3 of 5, syz-executor: alloc\(GFP_KERNEL\) → direct reclaim → super_cache_scan .*, fs\/iomap\/buffered-io\.c:1557, holds &xfs_nondir_ilock_class$/);

  const held = () => h.root.byClass('state')[0].byClass('cell').map((c) => c.byClass('lock').map((l) => l.textContent));
  const status = () => h.root.byClass('state')[0].byClass('status').map((s) => s.textContent);
  assert.deepEqual(held(), [[], []], 'after step 1 (kswapd0 reclaims nothing)');
  assert.deepEqual(status(), ['running', 'done']);
  h.doc.key('End');
  assert.deepEqual(held(), [['&xfs_nondir_ilock_class', '&sb->s_umount (read)'], []]);
  assert.deepEqual(status(), ['blocked', 'done']);
  assert.ok(last.classList.contains('reached'));
  assert.ok(h.root.byClass('state')[0].byClass('contended').length === 1, 'the lock the cycle waits for is highlighted');
  assert.equal(h.root.byClass('chain')[0].textContent, '&xfs_nondir_ilock_class → fs_reclaim → &xfs_nondir_ilock_class');
});

test('step navigation: keys, buttons and play move the highlighted row', () => {
  const h = start();
  h.receive(show(XFS_FILE));
  const n = rows(h).length;
  const pos = () => h.root.byClass('position')[0].textContent;
  assert.equal(current(h), 0);
  assert.equal(pos(), 'Step 1 of 5');
  assert.ok(button(h, 'prev').disabled && button(h, 'first').disabled && !button(h, 'next').disabled);
  assert.equal(rows(h)[0].getAttribute('aria-selected'), 'true');
  assert.equal(rows(h)[0].getAttribute('tabindex'), '0');
  assert.equal(rows(h)[1].getAttribute('tabindex'), '-1');
  assert.ok(rows(h)[1].classList.contains('future'));

  let e = h.doc.key('ArrowRight');
  assert.ok(e.defaultPrevented);
  assert.equal(current(h), 1);
  assert.ok(!rows(h)[1].classList.contains('future'));
  assert.equal(rows(h)[0].getAttribute('aria-selected'), 'false');
  assert.equal(pos(), 'Step 2 of 5');
  h.doc.key('ArrowDown');
  assert.equal(current(h), 2);
  h.doc.key('ArrowLeft');
  assert.equal(current(h), 1);
  h.doc.key('End');
  assert.equal(current(h), n - 1);
  assert.equal(pos(), 'Deadlock (after step 5)');
  assert.ok(button(h, 'next').disabled && button(h, 'last').disabled);
  h.doc.key('ArrowRight');
  assert.equal(current(h), n - 1, 'stays at the end');
  h.doc.key('Home');
  assert.equal(current(h), 0);

  button(h, 'next').click();
  button(h, 'next').click();
  assert.equal(current(h), 2);
  button(h, 'prev').click();
  assert.equal(current(h), 1);
  button(h, 'last').click();
  assert.equal(current(h), n - 1);
  button(h, 'first').click();
  assert.equal(current(h), 0);

  // Focus on a row follows the selection (roving tabindex).
  rows(h)[0].focus();
  h.doc.key('ArrowRight');
  assert.equal(h.doc.activeElement, rows(h)[1]);
  assert.ok(rows(h)[1].scrolled > 0, 'the current row is scrolled into view');

  // Space plays from the current row to the end, then stops; on a button, Space is the button's.
  e = h.doc.key(' ');
  assert.ok(e.defaultPrevented);
  assert.ok(h.app.playing);
  assert.equal(button(h, 'play').textContent, '⏸ Pause');
  assert.equal(button(h, 'play').getAttribute('aria-pressed'), 'true');
  for (let i = 0; i < n + 2; i++) h.tick();
  assert.equal(current(h), n - 1);
  assert.equal(h.app.playing, false);
  assert.equal(h.timers.size, 0, 'the interval is cleared');
  assert.equal(button(h, 'play').textContent, '▶ Play');
  e = h.doc.key(' ', button(h, 'next'));
  assert.equal(e.defaultPrevented, false);
  assert.equal(h.app.playing, false);
  button(h, 'play').click();
  assert.equal(current(h), 0, 'play at the end starts over');
  h.tick();
  assert.equal(current(h), 1);
  button(h, 'play').click();
  assert.equal(h.app.playing, false);
});

test('clicking a step or pressing Enter on it asks the host to reveal it, by position only', () => {
  const h = start();
  const msg = show(XFS_FILE) as Extract<HostMessage, { type: 'show' }>;
  h.receive(msg);
  rows(h)[2].click();
  assert.equal(current(h), 2);
  assert.deepEqual(h.posted.at(-1), { type: 'reveal', step: 2 });
  assert.equal(msg.result.steps[2].action, 'alloc');
  rows(h).at(-1)!.focus();
  h.doc.key('Enter');
  assert.deepEqual(h.posted.at(-1), { type: 'reveal', step: msg.result.steps.findIndex((s) => s.blocked) });
  h.doc.key('Enter', h.doc.body);
  assert.equal(h.posted.filter((m) => m.type === 'reveal').length, 2, 'Enter outside a row does nothing');
  button(h, 'openModel').click();
  button(h, 'rerun').click();
  assert.deepEqual(h.posted.slice(-2), [{ type: 'openModel' }, { type: 'rerun' }]);
});

test('state: saved for the serializer, restored at once, kept across a re-run of the same model', () => {
  const h = start();
  const msg = show(XFS_FILE);
  h.receive(msg);
  h.doc.key('ArrowRight');
  h.doc.key('ArrowRight');
  const saved = h.states.at(-1)!;
  assert.equal(saved.version, 1);
  assert.deepEqual(saved.source, msg.source);
  assert.equal(saved.position, 2);
  assert.ok(saved.result);
  assert.deepEqual(parsePanelState(JSON.parse(JSON.stringify(saved))), { version: 1, source: msg.source, title: 'xfs-ilock-super-cache-scan.rlsim' });

  // Busy keeps the rows; the result of a re-run of the same model keeps the position.
  h.receive({ type: 'busy', source: msg.source, title: 'x' });
  assert.equal(rows(h).length, 6);
  assert.match(h.root.byClass('verdict')[0].textContent, /re-running…$/);
  assert.ok(button(h, 'rerun').disabled);
  h.receive(msg);
  assert.equal(current(h), 2);
  // Another model starts at the first step.
  h.receive(show(HOSTILE_FILE));
  assert.equal(current(h), 0);

  const restored = start(saved);
  assert.equal(rows(restored).length, 6, 'rendered from the saved state before any message');
  assert.equal(current(restored), 2);
  assert.equal(start({ version: 2 }).root.texts().join(''), '', 'unknown state is ignored');
});

test('a model without deadlock has lanes but nothing to replay', () => {
  const h = start();
  h.receive(show(XFS_FILE.replace('super-cache-scan', 'gfp-nofs-fixed')));
  assert.equal(rows(h).length, 0);
  assert.match(h.root.byClass('verdict')[0].textContent, /^No deadlock · \d+ states explored/);
  assert.ok(h.root.texts().some((t) => t.startsWith('Every interleaving of the 2 threads finishes')));
  assert.equal(h.root.byClass('head').length, 2);
  assert.ok(button(h, 'play').disabled && button(h, 'next').disabled);
  assert.equal(h.doc.key('ArrowRight').defaultPrevented, true);
});

test('the panel HTML: nonce CSP, no inline handlers, no unnonced or inline scripts, no remote content', () => {
  const nonce = makeNonce();
  assert.notEqual(nonce, makeNonce());
  assert.ok(Buffer.from(nonce, 'base64').length >= 16);
  const cspSource = 'https://*.vscode-cdn.net';
  const html = webviewHtml({ cspSource, nonce, scriptUri: 'https://file%2B.vscode-resource.vscode-cdn.net/ext/dist/webview.js' });
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
  assert.equal(csp, `default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src ${cspSource} data:`);
  assert.equal(csp, contentSecurityPolicy({ cspSource, nonce }));
  assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<style'), 'the CSP comes before any style or script');
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  for (const [, attrs, body] of scripts) {
    assert.ok(attrs.includes(`nonce="${nonce}"`), 'script has the nonce');
    assert.match(attrs, /src="https:\/\/file%2B\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\.js"/);
    assert.equal(body.trim(), '', 'no inline script code');
  }
  assert.equal((html.match(/<script\b/g) ?? []).length, 1);
  for (const [, attrs] of html.matchAll(/<style\b([^>]*)>/g)) assert.ok(attrs.includes(`nonce="${nonce}"`));
  assert.ok(!/\son[a-z]+\s*=/i.test(html), 'no inline event handlers');
  assert.ok(!/\sstyle\s*=/i.test(html), 'no style attributes');
  assert.ok(!/(?:src|href)="(?!https:\/\/file%2B)/.test(html), 'nothing else is loaded');
  assert.ok(!/https?:\/\/(?!file%2B\.vscode-resource)/.test(html.replaceAll(cspSource, '')), 'no remote content');
  assert.ok(!STYLE.includes('</'), 'the stylesheet cannot end its <style> element');
  assert.ok(!/url\(|@import/.test(STYLE), 'the stylesheet loads nothing');
  // A nonce is an attribute value: even a hostile one cannot open markup.
  assert.ok(!webviewHtml({ cspSource, nonce: '"><script>', scriptUri: 'x' }).includes('"><script>'));
});

test('the webview sources build the DOM without markup APIs', () => {
  const dir = path.join(ROOT, 'client', 'webview');
  const sources = fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')] as const);
  assert.ok(sources.length >= 3);
  for (const [f, src] of sources) {
    for (const bad of [/\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/, /\beval\(/, /new Function\b/, /setAttribute\(\s*'(on|style)/]) {
      assert.ok(!bad.test(src), `${f} uses ${bad}`);
    }
  }
  const bundle = path.join(ROOT, 'dist', 'webview.js');
  if (fs.existsSync(bundle)) {
    const js = fs.readFileSync(bundle, 'utf8');
    assert.ok(!/innerHTML|insertAdjacentHTML|document\.write/.test(js), 'dist/webview.js');
    assert.ok(!/\brequire\(/.test(js), 'dist/webview.js is browser code');
  }
});

test('messages from the webview and restored state are validated', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'reveal', step: 3 }), { type: 'reveal', step: 3 });
  assert.deepEqual(parseWebviewMessage({ type: 'rerun', extra: 'x' }), { type: 'rerun' });
  for (const bad of [null, 'reveal', [], { type: 'reveal' }, { type: 'reveal', step: -1 }, { type: 'reveal', step: 1.5 }, { type: 'reveal', step: '1' },
    { type: 'reveal', file: '/etc/passwd' }, { type: 'open', uri: 'file:///etc/passwd' }, { type: 'revealModel', line: 1e9 }]) {
    assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
  }
  assert.ok(isModelUri('file:///ws/models/a.rlsim'));
  assert.ok(isModelUri('untitled:Untitled-1'));
  assert.ok(!isModelUri('file:///etc/passwd'));
  assert.ok(!isModelUri('file:///ws/a.rlsim?x=.c'));
  assert.ok(!isModelUri('https://example.com/a.rlsim'));
  assert.equal(parsePanelSource({ kind: 'file', uri: 'file:///etc/shadow' }), undefined);
  assert.deepEqual(parsePanelSource({ kind: 'text', text: 'x', baseUri: 'https://evil/', docUri: 'file:///etc/passwd' }), { kind: 'text', text: 'x' });
  assert.deepEqual(parsePanelSource({ kind: 'text', text: 'x', baseUri: 'file:///ws/a.c', docUri: 'untitled:Untitled-2' }), { kind: 'text', text: 'x', baseUri: 'file:///ws/a.c', docUri: 'untitled:Untitled-2' });
  assert.equal(parsePanelState({ version: 1, source: { kind: 'file', uri: 'file:///x.c' }, title: 't' }), undefined);
});

test('revealed files must lie inside the workspace or beside the model', () => {
  assert.ok(isInside('/ws/fs/super.c', '/ws'));
  assert.ok(!isInside('/ws', '/ws'));
  assert.ok(!isInside('/ws2/a.c', '/ws'));
  assert.ok(!isInside('/ws/../etc/passwd', '/ws'));
  assert.ok(isInside('/ws/..a.c', '/ws'));
  assert.equal(allowedRoot('/models/local.c', ['/ws', '/models']), '/models');
  assert.equal(allowedRoot('/etc/passwd', ['/ws', '/models']), undefined);
});

// No skips: CI installs Debian's chromium (.ci/run); without it these tests fail and say what to install.
const needChromium = () => assert.ok(CHROMIUM, 'Debian chromium is not installed (apt-get install chromium)');

test('in headless Chromium with the panel\'s CSP: the hostile model renders as text and navigation works', () => {
  needChromium();
  const msg = show(HOSTILE_FILE);
  const dom = dumpDom(harnessHtml(msg, { keys: ['ArrowRight', 'ArrowRight'] }));
  assert.ok(!/<html[^>]*data-pwned/.test(dom), 'no script of the model ran');
  const app = dom.slice(dom.indexOf('<div id="app"'), dom.indexOf('<script', dom.indexOf('<div id="app"')));
  assert.match(app, /<div class="row grid current" role="option" id="row-2" tabindex="0" aria-selected="true"/, 'two → keys moved the selection to row 3');
  assert.ok(!/<(img|svg|iframe|b)[\s/>]/i.test(app), 'no markup from the model in the page');
  assert.equal((dom.match(/<script\b/g) ?? []).length, 3, 'the harness stub, dist/webview.js and the harness driver: nothing else');
  assert.ok(app.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(app.includes('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.match(dom, /data-posted="\[\{&quot;type&quot;:&quot;ready&quot;\}\]"/);
});

test('in headless Chromium without any CSP, escaping alone keeps the hostile model inert', () => {
  needChromium();
  const dom = dumpDom(harnessHtml(show(HOSTILE_FILE), { csp: false }));
  assert.ok(!dom.includes('Content-Security-Policy'));
  assert.ok(dom.includes('Deadlock (circular)'), 'the page rendered');
  assert.ok(!/<html[^>]*data-pwned/.test(dom), 'alert() was never called');
  const app = dom.slice(dom.indexOf('<div id="app"'), dom.indexOf('<script', dom.indexOf('<div id="app"')));
  assert.ok(!/<(img|svg|iframe|script|b)[\s/>]/i.test(app));
});
