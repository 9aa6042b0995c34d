// Diagnostic: gfp-or-ineffective
// `GFP_KERNEL | GFP_NOFS` is GFP_KERNEL: OR can only add bits, so the narrower mask has no effect. The author
// usually meant the narrower one (or `& ~__GFP_FS`, or a memalloc_nofs scope).
import type { Node } from 'web-tree-sitter';
import type { Finding } from '../facts';
import type { Check } from './types';

export const gfpOrIneffective: Check = {
  code: 'gfp-or-ineffective',
  defaultSeverity: 'warning',
  run(fn) {
    const out: Finding[] = [];
    const m = fn.kb.gfp;
    const reclaimBits = (m.lookup('__GFP_DIRECT_RECLAIM') ?? 0) | (m.lookup('__GFP_KSWAPD_RECLAIM') ?? 0) | (m.lookup('__GFP_IO') ?? 0) | (m.lookup('__GFP_FS') ?? 0);
    for (const site of fn.sites) {
      if (!site.gfpNode) continue;
      const names: Node[] = [];
      collectOrOperands(site.gfpNode, names);
      const composites = names
        .filter((n) => n.type === 'identifier' && /^GFP_/.test(n.text) && m.lookup(n.text) !== undefined)
        .map((n) => ({ n, bits: m.lookup(n.text)! & reclaimBits }));
      for (const a of composites) {
        const wider = composites.find((b) => b !== a && (a.bits & b.bits) === a.bits && a.bits !== b.bits);
        if (!wider) continue;
        const lost = m.bitNames(wider.bits & ~a.bits).join('|');
        out.push({
          code: 'gfp-or-ineffective', severity: 'warning', span: { start: site.gfpNode.startIndex, end: site.gfpNode.endIndex }, function: site.function,
          message: `${site.gfpNode.text.replace(/\s+/g, ' ')} is ${wider.n.text}: OR cannot remove ${lost}, so ${a.n.text} has no effect; write ${a.n.text} alone (or use a memalloc scope)`,
          related: [],
        });
        break;
      }
    }
    return out;
  },
};

function collectOrOperands(n: Node, out: Node[]) {
  while (n.type === 'parenthesized_expression' && n.namedChild(0)) n = n.namedChild(0)!;
  if (n.type === 'binary_expression' && (n.childForFieldName('operator')?.text ?? n.child(1)?.text) === '|') {
    const l = n.childForFieldName('left');
    const r = n.childForFieldName('right');
    if (l) collectOrOperands(l, out);
    if (r) collectOrOperands(r, out);
    return;
  }
  out.push(n);
}
