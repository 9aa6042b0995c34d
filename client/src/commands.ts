// Palette commands (category "Reclaim Lens" in package.json). Ids are listed here once and checked by the manifest test.
import * as vscode from 'vscode';
import type { ServerController } from './client';

export const COMMANDS = {
  restartServer: 'reclaimLens.restartServer',
  showOutput: 'reclaimLens.showOutput',
  /** Registered by simulation/panel.ts: run a `.rlsim` model in the simulation panel. */
  simulateModel: 'reclaimLens.simulateModel',
  /** Registered by simulation/panel.ts: simulate a model text (the deadlock detector's "Simulate deadlock"). */
  simulateDeadlock: 'reclaimLens.simulateDeadlock',
} as const;

export function registerCommands(
  context: vscode.ExtensionContext,
  controller: ServerController,
  output: vscode.LogOutputChannel,
): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(COMMANDS.restartServer, async () => {
      try {
        await controller.restart();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        output.error(`Restart failed: ${message}`);
        void vscode.window.showErrorMessage(`Reclaim Lens: restarting the server failed (${message}).`, 'Show Output').then((choice) => {
          if (choice) output.show(true);
        });
      }
    }),
    vscode.commands.registerCommand(COMMANDS.showOutput, () => output.show(true)),
  );
}
