// Multi-file fixtures: one .c holds several virtual files, each starting at a header line `//- /fs/demo/a.c`.
// Every virtual file is analysed on its own (offsets and lines are relative to it), then the program is built over
// all of them, as the CLI does over a tree.
import { buildProgram, lineStartsOf, type Program, type ProgramFileInput } from '../../server/src/analysis/interproc';
import type { KbView } from '../../server/src/analysis/kbView';
import * as posix from 'node:path/posix';
import { localIncludeNames } from '../../server/src/io/localIncludes';
import { analyseText } from './analyse';

export interface VirtualFile {
  /** the path after `//- /`, e.g. `fs/demo/a.c` */
  path: string;
  text: string;
  /** 1-based line of the fixture at which this file's first line sits */
  firstLine: number;
}

const HEADER = /^\/\/- \/?(\S+)\s*$/;

/** Splits a fixture at its `//- /path` header lines; text before the first header must be blank or comments. */
export function splitMultiFile(text: string): VirtualFile[] {
  const out: VirtualFile[] = [];
  let cur: { path: string; lines: string[]; firstLine: number } | undefined;
  text.split('\n').forEach((line, i) => {
    const m = HEADER.exec(line);
    if (m) {
      if (cur) out.push({ path: cur.path, text: cur.lines.join('\n'), firstLine: cur.firstLine });
      if (out.some((f) => f.path === m[1])) throw new Error(`line ${i + 1}: file ${m[1]} appears twice`);
      cur = { path: m[1], lines: [], firstLine: i + 2 };
      return;
    }
    if (cur) cur.lines.push(line);
    else if (line.trim() !== '' && !/^\s*(\/\/|\/\*|\*)/.test(line)) throw new Error(`line ${i + 1}: code before the first //- header`);
  });
  if (cur) out.push({ path: cur.path, text: cur.lines.join('\n'), firstLine: cur.firstLine });
  if (!out.length) throw new Error('no //- /path header in the fixture');
  return out;
}

export interface AnalysedProgram {
  files: VirtualFile[];
  program: Program;
  kb: KbView;
}

export async function analyseProgram(text: string, kernelVersion = '6.12'): Promise<AnalysedProgram> {
  const files = splitMultiFile(text);
  const inputs: ProgramFileInput[] = [];
  let kb: KbView | undefined;
  for (const f of files) {
    const a = await analyseText(f.text, kernelVersion, localHeadersOf(f, files));
    kb = a.kb;
    inputs.push({ path: f.path, facts: a.facts, lineStarts: lineStartsOf(f.text) });
  }
  return { files, program: buildProgram(inputs), kb: kb! };
}

/** A virtual file's local headers among the fixture's files (`#include "x.h"` relative to its folder), as the index reads them from disk. */
function localHeadersOf(f: VirtualFile, files: readonly VirtualFile[]): VirtualFile[] {
  const out: VirtualFile[] = [];
  const visit = (from: VirtualFile, depth: number) => {
    if (depth > 3) return;
    for (const name of localIncludeNames(from.text)) {
      const p = posix.normalize(posix.join(posix.dirname(from.path), name));
      const h = files.find((x) => x.path === p);
      if (h && h !== f && !out.includes(h)) {
        out.push(h);
        visit(h, depth + 1);
      }
    }
  };
  visit(f, 1);
  return out;
}
