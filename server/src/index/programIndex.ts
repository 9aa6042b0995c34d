// The whole-program index of a folder, as `reclaim-lens check` builds it: every .c/.h file under the chosen folders
// analysed by the worker pool with the on-disk facts cache (analyseFiles), the facts compacted and kept, then
// pruneUnresolvedCalls, buildProgram, contexts and findDeadlocks. A saved file is analysed again, its facts replaced
// and the findings recomputed. The language server runs this in a worker thread (programWorker.ts), so none of it
// competes with requests; the results it hands back are small: the findings and the line starts of the files they
// name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { contextOptionsOf, findDeadlocks } from '../analysis/deadlock';
import type { FileFacts } from '../analysis/facts';
import { compactFacts, lineStartsOf, positionAt, programWithContexts, type Contexts, type Program, type ProgramFileInput } from '../analysis/interproc';
import { createKbProvider, type KbProvider } from '../analysis/kbView';
import { AnalysisHost } from '../ide/host';
import { findingModel, SIMULABLE_CODES } from '../ide/findingModel';
import { deadlockRequires, type ProgramFindingLike } from '../ide/programDiagnostics';
import { deadlockTargetOf } from '../ide/fixes/deadlockTarget';
import { fileSiteContexts, type FileSiteContexts } from '../ide/siteContexts';
import type { DeadlockFinding } from '../analysis/deadlock/detect';
import type { HeaderReads } from '../io/localIncludes';
import { collectSourceFiles } from '../io/sourceTree';
import { initParser } from '../syntax/parser';
import { decodeSource } from '../syntax/sourceFile';
import { analyseFiles, analyserKey, contentHashOf, localHeadersOf } from './analyseFiles';
import { FactsCache } from './cache';

export interface IndexPlan {
  root: string;
  /** forward-slash folders relative to root ('.' for all of it) */
  paths: string[];
  kernelVersion: string;
  maxBytes: number;
  /** worker threads for the analysis of files */
  jobs: number;
  /** the facts cache; none when undefined */
  cacheDir?: string;
  /** knowledge-base override files (reclaimLens.kb.paths), read, with their digest */
  kbOverrides?: { files: { path: string; text: string }[]; key: string };
}

export interface DeadlockOptions {
  classLevel: boolean;
  crossWaits: string[];
}

export interface IndexSnapshot {
  findings: ProgramFindingLike[];
  /** line starts of every file a finding or one of its related locations names */
  lineStarts: Record<string, Uint32Array>;
  files: number;
  /** milliseconds: program = prune + call graph + contexts, deadlocks = findDeadlocks */
  timings: { program: number; deadlocks: number };
}

export interface IndexEvents {
  progress(message: string, percentage: number): void;
  log(message: string): void;
  /** something the user should see (unreadable files) */
  warn(message: string): void;
}

