// Helpers the bench sections share: statistics, the measured child process (wall time and peak RSS), the files of a
// tree as the CLI collects them, sizes on disk, the CLI's --stats lines, and the bench context (options, temp dir).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { collectSourceFiles } from '../server/src/io/sourceTree';

export const ROOT = path.join(__dirname, '..');
export const CLI = path.join(ROOT, 'bin', 'reclaim-lens.js');
export const SERVER = path.join(ROOT, 'dist', 'server.js');
/** The CLI's size limit (cli/tree.ts MAX_FILE_MB): larger files are listed but not analysed. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

export interface BenchContext {
  /** the extracted kernel tree (.cache/kernel/6.12) */
  tree: string;
  runs: number;
  jobs: number;
  quick: boolean;
  full: boolean;
  /** folders (relative to tree) of the cold index / Coccinelle comparison */
  indexDirs: string[];
  cocciDirs: string[];
  /** a temporary folder for this bench run (removed at the end unless --keep-tmp) */
  tmp: string;
  /** a facts cache the sections may share (content-keyed): filled by the index section's last cold run */
  sharedCache?: string;
  /** named option values (--lsp-file, --lsp-paths, --cocci-timeout, …) */
  opt(name: string, def: string): string;
  log(msg: string): void;
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The nearest-rank percentile (p in 0…100). */
export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const MB = 2 ** 20;
export const fmtS = (ms: number, digits = 1) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(digits)} s` : 'n/a');
export const fmtMs = (ms: number, digits = 1) => (Number.isFinite(ms) ? `${ms.toFixed(digits)} ms` : 'n/a');
export const fmtMB = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0)} MB` : 'n/a');
export const ratio = (a: number, b: number, digits = 2) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(digits)}×` : 'n/a');
/** "✓" when the measured value meets the target, "✗" otherwise. */
export const verdict = (ok: boolean) => (ok ? '✓' : '✗');

export interface Measured {
  code: number | null;
  ms: number;
  /** peak resident set size of the process (bytes); NaN when it could not be read */
  peakRss: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const GNU_TIME = ['/usr/bin/time'].find((p) => fs.existsSync(p));

/** Process groups of the children still running: stopped when the bench exits or is interrupted. */
const live = new Set<number>();
const stopChildren = () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
};
process.on('exit', stopChildren);
/** A child started elsewhere (detached, its own process group) that must not outlive the bench. */
export const trackChild = (pid: number | undefined) => pid && live.add(pid);
export const untrackChild = (pid: number | undefined) => pid && live.delete(pid);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    stopChildren();
    process.exit(130);
  });
}

/**
 * Runs a command to its end: wall time, and peak RSS from GNU time (`%M`, the largest resident set of the process
 * including its threads), or, without GNU time, the last /proc/PID/status VmHWM seen while polling.
 * stdout goes to `stdoutFile` when given (large JSON outputs), else is returned.
 */
export function runMeasured(cmd: string, args: readonly string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; stdoutFile?: string; timeoutMs?: number } = {}): Promise<Measured> {
  const timeFile = GNU_TIME ? path.join(os.tmpdir(), `rl-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`) : undefined;
  const argv = GNU_TIME ? ['-f', '%M', '-o', timeFile!, cmd, ...args] : [...args];
  const exe = GNU_TIME ?? cmd;
  return new Promise((resolve, reject) => {
    const out = o.stdoutFile ? fs.openSync(o.stdoutFile, 'w') : undefined;
    const t0 = performance.now();
    const child = spawn(exe, argv, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', out ?? 'pipe', 'pipe'], detached: true });
    if (child.pid) live.add(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let hwm = NaN;
    const poll = GNU_TIME ? undefined : setInterval(() => {
      const v = vmHwm(child.pid!);
      if (Number.isFinite(v)) hwm = v;
    }, 100);
    let timedOut = false;
    const timer = o.timeoutMs ? setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGTERM'); // the process group we started (spatch forks its workers)
      } catch {
        // already gone
      }
    }, o.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (child.pid) live.delete(child.pid);
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
      if (out !== undefined) fs.closeSync(out);
      let peakRss = hwm;
      if (timeFile) {
        try {
          // GNU time writes "Command exited with non-zero status N" before the format's line.
          const kb = Number(fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop());
          peakRss = Number.isFinite(kb) ? kb * 1024 : NaN;
          fs.rmSync(timeFile, { force: true });
        } catch {
          peakRss = NaN;
        }
      }
      resolve({ code, ms, peakRss, stdout, stderr, timedOut });
    });
  });
}

/** /proc/PID/status VmHWM in bytes (NaN when unreadable). */
export function vmHwm(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The .c/.h files below `paths` (relative to `root`), in the CLI's order (io/sourceTree.ts). */
export async function sourceFiles(root: string, paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    const err = await collectSourceFiles(path.resolve(root, p), out, seen);
    if (err) throw new Error(`${p}: ${err}`);
  }
  return out;
}

/** Files, bytes, and the files over the CLI's size limit (not analysed). */
export function sizeOf(files: readonly string[]): { files: number; bytes: number; tooLarge: number; tooLargeBytes: number } {
  let bytes = 0;
  let tooLarge = 0;
  let tooLargeBytes = 0;
  for (const f of files) {
    const n = fs.statSync(f).size;
    bytes += n;
    if (n > MAX_FILE_BYTES) {
      tooLarge++;
      tooLargeBytes += n;
    }
  }
  return { files: files.length, bytes, tooLarge, tooLargeBytes };
}

/** Bytes of every file below `dir` (the cache's size on disk: apparent sizes plus one block per file rounded up). */
export function duBytes(dir: string): { bytes: number; blocks: number; files: number } {
  let bytes = 0;
  let blocks = 0;
  let files = 0;
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = fs.statSync(p);
        bytes += st.size;
        blocks += st.blocks * 512;
        files++;
      }
    }
  };
  walk(dir);
  return { bytes, blocks, files };
}

/** What `reclaim-lens … --stats` prints on stderr. */
export interface CliStats {
  files: number;
  /** the per-file phase: listing, reading, hashing, cache, analysis by the workers */
  indexMs: number;
  hits: number;
  misses: number;
  /** the whole-program pass: call graph, calling contexts, deadlocks */
  programMs: number;
  deadlockFindings: number;
  functions: number;
  heapMB: number;
}

export function parseStats(stderr: string): CliStats {
  const idx = /reclaim-lens: (\d+) files in ([\d.]+) s with \d+ workers?(?:; cache .*?: (\d+) hits, (\d+) misses)?/.exec(stderr);
  const dl = /reclaim-lens: deadlocks: .*?, (\d+) findings/.exec(stderr);
  const prog = /reclaim-lens: program: (\d+) functions, .*?; ([\d.]+) s; heap (\d+) MB/.exec(stderr);
  return {
    files: idx ? Number(idx[1]) : NaN,
    indexMs: idx ? Number(idx[2]) * 1000 : NaN,
    hits: idx?.[3] ? Number(idx[3]) : 0,
    misses: idx?.[4] ? Number(idx[4]) : 0,
    programMs: prog ? Number(prog[2]) * 1000 : NaN,
    deadlockFindings: dl ? Number(dl[1]) : NaN,
    functions: prog ? Number(prog[1]) : NaN,
    heapMB: prog ? Number(prog[3]) : NaN,
  };
}

export interface CliRun extends Measured {
  stats: CliStats;
  /** the JSON output, when asked for */
  json?: { findings?: { code: string }[]; sites?: unknown[] };
}

/** `node bin/reclaim-lens.js VERB --root TREE --stats --format json ARGS…`, measured; the JSON read back when `keepJson`. */
export async function runCli(ctx: BenchContext, verb: 'check' | 'hints', args: readonly string[], o: { keepJson?: boolean; cwd?: string } = {}): Promise<CliRun> {
  const outFile = path.join(ctx.tmp, `cli-${verb}-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  const m = await runMeasured(process.execPath, [CLI, verb, '--stats', '--format', 'json', ...args], { cwd: o.cwd ?? ctx.tree, stdoutFile: outFile });
  if (m.code !== 0 && m.code !== 1) {
    throw new Error(`reclaim-lens ${verb} ${args.join(' ')} exited with ${m.code}:\n${m.stderr.slice(-2000)}`);
  }
  let json: CliRun['json'];
  if (o.keepJson) json = JSON.parse(fs.readFileSync(outFile, 'utf8'));
  fs.rmSync(outFile, { force: true });
  return { ...m, stats: parseStats(m.stderr), json };
}

