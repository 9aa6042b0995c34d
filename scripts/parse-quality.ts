// Parse quality of the syntax layer on a real kernel tree, judged against an independent oracle.
//
//   node --import tsx scripts/parse-quality.ts [--tree .cache/kernel/6.12] [dirs…] [--json] [--no-raw]
//        [--worst N] [--show-wrong N] [--no-incremental]
//
// Groups: without dirs, "fs+mm" (fs/ and mm/, the target) and "include/linux" separately; with dirs, one group.
// For each group it reports
//   - files with an ERROR/MISSING node, and functions whose body has one, for the text as written (raw) and after
//     preprocessKernelC (pre);
//   - the WRONG-STRUCTURE rate (the target metric): over the function definitions reported by the oracle, the share
//     that we analyse with a wrong structure;
//   - time: parse only (raw text) vs. preprocessing + parse (parseSource, including the broken-item reparse);
//   - the worst offending macros/patterns (to extend the tables in server/src/syntax/kernelIdioms.ts).
//
// Oracle: Debian's universal-ctags (`apt-get install -y universal-ctags`), run as
//   ctags --output-format=json --fields=+ne --kinds-C=f --languages=C --langmap=C:.c.h -R
// which gives each function definition's name, start line (the line of its name) and end line (its `}`).
// ctags names SYSCALL_DEFINEn(open, …) functions "SYSCALL_DEFINEn"; we compare those against `sys_open` (the
// first macro argument, read from the tag's line). ctags skips `#if 0` groups, as we do.
//
// A function (an oracle tag) is analysed with a WRONG STRUCTURE when one of these holds:
//   missed      no function of ours has that name with its name on that line (we lost it or named it otherwise);
//   misnamed    one of ours has its name on that line under a different name;
//   extent      the end line of our body differs from the oracle's (body lost or swallowed text);
//   broken-cfg  the body holds an ERROR/MISSING node that breaks statement structure, as defined by
//               structuralErrors() in server/src/syntax/ast.ts: an ERROR node that is a direct child of a
//               compound_statement/case_statement/labeled_statement, or that contains a `;`, `{`, `}` token or a
//               statement/declaration node (it swallowed a statement boundary), or a MISSING `;`, `{`, `}`, `(`,
//               `)`. ERROR nodes confined to an expression (e.g. an unknown macro argument) do not count.
// Functions we find that the oracle does not list are counted ("extra") but not judged.
//
// Incremental reparse (section "incremental"): on the largest files of the first group, one character is inserted
// in the middle of a function body; a full preprocess+parse is timed against parseSource(…, previous).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Node, Parser } from 'web-tree-sitter';
import { listFunctions, rewriteAt, structuralErrors, type FunctionInfo } from '../server/src/syntax/ast';
import { ANNOTATION_MACROS, SYSCALL_MACROS } from '../server/src/syntax/kernelIdioms';
import { LineIndex } from '../server/src/syntax/lineIndex';
import { initParser } from '../server/src/syntax/parser';
import { decodeSource, parseSource, type SourceFile } from '../server/src/syntax/sourceFile';

export type WrongKind = 'missed' | 'misnamed' | 'extent' | 'broken-cfg';

export interface GroupReport {
  name: string;
  dirs: string[];
  files: number;
  skippedFiles: { file: string; problem: string }[];
  raw?: { filesWithError: number; functions: number; functionsWithError: number; parseMs: number };
  pre: { filesWithError: number; functions: number; functionsWithError: number; preprocessMs: number; parseMs: number };
  oracle: { functions: number; matched: number; extra: number; macroInvocations: number };
  wrong: { total: number; rate: number; byKind: Record<WrongKind, number> };
  worst: { pattern: string; count: number; example: string }[];
  /** ERROR/MISSING nodes outside every function (declarations, initializers, macro soup): not judged, listed. */
  outside: { errors: number; worst: { pattern: string; count: number; example: string }[] };
  wrongExamples: { file: string; line: number; name: string; kind: WrongKind; detail: string }[];
}

export interface MeasureOptions {
  tree: string;
  groups: { name: string; dirs: string[] }[];
  raw: boolean;
  worst: number;
  showWrong: number;
  /** Files larger than this are skipped (reported). */
  maxBytes?: number;
}

interface Tag {
  name: string;
  line: number;
  end?: number;
  pattern: string;
}

function listSources(root: string, dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(root, rel);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(abs).sort()) walk(path.join(rel, e));
    } else if (/\.[ch]$/.test(rel)) out.push(rel);
  };
  for (const d of dirs) walk(d);
  return out;
}

