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
export function readLocalIncludes(abs: string, text: string, decode: (bytes: Uint8Array) => string | undefined, limits = LOCAL_INCLUDE_LIMITS): LocalHeader[] {
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
        let bytes: Uint8Array;
        try {
          const st = fs.statSync(p);
          if (!st.isFile() || st.size > limits.bytes) continue;
          bytes = fs.readFileSync(p);
        } catch {
          continue;
        }
        const decoded = decode(bytes);
        if (decoded === undefined) continue;
        out.push({ path: p, bytes, text: decoded });
        next.push({ dir: path.dirname(p), text: decoded });
      }
    }
    level = next;
  }
  return out;
}
