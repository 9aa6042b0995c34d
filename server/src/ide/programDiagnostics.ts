// Whole-program findings (reclaim and fault deadlocks over the workspace index) in editor terms: filtered by the
// user's diagnostics settings like the per-file ones, every location named by its file (relative to the indexed
// root) and offsets into it; and the hover text that shows a finding's lockdep-format report.
import { OFF_BY_DEFAULT } from '../analysis/checks';
import type { Severity, Span } from '../analysis/facts';
import type { DiagnosticsConfig, TextRange } from './types';

/** What the index keeps of a whole-program finding (a ProgramFinding, with the report of a DeadlockFinding). */
export interface ProgramFindingLike {
  code: string;
  severity: Severity;
  file: string;
  span: Span;
  message: string;
  function: string;
  related: readonly { file: string; span: Span; message: string }[];
  report?: string;
  /** the `.rlsim` model of a deadlock finding (ide/findingModel.ts), for "Simulate deadlock" */
  model?: string;
  /** the locks of a deadlock's cycle, the held one first (`demo_cache_lock`, `fs_reclaim`): the code lens's title */
  cycle?: readonly string[];
  /** gfp bits the reclaim path of the cycle needs (deadlockRequires): what the quick fix takes away */
  requires?: readonly string[];
  /** for the scope fix's comment: the held lock, the function that takes it, the reclaim callback (deadlockTargetOf) */
  fixTarget?: { held?: string; takenIn?: string; reclaim?: string };
}

/**
 * The gfp bits an allocation must have for the reclaim side of a deadlock finding to happen: `__GFP_FS` for a cycle
 * through fs_reclaim (lockdep acquires it only for __GFP_FS allocations) or a path gated on it, `__GFP_IO` for I/O
 * to a frozen queue, none when any direct reclaim gets there (mmu-notifier invalidation, reclaim without __GFP_FS).
 */
export function deadlockRequires(f: { code: string; parts?: { pseudo?: string; take?: { requireNames: string[] } } }): string[] {
  if (f.code === 'reclaim-frozen-queue') return ['__GFP_IO'];
  const out = (f.parts?.take?.requireNames ?? []).filter((n) => n === '__GFP_FS' || n === '__GFP_IO');
  if (f.parts?.pseudo === 'fs_reclaim' && !out.includes('__GFP_FS')) out.push('__GFP_FS');
  return out;
}

export interface ProgramDiagnostic {
  file: string;
  range: TextRange;
  severity: Severity;
  code: string;
  message: string;
  function: string;
  related: { file: string; range: TextRange; message: string }[];
  /** the lockdep-format report, shown on hover */
  report?: string;
  /** the finding's model, simulated by the "Simulate deadlock" code action */
  model?: string;
  /** the locks of the cycle, the held one first */
  cycle?: readonly string[];
  /** gfp bits the cycle's reclaim path needs (for the narrowing quick fix) */
  requires?: readonly string[];
  fixTarget?: { held?: string; takenIn?: string; reclaim?: string };
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, information: 2, hint: 3 };

export function programDiagnostics(findings: readonly ProgramFindingLike[], config: DiagnosticsConfig): ProgramDiagnostic[] {
  const out: ProgramDiagnostic[] = [];
  for (const f of findings) {
    if (config.disabled.includes(f.code)) continue;
    if (!config.showRefactorings && OFF_BY_DEFAULT.includes(f.code)) continue;
    if (RANK[f.severity] > RANK[config.minimumSeverity]) continue;
    out.push({
      file: f.file, range: { start: f.span.start, end: f.span.end }, severity: f.severity, code: f.code, message: f.message, function: f.function,
      related: f.related.map((r) => ({ file: r.file, range: { start: r.span.start, end: r.span.end }, message: r.message })),
      ...(f.report ? { report: f.report } : {}),
      ...(f.model ? { model: f.model } : {}),
      ...(f.cycle?.length ? { cycle: [...f.cycle] } : {}),
      ...(f.requires ? { requires: [...f.requires] } : {}),
      ...(f.fixTarget ? { fixTarget: f.fixTarget } : {}),
    });
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.range.start - b.range.start || a.code.localeCompare(b.code));
}

/** Reports as Markdown: each in a ```text block, the fence longer than any backtick run inside. */
export function reportMarkdown(reports: readonly string[]): string {
  return reports.map((r) => {
    const longest = Math.max(0, ...[...r.matchAll(/`+/g)].map((m) => m[0].length));
    const fence = '`'.repeat(Math.max(3, longest + 1));
    return `${fence}text\n${r.replace(/\n+$/, '')}\n${fence}`;
  }).join('\n\n');
}
