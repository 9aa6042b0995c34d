// The corpus property test of issue #6, as a script: for every GFP_NOFS / GFP_NOIO allocation in fs/ of linux 6.1
// (.cache/kernel/6.1, scripts/extract-kernel.sh) that the analysis classifies as fixable (a finding of a code with a
// quick fix on its gfp argument), build the fix, verify it (ide/fixes/verify.ts), and for every fix that passes,
// check the invariants again independently: the fixed text is analysed from scratch through AnalysisHost (a fresh
// parse, no offset mapping) and compared by counts per function: no more syntax errors, the target code's count in
// the function drops, no code's count grows except refactoring and hint follow-ups, no scope-unbalanced warning in the
// function, every allocation site is still there with the same number of sites per effective mask class allowed by
// the fix's intent (unchanged, or changed only at the sites the fix rewrote or covered).
// Prints: sites, fixable, offered (verified), independent check passed, not offered with reasons grouped.
//
//   node --import tsx scripts/fix-corpus.ts [DIR under the tree, default fs] [--tree .cache/kernel/6.1] [--json OUT]
//     [--newer .cache/kernel/6.12]   also compare with what kernel developers did by 6.12 at the same sites
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OFF_BY_DEFAULT } from '../server/src/analysis/checks';
import type { FileFacts } from '../server/src/analysis/facts';
import { createKbProvider } from '../server/src/analysis/kbView';
import { AnalysisHost } from '../server/src/ide/host';
import { applyEdits, codeFixes, createAnalyser } from '../server/src/ide/fixes';
import { initParser } from '../server/src/syntax/parser';
import { syntaxErrors } from '../server/src/syntax/ast';

const NOFS_CODES = ['nofs-redundant', 'nofs-scope-candidate', 'nofs-unnecessary', 'gfp-or-ineffective'];

export interface CorpusResult {
  files: number;
  sites: number;
  fixable: number;
  offered: number;
  /** offered fixes that fix-all and check --fix would apply without a choice */
  fixAll: number;
  passed: number;
  failed: { file: string; line: number; code: string; why: string }[];
  notOffered: Record<string, number>;
  perCode: Record<string, { fixable: number; offered: number }>;
  /**
   * What kernel developers did by the newer tree (6.12) at the same allocation (same file, function, allocator and
   * ordinal among that allocator's calls in the function), for the sites whose function still exists there.
   */
  agreement?: {
    /** sites found in the newer tree */
    matched: number;
    /** the developers turned GFP_NOFS/GFP_NOIO into a mask without the restriction */
    changed: number;
    /** …into GFP_KERNEL (plus flag bits), not GFP_ATOMIC or a caller's mask */
    changedToKernel: number;
    /** …of which we offered a fix that writes GFP_KERNEL there too */
    changedOffered: number;
    /** …of which fix-all (check --fix) would apply ours */
    changedFixAll: number;
    /** …of which the developers also put a memalloc scope in the function, like our scope fix */
    changedWithScope: number;
    /** …of which our offered fix was the scope fix */
    changedOfferedScope: number;
    /** the developers kept the restricted mask */
    kept: number;
    /** …where we offered to remove it (our fix goes further than they did) */
    keptOffered: number;
    /** …of which fix-all (check --fix) would apply ours */
    keptFixAll: number;
    examples: { file: string; fn: string; ours: string; theirs: string }[];
  };
  ms: number;
}

function walk(dir: string, out: string[]) {
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) walk(p, out);
    else if (d.isFile() && d.name.endsWith('.c')) out.push(p);
  }
}

/** Groups refusal reasons: numbers, names and quoted code replaced, so that similar reasons count together. */
function reasonClass(r: string): string {
  return r
    .replace(/line \d+/g, 'line N')
    .replace(/&?[A-Za-z_][\w>.-]*\(\)/g, 'f()')
    .replace(/&[A-Za-z_][\w>.-]*/g, 'LOCK')
    .replace(/\d+/g, 'N')
    .replace(/: .*$/, '')
    .slice(0, 110);
}

