// The knowledge base as the analysis sees it: one view per kernel table, chosen by the analysed kernel version.
import { tableFor } from '../model/gfp';
import { loadKnowledgeBase, type KbOverride, type KbView } from '../model/kb';

export type { KbView };

export interface KbProvider {
  /** The view for a kernel version ("6.1.192" → the 6.1 table); unknown versions use the newest table. */
  view(kernelVersion: string): KbView;
  /** Messages about rejected override entries (never thrown). */
  problems: string[];
}

export function createKbProvider(overrides: readonly KbOverride[] = []): KbProvider {
  const { index, problems } = loadKnowledgeBase(overrides);
  return {
    view: (v) => index.forTable(tableFor(v) ?? '6.12'),
    problems,
  };
}
