// Analyses many files: reads and hashes each one, takes cached facts when the cache has them, sends the rest to the
// worker pool, and hands every result to `onFile` in path order as soon as it and its predecessors are done
// (so memory holds a bounded window of texts, not the whole tree).
import * as fs from 'node:fs';
import type { FileFacts } from '../analysis/facts';
import { readLocalIncludes, LOCAL_INCLUDE_LIMITS, type HeaderReads, type LocalHeader } from '../io/localIncludes';
import { BUILTIN_FILES } from '../model/kb';
import { decodeSource } from '../syntax/sourceFile';
import { hashBytes, type FactsCache } from './cache';
import { WorkerPool } from './pool';

/** What cached facts depend on besides the file: this code's version and the built-in knowledge base. */
export const ANALYSER_VERSION = `0.1.0-a21+kb.${hashBytes(Buffer.from(JSON.stringify(BUILTIN_FILES))).slice(0, 12)}`;

/** The analyser part of a cache key: the version, plus a digest of the knowledge-base overrides in force. */
export function analyserKey(kbOverridesKey?: string): string {
  return kbOverridesKey ? `${ANALYSER_VERSION}+kbo.${kbOverridesKey}` : ANALYSER_VERSION;
}

export interface FileResult {
  abs: string;
  text: string;
  facts: FileFacts;
}

export interface AnalyseFilesOptions {
  jobs: number;
  cache?: FactsCache;
  kernelVersion: string;
  disabledChecks: string[];
  maxBytes: number;
  /** knowledge-base override files: given to the workers, and their digest is part of the cache key */
  kbOverrides?: { files: { path: string; text: string }[]; key: string };
  onFile(r: FileResult): void;
  onProblem(abs: string, message: string, isError: boolean): void;
  onProgress?(done: number, total: number): void;
}

export async function analyseFiles(files: readonly string[], o: AnalyseFilesOptions): Promise<void> {
  const pool = new WorkerPool(Math.max(1, o.jobs), { kbOverrides: o.kbOverrides?.files ?? [] });
  const headerReads: HeaderReads = new Map();
  const analyser = analyserKey(o.kbOverrides?.key);
  const window = Math.max(4, o.jobs * 4);
  const results = new Map<number, FileResult | null>();
  let emitted = 0;
  let done = 0;
  const emit = () => {
    while (results.has(emitted)) {
      const r = results.get(emitted)!;
      results.delete(emitted);
      if (r) o.onFile(r);
      emitted++;
    }
  };
  const one = async (i: number): Promise<void> => {
    const abs = files[i];
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(abs);
    } catch (e) {
      o.onProblem(abs, `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, true);
      results.set(i, null);
      return;
    }
    const decoded = decodeSource(bytes, { maxBytes: o.maxBytes });
    if (decoded.problem) o.onProblem(abs, decoded.problem, false);
    if (decoded.text === undefined) {
      results.set(i, null);
      return;
    }
    const headers = localHeadersOf(abs, decoded.text, headerReads);
    const key = { contentHash: contentHashOf(bytes, headers), analyser, kernelVersion: o.kernelVersion, disabledChecks: o.disabledChecks };
    let facts = o.cache?.get(key);
    if (!facts) {
      const res = await pool.run({ text: decoded.text, kernelVersion: o.kernelVersion, disabledChecks: o.disabledChecks, headers: headers.map((h) => h.text) });
      for (const e of res.errors) o.onProblem(abs, e, false);
      facts = res.facts ?? { functions: [], bindings: [], problems: res.errors };
      if (res.facts && res.errors.length === 0) o.cache?.put(key, res.facts);
    }
    results.set(i, { abs, text: decoded.text, facts });
  };
  try {
    let next = 0;
    const running = new Set<Promise<void>>();
    while (next < files.length || running.size) {
      while (next < files.length && running.size < window && next - emitted < window * 4) {
        const p: Promise<void> = one(next++).then(() => {
          running.delete(p);
          done++;
          o.onProgress?.(done, files.length);
          emit();
        });
        running.add(p);
      }
      if (running.size) await Promise.race(running);
    }
    emit();
  } finally {
    await pool.close();
  }
}

/** The local headers of a file (io/localIncludes.ts), decoded as the file is; `reads` shares the reads of a run. */
export function localHeadersOf(abs: string, text: string, reads?: HeaderReads): LocalHeader[] {
  return readLocalIncludes(abs, text, (b) => decodeSource(b, { maxBytes: LOCAL_INCLUDE_LIMITS.bytes }).text, LOCAL_INCLUDE_LIMITS, reads);
}

const headerHashes = new WeakMap<LocalHeader, string>();

/** A file's cache identity: its bytes, and the bytes of the local headers whose effects its analysis used. */
export function contentHashOf(bytes: Uint8Array, headers: readonly LocalHeader[]): string {
  const own = hashBytes(bytes);
  if (!headers.length) return own;
  const hashOf = (h: LocalHeader) => {
    let x = headerHashes.get(h);
    if (x === undefined) headerHashes.set(h, (x = hashBytes(h.bytes)));
    return x;
  };
  return hashBytes(Buffer.from([own, ...headers.map(hashOf)].join('\n')));
}
