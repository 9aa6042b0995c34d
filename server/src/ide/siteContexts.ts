// An allocation's effective masks in its calling contexts, as plain data the CLI prints (`hints --format json`,
// `contexts`) and the language server's workspace index hands to hovers: per distinct mask, how many call sites give
// it, the chain of calls from where the context's state begins, and the callers' locks and scopes (with lines).
import type { SiteContext } from '../analysis/interproc';
import { siteContexts, type Contexts, type Program } from '../analysis/interproc';
import type { GfpModel } from '../model/gfp';

export interface SiteContextSummary {
  effective: string;
  callers: number;
  /** from the call where the context's state begins down to the site's function; each link a call in `function` */
  chain: { function: string; file: string; line: number; callee: string }[];
  /** links left out of the middle of a long chain */
  elided?: number;
  /** locks the callers hold and scopes they opened (the site's own are in the site's paths) */
  held: string[];
  atomic: boolean;
  scopes: { api: string; flags: string[]; file: string; line: number; function: string }[];
}

export function contextSummary(c: SiteContext, line: (file: string, offset: number) => number): SiteContextSummary {
  return {
    effective: c.effective, callers: c.callers,
    chain: c.chain.map((l) => ({ function: l.function, file: l.file, line: line(l.file, l.span.start), callee: l.callee })),
    ...(c.elided ? { elided: c.elided } : {}),
    held: c.held.map((h) => h.cls), atomic: c.atomic,
    scopes: c.scopes.map((s) => ({ api: s.api, flags: [...s.flags], file: s.file, line: line(s.file, s.site.start), function: s.function })),
  };
}

/** A site of a file's function, named so that an edited copy of the file still finds it: its api's n-th call there. */
export interface SiteKey {
  function: string;
  api: string;
  ordinal: number;
}

export interface FileSiteContexts {
  key: SiteKey;
  contexts: SiteContextSummary[];
}

/** The sites of one program file that have callers in the program, with their contexts (a hover asks per file). */
export function fileSiteContexts(program: Program, ctxs: Contexts, model: GfpModel, file: string, line: (file: string, offset: number) => number): FileSiteContexts[] {
  const fi = program.files.findIndex((f) => f.path === file);
  if (fi < 0) return [];
  const out: FileSiteContexts[] = [];
  for (const [id, perSite] of siteContexts(program, ctxs, model, (fn) => fn.file === fi)) {
    const fn = program.functions[id];
    const seen = new Map<string, number>();
    fn.facts.sites.forEach((s, i) => {
      const ordinal = seen.get(s.api) ?? 0;
      seen.set(s.api, ordinal + 1);
      if (!perSite[i].length) return;
      out.push({ key: { function: fn.facts.name, api: s.api, ordinal }, contexts: perSite[i].map((c) => contextSummary(c, line)) });
    });
  }
  return out;
}

/** The key of a site among its function's sites. */
export function siteKeyOf(sites: readonly { api: string }[], index: number, fn: string): SiteKey {
  let ordinal = 0;
  for (let i = 0; i < index; i++) if (sites[i].api === sites[index].api) ordinal++;
  return { function: fn, api: sites[index].api, ordinal };
}

/**
 * The hover's section on calling contexts: each mask with its callers and, linked, the scope that makes it (or the
 * chain's first call). `link(file, line)` gives a markdown link target for a location.
 */
export function contextsMarkdown(contexts: readonly SiteContextSummary[], link: (file: string, line: number) => string | undefined): string {
  const lines = ['**In its calling contexts** (workspace index):'];
  const at = (file: string, line: number, text: string) => {
    const target = link(file, line);
    return target ? `[${text}](${target})` : text;
  };
  for (const c of contexts.slice(0, 6)) {
    const who = `${c.callers} caller${c.callers === 1 ? '' : 's'}`;
    const why: string[] = [];
    for (const s of c.scopes.slice(0, 2)) why.push(`${s.api}() in ${at(s.file, s.line, `${s.function}()`)}`);
    if (c.held.length) why.push(`holding ${c.held.slice(0, 3).map((h) => `\`${h}\``).join(', ')}`);
    if (c.atomic) why.push('atomic');
    const first = c.chain[0];
    const via = first ? ` via ${at(first.file, first.line, `${first.function}()`)}${c.chain.length > 1 ? ` → … → ${c.chain[c.chain.length - 1].callee}()` : ` → ${first.callee}()`}` : '';
    lines.push(`- \`${c.effective}\` from ${who}${why.length ? ` (${why.join('; ')})` : ''}${via}`);
  }
  if (contexts.length > 6) lines.push(`- and ${contexts.length - 6} more`);
  return lines.join('\n');
}
