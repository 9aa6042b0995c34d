// The gfp mask algebra (server/src/model/gfp.ts) over the built-in 6.1 and 6.12 tables.
// Expected values are the kernel's (kernel-reclaim-reference.md §a.2–a.4, include/linux/gfp_types.h of both trees).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GfpModel, SYNTHETIC_BITS, tableFor, type Mask } from '../../server/src/model/gfp';
import { loadKnowledgeBase } from '../../server/src/model/kb/index';
import type { GfpTableFile, KernelTable } from '../../server/src/model/kb/types';

const { kb } = loadKnowledgeBase();
const models: Record<KernelTable, GfpModel> = { '6.1': new GfpModel(kb.gfp['6.1']), '6.12': new GfpModel(kb.gfp['6.12']) };
const m61 = models['6.1'];
const m612 = models['6.12'];

function get(m: GfpModel, name: string): Mask {
  const v = m.lookup(name);
  assert.notEqual(v, undefined, `${name} should exist in the ${m.table} table`);
  return v!;
}

/** Parse render() output back: names joined by '|', hex for unnamed bits. */
function parse(m: GfpModel, s: string): Mask {
  if (s === '0') return 0;
  return s.split('|').reduce((acc, part) => acc | (part.startsWith('0x') ? parseInt(part, 16) : get(m, part)), 0);
}

// §a.3 composite masks: [name, 6.1 hex, 6.12 hex] (fixed-value bits only).
const COMPOSITES: [string, number, number][] = [
  ['GFP_KERNEL', 0xcc0, 0xcc0],
  ['GFP_NOFS', 0xc40, 0xc40],
  ['GFP_NOIO', 0xc00, 0xc00],
  ['GFP_ATOMIC', 0xa20, 0x820],
  ['GFP_NOWAIT', 0x800, 0x2800],
  ['GFP_USER', 0x100cc0, 0x100cc0],
  ['GFP_KERNEL_ACCOUNT', 0x400cc0, 0x400cc0],
  ['GFP_DMA', 0x1, 0x1],
  ['GFP_DMA32', 0x4, 0x4],
  ['GFP_HIGHUSER', 0x100cc2, 0x100cc2],
  ['GFP_HIGHUSER_MOVABLE', 0x100cca, 0x100cca],
  ['GFP_TRANSHUGE_LIGHT', 0x1c20ca, 0x1c20ca],
  ['GFP_TRANSHUGE', 0x1c24ca, 0x1c24ca],
  ['__GFP_RECLAIM', 0xc00, 0xc00],
];

test('every §a.3 composite has its kernel hex value in each table', () => {
  for (const [name, v61, v612] of COMPOSITES) {
    assert.equal(m61.toNumber(get(m61, name)), v61, `6.1 ${name}`);
    assert.equal(m612.toNumber(get(m612, name)), v612, `6.12 ${name}`);
  }
});

test('bits 0-23 have their real values; bit 9 is __GFP_ATOMIC only in 6.1', () => {
  const bits: [string, number][] = [
    ['__GFP_DMA', 0x1], ['__GFP_MOVABLE', 0x8], ['__GFP_HIGH', 0x20], ['__GFP_IO', 0x40], ['__GFP_FS', 0x80],
    ['__GFP_ZERO', 0x100], ['__GFP_DIRECT_RECLAIM', 0x400], ['__GFP_KSWAPD_RECLAIM', 0x800], ['__GFP_NOWARN', 0x2000],
    ['__GFP_RETRY_MAYFAIL', 0x4000], ['__GFP_NOFAIL', 0x8000], ['__GFP_NORETRY', 0x10000], ['__GFP_COMP', 0x40000],
    ['__GFP_HARDWALL', 0x100000], ['__GFP_ACCOUNT', 0x400000], ['__GFP_ZEROTAGS', 0x800000],
  ];
  for (const m of [m61, m612]) for (const [n, v] of bits) assert.equal(get(m, n), v, `${m.table} ${n}`);
  assert.equal(get(m61, '__GFP_ATOMIC'), 0x200);
  assert.equal(m612.lookup('__GFP_ATOMIC'), undefined);
  assert.equal(m612.lookup('___GFP_ATOMIC'), undefined);
});

test('three-underscore spellings are aliases of the same bit', () => {
  for (const m of [m61, m612]) {
    assert.equal(get(m, '___GFP_FS'), get(m, '__GFP_FS'));
    assert.equal(get(m, '___GFP_DIRECT_RECLAIM'), 0x400);
    assert.equal(get(m, '___GFP_NOLOCKDEP'), get(m, '__GFP_NOLOCKDEP'));
  }
});

