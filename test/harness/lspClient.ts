// A small LSP client for the bundled server (dist/server.js over stdio, as an editor starts it), for tests and
// scripts that drive it hard (test/harness/lspFuzz.ts). It records what an editor would see and what a test must
// fail on: the process exiting, errors the server logs (window/logMessage of type Error: a handler that threw, an
// unhandled rejection), stack traces on stderr, and the server's resident memory (/proc/PID/status VmRSS).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CancellationTokenSource, createProtocolConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';

export const ROOT = path.join(__dirname, '..', '..');
export const SERVER_JS = path.join(ROOT, 'dist', 'server.js');

/** JSON-RPC error codes the fuzz distinguishes. */
export const INTERNAL_ERROR = -32603;
export const REQUEST_CANCELLED = -32800;
export const SERVER_CANCELLED = -32802;

export interface StartOptions {
  /** the workspace folder (a path), or none */
  folder?: string;
  /** what workspace/configuration answers for the `reclaimLens` section */
  settings?: () => unknown;
  /** XDG_CACHE_HOME of the server (the workspace index's facts cache); default: inherited */
  cacheHome?: string;
}

export interface RequestOutcome {
  method: string;
  /** when it was sent (performance.now()) */
  sentAt: number;
  ms: number;
  result?: unknown;
  /** the JSON-RPC error the request answered with */
  error?: { code: number; message: string };
  /** the client asked to cancel it ($/cancelRequest) */
  cancelled: boolean;
  /** no answer within the bound */
  timedOut: boolean;
}

interface DiagnosticWaiter {
  uri: string;
  pred: (p: PublishDiagnosticsParams) => boolean;
  resolve: (p: PublishDiagnosticsParams) => void;
}