/** The parallel parse-only baseline (bench/parseOnly.ts) in a child process: same files, same worker count. */
export interface ParseOnlyResult {
  files: number;
  parsed: number;
  bytes: number;
  /** listing + reading + decoding + parsing with the workers (the CLI's per-file phase without hashing and analysis) */
  ms: number;
  peakRss: number;
}

export async function runParseOnly(ctx: BenchContext, paths: readonly string[], jobs = ctx.jobs, listFile?: string): Promise<ParseOnlyResult> {
  const args = ['--import', 'tsx', path.join(__dirname, 'parseOnly.ts'), '--jobs', String(jobs), '--root', ctx.tree];
  if (listFile) args.push('--list', listFile);
  else args.push(...paths);
  const m = await runMeasured(process.execPath, args, { cwd: ROOT });
  if (m.code !== 0) throw new Error(`parse-only failed (${m.code}):\n${m.stderr.slice(-2000)}`);
  const r = JSON.parse(m.stdout.trim().split('\n').pop()!) as Omit<ParseOnlyResult, 'peakRss'>;
  return { ...r, peakRss: m.peakRss };
}

/** A fresh, empty folder below the bench's temporary folder. */
export function freshDir(ctx: BenchContext, name: string): string {
  const d = path.join(ctx.tmp, name);
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** What the extracted tree holds (its .extract-stamp selection). */
export function extractedSelection(tree: string): string {
  try {
    return /^selection=(.*)$/m.exec(fs.readFileSync(path.join(tree, '.extract-stamp'), 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export const loadAvg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
