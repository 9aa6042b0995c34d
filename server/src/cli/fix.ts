// `reclaim-lens check --fix [CODE,...]`: applies the verified fixes (ide/fixes) of the named codes (every code
// fix-all may apply when none is named) to the files on disk, and prints what it changed and what it did not fix,
// with the reason. A file is written only when its bytes are still those that were analysed, through a temporary
// file in the same directory renamed over it (never half-written); a file that changed meanwhile is refused.
// nofs-unnecessary asks the whole program's calling contexts (a caller holding a lock or a scope blocks the fix).
// The whole-program deadlock codes (reclaim-deadlock, reclaim-frozen-queue) are fixed only when named: their findings
// come from the run's deadlock pass (only those the run reports, after --min-severity), handed to
// the fixes as FixRequest.extra like the language server's; the files that hold them are read again and fixed only if
// their text is still the one that was analysed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OFF_BY_DEFAULT, CHECKS } from '../analysis/checks';
import type { DeadlockFinding } from '../analysis/deadlock';
import { findingId } from '../ide/findingModel';
import type { FileFacts, FunctionFacts } from '../analysis/facts';
import type { Contexts, Program } from '../analysis/interproc';
import type { KbView } from '../analysis/kbView';
import { positionOf } from '../analysis/lines';
import { createAnalyser, deadlockTargetOf, fileCallers, FIX_ALL_CODES, FIXABLE_CODES, fixAll, PROGRAM_FIXABLE_CODES, type CallerOracle, type DeadlockTarget } from '../ide/fixes';
import { hashBytes } from '../index/cache';
import { initParser } from '../syntax/parser';
import { decodeSource } from '../syntax/sourceFile';
import { findingsOf, renderFindingsText, renderSarif, type JsonFinding } from './output';

export interface FixOption {
  codes: readonly string[];
}

/** Every code `--fix` accepts: the per-function fixable codes and the whole-program ones (named only). */
const FIX_CODES: readonly string[] = [...FIXABLE_CODES, ...PROGRAM_FIXABLE_CODES];

/**
 * Takes `--fix`, `--fix CODE[,CODE…]` or `--fix=CODE[,…]` out of the arguments (node's parseArgs has no optional
 * option values). The word after `--fix` is read as codes only when it looks like a list of check codes.
 */
export function takeFixOption(args: readonly string[]): { args: string[]; fix?: FixOption; error?: string } {
  const out: string[] = [];
  let fix: FixOption | undefined;
  const known = new Set([...CHECKS.map((c) => c.code), ...PROGRAM_FIXABLE_CODES]);
  const parse = (list: string): FixOption | string => {
    const codes = list.split(',').map((c) => c.trim()).filter(Boolean);
    const bad = codes.filter((c) => !FIX_CODES.includes(c));
    if (bad.length) return `--fix: ${bad.map((b) => `'${b}'`).join(', ')} ${bad.length === 1 ? 'has' : 'have'} no fixes (fixable: ${FIX_CODES.join(', ')})`;
    return { codes };
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (a.startsWith('--fix=')) {
      const r = parse(a.slice(6));
      if (typeof r === 'string') return { args: out, error: r };
      fix = r;
      continue;
    }
    if (a !== '--fix') {
      out.push(a);
      continue;
    }
    const next = args[i + 1];
    if (next !== undefined && /^[a-z0-9-]+(,[a-z0-9-]+)*$/.test(next) && (next.includes(',') || known.has(next))) {
      const r = parse(next);
      if (typeof r === 'string') return { args: out, error: r };
      fix = r;
      i++;
    } else fix = { codes: FIX_ALL_CODES };
  }
  return { args: out, fix };
}

interface Kept {
  abs: string;
  rel: string;
  text: string;
}

/** A file kept for the whole-program fixes: where it is and the digest of the text that was analysed. */
interface Seen {
  abs: string;
  digest: string;
}

const digestOf = (text: string) => hashBytes(Buffer.from(text));

