// The simulation webview's stylesheet. The panel inlines it in a <style> element carrying the CSP nonce, so it
// ships inside dist/client.js (no extra file for the VSIX). Colours are VS Code theme variables, with fallbacks
// for a plain browser (the test harness).
export const STYLE = `
:root { color-scheme: light dark; }
body {
  margin: 0; padding: 0 16px 16px;
  color: var(--vscode-editor-foreground, #ccc);
  background: var(--vscode-editor-background, #1e1e1e);
  font-family: var(--vscode-font-family, system-ui, sans-serif);
  font-size: var(--vscode-font-size, 13px);
}
.mono, .label, .loc, .lock, pre { font-family: var(--vscode-editor-font-family, monospace); }
header.bar {
  position: sticky; top: 0; z-index: 3; display: flex; flex-wrap: wrap; align-items: center; gap: 6px 12px;
  padding: 10px 0 8px; background: var(--vscode-editor-background, #1e1e1e);
  border-bottom: 1px solid var(--vscode-panel-border, rgba(128, 128, 128, 0.35));
}
h1 { margin: 0; font-size: 1.15em; font-weight: 600; }
.verdict { padding: 1px 8px; border-radius: 10px; border: 1px solid currentColor; font-weight: 600; }
.verdict.deadlock, .verdict.failed {
  color: var(--vscode-errorForeground, #f48771);
  background: var(--vscode-inputValidation-errorBackground, rgba(255, 0, 0, 0.12));
}
.verdict.no-deadlock { color: var(--vscode-testing-iconPassed, #73c991); }
.verdict.limit, .verdict.busy { color: var(--vscode-editorWarning-foreground, #cca700); }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; margin-left: auto; }
.toolbar .gap { width: 10px; }
button {
  font: inherit; padding: 2px 9px; border-radius: 2px; cursor: pointer;
  color: var(--vscode-button-secondaryForeground, #fff);
  background: var(--vscode-button-secondaryBackground, #3a3d41);
  border: 1px solid var(--vscode-button-border, transparent);
}
button:hover { background: var(--vscode-button-secondaryHoverBackground, #45494e); }
button.primary { color: var(--vscode-button-foreground, #fff); background: var(--vscode-button-background, #0e639c); }
button.primary:hover { background: var(--vscode-button-hoverBackground, #1177bb); }
button:disabled { opacity: 0.5; cursor: default; }
:focus-visible { outline: 1px solid var(--vscode-focusBorder, #007fd4); outline-offset: 1px; }
.position { min-width: 9em; text-align: center; font-variant-numeric: tabular-nums; color: var(--vscode-descriptionForeground, #9d9d9d); }
.summary { margin: 10px 0; line-height: 1.6; }
.summary .chain { font-weight: 600; }
.muted, .detail, .meta, .note, .role { color: var(--vscode-descriptionForeground, #9d9d9d); }
.problems, .warnings { margin: 8px 0; padding-left: 1.2em; }
.problems li { margin: 3px 0; }
.problems button, .linklike {
  padding: 0; border: none; background: none; color: var(--vscode-textLink-foreground, #3794ff); text-decoration: underline;
}
.timeline { margin-top: 6px; }
.grid { display: grid; grid-template-columns: 2.6em repeat(var(--lanes, 2), minmax(13em, 1fr)); column-gap: 8px; }
.heads { position: sticky; top: var(--bar-height, 52px); z-index: 2; background: var(--vscode-editor-background, #1e1e1e); padding: 4px 0; }
.head { font-weight: 600; padding: 2px 6px; border-bottom: 2px solid var(--vscode-panel-border, rgba(128, 128, 128, 0.35)); overflow-wrap: anywhere; }
.head.cycle { border-bottom-color: var(--vscode-errorForeground, #f48771); }
.row { cursor: pointer; border-radius: 3px; }
.row:hover { background: var(--vscode-list-hoverBackground, rgba(128, 128, 128, 0.12)); }
.row.future { opacity: 0.45; }
.row.current { background: var(--vscode-list-inactiveSelectionBackground, rgba(128, 128, 128, 0.22)); outline: 1px solid var(--vscode-focusBorder, #007fd4); }
.row.current:focus-visible { outline-width: 2px; }
.idx { padding: 6px 4px; text-align: right; font-variant-numeric: tabular-nums; color: var(--vscode-descriptionForeground, #9d9d9d); }
.cell { padding: 3px 0 3px 8px; border-left: 2px solid var(--vscode-panel-border, rgba(128, 128, 128, 0.35)); min-width: 0; }
.card {
  padding: 3px 7px; border-radius: 3px; overflow-wrap: anywhere;
  border: 1px solid var(--vscode-panel-border, rgba(128, 128, 128, 0.35));
  border-left: 3px solid var(--vscode-charts-blue, #3794ff);
  background: var(--vscode-editorWidget-background, #252526);
}
.card.callback { border-left-color: var(--vscode-charts-purple, #b180d7); }
.card.failed { border-left-color: var(--vscode-charts-orange, #d18616); }
.card.queued { border-left-color: var(--vscode-charts-yellow, #cca700); }
.card.blocked { border-color: var(--vscode-errorForeground, #f48771); background: var(--vscode-inputValidation-errorBackground, rgba(255, 0, 0, 0.12)); }
.row.reached .card.cycle { box-shadow: 0 0 0 2px var(--vscode-errorForeground, #f48771); }
.label { font-weight: 600; }
.detail, .meta, .note, .holds { font-size: 0.92em; margin-top: 1px; }
.note { font-style: italic; }
.loc { color: var(--vscode-textLink-foreground, #3794ff); }
.lock {
  display: inline-block; margin: 1px 3px 1px 0; padding: 0 6px; border-radius: 8px; font-size: 0.88em;
  color: var(--vscode-badge-foreground, #fff); background: var(--vscode-badge-background, #4d4d4d);
}
.lock.contended { outline: 1px solid var(--vscode-errorForeground, #f48771); }
.state {
  position: sticky; bottom: 0; z-index: 2; margin-top: 8px; padding: 6px 0;
  background: var(--vscode-editor-background, #1e1e1e); border-top: 1px solid var(--vscode-panel-border, rgba(128, 128, 128, 0.35));
}
.state .status { font-size: 0.85em; text-transform: uppercase; letter-spacing: 0.04em; }
.state .status.blocked { color: var(--vscode-errorForeground, #f48771); }
.state .status.done { color: var(--vscode-testing-iconPassed, #73c991); }
.empty { margin: 16px 0; }
details.lockdep { margin-top: 14px; }
details.lockdep summary { cursor: pointer; font-weight: 600; }
pre {
  margin: 6px 0 0; padding: 8px 10px; overflow: auto; white-space: pre;
  font-size: var(--vscode-editor-font-size, 12px);
  background: var(--vscode-textCodeBlock-background, rgba(128, 128, 128, 0.12));
}
@media (prefers-reduced-motion: no-preference) { .row { transition: opacity 120ms; } }
`;