test('config-dependent bits are symbolic: synthetic positions, no numeric value', () => {
  for (const m of [m61, m612]) {
    assert.equal(get(m, '__GFP_NOLOCKDEP'), 1 << SYNTHETIC_BITS.__GFP_NOLOCKDEP);
    assert.equal(m.toNumber(get(m, '__GFP_NOLOCKDEP')), 0);
    assert.equal(get(m, '__GFP_SKIP_ZERO'), 1 << 24);
  }
  assert.equal(get(m612, '__GFP_SKIP_KASAN'), 1 << SYNTHETIC_BITS.__GFP_SKIP_KASAN);
  assert.equal(get(m612, '__GFP_NO_OBJ_EXT'), 1 << SYNTHETIC_BITS.__GFP_NO_OBJ_EXT);
  assert.equal(m612.lookup('__GFP_SKIP_KASAN_POISON'), undefined, 'the two KASAN bits of 6.1 merged in 6.12');
  assert.equal(m61.lookup('__GFP_SKIP_KASAN'), undefined);
  assert.equal(m61.lookup('__GFP_NO_OBJ_EXT'), undefined);
  // GFP_HIGHUSER_MOVABLE carries the KASAN skip bits symbolically
  assert.deepEqual(m612.bitNames(get(m612, 'GFP_HIGHUSER_MOVABLE')).filter((n) => n.includes('SKIP')), ['__GFP_SKIP_KASAN']);
  assert.deepEqual(m61.bitNames(get(m61, 'GFP_HIGHUSER_MOVABLE')).filter((n) => n.includes('SKIP')), ['__GFP_SKIP_KASAN_UNPOISON', '__GFP_SKIP_KASAN_POISON']);
  // and TRANSHUGE_LIGHT still clears both reclaim bits
  assert.equal(m612.allowsBlocking(get(m612, 'GFP_TRANSHUGE_LIGHT')), false);
  assert.equal(m612.allowsBlocking(get(m612, 'GFP_TRANSHUGE')), true);
});

test('historical names resolve in both tables', () => {
  for (const m of [m61, m612]) {
    assert.equal(get(m, '__GFP_WAIT'), 0xc00);
    assert.equal(get(m, '__GFP_REPEAT'), get(m, '__GFP_RETRY_MAYFAIL'));
    assert.equal(get(m, 'GFP_IOFS'), 0xc0);
    assert.equal(get(m, 'GFP_TEMPORARY'), 0xcd0);
    assert.ok(m.isHistorical('GFP_TEMPORARY'));
    assert.ok(!m.isHistorical('GFP_KERNEL'));
  }
});

test('XFS KM_* flags are 6.1-only masks following kmem_flags_convert()', () => {
  assert.equal(get(m61, 'KM_NOFS'), 0x2c40); // (GFP_KERNEL|__GFP_NOWARN) & ~__GFP_FS
  assert.equal(get(m61, 'KM_MAYFAIL'), 0x6cc0);
  assert.equal(get(m61, 'KM_ZERO'), 0x2dc0);
  assert.equal(m61.toNumber(get(m61, 'KM_NOLOCKDEP')), 0x2cc0);
  assert.ok(m61.bitNames(get(m61, 'KM_NOLOCKDEP')).includes('__GFP_NOLOCKDEP'));
  for (const n of ['KM_NOFS', 'KM_MAYFAIL', 'KM_ZERO', 'KM_NOLOCKDEP']) assert.equal(m612.lookup(n), undefined, n);
});

