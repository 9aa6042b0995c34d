// Owns the LanguageClient: builds it, starts it, restarts it, and reports its lifecycle as StatusInput events.
// A restart always builds a fresh LanguageClient: an instance whose start failed cannot be started again.
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  type ErrorHandler,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { StatusNotification } from '../../server/src/lsp/protocol';
import type { StatusInput } from './statusModel';

/** The id is also the settings prefix vscode-languageclient reads `trace.server` from. */
export const CLIENT_ID = 'reclaimLens';
export const CLIENT_NAME = 'Reclaim Lens';
/** Crashes tolerated within three minutes before the server stays down (vscode-languageclient's default is 4). */
const MAX_RESTARTS = 4;

export const DOCUMENT_SELECTOR = [
  { scheme: 'file', language: 'c' },
  { scheme: 'untitled', language: 'c' },
  { scheme: 'file', language: 'rlsim' },
  { scheme: 'untitled', language: 'rlsim' },
];

export function serverOptions(context: vscode.ExtensionContext): ServerOptions {
  const module = context.asAbsolutePath('dist/server.js');
  return {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
}

export class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private disposed = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly statusEmitter = new vscode.EventEmitter<StatusInput>();
  /** Client lifecycle phases and forwarded `reclaimLens/status` notifications, in arrival order. */
  readonly onDidChangeStatus = this.statusEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.LogOutputChannel,
    private readonly trace: vscode.LogOutputChannel,
  ) {}

  /** Starts a new client. Never throws: a failed start shows up as the `startFailed` phase and in the output. */
  async start(): Promise<void> {
    if (this.disposed) return;
    const client = this.create();
    this.client = client;
    this.statusEmitter.fire({ kind: 'client', phase: 'starting' });
    try {
      await client.start();
    } catch (error) {
      this.output.error(`Could not start the server: ${describe(error)}`);
      if (this.client !== client) return;
      this.statusEmitter.fire({ kind: 'client', phase: 'startFailed' });
      void vscode.window
        .showErrorMessage('Reclaim Lens: the language server failed to start.', 'Show Output')
        .then((choice) => choice && this.output.show(true));
    }
  }

  /**
   * Drops the current client whatever its state (running, crashed, failed, still starting) and starts a new one.
   * Restarts are queued, so two quick invocations never leave two servers running.
   */
  restart(): Promise<void> {
    this.queue = this.queue.catch(() => undefined).then(() => this.restartNow());
    return this.queue;
  }

  private async restartNow(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    if (old) await this.shutDown(old);
    this.output.info('Restarting the server');
    await this.start();
  }

  /** For `deactivate`: `client.stop()` when there is something to stop. */
  stop(): Promise<void> | undefined {
    this.disposed = true;
    const client = this.client;
    this.client = undefined;
    return client ? this.shutDown(client) : undefined;
  }

  /** The running client, for commands that send requests; undefined while the server is down. */
  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  dispose(): void {
    void this.stop();
    this.statusEmitter.dispose();
  }

  private create(): LanguageClient {
    // The error handler is created by the client itself; wrap it so a client we have replaced never restarts.
    let fallback: ErrorHandler | undefined;
    const isCurrent = (): boolean => this.client === client && !this.disposed;
    const errorHandler: ErrorHandler = {
      error: (error, message, count) =>
        isCurrent() && fallback ? fallback.error(error, message, count) : { action: ErrorAction.Shutdown, handled: true },
      closed: () => (isCurrent() && fallback ? fallback.closed() : { action: CloseAction.DoNotRestart, handled: true }),
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      synchronize: { configurationSection: CLIENT_ID },
      outputChannel: this.output,
      traceOutputChannel: this.trace,
      errorHandler,
      // Log instead of the library's raw pop-up per attempt; start() shows one message and the status item says it.
      initializationFailedHandler: (error) => {
        this.output.error(`Server initialization failed: ${describe(error)}`);
        return false;
      },
    };
    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions(this.context), clientOptions);
    fallback = client.createDefaultErrorHandler(MAX_RESTARTS);

    let wasRunning = false;
    client.onDidChangeState(({ newState }) => {
      if (!isCurrent()) return;
      if (newState === State.Running) {
        wasRunning = true;
        this.statusEmitter.fire({ kind: 'client', phase: 'running' });
      } else if (newState === State.Starting) {
        this.statusEmitter.fire({ kind: 'client', phase: wasRunning ? 'restarting' : 'starting' });
      } else if (newState === State.StartFailed) {
        this.statusEmitter.fire({ kind: 'client', phase: 'startFailed' });
      } else if (newState === State.Stopped) {
        // Nobody asked for this stop (we drop the client before stopping it): the server went away.
        this.output.warn('The server stopped unexpectedly');
        this.statusEmitter.fire({ kind: 'client', phase: 'stopped' });
      }
    });
    client.onNotification(StatusNotification.type, (params) => {
      if (isCurrent()) this.statusEmitter.fire({ kind: 'server', params });
    });
    return client;
  }

  private async shutDown(client: LanguageClient): Promise<void> {
    try {
      if (client.state === State.Running) {
        await client.stop();
        return;
      }
    } catch (error) {
      this.output.warn(`Stopping the server failed: ${describe(error)}`);
    }
    // Starting, failed or half-stopped: no clean shutdown is possible, end the process we started.
    const child = client.serverProcess;
    if (child && child.exitCode === null) child.kill();
    client.diagnostics?.clear();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
