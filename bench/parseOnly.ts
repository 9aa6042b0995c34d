// The parallel parse-only baseline: the same files as the CLI (io/sourceTree.ts), read and decoded on the main thread
// exactly as index/analyseFiles.ts does (same size limit, same bounded window), parsed by N worker threads with the
// project's tree-sitter runtime and grammar (syntax/parser.ts), each tree deleted at once. No kernel-idiom rewrite,
// no hashing, no cache, no analysis: what is left of the CLI's per-file phase when all of ours is taken out.
//
//   node --import tsx bench/parseOnly.ts --jobs N [--root DIR] (PATH... | --list FILE)
//
// Prints one JSON line: {"files", "parsed", "bytes", "ms"}; ms runs from before the listing to the last parse, once
// the workers are ready (their start-up is not counted; the CLI's is).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { collectSourceFiles } from '../server/src/io/sourceTree';
import { initParser, parseWith } from '../server/src/syntax/parser';
import { decodeSource } from '../server/src/syntax/sourceFile';

const MAX_BYTES = 10 * 1024 * 1024;

interface Job {
  id: number;
  text: string;
}

if (!isMainThread) {
  void initParser().then((p) => {
    parentPort!.on('message', (job: Job) => {
      parseWith(p, job.text).delete();
      parentPort!.postMessage(job.id);
    });
    parentPort!.postMessage(0); // ready
  });
}

class ParsePool {
  private idle: Worker[] = [];
  private queue: { job: Job; done(): void }[] = [];
  private waiting = new Map<number, () => void>();
  private all: Worker[] = [];
  private next = 1;
  private starting: Promise<void>[] = [];

  constructor(n: number) {
    for (let i = 0; i < n; i++) {
      // tsx does not reach worker threads by --import: the worker registers it itself.
      const w = new Worker(`require("tsx/cjs"); require(${JSON.stringify(__filename)});`, { eval: true });
      this.starting.push(new Promise((ready) => w.once('message', () => ready())));
      w.on('message', (id: number) => {
        if (id === 0) return;
        this.waiting.get(id)?.();
        this.waiting.delete(id);
        this.idle.push(w);
        this.pump();
      });
      w.on('error', (e) => {
        console.error(`parse-only worker failed: ${e.stack ?? e.message}`);
        process.exit(2);
      });
      this.idle.push(w);
      this.all.push(w);
    }
  }

  /** Every worker has loaded the runtime and the grammar. */
  ready(): Promise<void> {
    return Promise.all(this.starting).then(() => undefined);
  }

  private pump() {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const q = this.queue.shift()!;
      this.waiting.set(q.job.id, q.done);
      w.postMessage(q.job);
    }
  }

  parse(text: string): Promise<void> {
    return new Promise((done) => {
      this.queue.push({ job: { id: this.next++, text }, done });
      this.pump();
    });
  }

  close() {
    return Promise.all(this.all.map((w) => w.terminate()));
  }
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const jobs = Number(opt('--jobs') ?? '2');
  const root = path.resolve(opt('--root') ?? '.');
  const list = opt('--list');
  // The workers start first and are not timed: under tsx they load more slowly than the CLI's bundled worker, and
  // the baseline must not carry that (it would flatter our ratio).
  const pool = new ParsePool(jobs);
  await pool.ready();
  const t0 = performance.now();
  const files: string[] = [];
  if (list) {
    for (const l of fs.readFileSync(list, 'utf8').split('\n')) if (l) files.push(path.resolve(root, l));
  } else {
    const seen = new Set<string>();
    for (const p of args) {
      const err = await collectSourceFiles(path.resolve(root, p), files, seen);
      if (err) throw new Error(`${p}: ${err}`);
    }
  }
  const window = Math.max(4, jobs * 4);
  let bytes = 0;
  let parsed = 0;
  let next = 0;
  const running = new Set<Promise<void>>();
  const one = async (abs: string) => {
    const b = fs.readFileSync(abs);
    bytes += b.length;
    const d = decodeSource(b, { maxBytes: MAX_BYTES });
    if (d.text === undefined) return;
    await pool.parse(d.text);
    parsed++;
  };
  while (next < files.length || running.size) {
    while (next < files.length && running.size < window) {
      const p: Promise<void> = one(files[next++]).then(() => {
        running.delete(p);
      });
      running.add(p);
    }
    if (running.size) await Promise.race(running);
  }
  const ms = performance.now() - t0;
  await pool.close();
  process.stdout.write(JSON.stringify({ files: files.length, parsed, bytes, ms }) + '\n');
}

if (isMainThread && process.argv[1] && /parseOnly\.ts$/.test(process.argv[1])) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(2);
  });
}
