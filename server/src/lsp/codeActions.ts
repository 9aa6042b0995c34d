// textDocument/codeAction: verified quick fixes (kind `quickfix`, with the diagnostic they resolve) for the findings
// in the requested range, and `source.fixAll.reclaimLens` when the client asks for source actions (e.g. on save).
// Refactoring suggestions that are off by default in the Problems view still get their quick fixes; fix-all
// includes them only when they are shown. Fixes that were not offered come back as disabled actions with the
// reason, for clients that display those.
import type { CodeAction, CodeActionParams, Diagnostic as LspDiagnostic } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { OFF_BY_DEFAULT } from '../analysis/checks';
import type { FileFacts, Finding } from '../analysis/facts';
import { codeFixes, FIX_ALL_CODES, FIXABLE_CODES, fixAll, PROGRAM_FIXABLE_CODES, wholeEdit, type Analyser, type DeadlockTarget } from '../ide/fixes';
import type { Config } from './config';
import { FIX_ALL_KIND, toDiagnostic, toDisabledFix, toFixAll, toQuickFix } from './toProto';
import { simulateSleepActions } from './simulateActions';

export interface CodeActionEnv {
  analyser: Analyser;
  config: Config;
  helpHref: (code: string) => string;
  /** the client shows disabled code actions (codeAction.disabledSupport) */
  disabledSupport: boolean;
  /** the document's current analysis, when there is one: no fixable finding in the range answers at once */
  facts?: FileFacts;
  /** whole-program findings in the range (the workspace index's reclaim deadlocks), with what their fix needs */
  extra?: readonly DeadlockTarget[];
}

export function codeActions(doc: TextDocument, p: CodeActionParams, env: CodeActionEnv): CodeAction[] {
  const only = p.context.only;
  const wantsQuickFix = !only || only.includes('quickfix');
  const wantsFixAll = !!only && only.some((k) => k === FIX_ALL_KIND || FIX_ALL_KIND.startsWith(`${k}.`));
  const enabled = (code: string) => !env.config.diagnostics.disabled.includes(code);
  const shown = (code: string) => enabled(code) && (env.config.diagnostics.showRefactorings || !OFF_BY_DEFAULT.includes(code));
  const text = doc.getText();
  const out: CodeAction[] = [];
  const range = { start: doc.offsetAt(p.range.start), end: doc.offsetAt(p.range.end) };
  const inRange = (f: Finding) => FIXABLE_CODES.includes(f.code) && enabled(f.code) && f.span.end >= range.start && f.span.start <= range.end;
  // Code actions are asked for at every cursor move: nothing fixable here means no re-analysis at all.
  const extra = (env.extra ?? []).filter((f) => PROGRAM_FIXABLE_CODES.includes(f.code) && enabled(f.code));
  if (wantsQuickFix && !wantsFixAll && env.facts && !extra.length && !env.facts.functions.some((fn) => fn.findings.some(inRange))) return [];
  if (wantsQuickFix) {
    const r = codeFixes(env.analyser, text, { range, codes: FIXABLE_CODES.filter(enabled), extra });
    const diagnosticOf = (f: Finding): LspDiagnostic | undefined => {
      if (!shown(f.code)) return undefined;
      const start = doc.positionAt(f.span.start);
      const end = doc.positionAt(f.span.end);
      const sent = p.context.diagnostics.find((d) => d.code === f.code && d.range.start.line === start.line && d.range.start.character === start.character
        && d.range.end.line === end.line && d.range.end.character === end.character);
      return sent ?? toDiagnostic({
        range: f.span, severity: f.severity, code: f.code, message: f.message, function: f.function,
        related: f.related.map((x) => ({ range: x.span, message: x.message })),
      }, doc, env.helpHref);
    };
    for (const fix of r.fixes) out.push(toQuickFix(fix, doc, diagnosticOf(fix.target)));
    // "Simulate: sleeping in atomic context" on the sleep-in-atomic findings in the range (lsp/simulateActions.ts).
    out.push(...simulateSleepActions(doc, p, env.facts, env.analyser.kb, diagnosticOf));
    if (env.disabledSupport) {
      for (const x of r.refused) out.push(toDisabledFix(`Fix ${x.code} (not offered)`, x.reason));
    }
  }
  if (wantsFixAll) {
    const codes = FIX_ALL_CODES.filter(shown);
    const r = fixAll(env.analyser, text, { codes });
    const edit = wholeEdit(text, r.text);
    if (edit && r.applied.length) out.push(toFixAll(`Fix all Reclaim Lens findings (${r.applied.length} verified fix${r.applied.length === 1 ? '' : 'es'})`, [edit], doc));
  }
  return out;
}
