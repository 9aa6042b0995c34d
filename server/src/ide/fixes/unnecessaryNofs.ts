// Fix 6 (nofs-unnecessary): GFP_NOFS / GFP_NOIO with no lock, transaction or scope on any path → GFP_KERNEL, at a
// lower confidence: the analysis cannot see which locks reclaim takes, nor whether the function runs from reclaim
// or writeback. Not offered when a known calling context holds a lock or has a scope open (a CallerOracle: the
// file's own call graph in the editor, the whole program in the CLI); marked for fix-all only when the whole
// program's contexts are known and clean, and even then applied only when nofs-unnecessary is asked for by name.
// The effective mask widens by __GFP_FS (and __GFP_IO), as intended.
import { refuse, rewriteOr } from './common';
import type { FixBuilder } from './types';

export const unnecessaryNofs: FixBuilder = (input, finding) => {
  const site = input.run.sites.find((s) => s.gfpArg?.start === finding.span.start);
  if (!site?.gfpNode) return refuse(finding, 'no allocation with a written gfp argument here', 'unnecessary-nofs');
  const callers = input.callers(input.fn, input.snap);
  if (callers.verdict === 'dirty') return refuse(finding, callers.reason, 'unnecessary-nofs');
  let named = 0;
  const r = rewriteOr(site.gfpNode, input.snap.text, input.analyser.kb, (n) => {
    if (n !== 'GFP_NOFS' && n !== 'GFP_NOIO') return undefined;
    named++;
    return 'GFP_KERNEL';
  });
  if (!r || named !== 1) return refuse(finding, 'the mask is not written as GFP_NOFS or GFP_NOIO (plus flag bits)', 'unnecessary-nofs');
  return [{
    kind: 'unnecessary-nofs', code: finding.code, target: finding,
    title: `Use GFP_KERNEL (lower confidence: ${callers.reason})`,
    edits: r.edits, preferred: false, confidence: 'low', fixAll: callers.verdict === 'clean',
    note: `no lock, transaction or scope in ${input.fn.name}(); ${callers.reason}; reclaim entry points and writeback are not known to the analysis`,
    intent: { literals: new Map([[site.callee.start, { removed: r.before & ~r.after, added: r.after & ~r.before }]]) },
  }];
};