function runCtags(root: string, dirs: string[]): Map<string, Tag[]> {
  const args = ['--output-format=json', '--fields=+ne', '--kinds-C=f', '--languages=C', '--langmap=C:.c.h', '-R', '-f', '-', ...dirs];
  let out: string;
  try {
    out = execFileSync('ctags', args, { cwd: root, maxBuffer: 1 << 30, encoding: 'utf8' });
  } catch (e) {
    throw new Error(`universal-ctags failed (${e instanceof Error ? e.message.split('\n')[0] : e}); install it with: apt-get install -y universal-ctags`);
  }
  const byFile = new Map<string, Tag[]>();
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const t = JSON.parse(line) as { _type: string; name: string; path: string; line: number; end?: number; pattern?: string; kind?: string };
    if (t._type !== 'tag' || t.kind !== 'function') continue;
    let list = byFile.get(t.path);
    if (!list) byFile.set(t.path, (list = []));
    list.push({ name: t.name, line: t.line, end: t.end, pattern: t.pattern ?? '' });
  }
  return byFile;
}

/**
 * The names we accept for the function of an oracle tag. ctags names a function defined through a macro head
 * after the macro (`SYSCALL_DEFINE3(open, …)` → "SYSCALL_DEFINE3", `static CLOSURE_CALLBACK(foo)` →
 * "CLOSURE_CALLBACK"): we expect `sys_open` for syscalls and, for other all-caps macro heads, the first argument.
 */
function expectedNames(tag: Tag): string[] {
  const line = tag.pattern.replace(/^\/\^|\$?\/$/g, '');
  const sys = SYSCALL_MACROS.find((x) => x.pattern.test(tag.name));
  if (sys) {
    const m = new RegExp(`\\b${tag.name}\\s*\\(\\s*(\\w+)`).exec(line);
    return [m ? sys.prefix + m[1] : tag.name];
  }
  if (ANNOTATION_MACROS[tag.name] || ANNOTATION_MACROS[`${tag.name}__`]) {
    // ctags took an attribute macro it does not know (`bool __init __attribute((weak)) f(…)`) for the name.
    return [tag.name, '*'];
  }
  if (/^[A-Z_][A-Z0-9_]*$/.test(tag.name)) {
    const m = new RegExp(`\\b${tag.name}\\s*\\(\\s*(\\w+)`).exec(line);
    if (m) return [tag.name, m[1]];
  }
  return [tag.name];
}

function rawSourceFile(parser: Parser, text: string): SourceFile {
  const tree = parser.parse(text)!;
  return {
    text, parsedText: text, tree, rewrites: [], lineIndex: new LineIndex(text), hasErrors: tree.rootNode.hasError,
    problems: [], dispose: () => tree.delete(),
  };
}

function snippet(s: string, max = 48): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? one.slice(0, max) + '…' : one;
}

