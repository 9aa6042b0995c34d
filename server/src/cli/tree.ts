// The part `check`, `hints`, `explain` and `simulate --finding` share: the tree options (--root, --kernel-version,
// --jobs, --cache/--no-cache), the files below the PATHs, their facts (worker pool and cache), and the whole-program
// pass over them (call graph, calling contexts, deadlock detection).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { contextOptionsOf, findDeadlocks, type DeadlockSettings } from '../analysis/deadlock';
import { compactFacts, lineStartsOf, positionAt, programWithContexts, type ProgramFileInput } from '../analysis/interproc';
import { createKbProvider, type KbProvider } from '../analysis/kbView';
import { analyseFiles, type FileResult } from '../index/analyseFiles';
import { defaultCacheDir, FactsCache } from '../index/cache';
import { resolveKernelVersion } from '../io/kernelTree';
import { readKbOverrides, type ReadOverrides } from '../io/kbOverrides';
import { collectSourceFiles } from '../io/sourceTree';
import type { AnalysedFile } from './output';
import type { KbView } from '../analysis/kbView';

export const MAX_FILE_MB = 10;

export interface TreeIo {
  stderr(s: string): void;
  cwd: string;
  progress?(line: string): void;
}

export interface TreeValues {
  root?: string;
  'kernel-version'?: string;
  jobs?: string;
  cache?: string;
  'no-cache'?: boolean;
  /** knowledge-base override files (--kb, repeatable) */
  kb?: string[];
}

export interface TreeOptions {
  root: string;
  kernelVersion: string;
  jobs: number;
  cache?: FactsCache;
  /** the --kb files, read */
  kbOverrides: ReadOverrides;
}

/** Validates the tree options: a usage message, an I/O error (already reported, exit 2), or the options. */
export function treeOptions(values: TreeValues, io: TreeIo): { usage: string } | { exit: 2 } | TreeOptions {
  const jobs = values.jobs === undefined ? os.availableParallelism() : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) return { usage: '--jobs must be a whole number from 1 to 256' };
  if (values['no-cache'] && values.cache !== undefined) return { usage: '--cache and --no-cache exclude each other' };
  const root = path.resolve(io.cwd, values.root ?? '.');
  if (values.root !== undefined && !isDir(root)) {
    io.stderr(`reclaim-lens: --root ${values.root}: not a directory\n`);
    return { exit: 2 };
  }
  const resolved = resolveKernelVersion(values['kernel-version'] ?? 'auto', root);
  if ('error' in resolved) {
    io.stderr(`reclaim-lens: ${resolved.error}\n`);
    return { exit: 2 };
  }
  // A knowledge-base file named on the command line that cannot be read is an error; its bad entries are warnings.
  const kbOverrides = readKbOverrides(values.kb ?? [], io.cwd);
  if (kbOverrides.problems.length) {
    for (const p of kbOverrides.problems) io.stderr(`reclaim-lens: --kb ${p}\n`);
    return { exit: 2 };
  }
  const cache = values['no-cache'] ? undefined : new FactsCache(path.resolve(io.cwd, values.cache ?? defaultCacheDir()));
  return { root, kernelVersion: resolved.version, jobs, cache, kbOverrides };
}

export interface IndexedTree {
  kb: KbProvider;
  view: KbView;
  /** every file's compacted facts and line starts (not its text), in path order */
  kept: AnalysedFile[];
  fileCount: number;
  /** a PATH, a file or the analysis reported an error */
  ioError: boolean;
  rel(abs: string): string;
}