interface Kept {
  lineStarts: Uint32Array;
  /** compacted, not pruned: a later save may define what is unresolved now */
  facts: FileFacts;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class ProgramIndex {
  private files = new Map<string, Kept>();
  /** the last pass's program and contexts, for siteContextsOf */
  private last?: { program: Program; ctxs: Contexts };
  /** local headers read for refreshes, by path (re-read when their size or time changes) */
  private headerReads: HeaderReads = new Map();
  private order: string[] = [];
  private names = new Map<string, string>();
  private host: Promise<AnalysisHost> | undefined;
  private readonly kb: KbProvider;
  private readonly cache: FactsCache | undefined;

  constructor(readonly plan: IndexPlan, private deadlock: DeadlockOptions, private readonly events: IndexEvents) {
    this.kb = createKbProvider(plan.kbOverrides?.files ?? []);
    this.cache = plan.cacheDir ? new FactsCache(plan.cacheDir) : undefined;
  }

  /** Lists, analyses and keeps every file, then runs the whole-program pass; undefined when cancelled. */
  async build(signal?: AbortSignal): Promise<IndexSnapshot | undefined> {
    const plan = this.plan;
    const t0 = performance.now();
    this.events.progress('listing files', 0);
    const abs: string[] = [];
    const seen = new Set<string>();
    for (const p of plan.paths) {
      const err = await collectSourceFiles(path.join(plan.root, ...p.split('/').filter((x) => x !== '.')), abs, seen, () => !!signal?.aborted);
      if (err) this.events.log(`workspace index: ${p}: ${err}`);
    }
    if (signal?.aborted) return undefined;
    let last = 0;
    let unreadable = 0;
    await analyseFiles(abs, {
      jobs: plan.jobs, cache: this.cache, kernelVersion: plan.kernelVersion, disabledChecks: [], maxBytes: plan.maxBytes, kbOverrides: plan.kbOverrides,
      onFile: (r) => this.keep(r.abs, r.text, r.facts),
      onProblem: (file, message, isError) => {
        if (isError) unreadable++;
        this.events.log(`workspace index: ${this.rel(file)}: ${message}`);
      },
      onProgress: (done, total) => {
        const now = performance.now();
        if (done !== total && now - last < 200) return;
        last = now;
        this.events.progress(`indexing ${done}/${total} files`, Math.floor((done / total) * 90));
      },
    });
    if (signal?.aborted) return undefined;
    if (unreadable) {
      this.events.warn(`Reclaim Lens: ${unreadable} file${unreadable === 1 ? '' : 's'} under ${plan.root} could not be read and ${unreadable === 1 ? 'is' : 'are'} not indexed (see the output channel)`);
    }
    this.events.log(`workspace index: ${this.files.size} files of ${plan.paths.join(', ')} under ${plan.root} (kernel ${plan.kernelVersion}) in ${Math.round(performance.now() - t0)} ms`
      + (this.cache ? `; cache ${this.cache.dir}: ${this.cache.hits} hits, ${this.cache.misses} misses` : '; no cache'));
    this.events.progress('reclaim and fault deadlocks', 90);
    return this.pass(signal);
  }

  /** Analyses saved files again (a file that is gone or unreadable leaves the index) and recomputes. */
  async refresh(abs: readonly string[]): Promise<{ snapshot: IndexSnapshot; analysisMs: number; files: string[] }> {
    const t0 = performance.now();
    const names: string[] = [];
    for (const a of abs) {
      const rel = this.rel(a);
      names.push(rel);
      let bytes: Uint8Array;
      try {
        bytes = await fs.promises.readFile(a);
      } catch {
        this.drop(rel);
        continue;
      }
      const decoded = decodeSource(bytes, { maxBytes: this.plan.maxBytes });
      if (decoded.text === undefined) {
        this.drop(rel);
        continue;
      }
      const headers = localHeadersOf(a, decoded.text, this.headerReads);
      const key = { contentHash: contentHashOf(bytes, headers), analyser: analyserKey(this.plan.kbOverrides?.key), kernelVersion: this.plan.kernelVersion, disabledChecks: [] };
      let facts = this.cache?.get(key);
      if (!facts) {
        const errors: string[] = [];
        this.host ??= initParser().then((p) => new AnalysisHost(p, this.kb.view));
        facts = (await this.host).analyse(decoded.text, { kernelVersion: this.plan.kernelVersion, disabledChecks: [], headers }, (fn, e) => {
          errors.push(`${fn}(): internal analysis error: ${e instanceof Error ? e.message : String(e)}`);
        }).facts;
        for (const e of errors) this.events.log(`workspace index: ${rel}: ${e}`);
        if (!errors.length) this.cache?.put(key, facts);
      }
      this.keep(a, decoded.text, facts);
    }
    const analysisMs = performance.now() - t0;
    return { snapshot: (await this.pass())!, analysisMs, files: names };
  }

  /** Other deadlock settings over the same facts. */
  async setDeadlock(deadlock: DeadlockOptions): Promise<IndexSnapshot> {
    this.deadlock = deadlock;
    return (await this.pass())!;
  }

  get size(): number {
    return this.files.size;
  }

  /**
   * The masks of a file's allocation sites in their calling contexts, from the last pass (computed on request: a
   * hover needs one file's, and every file's took seconds at each pass).
   */
  siteContextsOf(file: string): FileSiteContexts[] {
    if (!this.last) return [];
    const line = (f: string, o: number) => {
      const k = this.files.get(f);
      return k ? positionAt(k.lineStarts, o).line : 0;
    };
    return fileSiteContexts(this.last.program, this.last.ctxs, this.kb.view(this.plan.kernelVersion).gfp, file, line);
  }

  private async pass(signal?: AbortSignal): Promise<IndexSnapshot | undefined> {
    const t0 = performance.now();
    // The previous pass's program goes before this one is built: two whole programs at once would double the peak.
    this.last = undefined;
    const inputs = this.order.map((rel): ProgramFileInput => {
      const f = this.files.get(rel)!;
      return { path: rel, facts: f.facts, lineStarts: f.lineStarts };
    });
    const { program, ctxs } = programWithContexts(inputs, contextOptionsOf(this.kb.view(this.plan.kernelVersion)));
    const t1 = performance.now();
    await tick();
    if (signal?.aborted) return undefined;
    const dl = findDeadlocks(program, ctxs, this.kb.view(this.plan.kernelVersion), { classLevel: this.deadlock.classLevel, crossWaits: this.deadlock.crossWaits });
    const t2 = performance.now();
    const findings: ProgramFindingLike[] = [];
    const lineStarts: Record<string, Uint32Array> = {};
    const need = (file: string) => {
      const f = this.files.get(file);
      if (f && !lineStarts[file]) lineStarts[file] = f.lineStarts;
    };
    const view = this.kb.view(this.plan.kernelVersion);
    const line = (file: string, o: number) => {
      const f = this.files.get(file);
      return f ? positionAt(f.lineStarts, o).line : 0;
    };
    for (const f of dl.findings) {
      // The model of the finding for the editor's "Simulate deadlock" (ide/findingModel.ts): a few hundred bytes.
      const m = SIMULABLE_CODES.includes(f.code) ? findingModel(f, { line, kb: view }) : undefined;
      findings.push({
        code: f.code, severity: f.severity, file: f.file, span: { start: f.span.start, end: f.span.end }, message: f.message, function: f.function,
        related: f.related.map((r) => ({ file: r.file, span: { start: r.span.start, end: r.span.end }, message: r.message })), report: f.report,
        ...(m?.ok ? { model: m.model.text } : {}),
        ...(f.cycle.length ? { cycle: [...f.cycle] } : {}),
        ...(f.code === 'reclaim-deadlock' || f.code === 'reclaim-frozen-queue' ? { requires: deadlockRequires(f), fixTarget: fixTargetOf(f) } : {}),
      });
      need(f.file);
      for (const r of f.related) need(r.file);
    }
    this.last = { program, ctxs };
    return { findings, lineStarts, files: this.files.size, timings: { program: t1 - t0, deadlocks: t2 - t1 } };
  }

  private rel(abs: string): string {
    return path.relative(this.plan.root, abs).split(path.sep).join('/');
  }

  private keep(abs: string, text: string, facts: FileFacts): void {
    const rel = this.rel(abs);
    if (!this.files.has(rel)) insertSorted(this.order, rel);
    this.files.set(rel, { lineStarts: lineStartsOf(text), facts: compactFacts(facts, this.names) });
  }

  private drop(rel: string): void {
    if (!this.files.delete(rel)) return;
    const i = this.order.indexOf(rel);
    if (i >= 0) this.order.splice(i, 1);
  }
}

function insertSorted(xs: string[], x: string): void {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  xs.splice(lo, 0, x);
}

/** What the scope fix's comment names, kept with the finding (the editor's fixes get the diagnostic, not the finding). */
function fixTargetOf(f: DeadlockFinding): { held?: string; takenIn?: string; reclaim?: string } {
  const { held, takenIn, reclaim } = deadlockTargetOf(f);
  return { ...(held ? { held } : {}), ...(takenIn ? { takenIn } : {}), ...(reclaim ? { reclaim } : {}) };
}