export interface FixFinish {
  stdout(s: string): void;
  stderr(s: string): void;
  /** the findings of the run (per-function and cross-function), in output order; replaced for fixed files */
  findings: JsonFinding[];
  /** the deadlock pass's findings of the run (needed when a whole-program code is to be fixed) */
  deadlocks?: readonly DeadlockFinding[];
  format: string;
  kernelVersion: string;
  kbFor: (version: string) => KbView;
  program?: Program;
  contexts?: Contexts;
  ioError: boolean;
  version: string;
  helpBase: string;
}

export interface JsonFix {
  file: string;
  line: number;
  column: number;
  code: string;
  function: string;
  applied: boolean;
  /** applied: what the fix did; not applied: why not */
  message: string;
}

export class FixSession {
  private readonly kept: Kept[] = [];
  private readonly seen = new Map<string, Seen>();
  private readonly programCodes: readonly string[];
  constructor(readonly option: FixOption) {
    this.programCodes = option.codes.filter((c) => PROGRAM_FIXABLE_CODES.includes(c));
  }

  /**
   * Keeps the text of a file that has findings of the codes to fix (called for every analysed file); with a
   * whole-program code named, where every file is and the digest of its text (which files hold its findings is known
   * only after the whole-program pass).
   */
  collect(abs: string, rel: string, text: string, facts: FileFacts): void {
    if (facts.functions.some((f) => f.findings.some((x) => this.option.codes.includes(x.code)))) this.kept.push({ abs, rel, text });
    if (this.programCodes.length) this.seen.set(rel, { abs, digest: digestOf(text) });
  }

  /**
   * The whole-program findings of the named codes that the run reports (after --min-severity), as fix targets per
   * file, each with its id in the output; and the files to read again for them.
   */
  private programTargets(o: FixFinish): Map<string, (DeadlockTarget & { id: string })[]> {
    const out = new Map<string, (DeadlockTarget & { id: string })[]>();
    if (!this.programCodes.length || !o.deadlocks) return out;
    const shown = new Set(o.findings.filter((f) => this.programCodes.includes(f.code)).map((f) => f.id));
    if (!shown.size) return out;
    for (const f of o.deadlocks) {
      const id = findingId(f);
      if (!shown.has(id)) continue;
      const list = out.get(f.file) ?? [];
      list.push({ ...deadlockTargetOf(f), id });
      out.set(f.file, list);
    }
    return out;
  }

