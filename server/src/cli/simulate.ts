// `reclaim-lens simulate FILE.rlsim [--format text|json|svg|promela] [--no-reduce] [--max-states N]`
// Exit status: 0 no deadlock reachable, 1 a deadlock is reachable, 2 errors (usage, IO, model errors,
// state limit reached).
import { parseArgs } from 'node:util';
import { hasErrors, parseModel } from '../simulate/parse';
import { compile } from '../simulate/program';
import { explore } from '../simulate/explore';
import { buildSimulation } from '../simulate/trace';
import { renderJson, renderText } from '../simulate/report';
import { renderSvg } from '../simulate/svg';
import { toPromela } from '../simulate/promela';

export interface SimulateIo {
  readFile(p: string): string;
  stdout(s: string): void;
  stderr(s: string): void;
}

const USAGE = `usage: reclaim-lens simulate FILE.rlsim [--format text|json|svg|promela] [--no-reduce] [--max-states N]
       reclaim-lens simulate --finding ID [--root DIR] [PATH...] [--emit-model] [--fixed] [--format ...]
exit status: 0 no deadlock reachable, 1 deadlock reachable, 2 errors`;

export const FORMATS = ['text', 'json', 'svg', 'promela'] as const;
export type Format = (typeof FORMATS)[number];

export function runSimulate(argv: string[], io: SimulateIo): number {
  const args = argv[0] === 'simulate' ? argv.slice(1) : argv;
  let values: { format?: string; finding?: string; root?: string; 'no-reduce'?: boolean; 'max-states'?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'text' },
        finding: { type: 'string' },
        root: { type: 'string' },
        'no-reduce': { type: 'boolean' },
        'max-states': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr(`reclaim-lens: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE + '\n');
    return 0;
  }
  const format = values.format as Format;
  if (!FORMATS.includes(format)) {
    io.stderr(`reclaim-lens: unknown --format '${values.format}' (text, json, svg or promela)\n`);
    return 2;
  }
  if (values.finding !== undefined) {
    // The reclaim-lens command runs simulate --finding (cli/simulateFinding.ts: it analyses the tree first).
    io.stderr('reclaim-lens: simulate --finding analyses a source tree: run it as `reclaim-lens simulate --finding ID`\n');
    return 2;
  }
  if (positionals.length !== 1) {
    io.stderr(`reclaim-lens: simulate takes exactly one FILE.rlsim\n${USAGE}\n`);
    return 2;
  }
  let maxStates: number | undefined;
  if (values['max-states'] !== undefined) {
    maxStates = Number(values['max-states']);
    if (!Number.isInteger(maxStates) || maxStates <= 0) {
      io.stderr(`reclaim-lens: --max-states needs a positive integer, got '${values['max-states']}'\n`);
      return 2;
    }
  }
  const file = positionals[0];
  let text: string;
  try {
    text = io.readFile(file);
  } catch (e) {
    io.stderr(`reclaim-lens: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  return runModelText(text, file, { format, reduce: !values['no-reduce'], maxStates }, io);
}

/** Parses, explores and prints a model text (`file` names it in messages); the exit status of `simulate`. */
export function runModelText(text: string, file: string, o: { format: Format; reduce: boolean; maxStates?: number }, io: Pick<SimulateIo, 'stdout' | 'stderr'>): number {
  const { format, maxStates } = o;
  const { model, problems } = parseModel(text);
  for (const pr of problems) {
    io.stderr(`${file}:${pr.line}:${pr.column}: ${pr.severity}: ${pr.message}\n`);
  }
  if (hasErrors(problems)) return 2;
  const program = compile(model);
  const result = explore(program, { reduce: o.reduce, maxStates });
  const sim = buildSimulation(program, result);
  if (result.verdict === 'limit') {
    io.stderr(`reclaim-lens: state limit reached after ${result.statesExplored} states; no verdict\n`);
    return 2;
  }
  switch (format) {
    case 'json': io.stdout(renderJson(sim)); break;
    case 'svg': io.stdout(renderSvg(sim)); break;
    case 'promela': io.stdout(toPromela(program)); break;
    default: io.stdout(renderText(sim)); break;
  }
  return result.verdict === 'deadlock' ? 1 : 0;
}
