// Custom `reclaimLens/*` protocol shared by the server and the client.
// Imports only vscode-languageserver-protocol so the client bundle can reuse it.
// Documented in docs/lsp-extensions.md (a test checks the hash recorded there).
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';

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
