// The simulation webview's HTML: a fixed page with a strict CSP; the model data arrives only by postMessage and is
// rendered as text (client/webview/render.ts). Imports no `vscode`, so tests can check the page.
import { randomBytes } from 'node:crypto';
import { STYLE } from '../../webview/style';

export interface PageOptions {
  /** `webview.cspSource` */
  cspSource: string;
  nonce: string;
  /** `webview.asWebviewUri(dist/webview.js)` */
  scriptUri: string;
}

/** 128 random bits, base64: a fresh nonce for every page. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/** For text and double-quoted attribute values. */
function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function contentSecurityPolicy(o: Pick<PageOptions, 'cspSource' | 'nonce'>): string {
  return [
    "default-src 'none'",
    `style-src ${o.cspSource} 'nonce-${o.nonce}'`,
    `script-src 'nonce-${o.nonce}'`,
    `img-src ${o.cspSource} data:`,
  ].join('; ');
}

export function webviewHtml(o: PageOptions): string {
  const nonce = escapeHtml(o.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Reclaim Lens: Simulation</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<div id="app" aria-busy="true"><p class="muted">Loading the simulation…</p></div>
<script nonce="${nonce}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}
