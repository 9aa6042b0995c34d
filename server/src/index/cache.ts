// The on-disk cache of per-file analysis results, keyed by the SHA-256 of the file's bytes and by everything else
// the result depends on (analyser version, kernel version, disabled checks). An entry carries its own key and a
// checksum of its payload: a truncated, corrupted or foreign entry is detected, deleted and recomputed, never
// trusted. Entries are written to a temporary file and renamed into place, so an interrupted run leaves no partial
// entry behind.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FileFacts } from '../analysis/facts';

/** Bump when the shape or meaning of cached facts changes. */
export const CACHE_SCHEMA = 1;

export interface CacheKey {
  /** SHA-256 of the file's bytes */
  contentHash: string;
  analyser: string;
  kernelVersion: string;
  disabledChecks: readonly string[];
}

interface Entry {
  schema: number;
  key: CacheKey;
  checksum: string;
  facts: FileFacts;
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'reclaim-lens');
}

export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class FactsCache {
  /** entries found corrupted (and removed) during this run */
  corrupted = 0;
  hits = 0;
  misses = 0;

  constructor(readonly dir: string) {}

  private fileFor(key: CacheKey): string {
    const variant = hashBytes(Buffer.from(JSON.stringify([CACHE_SCHEMA, key.analyser, key.kernelVersion, [...key.disabledChecks].sort()]))).slice(0, 12);
    return path.join(this.dir, variant, key.contentHash.slice(0, 2), `${key.contentHash}.json`);
  }

  get(key: CacheKey): FileFacts | undefined {
    const file = this.fileFor(key);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      this.misses++;
      return undefined;
    }
    try {
      const e = JSON.parse(text) as Entry;
      const ok = e.schema === CACHE_SCHEMA && JSON.stringify(e.key) === JSON.stringify(normaliseKey(key))
        && e.checksum === checksum(e.facts) && Array.isArray(e.facts?.functions);
      if (ok) {
        this.hits++;
        return e.facts;
      }
    } catch {
      // fall through: corrupted
    }
    this.corrupted++;
    this.misses++;
    try {
      fs.unlinkSync(file);
    } catch {
      // already gone
    }
    return undefined;
  }

  put(key: CacheKey, facts: FileFacts): void {
    const file = this.fileFor(key);
    const entry: Entry = { schema: CACHE_SCHEMA, key: normaliseKey(key), checksum: checksum(facts), facts };
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(entry));
      fs.renameSync(tmp, file);
    } catch {
      // A read-only or full cache directory makes the run slower, not wrong.
    }
  }
}

function normaliseKey(k: CacheKey): CacheKey {
  return { contentHash: k.contentHash, analyser: k.analyser, kernelVersion: k.kernelVersion, disabledChecks: [...k.disabledChecks].sort() };
}

function checksum(facts: FileFacts): string {
  return hashBytes(Buffer.from(JSON.stringify(facts))).slice(0, 16);
}
