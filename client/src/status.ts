// The language status item for C files: shows the server's analysis state (see statusModel.ts for the rendering).
import * as vscode from 'vscode';
import { renderStatus, type StatusInput, type StatusSeverity } from './statusModel';

const SEVERITY: Record<StatusSeverity, vscode.LanguageStatusSeverity> = {
  information: vscode.LanguageStatusSeverity.Information,
  warning: vscode.LanguageStatusSeverity.Warning,
  error: vscode.LanguageStatusSeverity.Error,
};

export const C_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', language: 'c' },
  { scheme: 'untitled', language: 'c' },
];

export class AnalysisStatus implements vscode.Disposable {
  private readonly item: vscode.LanguageStatusItem;
  private kernelVersion = '';

  constructor() {
    this.item = vscode.languages.createLanguageStatusItem('reclaimLens.status', C_SELECTOR);
    this.item.name = 'Reclaim Lens';
    this.update({ kind: 'client', phase: 'starting' });
  }

  update(input: StatusInput): void {
    if (input.kind === 'server' && input.params.kernelVersion) this.kernelVersion = input.params.kernelVersion;
    const view = renderStatus(input, this.kernelVersion);
    this.item.text = view.text;
    this.item.detail = view.detail;
    this.item.severity = SEVERITY[view.severity];
    this.item.busy = view.busy;
    this.item.command = { command: view.command, title: view.commandTitle };
  }

  dispose(): void {
    this.item.dispose();
  }
}
