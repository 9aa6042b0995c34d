// The workspace index of the language server: decides what to index from the settings, runs the whole-program index
// (index/programIndex.ts: the files analysed as the CLI does, worker pool and on-disk facts cache, then
// compactFacts, pruneUnresolvedCalls, buildProgram, contexts, findDeadlocks) in a worker thread, reports its
// progress (window/workDoneProgress), and publishes the findings as diagnostics of their files, open or not.
//
// Nothing of the index runs on the server's thread: requests are answered while it works. A run is cancelled
// (the worker terminated) when the settings that select the files change, when the user cancels its progress, and
// when the server shuts down. A saved .c/.h file under an indexed folder is analysed again (debounced), and only
// the files whose whole-program diagnostics changed are published again.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Connection, Diagnostic as LspDiagnostic, Hover, Position, Range, WorkDoneProgressServerReporter } from 'vscode-languageserver/node';
import { MarkupKind } from 'vscode-languageserver/node';
import { positionAt } from '../analysis/interproc';
import { programDiagnostics, reportMarkdown, type ProgramFindingLike } from '../ide/programDiagnostics';
import type { DiagnosticsConfig, TextRange } from '../ide/types';
import { contextsMarkdown, type FileSiteContexts, type SiteKey } from '../ide/siteContexts';
import type { SiteContextsOf } from '../ide/inlayHints';

const sameKey = (a: SiteKey, b: SiteKey) => a.function === b.function && a.api === b.api && a.ordinal === b.ordinal;
import { defaultCacheDir } from '../index/cache';
import { workerScript } from '../index/pool';
import type { DeadlockOptions, IndexPlan, IndexSnapshot } from '../index/programIndex';
import { PROGRAM_INDEX_ROLE, type ProgramIndexMessage, type ProgramIndexRequest } from '../index/programWorker';
import { resolveKernelVersion } from '../io/kernelTree';
import { readKbOverrides } from '../io/kbOverrides';
import { existingKernelDirs, isSourceFile, looksLikeKernelTree } from '../io/sourceTree';
import type { Config } from './config';
import { toProgramDiagnostic, type ProgramLocator } from './toProto';

/** How long a hover waits for the worker's calling contexts of its file (a refresh in progress answers later). */
const SITE_CONTEXTS_WAIT_MS = 1500;

export const LOOPBACK_NFS = 'reclaimLens.model.loopbackNfs';
/** Saves closer together than this are one refresh. */
export const REFRESH_DEBOUNCE_MS = 300;

export interface WorkspaceIndexEnv {
  connection: Connection;
  log(msg: string): void;
  /** a message the user sees (window/showMessage) */
  warn(msg: string): void;
  /** the validated settings for a resource (config.ts; bad values are reported there) */
  config(scopeUri: string): Promise<Config>;
  helpHref(code: string): string;
  isOpen(uri: string): boolean;
  /** publishes an open document's diagnostics again (its own merged with `diagnosticsFor`) */
  republish(uri: string): void;
}

interface Plan extends IndexPlan {
  key: string;
}

export type IndexState = 'off' | 'indexing' | 'ready' | 'failed';

/** A deadlock finding shown in a document, with its model (WorkspaceIndex.simulationsAt). */
export interface IndexSimulation {
  diagnostic: LspDiagnostic;
  model: string;
  function: string;
  /** models' `@file` paths resolve against the folder of this URI: the indexed root */
  baseUri: string;
  /** the locks of the cycle, the held one first (for the code lens's title) */
  cycle?: readonly string[];
  /** reclaim-deadlock, reclaim-frozen-queue: the gfp bits the cycle's reclaim path needs (the narrowing quick fix) */
  requires?: readonly string[];
  /** the held lock, who takes it and the reclaim callback, for the scope fix's comment */
  fixTarget?: { held?: string; takenIn?: string; reclaim?: string };
}

