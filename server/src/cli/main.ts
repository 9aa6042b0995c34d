// The `reclaim-lens` command line: the same ide/ core as the language server, files read from disk.
// Exit codes (a contract): 0 clean, 1 findings (or a reachable deadlock for simulate), 2 usage or I/O error.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_INDIRECT_TARGETS, crossSleepInAtomic, edgeCount, largestScc, sccCount, siteContexts } from '../analysis/interproc';
import { findDeadlocks } from '../analysis/deadlock';
import { deadlockFindingsOf, findingsOf, programFindingsOf, renderFindingsText, renderSarif, renderSitesText, sitesOf, type JsonFinding, type JsonSite } from './output';
import { runSimulate } from './simulate';
import { isFindingSimulation, runSimulateFinding } from './simulateFinding';
import { FixSession, takeFixOption } from './fix';
import { deadlockSettings, indexTree, positionsIn, programOf, treeOptions } from './tree';

const VERSION = '0.1.0';
const HELP_BASE = 'https://github.com/reclaim-lens/reclaim-lens/blob/main/docs/checks/';

const USAGE = `usage: reclaim-lens <command> [options] PATH...

commands:
  check     report findings          [--root DIR] [--kernel-version V|auto] [--format text|json|sarif]
  hints     every allocation site    [--root DIR] [--kernel-version V|auto] [--format text|json]
            with literal and effective gfp mask
            both also take: --jobs N (worker threads, default: cores), --cache DIR (default: per-user
            cache directory), --no-cache (read and write no cache), --stats (a summary line on stderr),
            --kb FILE (a knowledge-base override file; repeatable; see docs/knowledge-base.md)
            check --callees also reports sleep-in-atomic through callees (experimental: see #3)
            check --fix [CODE,...] applies the verified quick fixes of these codes to the files
            (default: those of high confidence) and prints what it changed
            check and explain: --min-severity error|warning|information|hint (default hint: all),
            --no-class-level (leave out class-level reclaim cycles), --loopback-nfs (model loop-back NFS)
  explain   the lockdep-format report of the findings at FILE:LINE, over the tree [PATH...] (default: --root)
  simulate  explore a deadlock model FILE.rlsim [--format text|json|svg|promela]
            simulate --finding ID [--root DIR] [PATH...]: the model of a deadlock or sleep-in-atomic finding
            (its id in check's JSON), explored; --emit-model prints the model, --fixed runs its fixed variant
  version   print the version

exit status: 0 clean, 1 findings, 2 usage or I/O error`;

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  cwd: string;
  /** a one-line progress display (a TTY on stderr); '' clears it */
  progress?(line: string): void;
}

class UsageError extends Error {}

