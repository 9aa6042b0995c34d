// Analyses every function of a parsed file; a failure in one function is recorded and never stops the others.
import type { SourceFile } from '../syntax/sourceFile';
import { listFunctions } from '../syntax/ast';
import { CHECKS, type CheckConfig } from './checks';
import type { AllocSite, FileFacts, FunctionFacts } from './facts';
import { opsBindingsOf, structFieldsOf } from './bindings';
import { analyseFunctions, type CalleeEffects } from './functionAnalysis';
import { gatesOf } from './gates';
import { paramGuardsOf } from './paramGuards';
import type { KbView } from './kbView';

export interface FileAnalysisConfig extends CheckConfig {
  /** checks not to run at all */
  disabledChecks: readonly string[];
}

/** `external`: lock and scope effects of functions the file calls but does not define (its local headers'). */
export function analyseFile(file: SourceFile, kb: KbView, config: FileAnalysisConfig, onError?: (fn: string, e: unknown) => void, external?: CalleeEffects): FileFacts {
  const functions: FunctionFacts[] = [];
  const fns = listFunctions(file);
  const { runs, problems } = analyseFunctions(fns, file, kb, onError, external);
  runs.forEach((run, i) => {
    if (!run) return;
    const fn = fns[i];
    try {
      const findings = [];
      for (const check of CHECKS) {
        if (config.disabledChecks.includes(check.code)) continue;
        findings.push(...check.run(run, config));
      }
      functions.push({
        name: fn.name,
        span: { start: fn.node.startIndex, end: fn.node.endIndex },
        nameSpan: fn.nameNode ? { start: fn.nameNode.startIndex, end: fn.nameNode.endIndex } : { start: fn.node.startIndex, end: fn.node.startIndex },
        isStatic: fn.isStatic,
        sites: run.sites.map(({ gfpNode: _g, callNode: _c, ...site }): AllocSite => site),
        calls: run.calls,
        callSites: run.callSites,
        acquires: run.acquires,
        ...(run.releases.length ? { releases: run.releases } : {}),
        gates: gatesOf(fn, file, kb),
        ...withGuards(paramGuardsOf(fn, file)),
        gfpParams: run.gfpParams,
        findings,
        problems: run.cfg.problems.map((n) => ({ start: n.startIndex, end: n.endIndex })),
        hasError: fn.hasError,
        approximate: run.approximate,
      });
    } catch (e) {
      problems.push(`analysis of ${fn.name}() failed: ${e instanceof Error ? e.message : String(e)}`);
      onError?.(fn.name, e);
    }
  });
  let bindings: FileFacts['bindings'] = [];
  try {
    bindings = opsBindingsOf(file, kb);
  } catch (e) {
    problems.push(`ops-table bindings: ${e instanceof Error ? e.message : String(e)}`);
  }
  let fields: FileFacts['fields'] = [];
  try {
    fields = structFieldsOf(file.text);
  } catch (e) {
    problems.push(`struct fields: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { functions, bindings, ...(fields.length ? { fields } : {}), problems };
}

const withGuards = (g: FunctionFacts['paramGuards']) => (g && g.length ? { paramGuards: g } : {});