/** A short key naming what broke: the macro or construct around the first structural error. */
function patternOf(n: Node): string {
  if (n.isMissing) {
    const prev = n.previousSibling ?? n.parent?.previousSibling;
    const callee = prev ? calleeName(prev) : undefined;
    return `MISSING '${n.type}' after ${callee ? callee + '(…)' : snippet(prev?.text ?? '?', 24)}`;
  }
  const first = /[A-Za-z_]\w*\s*\(?|\S+/.exec(n.text)?.[0]?.replace(/\s+/g, '') ?? '?';
  const before = n.previousSibling;
  const prevWord = before ? /(\w+)\W*$/.exec(before.text)?.[1] : undefined;
  return `ERROR at '${snippet(first, 30)}'${prevWord ? ` after '${prevWord}'` : ''}`;
}

function calleeName(n: Node): string | undefined {
  let c: Node | null = n;
  while (c && c.type === 'expression_statement') c = c.namedChild(0);
  if (c && c.type === 'call_expression') return c.childForFieldName('function')?.text;
  return undefined;
}

function firstErrorIn(node: Node): Node | undefined {
  if (!node.hasError) return undefined;
  let found: Node | undefined;
  const visit = (n: Node): void => {
    if (found || !n.hasError) return;
    if (n.isError || n.isMissing) {
      found = n;
      return;
    }
    for (const c of n.children) if (c) visit(c);
  };
  visit(node);
  return found;
}

export async function measure(opts: MeasureOptions): Promise<GroupReport[]> {
  const parser = await initParser();
  const reports: GroupReport[] = [];
  for (const group of opts.groups) {
    const files = listSources(opts.tree, group.dirs);
    const tags = runCtags(opts.tree, group.dirs);
    const report: GroupReport = {
      name: group.name,
      dirs: group.dirs,
      files: files.length,
      skippedFiles: [],
      pre: { filesWithError: 0, functions: 0, functionsWithError: 0, preprocessMs: 0, parseMs: 0 },
      oracle: { functions: 0, matched: 0, extra: 0, macroInvocations: 0 },
      wrong: { total: 0, rate: 0, byKind: { missed: 0, misnamed: 0, extent: 0, 'broken-cfg': 0 } },
      worst: [],
      outside: { errors: 0, worst: [] },
      wrongExamples: [],
    };
    const outside = new Map<string, { count: number; example: string }>();
    if (opts.raw) report.raw = { filesWithError: 0, functions: 0, functionsWithError: 0, parseMs: 0 };
    const patterns = new Map<string, { count: number; example: string }>();
    const bump = (key: string, where: string): void => {
      const p = patterns.get(key);
      if (p) p.count++;
      else patterns.set(key, { count: 1, example: where });
    };

    for (const rel of files) {
      const bytes = fs.readFileSync(path.join(opts.tree, rel));
      const decoded = decodeSource(bytes, { maxBytes: opts.maxBytes ?? 8 * 1024 * 1024 });
      if (decoded.text === undefined) {
        report.skippedFiles.push({ file: rel, problem: decoded.problem ?? '?' });
        continue;
      }
      const text = decoded.text;

      if (report.raw) {
        const t0 = performance.now();
        const raw = rawSourceFile(parser, text);
        report.raw.parseMs += performance.now() - t0;
        if (raw.hasErrors) report.raw.filesWithError++;
        for (const fn of listFunctions(raw)) {
          report.raw.functions++;
          if (fn.hasError) report.raw.functionsWithError++;
        }
        raw.dispose();
      }

      const file = parseSource(parser, text, undefined, { timings: report.pre });
      const tree = file.tree;
      if (file.hasErrors) report.pre.filesWithError++;
      const fns = listFunctions(file);
      report.pre.functions += fns.length;
      const byNameLine = new Map<string, FunctionInfo>();
      const byLine = new Map<number, FunctionInfo>();
      for (const fn of fns) {
        if (fn.hasError) report.pre.functionsWithError++;
        const line = fn.nameNode ? file.lineIndex.lineOf(fn.nameNode.startIndex) + 1 : -1;
        byNameLine.set(`${fn.name}@${line}`, fn);
        if (!byLine.has(line)) byLine.set(line, fn);
      }

      const fileTags = tags.get(rel) ?? [];
      const seen = new Set<FunctionInfo>();
      for (const tag of fileTags) {
        const where = `${rel}:${tag.line}`;
        const tagAt = file.lineIndex.lineStart(tag.line - 1);
        const covering = rewriteAt(file.rewrites, tagAt) ?? rewriteAt(file.rewrites, tagAt + (/^\s*/.exec(file.text.slice(tagAt, tagAt + 200))?.[0].length ?? 0));
        if (covering && covering.kind === 'define') {
          // ctags reports a top-level macro invocation (`STRTO_H(strtoint, int)`, INTERVAL_TREE_DEFINE(…)) as a
          // function: there is no function definition in the source text; we blank it as a 'define'.
          report.oracle.macroInvocations++;
          continue;
        }
        report.oracle.functions++;
        const names = expectedNames(tag);
        const want = names.filter((x) => x !== '*').pop() ?? tag.name;
        let fn: FunctionInfo | undefined;
        for (const nm of names) fn ??= nm === '*' ? byLine.get(tag.line) : byNameLine.get(`${nm}@${tag.line}`);
        let kind: WrongKind | undefined;
        let detail = '';
        if (!fn) {
          const other = byLine.get(tag.line);
          if (other) {
            kind = 'misnamed';
            detail = `named '${other.name}'`;
            bump(`misnamed: ${snippet(tag.pattern.replace(/^\/\^|\$?\/$/g, ''), 40)}`, where);
          } else {
            kind = 'missed';
            const at = file.lineIndex.lineStart(tag.line - 1);
            let n: Node | null = tree.rootNode.descendantForIndex(at, at);
            while (n && !n.isError && n.parent) n = n.parent;
            const err = n && n.isError ? n : firstErrorIn(tree.rootNode);
            detail = err ? patternOf(err) : 'no error node';
            bump(`missed: ${detail}`, where);
          }
        } else {
          seen.add(fn);
          report.oracle.matched++;
          const endLine = file.lineIndex.lineOf(Math.max(fn.body.startIndex, fn.body.endIndex - 1)) + 1;
          const broken = structuralErrors(fn.body);
          if (tag.end !== undefined && endLine !== tag.end) {
            kind = 'extent';
            const err = broken[0] ?? firstErrorIn(fn.node);
            detail = `ends at ${endLine}, oracle ${tag.end}${err ? '; ' + patternOf(err) : ''}`;
            bump(`extent: ${err ? patternOf(err) : 'no error node'}`, where);
          } else if (broken.length > 0) {
            kind = 'broken-cfg';
            detail = patternOf(broken[0]);
            bump(detail, `${rel}:${file.lineIndex.lineOf(broken[0].startIndex) + 1}`);
          }
        }
        if (kind) {
          report.wrong.total++;
          report.wrong.byKind[kind]++;
          if (report.wrongExamples.length < opts.showWrong) report.wrongExamples.push({ file: rel, line: tag.line, name: want, kind, detail });
        }
      }
      for (const fn of fns) if (!seen.has(fn)) report.oracle.extra++;
      if (file.hasErrors) {
        const ranges = fns.map((f) => [f.start, f.end] as const);
        for (const e of firstErrorsOutside(tree.rootNode, ranges)) {
          report.outside.errors++;
          const key = patternOf(e);
          const o = outside.get(key);
          if (o) o.count++;
          else outside.set(key, { count: 1, example: `${rel}:${file.lineIndex.lineOf(e.startIndex) + 1}` });
        }
      }
      file.dispose();
    }
    report.wrong.rate = report.oracle.functions === 0 ? 0 : report.wrong.total / report.oracle.functions;
    report.worst = [...patterns.entries()]
      .sort((a, b) => b[1].count - a[1].count)
      .slice(0, opts.worst)
      .map(([pattern, v]) => ({ pattern, count: v.count, example: v.example }));
    report.outside.worst = [...outside.entries()]
      .sort((a, b) => b[1].count - a[1].count)
      .slice(0, Math.min(opts.worst, 10))
      .map(([pattern, v]) => ({ pattern, count: v.count, example: v.example }));
    reports.push(report);
  }
  return reports;
}

/** Outermost ERROR/MISSING nodes that lie outside all the given function ranges. */
function firstErrorsOutside(root: Node, fnRanges: readonly (readonly [number, number])[]): Node[] {
  const out: Node[] = [];
  const inside = (n: Node): boolean => fnRanges.some(([a, b]) => a <= n.startIndex && n.endIndex <= b);
  const visit = (n: Node): void => {
    if (!n.hasError && !n.isMissing) return;
    if (n.isError || n.isMissing) {
      if (!inside(n)) out.push(n);
      return;
    }
    if (n.type === 'function_definition') return;
    for (const c of n.children) if (c) visit(c);
  };
  visit(root);
  return out;
}

export interface IncrementalReport {
  files: number;
  fullMs: number;
  incrementalMs: number;
  sameTree: number;
}

/** Full preprocess+parse vs. parseSource(…, previous) after a one-character edit in a function body. */
export async function measureIncremental(tree: string, dirs: string[], count: number): Promise<IncrementalReport> {
  const parser = await initParser();
  const files = listSources(tree, dirs)
    .map((rel) => ({ rel, size: fs.statSync(path.join(tree, rel)).size }))
    .sort((a, b) => b.size - a.size)
    .slice(0, count);
  const r: IncrementalReport = { files: 0, fullMs: 0, incrementalMs: 0, sameTree: 0 };
  for (const { rel } of files) {
    const text = decodeSource(fs.readFileSync(path.join(tree, rel)), { maxBytes: 8 << 20 }).text;
    if (text === undefined) continue;
    const base = parseSource(parser, text);
    const fns = listFunctions(base);
    const fn = fns[Math.floor(fns.length / 2)];
    if (!fn) {
      base.dispose();
      continue;
    }
    const at = fn.body.startIndex + 1;
    const edited = text.slice(0, at) + '\n\t(void)0;' + text.slice(at);
    const t0 = performance.now();
    const full = parseSource(parser, edited);
    const t1 = performance.now();
    const inc = parseSource(parser, edited, base);
    const t2 = performance.now();
    r.files++;
    r.fullMs += t1 - t0;
    r.incrementalMs += t2 - t1;
    if (full.tree.rootNode.toString() === inc.tree.rootNode.toString()) r.sameTree++;
    full.dispose();
    inc.dispose();
    base.dispose();
  }
  return r;
}

function pct(n: number, d: number): string {
  return d === 0 ? '  n/a' : `${((100 * n) / d).toFixed(2)}%`;
}

function printReport(r: GroupReport): void {
  const w = (s: string | number, n = 12): string => String(s).padStart(n);
  console.log(`\n== ${r.name} (${r.dirs.join(' ')}): ${r.files} files${r.skippedFiles.length ? `, ${r.skippedFiles.length} skipped` : ''}`);
  console.log(`${''.padEnd(34)}${w('raw')}${w('preprocessed')}`);
  const raw = r.raw;
  console.log(`${'files with ERROR/MISSING'.padEnd(34)}${w(raw ? pct(raw.filesWithError, r.files) : '-')}${w(pct(r.pre.filesWithError, r.files))}`);
  console.log(`${'functions with ERROR/MISSING'.padEnd(34)}${w(raw ? pct(raw.functionsWithError, raw.functions) : '-')}${w(pct(r.pre.functionsWithError, r.pre.functions))}`);
  console.log(`${'functions found'.padEnd(34)}${w(raw ? raw.functions : '-')}${w(r.pre.functions)}`);
  console.log(`${'time (ms)'.padEnd(34)}${w(raw ? raw.parseMs.toFixed(0) + ' parse' : '-')}${w(`${r.pre.preprocessMs.toFixed(0)}+${r.pre.parseMs.toFixed(0)}`)}   (preprocess+parse)`);
  console.log(`oracle (universal-ctags): ${r.oracle.functions} functions, ${r.oracle.matched} matched by name and line, ${r.oracle.extra} extra of ours` +
    ` (${r.oracle.macroInvocations} ctags "functions" that are top-level macro invocations, not counted)`);
  const k = r.wrong.byKind;
  console.log(`WRONG STRUCTURE: ${r.wrong.total} / ${r.oracle.functions} = ${pct(r.wrong.total, r.oracle.functions)}` +
    `  (missed ${k.missed}, misnamed ${k.misnamed}, extent ${k.extent}, broken-cfg ${k['broken-cfg']})`);
  if (r.worst.length) {
    console.log(`worst patterns:`);
    for (const p of r.worst) console.log(`  ${String(p.count).padStart(5)}  ${p.pattern.padEnd(70)} e.g. ${p.example}`);
  }
  if (r.outside.worst.length) {
    console.log(`errors outside functions: ${r.outside.errors} (not judged; top patterns):`);
    for (const p of r.outside.worst) console.log(`  ${String(p.count).padStart(5)}  ${p.pattern.padEnd(70)} e.g. ${p.example}`);
  }
  if (r.wrongExamples.length) {
    console.log(`wrong functions (first ${r.wrongExamples.length}):`);
    for (const e of r.wrongExamples) console.log(`  ${e.file}:${e.line} ${e.name} [${e.kind}] ${e.detail}`);
  }
  for (const s of r.skippedFiles.slice(0, 5)) console.log(`  skipped ${s.file}: ${s.problem}`);
}

async function main(argv: string[]): Promise<number> {
  let tree = '.cache/kernel/6.12';
  let json = false;
  let raw = true;
  let worst = 20;
  let showWrong = 0;
  let incremental = true;
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--tree') tree = argv[++i];
    else if (a === '--json') json = true;
    else if (a === '--no-raw') raw = false;
    else if (a === '--no-incremental') incremental = false;
    else if (a === '--worst') worst = Number(argv[++i]);
    else if (a === '--show-wrong') showWrong = Number(argv[++i]);
    else if (a.startsWith('-')) {
      console.error(`parse-quality: unknown option ${a}`);
      return 64;
    } else dirs.push(a.replace(/\/+$/, ''));
  }
  if (!fs.existsSync(path.join(tree, 'fs')) && dirs.length === 0) {
    console.error(`parse-quality: no kernel tree at ${tree}; run scripts/extract-kernel.sh`);
    return 2;
  }
  const groups = dirs.length ? [{ name: dirs.join('+'), dirs }] : [{ name: 'fs+mm', dirs: ['fs', 'mm'] }, { name: 'include/linux', dirs: ['include/linux'] }];
  const reports = await measure({ tree, groups, raw, worst, showWrong });
  const inc = incremental ? await measureIncremental(tree, groups[0].dirs, 20) : undefined;
  if (json) {
    console.log(JSON.stringify({ tree, groups: reports, incremental: inc }, null, 2));
  } else {
    for (const r of reports) printReport(r);
    if (inc) {
      console.log(`\n== incremental: ${inc.files} largest files, one-line insert in a body: full ${(inc.fullMs / inc.files).toFixed(1)} ms/file,` +
        ` incremental ${(inc.incrementalMs / inc.files).toFixed(1)} ms/file, identical trees ${inc.sameTree}/${inc.files}`);
    }
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    console.error(`parse-quality: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  });
}
