// Extension entry point: output channels, the language status item, the commands, then the language server.
// Activation events (package.json): onLanguage:c, onLanguage:rlsim, and onWebviewPanel:reclaimLens.simulation
// (a simulation panel restored after a reload).
import * as vscode from 'vscode';
import { CLIENT_NAME, ServerController } from './client';
import { registerCommands } from './commands';
import { registerSimulation } from './simulation/panel';
import { AnalysisStatus } from './status';
import { TraceChannel } from './trace';

let controller: ServerController | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel(CLIENT_NAME, { log: true });
  // Protocol traces go to their own channel; `reclaimLens.trace.server` switches them on (see trace.ts).
  const trace = new TraceChannel(vscode.window.createOutputChannel(`${CLIENT_NAME} Trace`, { log: true }));
  const status = new AnalysisStatus();
  controller = new ServerController(context, output, trace);
  context.subscriptions.push(output, trace, status, controller, controller.onDidChangeStatus((input) => status.update(input)));
  registerCommands(context, controller, output);
  registerSimulation(context, controller, output);
  // Not awaited: a server that fails to start must not fail the activation (the status item reports it).
  void controller.start();
}

export function deactivate(): Thenable<void> | undefined {
  const stopping = controller?.stop();
  controller = undefined;
  return stopping;
}
