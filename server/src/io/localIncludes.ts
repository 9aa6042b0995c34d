// The local headers of a C file: what its `#include "…"` directives name, resolved as the compiler resolves them
// first (relative to the including file's directory), and theirs in turn, breadth-first, bounded. `<…>` includes
// (include/linux/…) are not read: the knowledge base describes the kernel-wide wrappers there, with citations.
// The analysis gives the file the lock and scope effects of the static inline functions these headers define
// (amdkfd's `svm_range_lock()` in kfd_svm.h opens a memalloc_noreclaim scope), as a compiler sees them in the
// translation unit. Synchronous: the index reads the file itself synchronously on the same thread.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LocalHeader {
  /** absolute path */
  path: string;
  bytes: Uint8Array;
  text: string;
}

/** At most this many headers per file, each at most this large, this many include levels deep. */
export const LOCAL_INCLUDE_LIMITS = { headers: 24, bytes: 2 * 1024 * 1024, depth: 3 };

const INCLUDE = /^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"/gm;

/** The names of a text's `#include "…"` directives, in order, each once. */
export function localIncludeNames(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(INCLUDE)) if (!out.includes(m[1])) out.push(m[1]);
  return out;
}

/**
 * The local headers of `abs` (whose text is `text`), readable ones only, in include order, each once. `decode` turns
 * a header's bytes into text (the caller's decodeSource), or undefined for a file not to read (binary).
 */
export function readLocalIncludes(
  abs: string,
  text: string,
  decode: (bytes: Uint8Array) => string | undefined,
  limits = LOCAL_INCLUDE_LIMITS,
  reads?: HeaderReads,
): LocalHeader[] {
  const out: LocalHeader[] = [];
  const seen = new Set<string>([path.resolve(abs)]);
  let level: { dir: string; text: string }[] = [{ dir: path.dirname(abs), text }];
  for (let depth = 0; depth < limits.depth && level.length && out.length < limits.headers; depth++) {
    const next: { dir: string; text: string }[] = [];
    for (const { dir, text: t } of level) {
      for (const name of localIncludeNames(t)) {
        if (out.length >= limits.headers) break;
        const p = path.resolve(dir, name);
        if (seen.has(p) || !p.endsWith('.h')) continue;
        seen.add(p);
        const h = readHeader(p, decode, limits, reads);
        if (!h) continue;
        out.push(h);
        next.push({ dir: path.dirname(p), text: h.text });
      }
    }
    level = next;
  }
  return out;
}

/**
 * Headers already read in this run, by path, with the size and modification time they had: a header included by a
 * hundred files of a directory is read once (a changed file is read again).
 */
export type HeaderReads = Map<string, { size: number; mtimeMs: number; header: LocalHeader | undefined }>;

function readHeader(p: string, decode: (bytes: Uint8Array) => string | undefined, limits: typeof LOCAL_INCLUDE_LIMITS, reads?: HeaderReads): LocalHeader | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return undefined;
  }
  if (!st.isFile() || st.size > limits.bytes) return undefined;
  const had = reads?.get(p);
  if (had && had.size === st.size && had.mtimeMs === st.mtimeMs) return had.header;
  let header: LocalHeader | undefined;
  try {
    const bytes = fs.readFileSync(p);
    const text = decode(bytes);
    header = text === undefined ? undefined : { path: p, bytes, text };
  } catch {
    header = undefined;
  }
  reads?.set(p, { size: st.size, mtimeMs: st.mtimeMs, header });
  return header;
}