/** Collects the files below `paths` and analyses them; `onFile` sees each full result before it is compacted. */
export async function indexTree(paths: readonly string[], o: TreeOptions, io: TreeIo, onFile?: (r: FileResult, f: AnalysedFile) => void): Promise<IndexedTree> {
  let ioError = false;
  const files: string[] = [];
  // Each PATH's files (a range of `files`): a PATH of which nothing could be analysed is an error, not a clean run.
  const ranges: { p: string; abs: string; start: number; end: number }[] = [];
  for (const p of paths) {
    const abs = path.resolve(io.cwd, p);
    const start = files.length;
    const err = await collectSourceFiles(abs, files, new Set());
    if (err) {
      io.stderr(`reclaim-lens: ${p}: ${err}\n`);
      ioError = true;
    } else ranges.push({ p, abs, start, end: files.length });
  }
  const analysed = new Set<string>();
  const kb = createKbProvider(o.kbOverrides.files);
  for (const p of kb.problems) io.stderr(`reclaim-lens: warning: knowledge base: ${p}\n`);
  const view = kb.view(o.kernelVersion);
  const rel = (abs: string) => path.relative(o.root, abs).split(path.sep).join('/');
  // Every file's facts are kept for the whole-program pass (call graph, calling contexts); the texts are not, only
  // their line starts, so memory stays bounded on the whole tree.
  const kept: AnalysedFile[] = [];
  const names = new Map<string, string>();
  await analyseFiles(files, {
    jobs: o.jobs, cache: o.cache, kernelVersion: o.kernelVersion, disabledChecks: [], maxBytes: MAX_FILE_MB * 1024 * 1024, kbOverrides: o.kbOverrides,
    onFile(r) {
      analysed.add(r.abs);
      const f: AnalysedFile = { rel: rel(r.abs), text: '', lineStarts: lineStartsOf(r.text), facts: r.facts, kb: view };
      onFile?.(r, f);
      kept.push({ ...f, facts: compactFacts(r.facts, names) });
    },
    onProblem(abs, message, isError) {
      io.stderr(`reclaim-lens: ${rel(abs)}: ${message}\n`);
      if (isError) ioError = true;
    },
    onProgress: io.progress ? (done, total) => io.progress!(`indexing ${done}/${total} files`) : undefined,
  });
  io.progress?.('');
  // A cache that cannot be written makes this and later runs slower, not wrong: a warning, not an error.
  if (o.cache?.writeError) io.stderr(`reclaim-lens: cache ${o.cache.dir}: cannot write (${o.cache.writeError}); results not cached\n`);
  for (const r of ranges) {
    const mine = files.slice(r.start, r.end);
    if (mine.some((f) => analysed.has(f))) continue;
    ioError = true;
    // A single file says why it was not analysed itself (binary, too large, unreadable).
    if (mine.length === 1 && mine[0] === r.abs) continue;
    io.stderr(`reclaim-lens: ${r.p}: ${mine.length ? `none of its ${mine.length} .c and .h files could be analysed` : 'no .c or .h files below it'}\n`);
  }
  return { kb, view, kept, fileCount: files.length, ioError, rel };
}

/**
 * The whole-program pass: call sites nothing resolves (most of a tree's facts) are dropped, then the call graph and
 * the calling contexts are built. The pruned facts replace the kept ones.
 */
export function programOf(tree: IndexedTree) {
  const { files, program, ctxs } = programWithContexts(tree.kept.map((f): ProgramFileInput => ({ path: f.rel, facts: f.facts, lineStarts: f.lineStarts })), contextOptionsOf(tree.view));
  files.forEach((p, i) => {
    tree.kept[i].facts = p.facts;
  });
  return { program, ctxs };
}

/** The deadlock settings the CLI flags give. */
export function deadlockSettings(values: { 'no-class-level'?: boolean; 'loopback-nfs'?: boolean }): DeadlockSettings {
  return { classLevel: !values['no-class-level'], crossWaits: values['loopback-nfs'] ? ['reclaimLens.model.loopbackNfs'] : [] };
}

/** Line and column of an offset in a kept file. */
export function positionsIn(tree: IndexedTree): (file: string, offset: number) => { line: number; column: number } {
  const index = new Map(tree.kept.map((f, i) => [f.rel, i]));
  return (file, offset) => {
    const starts = tree.kept[index.get(file) ?? -1]?.lineStarts;
    return starts ? positionAt(starts, offset) : { line: 0, column: 0 };
  };
}

export function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export { findDeadlocks };