  async finish(o: FixFinish): Promise<number> {
    const parser = await initParser();
    const analyser = createAnalyser(parser, o.kbFor, o.kernelVersion);
    const include = this.option.codes.filter((c) => OFF_BY_DEFAULT.includes(c));
    const perFunction = new Set(CHECKS.map((c) => c.code));
    const fixes: JsonFix[] = [];
    let ioError = o.ioError;
    let findings = o.findings;
    // Files with whole-program findings to fix that have no per-function ones: read again, if unchanged.
    const targets = this.programTargets(o);
    const files = [...this.kept];
    for (const rel of targets.keys()) {
      if (files.some((k) => k.rel === rel)) continue;
      const seen = this.seen.get(rel);
      const text = seen ? readText(seen.abs) : undefined;
      if (!seen || text === undefined || digestOf(text) !== seen.digest) {
        o.stderr(`reclaim-lens: ${rel}: ${!seen ? 'not among the analysed files' : 'changed since it was analysed'}; not fixed\n`);
        ioError = true;
        continue;
      }
      files.push({ abs: seen.abs, rel, text });
    }
    for (const k of files) {
      const callers = programCallers(k.rel, o.program, o.contexts);
      const extra = targets.get(k.rel) ?? [];
      const idOf = (t: unknown) => (t as { id?: string }).id;
      const r = fixAll(analyser, k.text, { codes: this.option.codes, callers, extra });
      const pos = (offset: number) => positionOf({ text: r.text }, offset);
      const fnOf = (offset: number) => r.facts.functions.find((f) => f.span.start <= offset && offset < f.span.end)?.name ?? '';
      let written = false;
      if (r.applied.length) {
        const problem = writeIfUnchanged(k.abs, k.text, r.text);
        if (problem) {
          o.stderr(`reclaim-lens: ${k.rel}: ${problem}; not fixed\n`);
          ioError = true;
        } else written = true;
      }
      if (written) {
        for (const a of r.applied) {
          const p = pos(a.at);
          // Why the fixes listed before it (a deadlock's scope) were not used.
          const over = a.passedOver.length ? ` (the fix listed before it is not offered: ${a.passedOver.map((x) => x.reason).join('; ')})` : '';
          fixes.push({ file: k.rel, line: p.line, column: p.column, code: a.fix.code, function: fnOf(a.at), applied: true, message: `${a.fix.title}${over}` });
        }
        for (const x of r.resolved) {
          const p = pos(x.at);
          fixes.push({ file: k.rel, line: p.line, column: p.column, code: x.target.code, function: x.target.function, applied: true, message: x.reason });
        }
        // Whole-program findings now fixed leave the output; those left keep their place in the fixed text.
        const gone = new Set([...r.applied.map((a) => idOf(a.fix.target)), ...r.resolved.map((x) => idOf(x.target))].filter((x): x is string => !!x));
        const left = new Map(r.refused.filter((x) => idOf(x.target)).map((x) => [idOf(x.target)!, x.at]));
        findings = findings.filter((f) => !gone.has(f.id)).map((f) => {
          const at = left.get(f.id);
          if (at === undefined) return f;
          const target = extra.find((t) => t.id === f.id)!;
          const a = pos(at);
          const b = pos(at + (target.span.end - target.span.start));
          return { ...f, line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
        });
        // The file's per-function findings now come from the fixed text.
        const fresh = findingsOf([{ rel: k.rel, text: r.text, facts: r.facts, kb: analyser.kb }], include);
        const at = findings.findIndex((f) => f.file === k.rel);
        const rest = findings.filter((f) => !(f.file === k.rel && perFunction.has(f.code)));
        const insertAt = at < 0 ? rest.length : rest.filter((_, i) => i < at).length;
        findings = [...rest.slice(0, insertAt), ...fresh, ...rest.slice(insertAt)];
      } else if (include.length && !r.applied.length) {
        // Nothing changed: the refactoring findings that were asked for, as they stand (r.facts is the text's analysis).
        const extra = findingsOf([{ rel: k.rel, text: k.text, facts: r.facts, kb: analyser.kb }], include).filter((f) => include.includes(f.code));
        const at = findings.findIndex((f) => f.file === k.rel);
        findings = at < 0 ? [...findings, ...extra] : [...findings.slice(0, at), ...extra, ...findings.slice(at)];
      }
      // What was not fixed, at positions of the text now on disk.
      const text = written ? r.text : k.text;
      for (const x of r.refused) {
        const id = idOf(x.target);
        const offset = written ? x.at : id ? extra.find((t) => t.id === id)!.span.start : x.target.span.start;
        const p = positionOf({ text }, offset);
        fixes.push({ file: k.rel, line: p.line, column: p.column, code: x.code, function: x.target.function, applied: false, message: x.reason });
      }
    }
    fixes.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.column - b.column);
    const fixLines = fixes.map((f) => `${f.file}:${f.line}:${f.column}: ${f.applied ? 'fixed' : 'not fixed'}: ${f.message} [${f.code}]`).join('\n') + (fixes.length ? '\n' : '');
    if (o.format === 'json') o.stdout(JSON.stringify({ kernelVersion: o.kernelVersion, findings, fixes }, null, 2) + '\n');
    else if (o.format === 'sarif') {
      o.stderr(fixLines);
      o.stdout(renderSarif(findings, o.version, o.helpBase));
    } else o.stdout(fixLines + renderFindingsText(findings));
    if (ioError) return 2;
    return findings.length ? 1 : 0;
  }
}

