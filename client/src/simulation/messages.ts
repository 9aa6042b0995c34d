// The messages between the simulation panel (extension host, panel.ts) and its webview (client/webview/main.ts),
// and the state the webview persists for the panel serializer. Imports no `vscode`: the webview bundle and the
// tests use it too. Everything that arrives from the webview is untrusted and goes through a parse function here.
import type { ModelProblem, SimulateResult } from '../../../server/src/lsp/protocol';

/** What the panel simulates: a model file (or untitled model document), or a model text from the detector. */
export type PanelSource =
  | { kind: 'file'; uri: string }
  | {
    kind: 'text';
    text: string;
    /** The document whose folder the model's `@file` paths are resolved against (the C file of the finding). */
    baseUri?: string;
    /** The untitled `.rlsim` document "Open model" created for the text; re-runs use its current text. */
    docUri?: string;
  };

/** Extension host → webview. */
export type HostMessage =
  | { type: 'busy'; source: PanelSource; title: string }
  | { type: 'show'; source: PanelSource; title: string; result: SimulateResult }
  | { type: 'failed'; source: PanelSource; title: string; message: string; problems: ModelProblem[] };

/** Webview → extension host. Steps are named by their position in `result.steps`, never by a path. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'reveal'; step: number }
  | { type: 'revealModel'; line: number }
  | { type: 'openModel' }
  | { type: 'rerun' };

/** What the webview stores with `setState` and the serializer gets back after a reload. */
export interface PanelState {
  version: 1;
  source: PanelSource;
  title: string;
  /** The last result, shown at once after a reload until a fresh run arrives. */
  result?: SimulateResult;
  position?: number;
}

export const MAX_MODEL_TEXT = 4 * 1024 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 1e6;

/** Validates a message from the webview; anything else is dropped. */
export function parseWebviewMessage(m: unknown): WebviewMessage | undefined {
  if (!isObject(m) || typeof m.type !== 'string') return undefined;
  switch (m.type) {
    case 'ready': case 'openModel': case 'rerun':
      return { type: m.type };
    case 'reveal':
      return isIndex(m.step) ? { type: 'reveal', step: m.step } : undefined;
    case 'revealModel':
      return isIndex(m.line) ? { type: 'revealModel', line: m.line } : undefined;
    default:
      return undefined;
  }
}

/**
 * Validates a source restored from webview state. A file source must name a `.rlsim` model (a `file:` path or an
 * untitled document): the state is written by the webview, so it must not make the host read other files.
 */
export function parsePanelSource(s: unknown): PanelSource | undefined {
  if (!isObject(s)) return undefined;
  if (s.kind === 'file' && typeof s.uri === 'string' && isModelUri(s.uri)) return { kind: 'file', uri: s.uri };
  if (s.kind === 'text' && typeof s.text === 'string' && s.text.length <= MAX_MODEL_TEXT) {
    const src: PanelSource = { kind: 'text', text: s.text };
    if (typeof s.baseUri === 'string' && /^file:/.test(s.baseUri)) src.baseUri = s.baseUri;
    if (typeof s.docUri === 'string' && /^untitled:/.test(s.docUri)) src.docUri = s.docUri;
    return src;
  }
  return undefined;
}

export function isModelUri(uri: string): boolean {
  return /^file:\/\/[^?#]*\.rlsim$/i.test(uri) || /^untitled:[^?#]*$/.test(uri);
}

export function parsePanelState(s: unknown): PanelState | undefined {
  if (!isObject(s) || s.version !== 1) return undefined;
  const source = parsePanelSource(s.source);
  if (!source) return undefined;
  return { version: 1, source, title: typeof s.title === 'string' ? s.title.slice(0, 500) : 'model' };
}
