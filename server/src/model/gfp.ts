// The gfp mask algebra: names ↔ bitsets for one kernel table, rendering in kernel notation, and the
// predicates the analysis asks of an effective mask. Pure: built from a GfpTableFile, no IO.
// Facts: /work/shared/docs/kernel-reclaim-reference.md §a (bits, composites) and §b.3 (current_gfp_context).
import type { GfpTableFile, KernelTable, PfFlag } from './kb/types';

/**
 * An internal bitset. Bits 0–23 sit at their real positions (bit 9 is __GFP_ATOMIC in the 6.1 table and unused
 * in 6.12). Config-dependent bits have no fixed value in the kernel, so they get fixed synthetic positions
 * 24..29 (SYNTHETIC_BITS) and stay symbolic.
 */
export type Mask = number;

/** Bits 0–23: the part of a mask that has the same numeric value in every configuration. */
export const REAL_BITS: Mask = 0xffffff;

/** Synthetic positions of the config-dependent bits (the same in every table). */
export const SYNTHETIC_BITS: Readonly<Record<string, number>> = Object.freeze({
  __GFP_SKIP_ZERO: 24,
  __GFP_SKIP_KASAN: 25,
  __GFP_SKIP_KASAN_UNPOISON: 26,
  __GFP_SKIP_KASAN_POISON: 27,
  __GFP_NOLOCKDEP: 28,
  __GFP_NO_OBJ_EXT: 29,
});

/** Names preferred by render() when two composites cover the same number of bits (lower index wins). */
const PREFERRED = ['GFP_KERNEL', 'GFP_NOFS', 'GFP_NOIO', 'GFP_ATOMIC', 'GFP_NOWAIT'];

interface Candidate {
  name: string;
  mask: Mask;
  count: number;
  rank: number;
}

function popcount(m: Mask): number {
  let n = 0;
  for (let x = m >>> 0; x !== 0; x &= x - 1) n++;
  return n;
}

const hex = (n: number) => `0x${n.toString(16)}`;

export class GfpModel {
  readonly table: KernelTable;
  private readonly bits = new Map<string, Mask>(); // bit names and their aliases
  private readonly masks = new Map<string, Mask>(); // composites, historical ones included
  private readonly bitName = new Map<number, string>(); // position → primary name
  private readonly candidates: Candidate[]; // non-historical composites, best first
  private readonly DIRECT_RECLAIM: Mask;
  private readonly IO: Mask;
  private readonly FS: Mask;
  private readonly MOVABLE: Mask;

