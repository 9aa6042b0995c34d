// Editor queries over a parsed `.rlsim` model: hover text and go-to-source for steps and declarations.
// Positions are 1-based (line, column) like the rest of simulate/; the LSP adapter converts.
import { describeMask, hexMask, __GFP_DIRECT_RECLAIM } from './gfp';
import { admits } from './program';
import type { Model, ReclaimCallback, SourceLocation, Span, Step } from './model';

export interface RlsimHover {
  /** Markdown. */
  contents: string;
  span: Span;
}

export type RlsimDefinition =
  | { kind: 'source'; location: SourceLocation; span: Span }
  | { kind: 'model'; target: Span; span: Span };

function inside(s: Span, line: number, column: number): boolean {
  if (line < s.line || line > s.endLine) return false;
  if (line === s.line && column < s.column) return false;
  if (line === s.endLine && column >= s.endColumn) return false;
  return true;
}

interface Hit {
  step?: Step;
  owner?: string;
  decl?: { kind: string; name: string; location?: SourceLocation; note?: string; span: Span; nameSpan: Span; extra?: string };
}

function find(model: Model, line: number, column: number): Hit | undefined {
  const blocks: { owner: string; steps: Step[] }[] = [
    ...model.threads.map((t) => ({ owner: `thread ${t.name}`, steps: t.steps })),
    ...model.reclaims.map((r) => ({ owner: `reclaim ${r.name}`, steps: r.steps })),
    ...model.faults.map((f) => ({ owner: `fault ${f.name}`, steps: f.steps })),
  ];
  for (const b of blocks) for (const s of b.steps) if (inside(s.span, line, column)) return { step: s, owner: b.owner };
  for (const r of model.resources) if (inside(r.span, line, column)) return { decl: { ...r, kind: r.flavor } };
  for (const r of model.reclaims) if (inside(r.span, line, column)) return { decl: { ...r, kind: 'reclaim', extra: reclaimSummary(r) } };
  for (const f of model.faults) if (inside(f.span, line, column)) return { decl: { ...f, kind: 'fault handler' } };
  for (const t of model.threads) if (inside(t.span, line, column)) return { decl: { ...t, kind: `thread (role ${t.role})` } };
  return undefined;
}

function reclaimSummary(r: ReclaimCallback): string {
  const gate = r.gate ? `runs only when the effective mask contains \`${r.gate.text}\` (${describeMask(r.gate.value)})` : 'runs for every mask that allows direct reclaim';
  const from = r.from === 'any' ? 'direct reclaim and kswapd' : r.from === 'direct' ? 'direct reclaim only' : 'kswapd only';
  return `${r.kind}; ${gate}; entered from ${from}`;
}

function locText(loc: SourceLocation | undefined): string {
  return loc ? `\`${loc.file}:${loc.line}\`` : '_no source location_';
}

const OP_DOC: Record<string, string> = {
  lock: 'acquire (exclusive; rwsem: write) — blocks while held',
  rlock: 'acquire an rwsem for read — blocks while a writer holds or waits',
  trylock: 'try to acquire; never blocks — on failure the enclosing block bails out, releasing what it took',
  tryrlock: 'try to acquire for read; never blocks — on failure the enclosing block bails out',
  unlock: 'release',
  wait: 'wait for a completion / fence to be signalled',
  signal: 'signal a completion / fence (complete_all)',
  start: 'start (or nest) a transaction handle — blocks while a commit is pending',
  stop: 'stop a transaction handle',
  commit: 'commit: block new handles, wait for running handles to stop',
  freeze: 'freeze a queue: block new I/O, wait for in-flight usage to drain',
  unfreeze: 'unfreeze a queue',
  io: 'submit I/O through a queue and wait for it — blocks while the queue is frozen',
  enter: 'take a queue usage reference — blocks while frozen',
  exit: 'drop a queue usage reference',
  alloc: 'allocate; may enter any reclaim callback the effective mask admits (direct reclaim in this thread)',
  reclaim: 'run a reclaim pass (kswapd): may enter any admitted reclaim callback',
  fault: 'touch user memory: may page-fault into a fault handler',
};

export function hoverAt(model: Model, line: number, column: number): RlsimHover | undefined {
  const hit = find(model, line, column);
  if (!hit) return undefined;
  if (hit.decl) {
    const d = hit.decl;
    const parts = [`**${d.kind}** \`${d.name}\``];
    if (d.extra) parts.push(d.extra);
    parts.push(`source: ${locText(d.location)}`);
    if (d.note) parts.push(d.note);
    return { contents: parts.join('\n\n'), span: d.nameSpan };
  }
  const s = hit.step!;
  const parts = [`**${s.op}**${s.resource ? ` \`${s.resource}\`` : ''}${s.mask ? ` \`${s.mask.text}\`` : ''} — ${OP_DOC[s.op] ?? 'memalloc scope change'}`];
  if (s.resource) {
    const r = model.resources.find((x) => x.name === s.resource);
    if (r) parts.push(`${r.flavor} declared at line ${r.span.line}`);
  }
  if (s.mask) {
    parts.push(`\`${s.mask.text}\` = ${hexMask(s.mask.value)} (${describeMask(s.mask.value)})`);
    if (s.op === 'alloc') {
      if ((s.mask.value & __GFP_DIRECT_RECLAIM) === 0) parts.push('no `__GFP_DIRECT_RECLAIM`: never enters reclaim and never sleeps');
      else {
        const yes = model.reclaims.filter((r) => admits(r, s.mask!.value, false, false)).map((r) => `\`${r.name}\``);
        const no = model.reclaims.filter((r) => !admits(r, s.mask!.value, false, false)).map((r) => `\`${r.name}\``);
        parts.push(`may enter (before memalloc scopes narrow the mask): ${yes.join(', ') || 'none'}${no.length ? `; not admitted: ${no.join(', ')}` : ''}`);
      }
    }
  }
  if (s.op === 'fault') parts.push(`handlers: ${(s.handler ? [s.handler] : model.faults.map((f) => f.name)).map((h) => `\`${h}\``).join(', ') || 'none'}`);
  parts.push(`in ${hit.owner}; source: ${locText(s.location)}`);
  if (s.note) parts.push(s.note);
  return { contents: parts.join('\n\n'), span: s.span };
}

/** On a step's resource / handler operand: the model declaration; elsewhere on a step or declaration: its `@file:line`. */
export function definitionAt(model: Model, line: number, column: number): RlsimDefinition | undefined {
  const hit = find(model, line, column);
  if (!hit) return undefined;
  if (hit.step) {
    const s = hit.step;
    if (s.operandSpan && inside(s.operandSpan, line, column)) {
      const r = s.resource !== undefined ? model.resources.find((x) => x.name === s.resource) : undefined;
      if (r) return { kind: 'model', target: r.nameSpan, span: s.operandSpan };
      const f = s.handler !== undefined ? model.faults.find((x) => x.name === s.handler) : undefined;
      if (f) return { kind: 'model', target: f.nameSpan, span: s.operandSpan };
    }
    return s.location ? { kind: 'source', location: s.location, span: s.span } : undefined;
  }
  const d = hit.decl!;
  return d.location ? { kind: 'source', location: d.location, span: d.nameSpan } : undefined;
}
