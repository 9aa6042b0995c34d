// Custom `reclaimLens/*` protocol shared by the server and the client.
// Imports only vscode-languageserver-protocol at run time so the client bundle can reuse it; the simulator's JSON
// shapes come in as types only (erased from the bundle).
// Documented in docs/lsp-extensions.md (a test checks the hash recorded there).
import { NotificationType, RequestType, type Range } from 'vscode-languageserver-protocol';
import type { JsonReport, JsonStep } from '../simulate/report';

/** Server → client: the analysis state, shown in the language status item. */
export interface StatusParams {
  state: 'starting' | 'analysing' | 'ready' | 'error';
  /** One line for the status item, e.g. "12 sites, 1 finding (6.12)". */
  message: string;
  kernelVersion: string;
  files: number;
  sites: number;
  findings: number;
  /** Wall time of the last analysis of the active file, in milliseconds. */
  lastAnalysisMs: number;
}
export namespace StatusNotification {
  export const method = 'reclaimLens/status';
  export const type = new NotificationType<StatusParams>(method);
}

/** Client → server: the server's view of one allocation site (used by commands and tests). */
export interface SiteAtParams {
  uri: string;
  position: { line: number; character: number };
}
export namespace SiteAtRequest {
  export const method = 'reclaimLens/siteAt';
  export const type = new RequestType<SiteAtParams, unknown, void>(method);
}

/** A model step's kernel source location (`@file:line`); `uri` when the server found the file (see SimulateRequest). */
export interface SimLocation {
  file: string;
  line: number;
  uri?: string;
}

/**
 * One entry of a simulated trace: the simulator's JSON step (server/src/simulate/report.ts, `JsonStep`: an executed
 * step, or with `blocked: true` the step an unfinished thread is stuck on), with its location resolved to a `uri`
 * when the server found the file, and where the step is written in the model text.
 */
export interface SimStepInfo extends Omit<JsonStep, 'location'> {
  location?: SimLocation;
  modelRange: Range;
}

/**
 * The result of `reclaimLens/simulate`: the JSON report of `reclaim-lens simulate --format json` (`JsonReport`),
 * with resolved locations, plus the lockdep-format text, a one-line summary and the model's warnings.
 */
export interface SimulateResult extends Omit<JsonReport, 'steps' | 'links'> {
  steps: SimStepInfo[];
  links: (Omit<JsonReport['links'][number], 'location'> & { location?: SimLocation })[];
  /** The lockdep-format report, or `no deadlock: N states explored`. */
  lockdep: string;
  /** One line: `deadlock in 5 steps`, `no deadlock: 27 states`. */
  summary: string;
  /** Model warnings (errors fail the request instead). */
  warnings: { range: Range; message: string }[];
}

/** A model problem, as carried by the error of a failed `reclaimLens/simulate`. */
export interface ModelProblem {
  range: Range;
  severity: 'error' | 'warning';
  message: string;
}

/** Error data of `reclaimLens/simulate`: the model's problems when it does not parse (empty for other failures). */
export interface SimulateErrorData {
  problems: ModelProblem[];
}

/**
 * Client → server: run a `.rlsim` model and return the shortest deadlock trace, or the number of states explored.
 * `{ uri }` runs the open document (or the file on disk); `{ text, baseUri }` runs a model text, resolving its
 * source locations against the folder of `baseUri`. Sent by the simulation panel; the deadlock detector's
 * "Simulate deadlock" action will send `{ text, baseUri }`.
 */
export type SimulateParams = { uri: string } | { text: string; baseUri?: string };
export namespace SimulateRequest {
  export const method = 'reclaimLens/simulate';
  export const type = new RequestType<SimulateParams, SimulateResult, SimulateErrorData>(method);
}