export class WorkspaceIndex {
  private folder: string | undefined;
  private plan: Plan | undefined;
  private worker: Worker | undefined;
  private progress: Promise<WorkDoneProgressServerReporter> | undefined;
  private findings = new Map<string, ProgramFindingLike[]>();
  private lineStarts: Record<string, Uint32Array> = {};
  /** the site contexts asked of the worker since the last pass, per file; requests waiting for their answer */
  private siteContexts = new Map<string, Promise<FileSiteContexts[]>>();
  /** those answered, for the inlay hints (which never wait for the worker) */
  private siteContextsReady = new Map<string, FileSiteContexts[]>();
  private siteRequests = new Map<number, (entries: FileSiteContexts[]) => void>();
  private siteRequestId = 0;
  private diagConfig: DiagnosticsConfig = { disabled: [], minimumSeverity: 'hint' };
  private deadlock: DeadlockOptions = { classLevel: true, crossWaits: [] };
  private published = new Map<string, string>();
  private pending = new Set<string>();
  private refreshStarted: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private configSeq = 0;
  private disposed = false;
  state: IndexState = 'off';

  constructor(private readonly env: WorkspaceIndexEnv) {}

  setFolder(folder: string | undefined): void {
    this.folder = folder;
  }

  /** Reads the settings of the workspace folder and (re)starts what they ask for; call again when they change. */
  async configure(): Promise<void> {
    if (this.disposed || !this.folder) return;
    const seq = ++this.configSeq;
    const config = await this.env.config(pathToFileURL(this.folder).toString());
    if (seq !== this.configSeq || this.disposed) return; // a newer change of settings is being applied
    this.diagConfig = config.diagnostics;
    const deadlock: DeadlockOptions = { classLevel: config.deadlock.classLevel, crossWaits: config.model.loopbackNfs ? [LOOPBACK_NFS] : [] };
    const deadlockChanged = JSON.stringify(deadlock) !== JSON.stringify(this.deadlock);
    this.deadlock = deadlock;
    const plan = await this.planFor(config);
    if (seq !== this.configSeq || this.disposed) return;
    if (plan && this.plan && plan.key === this.plan.key && this.worker) {
      // The same files: only what is reported may have changed.
      if (deadlockChanged) this.post({ type: 'deadlock', deadlock });
      this.publishChanges(true);
      return;
    }
    this.stop();
    this.plan = plan;
    this.findings = new Map();
    this.lineStarts = {};
    this.siteContexts.clear();
    this.siteContextsReady.clear();
    this.publishChanges(false);
    if (!plan) {
      this.state = 'off';
      return;
    }
    this.start(plan);
  }

