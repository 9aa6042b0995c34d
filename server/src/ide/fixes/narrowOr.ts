// Fix 5 (gfp-or-ineffective): `GFP_KERNEL | GFP_NOFS` is GFP_KERNEL; the author meant the narrower mask, so the
// wider composite operands are dropped (`GFP_KERNEL | GFP_NOFS | __GFP_ZERO` → `GFP_NOFS | __GFP_ZERO`). The site's
// effective mask narrows by exactly the bits the dropped operands brought back.
import { refuse, orOperands, rewriteOr } from './common';
import type { FixBuilder } from './types';

export const narrowOr: FixBuilder = (input, finding) => {
  const site = input.run.sites.find((s) => s.gfpArg?.start === finding.span.start);
  if (!site?.gfpNode) return refuse(finding, 'no allocation with a written gfp argument here', 'narrow-or');
  const m = input.analyser.kb.gfp;
  const reclaim = ['__GFP_DIRECT_RECLAIM', '__GFP_KSWAPD_RECLAIM', '__GFP_IO', '__GFP_FS'].reduce((a, n) => a | (m.lookup(n) ?? 0), 0);
  const composites = orOperands(site.gfpNode).filter((n) => n.type === 'identifier' && /^GFP_/.test(n.text) && m.lookup(n.text) !== undefined)
    .map((n) => ({ name: n.text, bits: m.lookup(n.text)! & reclaim }));
  // Drop every composite that is strictly wider (in reclaim bits) than another one.
  const drop = new Set(composites.filter((a) => composites.some((b) => b !== a && (b.bits & a.bits) === b.bits && b.bits !== a.bits)).map((a) => a.name));
  if (!drop.size) return refuse(finding, 'no composite in the expression is wider than another', 'narrow-or');
  const r = rewriteOr(site.gfpNode, input.snap.text, input.analyser.kb, (n) => (drop.has(n) ? null : undefined));
  if (!r) return refuse(finding, 'the expression has operands that are not gfp names', 'narrow-or');
  const kept = composites.filter((c) => !drop.has(c.name)).map((c) => c.name);
  return [{
    kind: 'narrow-or', code: finding.code, target: finding,
    title: `Use ${kept.join(' | ')}: OR with ${[...drop].join(', ')} puts back the bits it leaves out`,
    edits: r.edits, preferred: true, confidence: 'high', fixAll: true,
    intent: { literals: new Map([[site.callee.start, { removed: r.before & ~r.after, added: r.after & ~r.before }]]) },
  }];
};
