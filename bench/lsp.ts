// Edit-to-refresh latency through the bundled language server (dist/server.js over stdio, as an editor starts it):
// a copy of fs/ + mm/ of 6.12 is the workspace folder, indexed by the server's workspace index (warm: its facts cache
// filled first by the CLI, which shares the cache format), one large file open. Then edits in a function of that file:
//   didChange → the inlayHint answer for the visible lines (the server analyses the new version on request);
//   didSave → publishDiagnostics of ANOTHER file whose whole-program finding runs through the edited function
//            (the server's debounce of saves, 300 ms, included), and the server's own log of that refresh.
// The edit renames the callee of a call that a cross-file deadlock chain goes through (and back, alternately), so
// every save changes the other file's findings; candidates come from the CLI's JSON, the first whose save changes
// the other file's diagnostics is used. Baselines: tree-sitter parse-only of the edited file (hints) and a warm
// `reclaim-lens check` of the same folders (what a refresh would cost without the index).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import type { InlayHint, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { initParser, parseWith } from '../server/src/syntax/parser';
import { decodeSource } from '../server/src/syntax/sourceFile';
import {
  fmtMB, fmtMs, fmtS, median, percentile, ratio, runCli, SERVER, sizeOf, sourceFiles, trackChild, untrackChild, verdict, vmHwm, type BenchContext,
} from './lib';
import { measuredLine, table, type Section } from './report';

interface JsonFinding {
  code: string;
  file: string;
  line: number;
  related: { file: string; line: number; message: string }[];
}

interface Candidate {
  line: number;
  callee: string;
  other: string;
}

interface Client {
  conn: ProtocolConnection;
  pid: number;
  logs: { t: number; message: string }[];
  /** publishDiagnostics arrival times per URI */
  published: Map<string, number[]>;
  until(what: string, pred: () => boolean, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

const PREFERRED = ['fs/btrfs/inode.c', 'fs/nfs/nfs4proc.c'];

async function startClient(ws: string, cacheHome: string, settings: unknown): Promise<Client> {
  const proc = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, XDG_CACHE_HOME: cacheHome }, detached: true });
  trackChild(proc.pid);
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  const waiters: { pred: () => boolean; resolve(): void }[] = [];
  const check = () => {
    for (const w of [...waiters]) if (w.pred()) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const c: Client = {
    conn, pid: proc.pid!, logs: [], published: new Map(),
    until: (what, pred, timeoutMs) => new Promise((resolve, reject) => {
      if (pred()) return resolve();
      const timer = setTimeout(() => reject(new Error(`language server: timed out waiting for ${what}; last log lines:\n${c.logs.slice(-8).map((l) => l.message).join('\n')}`)), timeoutMs);
      waiters.push({ pred, resolve: () => { clearTimeout(timer); resolve(); } });
    }),
    stop: async () => {
      try {
        await Promise.race([conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
        await conn.sendNotification('exit');
      } catch {
        // already gone
      }
      conn.dispose();
      await new Promise((r) => setTimeout(r, 200));
      try {
        process.kill(proc.pid!, 'SIGTERM');
      } catch {
        // exited
      }
      untrackChild(proc.pid);
    },
  };
  conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    const now = performance.now();
    let list = c.published.get(p.uri);
    if (!list) c.published.set(p.uri, (list = []));
    list.push(now);
    check();
  });
  conn.onNotification('window/logMessage', (p: { message: string }) => {
    c.logs.push({ t: performance.now(), message: p.message });
    check();
  });
  conn.onNotification('window/showMessage', (p: { message: string }) => {
    c.logs.push({ t: performance.now(), message: `showMessage: ${p.message}` });
  });
  conn.onNotification('$/progress', () => undefined);
  conn.onNotification('reclaimLens/status', () => undefined);
  conn.onRequest('window/workDoneProgress/create', () => null);
  conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => settings));
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/inlayHint/refresh', () => null);
  conn.onRequest('workspace/codeLens/refresh', () => null);
  conn.listen();
  await conn.sendRequest('initialize', {
    processId: process.pid, rootUri: pathToFileURL(ws).toString(),
    workspaceFolders: [{ uri: pathToFileURL(ws).toString(), name: path.basename(ws) }],
    capabilities: {
      window: { workDoneProgress: true },
      workspace: { configuration: true },
      textDocument: { synchronization: { didSave: true }, inlayHint: {}, hover: {} },
    },
  });
  await conn.sendNotification('initialized', {});
  return c;
}

