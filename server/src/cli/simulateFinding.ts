// `reclaim-lens simulate --finding ID [--root DIR] [PATH...]`: analyses the tree as `check` does (the same files,
// facts cache, call graph, calling contexts and deadlock detection), finds the deadlock finding with that id (the
// `id` of `check --format json`), generates its model (ide/findingModel.ts) and explores it like a model file.
// --emit-model prints the model instead; --fixed takes its fixed variant (the one edit the model's header names).
// A sleep-in-atomic id (per function, or through callees as `check --callees` reports them) gets the model of
// ide/sleepModel.ts: the atomic section, the step that sleeps, a second CPU spinning on the lock.
// Exit status: 0 no deadlock reachable (or the model printed), 1 a deadlock is reachable, 2 errors.
import { parseArgs } from 'node:util';
import { crossSleepInAtomic } from '../analysis/interproc';
import { findingId, findingModel, SIMULABLE_CODES, type FindingModelResult } from '../ide/findingModel';
import { crossSleepFinding, SLEEP_CODE, sleepFindingsOf, sleepModel } from '../ide/sleepModel';
import { FORMATS, runModelText, type Format } from './simulate';
import { deadlockSettings, findDeadlocks, indexTree, positionsIn, programOf, treeOptions, type TreeValues } from './tree';

export interface SimulateFindingIo {
  stdout(s: string): void;
  stderr(s: string): void;
  cwd: string;
  progress?(line: string): void;
}

const USAGE = `usage: reclaim-lens simulate --finding ID [--root DIR] [PATH...] [--format text|json|svg|promela]
       [--emit-model] [--fixed] [--no-reduce] [--max-states N]
       [--kernel-version V|auto] [--jobs N] [--cache DIR | --no-cache] [--no-class-level] [--loopback-nfs]
ID is the id of a ${SIMULABLE_CODES.join(', ')} or ${SLEEP_CODE} finding in \`reclaim-lens check --format json\`;
PATHs default to --root (default: the current folder), as for check.
exit status: 0 no deadlock reachable, 1 deadlock reachable, 2 errors`;

/** `simulate` arguments that name a finding (main.ts sends those here). */
export function isFindingSimulation(args: readonly string[]): boolean {
  return args.some((a) => a === '--finding' || a.startsWith('--finding='));
}

export async function runSimulateFinding(argv: string[], io: SimulateFindingIo): Promise<number> {
  const args = argv[0] === 'simulate' ? argv.slice(1) : argv;
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        finding: { type: 'string' },
        root: { type: 'string' },
        format: { type: 'string', default: 'text' },
        'emit-model': { type: 'boolean', default: false },
        fixed: { type: 'boolean', default: false },
        'no-reduce': { type: 'boolean', default: false },
        'max-states': { type: 'string' },
        'kernel-version': { type: 'string', default: 'auto' },
        jobs: { type: 'string' },
        cache: { type: 'string' },
        'no-cache': { type: 'boolean', default: false },
        kb: { type: 'string', multiple: true },
        'no-class-level': { type: 'boolean', default: false },
        'loopback-nfs': { type: 'boolean', default: false },
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
  const usage = (msg: string) => {
    io.stderr(`reclaim-lens: ${msg}\n${USAGE}\n`);
    return 2;
  };
  const id = String(values.finding ?? '');
  if (!id) return usage('--finding needs the id of a finding');
  const format = values.format as Format;
  if (!FORMATS.includes(format)) return usage(`unknown --format '${values.format}' (text, json, svg or promela)`);
  let maxStates: number | undefined;
  if (values['max-states'] !== undefined) {
    maxStates = Number(values['max-states']);
    if (!Number.isInteger(maxStates) || maxStates <= 0) return usage(`--max-states needs a positive integer, got '${values['max-states']}'`);
  }
  const code = id.split(':')[0];
  if (!SIMULABLE_CODES.includes(code) && code !== SLEEP_CODE) {
    io.stderr(`reclaim-lens: ${id}: not a deadlock finding; simulate --finding takes the id of a ${SIMULABLE_CODES.join(', ')} or ${SLEEP_CODE} finding (see reclaim-lens check --format json)\n`);
    return 2;
  }
  const opts = treeOptions(values as TreeValues, io);
  if ('usage' in opts) return usage(opts.usage);
  if ('exit' in opts) return opts.exit;
  if (!positionals.length) positionals.push(typeof values.root === 'string' ? values.root : '.');

  // The analysis of check: the same files, facts and whole-program pass.
  const tree = await indexTree(positionals, opts, io);
  const { view, ioError } = tree;
  const pos = positionsIn(tree);
  const line = (file: string, offset: number) => pos(file, offset).line;
  const notFound = (kind: string, ids: string[]) => {
    const known = ids.length ? `; the ${kind} findings there: ${ids.slice(0, 8).join(', ')}${ids.length > 8 ? `, … (${ids.length} in all)` : ''}` : `; there are no ${kind} findings there`;
    io.stderr(`reclaim-lens: no finding ${id} in ${positionals.join(', ')} (paths relative to ${values.root ?? 'the current folder'})${known}\n`);
    return 2;
  };
  let m: FindingModelResult;
  if (code === SLEEP_CODE) {
    // The function's own findings first (no whole-program pass needed), then those through callees.
    const own = tree.kept.flatMap((f) => f.facts.functions.flatMap((fn) => sleepFindingsOf(f.rel, fn, view.gfp)));
    const hit = own.find((x) => x.id === id);
    if (hit) {
      m = hit.data ? sleepModel(hit.data, { line, kb: view }) : { ok: false, message: hit.problem ?? 'no model data' };
    } else {
      const { program, ctxs } = programOf(tree);
      const cross = crossSleepInAtomic(program, ctxs, view.gfp);
      const x = cross.find((f) => findingId(f) === id);
      if (!x) return notFound(SLEEP_CODE, [...own.map((o) => o.id), ...cross.map((f) => findingId(f))]);
      const data = crossSleepFinding(x);
      m = typeof data === 'string' ? { ok: false, message: data } : sleepModel(data, { line, kb: view });
    }
  } else {
    const { program, ctxs } = programOf(tree);
    const dl = findDeadlocks(program, ctxs, view, deadlockSettings(values as { 'no-class-level'?: boolean; 'loopback-nfs'?: boolean }));
    const finding = dl.findings.find((f) => findingId(f) === id);
    if (!finding) return notFound('deadlock', dl.findings.filter((f) => SIMULABLE_CODES.includes(f.code)).map(findingId));
    m = findingModel(finding, { line, kb: view });
  }
  if (!m.ok) {
    io.stderr(`reclaim-lens: ${id}: ${m.message}\n`);
    return 2;
  }
  const text = values.fixed ? m.model.fixed : m.model.text;
  if (values['emit-model']) {
    io.stdout(text);
    return ioError ? 2 : 0;
  }
  const status = runModelText(text, `${id}${values.fixed ? ' (fixed variant)' : ''}`, { format, reduce: !values['no-reduce'], maxStates }, io);
  if (format === 'text' && status !== 2) {
    io.stdout(values.fixed
      ? `\nfixed variant of ${id}: ${m.model.fix}\n`
      : `\nmodel of ${id} (--emit-model prints it); the fixed variant, one edit away (--fixed runs it): ${m.model.fix}\n`);
  }
  return ioError ? 2 : status;
}

