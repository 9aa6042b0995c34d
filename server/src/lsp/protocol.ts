// Custom `reclaimLens/*` protocol shared by the server and the client.
// Imports only vscode-languageserver-protocol so the client bundle can reuse it.
// Documented in docs/lsp-extensions.md (a test checks the hash recorded there).
import { NotificationType, RequestType, type Range } from 'vscode-languageserver-protocol';

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

/** One entry of a simulated trace: an executed step, or (`blocked: true`) the step an unfinished thread is stuck on. */
export interface SimStepInfo {
  /** 1-based position in the trace; blocked entries follow the executed steps. */
  index: number;
  thread: string;
  threadIndex: number;
  /** lock, rlock, trylock, unlock, alloc, reclaim, fault, wait, signal, … */
  action: string;
  resource?: string;
  mask?: string;
  /** The reclaim callback or fault handler an alloc / reclaim / fault step entered. */
  callback?: string;
  /** Callbacks / handlers the step runs inside, outermost first. */
  context: string[];
  location?: SimLocation;
  note?: string;
  /** lockdep-style: `lock(&a)`, `alloc(GFP_KERNEL)`. */
  label: string;
  /** What happened: entered, bailed out, queued, blocked because … */
  detail: string;
  /** What the step's thread holds afterwards; shared holds are suffixed (` (read)`, ` (handle)`, …). */
  holdsAfter: string[];
  blocked?: boolean;
  /** A trylock that failed and bailed out. */
  failed?: boolean;
  /** `queued` or `begin`: the first phase of a two-phase step. */
  phase?: string;
  /** Where the step is written in the model text. */
  modelRange: Range;
}

/** The result of `reclaimLens/simulate`: the JSON report of `reclaim-lens simulate --format json`, plus text. */
export interface SimulateResult {
  verdict: 'deadlock' | 'no-deadlock' | 'limit';
  /** For a deadlock: circular, recursive, stuck or sleep-in-atomic. */
  kind?: string;
  /** The model's `model "…"` title. */
  model?: string;
  statesExplored: number;
  /** Whether partial-order reduction was used. */
  reduced: boolean;
  /** Executed steps of the shortest trace. */
  length: number;
  threads: { name: string; role: string }[];
  steps: SimStepInfo[];
  /** The wait-for cycle (or, without one, every wait) of the deadlocked state. */
  cycle: { thread: string; waitsFor: string; heldBy: string | null }[];
  /** Lock classes of the dependency chain, first = last: `&a --> fs_reclaim --> &b --> &a`. */
  chain: string[];
  links: { from: string; to: string; thread: string; via: string; location?: SimLocation; blocked: boolean }[];
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
