// The whole-program index in a worker thread (dist/worker.js started with workerData.role = PROGRAM_INDEX_ROLE): the
// language server's thread only posts requests and receives findings. Requests are handled one at a time, in
// order; the server cancels a run by terminating the worker (its analysis pool goes with it).
import type { MessagePort } from 'node:worker_threads';
import type { FileSiteContexts } from '../ide/siteContexts';
import { ProgramIndex, type DeadlockOptions, type IndexPlan, type IndexSnapshot } from './programIndex';

export const PROGRAM_INDEX_ROLE = 'program-index';

export type ProgramIndexRequest =
  | { type: 'build'; plan: IndexPlan; deadlock: DeadlockOptions }
  | { type: 'refresh'; files: string[] }
  | { type: 'deadlock'; deadlock: DeadlockOptions }
  | { type: 'site-contexts'; id: number; file: string };

export type ProgramIndexMessage =
  | { type: 'progress'; message: string; percentage: number }
  | { type: 'log'; message: string }
  | { type: 'warn'; message: string }
  | { type: 'built'; snapshot: IndexSnapshot; ms: number }
  | { type: 'refreshed'; snapshot: IndexSnapshot; files: string[]; analysisMs: number; ms: number }
  | { type: 'recomputed'; snapshot: IndexSnapshot; ms: number }
  | { type: 'site-contexts'; id: number; file: string; entries: FileSiteContexts[] }
  | { type: 'error'; message: string };

export function runProgramIndexWorker(port: MessagePort): void {
  const post = (m: ProgramIndexMessage) => port.postMessage(m);
  let index: ProgramIndex | undefined;
  let queue: Promise<void> = Promise.resolve();
  const handle = async (req: ProgramIndexRequest) => {
    const t0 = performance.now();
    if (req.type === 'build') {
      index = new ProgramIndex(req.plan, req.deadlock, {
        progress: (message, percentage) => post({ type: 'progress', message, percentage }),
        log: (message) => post({ type: 'log', message }),
        warn: (message) => post({ type: 'warn', message }),
      });
      const snapshot = await index.build();
      if (snapshot) post({ type: 'built', snapshot, ms: performance.now() - t0 });
    } else if (req.type === 'site-contexts') {
      post({ type: 'site-contexts', id: req.id, file: req.file, entries: index?.siteContextsOf(req.file) ?? [] });
    } else if (!index) {
      return; // nothing built: nothing to refresh
    } else if (req.type === 'refresh') {
      const r = await index.refresh(req.files);
      post({ type: 'refreshed', snapshot: r.snapshot, files: r.files, analysisMs: r.analysisMs, ms: performance.now() - t0 });
    } else {
      post({ type: 'recomputed', snapshot: await index.setDeadlock(req.deadlock), ms: performance.now() - t0 });
    }
  };
  port.on('message', (req: ProgramIndexRequest) => {
    queue = queue.then(() => handle(req)).catch((e) => post({ type: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) }));
  });
}