/** A file's text as the analysis decodes it; undefined when it cannot be read. */
function readText(abs: string): string | undefined {
  try {
    return decodeSource(fs.readFileSync(abs), { maxBytes: Number.MAX_SAFE_INTEGER }).text;
  } catch {
    return undefined;
  }
}

/**
 * Writes `after` over `abs` if the file still holds `before`; else says why not. Through a temporary file beside the
 * real file (a symbolic link is followed, not replaced), flushed to disk and renamed over it, so the file is either
 * the old bytes or the new ones; on any error the temporary file is removed and the file is untouched.
 */
function writeIfUnchanged(abs: string, before: string, after: string): string | undefined {
  const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);
  let target: string;
  let bytes: Buffer;
  let st: fs.Stats;
  try {
    target = fs.realpathSync(abs);
    st = fs.statSync(target);
    if (!st.isFile()) return 'no longer a regular file';
    bytes = fs.readFileSync(target);
  } catch (e) {
    return `cannot read (${code(e)})`;
  }
  const decoded = decodeSource(bytes, { maxBytes: Number.MAX_SAFE_INTEGER });
  if (decoded.text !== before) return 'changed since it was analysed';
  if (decoded.problem) return `${decoded.problem}: writing it back would change its encoding`;
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? '\ufeff' : '';
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.reclaim-lens-${process.pid}-${Math.random().toString(36).slice(2, 8)}.tmp`);
  let fd: number | undefined;
  let created = false;
  try {
    fd = fs.openSync(tmp, 'wx', 0o600);
    created = true;
    fs.fchmodSync(fd, st.mode & 0o7777);
    try {
      fs.fchownSync(fd, st.uid, st.gid);
    } catch {
      // not ours to give away: the fixed file belongs to whoever runs the fix
    }
    fs.writeFileSync(fd, bom + after);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    // The last moment to notice an edit made while the fix was being written.
    if (!fs.readFileSync(target).equals(bytes)) {
      fs.unlinkSync(tmp);
      return 'changed since it was analysed';
    }
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
    if (created) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // gone already
      }
    }
    return `cannot write (${code(e)})`;
  }
  return undefined;
}

/**
 * Calling contexts from the whole program: a context (the chain of callers down to the function) that holds a lock
 * or has a scope open makes nofs-unnecessary's fix wrong; no caller among the analysed files, or a function whose
 * address is taken (ops tables), leaves it unknown.
 */
function programCallers(rel: string, program: Program | undefined, contexts: Contexts | undefined): CallerOracle {
  return (fn: FunctionFacts, file) => {
    const local = fileCallers(fn, file);
    if (local.verdict === 'dirty') return local;
    if (/address of/.test(local.reason) || !program || !contexts) return local;
    const ids = program.functions.filter((f) => f.facts.name === fn.name && program.files[f.file]?.path === rel).map((f) => f.id);
    const cs = ids.flatMap((id) => contexts.get(id) ?? []).filter((c) => c.callers > 0);
    const bad = cs.find((c) => c.held.length > 0 || c.scopes.length > 0);
    if (bad) {
      const top = bad.chain[0];
      const what = bad.held.length ? `holding ${bad.held[bad.held.length - 1].cls}` : `inside ${bad.scopes[bad.scopes.length - 1].api}()`;
      return { verdict: 'dirty', reason: `${fn.name}() is called ${what}${top ? ` (from ${top.function}() in ${top.file})` : ''}` };
    }
    if (!cs.length) return { verdict: 'unknown', reason: `${fn.name}() has no caller among the analysed files` };
    const sites = new Set(cs.flatMap((c) => c.callSites)).size;
    return { verdict: 'clean', reason: `its ${sites} call site${sites === 1 ? '' : 's'} among the analysed files ${sites === 1 ? 'holds no lock and opens' : 'hold no lock and open'} no scope` };
  };
}
