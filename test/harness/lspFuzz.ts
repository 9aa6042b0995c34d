// A seeded, reproducible fuzz of the language server over LSP (issue #8, "Hardening").
//
// It starts the bundled server (dist/server.js) over stdio like an editor, opens real kernel files
// (.cache/kernel/6.12; the largest C fixtures under test/fixtures when that tree is missing), and replays random
// incremental textDocument/didChange edits (insertions, deletions, truncations, pasted garbage: random code units,
// lone braces, half macros, `/*` without its close, CR/LF mixtures, very long lines, chunks of the original file),
// interleaved with the requests the server advertises (inlay hints, hover, code actions, code lenses, definition),
// bursts of concurrent requests, $/cancelRequest, didSave, close + reopen, and changes of the settings.
// Then the hostile inputs: random bytes as a .c document, a 20 MB file, 10,000-deep `{`, `(` and `#if` nesting, a
// non-UTF-8 file and a binary .c file on disk in an indexed workspace folder, and a file deleted on disk while
// open (didChange/didSave/didClose after the unlink, and workspace/didChangeWatchedFiles).
//
// Failures (collected, never thrown, so a run reports all of them with the seed that reproduces them):
//   - the server process exits;
//   - a request answers with an error (an internal error -32603 above all; RequestCancelled only when cancelled);
//   - the server logs an error (window/logMessage type Error: a handler threw, an unhandled rejection, an
//     exception in the analysis of a function) or prints a stack trace on stderr;
//   - a request is not answered within `requestTimeoutMs` (cancelled requests too: JSON-RPC answers them);
//   - the server's RSS exceeds `rssLimitMB`;
//   - an answer to a request made while nothing else was in flight points outside the document;
//   - after the edits, the inlay hints (over the whole document) or the diagnostics of a document differ from those
//     of a fresh server process that opens its final text with the same settings (stale state).
// The same seed gives the same sequence of messages (the PRNG is mulberry32), except the ranges of code actions,
// taken from the diagnostics published so far; timing varies, results must not.
//
// Tree-sitter limits. On some inputs the pinned tree-sitter (web-tree-sitter 0.25.6) itself is slow, and the server,
// which parses on its thread, answers nothing meanwhile; the fuzz does not generate them by default. Its error
// recovery is quadratic in the number of error children (fixed upstream: tree-sitter/tree-sitter#5801), and a parse
// timeout (progressCallback) is checked only between operations, so it does not bound one slow recovery step.
// Measured on a 2-core machine, parse only:
//   - a long operator chain before a syntax error, `long f(struct a *m, s` + `+a` × 14,000 + `+g(&#define X(#if 0`:
//     7 s (× 8,000: 2.4 s; × 2,000: 0.2 s); `maxChainChars` (scripts/fuzz.ts --chain-chars) generates such chains;
//   - unclosed `[` inside a call: × 25,000 1.1 s, × 50,000 3.7 s, × 150,000 35 s;
//   - a fuzzed fs/xfs/xfs_inode.c of 430 kB with some 300,000 unclosed `{` in runs of up to 90,000: 65 s.
// Since then the server abandons a parse after PARSE_TIMEOUT_MS (lsp/server.ts) and says the document is not
// analysed, so such text costs seconds per version, not minutes; the comparison with a fresh server skips a
// document either server did not parse in time (which one does depends on timing).
//
// Analysis limits: the fuzz found that an identifier of 150,000 characters in an `if` condition took
// functionAnalysis.ts sideEffectFree() a minute (its RegExp backtracked inside a word) and that one assigned to made
// forget() build a RegExp too large to compile; both are fixed (`maxWordChars`, scripts/fuzz.ts --word-chars,
// generates such words). What is left is in KNOWN_ISSUES.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic, InlayHint, Position, Range, TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';
import { INTERNAL_ERROR, LspServer, pathToUri, REQUEST_CANCELLED, ROOT, SERVER_CANCELLED, type RequestOutcome } from './lspClient';

export const KERNEL_TREE = path.join(ROOT, '.cache', 'kernel', '6.12');
export const DEFAULT_FILES = ['fs/xfs/xfs_inode.c', 'fs/ext4/inode.c', 'mm/vmscan.c', 'fs/btrfs/inode.c'];

export interface FuzzOptions {
  seed: number;
  /** edits per document (spread over the documents at random) */
  editsPerFile: number;
  /** kernel files: relative to .cache/kernel/6.12, or absolute paths; default DEFAULT_FILES */
  files?: string[];
  /** run the hostile inputs (default true) */
  hostile?: boolean;
  /** size of the huge document in MB (default 20) */
  hugeMB?: number;
  /** nesting depth of the deep documents (default 10,000) */
  nestDepth?: number;
  /** edits made to each hostile document (default 20) */
  hostileEdits?: number;
  /** a request must answer within this (default 5,000 ms) */
  requestTimeoutMs?: number;
  /** the server's RSS must stay below this (default 1,536 MB) */
  rssLimitMB?: number;
  /**
   * Longest operator chain (`a+a+…`, `GFP_NOFS|GFP_NOFS|…`) or run of `(`/`{` a long-line edit inserts (default
   * 4,000 characters): longer ones meet tree-sitter's quadratic error recovery ("Tree-sitter limits" above).
   */
  maxChainChars?: number;
  /**
   * Longest identifier (`xxx…`) a long-line edit inserts (default 4,000 characters; up to 150,000 meets the
   * analysis bugs of KNOWN_ISSUES and the ones in the header, "Analysis limits").
   */
  maxWordChars?: number;
  /** progress and totals go here (default: nowhere) */
  log?: (line: string) => void;
  /**
   * For the fuzz's own tests, that it can fail: `desync` changes one document in the client's model only (the
   * comparison with a fresh server must then report stale hints and diagnostics); `kill` kills the server midway.
   */
  sabotage?: 'desync' | 'kill';
}

export interface FuzzTotals {
  seed: number;
  /** the kernel tree, the files given (absolute paths), or test/fixtures because the kernel tree is missing */
  source: 'kernel' | 'files' | 'fixtures';
  files: string[];
  edits: number;
  /** didChange notifications (an edit notification may carry several changes) */
  changeNotifications: number;
  requests: number;
  answered: number;
  cancelled: number;
  /** answered with RequestCancelled/ServerCancelled after a $/cancelRequest */
  cancelledAnswers: number;
  saves: number;
  reopens: number;
  settingsChanges: number;
  maxLatencyMs: number;
  medianLatencyMs: number;
  p95LatencyMs: number;
  slowestRequest: string;
  peakRssMB: number;
  /** inlay hints in all answers (the analysis had something to say while the documents were being edited) */
  hintsAnswered: number;
  /** documents not compared because one of the servers abandoned their parse (PARSE_TIMEOUT_MS) */
  compareSkipped: number;
  /** documents compared with a fresh server */
  compared: number;
  hints: number;
  diagnostics: number;
  durationMs: number;
  /** errors the server logged that match KNOWN_ISSUES (reported, not failures), by issue */
  knownIssues: Record<string, number>;
}

