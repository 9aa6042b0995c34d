// The identifiers of a file, found in one scan of its text and shared by every function of the file.
// Each function used to rescan its body text three to four times (is anything relevant here, which offsets matter,
// does a reclaim gate appear); on fs/ + mm/ those scans and the knowledge-base lookup per token were about a fifth
// of the analysis. Now the file is scanned once, each distinct identifier is classified once per knowledge-base
// view, and a function reads its slice of the index by binary search.
import type { SourceFile } from '../syntax/sourceFile';
import type { KbView } from './kbView';

/** Token classes, as bits. */
export const TK = {
  /** a name the knowledge base knows (allocator, lock, scope, transaction, sleeper, uaccess; `_noprof` variants), or `guard` */
  kb: 1,
  /** a gfp flag name (`GFP_*`, `__GFP_*`) */
  gfpName: 2,
  /** the `gfp_t` type */
  gfpType: 4,
  /** `return`, `goto`, `break`, `continue` */
  jump: 8,
  /** a reclaim-gate token (knowledge base reclaimGates) */
  gate: 16,
} as const;

const JUMP_WORDS = new Set(['return', 'goto', 'break', 'continue']);
const GFP_NAME = /^_*GFP_/;

export interface TokenIndex {
  /** start offset of each identifier, ascending */
  readonly starts: Int32Array;
  /** per identifier: its index into `names` */
  readonly ids: Int32Array;
  /** distinct identifier strings */
  readonly names: readonly string[];
  /** per distinct name: its TK bits under a knowledge-base view (computed once per view) */
  classes(kb: KbView): Uint8Array;
  /** [lo, hi): the identifiers that start in [start, end) */
  range(start: number, end: number): [number, number];
}

const cache = new WeakMap<SourceFile, TokenIndex>();

/** The token index of a parsed file (the original text's identifiers), built on first use. */
export function tokensOf(file: SourceFile): TokenIndex {
  let t = cache.get(file);
  if (!t) cache.set(file, (t = buildTokenIndex(file.text)));
  return t;
}

export function buildTokenIndex(text: string): TokenIndex {
  let starts = new Int32Array(Math.max(16, text.length >> 4));
  let ids = new Int32Array(starts.length);
  const names: string[] = [];
  const idOf = new Map<string, number>();
  let n = 0;
  const re = /[A-Za-z_]\w*/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const s = m[0];
    let id = idOf.get(s);
    if (id === undefined) {
      id = names.length;
      names.push(s);
      idOf.set(s, id);
    }
    if (n === starts.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      starts = grow(starts);
      ids = grow(ids);
    }
    starts[n] = m.index;
    ids[n] = id;
    n++;
  }
  starts = starts.subarray(0, n);
  ids = ids.subarray(0, n);
  const byKb = new WeakMap<KbView, Uint8Array>();
  const lowerBound = (x: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    starts,
    ids,
    names,
    classes(kb) {
      let c = byKb.get(kb);
      if (!c) byKb.set(kb, (c = classify(names, kb)));
      return c;
    },
    range: (start, end) => [lowerBound(start), lowerBound(end)],
  };
}

const kbMemo = new WeakMap<KbView, Map<string, number>>();
const MEMO_LIMIT = 200_000;

/** TK bits of one name under a knowledge-base view, memoised per view across files. */
export function tokenBits(kb: KbView, t: string): number {
  let memo = kbMemo.get(kb);
  // Bounded: the server sees every identifier ever typed (a whole tree has a few hundred thousand distinct ones).
  if (!memo || memo.size > MEMO_LIMIT) kbMemo.set(kb, (memo = new Map()));
  let bits = memo.get(t);
  if (bits === undefined) {
    const base = t.endsWith('_noprof') ? t.slice(0, -7) : t;
    bits = 0;
    if (t === 'guard' || kb.allocator(t) || kb.lock(t) || kb.scope(t) || kb.transaction(t) || kb.sleeper(t) || kb.uaccess(t) || kb.allocator(base)) bits |= TK.kb;
    if (GFP_NAME.test(t)) bits |= TK.gfpName;
    if (t === 'gfp_t') bits |= TK.gfpType;
    if (JUMP_WORDS.has(t)) bits |= TK.jump;
    if (kb.reclaimGate(t)) bits |= TK.gate;
    memo.set(t, bits);
  }
  return bits;
}

function classify(names: readonly string[], kb: KbView): Uint8Array {
  const out = new Uint8Array(names.length);
  for (let i = 0; i < names.length; i++) out[i] = tokenBits(kb, names[i]);
  return out;
}
