// The simulation feature in editor terms: run a `.rlsim` model (docs/rlsim.md) and describe the result for the
// language server (the `reclaimLens/simulate` request, hovers, go-to-source and the model's code lens) and tests.
// Pure: no IO and no LSP types. Whether a file exists is asked through a callback; positions are 1-based spans.
import * as path from 'node:path';
import {
  definitionAt, hasErrors, hoverAt, parseModel, renderText, simulateModel, toJson,
  type JsonReport, type Problem, type SourceLocation, type Span,
} from '../simulate';
import type { JsonStep } from '../simulate/report';

export interface SimulationStep extends JsonStep {
  /** Where the step is written in the model (for a blocked entry: the step it is stuck on). */
  modelSpan: Span;
}

/** `toJson` of simulate/report.ts, with model spans per step, the lockdep text and a one-line verdict. */
export interface SimulationReport extends Omit<JsonReport, 'steps'> {
  steps: SimulationStep[];
  /** The lockdep-format report (`renderText`), or `no deadlock: N states explored`. */
  lockdep: string;
  /** One line, as the model's code lens shows it: `deadlock in 5 steps`, `no deadlock: 27 states`. */
  summary: string;
  /** Warnings of the model (they do not stop the simulation). */
  warnings: Problem[];
}

export type SimulationOutcome =
  | { ok: true; report: SimulationReport }
  | { ok: false; message: string; problems: Problem[] };

export interface SimulationOptions {
  /** Explorer state budget; the engine's default when absent. */
  maxStates?: number;
  /** How to name the model in messages, e.g. its file name. */
  name?: string;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Parses and explores a model. A model with errors is not run: the outcome lists its problems. */
export function simulateText(text: string, opts: SimulationOptions): SimulationOutcome {
  const { model, problems } = parseModel(text);
  const errors = problems.filter((p) => p.severity === 'error');
  const name = opts.name ?? 'the model';
  if (hasErrors(problems)) {
    const first = errors[0];
    const more = errors.length > 1 ? ` (and ${plural(errors.length - 1, 'more error')})` : '';
    return { ok: false, message: `${name} has ${plural(errors.length, 'error')}: line ${first.line}, column ${first.column}: ${first.message}${more}`, problems };
  }
  const sim = simulateModel(model, { maxStates: opts.maxStates });
  const json = toJson(sim);
  const steps = json.steps.map((s, i) => ({ ...s, modelSpan: sim.steps[i].instr.step.span }));
  return { ok: true, report: { ...json, steps, lockdep: renderText(sim), summary: verdictSummary(json), warnings: problems } };
}

/** `deadlock in 5 steps`, `no deadlock: 27 states`, `no verdict: state limit reached after N states`. */
export function verdictSummary(r: Pick<JsonReport, 'verdict' | 'length' | 'statesExplored'>): string {
  switch (r.verdict) {
    case 'deadlock': return `deadlock in ${plural(r.length, 'step')}`;
    case 'no-deadlock': return `no deadlock: ${plural(r.statesExplored, 'state')}`;
    default: return `no verdict: state limit reached after ${plural(r.statesExplored, 'state')}`;
  }
}

export interface ModelLens {
  /** 1-based line the lens sits on. */
  line: number;
  title: string;
  kind: 'run' | 'verdict';
}

/** The lenses on a model's first line: "▶ Run model", then the verdict of the last run of this text, if any. */
export function modelLenses(lastSummary: string | undefined): ModelLens[] {
  const lenses: ModelLens[] = [{ line: 1, title: '▶ Run model', kind: 'run' }];
  if (lastSummary !== undefined) lenses.push({ line: 1, title: lastSummary, kind: 'verdict' });
  return lenses;
}

/**
 * Resolves a model's `@file` against each base folder in turn (the model's folder, then the workspace root) and
 * returns the first existing file. A path that leaves its base (`../../etc/passwd`, an absolute path elsewhere)
 * is not resolved against that base.
 */
export function resolveSourceFile(file: string, bases: readonly string[], isFile: (absPath: string) => boolean): string | undefined {
  for (const base of bases) {
    const abs = path.resolve(base, file);
    const rel = path.relative(base, abs);
    if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) continue;
    if (isFile(abs)) return abs;
  }
  return undefined;
}

export interface ModelHover {
  markdown: string;
  span: Span;
}

/**
 * Hover on a step or declaration of a model: what it does and its source location.
 * `link` turns a location into a link target (e.g. a file URI with `#L<line>`) when its file was found.
 */
export function modelHover(text: string, line: number, column: number, link: (loc: SourceLocation) => string | undefined): ModelHover | undefined {
  const { model } = parseModel(text);
  const h = hoverAt(model, line, column);
  if (!h) return undefined;
  const def = definitionAt(model, line, column);
  const loc = def?.kind === 'source' ? def.location : undefined;
  const target = loc ? link(loc) : undefined;
  const open = loc && target ? `\n\n[Open ${escapeMarkdown(`${loc.file}:${loc.line}`)}](${target})` : '';
  return { markdown: h.contents + open, span: h.span };
}

export type ModelDefinition =
  | { kind: 'source'; file: string; line: number; column?: number; span: Span }
  | { kind: 'model'; target: Span; span: Span };

/** Go-to-definition in a model: a step's `@file:line` resolved to an existing file, or a declaration in the model. */
export function modelDefinition(text: string, line: number, column: number, resolve: (file: string) => string | undefined): ModelDefinition | undefined {
  const { model } = parseModel(text);
  const def = definitionAt(model, line, column);
  if (!def) return undefined;
  if (def.kind === 'model') return def;
  const file = resolve(def.location.file);
  return file ? { kind: 'source', file, line: def.location.line, column: def.location.column, span: def.span } : undefined;
}

/** Markdown link text from a model string: brackets and other markup characters are escaped. */
function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]()<>#+!|~]/g, (c) => `\\${c}`);
}