export async function runCorpus(tree: string, sub: string, version = '6.1', log: (s: string) => void = () => undefined, newer?: { tree: string; version: string }): Promise<CorpusResult> {
  const t0 = performance.now();
  const parser = await initParser();
  const kb = createKbProvider();
  const an = createAnalyser(parser, kb.view, version);
  const host = new AnalysisHost(parser, kb.view);
  const files: string[] = [];
  walk(path.join(tree, sub), files);
  files.sort();
  const res: CorpusResult = { files: 0, sites: 0, fixable: 0, offered: 0, fixAll: 0, passed: 0, failed: [], notOffered: {}, perCode: {}, ms: 0 };
  for (const abs of files) {
    const text = fs.readFileSync(abs, 'utf8');
    if (!/\bGFP_NO(FS|IO)\b/.test(text)) continue;
    res.files++;
    const rel = path.relative(tree, abs);
    const before = host.analyse(text, { kernelVersion: version, disabledChecks: [] });
    const lineOf = (o: number) => text.slice(0, o).split('\n').length;
    // The GFP_NOFS / GFP_NOIO sites and the fixable findings on their gfp argument.
    const targets = new Set<number>();
    for (const fn of before.facts.functions) {
      for (const s of fn.sites) {
        if (!s.gfpArg || !/\bGFP_NO(FS|IO)\b/.test(s.literalText)) continue;
        res.sites++;
        const f = fn.findings.find((x) => NOFS_CODES.includes(x.code) && x.span.start === s.gfpArg!.start);
        if (f) targets.add(f.span.start);
      }
    }
    if (!targets.size) continue;
    const r = codeFixes(an, text, { codes: NOFS_CODES });
    if (newer) compareWithNewer(res, host, newer, rel, before.facts, r.fixes);
    for (const f of r.findings) {
      if (!targets.has(f.span.start)) continue;
      res.fixable++;
      const pc = (res.perCode[f.code] ??= { fixable: 0, offered: 0 });
      pc.fixable++;
      const fix = r.fixes.find((x) => x.target.span.start === f.span.start && x.code === f.code);
      if (!fix) {
        const why = r.refused.find((x) => x.target.span.start === f.span.start && x.code === f.code)?.reason ?? 'no candidate';
        const k = `${f.code}: ${reasonClass(why)}`;
        res.notOffered[k] = (res.notOffered[k] ?? 0) + 1;
        continue;
      }
      res.offered++;
      pc.offered++;
      if (fix.fixAll) res.fixAll++;
      const problem = independentCheck(host, version, text, before.facts, applyEdits(text, fix.edits), f.function, f.code, fix.kind, parser);
      if (problem) res.failed.push({ file: rel, line: lineOf(f.span.start), code: f.code, why: problem });
      else res.passed++;
    }
    log(`${rel}: ${res.fixable} fixable, ${res.offered} offered so far`);
  }
  res.ms = performance.now() - t0;
  return res;
}

const RESTRICTED = /\bGFP_NO(FS|IO)\b/;

