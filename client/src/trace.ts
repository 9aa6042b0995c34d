// The "Reclaim Lens Trace" channel, driven by `reclaimLens.trace.server`.
// vscode-languageclient 10 traces only while the trace channel's log level is Trace, and then reads `trace.server`
// for the verbosity (treating `off` as `messages`). This adapter makes the setting alone enough: `messages` or
// `verbose` reports the Trace level and writes the traces at info level, so they show whatever the channel's level.
// With `off`, the channel behaves as it is: setting its level to Trace in the Output panel still turns tracing on.
import * as vscode from 'vscode';

const SECTION = 'reclaimLens';
const SETTING = 'trace.server';

export class TraceChannel implements vscode.LogOutputChannel {
  private readonly levelEmitter = new vscode.EventEmitter<vscode.LogLevel>();
  readonly onDidChangeLogLevel = this.levelEmitter.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly channel: vscode.LogOutputChannel) {
    this.subscriptions = [
      channel.onDidChangeLogLevel(() => this.levelEmitter.fire(this.logLevel)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.${SETTING}`)) this.levelEmitter.fire(this.logLevel);
      }),
    ];
  }

  private get requested(): boolean {
    return vscode.workspace.getConfiguration(SECTION).get<string>(SETTING, 'off') !== 'off';
  }

  get name(): string {
    return this.channel.name;
  }

  get logLevel(): vscode.LogLevel {
    return this.requested ? vscode.LogLevel.Trace : this.channel.logLevel;
  }

  trace(message: string, ...args: unknown[]): void {
    if (this.requested) this.channel.info(message, ...args);
    else this.channel.trace(message, ...args);
  }

  debug(message: string, ...args: unknown[]): void {
    this.channel.debug(message, ...args);
  }

  info(message: string, ...args: unknown[]): void {
    this.channel.info(message, ...args);
  }

  warn(message: string, ...args: unknown[]): void {
    this.channel.warn(message, ...args);
  }

  error(error: string | Error, ...args: unknown[]): void {
    this.channel.error(error, ...args);
  }

  append(value: string): void {
    this.channel.append(value);
  }

  appendLine(value: string): void {
    this.channel.appendLine(value);
  }

  replace(value: string): void {
    this.channel.replace(value);
  }

  clear(): void {
    this.channel.clear();
  }

  show(columnOrPreserveFocus?: vscode.ViewColumn | boolean, preserveFocus?: boolean): void {
    if (typeof columnOrPreserveFocus === 'number') this.channel.show(columnOrPreserveFocus, preserveFocus);
    else this.channel.show(columnOrPreserveFocus);
  }

  hide(): void {
    this.channel.hide();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.levelEmitter.dispose();
    this.channel.dispose();
  }
}