/**
 * Errors the server logs that are known bugs outside the language server's own code, each reported elsewhere:
 * counted and printed, not failures. Remove an entry when its bug is fixed, so that the fuzz guards the fix.
 */
export const KNOWN_ISSUES: readonly { name: string; match: RegExp }[] = [
  {
    // server/src/analysis/cfg.ts builds the CFG recursively (stmt() <-> compound()): a block nested some 4,000
    // deep overflows the stack. fileAnalysis.ts catches it (that function is not analysed, the others are).
    name: 'analysis/cfg.ts: stack overflow on deeply nested blocks',
    match: /\(\): RangeError: Maximum call stack size exceeded\n(\s+at [^\n]*\n)*?\s+at (stmt|compound) /,
  },
];

function knownIssue(error: string): string | undefined {
  return KNOWN_ISSUES.find((k) => k.match.test(error))?.name;
}

/** An error message with its stack cut to a few frames. */
function briefly(e: string): string {
  const lines = e.split('\n');
  return lines.length > 8 ? `${lines.slice(0, 8).join('\n')}\n    … (${lines.length - 8} more lines)` : e;
}

export interface FuzzResult {
  totals: FuzzTotals;
  failures: string[];
}

// ---- the PRNG ----

/** mulberry32: a tiny seeded PRNG; floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** an integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** an integer in [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  /** a key of `weights`, with probability proportional to its weight */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const k of keys) total += weights[k];
    let r = this.next() * total;
    for (const k of keys) {
      r -= weights[k];
      if (r < 0) return k;
    }
    return keys[keys.length - 1];
  }
}

// ---- what the edits insert ----

/** Kernel C the analysis reacts to: allocations, scopes, locks, guards, control flow. */
const SNIPPETS = [
  'p = kmalloc(sizeof(*p), GFP_KERNEL);\n', 'p = kzalloc(len, GFP_NOFS);\n', 'x = kvmalloc(n, GFP_NOIO | __GFP_NOFAIL);\n',
  'buf = vmalloc(PAGE_SIZE);\n', 'folio = filemap_alloc_folio(mapping_gfp_mask(mapping), 0);\n',
  'unsigned int flags = memalloc_nofs_save();\n', 'memalloc_nofs_restore(flags);\n', 'noio = memalloc_noio_save();\n',
  'memalloc_noio_restore(noio);\n', 'spin_lock(&inode->i_lock);\n', 'spin_unlock(&inode->i_lock);\n',
  'mutex_lock(&ip->i_lock);\n', 'mutex_unlock(&ip->i_lock);\n', 'down_write(&mm->mmap_lock);\n', 'up_write(&mm->mmap_lock);\n',
  'rcu_read_lock();\n', 'rcu_read_unlock();\n', 'preempt_disable();\n', 'preempt_enable();\n',
  'scoped_guard(spinlock, &l) {\n', 'guard(mutex)(&m);\n', 'if (copy_from_user(&k, u, sizeof(k)))\n\treturn -EFAULT;\n',
  'list_for_each_entry(pos, head, list) {\n', 'goto out;\n', 'out:\n', 'return -ENOMEM;\n', 'return 0;\n',
  'if (!p)\n', 'else\n', 'while (x--)\n', 'for (i = 0; i < n; i++) {\n', 'switch (mode) {\ncase 1:\n', 'break;\n', 'default:\n',
  'tp = xfs_trans_alloc(mp, &M_RES(mp)->tr_write, 0, 0, 0, &tp);\n', 'xfs_trans_commit(tp);\n', 'might_sleep();\n', 'msleep(10);\n',
  'gfp_t gfp = GFP_KERNEL & ~__GFP_FS;\n', 'gfp |= __GFP_NOWARN;\n', 'p = kmalloc(1, gfp);\n', 'GFP_KERNEL | GFP_NOFS', 'GFP_ATOMIC',
  'static int f(struct inode *inode, gfp_t gfp)\n{\n', 'static void g(void)\n{\n\tkmalloc(8, GFP_KERNEL);\n}\n', '}\n', '{\n', ';',
  'SYSCALL_DEFINE2(foo, int, a, int, b)\n{\n', '__must_hold(&l)\n', 'static DEFINE_SPINLOCK(l);\n', 'struct foo *p;\n',
];

/** Syntax that breaks things: lone brackets, quotes, comment and preprocessor openers, continuation lines. */
const BREAKERS = [
  '{', '}', '(', ')', '[', ']', '"', "'", '/*', '*/', '//', '\\\n', '#if 0\n', '#endif\n', '#else\n', '#ifdef CONFIG_FOO\n',
  '#define X(a) do { \\\n', '#include <linux/slab.h>\n', '##', '#', '?', ':', '->', '.', ',', '=', '&&', '<<', '...', 'L"', "u8'", '0x',
  '\t', ' ', '\n', '\n\n\n', 'static', 'struct', 'typedef', 'enum {', 'union', '__attribute__((', 'asm volatile(', 'sizeof(',
];

/** Macros cut short (a paste that lost its end). */
const HALF_MACROS = [
  '#define ALLOC(n) kmalloc((n), GFP_KERNEL', '#define LOCKED(l) do { spin_lock(l);', '#if defined(CONFIG_X) &&',
  'DEFINE_GUARD(foo, struct foo *, foo_lock(_T), ', 'list_for_each_entry_safe(pos, n, &head, ', 'scoped_guard(mutex, ',
  'memalloc_nofs_save(', 'kmalloc_array(n, sizeof(*p), GFP_', 'EXPORT_SYMBOL_GPL(', 'static inline __attribute__((',
  'SYSCALL_DEFINE3(bar, ', '__releases(&', 'rcu_dereference_protected(p, lockdep_is_held(&',
];

/** Where edits like to land: tokens the analysis looks at. */
const HOT_TOKENS = [
  'GFP_', 'kmalloc', 'kzalloc', 'alloc', 'spin_lock', 'mutex_lock', 'memalloc_', 'lock', '{', '}', '(', ';', '\n', 'return', 'goto',
  'if (', 'static ', '#if', '/*', 'trans', 'rcu_',
];

function garbage(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = rng.int(10);
    if (k < 4) s += String.fromCharCode(rng.range(0x20, 0x7e));
    else if (k < 5) s += String.fromCharCode(rng.range(1, 0x1f)); // controls, no NUL
    else if (k < 7) s += String.fromCharCode(rng.range(0x80, 0x7ff));
    else if (k < 8) s += String.fromCharCode(rng.range(0xd800, 0xdfff)); // lone surrogates
    else if (k < 9) s += String.fromCodePoint(rng.range(0x1f300, 0x1faff));
    else s += rng.pick(['\r', '\r\n', '\u2028', '\ufeff', '\u00a0', '\ufffd', '\u0085']);
  }
  return s;
}

