// What the language status item shows, as plain data.
// This file imports nothing from `vscode`, so node:test can check the rendering without an editor.
import type { StatusParams } from '../../server/src/lsp/protocol';

/** Where the client is in the server's lifecycle, as seen from the extension host. */
export type ClientPhase =
  | 'starting' // we asked for a start and wait for `initialize` to finish
  | 'running' // the server is up and has not sent `reclaimLens/status` yet
  | 'restarting' // the server went away and vscode-languageclient is starting it again
  | 'stopped' // the server went away and will not be restarted automatically
  | 'startFailed'; // the server never got through `initialize`

export type StatusInput =
  | { kind: 'client'; phase: ClientPhase }
  | { kind: 'server'; params: StatusParams };

export type StatusSeverity = 'information' | 'warning' | 'error';
export type StatusCommand = 'reclaimLens.showOutput' | 'reclaimLens.restartServer';

export interface StatusView {
  text: string;
  detail: string;
  severity: StatusSeverity;
  busy: boolean;
  command: StatusCommand;
  commandTitle: string;
}

/** An analysis of one file that takes at least this long turns the item into a warning (vscode-eslint does the same). */
export const SLOW_ANALYSIS_MS = 4000;

const NAME = 'Reclaim Lens';
// Warning and error states carry no icon in the text: VS Code draws the severity's own icon next to the item.
const SHOW_OUTPUT = { command: 'reclaimLens.showOutput', commandTitle: 'Show Output' } as const;
const RESTART = { command: 'reclaimLens.restartServer', commandTitle: 'Restart Server' } as const;

/**
 * Renders the status item for the latest input.
 * `lastKernelVersion` is the version from the last server report, kept so client-side phases can still show it.
 */
export function renderStatus(input: StatusInput, lastKernelVersion = ''): StatusView {
  if (input.kind === 'client') return renderClientPhase(input.phase, lastKernelVersion);
  return renderServerStatus(input.params);
}

function title(version: string): string {
  return version ? `${NAME}: ${version}` : NAME;
}

function renderClientPhase(phase: ClientPhase, version: string): StatusView {
  switch (phase) {
    case 'starting':
      return { text: `${NAME}: starting`, detail: 'Starting the language server', severity: 'information', busy: true, ...SHOW_OUTPUT };
    case 'running':
      return { text: title(version), detail: 'Language server running', severity: 'information', busy: false, ...SHOW_OUTPUT };
    case 'restarting':
      return {
        text: `${NAME}: restarting`,
        detail: 'The language server stopped unexpectedly and is being restarted; the output has the details',
        severity: 'warning',
        busy: true,
        ...SHOW_OUTPUT,
      };
    case 'stopped':
      return {
        text: `${NAME}: server stopped`,
        detail: 'The language server stopped and was not restarted; click to restart it',
        severity: 'error',
        busy: false,
        ...RESTART,
      };
    case 'startFailed':
      return {
        text: `${NAME}: failed to start`,
        detail: 'The language server could not start; the output has the details',
        severity: 'error',
        busy: false,
        ...SHOW_OUTPUT,
      };
  }
}

function renderServerStatus(p: StatusParams): StatusView {
  const timing = p.lastAnalysisMs > 0 ? `last analysis ${formatMs(p.lastAnalysisMs)}` : '';
  switch (p.state) {
    case 'starting':
      return { text: `${NAME}: starting`, detail: join(p.message, ''), severity: 'information', busy: true, ...SHOW_OUTPUT };
    case 'analysing':
      return { text: title(p.kernelVersion), detail: join(p.message || 'Analysing', timing), severity: 'information', busy: true, ...SHOW_OUTPUT };
    case 'ready': {
      const slow = p.lastAnalysisMs >= SLOW_ANALYSIS_MS;
      return {
        text: slow ? title(p.kernelVersion) : `$(pass) ${title(p.kernelVersion)}`,
        detail: join(p.message, slow ? `slow: ${timing}` : timing),
        severity: slow ? 'warning' : 'information',
        busy: false,
        ...SHOW_OUTPUT,
      };
    }
    case 'error':
      return { text: title(p.kernelVersion), detail: join(p.message || 'Analysis failed', ''), severity: 'error', busy: false, ...SHOW_OUTPUT };
  }
}

function join(a: string, b: string): string {
  return [a, b].filter((s) => s.length > 0).join(' · ');
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
