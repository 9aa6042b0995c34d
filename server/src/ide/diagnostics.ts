// Diagnostics of a file, filtered by the user's settings; each code has a page under docs/checks/. The refactoring
// suggestions (checks marked offByDefault) are left out unless asked for; their quick fixes stay available.
import { OFF_BY_DEFAULT } from '../analysis/checks';
import type { FileFacts, Severity } from '../analysis/facts';
import type { Diagnostic, DiagnosticsConfig } from './types';

const RANK: Record<Severity, number> = { error: 0, warning: 1, information: 2, hint: 3 };

export function diagnostics(facts: FileFacts, config: DiagnosticsConfig): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const fn of facts.functions) {
    for (const f of fn.findings) {
      if (config.disabled.includes(f.code)) continue;
      if (!config.showRefactorings && OFF_BY_DEFAULT.includes(f.code)) continue;
      if (RANK[f.severity] > RANK[config.minimumSeverity]) continue;
      out.push({
        range: f.span, severity: f.severity, code: f.code, message: f.message, function: f.function,
        related: f.related.map((r) => ({ range: r.span, message: r.message })),
      });
    }
  }
  return out.sort((a, b) => a.range.start - b.range.start || a.code.localeCompare(b.code));
}

export const CHECK_DOCS_BASE = 'https://github.com/reclaim-lens/reclaim-lens/blob/main/docs/checks/';