// ---- documents ----

interface Doc {
  uri: string;
  name: string;
  doc: TextDocument;
  original: string;
  open: boolean;
  /** inverse changes of the last edits, most recent last (an editor's undo) */
  undo: { start: number; end: number; insert: string }[];
}

type EditKind =
  | 'snippet' | 'deleteSmall' | 'deleteMedium' | 'pasteOriginal' | 'copyPaste' | 'replace' | 'garbage' | 'breaker' | 'halfMacro'
  | 'openComment' | 'longLine' | 'truncate' | 'restore' | 'newlines' | 'unicode' | 'nul' | 'fullSync' | 'deepNest' | 'undo';

const EDIT_WEIGHTS: Record<EditKind, number> = {
  snippet: 24, deleteSmall: 16, deleteMedium: 5, pasteOriginal: 9, copyPaste: 4, replace: 10, garbage: 5, breaker: 8, halfMacro: 3,
  openComment: 2, longLine: 0.6, truncate: 0.4, restore: 0.6, newlines: 3, unicode: 2, nul: 0.3, fullSync: 0.5, deepNest: 0.3,
  // Undo keeps most of a document C that parses (an unclosed `/*` would otherwise hide the rest of it for good).
  undo: 20,
};

type RequestKind = 'inlayHint' | 'inlayHintAll' | 'hover' | 'codeAction' | 'fixAll' | 'codeLens' | 'definition' | 'outOfRange' | 'unknownDoc';

const REQUEST_WEIGHTS: Record<RequestKind, number> = {
  inlayHint: 28, inlayHintAll: 8, hover: 26, codeAction: 14, fixAll: 2, codeLens: 6, definition: 3, outOfRange: 3, unknownDoc: 1,
};

/** Settings the run switches between; each run ends with FINAL_SETTINGS, which the fresh server also gets. */
const FINAL_SETTINGS = { inlayHints: { mode: 'all' }, diagnostics: { showRefactorings: true }, index: { enabled: 'on' } };
const SETTING_VARIANTS: unknown[] = [
  FINAL_SETTINGS,
  { inlayHints: { mode: 'changed' }, index: { enabled: 'on' } },
  { inlayHints: { mode: 'off' }, diagnostics: { disabled: ['sleep-in-atomic', 'nofs-redundant'] }, index: { enabled: 'on' } },
  { inlayHints: { mode: 'all' }, kernelVersion: '6.1', diagnostics: { minimumSeverity: 'warning' }, index: { enabled: 'on' } },
  { inlayHints: { mode: 'all' }, maxFileSizeMB: 0.1, index: { enabled: 'on' } },
  { inlayHints: { mode: 'bogus' }, kernelVersion: 42, diagnostics: { disabled: 'all' }, index: { enabled: 'on' } },
];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function fullRange(doc: TextDocument): Range {
  return { start: { line: 0, character: 0 }, end: doc.positionAt(doc.getText().length) };
}

function inDoc(doc: TextDocument, p: Position): boolean {
  if (p.line < 0 || p.character < 0 || p.line >= doc.lineCount) return false;
  const lineStart = doc.offsetAt({ line: p.line, character: 0 });
  const next = p.line + 1 < doc.lineCount ? doc.offsetAt({ line: p.line + 1, character: 0 }) : doc.getText().length;
  return lineStart + p.character <= next;
}

/** Source files: the kernel tree when extracted, else the largest C fixtures. */
export function fuzzSources(files: readonly string[] = DEFAULT_FILES): { source: FuzzTotals['source']; paths: string[] } {
  const kernel = files.map((f) => (path.isAbsolute(f) ? f : path.join(KERNEL_TREE, f)));
  if (kernel.every((f) => fs.existsSync(f))) return { source: files.every((f) => !path.isAbsolute(f)) ? 'kernel' : 'files', paths: kernel };
  const fixtures: { p: string; size: number }[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.c')) fixtures.push({ p, size: fs.statSync(p).size });
    }
  };
  walk(path.join(ROOT, 'test', 'fixtures'));
  fixtures.sort((a, b) => b.size - a.size || a.p.localeCompare(b.p));
  return { source: 'fixtures', paths: fixtures.slice(0, Math.max(1, files.length)).map((f) => f.p) };
}

// ---- the run ----

