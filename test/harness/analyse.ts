// Shared set-up for tests that analyse C text through the same ide/ API the editor and the CLI use.
import { createKbProvider } from '../../server/src/analysis/kbView';
import { AnalysisHost, type FileAnalysis } from '../../server/src/ide/host';
import { initParser } from '../../server/src/syntax/parser';

let hostP: Promise<AnalysisHost> | undefined;

export function testHost(): Promise<AnalysisHost> {
  hostP ??= initParser().then((p) => new AnalysisHost(p, createKbProvider().view));
  return hostP;
}

export async function analyseText(text: string, kernelVersion = '6.12', headers?: readonly { text: string }[]): Promise<FileAnalysis> {
  const host = await testHost();
  return host.analyse(text, { kernelVersion, disabledChecks: [], headers }, (fn, e) => {
    throw new Error(`analysis of ${fn} failed: ${e instanceof Error ? e.stack : e}`);
  });
}
