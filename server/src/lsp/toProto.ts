// The one place that builds LSP shapes from ide/ results (offsets → positions through the TextDocument).
import type { Diagnostic as LspDiagnostic, Hover, InlayHint as LspInlayHint } from 'vscode-languageserver/node';
import { DiagnosticSeverity, InlayHintLabelPart, MarkupKind } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Severity } from '../analysis/facts';
import type { Diagnostic, HoverResult, InlayHint, TextRange } from '../ide/types';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function toRange(r: TextRange, doc: TextDocument) {
  return { start: doc.positionAt(r.start), end: doc.positionAt(r.end) };
}

export function toDiagnostic(d: Diagnostic, doc: TextDocument, href: (code: string) => string): LspDiagnostic {
  return {
    range: toRange(d.range, doc),
    severity: SEVERITY[d.severity],
    code: d.code,
    codeDescription: { href: href(d.code) },
    source: 'reclaim-lens',
    message: d.message,
    relatedInformation: d.related.map((r) => ({ location: { uri: doc.uri, range: toRange(r.range, doc) }, message: r.message })),
  };
}

export function toInlayHint(h: InlayHint, doc: TextDocument): LspInlayHint {
  return {
    position: doc.positionAt(h.offset),
    label: h.label.map((p) => {
      const part = InlayHintLabelPart.create(p.text);
      if (p.target) part.location = { uri: doc.uri, range: toRange(p.target, doc) };
      if (p.tooltip) part.tooltip = p.tooltip;
      return part;
    }),
    paddingLeft: h.paddingLeft,
    paddingRight: h.paddingRight,
  };
}

export function toHover(h: HoverResult, doc: TextDocument): Hover {
  return { range: toRange(h.range, doc), contents: { kind: MarkupKind.Markdown, value: h.markdown } };
}
