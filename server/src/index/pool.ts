// A fixed pool of analysis worker threads (the machine's cores by default). Requests are queued and handed to the
// first idle worker; a worker that dies fails its request and is replaced.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WorkRequest, WorkResult } from './protocol';

/** dist/worker.js: the pool's workers, and the language server's whole-program index (programWorker.ts). */
export function workerScript(): string {
  // Beside the bundle (dist/cli.js, dist/server.js), or dist/ when running from source under tsx.
  const candidates = [path.join(__dirname, 'worker.js'), path.join(__dirname, '..', '..', '..', 'dist', 'worker.js')];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error('dist/worker.js is missing: run `npm run build`');
  return found;
}

interface Pending {
  req: WorkRequest;
  resolve(r: WorkResult): void;
}

export class WorkerPool {
  private idle: Worker[] = [];
  private busy = new Map<Worker, Pending>();
  private queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  /** `data` reaches each worker as its workerData (the knowledge-base overrides). */
  constructor(readonly size: number, private readonly data: unknown = undefined) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  private spawn() {
    const w = new Worker(workerScript(), { workerData: this.data });
    w.on('message', (res: WorkResult) => {
      const p = this.busy.get(w);
      this.busy.delete(w);
      this.idle.push(w);
      p?.resolve(res);
      this.pump();
    });
    w.on('error', (e) => this.fail(w, e));
    w.on('exit', (code) => {
      if (!this.closed) this.fail(w, new Error(`worker exited with code ${code}`));
    });
    this.idle.push(w);
  }

  private fail(w: Worker, e: Error) {
    const p = this.busy.get(w);
    this.busy.delete(w);
    this.idle = this.idle.filter((x) => x !== w);
    p?.resolve({ id: p.req.id, errors: [`worker failed: ${e.message}`] });
    if (!this.closed) {
      this.spawn();
      this.pump();
    }
  }

  private pump() {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const p = this.queue.shift()!;
      this.busy.set(w, p);
      w.postMessage(p.req);
    }
  }

  run(req: Omit<WorkRequest, 'id'>): Promise<WorkResult> {
    return new Promise((resolve) => {
      this.queue.push({ req: { ...req, id: this.nextId++ }, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.idle, ...this.busy.keys()].map((w) => w.terminate()));
  }
}