test('render picks the best-fitting composite and lists the extra bits', () => {
  const cases: [GfpModel, Mask, string][] = [
    [m612, get(m612, 'GFP_KERNEL'), 'GFP_KERNEL'],
    [m612, get(m612, 'GFP_NOFS') | get(m612, '__GFP_ZERO'), 'GFP_NOFS|__GFP_ZERO'],
    [m612, get(m612, 'GFP_KERNEL') | get(m612, '__GFP_NOLOCKDEP'), 'GFP_KERNEL|__GFP_NOLOCKDEP'],
    [m612, get(m612, '__GFP_RECLAIM') | get(m612, '__GFP_FS'), 'GFP_NOIO|__GFP_FS'],
    [m612, get(m612, '__GFP_RECLAIM'), 'GFP_NOIO'],
    [m612, get(m612, 'GFP_KERNEL') | get(m612, '__GFP_ACCOUNT') | get(m612, '__GFP_ZERO'), 'GFP_KERNEL_ACCOUNT|__GFP_ZERO'],
    [m612, get(m612, 'GFP_ATOMIC') | get(m612, '__GFP_NOWARN'), 'GFP_ATOMIC|__GFP_NOWARN'],
    [m612, 0x800, '__GFP_KSWAPD_RECLAIM'],
    [m61, 0x800, 'GFP_NOWAIT'],
    [m61, 0x800 | 0x2000, 'GFP_NOWAIT|__GFP_NOWARN'],
    [m612, 0x2800, 'GFP_NOWAIT'],
    [m61, 0xa20, 'GFP_ATOMIC'],
    [m612, 0xa20, 'GFP_ATOMIC|0x200'],
    [m612, get(m612, 'GFP_TEMPORARY'), 'GFP_KERNEL|__GFP_RECLAIMABLE'],
    [m612, get(m612, 'GFP_IOFS'), '__GFP_IO|__GFP_FS'],
    [m612, get(m612, '__GFP_NOLOCKDEP'), '__GFP_NOLOCKDEP'],
    [m612, 0, '0'],
  ];
  for (const [m, mask, want] of cases) assert.equal(m.render(mask), want, `${m.table} 0x${mask.toString(16)}`);
});

test('render round-trips every named mask and a sweep of pseudo-random masks', () => {
  for (const m of [m61, m612]) {
    const names = kb.gfp[m.table].masks.map((x) => x.name);
    for (const n of names) assert.equal(parse(m, m.render(get(m, n))), get(m, n), `${m.table} ${n} → ${m.render(get(m, n))}`);
    const synth = Object.values(SYNTHETIC_BITS).map((p) => 1 << p).filter((b) => m.bitNames(b).every((x) => m.lookup(x) !== undefined));
    let seed = 0x12345;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      let mask = seed & 0xffffff;
      if (m.table === '6.12') mask &= ~0x200; // unused bit renders as hex; covered above
      mask |= synth[i % synth.length] * (i % 3 === 0 ? 1 : 0);
      const s = m.render(mask);
      assert.equal(parse(m, s), mask, `${m.table} 0x${mask.toString(16)} → ${s}`);
      assert.equal(s.split('|').filter((p) => /^GFP_/.test(p)).length <= 1, true, s);
    }
  }
});

test('fromNumber keeps bits 0-23 only; bitNames lists bits lowest first', () => {
  assert.equal(m612.fromNumber(0xcc0), get(m612, 'GFP_KERNEL'));
  assert.equal(m612.fromNumber(0x1000cc0), 0xcc0);
  assert.equal(m612.fromNumber(-1), 0);
  assert.equal(m612.render(m612.fromNumber(0x400cc0)), 'GFP_KERNEL_ACCOUNT');
  assert.deepEqual(m612.bitNames(get(m612, 'GFP_NOFS')), ['__GFP_IO', '__GFP_DIRECT_RECLAIM', '__GFP_KSWAPD_RECLAIM']);
  assert.deepEqual(m61.bitNames(get(m61, 'GFP_ATOMIC')), ['__GFP_HIGH', '__GFP_ATOMIC', '__GFP_KSWAPD_RECLAIM']);
});

test('classification predicates follow §a.3 and current_gfp_context()', () => {
  const m = m612;
  const K = get(m, 'GFP_KERNEL');
  const NOFS = get(m, 'GFP_NOFS');
  const NOIO = get(m, 'GFP_NOIO');
  assert.equal(m.allowsBlocking(K), true);
  assert.equal(m.allowsBlocking(NOIO), true);
  assert.equal(m.allowsBlocking(get(m, 'GFP_NOWAIT')), false);
  assert.equal(m.allowsBlocking(get(m, 'GFP_ATOMIC')), false);
  assert.equal(m61.allowsBlocking(get(m61, 'GFP_ATOMIC')), false);
  assert.equal(m.allowsBlocking(get(m, '__GFP_NOFAIL')), false, 'NOFAIL alone does not allow blocking');

  assert.equal(m.mayEnterFsReclaim(K), true);
  assert.equal(m.mayEnterFsReclaim(NOFS), false);
  assert.equal(m.mayEnterFsReclaim(K, ['PF_MEMALLOC_NOFS']), false);
  assert.equal(m.mayEnterFsReclaim(K, ['PF_MEMALLOC']), false);
  assert.equal(m.mayEnterFsReclaim(get(m, '__GFP_FS') | get(m, '__GFP_KSWAPD_RECLAIM')), false, 'FS without DIRECT_RECLAIM');

  assert.equal(m.mayStartIo(NOFS), true);
  assert.equal(m.mayStartIo(K, ['PF_MEMALLOC_NOFS']), true);
  assert.equal(m.mayStartIo(K, ['PF_MEMALLOC_NOIO']), false);
  assert.equal(m.mayStartIo(NOIO), false);

  assert.equal(m.mayReachMmuNotifier(NOIO), true, 'independent of FS/IO');
  assert.equal(m.mayReachMmuNotifier(K, ['PF_MEMALLOC_NOIO']), true);
  assert.equal(m.mayReachMmuNotifier(K, ['PF_MEMALLOC']), false);
  assert.equal(m.mayReachMmuNotifier(get(m, 'GFP_NOWAIT')), false);
});

