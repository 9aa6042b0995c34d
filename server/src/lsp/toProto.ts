// The one place that builds LSP shapes from ide/ results (offsets → positions through the TextDocument).
import type { CodeAction, Diagnostic as LspDiagnostic, Hover, InlayHint as LspInlayHint, Location, TextEdit as LspTextEdit } from 'vscode-languageserver/node';
import { DiagnosticSeverity, InlayHintLabelPart, MarkupKind } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Severity } from '../analysis/facts';
import type { TextEdit, VerifiedFix } from '../ide/fixes';
import type { Diagnostic, HoverResult, InlayHint, TextRange } from '../ide/types';
import type { ProgramDiagnostic } from '../ide/programDiagnostics';

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

export function toInlayHint(h: InlayHint, doc: TextDocument, locate?: (file: string, line: number) => Location | undefined): LspInlayHint {
  return {
    position: doc.positionAt(h.offset),
    label: h.label.map((p) => {
      const part = InlayHintLabelPart.create(p.text);
      if (p.target) part.location = { uri: doc.uri, range: toRange(p.target, doc) };
      else if (p.link) {
        const loc = locate?.(p.link.file, p.link.line);
        if (loc) part.location = loc;
      }
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

export function toTextEdit(e: TextEdit, doc: TextDocument): LspTextEdit {
  return { range: toRange(e, doc), newText: e.newText };
}

/** A verified quick fix as a `quickfix` code action for the diagnostic it resolves. */
export function toQuickFix(fix: VerifiedFix, doc: TextDocument, diagnostic: LspDiagnostic | undefined): CodeAction {
  return {
    title: fix.title,
    kind: 'quickfix',
    ...(diagnostic ? { diagnostics: [diagnostic] } : {}),
    ...(fix.preferred ? { isPreferred: true } : {}),
    edit: { changes: { [doc.uri]: fix.edits.map((e) => toTextEdit(e, doc)) } },
  };
}

/** A fix that was not offered, as a disabled action with the reason (clients with disabledSupport show it greyed). */
export function toDisabledFix(title: string, reason: string): CodeAction {
  return { title, kind: 'quickfix', disabled: { reason } };
}

/** Every verified fix of a file at once, as one `source.fixAll.reclaimLens` action. */
export function toFixAll(title: string, edits: TextEdit[], doc: TextDocument): CodeAction {
  return { title, kind: FIX_ALL_KIND, edit: { changes: { [doc.uri]: edits.map((e) => toTextEdit(e, doc)) } } };
}

export const FIX_ALL_KIND = 'source.fixAll.reclaimLens';

/** A file-relative location of the workspace index as an LSP location (undefined: the file is not indexed). */
export type ProgramLocator = (file: string, range: TextRange) => { uri: string; range: { start: { line: number; character: number }; end: { line: number; character: number } } } | undefined;

/** A whole-program finding (workspace index) as a diagnostic of its file; related locations may be in other files. */
export function toProgramDiagnostic(d: ProgramDiagnostic, locate: ProgramLocator, href: (code: string) => string): LspDiagnostic | undefined {
  const at = locate(d.file, d.range);
  if (!at) return undefined;
  return {
    range: at.range,
    severity: SEVERITY[d.severity],
    code: d.code,
    codeDescription: { href: href(d.code) },
    source: 'reclaim-lens',
    message: d.message,
    relatedInformation: d.related.flatMap((r) => {
      const loc = locate(r.file, r.range);
      return loc ? [{ location: loc, message: r.message }] : [];
    }),
  };
}
