// AnalysisHost: parse + analyse one file's text with a given configuration; the tree is freed before returning,
// so results are plain data (offsets) that outlive it. The LSP layer and the CLI both go through here.
import type { Parser } from 'web-tree-sitter';
import { analyseFile } from '../analysis/fileAnalysis';
import type { FileFacts } from '../analysis/facts';
import { analyseFunctions, type CalleeEffects, type CalleeLockEffect } from '../analysis/functionAnalysis';
import type { KbView } from '../analysis/kbView';
import { listFunctions } from '../syntax/ast';
import { parseSource, type SourceFile } from '../syntax/sourceFile';

export interface AnalysisConfig {
  kernelVersion: string;
  disabledChecks: readonly string[];
  /**
   * The texts of the local headers the file includes (io/localIncludes.ts), in include order: the lock and scope
   * effects of the functions they define are given to the file's callers of them (a lock wrapper, a scope opener).
   */
  headers?: readonly { text: string }[];
}

export interface FileAnalysis {
  text: string;
  facts: FileFacts;
  kb: KbView;
  /** wall time of parse + analysis in milliseconds */
  ms: number;
}

/**
 * Headers whose effects are remembered (per kernel version and text), least recently used first out: a directory's
 * .c files share theirs (a btrfs file includes some 20 of its ~100 local headers).
 */
const HEADER_MEMO = 1024;

export class AnalysisHost {
  private readonly headerMemo = new Map<string, CalleeEffects>();

  constructor(
    private readonly parser: Parser,
    private readonly kbFor: (kernelVersion: string) => KbView,
  ) {}

  /**
   * The lock and scope effects of the functions the headers define, each header analysed on its own as a file is
   * (its functions callees first). An earlier header's definition wins, as the first declaration does for the
   * compiler; a header that fails to analyse contributes nothing.
   */
  headerEffects(headers: readonly { text: string }[], kernelVersion: string): CalleeEffects {
    const out = new Map<string, { params: string[]; effects: CalleeLockEffect[] }>();
    for (const h of headers) {
      const key = `${kernelVersion}\0${h.text}`;
      let effects = this.headerMemo.get(key);
      if (effects) {
        this.headerMemo.delete(key);
        this.headerMemo.set(key, effects);
      } else {
        effects = new Map();
        const file = this.parse(h.text);
        try {
          effects = analyseFunctions(listFunctions(file), file, this.kbFor(kernelVersion)).callees;
        } catch {
          // An internal error in a header only loses its effects; the file itself is analysed as before.
        } finally {
          file.dispose();
        }
        if (this.headerMemo.size >= HEADER_MEMO) this.headerMemo.delete(this.headerMemo.keys().next().value!);
        this.headerMemo.set(key, effects);
      }
      for (const [name, e] of effects) if (!out.has(name)) out.set(name, e);
    }
    return out;
  }

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
    const external = config.headers?.length ? this.headerEffects(config.headers, config.kernelVersion) : undefined;
    const facts = analyseFile(file, kb, { kernelVersion: config.kernelVersion, disabledChecks: config.disabledChecks }, onError, external);
    return { text: file.text, facts, kb, ms: performance.now() - t0 };
  }
}
