// The ide layer's own result shapes: editor terms (offsets, labels), no LSP types. lsp/toProto and the CLI render them.
import type { Severity } from '../analysis/facts';

export interface TextRange {
  start: number;
  end: number;
}

export interface InlayLabelPart {
  text: string;
  /** a place in the same file this part links to (the scope's save call) */
  target?: TextRange;
  /** a place in a file of the workspace index (path relative to its root, 1-based line): a calling context's call */
  link?: { file: string; line: number };
  tooltip?: string;
}

export interface InlayHint {
  offset: number;
  label: InlayLabelPart[];
  paddingLeft: boolean;
  paddingRight: boolean;
}

export interface HoverResult {
  range: TextRange;
  markdown: string;
}

export interface Diagnostic {
  range: TextRange;
  severity: Severity;
  code: string;
  message: string;
  function: string;
  related: { range: TextRange; message: string }[];
}

export interface InlayHintsConfig {
  mode: 'changed' | 'all' | 'off';
}

export interface DiagnosticsConfig {
  disabled: readonly string[];
  minimumSeverity: Severity;
  /** report the refactoring suggestions that are off by default (nofs-scope-candidate, nofs-unnecessary) */
  showRefactorings?: boolean;
}