export async function main(argv: string[], io: Io): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    switch (verb) {
      case 'check':
      case 'hints':
      case 'explain':
        return await analyseCommand(verb, rest, io);
      case 'simulate':
        if (isFindingSimulation(rest)) return await runSimulateFinding(rest, io);
        return runSimulate(rest, { readFile: (p) => fs.readFileSync(path.resolve(io.cwd, p), 'utf8'), stdout: io.stdout, stderr: io.stderr });
      case 'version':
      case '--version':
        io.stdout(`reclaim-lens ${VERSION}\n`);
        return 0;
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE + '\n');
        return 0;
      case undefined:
        io.stderr(USAGE + '\n');
        return 2;
      default:
        throw new UsageError(`unknown command '${verb}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr(`reclaim-lens: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    io.stderr(`reclaim-lens: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return 2;
  }
}

const SEVERITIES = ['error', 'warning', 'information', 'hint'] as const;

async function analyseCommand(verb: 'check' | 'hints' | 'explain', args: string[], io: Io): Promise<number> {
  // check --fix [CODE,...] (cli/fix.ts): taken out first, parseArgs has no optional option values.
  const fixOpt = verb === 'check' ? takeFixOption(args) : undefined;
  if (fixOpt?.error) throw new UsageError(fixOpt.error);
  if (fixOpt) args = fixOpt.args;
  const fixing = fixOpt?.fix ? new FixSession(fixOpt.fix) : undefined;
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      root: { type: 'string' },
      'kernel-version': { type: 'string', default: 'auto' },
      format: { type: 'string', default: 'text' },
      jobs: { type: 'string' },
      cache: { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      kb: { type: 'string', multiple: true },
      // Experimental (#3): sleep-in-atomic through callees. Off by default: without the lock-effect summaries of
      // #3 a callee that drops the caller's lock before sleeping is still reported (most of 262 findings on
      // fs/ + mm/ of 6.12 are such false positives).
      callees: { type: 'boolean', default: false },
      stats: { type: 'boolean', default: false },
      'min-severity': { type: 'string', default: 'hint' },
      'no-class-level': { type: 'boolean', default: false },
      'loopback-nfs': { type: 'boolean', default: false },
    },
  });
  const minSeverity = SEVERITIES.indexOf(values['min-severity'] as (typeof SEVERITIES)[number]);
  if (minSeverity < 0) throw new UsageError(`--min-severity must be one of ${SEVERITIES.join(', ')}`);
  let target: { file: string; line: number } | undefined;
  if (verb === 'explain') {
    const at = positionals.shift();
    const m = at ? /^(.*):(\d+)$/.exec(at) : null;
    if (!m) throw new UsageError('explain needs FILE:LINE first');
    target = { file: m[1], line: Number(m[2]) };
    if (positionals.length === 0) positionals.push(values.root ?? '.');
  }
  const formats = verb === 'check' ? ['text', 'json', 'sarif'] : ['text', 'json'];
  const reports = verb !== 'hints';
  if (!formats.includes(values.format!)) throw new UsageError(`--format must be one of ${formats.join(', ')} for ${verb}`);
  const opts = treeOptions(values, io);
  if ('usage' in opts) throw new UsageError(opts.usage);
  if ('exit' in opts) return opts.exit;
  if (positionals.length === 0) throw new UsageError(`${verb} needs at least one PATH`);
  const findings: JsonFinding[] = [];
  const progress = io.progress;
  const t0 = Date.now();
  const tree = await indexTree(positionals, opts, io, (r, f) => {
    if (reports) findings.push(...findingsOf([f]));
    fixing?.collect(r.abs, f.rel, r.text, r.facts);
  });
  const { kb, view, kept, rel } = tree;
  let ioError = tree.ioError;
  const t1 = Date.now();
  if (values.stats) {
    io.stderr(`reclaim-lens: ${tree.fileCount} files in ${((t1 - t0) / 1000).toFixed(1)} s with ${opts.jobs} worker${opts.jobs === 1 ? '' : 's'}`
      + (opts.cache ? `; cache ${opts.cache.dir}: ${opts.cache.hits} hits, ${opts.cache.misses} misses, ${opts.cache.corrupted} corrupted entries rebuilt` : '; no cache') + '\n');
  }
  // The whole-program pass: symbols, call graph, calling contexts; sites get their masks per calling context and
  // check gets the cross-function findings.
  if (progress) progress('call graph and calling contexts');
  const { program, ctxs } = programOf(tree);
  const fileIndex = new Map(kept.map((f, i) => [f.rel, i]));
  const posIn = positionsIn(tree);
  let sites: JsonSite[] = [];
  let deadlocks: ReturnType<typeof findDeadlocks>['findings'] | undefined;
  if (verb === 'hints') {
    const perSite = siteContexts(program, ctxs, view.gfp);
    const fnBase: number[] = [];
    let n = 0;
    for (const f of kept) {
      fnBase.push(n);
      n += f.facts.functions.length;
    }
    sites = sitesOf(kept, { get: (fi, fni, si) => perSite.get(fnBase[fi] + fni)?.[si], line: (file, o) => posIn(file, o).line });
  } else {
    // Reclaim and fault deadlocks (#4), and with --callees sleep-in-atomic through callees (#3).
    if (progress) progress('reclaim and fault deadlocks');
    const dl = findDeadlocks(program, ctxs, view, deadlockSettings(values));
    deadlocks = dl.findings;
    const cross = deadlockFindingsOf(dl.findings, posIn);
    if (values.callees) cross.push(...programFindingsOf(crossSleepInAtomic(program, ctxs, view.gfp), posIn));
    if (values.stats) io.stderr(`reclaim-lens: deadlocks: ${dl.takes.roots.length} reclaim/fault callbacks bound, ${dl.findings.length} findings\n`);
    // Each file's cross-function findings after its own, files in path order.
    const all = [...findings, ...cross].map((f, i) => ({ f, i, file: fileIndex.get(f.file) ?? -1 }));
    all.sort((a, b) => a.file - b.file || a.i - b.i);
    findings.length = 0;
    for (const x of all) findings.push(x.f);
  }
  if (progress) progress('');
  if (values.stats) {
    io.stderr(`reclaim-lens: program: ${program.functions.length} functions, ${edgeCount(program)} call edges, ${program.unresolved.size} callee names unresolved, `
      + `${sccCount(program)} SCCs (largest ${largestScc(program)} functions), ${ctxs.coarsened.size} functions with merged and ${ctxs.capped.size} with capped contexts; `
      + `${((Date.now() - t1) / 1000).toFixed(1)} s; heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB\n`);
    const ind = program.indirect;
    if (ind) {
      const byStruct = [...ind.resolved].sort((a, b) => b[1] - a[1]);
      const total = byStruct.reduce((a, [, n]) => a + n, 0);
      io.stderr(`reclaim-lens: indirect calls: ${total} resolved, ${ind.ambiguous} ambiguous, ${ind.wide} wider than ${MAX_INDIRECT_TARGETS} targets, ${ind.unbound} to fields nothing is stored into; `
        + `by field: ${byStruct.slice(0, 12).map(([k, n]) => `${k} ${n}`).join(', ')}${byStruct.length > 12 ? ', …' : ''}\n`);
    }
  }
  if (verb === 'hints') {
    io.stdout(values.format === 'json' ? JSON.stringify({ kernelVersion: opts.kernelVersion, sites }, null, 2) + '\n' : renderSitesText(sites));
    return ioError ? 2 : 0;
  }
  // --min-severity filters every finding (a reported class-level cycle is information).
  const shown = findings.filter((f) => SEVERITIES.indexOf(f.severity) <= minSeverity);
  findings.length = 0;
  findings.push(...shown);
  if (target) {
    const want = rel(path.resolve(io.cwd, target.file));
    const at = findings.filter((f) => f.file === want && f.line === target!.line);
    if (values.format === 'json') io.stdout(JSON.stringify({ kernelVersion: opts.kernelVersion, findings: at }, null, 2) + '\n');
    else if (!at.length) io.stdout(`${want}:${target.line}: no finding\n`);
    else io.stdout(at.map((f) => f.report ?? renderFindingsText([f])).join('\n'));
    if (ioError) return 2;
    return at.length ? 0 : 1;
  }
  if (fixing) {
    return fixing.finish({
      stdout: io.stdout, stderr: io.stderr, findings, format: values.format!, kernelVersion: opts.kernelVersion, kbFor: kb.view,
      program, contexts: ctxs, ioError, version: VERSION, helpBase: HELP_BASE, ...(deadlocks ? { deadlocks } : {}),
    });
  }
  if (values.format === 'json') io.stdout(JSON.stringify({ kernelVersion: opts.kernelVersion, findings }, null, 2) + '\n');
  else if (values.format === 'sarif') io.stdout(renderSarif(findings, VERSION, HELP_BASE));
  else io.stdout(renderFindingsText(findings));
  if (ioError) return 2;
  return findings.length ? 1 : 0;
}


/** The process's streams; a progress line only when stderr is a terminal. */
export function processIo(): Io {
  const tty = process.stderr.isTTY;
  // `reclaim-lens check … | head`: a reader that goes away is not an error of ours.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    cwd: process.cwd(),
    progress: tty ? (line) => process.stderr.write(`\r\x1b[K${line}`) : undefined,
  };
}

if (require.main === module) {
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
  );
}
