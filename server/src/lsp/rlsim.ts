// `.rlsim` model files in the editor: parse problems as diagnostics (the model language: docs/rlsim.md).
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { parseModel } from '../simulate';

export function rlsimDiagnostics(doc: TextDocument): Diagnostic[] {
  const { problems } = parseModel(doc.getText());
  return problems.map((p) => ({
    range: { start: { line: p.line - 1, character: p.column - 1 }, end: { line: p.endLine - 1, character: p.endColumn - 1 } },
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: 'reclaim-lens',
    message: p.message,
  }));
}
