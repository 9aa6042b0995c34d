// The contract of a check: one diagnostic code, one file, a default severity, a run over one function's walk.
import type { Finding, Severity } from '../facts';
import type { FunctionRun } from '../functionAnalysis';

export interface CheckConfig {
  /** the kernel version being analysed, e.g. "6.12" or "6.1.192" */
  kernelVersion: string;
}

export interface Check {
  code: string;
  defaultSeverity: Severity;
  /** a refactoring suggestion: computed (its quick fix stays available) but not shown unless asked for */
  offByDefault?: boolean;
  run(fn: FunctionRun, config: CheckConfig): Finding[];
}

/** "6.1.192" ≥ "5.17"? Unparseable versions compare as new. */
export function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map((x) => parseInt(x, 10));
  const b = min.split('.').map((x) => parseInt(x, 10));
  if (a.some((x) => Number.isNaN(x))) return true;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}
