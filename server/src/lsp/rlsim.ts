// `.rlsim` model files in the editor (the model language: docs/rlsim.md): parse problems as diagnostics, hover and
// go-to-source on steps, the "▶ Run model" code lens, and the `reclaimLens/simulate` request.
// Conversion and IO only; the feature logic is ide/simulation.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeLensRefreshRequest, DiagnosticSeverity, ErrorCodes, LSPErrorCodes, MarkupKind, ResponseError,
  type CodeLens, type Connection, type Diagnostic, type Hover, type Location, type Position, type Range,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import {
  modelDefinition, modelHover, modelLenses, resolveSourceFile, simulateText, type SimulationReport,
} from '../ide/simulation';
import { parseModel, type Problem, type Span } from '../simulate';
import type { ModelProblem, SimLocation, SimulateErrorData, SimulateParams, SimulateResult } from './protocol';

/** What the server advertises for models, beside its other capabilities. */
export const RLSIM_CAPABILITIES = {
  definitionProvider: true,
  codeLensProvider: { resolveProvider: false },
} as const;

/** The command the code lenses run; the client registers it (client/src/commands.ts). */
export const SIMULATE_MODEL_COMMAND = 'reclaimLens.simulateModel';

/** Models larger than this are not read from disk (they are hand-written or generated per finding: kilobytes). */
const MAX_MODEL_BYTES = 4 * 1024 * 1024;

export function isRlsim(doc: TextDocument): boolean {
  return doc.languageId === 'rlsim' || doc.uri.endsWith('.rlsim');
}

function toRange(s: Span): Range {
  return { start: { line: s.line - 1, character: s.column - 1 }, end: { line: s.endLine - 1, character: s.endColumn - 1 } };
}

export function rlsimDiagnostics(doc: TextDocument): Diagnostic[] {
  const { problems } = parseModel(doc.getText());
  return problems.map((p) => ({
    range: toRange(p),
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: 'reclaim-lens',
    message: p.message,
  }));
}