/** For each GFP_NOFS/GFP_NOIO site of the file: did the developers drop the restriction by the newer tree, and did we? */
function compareWithNewer(res: CorpusResult, host: AnalysisHost, newer: { tree: string; version: string }, rel: string, facts: FileFacts, fixes: { target: { span: { start: number } }; kind: string; fixAll: boolean; edits: { start: number; end: number; newText: string }[] }[]) {
  const abs = path.join(newer.tree, rel);
  if (!fs.existsSync(abs)) return;
  const a = (res.agreement ??= { matched: 0, changed: 0, changedToKernel: 0, changedOffered: 0, changedFixAll: 0, changedWithScope: 0, changedOfferedScope: 0, kept: 0, keptOffered: 0, keptFixAll: 0, examples: [] });
  const text = fs.readFileSync(abs, 'utf8');
  const later = host.analyse(text, { kernelVersion: newer.version, disabledChecks: [] }).facts;
  const base = (api: string) => api.replace(/_noprof$/, '');
  for (const fn of facts.functions) {
    const other = later.functions.filter((f) => f.name === fn.name);
    if (other.length !== 1) continue;
    const ordinal = new Map<string, number>();
    for (const s of fn.sites) {
      const k = ordinal.get(base(s.api)) ?? 0;
      ordinal.set(base(s.api), k + 1);
      if (!s.gfpArg || !RESTRICTED.test(s.literalText)) continue;
      const theirs = other[0].sites.filter((x) => base(x.api) === base(s.api))[k];
      if (!theirs) continue;
      a.matched++;
      // Our fix at this site: the one whose edits rewrite this gfp argument.
      const ours = fixes.find((f) => f.edits.some((e) => e.start >= s.gfpArg!.start && e.end <= s.gfpArg!.end && /GFP_KERNEL/.test(e.newText)));
      const fnText = text.slice(other[0].span.start, other[0].span.end);
      if (RESTRICTED.test(theirs.literalText)) {
        a.kept++;
        if (ours) a.keptOffered++;
        if (ours?.fixAll) a.keptFixAll++;
        continue;
      }
      a.changed++;
      const toKernel = /\bGFP_KERNEL\b/.test(theirs.literalText);
      const scoped = /memalloc_no(fs|io)_save\s*\(/.test(fnText) || theirs.paths.some((p) => p.scopes.length > 0);
      if (toKernel) {
        a.changedToKernel++;
        if (scoped) a.changedWithScope++;
        if (ours) {
          a.changedOffered++;
          if (ours.fixAll) a.changedFixAll++;
          if (ours.kind === 'scope-candidate') a.changedOfferedScope++;
        }
      }
      if (a.examples.length < 40) a.examples.push({ file: rel, fn: fn.name, ours: ours ? ours.kind : '(none)', theirs: `${theirs.literalText.replace(/\s+/g, ' ')}${scoped ? ' + scope' : ''}` });
    }
  }
}

/** Counts per function after a fresh analysis of the fixed text; undefined when the invariants hold. */
function independentCheck(host: AnalysisHost, version: string, text: string, before: FileFacts, fixed: string, fn: string, code: string, kind: string, parser: Awaited<ReturnType<typeof initParser>>): string | undefined {
  const after = host.analyse(fixed, { kernelVersion: version, disabledChecks: [] });
  const errs = (t: string) => {
    const tree = parser.parse(t)!;
    try {
      return syntaxErrors(tree.rootNode, 1_000_000).length;
    } finally {
      tree.delete();
    }
  };
  if (errs(fixed) > errs(text)) return 'more syntax errors';
  if (after.facts.functions.length !== before.functions.length) return 'function count changed';
  const count = (facts: FileFacts, name: string) => {
    const c = new Map<string, number>();
    for (const f of facts.functions) if (f.name === name) for (const x of f.findings) c.set(x.code, (c.get(x.code) ?? 0) + 1);
    return c;
  };
  const b = count(before, fn);
  const a = count(after.facts, fn);
  if ((a.get(code) ?? 0) >= (b.get(code) ?? 0)) return `${code} not removed`;
  // Refactoring suggestions and hints may follow a fix (vmalloc-nofs after 5.17: "prefer the scope API"); nothing else.
  const hintsOnly = (c: string) => after.facts.functions.filter((f) => f.name === fn).every((f) => f.findings.every((x) => x.code !== c || x.severity === 'hint'));
  for (const [c, n] of a) if (n > (b.get(c) ?? 0) && !OFF_BY_DEFAULT.includes(c) && !hintsOnly(c)) return `${c} appeared (${b.get(c) ?? 0} → ${n})`;
  const fa = after.facts.functions.find((f) => f.name === fn);
  if (fa?.findings.some((x) => x.code === 'scope-unbalanced' && x.severity !== 'information')) return 'scope-unbalanced in the function';
  // Sites: the same number in every function; in other functions the same masks.
  for (let i = 0; i < before.functions.length; i++) {
    const fb = before.functions[i];
    const fa2 = after.facts.functions[i];
    if (fb.sites.length !== fa2.sites.length) return `${fb.name}(): ${fb.sites.length} → ${fa2.sites.length} allocation sites`;
    if (fb.name === fn) continue;
    const eff = (f: typeof fb) => f.sites.map((s) => s.paths.map((p) => `${p.effective.sym ?? ''}/${p.effective.set}`).sort().join(',')).join(';');
    if (eff(fb) !== eff(fa2)) return `${fb.name}(): masks changed outside the fixed function`;
  }
  if (kind === 'redundant-nofs') {
    const eff = (facts: FileFacts) => facts.functions.find((f) => f.name === fn)!.sites.map((s) => [...new Set(s.paths.map((p) => `${p.effective.sym ?? ''}/${p.effective.set}`))].sort().join(',')).join(';');
    if (eff(before) !== eff(after.facts)) return 'a redundant-nofs fix changed an effective mask';
  }
  return undefined;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const treeAt = args.indexOf('--tree');
  const tree = treeAt >= 0 ? args[treeAt + 1] : path.join(__dirname, '..', '.cache', 'kernel', '6.1');
  const jsonAt = args.indexOf('--json');
  const sub = args.find((a, i) => !a.startsWith('--') && !['--tree', '--json', '--newer'].includes(args[i - 1])) ?? 'fs';
  const newerAt = args.indexOf('--newer');
  const newer = newerAt >= 0 ? { tree: args[newerAt + 1], version: '6.12' } : undefined;
  runCorpus(tree, sub, '6.1', (s) => process.stderr.write(`\r\x1b[K${s}`), newer).then((r) => {
    process.stderr.write('\r\x1b[K');
    console.log(`${sub} of ${tree}: ${r.files} files with GFP_NOFS/GFP_NOIO, ${r.sites} such allocation sites`);
    console.log(`fixable (a finding of ${NOFS_CODES.join(', ')} on the gfp argument): ${r.fixable}`);
    for (const [c, v] of Object.entries(r.perCode)) console.log(`  ${c}: ${v.fixable} fixable, ${v.offered} offered`);
    console.log(`offered (verified): ${r.offered}, of which fix-all would apply ${r.fixAll}; independent re-check passed: ${r.passed}, failed: ${r.failed.length}`);
    for (const f of r.failed) console.log(`  FAILED ${f.file}:${f.line} [${f.code}] ${f.why}`);
    console.log('not offered, by reason:');
    for (const [k, n] of Object.entries(r.notOffered).sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(4)}  ${k}`);
    const a = r.agreement;
    if (a) {
      console.log(`against ${newer!.tree}: ${a.matched} GFP_NOFS/GFP_NOIO sites found again in the same function`);
      console.log(`  developers dropped the restriction at ${a.changed}, to GFP_KERNEL at ${a.changedToKernel} (${a.changedWithScope} with a memalloc scope in the function);`
        + ` we offer GFP_KERNEL at ${a.changedOffered} of those ${a.changedToKernel} (${a.changedOfferedScope} through the scope fix; fix-all would apply ${a.changedFixAll})`);
      console.log(`  developers kept GFP_NOFS/GFP_NOIO at ${a.kept}; we offer to drop it at ${a.keptOffered} of those (fix-all would apply ${a.keptFixAll})`);
      for (const e of a.examples) console.log(`  ${e.file} ${e.fn}(): theirs ${e.theirs}; ours ${e.ours}`);
    }
    console.log(`${(r.ms / 1000).toFixed(1)} s`);
    if (jsonAt >= 0) fs.writeFileSync(args[jsonAt + 1], JSON.stringify(r, null, 2));
    process.exitCode = r.failed.length ? 1 : 0;
  });
}
