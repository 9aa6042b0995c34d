// Hover on an allocator or its gfp argument: the derivation step by step and what the mask allows.
import type { AllocSite, FileFacts } from '../analysis/facts';
import { lineOf } from '../analysis/lines';
import type { GfpModel } from '../model/gfp';
import { groupSite, pathsLabel, type MaskGroup } from './siteView';
import { siteKeyOf, type SiteKey } from './siteContexts';
import type { HoverResult } from './types';

export function hover(facts: FileFacts, text: string, offset: number, model: GfpModel): (HoverResult & { site: SiteKey }) | undefined {
  for (const fn of facts.functions) {
    if (offset < fn.span.start || offset > fn.span.end) continue;
    for (const [i, site] of fn.sites.entries()) {
      const onCallee = offset >= site.callee.start && offset <= site.callee.end;
      const onGfp = site.gfpArg && offset >= site.gfpArg.start && offset <= site.gfpArg.end;
      if (!onCallee && !onGfp) continue;
      return { range: onGfp ? site.gfpArg! : site.callee, markdown: siteMarkdown(site, { text }, model), site: siteKeyOf(fn.sites, i, fn.name) };
    }
  }
  return undefined;
}

const yn = (t: string) => (t === 'yes' ? 'yes' : t === 'no' ? 'no' : 'depends on the caller');

export function siteMarkdown(site: AllocSite, file: { text: string }, model: GfpModel): string {
  const groups = groupSite(site, model);
  const line = (o: number) => lineOf(file, o);
  const lines: string[] = [];
  lines.push(`**${site.api}()** — effective gfp mask in \`${site.function}()\``);
  if (groups.length > 1) lines.push('', `Paths disagree: ${groups.map((g) => `\`${g.effective}\` on ${pathsLabel(g.paths)}`).join(', ')}.`);
  for (const g of groups) {
    lines.push('', groups.length > 1 ? `#### \`${g.effective}\` (${pathsLabel(g.paths)})` : '');
    lines.push(...derivation(site, g, line, model));
  }
  lines.push('', `_${site.api}: ${site.entry.source}_`);
  return lines.join('\n');
}

function derivation(site: AllocSite, g: MaskGroup, line: (o: number) => number, model: GfpModel): string[] {
  void model;
  const out: string[] = ['| step | mask |', '|---|---|'];
  const p = g.members[0];
  out.push(`| literal${site.gfpArg ? '' : ` (implicit in ${site.api}())`} | \`${g.literal}\` |`);
  const api: string[] = [];
  if (site.entry.adds?.length) api.push(`adds ${site.entry.adds.map((b) => `\`${b}\``).join(', ')}`);
  if (site.entry.clears?.length) api.push(`clears ${site.entry.clears.map((b) => `\`${b}\``).join(', ')}`);
  if (site.entry.mapping) api.push(site.entry.mapping.mode === 'mask' ? 'uses the mapping\'s mask' : 'intersects with the mapping\'s mask');
  if (api.length) out.push(`| ${site.api}() ${api.join('; ')} | \`${g.requested}\` |`);
  const scoped = p.scopes.filter((f) => f.flags.length > 0);
  for (const f of scoped) out.push(`| ${f.api}() at line ${line(f.site.start)} sets ${f.flags.map((x) => `\`${x}\``).join(', ')} | |`);
  if (scoped.length) out.push(`| current_gfp_context() | \`${g.effective}\` |`);
  for (const f of p.scopes.filter((x) => x.flags.length === 0)) {
    out.push(`| ${f.api}() at line ${line(f.site.start)} holds \`${f.resource ?? f.family}\` (no memalloc scope) | |`);
  }
  const held = p.held.map((h) => `\`${h.cls}\`${h.read ? ' (read)' : ''} (line ${line(h.site.start)})`).join(', ');
  out.push('', `**Held locks:** ${held || 'none in this function'}`);
  out.push('', `**Atomic context:** ${p.atomic ? `yes (${p.held.filter((h) => h.atomic).map((h) => `\`${h.cls}\``).join(', ')})` : 'no'}`);
  out.push('', `**Result:** \`${g.effective}\` — may sleep: ${yn(g.facts.maySleep)}; may enter FS reclaim: ${yn(g.facts.fsReclaim)}; may start I/O: ${yn(g.facts.io)}; may reach mmu-notifier invalidation: ${yn(g.facts.mmuNotifier)}`);
  return out;
}
