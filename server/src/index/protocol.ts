// Messages between the index and its worker threads.
import type { FileFacts } from '../analysis/facts';

export interface WorkRequest {
  id: number;
  text: string;
  kernelVersion: string;
  disabledChecks: string[];
  /** the texts of the file's local headers, in include order (AnalysisConfig.headers) */
  headers?: string[];
}

export interface WorkResult {
  id: number;
  facts?: FileFacts;
  errors: string[];
}