test('applyScope: NOIO wins over NOFS, PIN clears MOVABLE, PF_MEMALLOC keeps the mask', () => {
  const m = m612;
  const K = get(m, 'GFP_KERNEL');
  assert.equal(m.applyScope(K, ['PF_MEMALLOC_NOFS']), get(m, 'GFP_NOFS'));
  assert.equal(m.applyScope(K, ['PF_MEMALLOC_NOIO']), get(m, 'GFP_NOIO'));
  assert.equal(m.applyScope(K, ['PF_MEMALLOC_NOFS', 'PF_MEMALLOC_NOIO']), get(m, 'GFP_NOIO'));
  assert.equal(m.applyScope(K | get(m, '__GFP_ZERO'), ['PF_MEMALLOC_NOFS']), get(m, 'GFP_NOFS') | get(m, '__GFP_ZERO'));
  const hm = get(m, 'GFP_HIGHUSER_MOVABLE');
  assert.equal(m.applyScope(hm, ['PF_MEMALLOC_PIN']), hm & ~get(m, '__GFP_MOVABLE'));
  assert.equal(m.applyScope(K, ['PF_MEMALLOC']), K);
  assert.equal(m.reclaimPossible(K, ['PF_MEMALLOC']), false);
  assert.equal(m.reclaimPossible(K), true);
  assert.equal(m.applyScope(K, []), K);
});

test('applyAdjustments ORs adds (bits or composites) and then clears', () => {
  assert.equal(m612.applyAdjustments(0, ['GFP_NOFS', '__GFP_NOFAIL']), 0xc40 | 0x8000);
  assert.equal(m612.applyAdjustments(get(m612, 'GFP_KERNEL'), ['__GFP_KSWAPD_RECLAIM', '__GFP_NOWARN'], ['__GFP_DIRECT_RECLAIM', '__GFP_IO', '__GFP_FS']), get(m612, 'GFP_NOWAIT'));
});

test('tableFor maps versions to the nearest table (__GFP_ATOMIC went away in 6.3)', () => {
  const cases: [string, KernelTable | undefined][] = [
    ['6.1.192', '6.1'], ['6.1', '6.1'], ['5.15', '6.1'], ['4.19.325', '6.1'], ['6.2.16', '6.1'],
    ['6.3', '6.12'], ['6.12.117', '6.12'], ['6.19', '6.12'], ['v6.6.30', '6.12'], ['6.13-rc2', '6.12'], ['7.0', '6.12'],
    ['', undefined], ['latest', undefined], ['6', undefined], ['6.x', undefined], ['1.2.3.', undefined],
  ];
  for (const [v, want] of cases) assert.equal(tableFor(v), want, JSON.stringify(v));
});

test('GfpModel rejects inconsistent tables', () => {
  const base = structuredClone(kb.gfp['6.12']) as GfpTableFile;
  const unknownRef = structuredClone(base);
  unknownRef.masks.push({ name: 'GFP_BROKEN', bits: ['__GFP_NOPE'], source: 'x' });
  assert.throws(() => new GfpModel(unknownRef), /GFP_BROKEN refers to unknown name __GFP_NOPE/);
  const nullBit = structuredClone(base);
  nullBit.bits.push({ name: '__GFP_MYSTERY', value: null, meaning: 'x', source: 'x' });
  assert.throws(() => new GfpModel(nullBit), /__GFP_MYSTERY has value null/);
  const clash = structuredClone(base);
  clash.bits.push({ name: '__GFP_CLASH', value: 0x80, meaning: 'x', source: 'x' });
  assert.throws(() => new GfpModel(clash), /share bit 7/);
  const cycle = structuredClone(base);
  cycle.masks.push({ name: 'GFP_A', bits: ['GFP_B'], source: 'x' }, { name: 'GFP_B', bits: ['GFP_A'], source: 'x' });
  assert.throws(() => new GfpModel(cycle), /in terms of itself/);
});
