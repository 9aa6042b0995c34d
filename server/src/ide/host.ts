// AnalysisHost: parse + analyse one file's text with a given configuration; the tree is freed before returning,
// so results are plain data (offsets) that outlive it. The LSP layer and the CLI both go through here.
import type { Parser } from 'web-tree-sitter';
import { analyseFile } from '../analysis/fileAnalysis';
import type { FileFacts } from '../analysis/facts';
import type { KbView } from '../analysis/kbView';
import { parseSource, type SourceFile } from '../syntax/sourceFile';

export interface AnalysisConfig {
  kernelVersion: string;
  disabledChecks: readonly string[];
}

export interface FileAnalysis {
  text: string;
  facts: FileFacts;
  kb: KbView;
  /** wall time of parse + analysis in milliseconds */
  ms: number;
}

export class AnalysisHost {
  constructor(
    private readonly parser: Parser,
    private readonly kbFor: (kernelVersion: string) => KbView,
  ) {}

  analyse(text: string, config: AnalysisConfig, onError?: (fn: string, e: unknown) => void): FileAnalysis {
    const t0 = performance.now();
    const file = this.parse(text);
    try {
      const a = this.analyseParsed(file, config, onError);
      return { ...a, ms: performance.now() - t0 };
    } finally {
      file.dispose();
    }
  }

  /** Kernel-idiom preprocessing + tree-sitter parse; the caller disposes the result. */
  parse(text: string): SourceFile {
    return parseSource(this.parser, text);
  }

  /** The analysis of an already parsed file (benchmarks time it apart from the parse). */
  analyseParsed(file: SourceFile, config: AnalysisConfig, onError?: (fn: string, e: unknown) => void): FileAnalysis {
    const t0 = performance.now();
    const kb = this.kbFor(config.kernelVersion);
    const facts = analyseFile(file, kb, { kernelVersion: config.kernelVersion, disabledChecks: config.disabledChecks }, onError);
    return { text: file.text, facts, kb, ms: performance.now() - t0 };
  }
}