/** The cross-file findings whose chain calls through a line of `big`: (line, callee, the other file). */
function candidatesIn(findings: JsonFinding[], big: string): Candidate[] {
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const f of findings) {
    if (f.file === big) continue;
    for (const r of f.related) {
      const m = r.file === big ? /\bcalls (\w+)\(\)/.exec(r.message) : null;
      if (!m || seen.has(`${r.line}:${m[1]}`)) continue;
      seen.add(`${r.line}:${m[1]}`);
      out.push({ line: r.line, callee: m[1], other: f.file });
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

export async function benchLsp(ctx: BenchContext): Promise<Section> {
  const dirs = ctx.opt('--lsp-paths', ctx.quick ? 'fs/xfs,mm' : 'fs,mm').split(',').filter(Boolean);
  const edits = Math.max(5, Number(ctx.opt('--lsp-edits', '6')));
  const ws = path.join(ctx.tmp, 'lsp-workspace');
  fs.rmSync(ws, { recursive: true, force: true });
  fs.mkdirSync(ws, { recursive: true });
  fs.copyFileSync(path.join(ctx.tree, 'Makefile'), path.join(ws, 'Makefile'));
  for (const d of dirs) fs.cpSync(path.join(ctx.tree, d), path.join(ws, d), { recursive: true });
  const size = sizeOf(await sourceFiles(ws, dirs));
  ctx.log(`lsp: workspace ${dirs.join(' + ')} copied (${size.files} files, ${fmtMB(size.bytes)})`);

  // The server's cache (XDG_CACHE_HOME/reclaim-lens) filled by the CLI: the same entries, keyed by content.
  const cacheHome = path.join(ctx.tmp, 'lsp-xdg');
  fs.rmSync(cacheHome, { recursive: true, force: true });
  fs.mkdirSync(cacheHome, { recursive: true });
  const cacheDir = path.join(cacheHome, 'reclaim-lens');
  if (ctx.sharedCache) fs.cpSync(ctx.sharedCache, cacheDir, { recursive: true });
  const cliArgs = ['--root', ws, '--cache', cacheDir, '--jobs', String(ctx.jobs), ...dirs];
  const first = await runCli(ctx, 'check', cliArgs, { keepJson: true, cwd: ws });
  const findings = (first.json?.findings ?? []) as unknown as JsonFinding[];
  const warmCheck: number[] = [];
  for (let i = 0; i < ctx.runs; i++) warmCheck.push((await runCli(ctx, 'check', cliArgs, { cwd: ws })).ms);
  ctx.log(`lsp: cache filled (${fmtS(first.ms)}), warm check ${fmtS(median(warmCheck))}, ${findings.length} findings`);

  // The edited file: a preferred large file with a cross-file finding through it, else the longest such file.
  const lineCount = (rel: string) => fs.readFileSync(path.join(ws, rel), 'utf8').split('\n').length;
  const wanted = ctx.opt('--lsp-file', '');
  let big = [wanted, ...PREFERRED].find((f) => f && fs.existsSync(path.join(ws, f)) && candidatesIn(findings, f).length);
  if (!big) {
    const files = [...new Set(findings.flatMap((f) => f.related.map((r) => r.file)))].filter((f) => f.endsWith('.c') && candidatesIn(findings, f).length);
    big = files.map((f) => ({ f, n: lineCount(f) })).sort((a, b) => b.n - a.n)[0]?.f;
  }
  if (!big) throw new Error(`lsp: no cross-file deadlock finding runs through a file of ${dirs.join(', ')}: nothing to measure`);
  const bigAbs = path.join(ws, big);
  const decoded = decodeSource(fs.readFileSync(bigAbs), { maxBytes: 10 * 2 ** 20 });
  if (decoded.text === undefined || decoded.problem) throw new Error(`lsp: ${big}: ${decoded.problem}`);
  const bigLines = decoded.text.split('\n').length;
  const candidates = candidatesIn(findings, big);
  ctx.log(`lsp: editing ${big} (${bigLines} lines): ${candidates.length} call sites a cross-file finding goes through`);

  // The baseline of the hint latency: tree-sitter parse-only of the edited file.
  const parser = await initParser();
  const parses: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    parseWith(parser, decoded.text).delete();
    parses.push(performance.now() - t0);
  }

  const settings = { index: { enabled: 'on', paths: dirs }, inlayHints: { mode: 'all' } };
  const t0 = performance.now();
  const c = await startClient(ws, cacheHome, settings);
  try {
    await c.until('the workspace index', () => c.logs.some((l) => /workspace index: ready in \d+ ms/.test(l.message)), 20 * 60_000);
    const readyMs = performance.now() - t0;
    const readyLog = c.logs.find((l) => /workspace index: ready in/.test(l.message))!.message;
    ctx.log(`lsp: ${readyLog}`);
    const uri = pathToFileURL(bigAbs).toString();
    let version = 1;
    let text = decoded.text;
    await c.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version, text } });
    await c.until(`the diagnostics of ${big}`, () => c.published.has(uri), 60_000);
    const whole = { start: { line: 0, character: 0 }, end: { line: bigLines, character: 0 } };
    const allHints = ((await c.conn.sendRequest('textDocument/inlayHint', { textDocument: { uri }, range: whole })) as InlayHint[] | null)?.length ?? 0;

    /**
     * Edit k: the call line with a fresh comment "rlbench k" before the callee (so every saved version is new content,
     * never a cache hit) and the callee renamed when `rename`; didChange → hints; didSave → the other file's diagnostics.
     */
    let k = 0;
    const original = text.split('\n');
    const edit = async (cand: Candidate, rename: boolean) => {
      const lines = text.split('\n');
      const ln = original[cand.line - 1];
      const col = new RegExp(`\\b${cand.callee}\\s*\\(`).exec(ln)?.index;
      if (col === undefined) return undefined;
      k++;
      const old = lines[cand.line - 1];
      lines[cand.line - 1] = `${ln.slice(0, col)}/*rlbench ${k}*/${rename ? `${cand.callee}_rlbench` : cand.callee}${ln.slice(col + cand.callee.length)}`;
      text = lines.join('\n');
      fs.writeFileSync(bigAbs, text);
      version++;
      const range = { start: { line: cand.line - 1, character: 0 }, end: { line: cand.line - 1, character: old.length } };
      const h0 = performance.now();
      await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text: lines[cand.line - 1] }] });
      const visible = { start: { line: Math.max(0, cand.line - 40), character: 0 }, end: { line: Math.min(bigLines, cand.line + 40), character: 0 } };
      const hints = (await c.conn.sendRequest('textDocument/inlayHint', { textDocument: { uri }, range: visible })) as InlayHint[] | null;
      const hintMs = performance.now() - h0;
      const otherUri = pathToFileURL(path.join(ws, cand.other)).toString();
      const before = c.published.get(otherUri)?.length ?? 0;
      const logsBefore = c.logs.length;
      const s0 = performance.now();
      await c.conn.sendNotification('textDocument/didSave', { textDocument: { uri } });
      const refreshed = () => c.logs.slice(logsBefore).find((l) => /workspace index: refreshed /.test(l.message));
      await c.until(`the refresh after saving ${big}`, () => !!refreshed(), 10 * 60_000);
      // Diagnostics of closed files are sent before the log line; give an open-document republish a moment.
      await new Promise((r) => setTimeout(r, 100));
      const pubs = c.published.get(otherUri) ?? [];
      const dependentMs = pubs.length > before ? pubs[before] - s0 : NaN;
      const log = refreshed()!.message;
      const serverMs = Number(/in (\d+) ms \(file analysis/.exec(log)?.[1] ?? NaN);
      const roundTrip = Number(/; (\d+) ms from the save's debounce to published/.exec(log)?.[1] ?? NaN);
      const analysisMs = Number(/file analysis (\d+) ms/.exec(log)?.[1] ?? NaN);
      return { hintMs, hints: hints?.length ?? 0, dependentMs, serverMs, roundTrip, analysisMs, refreshMs: refreshed()!.t - s0 };
    };

    // Find an edit whose save changes the other file's diagnostics (its first save also warms the refresh path).
    let chosen: Candidate | undefined;
    for (const cand of candidates.slice(0, 8)) {
      const r = await edit(cand, true);
      if (!r) continue;
      if (Number.isFinite(r.dependentMs)) {
        chosen = cand;
        break;
      }
      await edit(cand, false);
    }
    if (!chosen) throw new Error(`lsp: no edit of ${big} changed another file's diagnostics (tried ${Math.min(8, candidates.length)} call sites)`);
    ctx.log(`lsp: edit ${chosen.callee}() at ${big}:${chosen.line}; dependent file ${chosen.other}`);
    const results: NonNullable<Awaited<ReturnType<typeof edit>>>[] = [];
    for (let i = 0; i < edits; i++) {
      const r = await edit(chosen, i % 2 === 1); // restore first (the search left it renamed), then rename, …
      if (!r) throw new Error('lsp: the edit cannot be applied again');
      results.push(r);
      ctx.log(`lsp edit ${i + 1}/${edits}: hints ${fmtMs(r.hintMs)} (${r.hints} hints); didSave → ${chosen.other} diagnostics ${fmtMs(r.dependentMs, 0)}; server refresh ${r.serverMs} ms`);
    }
    const serverRss = vmHwm(c.pid);
    const hint = results.map((r) => r.hintMs);
    // A save whose refresh did not reach the other file (should not happen: every edit toggles its finding) is left out and counted.
    const dep = results.map((r) => r.dependentMs).filter(Number.isFinite);
    const missed = results.length - dep.length;
    const parseMs = median(parses);
    const warm = median(warmCheck);
    const rows: string[][] = [
      [`didChange → inlayHint answer, ${big} (${bigLines} lines)`, fmtMs(median(hint)), fmtMs(percentile(hint, 95)), `parse-only of the file ${fmtMs(parseMs)}`, ratio(median(hint), parseMs),
        `≤ 50 ms median ${verdict(median(hint) <= 50)}`],
      [`didSave → publishDiagnostics of ${chosen.other} (the 300 ms save debounce included)${missed ? `; ${missed} of ${results.length} saves did not republish it` : ''}`, fmtMs(median(dep), 0), fmtMs(percentile(dep, 95), 0), `warm \`check\` of ${dirs.join(' + ')} ${fmtS(warm)}`, ratio(median(dep), warm),
        `≤ 500 ms median ${verdict(median(dep) <= 500)}`],
      ['of which the index worker (server log: re-analysis + whole-program pass)', fmtMs(median(results.map((r) => r.serverMs)), 0), fmtMs(percentile(results.map((r) => r.serverMs), 95), 0), '', '', ''],
      ['of which the re-analysis of the saved file', fmtMs(median(results.map((r) => r.analysisMs)), 0), fmtMs(percentile(results.map((r) => r.analysisMs), 95), 0), '', '', ''],
      ['language server start to workspace index ready (warm cache)', fmtS(readyMs), '', `warm \`check\` ${fmtS(warm)}`, ratio(readyMs, warm), ''],
      ['peak RSS of the server process (threads included)', fmtMB(serverRss), '', '', '', ''],
    ];
    return {
      id: 'lsp',
      markdown: [
        `## Edit-to-refresh latency in the language server (${dirs.join(' + ')} indexed, ${edits} edits)`,
        '',
        measuredLine(edits, ` (the warm-up edit excluded); workspace: a copy of ${dirs.join(' + ')} of 6.12, ${size.files} files, ${fmtMB(size.bytes)}`, 'edit'),
        '',
        `Each edit renames (then restores) the call of \`${chosen.callee}()\` at ${big}:${chosen.line}, which a whole-program finding of ${chosen.other} goes through, `
          + 'and puts a new comment before it (so no saved version is a cache hit); it writes the file, sends didChange and asks for the inlay hints of the '
          + `80 lines around it (${median(results.map((r) => r.hints))} hints there; ${allHints} in the whole file), then sends didSave and waits for the other file's diagnostics. `
          + `The server's workspace index runs with ${Math.max(1, Math.min(8, os.availableParallelism() - 1))} worker thread(s) here (cores − 1).`,
        '',
        table(['measure', 'median', 'p95', 'baseline', 'ratio', 'target'], rows),
      ].join('\n'),
    };
  } finally {
    await c.stop();
  }
}
