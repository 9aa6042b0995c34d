// "Simulate deadlock" beside the code action (lsp/simulateActions.ts): a code lens on the allocation (or user access)
// of every deadlock finding the workspace index shows in a document, and a label part ` ⚠ deadlock` on the inlay
// hint at that call. Both run the client's `reclaimLens.simulateDeadlock(modelText, baseUri)`, with the arguments the
// code action uses. Only findings the index has: nothing is added to a file outside the index or without findings.
import type { CodeLens, Command, InlayHint, InlayHintLabelPart, Position, Range } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { FileFacts } from '../analysis/facts';
import type { InlayHintsConfig } from '../ide/types';
import { SIMULATE_DEADLOCK_COMMAND } from './simulateActions';
import type { IndexSimulation } from './workspaceIndex';

/** The text of the label part appended to an allocation's inlay hint (or the whole hint when the site has none). */
export const DEADLOCK_HINT_TEXT = ' ⚠ deadlock';

/** `⚠ Simulate deadlock (reclaim-deadlock: demo_cache_lock → fs_reclaim)`; without a cycle, the function. */
export function deadlockLensTitle(s: IndexSimulation): string {
  const what = s.cycle?.length ? s.cycle.join(' → ') : `${s.function}()`;
  return `⚠ Simulate deadlock (${s.diagnostic.code}: ${what})`;
}

function simulateCommand(s: IndexSimulation, title: string): Command {
  return { title, command: SIMULATE_DEADLOCK_COMMAND, arguments: [s.model, s.baseUri] };
}

/** The range of a whole document, for WorkspaceIndex.simulationsAt. */
export function wholeDocument(doc: TextDocument): Range {
  return { start: { line: 0, character: 0 }, end: doc.positionAt(doc.getText().length) };
}

/** One lens per finding, on the first line of its range (the allocation or user access), in document order. */
export function deadlockCodeLenses(found: readonly IndexSimulation[]): CodeLens[] {
  const seen = new Set<string>();
  const out: CodeLens[] = [];
  for (const s of found) {
    const title = deadlockLensTitle(s);
    const r = s.diagnostic.range;
    // The same finding code and cycle on the same call once (a class-level and an instance finding can coincide).
    const key = `${r.start.line}:${r.start.character}:${title}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ range: r, command: simulateCommand(s, title) });
  }
  return out.sort((a, b) => cmp(a.range.start, b.range.start));
}

const cmp = (a: Position, b: Position) => a.line - b.line || a.character - b.character;
const inside = (p: Position, r: Range) => cmp(r.start, p) <= 0 && cmp(p, r.end) <= 0;

/**
 * The inlay hints of a document with a ` ⚠ deadlock` part (running the simulation) where the index has a deadlock
 * finding: appended to the hint after the allocation's gfp argument, or a hint of its own there when the mask is
 * unchanged (mode `changed`); at the end of the finding's range when it is not an allocation site (user access).
 * `range` is the request's; mode `off` adds nothing.
 */
export function withDeadlockHints(
  doc: TextDocument, hints: InlayHint[], facts: FileFacts, found: readonly IndexSimulation[], range: Range, config: InlayHintsConfig,
): InlayHint[] {
  if (config.mode === 'off' || !found.length) return hints;
  const out = [...hints];
  const done = new Set<string>();
  for (const s of found) {
    const r = s.diagnostic.range;
    const start = doc.offsetAt(r.start);
    const end = doc.offsetAt(r.end);
    // The allocation site whose call the finding's range covers (the index ranges are the call's).
    let at: Position | undefined;
    for (const fn of facts.functions) {
      if (fn.span.end < start || fn.span.start > end) continue;
      const site = fn.sites.find((x) => x.call.start <= end && start <= x.call.end);
      if (site) {
        at = doc.positionAt(site.gfpArg ? site.gfpArg.end : site.call.end);
        break;
      }
    }
    at ??= r.end;
    if (!inside(at, range)) continue;
    const key = `${at.line}:${at.character}`;
    if (done.has(key)) continue; // one part per call, however many findings
    done.add(key);
    const part: InlayHintLabelPart = {
      value: DEADLOCK_HINT_TEXT,
      tooltip: `${s.diagnostic.code}: ${s.diagnostic.message}\n\nClick to simulate the deadlock.`,
      command: simulateCommand(s, deadlockLensTitle(s)),
    };
    const i = out.findIndex((h) => h.position.line === at!.line && h.position.character === at!.character);
    if (i >= 0) {
      const h = out[i];
      const label = typeof h.label === 'string' ? [{ value: h.label }] : h.label;
      out[i] = { ...h, label: [...label, part] };
    } else {
      out.push({ position: at, label: [{ ...part, value: DEADLOCK_HINT_TEXT.trimStart() }], paddingLeft: true, paddingRight: false });
    }
  }
  return out.sort((a, b) => cmp(a.position, b.position));
}
