// `reclaim-lens simulate --finding ID [--root DIR] [PATH...]`: analyses the tree as `check` does (the same files,
// facts cache, call graph, calling contexts and deadlock detection), finds the deadlock finding with that id (the
// `id` of `check --format json`), generates its model (ide/findingModel.ts) and explores it like a model file.
// --emit-model prints the model instead; --fixed takes its fixed variant (the one edit the model's header names).
// Exit status: 0 no deadlock reachable (or the model printed), 1 a deadlock is reachable, 2 errors.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { findDeadlocks } from '../analysis/deadlock';
import { buildProgram, compactFacts, contexts, lineStartsOf, positionAt, pruneUnresolvedCalls, type ProgramFileInput } from '../analysis/interproc';
import type { FileFacts } from '../analysis/facts';
import { createKbProvider } from '../analysis/kbView';
import { findingId, findingModel, SIMULABLE_CODES } from '../ide/findingModel';
import { analyseFiles } from '../index/analyseFiles';
import { defaultCacheDir, FactsCache } from '../index/cache';
import { resolveKernelVersion } from '../io/kernelTree';
import { collectSourceFiles } from '../io/sourceTree';
import { FORMATS, runModelText, type Format } from './simulate';

export interface SimulateFindingIo {
  stdout(s: string): void;
  stderr(s: string): void;
  cwd: string;
  progress?(line: string): void;
}

const MAX_FILE_MB = 10;

const USAGE = `usage: reclaim-lens simulate --finding ID [--root DIR] [PATH...] [--format text|json|svg|promela]
       [--emit-model] [--fixed] [--no-reduce] [--max-states N]
       [--kernel-version V|auto] [--jobs N] [--cache DIR | --no-cache] [--no-class-level] [--loopback-nfs]
ID is the id of a ${SIMULABLE_CODES.join(', ')} finding in \`reclaim-lens check --format json\`;
PATHs default to --root (default: the current folder), as for check.
exit status: 0 no deadlock reachable, 1 deadlock reachable, 2 errors`;

/** `simulate` arguments that name a finding (main.ts sends those here). */
export function isFindingSimulation(args: readonly string[]): boolean {
  return args.some((a) => a === '--finding' || a.startsWith('--finding='));
}

export async function runSimulateFinding(argv: string[], io: SimulateFindingIo): Promise<number> {
  const args = argv[0] === 'simulate' ? argv.slice(1) : argv;
  let values: Record<string, string | boolean | undefined>;
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
  const jobs = values.jobs === undefined ? os.availableParallelism() : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) return usage('--jobs must be a whole number from 1 to 256');
  if (values['no-cache'] && values.cache !== undefined) return usage('--cache and --no-cache exclude each other');
  const code = id.split(':')[0];
  if (!SIMULABLE_CODES.includes(code)) {
    io.stderr(`reclaim-lens: ${id}: not a deadlock finding; simulate --finding takes the id of a ${SIMULABLE_CODES.join(', ')} finding (see reclaim-lens check --format json)\n`);
    return 2;
  }
  const root = path.resolve(io.cwd, typeof values.root === 'string' ? values.root : '.');
  if (values.root !== undefined && !isDir(root)) {
    io.stderr(`reclaim-lens: --root ${values.root}: not a directory\n`);
    return 2;
  }
  const resolved = resolveKernelVersion(String(values['kernel-version']), root);
  if ('error' in resolved) {
    io.stderr(`reclaim-lens: ${resolved.error}\n`);
    return 2;
  }
  if (!positionals.length) positionals.push(typeof values.root === 'string' ? values.root : '.');

  // The analysis of check: the same files, facts and whole-program pass.
  const files: string[] = [];
  for (const p of positionals) {
    const err = await collectSourceFiles(path.resolve(io.cwd, p), files, new Set());
    if (err) {
      io.stderr(`reclaim-lens: ${p}: ${err}\n`);
      return 2;
    }
  }
  const kb = createKbProvider();
  const view = kb.view(resolved.version);
  const cache = values['no-cache'] ? undefined : new FactsCache(path.resolve(io.cwd, typeof values.cache === 'string' ? values.cache : defaultCacheDir()));
  const rel = (abs: string) => path.relative(root, abs).split(path.sep).join('/');
  const kept: { rel: string; lineStarts: Uint32Array | number[]; facts: FileFacts }[] = [];
  const names = new Map<string, string>();
  let ioError = false;
  await analyseFiles(files, {
    jobs, cache, kernelVersion: resolved.version, disabledChecks: [], maxBytes: MAX_FILE_MB * 1024 * 1024,
    onFile(r) {
      kept.push({ rel: rel(r.abs), lineStarts: lineStartsOf(r.text), facts: compactFacts(r.facts, names) });
    },
    onProblem(abs, message, isError) {
      io.stderr(`reclaim-lens: ${rel(abs)}: ${message}\n`);
      if (isError) ioError = true;
    },
    onProgress: io.progress ? (done, total) => io.progress!(`indexing ${done}/${total} files`) : undefined,
  });
  io.progress?.('');
  const pruned = pruneUnresolvedCalls(kept.map((f): ProgramFileInput => ({ path: f.rel, facts: f.facts, lineStarts: f.lineStarts })));
  const program = buildProgram(pruned.files, pruned.unresolved);
  const ctxs = contexts(program);
  const dl = findDeadlocks(program, ctxs, view, {
    classLevel: !values['no-class-level'], crossWaits: values['loopback-nfs'] ? ['reclaimLens.model.loopbackNfs'] : [],
  });
  const finding = dl.findings.find((f) => findingId(f) === id);
  if (!finding) {
    const ids = dl.findings.filter((f) => SIMULABLE_CODES.includes(f.code)).map(findingId);
    const known = ids.length ? `; the deadlock findings there: ${ids.slice(0, 8).join(', ')}${ids.length > 8 ? `, … (${ids.length} in all)` : ''}` : '; there are no deadlock findings there';
    io.stderr(`reclaim-lens: no finding ${id} in ${positionals.join(', ')} (paths relative to ${values.root ?? 'the current folder'})${known}\n`);
    return 2;
  }
  const starts = new Map(kept.map((f) => [f.rel, f.lineStarts]));
  const line = (file: string, offset: number) => {
    const s = starts.get(file);
    return s ? positionAt(s, offset).line : 0;
  };
  const m = findingModel(finding, { line, kb: view });
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

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