/** Folders a model's `@file` paths are resolved against: the folder of `uri` (a file URI), then the workspace root. */
export function sourceBases(uri: string | undefined, rootPath: string | undefined): string[] {
  const bases: string[] = [];
  if (uri?.startsWith('file:')) {
    try {
      bases.push(path.dirname(fileURLToPath(uri)));
    } catch {
      // not a local file: only the workspace root applies
    }
  }
  if (rootPath && !bases.includes(rootPath)) bases.push(rootPath);
  return bases;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** A resolver for one request: each distinct `@file` is looked up once. */
function resolver(bases: string[]): (file: string) => string | undefined {
  const seen = new Map<string, string | undefined>();
  return (file) => {
    if (!seen.has(file)) seen.set(file, resolveSourceFile(file, bases, isFile));
    return seen.get(file);
  };
}

function fileUri(abs: string): string {
  // Parentheses would end a Markdown link target early.
  return pathToFileURL(abs).toString().replace(/\(/g, '%28').replace(/\)/g, '%29');
}

export function rlsimHover(doc: TextDocument, pos: Position, bases: string[]): Hover | null {
  const resolve = resolver(bases);
  const h = modelHover(doc.getText(), pos.line + 1, pos.character + 1, (loc) => {
    const abs = resolve(loc.file);
    return abs ? `${fileUri(abs)}#L${loc.line}` : undefined;
  });
  return h ? { range: toRange(h.span), contents: { kind: MarkupKind.Markdown, value: h.markdown } } : null;
}

export function rlsimDefinition(doc: TextDocument, pos: Position, bases: string[]): Location | null {
  const d = modelDefinition(doc.getText(), pos.line + 1, pos.character + 1, resolver(bases));
  if (!d) return null;
  if (d.kind === 'model') return { uri: doc.uri, range: toRange(d.target) };
  const at = { line: d.line - 1, character: Math.max(0, (d.column ?? 1) - 1) };
  return { uri: pathToFileURL(d.file).toString(), range: { start: at, end: at } };
}

/** The verdict of the last run of each open model, valid for the document version it ran on. */
export class ModelRuns {
  private readonly runs = new Map<string, { version: number; summary: string }>();

  record(uri: string, version: number, summary: string): void {
    this.runs.set(uri, { version, summary });
  }

  summaryFor(doc: TextDocument): string | undefined {
    const r = this.runs.get(doc.uri);
    return r && r.version === doc.version ? r.summary : undefined;
  }

  forget(uri: string): void {
    this.runs.delete(uri);
  }
}

export function rlsimCodeLenses(doc: TextDocument, runs: ModelRuns): CodeLens[] {
  return modelLenses(runs.summaryFor(doc)).map((l) => {
    const at = { line: l.line - 1, character: 0 };
    return { range: { start: at, end: at }, command: { title: l.title, command: SIMULATE_MODEL_COMMAND, arguments: [doc.uri] } };
  });
}

/** Asks the client to re-request code lenses (the verdict lens changed); a client without the request ignores it. */
export function refreshCodeLenses(connection: Connection): void {
  connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
}

export interface SimulateContext {
  document(uri: string): TextDocument | undefined;
  rootPath(): string | undefined;
  runs: ModelRuns;
  /** Called after a run of an open document, to refresh its code lens. */
  ran(): void;
  error(message: string): void;
}

function problemOf(p: Problem): ModelProblem {
  return { range: toRange(p), severity: p.severity, message: p.message };
}

/** Bad params: InvalidParams; a model that does not parse: RequestFailed, with its problems. */
function fail(message: string, problems?: Problem[]): ResponseError<SimulateErrorData> {
  const code = problems ? LSPErrorCodes.RequestFailed : ErrorCodes.InvalidParams;
  return new ResponseError<SimulateErrorData>(code, message, { problems: (problems ?? []).map(problemOf) });
}

/** The model text of a request: the open document, else the file on disk; a string is an error message. */
function modelOf(p: SimulateParams, ctx: SimulateContext): { text: string; name: string; base?: string; doc?: TextDocument } | string {
  if ('text' in p && typeof p.text === 'string') return { text: p.text, name: 'the model', base: p.baseUri };
  if (!('uri' in p) || typeof p.uri !== 'string') return 'reclaimLens/simulate needs { uri } or { text, baseUri? }';
  const name = path.posix.basename(p.uri);
  const doc = ctx.document(p.uri);
  if (doc) return { text: doc.getText(), name, base: p.uri, doc };
  if (!p.uri.startsWith('file:')) return `${p.uri} is not open and not a local file`;
  try {
    const file = fileURLToPath(p.uri);
    if (fs.statSync(file).size > MAX_MODEL_BYTES) return `${name} is larger than ${MAX_MODEL_BYTES / 1048576} MB`;
    return { text: fs.readFileSync(file, 'utf8'), name, base: p.uri };
  } catch (e) {
    return `cannot read ${name}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

export function toSimulateResult(r: SimulationReport, resolve: (file: string) => string | undefined): SimulateResult {
  const loc = (l: { file: string; line: number } | undefined): SimLocation | undefined => {
    if (!l) return undefined;
    const abs = resolve(l.file);
    return abs ? { ...l, uri: pathToFileURL(abs).toString() } : { ...l };
  };
  return {
    ...r,
    steps: r.steps.map(({ modelSpan, location, ...s }) => ({ ...s, location: loc(location), modelRange: toRange(modelSpan) })),
    links: r.links.map((l) => ({ ...l, location: loc(l.location) })),
    warnings: r.warnings.map((w) => ({ range: toRange(w), message: w.message })),
  };
}

/** `reclaimLens/simulate`: never throws; failures are ResponseErrors with a message for the user. */
export function simulate(p: SimulateParams, ctx: SimulateContext): SimulateResult | ResponseError<SimulateErrorData> {
  try {
    const m = modelOf(p ?? {}, ctx);
    if (typeof m === 'string') return fail(m);
    const outcome = simulateText(m.text, { name: m.name });
    if (!outcome.ok) return fail(outcome.message, outcome.problems);
    if (m.doc) {
      ctx.runs.record(m.doc.uri, m.doc.version, outcome.report.summary);
      ctx.ran();
    }
    return toSimulateResult(outcome.report, resolver(sourceBases(m.base, ctx.rootPath())));
  } catch (e) {
    ctx.error(`reclaimLens/simulate failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return new ResponseError<SimulateErrorData>(ErrorCodes.InternalError, `the simulation failed: ${e instanceof Error ? e.message : String(e)}`, { problems: [] });
  }
}
