// Fix 2 (nofs-redundant): GFP_NOFS / GFP_NOIO inside a scope that already clears the bit on every path → GFP_KERNEL.
// The check decides "every path" (a partly scoped allocation is not reported, so gets no fix); the scope lives in
// this function, so calling contexts can only add restrictions. The effective mask stays the same.
import { lineOf } from '../../analysis/lines';
import { refuse, rewriteOr } from './common';
import type { FixBuilder } from './types';

export const redundantNofs: FixBuilder = (input, finding) => {
  const site = input.run.sites.find((s) => s.gfpArg?.start === finding.span.start);
  if (!site?.gfpNode) return refuse(finding, 'no allocation with a written gfp argument here', 'redundant-nofs');
  const kb = input.analyser.kb;
  let named = 0;
  const r = rewriteOr(site.gfpNode, input.snap.text, kb, (n) => {
    if (n !== 'GFP_NOFS' && n !== 'GFP_NOIO') return undefined;
    named++;
    return 'GFP_KERNEL';
  });
  if (!r || named !== 1) return refuse(finding, 'the mask is not written as GFP_NOFS or GFP_NOIO (plus flag bits), so there is no name to replace', 'redundant-nofs');
  const scope = site.paths[0]?.scopes.at(-1);
  const by = scope ? `${scope.api}() at line ${lineOf(input.snap, scope.site.start)}` : 'the scope';
  return [{
    kind: 'redundant-nofs', code: finding.code, target: finding,
    title: `Use GFP_KERNEL: ${by} already makes this allocation ${site.gfpNode.text.includes('GFP_NOIO') ? 'NOIO' : 'NOFS'}`,
    edits: r.edits, preferred: true, confidence: 'high', fixAll: true,
    intent: { literals: new Map([[site.callee.start, { removed: r.before & ~r.after, added: r.after & ~r.before }]]) },
  }];
};