export class LspServer {
  readonly proc: ChildProcess;
  readonly conn: ProtocolConnection;
  capabilities: Record<string, unknown> = {};
  /** the last publishDiagnostics of each URI */
  readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  /** window/logMessage of type Error, stack traces on stderr, connection errors: each a failure */
  readonly errors: string[] = [];
  /** the last window/logMessage messages of other types */
  readonly logs: string[] = [];
  /** the workspace index logged that it is ready */
  indexReady = false;
  readonly warnings: string[] = [];
  /** methods the server registered dynamically (client/registerCapability) */
  readonly registrations: { method: string; registerOptions?: unknown }[] = [];
  /** work-done progress tokens that ended */
  readonly progressEnded: string[] = [];
  /** reclaimLens/status notifications with their arrival time (performance.now()): what the server was doing */
  readonly statuses: { at: number; state: string; message: string }[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  peakRssKb = 0;
  private stderr = '';
  private waiters: DiagnosticWaiter[] = [];
  private sampler: NodeJS.Timeout;
  private disposed = false;

  private constructor(private readonly opts: StartOptions) {
    const env = { ...process.env };
    if (opts.cacheHome) env.XDG_CACHE_HOME = opts.cacheHome;
    this.proc = spawn(process.execPath, [SERVER_JS, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.proc.on('exit', (code, signal) => {
      this.exit = { code, signal };
      if (!this.disposed) this.errors.push(`server exited (code ${code}, signal ${signal})${this.stderr ? `; stderr:\n${this.stderr.slice(-4000)}` : ''}`);
    });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (s: string) => {
      this.stderr += s;
      // A stack trace or an uncaught exception on stderr is a failure; other noise (none expected) is kept.
      if (/\n\s+at .+:\d+:\d+\)?$|Uncaught|uncaught|Error:|RangeError|TypeError|FATAL|out of memory/m.test(s)) this.errors.push(`stderr: ${s.slice(0, 2000)}`);
    });
    this.conn = createProtocolConnection(new StreamMessageReader(this.proc.stdout!), new StreamMessageWriter(this.proc.stdin!));
    this.conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, p);
      const still: DiagnosticWaiter[] = [];
      for (const w of this.waiters) {
        if (w.uri === p.uri && w.pred(p)) w.resolve(p);
        else still.push(w);
      }
      this.waiters = still;
    });
    this.conn.onNotification('window/logMessage', (p: { type: number; message: string }) => {
      if (p.type === 1) this.errors.push(`logMessage(Error): ${p.message.slice(0, 2000)}`);
      else {
        if (p.message.startsWith('workspace index: ready')) this.indexReady = true;
        this.logs.push(p.message);
        if (this.logs.length > 2000) this.logs.splice(0, 1000);
      }
    });
    this.conn.onNotification('window/showMessage', (p: { message: string }) => {
      this.warnings.push(p.message);
    });
    this.conn.onRequest('window/showMessageRequest', (p: { message: string }) => {
      this.warnings.push(p.message);
      return null;
    });
    this.conn.onNotification('reclaimLens/status', (p: { state: string; message: string }) => {
      this.statuses.push({ at: performance.now(), state: p.state, message: p.message });
      if (this.statuses.length > 2000) this.statuses.splice(0, 1000);
    });
    this.conn.onNotification('$/progress', (p: { token: string | number; value?: { kind?: string } }) => {
      if (p.value?.kind === 'end') this.progressEnded.push(String(p.token));
    });
    this.conn.onRequest('window/workDoneProgress/create', () => null);
    this.conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => this.opts.settings?.() ?? {}));
    this.conn.onRequest('client/registerCapability', (p: { registrations: { method: string; registerOptions?: unknown }[] }) => {
      this.registrations.push(...p.registrations);
      return null;
    });
    this.conn.onRequest('client/unregisterCapability', () => null);
    this.conn.onRequest('workspace/inlayHint/refresh', () => null);
    this.conn.onRequest('workspace/codeLens/refresh', () => null);
    this.conn.onError(([e]) => {
      if (!this.disposed) this.errors.push(`connection error: ${e.message}`);
    });
    this.conn.listen();
    this.sampler = setInterval(() => this.sampleRss(), 100);
    this.sampler.unref();
  }

  /** Starts the server and runs initialize/initialized; rejects when it does not answer in `timeoutMs`. */
  static async start(opts: StartOptions = {}, timeoutMs = 30_000): Promise<LspServer> {
    const s = new LspServer(opts);
    const folderUri = opts.folder ? pathToUri(opts.folder) : null;
    const init = await withTimeout(s.conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: folderUri,
      workspaceFolders: folderUri ? [{ uri: folderUri, name: path.basename(opts.folder!) }] : null,
      capabilities: {
        workspace: {
          configuration: true, inlayHint: { refreshSupport: true }, codeLens: { refreshSupport: true },
          didChangeWatchedFiles: { dynamicRegistration: true }, didChangeConfiguration: { dynamicRegistration: true },
        },
        window: { workDoneProgress: true },
        textDocument: {
          synchronization: { didSave: true, dynamicRegistration: false },
          inlayHint: {}, hover: {}, codeLens: {}, definition: {},
          codeAction: { disabledSupport: true, codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'source.fixAll'] } } },
          publishDiagnostics: { versionSupport: true, relatedInformation: true },
        },
      },
    }) as Promise<{ capabilities: Record<string, unknown> }>, timeoutMs, 'initialize');
    s.capabilities = init.capabilities;
    await s.conn.sendNotification('initialized', {});
    return s;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The server's resident set size in kB (Linux), or undefined. */
  rssKb(): number | undefined {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  sampleRss(): void {
    if (this.exit) return;
    const kb = this.rssKb();
    if (kb !== undefined && kb > this.peakRssKb) this.peakRssKb = kb;
  }

  notify(method: string, params: unknown): Promise<void> {
    return this.conn.sendNotification(method, params);
  }

  /**
   * Sends a request and waits for its answer, at most `timeoutMs`. With `cancelAfterMs` the client sends
   * $/cancelRequest after that long (0: right after sending); a cancelled request must still answer.
   */
  async request(method: string, params: unknown, timeoutMs: number, cancelAfterMs?: number): Promise<RequestOutcome> {
    const t0 = performance.now();
    const cts = cancelAfterMs === undefined ? undefined : new CancellationTokenSource();
    const p = cts ? this.conn.sendRequest(method, params, cts.token) : this.conn.sendRequest(method, params);
    let cancelTimer: NodeJS.Timeout | undefined;
    if (cts) cancelTimer = setTimeout(() => cts.cancel(), cancelAfterMs);
    const out: RequestOutcome = { method, sentAt: t0, ms: 0, cancelled: cts !== undefined, timedOut: false };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const r = await Promise.race([p.then((result) => ({ result })), timeout]);
      if (r === 'timeout') out.timedOut = true;
      else out.result = r.result;
    } catch (e) {
      out.error = e instanceof ResponseError ? { code: e.code, message: e.message } : { code: 0, message: String(e) };
    } finally {
      clearTimeout(timer);
      clearTimeout(cancelTimer);
      cts?.dispose();
    }
    out.ms = performance.now() - t0;
    this.sampleRss();
    return out;
  }

  /** What the server reported doing (reclaimLens/status) since `since` (a performance.now() time), briefly. */
  activitySince(since: number): string {
    const s = this.statuses.filter((x) => x.at >= since);
    if (!s.length) return 'no status reported meanwhile';
    return `meanwhile: ${s.slice(-12).map((x) => `${x.message} (+${Math.round(x.at - since)} ms)`).join('; ')}`;
  }

  /** The next publishDiagnostics of `uri` that satisfies `pred` (or the last one already received, if it does). */
  diagnosticsWhere(uri: string, pred: (p: PublishDiagnosticsParams) => boolean, timeoutMs: number): Promise<PublishDiagnosticsParams> {
    const have = this.diagnostics.get(uri);
    if (have && pred(have)) return Promise.resolve(have);
    return withTimeout(new Promise<PublishDiagnosticsParams>((resolve) => {
      this.waiters.push({ uri, pred, resolve });
    }), timeoutMs, `diagnostics of ${uri}`);
  }

  /** didOpen, then the diagnostics of that version. */
  async open(uri: string, text: string, version = 1, timeoutMs = 30_000): Promise<Diagnostic[]> {
    const d = this.diagnosticsWhere(uri, (p) => p.version === version, timeoutMs);
    await this.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version, text } });
    // A rejection before we await it (the open took long) must not be unhandled.
    return (await d).diagnostics;
  }

  /** Waits until the server has read everything sent so far and answered: a request it answers without analysis. */
  async ping(timeoutMs = 30_000): Promise<void> {
    await withTimeout(this.conn.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///nonexistent/ping.c' }, position: { line: 0, character: 0 } }), timeoutMs, 'ping');
  }

  /** shutdown + exit when the server is alive; kills it otherwise (or when it does not leave in time). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.sampler);
    if (!this.exit) {
      try {
        await withTimeout(this.conn.sendRequest('shutdown'), 5000, 'shutdown');
        await this.conn.sendNotification('exit');
      } catch {
        // killed below
      }
      await new Promise<void>((resolve) => {
        if (this.exit) return resolve();
        const t = setTimeout(() => {
          this.proc.kill('SIGKILL');
          resolve();
        }, 3000);
        this.proc.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.conn.dispose();
  }
}

export function pathToUri(p: string): string {
  return pathToFileURL(path.resolve(p)).toString();
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}