  /** didSave: a saved .c/.h file under an indexed folder is analysed again (debounced). */
  saved(uri: string): void {
    if (this.disposed || !this.plan || !this.worker) return;
    const abs = absOf(uri);
    if (!abs || !isSourceFile(abs) || !this.covers(abs)) return;
    this.pending.add(abs);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const files = [...this.pending];
      this.pending.clear();
      this.refreshStarted.push(performance.now());
      this.post({ type: 'refresh', files });
    }, REFRESH_DEBOUNCE_MS);
  }

  /** The whole-program diagnostics of a file (default: filtered by the workspace folder's settings). */
  diagnosticsFor(uri: string, config: DiagnosticsConfig = this.diagConfig): LspDiagnostic[] {
    const raw = this.rawFor(uri);
    if (!raw?.length) return [];
    return programDiagnostics(raw, config).flatMap((d) => toProgramDiagnostic(d, this.locate, this.env.helpHref) ?? []);
  }

  /** What a file closed in the editor shows: its whole-program diagnostics. */
  closed(uri: string): LspDiagnostic[] {
    return this.diagnosticsFor(uri);
  }

  /** A document's hover with the lockdep-format report of every shown finding whose range holds the position. */
  withReports(hover: Hover | null, uri: string, position: Position, config: DiagnosticsConfig = this.diagConfig): Hover | null {
    const raw = this.rawFor(uri);
    if (!raw?.length) return hover;
    const at = programDiagnostics(raw, config).filter((d) => {
      if (!d.report) return false;
      const r = this.locate(d.file, d.range)?.range;
      return !!r && before(r.start, position) && before(position, r.end);
    });
    if (!at.length) return hover;
    const reports = reportMarkdown([...new Set(at.map((d) => d.report!))]);
    if (!hover) return { range: this.locate(at[0].file, at[0].range)!.range, contents: { kind: MarkupKind.Markdown, value: reports } };
    const c = hover.contents;
    const previous = typeof c === 'string' ? c : Array.isArray(c)
      ? c.map((x) => (typeof x === 'string' ? x : `\`\`\`${x.language}\n${x.value}\n\`\`\``)).join('\n\n')
      : 'kind' in c ? c.value : `\`\`\`${c.language}\n${c.value}\n\`\`\``;
    return { ...hover, contents: { kind: MarkupKind.Markdown, value: `${previous}\n\n---\n\n${reports}` } };
  }

  /**
   * The shown deadlock findings of a document whose range meets `range`, each with its model (ide/findingModel.ts)
   * and the URI its `@file:line` locations resolve against (a name in the indexed root): for "Simulate deadlock".
   */
  simulationsAt(uri: string, range: Range, config: DiagnosticsConfig = this.diagConfig): IndexSimulation[] {
    const raw = this.rawFor(uri);
    const root = this.plan?.root;
    if (!raw?.length || !root) return [];
    const out: IndexSimulation[] = [];
    for (const d of programDiagnostics(raw, config)) {
      if (!d.model) continue;
      const diagnostic = toProgramDiagnostic(d, this.locate, this.env.helpHref);
      if (!diagnostic || !before(diagnostic.range.start, range.end) || !before(range.start, diagnostic.range.end)) continue;
      out.push({
        diagnostic, model: d.model, function: d.function, baseUri: pathToFileURL(path.join(root, `${d.function}.rlsim`)).toString(),
        ...(d.cycle ? { cycle: d.cycle } : {}),
        ...(d.requires ? { requires: d.requires } : {}),
        ...(d.fixTarget ? { fixTarget: d.fixTarget } : {}),
      });
    }
    return out;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.stop();
  }

  // ---- what to index ----

  private async planFor(config: Config): Promise<Plan | undefined> {
    const folder = this.folder!;
    const enabled = config.index.enabled;
    if (enabled === 'off') {
      this.env.log('workspace index: off (reclaimLens.index.enabled)');
      return undefined;
    }
    const root = config.kernelRoot ? path.resolve(folder, config.kernelRoot) : folder;
    const explicit = enabled === 'on' || config.index.paths.length > 0 || !!config.kernelRoot;
    const problem = await unreadableDir(root);
    if (problem) {
      const msg = `Reclaim Lens: cannot index ${root}: ${problem}; whole-program findings (deadlocks) are not shown`;
      if (explicit) this.env.warn(msg);
      else this.env.log(msg);
      return undefined;
    }
    const kernel = await looksLikeKernelTree(root);
    if (enabled === 'auto' && !kernel) {
      this.env.log(`workspace index: ${root} does not look like a kernel tree (a Makefile plus fs/ and mm/, or include/linux/); not indexed. `
        + 'Set reclaimLens.index.enabled to "on" to index it anyway.');
      return undefined;
    }
    let paths: string[];
    if (config.index.paths.length) {
      paths = [];
      for (const p of config.index.paths) {
        const rel = p.split(/[\\/]+/).filter((x) => x && x !== '.').join('/') || '.';
        const why = await unreadableDir(path.join(root, rel));
        if (why) this.env.warn(`Reclaim Lens: reclaimLens.index.paths: ${p}: ${why} under ${root}; not indexed`);
        else if (!paths.includes(rel)) paths.push(rel);
      }
    } else {
      paths = kernel ? await existingKernelDirs(root) : ['.'];
    }
    if (!paths.length) {
      this.env.log(`workspace index: nothing to index under ${root}`);
      return undefined;
    }
    const resolved = resolveKernelVersion(config.kernelVersion, root);
    const kernelVersion = 'error' in resolved ? '6.12' : resolved.version;
    const maxBytes = Math.round(config.maxFileSizeMB * 1024 * 1024);
    // One core stays with the server's thread (and the editor).
    const jobs = Math.max(1, Math.min(8, os.availableParallelism() - 1));
    // Override files are reported by the server (lsp/server.ts), which reads the same setting.
    const kb = readKbOverrides(config.kbPaths, folder);
    const kbOverrides = { files: kb.files, key: kb.key };
    return { root, paths, kernelVersion, maxBytes, jobs, cacheDir: defaultCacheDir(), kbOverrides, key: JSON.stringify([root, paths, kernelVersion, maxBytes, kb.key]) };
  }

  private covers(abs: string): boolean {
    const plan = this.plan;
    if (!plan) return false;
    const rel = relativeTo(plan.root, abs);
    return rel !== undefined && plan.paths.some((p) => p === '.' || rel === p || rel.startsWith(`${p}/`));
  }

  // ---- the worker ----

  private start(plan: Plan): void {
    let worker: Worker;
    try {
      worker = new Worker(workerScript(), { workerData: { role: PROGRAM_INDEX_ROLE } });
    } catch (e) {
      this.state = 'failed';
      this.env.warn(`Reclaim Lens: the workspace index cannot start: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.worker = worker;
    this.state = 'indexing';
    const t0 = performance.now();
    const progress = this.env.connection.window.createWorkDoneProgress().catch(() => NULL_PROGRESS).then((p) => {
      p.begin('Reclaim Lens', 0, 'listing files', true);
      p.token.onCancellationRequested(() => {
        if (this.worker !== worker) return;
        this.env.log('workspace index: cancelled; it starts again when the settings change');
        this.stop();
        this.plan = undefined;
        this.state = 'off';
      });
      return p;
    });
    this.progress = progress;
    worker.on('message', (m: ProgramIndexMessage) => {
      if (this.worker !== worker) return;
      this.received(m, plan, t0);
    });
    worker.on('error', (e) => {
      if (this.worker !== worker) return;
      this.env.connection.console.error(`workspace index failed: ${e.stack ?? e.message}`);
      this.state = 'failed';
      this.endProgress();
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.state === 'indexing') this.state = 'failed';
      this.env.connection.console.error(`workspace index stopped (exit code ${code})`);
      this.endProgress();
    });
    this.post({ type: 'build', plan: { root: plan.root, paths: plan.paths, kernelVersion: plan.kernelVersion, maxBytes: plan.maxBytes, jobs: plan.jobs, cacheDir: plan.cacheDir, kbOverrides: plan.kbOverrides }, deadlock: this.deadlock });
  }

  private received(m: ProgramIndexMessage, plan: Plan, t0: number): void {
    switch (m.type) {
      case 'progress':
        void this.progress?.then((p) => p.report(m.percentage, m.message));
        return;
      case 'log':
        this.env.log(m.message);
        return;
      case 'warn':
        this.env.warn(m.message);
        return;
      case 'error':
        this.env.connection.console.error(`workspace index failed: ${m.message}`);
        if (this.state === 'indexing') this.state = 'failed';
        this.endProgress();
        return;
      case 'built': {
        const n = this.apply(m.snapshot);
        this.state = 'ready';
        this.endProgress();
        this.env.log(`workspace index: ready in ${Math.round(performance.now() - t0)} ms (${plan.root}): ${this.summary(m.snapshot, n)}`);
        return;
      }
      case 'recomputed': {
        const n = this.apply(m.snapshot);
        this.env.log(`workspace index: settings changed: ${this.summary(m.snapshot, n)}`);
        return;
      }
      case 'site-contexts': {
        const resolve = this.siteRequests.get(m.id);
        this.siteRequests.delete(m.id);
        resolve?.(m.entries);
        return;
      }
      case 'refreshed': {
        const n = this.apply(m.snapshot);
        const started = this.refreshStarted.shift();
        const roundTrip = started === undefined ? '' : `; ${Math.round(performance.now() - started)} ms from the save's debounce to published`;
        this.env.log(`workspace index: refreshed ${m.files.join(', ')} in ${Math.round(m.ms)} ms (file analysis ${Math.round(m.analysisMs)} ms, ${this.summary(m.snapshot, n)}${roundTrip})`);
      }
    }
  }

  private summary(s: IndexSnapshot, republished: number): string {
    const n = s.findings.length;
    return `${s.files} files; call graph and contexts ${Math.round(s.timings.program)} ms, deadlocks ${Math.round(s.timings.deadlocks)} ms; `
      + `${n} finding${n === 1 ? '' : 's'}, ${republished} file${republished === 1 ? '' : 's'} published`;
  }

  private post(req: ProgramIndexRequest): void {
    this.worker?.postMessage(req);
  }

  private stop(): void {
    const w = this.worker;
    this.worker = undefined;
    this.refreshStarted = [];
    for (const resolve of this.siteRequests.values()) resolve([]);
    this.siteRequests.clear();
    this.siteContexts.clear();
    this.siteContextsReady.clear();
    this.pending.clear();
    this.endProgress();
    if (w) void w.terminate();
  }

  private endProgress(): void {
    const p = this.progress;
    this.progress = undefined;
    void p?.then((r) => r.done());
  }

  // ---- findings and publishing ----

  private apply(s: IndexSnapshot): number {
    const byFile = new Map<string, ProgramFindingLike[]>();
    for (const f of s.findings) {
      let list = byFile.get(f.file);
      if (!list) byFile.set(f.file, (list = []));
      list.push(f);
    }
    this.findings = byFile;
    this.lineStarts = s.lineStarts;
    this.siteContexts.clear();
    this.siteContextsReady.clear();
    return this.publishChanges(false);
  }

  /**
   * Publishes the files whose whole-program diagnostics changed since they were last sent (every file with some,
   * when `all`: after a change of the settings that filter them). Open documents go through the server's own
   * publish (merged with their per-file diagnostics), closed files directly. Returns how many were published.
   */
  private publishChanges(all: boolean): number {
    const current = new Map<string, string>();
    for (const [rel, list] of this.findings) {
      const uri = this.uriOf(rel);
      if (!uri || !list.length) continue;
      const every = programDiagnostics(list, { disabled: [], minimumSeverity: 'hint', showRefactorings: true });
      current.set(uri, JSON.stringify(every.flatMap((d) => toProgramDiagnostic(d, this.locate, (c) => c) ?? [])));
    }
    let n = 0;
    for (const uri of new Set([...this.published.keys(), ...current.keys()])) {
      const sig = current.get(uri);
      if (!all && sig === this.published.get(uri)) continue;
      if (sig === undefined) this.published.delete(uri);
      else this.published.set(uri, sig);
      n++;
      if (this.env.isOpen(uri)) this.env.republish(uri);
      else void this.env.connection.sendDiagnostics({ uri, diagnostics: this.diagnosticsFor(uri) });
    }
    return n;
  }

  /**
   * The hover's section on an allocation's masks in its calling contexts, from the last whole-program pass (the
   * file as indexed: a site is found by its function, api and ordinal, so an edit elsewhere does not lose it).
   */
  async contextsMarkdownAt(uri: string, key: SiteKey): Promise<string | undefined> {
    const rel = this.relOf(uri);
    if (rel === undefined || !this.worker || this.state !== 'ready') return undefined;
    const entries = this.siteContexts.get(rel) ?? this.requestSiteContexts(rel);
    // A worker busy with a refresh answers after it: the hover does not wait for that.
    const got = await Promise.race([entries, new Promise<undefined>((r) => setTimeout(() => r(undefined), SITE_CONTEXTS_WAIT_MS))]);
    const hit = got?.find((x) => sameKey(x.key, key));
    if (!hit) return undefined;
    return contextsMarkdown(hit.contexts, (file, line) => {
      const u = this.uriOf(file);
      return u ? `${u}#L${line}` : undefined;
    });
  }

  /**
   * The inlay hints' view of a file's site contexts (#3): those of the last pass when the worker has already
   * answered for the file; otherwise the question is sent and `onReady` called once the answer is in (the server
   * then asks the client to refresh its hints). Hints never wait for the worker.
   */
  siteContextsFor(uri: string, onReady: () => void): SiteContextsOf | undefined {
    const rel = this.relOf(uri);
    if (rel === undefined || !this.worker || this.state !== 'ready') return undefined;
    const ready = this.siteContextsReady.get(rel);
    if (ready) return (key) => ready.find((x) => sameKey(x.key, key))?.contexts;
    if (!this.siteContexts.has(rel)) void this.requestSiteContexts(rel).then((entries) => entries.length && onReady());
    return undefined;
  }

  /** A workspace file's line (program-relative path, 1-based line) as an LSP location. */
  locationOf(file: string, line: number): { uri: string; range: { start: { line: number; character: number }; end: { line: number; character: number } } } | undefined {
    const uri = this.uriOf(file);
    return uri ? { uri, range: { start: { line: line - 1, character: 0 }, end: { line: line - 1, character: 0 } } } : undefined;
  }

  private requestSiteContexts(rel: string): Promise<FileSiteContexts[]> {
    const id = ++this.siteRequestId;
    const entries = new Promise<FileSiteContexts[]>((resolve) => {
      this.siteRequests.set(id, resolve);
      this.post({ type: 'site-contexts', id, file: rel });
    });
    this.siteContexts.set(rel, entries);
    void entries.then((got) => {
      // Still the question of the current pass (a new pass clears both maps).
      if (this.siteContexts.get(rel) === entries) this.siteContextsReady.set(rel, got);
    });
    return entries;
  }

  private rawFor(uri: string): ProgramFindingLike[] | undefined {
    const rel = this.relOf(uri);
    return rel === undefined ? undefined : this.findings.get(rel);
  }

  /** A document's path relative to the indexed root (undefined outside a file: URI or with nothing indexed). */
  private relOf(uri: string): string | undefined {
    const abs = absOf(uri);
    return abs && this.plan ? relativeTo(this.plan.root, abs) : undefined;
  }

  private uriOf(rel: string): string | undefined {
    return this.plan ? pathToFileURL(path.join(this.plan.root, ...rel.split('/'))).toString() : undefined;
  }

  private readonly locate: ProgramLocator = (file: string, r: TextRange) => {
    const starts = this.lineStarts[file];
    const uri = this.uriOf(file);
    if (!starts || !uri) return undefined;
    const pos = (o: number) => {
      const p = positionAt(starts, o);
      return { line: p.line - 1, character: p.column - 1 };
    };
    return { uri, range: { start: pos(r.start), end: pos(r.end) } };
  };
}

const NULL_PROGRESS: WorkDoneProgressServerReporter = {
  token: { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) },
  begin: () => undefined,
  report: () => undefined,
  done: () => undefined,
};

function absOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** `abs` relative to `root` with forward slashes, or undefined when it is not below it. */
function relativeTo(root: string, abs: string): string | undefined {
  const rel = path.relative(root, abs);
  if (!rel || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

const before = (a: Position, b: Position) => a.line < b.line || (a.line === b.line && a.character <= b.character);

async function unreadableDir(p: string): Promise<string | undefined> {
  try {
    const st = await fs.promises.stat(p);
    if (!st.isDirectory()) return 'not a folder';
    await fs.promises.access(p, fs.constants.R_OK | fs.constants.X_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such folder' : code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? String(e)})`;
  }
}
