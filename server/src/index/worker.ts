// A worker thread of the workspace index: parses and analyses the texts it is sent, answers plain FileFacts.
// One parser per worker; a failure in one file is answered as a problem for that file.
// Started with workerData.role = 'program-index', the same bundle is the language server's whole-program index
// (programWorker.ts) instead.
import { parentPort, workerData } from 'node:worker_threads';
import { createKbProvider } from '../analysis/kbView';
import { AnalysisHost } from '../ide/host';
import { initParser } from '../syntax/parser';
import { PROGRAM_INDEX_ROLE, runProgramIndexWorker } from './programWorker';
import type { WorkRequest, WorkResult } from './protocol';

const programIndex = (workerData as { role?: string } | null)?.role === PROGRAM_INDEX_ROLE;
if (programIndex && parentPort) runProgramIndexWorker(parentPort);

const overrides = (workerData as { kbOverrides?: { path: string; text: string }[] } | null)?.kbOverrides ?? [];
const hostP = programIndex ? undefined : initParser().then((p) => new AnalysisHost(p, createKbProvider(overrides).view));

if (hostP) parentPort?.on('message', async (req: WorkRequest) => {
  let res: WorkResult;
  try {
    const host = await hostP;
    const errors: string[] = [];
    const a = host.analyse(req.text, { kernelVersion: req.kernelVersion, disabledChecks: req.disabledChecks, headers: req.headers?.map((text) => ({ text })) }, (fn, e) => {
      errors.push(`${fn}(): internal analysis error: ${e instanceof Error ? e.message : String(e)}`);
    });
    res = { id: req.id, facts: a.facts, errors };
  } catch (e) {
    res = { id: req.id, errors: [`internal error: ${e instanceof Error ? e.message : String(e)}`] };
  }
  parentPort!.postMessage(res);
});