export async function runFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.requestTimeoutMs ?? 5000;
  const maxChainChars = opts.maxChainChars ?? 4000;
  const maxWordChars = opts.maxWordChars ?? 4000;
  const rssLimitKb = (opts.rssLimitMB ?? 1536) * 1024;
  const rng = new Rng(opts.seed);
  const failures: string[] = [];
  const latencies: number[] = [];
  const { source, paths } = fuzzSources(opts.files);
  const nameOf = (p: string) => path.relative(source === 'kernel' ? KERNEL_TREE : ROOT, p);
  if (source === 'fixtures') log(`fuzz: the kernel tree ${KERNEL_TREE} is missing (npm run kernel:extract): fuzzing test/fixtures files instead`);
  const totals: FuzzTotals = {
    seed: opts.seed, source, files: paths.map(nameOf),
    edits: 0, changeNotifications: 0, requests: 0, answered: 0, cancelled: 0, cancelledAnswers: 0, saves: 0, reopens: 0, settingsChanges: 0,
    maxLatencyMs: 0, medianLatencyMs: 0, p95LatencyMs: 0, slowestRequest: '', peakRssMB: 0, hintsAnswered: 0, compareSkipped: 0, compared: 0, hints: 0, diagnostics: 0, durationMs: 0, knownIssues: {},
  };

  // The workspace folder: indexed (index.enabled "on"), holding the on-disk hostile files; the facts cache too.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reclaim-lens-fuzz-'));
  const folder = path.join(work, 'ws');
  const cacheHome = path.join(work, 'cache');
  fs.mkdirSync(folder);
  fs.mkdirSync(cacheHome);
  let settings: unknown = FINAL_SETTINGS;
  let server: LspServer | undefined;
  let fresh: LspServer | undefined;
  let step = 0;
  let where = 'start';
  /** A failure; with `d`, the document's text at that moment is kept in a file for reproduction. */
  const fail = (msg: string, d?: Doc) => {
    let keep = '';
    if (d) {
      const file = path.join(os.tmpdir(), `reclaim-lens-fuzz-seed${opts.seed}-step${step}-${path.basename(d.name)}`);
      try {
        fs.writeFileSync(file, d.doc.getText());
        keep = ` (its text: ${file})`;
      } catch {
        // not kept
      }
    }
    failures.push(`[seed ${opts.seed}, step ${step}, ${where}] ${msg}${keep}`);
    log(`FAIL ${failures[failures.length - 1]}`);
  };
  let errorsSeen = 0;
  const drainServerErrors = (s: LspServer, name: string) => {
    for (const e of s.errors.slice(errorsSeen)) {
      const known = knownIssue(e);
      if (known) totals.knownIssues[known] = (totals.knownIssues[known] ?? 0) + 1;
      else fail(`${name}: ${briefly(e)}`);
    }
    errorsSeen = s.errors.length;
  };

  try {
    // Files on disk in the workspace folder (read by the workspace index as bytes).
    const latin1Path = path.join(folder, 'latin1.c');
    fs.writeFileSync(latin1Path, Buffer.concat([
      Buffer.from('/* Caf'), Buffer.from([0xe9, 0xff, 0xfe, 0x80, 0xc3]), Buffer.from(' */\nstatic DEFINE_SPINLOCK(l);\n'),
      Buffer.from('void f(void)\n{\n\tspin_lock(&l);\n\tkmalloc(8, GFP_KERNEL); /* \xe9 */\n\tspin_unlock(&l);\n}\n', 'latin1'),
    ]));
    const binaryPath = path.join(folder, 'binary.c');
    const bin = Buffer.alloc(4096);
    for (let i = 0; i < bin.length; i++) bin[i] = rng.int(256);
    bin[10] = 0;
    fs.writeFileSync(binaryPath, bin);
    const gonePath = path.join(folder, 'gone.c');
    fs.writeFileSync(gonePath, 'static DEFINE_MUTEX(m);\nvoid g(void)\n{\n\tmutex_lock(&m);\n\tkmalloc(8, GFP_KERNEL);\n\tmutex_unlock(&m);\n}\n');
    fs.writeFileSync(path.join(folder, 'ok.c'), 'void h(void)\n{\n\tunsigned int f = memalloc_nofs_save();\n\tkmalloc(8, GFP_KERNEL);\n\tmemalloc_nofs_restore(f);\n}\n');

    server = await LspServer.start({ folder, settings: () => settings, cacheHome });
    const srv = server;
    const caps = srv.capabilities;
    const supports = (cap: string) => !!caps[cap];
    log(`fuzz: seed ${opts.seed}, server pid ${srv.pid}, capabilities: ${Object.keys(caps).join(', ')}`);

    const docs: Doc[] = [];
    const addDoc = async (uri: string, name: string, text: string) => {
      const d: Doc = { uri, name, doc: TextDocument.create(uri, 'c', 1, text), original: text, open: true, undo: [] };
      docs.push(d);
      await srv.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text } });
      return d;
    };

    let rssFailed = false;
    const checkRss = () => {
      srv.sampleRss();
      if (srv.peakRssKb <= rssLimitKb || rssFailed) return;
      rssFailed = true;
      fail(`server RSS ${Math.round(srv.peakRssKb / 1024)} MB > limit ${opts.rssLimitMB ?? 1536} MB`);
    };

    // ---- edits ----

    const pickOffset = (text: string): number => {
      if (text.length && rng.chance(0.6)) {
        const tok = rng.pick(HOT_TOKENS);
        let i = text.indexOf(tok, rng.int(text.length));
        if (i < 0) i = text.indexOf(tok);
        if (i >= 0) return Math.max(0, Math.min(text.length, i + rng.range(-20, tok.length + 20)));
      }
      return rng.int(text.length + 1);
    };
    const lineStartNear = (text: string, at: number) => {
      const i = text.lastIndexOf('\n', Math.max(0, at - 1));
      return i < 0 ? 0 : i + 1;
    };
    const chunkOf = (text: string): string => {
      if (!text.length) return '';
      const start = lineStartNear(text, rng.int(text.length));
      let end = start;
      for (let n = rng.range(1, 80); n > 0 && end < text.length; n--) {
        const j = text.indexOf('\n', end);
        end = j < 0 ? text.length : j + 1;
      }
      return text.slice(start, end);
    };

    /** One change against the current text of `d`: [start, end) replaced by `insert`. */
    const makeChange = (d: Doc, kind: EditKind): { start: number; end: number; insert: string } | 'full' => {
      const text = d.doc.getText();
      const len = text.length;
      // Keep documents near their original size: grown ones delete more, shrunk ones paste more.
      if (len > 3 * d.original.length + 200_000 && kind !== 'restore') kind = rng.chance(0.5) ? 'deleteMedium' : 'truncate';
      if (len < d.original.length / 4 && rng.chance(0.5)) kind = 'pasteOriginal';
      const at = pickOffset(text);
      const del = (n: number) => ({ start: at, end: Math.min(len, at + n), insert: '' });
      switch (kind) {
        case 'snippet': return { start: at, end: at, insert: rng.pick(SNIPPETS) };
        case 'deleteSmall': return del(rng.range(1, 40));
        case 'deleteMedium': return del(rng.range(40, 3000));
        case 'pasteOriginal': {
          const s = lineStartNear(text, at);
          return { start: s, end: s, insert: chunkOf(d.original) };
        }
        case 'copyPaste': return { start: at, end: at, insert: chunkOf(text) };
        case 'replace': return { start: at, end: Math.min(len, at + rng.range(1, 30)), insert: rng.chance(0.5) ? rng.pick(SNIPPETS) : rng.pick(BREAKERS) };
        case 'garbage': return { start: at, end: Math.min(len, at + rng.int(10)), insert: garbage(rng, rng.range(1, 200)) };
        case 'breaker': return { start: at, end: at, insert: rng.pick(BREAKERS) };
        case 'halfMacro': return { start: lineStartNear(text, at), end: lineStartNear(text, at), insert: rng.pick(HALF_MACROS) };
        case 'openComment': return { start: at, end: at, insert: rng.chance(0.7) ? '/*' : '/* unterminated\n' };
        case 'longLine': {
          // Operator chains and bracket runs only up to `maxChainChars` ("Tree-sitter limits" at the top).
          const unit = rng.pick(['x', 'a+', 'kmalloc(1, GFP_KERNEL) + ', '(', '{', ' ', '\\', '"', 'GFP_NOFS|']);
          const max = /[+|({]/.test(unit) ? maxChainChars : unit === 'x' ? maxWordChars : 150_000;
          const n = rng.range(Math.min(1000, max), max);
          return { start: at, end: at, insert: unit.repeat(Math.ceil(n / unit.length)).slice(0, n) };
        }
        case 'truncate': return rng.chance(0.7) ? { start: at, end: len, insert: '' } : { start: 0, end: at, insert: '' };
        case 'restore': return { start: 0, end: len, insert: d.original };
        case 'newlines': return { start: at, end: at, insert: rng.pick(['\r\n', '\r', '\n', '\r\r\n', '\n\r', '\r\n'.repeat(20)]) };
        case 'unicode': return { start: at, end: at, insert: rng.pick(['é', '😀', '\u2028', '\ufeff', '\u200b', 'ß', '\ud83d', '\ude00', 'ｋｍａｌｌｏｃ']) };
        case 'nul': return { start: at, end: at, insert: '\u0000'.repeat(rng.range(1, 3)) };
        case 'fullSync': return 'full';
        case 'deepNest': {
          const n = rng.range(200, 3000);
          const c = rng.pick(['{', '(', '[', 'if (x) ', '#if 1\n']);
          return { start: at, end: at, insert: c.repeat(n) };
        }
        case 'undo': {
          const u = d.undo.pop();
          return u && u.end <= len ? u : { start: at, end: at, insert: rng.pick(SNIPPETS) };
        }
      }
    };

    /** A didChange of 1-5 changes to `d`; the client model follows the same changes. */
    const edit = async (d: Doc) => {
      const n = rng.chance(0.15) ? rng.range(2, 5) : 1;
      const changes: TextDocumentContentChangeEvent[] = [];
      const version = d.doc.version + 1;
      for (let i = 0; i < n; i++) {
        const kind = rng.weighted(EDIT_WEIGHTS);
        const c = makeChange(d, kind);
        const before = d.doc.getText();
        let change: TextDocumentContentChangeEvent;
        let inverse: Doc['undo'][number];
        if (c === 'full') {
          // The whole text again, without a range (allowed in incremental mode), with a small edit at the end.
          change = { text: before + (rng.chance(0.5) ? '\n' : '') };
          inverse = { start: 0, end: change.text.length, insert: before };
        } else {
          const range = { start: d.doc.positionAt(c.start), end: d.doc.positionAt(c.end) };
          change = { range, text: c.insert };
          // Offsets as the document resolves the positions (inside a CRLF or a surrogate pair they may move).
          const start = d.doc.offsetAt(range.start);
          inverse = { start, end: start + c.insert.length, insert: before.slice(start, d.doc.offsetAt(range.end)) };
        }
        TextDocument.update(d.doc, [change], version);
        changes.push(change);
        if (kind !== 'undo') {
          d.undo.push(inverse);
          if (d.undo.length > 64) d.undo.shift();
        }
      }
      totals.edits += n;
      totals.changeNotifications++;
      await srv.notify('textDocument/didChange', { textDocument: { uri: d.uri, version }, contentChanges: changes });
    };

    // ---- requests ----

    const randomPosition = (d: Doc): Position => d.doc.positionAt(pickOffset(d.doc.getText()));
    const randomRange = (d: Doc): Range => {
      const text = d.doc.getText();
      const a = pickOffset(text);
      const b = Math.min(text.length, a + rng.int(rng.chance(0.2) ? 100_000 : 3000));
      return { start: d.doc.positionAt(a), end: d.doc.positionAt(b) };
    };

    const requestParams = (d: Doc, kind: RequestKind): { method: string; params: unknown } | undefined => {
      const textDocument = { uri: d.uri };
      switch (kind) {
        case 'inlayHint': return supports('inlayHintProvider') ? { method: 'textDocument/inlayHint', params: { textDocument, range: randomRange(d) } } : undefined;
        case 'inlayHintAll': return supports('inlayHintProvider') ? { method: 'textDocument/inlayHint', params: { textDocument, range: fullRange(d.doc) } } : undefined;
        case 'hover': return supports('hoverProvider') ? { method: 'textDocument/hover', params: { textDocument, position: randomPosition(d) } } : undefined;
        case 'codeAction':
        case 'fixAll': {
          if (!supports('codeActionProvider')) return undefined;
          // The diagnostics published so far depend on timing: the random numbers drawn must not.
          const published = srv.diagnostics.get(d.uri)?.diagnostics ?? [];
          const [useDiag, which, onlyQuickFix] = [rng.chance(0.7), rng.float(), rng.chance(0.2)];
          const fallback = randomRange(d);
          const diag = published.length && useDiag ? published[Math.floor(which * published.length)] : undefined;
          const range = diag?.range ?? fallback;
          const context = kind === 'fixAll'
            ? { diagnostics: published, only: ['source.fixAll.reclaimLens'] }
            : { diagnostics: diag ? [diag] : [], ...(onlyQuickFix ? { only: ['quickfix'] } : {}) };
          return { method: 'textDocument/codeAction', params: { textDocument, range, context } };
        }
        case 'codeLens': return supports('codeLensProvider') ? { method: 'textDocument/codeLens', params: { textDocument } } : undefined;
        case 'definition': return supports('definitionProvider') ? { method: 'textDocument/definition', params: { textDocument, position: randomPosition(d) } } : undefined;
        case 'outOfRange': {
          const far = { line: d.doc.lineCount + rng.int(1_000_000), character: rng.int(1_000_000) };
          return rng.chance(0.5)
            ? { method: 'textDocument/hover', params: { textDocument, position: far } }
            : { method: 'textDocument/inlayHint', params: { textDocument, range: { start: far, end: { line: 0, character: 0 } } } };
        }
        case 'unknownDoc': return { method: 'textDocument/inlayHint', params: { textDocument: { uri: 'file:///nowhere/never-opened.c' }, range: { start: { line: 0, character: 0 }, end: { line: 10, character: 0 } } } };
      }
    };

    /**
     * Judges an answer to a request about `d`; with `settled`, the document did not change while the request was
     * in flight, so what the answer points at can be checked against it.
     */
    const judge = (o: RequestOutcome, what: string, d?: Doc, settled = true) => {
      totals.requests++;
      latencies.push(o.ms);
      if (o.ms > totals.maxLatencyMs) {
        totals.maxLatencyMs = o.ms;
        totals.slowestRequest = what;
      }
      if (o.cancelled) totals.cancelled++;
      if (o.timedOut) {
        stalled ??= { what, since: o.sentAt };
        return fail(`${what}: no answer within ${timeoutMs} ms${o.cancelled ? ' (cancelled)' : ''}; ${srv.activitySince(o.sentAt)}`, d);
      }
      if (o.error) {
        if (o.cancelled && (o.error.code === REQUEST_CANCELLED || o.error.code === SERVER_CANCELLED)) {
          totals.cancelledAnswers++;
          totals.answered++;
          return undefined;
        }
        return fail(`${what}: answered with error ${o.error.code}${o.error.code === INTERNAL_ERROR ? ' (internal error)' : ''}: ${o.error.message}`, d);
      }
      totals.answered++;
      if (o.method === 'textDocument/inlayHint' && Array.isArray(o.result)) totals.hintsAnswered += o.result.length;
      if (!d || !settled || o.result === null || o.result === undefined) return undefined;
      // Nothing changed while it ran: what it points at must be in the document.
      if (o.method === 'textDocument/inlayHint') {
        for (const h of o.result as InlayHint[]) if (!inDoc(d.doc, h.position)) return fail(`${what}: inlay hint at ${JSON.stringify(h.position)} outside the document (${d.doc.lineCount} lines)`, d);
      } else if (o.method === 'textDocument/hover') {
        const r = (o.result as { range?: Range }).range;
        if (r && (!inDoc(d.doc, r.start) || !inDoc(d.doc, r.end))) return fail(`${what}: hover range ${JSON.stringify(r)} outside the document`, d);
      }
      return undefined;
    };

    const oneRequest = async (d: Doc, quiet: boolean) => {
      const kind = rng.weighted(REQUEST_WEIGHTS);
      const rq = requestParams(d, kind);
      if (!rq) return;
      const cancel = rng.chance(0.08) ? rng.pick([0, 0, 1, 5, 20, 100]) : undefined;
      const what = `${rq.method} (${kind}) on ${d.name} v${d.doc.version}`;
      const o = await srv.request(rq.method, rq.params, timeoutMs, cancel);
      judge(o, what, d, quiet && cancel === undefined);
    };

    /** 2-4 requests at once, with edits sent between them (the answers may reflect later versions). */
    const burst = async (d: Doc) => {
      const pending: Promise<void>[] = [];
      for (let i = rng.range(2, 4); i > 0; i--) {
        const target = rng.chance(0.7) ? d : rng.pick(docs.filter((x) => x.open));
        const kind = rng.weighted(REQUEST_WEIGHTS);
        const rq = requestParams(target, kind);
        if (!rq) continue;
        const cancel = rng.chance(0.2) ? rng.pick([0, 1, 5, 50]) : undefined;
        const what = `${rq.method} (${kind}, burst) on ${target.name} v${target.doc.version}`;
        pending.push(srv.request(rq.method, rq.params, timeoutMs, cancel).then((o) => judge(o, what, target, false)));
        if (rng.chance(0.5) && target.open) await edit(target);
      }
      await Promise.all(pending);
    };

    const changeSettings = async (to: unknown) => {
      settings = to;
      totals.settingsChanges++;
      await srv.notify('workspace/didChangeConfiguration', { settings: {} });
    };

    const save = async (d: Doc) => {
      totals.saves++;
      await srv.notify('textDocument/didSave', { textDocument: { uri: d.uri } });
    };

    const reopen = async (d: Doc) => {
      totals.reopens++;
      await srv.notify('textDocument/didClose', { textDocument: { uri: d.uri } });
      if (rng.chance(0.3)) await oneRequest(d, false); // a request for a closed document
      // Reopened as version 1 again (an editor does this), with the text it had or the file's.
      const text = rng.chance(0.8) ? d.doc.getText() : d.original;
      d.doc = TextDocument.create(d.uri, 'c', 1, text);
      d.undo = [];
      await srv.notify('textDocument/didOpen', { textDocument: { uri: d.uri, languageId: 'c', version: 1, text } });
    };

    /**
     * After a request went unanswered: wait until the server answers again (each further request would only time
     * out behind the same work), and say how long it was busy.
     */
    let stalled: { what: string; since: number } | undefined;
    const recoverFromStall = async () => {
      if (!stalled || srv.exit) return;
      const s = stalled;
      stalled = undefined;
      try {
        await srv.ping(600_000);
        fail(`the server answered nothing for ${((performance.now() - s.since) / 1000).toFixed(1)} s after ${s.what}; ${srv.activitySince(s.since)}`);
      } catch {
        fail(`the server answered nothing for 10 min after ${s.what}`);
      }
    };

    /**
     * Random edits and requests over `list`, `count` edits in all. Like a user, it works on one document for a while
     * (switching with probability `switchP` per step), so the debounced analyses of several documents rarely queue.
     */
    const fuzzDocs = async (list: Doc[], count: number, label: string, switchP = 0.05) => {
      let done = 0;
      let lastReport = performance.now();
      let d = rng.pick(list);
      while (done < count && !srv.exit) {
        step++;
        if (rng.chance(switchP)) d = rng.pick(list);
        where = `${label}: ${d.name}`;
        const before = totals.edits;
        for (let k = rng.chance(0.3) ? rng.range(2, 8) : 1; k > 0; k--) await edit(d);
        done += totals.edits - before;
        const r = rng.float();
        if (r < 0.22) await oneRequest(d, true);
        else if (r < 0.25) await burst(d);
        await recoverFromStall();
        if (rng.chance(0.02)) await sleep(rng.int(250)); // let the debounced publish run mid-edit
        if (rng.chance(0.02)) await save(d);
        if (rng.chance(0.003)) await reopen(d);
        if (rng.chance(0.003)) await changeSettings(rng.pick(SETTING_VARIANTS));
        checkRss();
        drainServerErrors(srv, 'server');
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          log(`fuzz: ${label}: ${done}/${count} edits, ${totals.requests} requests, peak RSS ${Math.round(srv.peakRssKb / 1024)} MB, ${Math.round((performance.now() - t0) / 1000)} s`);
        }
      }
    };

    // ---- 1. real files ----
    for (const p of paths) {
      const text = fs.readFileSync(p, 'utf8');
      await addDoc(pathToUri(p), nameOf(p), text);
    }
    where = 'open';
    await srv.ping(60_000);
    await fuzzDocs(docs.slice(), opts.editsPerFile * docs.length, 'edits');
    log(`fuzz: edits done in ${Math.round(performance.now() - t0)} ms`);

    // ---- 2. hostile inputs ----
    if (opts.hostile !== false && !srv.exit) {
      const hostileEdits = opts.hostileEdits ?? 20;
      const depth = opts.nestDepth ?? 10_000;
      const hostile: Doc[] = [];
      where = 'hostile: open';
      // Random bytes as a .c document: with NULs (binary) and without (garbage that parses as something).
      const bytes = Buffer.alloc(64 * 1024);
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
      hostile.push(await addDoc('file:///tmp/reclaim-lens-fuzz/random-bytes.c', 'random-bytes.c', bytes.toString('latin1')));
      hostile.push(await addDoc('file:///tmp/reclaim-lens-fuzz/random-text.c', 'random-text.c', garbage(rng, 64 * 1024)));
      // A 20 MB document (over the 10 MB default limit), made of real code so that truncating it gives C again.
      const unit = docs[0]?.original || 'void f(void) { kmalloc(1, GFP_KERNEL); }\n';
      const hugeLen = Math.round((opts.hugeMB ?? 20) * 1024 * 1024);
      hostile.push(await addDoc('file:///tmp/reclaim-lens-fuzz/huge.c', 'huge.c', unit.repeat(Math.ceil(hugeLen / unit.length)).slice(0, hugeLen)));
      // Deep nesting, balanced and not.
      const alloc = 'kmalloc(1, GFP_KERNEL);';
      hostile.push(await addDoc('file:///tmp/reclaim-lens-fuzz/deep-braces.c', 'deep-braces.c',
        `static DEFINE_SPINLOCK(l);\nvoid f(void)\n{\n\tspin_lock(&l);\n${'{'.repeat(depth)} ${alloc} ${'}'.repeat(depth)}\n\tspin_unlock(&l);\n}\n`));
      hostile.push(await addDoc('file:///tmp/reclaim-lens-fuzz/deep-parens.c', 'deep-parens.c',
        `void *g(void)\n{\n\treturn ${'('.repeat(depth)}kmalloc(1, GFP_NOFS)${')'.repeat(depth)};\n}\nvoid h(void)\n{\n\t${alloc}\n}\n`));
      hostile.push(await addDoc('file:///tmp/reclaim-lens-fuzz/deep-open.c', 'deep-open.c',
        `void f(void)\n{\n${'{'.repeat(depth)}${'('.repeat(depth)} ${alloc}\nvoid g(void) { ${alloc} }\n`));
      hostile.push(await addDoc('file:///tmp/reclaim-lens-fuzz/deep-if.c', 'deep-if.c',
        `${'#if 1\n'.repeat(depth)}void f(void)\n{\n\t${alloc}\n}\n${'#endif\n'.repeat(depth)}`));
      // On disk in the indexed folder: not UTF-8 (opened as an editor decodes it: U+FFFD), a binary .c file.
      const latin1Doc = await addDoc(pathToUri(latin1Path), 'ws/latin1.c', fs.readFileSync(latin1Path, 'utf8'));
      const binaryDoc = await addDoc(pathToUri(binaryPath), 'ws/binary.c', fs.readFileSync(binaryPath, 'latin1'));
      hostile.push(latin1Doc, binaryDoc);
      await srv.ping(60_000);
      for (const d of hostile) {
        where = `hostile: ${d.name}`;
        const o = await srv.request('textDocument/inlayHint', { textDocument: { uri: d.uri }, range: fullRange(d.doc) }, timeoutMs);
        judge(o, `textDocument/inlayHint (hostile) on ${d.name}`, d);
        const h = await srv.request('textDocument/hover', { textDocument: { uri: d.uri }, position: randomPosition(d) }, timeoutMs);
        judge(h, `textDocument/hover (hostile) on ${d.name}`, d);
      }
      // The huge file cut below the limit (analysed now) and grown again (skipped again).
      where = 'hostile: huge.c';
      const huge = hostile.find((d) => d.name === 'huge.c')!;
      const cut = Math.min(huge.doc.getText().length, 200_000);
      for (const [range, text] of [
        [{ start: huge.doc.positionAt(cut), end: huge.doc.positionAt(huge.doc.getText().length) }, ''],
        [{ start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, unit.repeat(2)],
        [{ start: huge.doc.positionAt(0), end: huge.doc.positionAt(0) }, 'x'.repeat(hugeLen)],
      ] as const) {
        const version = huge.doc.version + 1;
        TextDocument.update(huge.doc, [{ range, text }], version);
        totals.edits++;
        totals.changeNotifications++;
        await srv.notify('textDocument/didChange', { textDocument: { uri: huge.uri, version }, contentChanges: [{ range, text }] });
        judge(await srv.request('textDocument/inlayHint', { textDocument: { uri: huge.uri }, range: fullRange(huge.doc) }, timeoutMs), `inlayHint on huge.c v${version}`, huge);
      }
      // The file saved in the index folder: the index reads its non-UTF-8 bytes again.
      await save(latin1Doc);
      await save(binaryDoc);
      // Random edits on the hostile documents (not the huge one: each change copies 20 MB on both sides).
      await fuzzDocs(hostile.filter((d) => d !== huge), hostileEdits * (hostile.length - 1), 'hostile edits', 0.3);

      // A file deleted on disk while open.
      where = 'hostile: deleted while open';
      const gone = await addDoc(pathToUri(gonePath), 'ws/gone.c', fs.readFileSync(gonePath, 'utf8'));
      await srv.ping(60_000);
      judge(await srv.request('textDocument/inlayHint', { textDocument: { uri: gone.uri }, range: fullRange(gone.doc) }, timeoutMs), 'inlayHint on gone.c', gone);
      fs.unlinkSync(gonePath);
      await edit(gone);
      await save(gone);
      const watched = srv.registrations.some((r) => r.method === 'workspace/didChangeWatchedFiles');
      // Sent either way: a client may send it unasked, and the server must not mind.
      await srv.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: gone.uri, type: 3 }] });
      await edit(gone);
      judge(await srv.request('textDocument/inlayHint', { textDocument: { uri: gone.uri }, range: fullRange(gone.doc) }, timeoutMs), 'inlayHint on gone.c (deleted)', gone);
      judge(await srv.request('textDocument/hover', { textDocument: { uri: gone.uri }, position: randomPosition(gone) }, timeoutMs), 'hover on gone.c (deleted)', gone);
      await sleep(400); // the index's save debounce (300 ms) runs its refresh of the vanished file
      await srv.notify('textDocument/didClose', { textDocument: { uri: gone.uri } });
      gone.open = false;
      log(`fuzz: hostile inputs done at ${Math.round(performance.now() - t0)} ms (server registered didChangeWatchedFiles: ${watched ? 'yes' : 'no'})`);
      checkRss();
      drainServerErrors(srv, 'server');
    }

    if (opts.sabotage === 'kill') {
      srv.proc.kill('SIGKILL');
      await sleep(200);
    }
    if (opts.sabotage === 'desync' && docs.length) {
      // A function the server never hears of: the fresh server, given the client's text, has one more hint.
      const d = docs[0];
      const end = d.doc.positionAt(d.doc.getText().length);
      TextDocument.update(d.doc, [{ range: { start: end, end }, text: '\nstatic DEFINE_SPINLOCK(fuzz_l);\nvoid fuzz_desync(void)\n{\n\tspin_lock(&fuzz_l);\n\tkmalloc(1, GFP_KERNEL);\n\tspin_unlock(&fuzz_l);\n}\n' }], d.doc.version);
    }

    // ---- 3. stale state: the final texts against a fresh server ----
    where = 'compare';
    await recoverFromStall();
    if (!srv.exit) {
      if (JSON.stringify(settings) !== JSON.stringify(FINAL_SETTINGS)) await changeSettings(FINAL_SETTINGS);
      // One more change of every document (the same text, a new version): its diagnostics are then those of the
      // final settings, never a publish from before the change of settings.
      const open = docs.filter((d) => d.open);
      for (const d of open) {
        const version = d.doc.version + 1;
        const text = d.doc.getText();
        const change = text.length ? { range: { start: d.doc.positionAt(0), end: d.doc.positionAt(1) }, text: text[0] } : { text: '' };
        TextDocument.update(d.doc, [change], version);
        await srv.notify('textDocument/didChange', { textDocument: { uri: d.uri, version }, contentChanges: [change] });
      }
      const finalDiags = new Map<string, Diagnostic[]>();
      for (const d of open) {
        try {
          finalDiags.set(d.uri, (await srv.diagnosticsWhere(d.uri, (p) => p.version === d.doc.version, 60_000)).diagnostics);
        } catch (e) {
          fail(`${d.name}: no diagnostics for the final version ${d.doc.version}: ${(e as Error).message}`);
        }
      }
      fresh = await LspServer.start({ folder, settings: () => FINAL_SETTINGS, cacheHome });
      // Both workspace indexes built (their whole-program findings are part of the diagnostics compared).
      for (const [s, name] of [[srv, 'server'], [fresh, 'fresh server']] as const) {
        try {
          await waitFor(() => s.indexReady, 60_000);
        } catch {
          fail(`${name}: the workspace index was not ready within 60 s`);
        }
      }
      for (const d of open) {
        where = `compare: ${d.name}`;
        let freshDiags: Diagnostic[];
        try {
          freshDiags = await fresh.open(d.uri, d.doc.getText(), 1, 60_000);
        } catch (e) {
          fail(`fresh server: ${d.name}: ${(e as Error).message}`);
          continue;
        }
        const parsedLate = (ds?: Diagnostic[]) => !!ds?.some((x) => String(x.message).includes('parsing took longer than'));
        if (parsedLate(freshDiags) || parsedLate(finalDiags.get(d.uri))) {
          totals.compareSkipped++;
          continue;
        }
        const range = fullRange(d.doc);
        const a = await srv.request('textDocument/inlayHint', { textDocument: { uri: d.uri }, range }, 60_000);
        const b = await fresh.request('textDocument/inlayHint', { textDocument: { uri: d.uri }, range }, 60_000);
        judge(a, `inlayHint (final) on ${d.name}`, d);
        if (b.error || b.timedOut) fail(`fresh server: inlayHint on ${d.name}: ${b.error?.message ?? 'timed out'}`);
        totals.compared++;
        const hintsA = JSON.stringify(a.result);
        const hintsB = JSON.stringify(b.result);
        totals.hints += Array.isArray(b.result) ? b.result.length : 0;
        if (hintsA !== hintsB) fail(`stale inlay hints in ${d.name} (v${d.doc.version}): ${firstDifference(a.result, b.result)}`, d);
        const mine = finalDiags.get(d.uri);
        totals.diagnostics += freshDiags.length;
        if (mine && JSON.stringify(mine) !== JSON.stringify(freshDiags)) fail(`stale diagnostics in ${d.name} (v${d.doc.version}): ${firstDifference(mine, freshDiags)}`, d);
      }
      drainServerErrors(srv, 'server');
      errorsSeen = 0;
      drainServerErrors(fresh, 'fresh server');
    }
    where = 'end';
    checkRss();
    if (srv.exit) fail(`the server exited: ${JSON.stringify(srv.exit)}`);
    totals.peakRssMB = Math.round(srv.peakRssKb / 1024);
  } catch (e) {
    fail(`driver: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  } finally {
    if (server) {
      const before = server.errors.length;
      await server.dispose();
      if (server.errors.length > before) fail(`server at shutdown: ${server.errors.slice(before).join('\n')}`);
      totals.peakRssMB = Math.round(server.peakRssKb / 1024);
    }
    await fresh?.dispose();
    fs.rmSync(work, { recursive: true, force: true });
  }
  latencies.sort((a, b) => a - b);
  totals.medianLatencyMs = round1(latencies[Math.floor(latencies.length / 2)] ?? 0);
  totals.p95LatencyMs = round1(latencies[Math.floor(latencies.length * 0.95)] ?? 0);
  totals.maxLatencyMs = round1(totals.maxLatencyMs);
  totals.durationMs = Math.round(performance.now() - t0);
  log(formatTotals(totals, failures));
  return { totals, failures };
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > until) throw new Error('timed out');
    await sleep(50);
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Where two JSON values first differ, briefly. */
export function firstDifference(a: unknown, b: unknown, at = '$'): string {
  if (JSON.stringify(a) === JSON.stringify(b)) return 'equal';
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) {
        if (a[i] === undefined || b[i] === undefined) return `${at}[${i}]: ${JSON.stringify(a[i])?.slice(0, 300)} vs fresh ${JSON.stringify(b[i])?.slice(0, 300)} (lengths ${a.length} vs ${b.length})`;
        return firstDifference(a[i], b[i], `${at}[${i}]`);
      }
    }
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = a as Record<string, unknown>;
    const kb = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ka), ...Object.keys(kb)])) {
      if (JSON.stringify(ka[k]) !== JSON.stringify(kb[k])) return firstDifference(ka[k], kb[k], `${at}.${k}`);
    }
  }
  return `${at}: ${JSON.stringify(a)?.slice(0, 300)} vs fresh ${JSON.stringify(b)?.slice(0, 300)}`;
}

export function formatTotals(t: FuzzTotals, failures: readonly string[]): string {
  return [
    `fuzz: seed ${t.seed} (${t.source === 'fixtures' ? 'THE KERNEL TREE IS MISSING, fuzzed test fixtures instead' : t.source}: ${t.files.join(', ')})`,
    `  edits ${t.edits} in ${t.changeNotifications} didChange; requests ${t.requests}, answered ${t.answered}, cancelled ${t.cancelled} (${t.cancelledAnswers} answered RequestCancelled)`,
    `  saves ${t.saves}, close+reopen ${t.reopens}, settings changes ${t.settingsChanges}`,
    `  latency max ${t.maxLatencyMs} ms (${t.slowestRequest}), median ${t.medianLatencyMs} ms, p95 ${t.p95LatencyMs} ms`,
    `  inlay hints answered ${t.hintsAnswered}; peak server RSS ${t.peakRssMB} MB; compared with a fresh server: ${t.compared} documents, ${t.hints} hints, ${t.diagnostics} diagnostics`,
    ...Object.entries(t.knownIssues).map(([k, n]) => `  known issue (not a failure): ${k}: ${n} time${n === 1 ? '' : 's'}`),
    ...(t.compareSkipped ? [`  not compared (a parse past the server's time limit, timing-dependent): ${t.compareSkipped} documents`] : []),
    `  duration ${(t.durationMs / 1000).toFixed(1)} s; ${failures.length ? `${failures.length} FAILURE${failures.length === 1 ? '' : 'S'}` : 'no failures'}`,
  ].join('\n');
}
