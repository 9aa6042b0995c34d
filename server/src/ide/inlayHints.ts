// Inlay hints: `⇒ GFP_NOFS` after the gfp argument when the effective mask differs from what is requested there.
// Label parts link to the scope's save call. Only the requested range; never inside macro definitions (the
// analysis never sees macro bodies: tree-sitter keeps them as preprocessor text).
import type { FileFacts } from '../analysis/facts';
import type { GfpModel } from '../model/gfp';
import { groupSite, pathsLabel } from './siteView';
import type { InlayHint, InlayHintsConfig, InlayLabelPart, TextRange } from './types';

export function inlayHints(facts: FileFacts, range: TextRange, config: InlayHintsConfig, model: GfpModel): InlayHint[] {
  if (config.mode === 'off') return [];
  const out: InlayHint[] = [];
  for (const fn of facts.functions) {
    if (fn.span.end < range.start || fn.span.start > range.end) continue;
    for (const site of fn.sites) {
      if (site.call.start < range.start || site.call.start > range.end) continue;
      const groups = groupSite(site, model);
      if (groups.length === 0) continue;
      const changed = groups.some((g) => g.effective !== g.requested);
      if (config.mode === 'changed' && !changed) continue;
      const label: InlayLabelPart[] = [{ text: '⇒ ' }];
      groups.forEach((g, i) => {
        if (i > 0) label.push({ text: ' | ' });
        const part: InlayLabelPart = { text: g.effective };
        if (g.narrowedBy) {
          part.target = g.narrowedBy.site;
          part.tooltip = `narrowed by ${g.narrowedBy.api}()`;
        }
        label.push(part);
        if (groups.length > 1) label.push({ text: ` (${pathsLabel(g.paths)})` });
      });
      const offset = site.gfpArg ? site.gfpArg.end : site.call.end;
      out.push({ offset, label, paddingLeft: true, paddingRight: false });
    }
  }
  out.sort((a, b) => a.offset - b.offset);
  return out.filter((h, i) => i === 0 || h.offset !== out[i - 1].offset);
}
