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
  /** why the first entry could not be written (the run goes on uncached), for one warning */
  writeError: string | undefined;

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
      const ok = isObject(e) && e.schema === CACHE_SCHEMA && JSON.stringify(e.key) === JSON.stringify(normaliseKey(key))
        && isFileFacts(e.facts) && e.checksum === checksum(e.facts);
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
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      makeDirs(path.dirname(file));
      fs.writeFileSync(tmp, JSON.stringify(entry), { flag: 'wx' });
      fs.renameSync(tmp, file);
    } catch (e) {
      // A read-only or full cache directory makes the run slower, not wrong.
      this.writeError ??= (e as NodeJS.ErrnoException).code ?? String(e);
      try {
        fs.unlinkSync(tmp);
      } catch {
        // not created
      }
    }
  }
}

/**
 * mkdir -p, one level at a time: node's recursive mkdirSync never returns on some paths (under /proc it loops
 * forever), and a cache directory is user input.
 */
function makeDirs(dir: string): void {
  try {
    fs.mkdirSync(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && fs.statSync(dir).isDirectory()) return;
    if (code !== 'ENOENT' || path.dirname(dir) === dir) throw e;
  }
  makeDirs(path.dirname(dir));
  fs.mkdirSync(dir);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isSpan = (v: unknown): boolean => isObject(v) && typeof v.start === 'number' && typeof v.end === 'number';
const objects = (v: unknown): boolean => Array.isArray(v) && v.every(isObject);

/**
 * The shape of cached facts, down to each function's lists: an entry whose checksum matches but whose shape is not
 * that of FileFacts (written by another build, or forged) is corrupted, not trusted.
 */
function isFileFacts(v: unknown): v is FileFacts {
  if (!isObject(v) || !Array.isArray(v.problems) || !v.problems.every((p) => typeof p === 'string')) return false;
  if (!objects(v.bindings) || !(v.bindings as Record<string, unknown>[]).every((b) => typeof b.field === 'string' && typeof b.fn === 'string' && isSpan(b.span))) return false;
  return Array.isArray(v.functions) && v.functions.every((f) => isObject(f)
    && typeof f.name === 'string' && isSpan(f.span) && isSpan(f.nameSpan) && typeof f.isStatic === 'boolean'
    && typeof f.hasError === 'boolean' && typeof f.approximate === 'boolean'
    && objects(f.sites) && objects(f.calls) && objects(f.callSites) && objects(f.acquires) && objects(f.gates) && objects(f.gfpParams)
    && (f.releases === undefined || objects(f.releases))
    && Array.isArray(f.problems) && f.problems.every(isSpan)
    && objects(f.findings) && (f.findings as Record<string, unknown>[]).every((x) => typeof x.code === 'string' && typeof x.message === 'string' && isSpan(x.span) && Array.isArray(x.related)));
}

function normaliseKey(k: CacheKey): CacheKey {
  return { contentHash: k.contentHash, analyser: k.analyser, kernelVersion: k.kernelVersion, disabledChecks: [...k.disabledChecks].sort() };
}

function checksum(facts: FileFacts): string {
  return hashBytes(Buffer.from(JSON.stringify(facts))).slice(0, 16);
}