  /** Throws on an inconsistent table (a developer error in the built-in data). */
  constructor(file: GfpTableFile) {
    this.table = file.table;
    const where = `gfp table ${file.table}`;
    for (const b of file.bits) {
      let pos: number;
      if (b.value === null) {
        const s = SYNTHETIC_BITS[b.name];
        if (s === undefined) throw new Error(`${where}: ${b.name} has value null but no synthetic position (known: ${Object.keys(SYNTHETIC_BITS).join(', ')})`);
        pos = s;
      } else {
        if (b.value <= 0 || b.value > REAL_BITS || (b.value & (b.value - 1)) !== 0) throw new Error(`${where}: ${b.name} = ${hex(b.value)} is not a single bit in 0..23`);
        pos = Math.log2(b.value);
      }
      if (this.bitName.has(pos)) throw new Error(`${where}: ${b.name} and ${this.bitName.get(pos)} share bit ${pos}`);
      this.bitName.set(pos, b.name);
      for (const n of [b.name, ...(b.aliases ?? [])]) {
        if (this.bits.has(n)) throw new Error(`${where}: duplicate bit name ${n}`);
        this.bits.set(n, 1 << pos);
      }
    }
    const defs = new Map(file.masks.map((m) => [m.name, m]));
    if (defs.size !== file.masks.length) throw new Error(`${where}: duplicate composite names`);
    const resolving = new Set<string>();
    const resolve = (name: string, from: string): Mask => {
      const bit = this.bits.get(name);
      if (bit !== undefined) return bit;
      const done = this.masks.get(name);
      if (done !== undefined) return done;
      const def = defs.get(name);
      if (!def) throw new Error(`${where}: ${from} refers to unknown name ${name}`);
      if (resolving.has(name)) throw new Error(`${where}: ${name} is defined in terms of itself`);
      resolving.add(name);
      const set = def.bits.reduce((acc, n) => acc | resolve(n, name), 0);
      const clear = (def.clear ?? []).reduce((acc, n) => acc | resolve(n, name), 0);
      resolving.delete(name);
      const m = set & ~clear;
      this.masks.set(name, m);
      return m;
    };
    for (const m of file.masks) {
      if (this.bits.has(m.name)) throw new Error(`${where}: ${m.name} is both a bit and a composite`);
      resolve(m.name, m.name);
    }
    this.candidates = file.masks
      .filter((m) => !m.historical)
      .map((m) => {
        const mask = this.masks.get(m.name)!;
        const pref = PREFERRED.indexOf(m.name);
        // GFP_* spellings before __GFP_* composites (__GFP_RECLAIM == GFP_NOIO renders as GFP_NOIO).
        const rank = pref >= 0 ? pref : m.name.startsWith('GFP_') ? PREFERRED.length : PREFERRED.length + 1;
        return { name: m.name, mask, count: popcount(mask), rank };
      })
      .filter((c) => c.mask !== 0)
      .sort((a, b) => b.count - a.count || a.rank - b.rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const need = (n: string) => {
      const v = this.bits.get(n);
      if (v === undefined) throw new Error(`${where}: required bit ${n} is missing`);
      return v;
    };
    this.DIRECT_RECLAIM = need('__GFP_DIRECT_RECLAIM');
    this.IO = need('__GFP_IO');
    this.FS = need('__GFP_FS');
    this.MOVABLE = need('__GFP_MOVABLE');
  }

  /** A bit (either spelling), a composite, or a historical name of this table; undefined when unknown here. */
  lookup(name: string): Mask | undefined {
    return this.bits.get(name) ?? this.masks.get(name);
  }

  /** Whether `name` is a historical composite (pre-4.x names, XFS KM_*). */
  isHistorical(name: string): boolean {
    return this.masks.has(name) && !this.candidates.some((c) => c.name === name);
  }

  /** A numeric literal as written in C: only bits 0–23 have fixed values, higher bits are dropped. */
  fromNumber(n: number): Mask {
    if (!Number.isFinite(n) || n < 0) return 0;
    return Math.trunc(n) % (REAL_BITS + 1);
  }

  /** The fixed-value part of a mask as a number (synthetic config-dependent bits are left out). */
  toNumber(m: Mask): number {
    return (m & REAL_BITS) >>> 0;
  }

  /** Names of the set bits, lowest first; a real bit with no name in this table renders as hex. */
  bitNames(m: Mask): string[] {
    const out: string[] = [];
    for (let pos = 0; pos <= 30; pos++) {
      const bit = 1 << pos;
      if ((m & bit) === 0) continue;
      const name = this.bitName.get(pos) ?? Object.keys(SYNTHETIC_BITS).find((k) => SYNTHETIC_BITS[k] === pos);
      out.push(name ?? hex(bit));
    }
    return out;
  }

  /**
   * Kernel notation: the best-fitting composite plus the remaining bits ("GFP_NOFS|__GFP_ZERO").
   * Best = covers the most bits; ties go to GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_ATOMIC, GFP_NOWAIT in that order,
   * then other GFP_* names, then by name. Historical names are never used. 0 renders as "0".
   */
  render(m: Mask): string {
    if (m === 0) return '0';
    const best = this.candidates.find((c) => (c.mask & ~m) === 0);
    const rest = best ? m & ~best.mask : m;
    return [...(best ? [best.name] : []), ...this.bitNames(rest)].join('|');
  }

  /** Apply an API's adjustments: OR in `adds`, then clear `clears` (names as in lookup; unknown names ignored). */
  applyAdjustments(m: Mask, adds: readonly string[] = [], clears: readonly string[] = []): Mask {
    const or = (names: readonly string[]) => names.reduce((acc, n) => acc | (this.lookup(n) ?? 0), 0);
    return (m | or(adds)) & ~or(clears);
  }

  /** gfpflags_allow_blocking(): the caller may sleep (and enter direct reclaim). */
  allowsBlocking(m: Mask): boolean {
    return (m & this.DIRECT_RECLAIM) !== 0;
  }

  /** current_gfp_context(): NOIO clears IO|FS (and wins over NOFS), NOFS clears FS, PIN clears MOVABLE. */
  applyScope(m: Mask, flags: readonly PfFlag[]): Mask {
    let out = m;
    if (flags.includes('PF_MEMALLOC_NOIO')) out &= ~(this.IO | this.FS);
    else if (flags.includes('PF_MEMALLOC_NOFS')) out &= ~this.FS;
    if (flags.includes('PF_MEMALLOC_PIN')) out &= ~this.MOVABLE;
    return out;
  }

  /** Direct reclaim can run: the mask allows it and the task is not already reclaiming (PF_MEMALLOC). */
  reclaimPossible(m: Mask, flags: readonly PfFlag[] = []): boolean {
    return this.allowsBlocking(m) && !flags.includes('PF_MEMALLOC');
  }

  /** Reclaim may call into filesystems (shrinkers, evict): DIRECT_RECLAIM and FS after the scope, not PF_MEMALLOC. */
  mayEnterFsReclaim(m: Mask, flags: readonly PfFlag[] = []): boolean {
    const e = this.applyScope(m, flags);
    return this.reclaimPossible(e, flags) && (e & this.FS) !== 0;
  }

  /** Reclaim may start I/O (swap-out, compaction): DIRECT_RECLAIM and IO after the scope, not PF_MEMALLOC. */
  mayStartIo(m: Mask, flags: readonly PfFlag[] = []): boolean {
    const e = this.applyScope(m, flags);
    return this.reclaimPossible(e, flags) && (e & this.IO) !== 0;
  }

  /** Reclaim may hit mmu notifiers, i_mmap_rwsem and other generic reclaim locks: independent of FS/IO. */
  mayReachMmuNotifier(m: Mask, flags: readonly PfFlag[] = []): boolean {
    return this.reclaimPossible(this.applyScope(m, flags), flags);
  }
}

/**
 * The table for a kernel version string ("6.1.192", "5.15", "6.12.117", "6.13-rc2", "v6.6").
 * Before 6.3 (where __GFP_ATOMIC was removed) → '6.1', from 6.3 on → '6.12'. Unparseable input → undefined.
 */
export function tableFor(version: string): KernelTable | undefined {
  const m = /^\s*v?(\d+)\.(\d+)(?:\.\d+)*(?:[-+~][0-9A-Za-z.+~-]*)?\s*$/.exec(version);
  if (!m) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major < 2 || major > 99 || minor > 999) return undefined;
  return major < 6 || (major === 6 && minor < 3) ? '6.1' : '6.12';
}
