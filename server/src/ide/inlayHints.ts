// Inlay hints: `⇒ GFP_NOFS` after the gfp argument when the effective mask differs from what is requested there.
// Label parts link to the scope's save call. Only the requested range; never inside macro definitions (the
// analysis never sees macro bodies: tree-sitter keeps them as preprocessor text).
import type { FileFacts } from '../analysis/facts';
import type { GfpModel } from '../model/gfp';
import { siteKeyOf, type SiteContextSummary, type SiteKey } from './siteContexts';
import { groupSite, pathsLabel } from './siteView';
import type { InlayHint, InlayHintsConfig, InlayLabelPart, TextRange } from './types';

/** A site's calling contexts from the workspace index's last whole-program pass, when it has them (#3). */
export type SiteContextsOf = (key: SiteKey) => readonly SiteContextSummary[] | undefined;

export function inlayHints(facts: FileFacts, range: TextRange, config: InlayHintsConfig, model: GfpModel, contextsOf?: SiteContextsOf): InlayHint[] {
  if (config.mode === 'off') return [];
  const out: InlayHint[] = [];
  for (const fn of facts.functions) {
    if (fn.span.end < range.start || fn.span.start > range.end) continue;
    fn.sites.forEach((site, index) => {
      if (site.call.start < range.start || site.call.start > range.end) return;
      const groups = groupSite(site, model);
      if (groups.length === 0) return;
      // The masks the site gets in its callers' contexts, where one differs from its own frame's.
      const inCallers = contextsOf ? callerMasks(contextsOf(siteKeyOf(fn.sites, index, fn.name)), groups.map((g) => g.effective)) : [];
      const changed = groups.some((g) => g.effective !== g.requested) || inCallers.length > 0;
      if (config.mode === 'changed' && !changed) return;
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
      if (inCallers.length) {
        label.push({ text: ' · callers: ' });
        inCallers.forEach((c, i) => {
          if (i > 0) label.push({ text: ', ' });
          const first = c.via.chain[0];
          label.push({ text: c.effective, tooltip: contextTooltip(c.effective, c.callers, c.via), ...(first ? { link: { file: first.file, line: first.line } } : {}) });
          label.push({ text: ` (${c.callers})` });
        });
      }
      const offset = site.gfpArg ? site.gfpArg.end : site.call.end;
      out.push({ offset, label, paddingLeft: true, paddingRight: false });
    });
  }
  out.sort((a, b) => a.offset - b.offset);
  return out.filter((h, i) => i === 0 || h.offset !== out[i - 1].offset);
}

/**
 * The distinct masks of a site's calling contexts (callers summed, the context with the most callers as the
 * example), when one of them differs from the masks of the site's own frame; at most three.
 */
function callerMasks(contexts: readonly SiteContextSummary[] | undefined, own: readonly string[]): { effective: string; callers: number; via: SiteContextSummary }[] {
  if (!contexts?.length) return [];
  const by = new Map<string, { effective: string; callers: number; via: SiteContextSummary }>();
  for (const c of contexts) {
    if (c.callers === 0) continue;
    const have = by.get(c.effective);
    if (!have) by.set(c.effective, { effective: c.effective, callers: c.callers, via: c });
    else {
      have.callers += c.callers;
      if (c.callers > have.via.callers) have.via = c;
    }
  }
  const list = [...by.values()];
  if (list.every((x) => own.includes(x.effective))) return [];
  return list.sort((a, b) => b.callers - a.callers).slice(0, 3);
}

function contextTooltip(effective: string, callers: number, c: SiteContextSummary): string {
  const first = c.chain[0];
  const chain = first ? `${first.function}() → ${c.chain.length > 1 ? '… → ' : ''}${c.chain[c.chain.length - 1].callee}()` : '';
  const why = [
    ...c.scopes.slice(0, 2).map((s) => `${s.api}() in ${s.function}()`),
    ...(c.held.length ? [`holding ${c.held.slice(0, 3).join(', ')}`] : []),
    ...(c.atomic ? ['atomic'] : []),
  ];
  return `${effective} from ${callers} caller${callers === 1 ? '' : 's'}${why.length ? ` (${why.join('; ')})` : ''}${chain ? `, via ${chain}` : ''}`;
}
