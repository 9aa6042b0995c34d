// Seeded generator of small random `.rlsim` models for differential tests (reduced vs unreduced search,
// explorer vs SPIN). Models mix every resource kind, gates, scopes, trylocks, faults and kswapd.

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

export function randomModel(seed: number): string {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const masks = ['GFP_KERNEL', 'GFP_NOFS', 'GFP_NOIO', 'GFP_NOWAIT', 'GFP_ATOMIC', 'GFP_KERNEL & ~__GFP_FS'];
  const locks = ['&m0', '&m1', '&s0'];
  const out: string[] = [
    `model "random ${seed}"`,
    'mutex &m0', 'mutex &m1', 'rwsem &s0', 'spinlock &sp0', 'completion c0', 'transaction h0', 'queue q0',
  ];
  let line = 1;
  const at = (): string => `@r.c:${line++}`;
  const segment = (depth: number, inCallback: boolean): string[] => {
    const k = r();
    if (k < 0.4) {
      const l = pick(locks);
      const read = l === '&s0' && r() < 0.5;
      const inner = depth < 2 && r() < 0.7 ? segment(depth + 1, inCallback) : [];
      return [`${read ? 'rlock' : 'lock'} ${l} ${at()}`, ...inner, `unlock ${l} ${at()}`];
    }
    if (k < 0.5) return [`trylock ${pick(locks)} ${at()}`, ...(depth < 2 && r() < 0.5 ? segment(depth + 1, inCallback) : [])];
    if (k < 0.62) return [`alloc ${pick(masks)} ${at()}`];
    if (k < 0.66) return ['nofs_save', `alloc ${pick(masks)} ${at()}`, 'nofs_restore'];
    if (k < 0.7) return [`signal c0 ${at()}`];
    if (k < 0.72) return [`wait c0 ${at()}`];
    if (k < 0.77) return [`start h0 ${at()}`, ...(depth < 2 && r() < 0.5 ? segment(depth + 1, inCallback) : []), `stop h0 ${at()}`];
    if (k < 0.8) return [`commit h0 ${at()}`];
    if (k < 0.84) return [`freeze q0 ${at()}`, ...(depth < 2 && r() < 0.5 ? segment(depth + 1, inCallback) : []), `unfreeze q0 ${at()}`];
    if (k < 0.87) return [`io q0 ${at()}`];
    if (k < 0.9) return [`lock &sp0 ${at()}`, ...(r() < 0.5 ? [`alloc ${pick(masks)} ${at()}`] : []), `unlock &sp0 ${at()}`];
    if (!inCallback && k < 0.96) return [`fault ${at()}`];
    return ['noio_save', `alloc ${pick(masks)} ${at()}`, 'noio_restore'];
  };
  const callbacks = 1 + Math.floor(r() * 2);
  for (let c = 0; c < callbacks; c++) {
    const gate = pick(['', ' gate __GFP_FS', ' gate __GFP_IO', ' gate GFP_KERNEL']);
    const from = pick(['', '', ' from direct', ' from kswapd']);
    const kind = pick(['shrinker', 'mmu_notifier', 'release_folio', 'evict_inode']);
    out.push(`reclaim cb${c} kind ${kind}${gate}${from} {`);
    const n = 1 + Math.floor(r() * 2);
    for (let i = 0; i < n; i++) out.push(...segment(1, true).map((s) => '  ' + s));
    out.push('}');
  }
  if (r() < 0.5) {
    out.push('fault fh {');
    out.push(`  rlock &s0 ${at()}`);
    if (r() < 0.5) out.push(`  alloc ${pick(masks)} ${at()}`);
    out.push(`  unlock &s0 ${at()}`);
    out.push('}');
  }
  const threads = 2 + (r() < 0.4 ? 1 : 0);
  for (let t = 0; t < threads; t++) {
    const kswapd = t === threads - 1 && r() < 0.3;
    if (kswapd) {
      out.push(`thread k${t} role kswapd`);
      continue;
    }
    out.push(`thread t${t} {`);
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) out.push(...segment(0, false).map((s) => '  ' + s));
    out.push('}');
  }
  return out.join('\n') + '\n';
}
