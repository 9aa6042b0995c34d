// The language server: wiring and conversion only. Every handler is isolated (a failure is logged, the request
// answers null); analysis results come from ide/ and are converted in toProto.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createConnection, DidChangeConfigurationNotification, MessageType, ProposedFeatures, ShowMessageNotification, TextDocuments, TextDocumentSyncKind,
  type Connection, type InitializeParams, type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Parser } from 'web-tree-sitter';
import { createKbProvider, type KbProvider } from '../analysis/kbView';
import { diagnostics } from '../ide/diagnostics';
import { AnalysisHost, type FileAnalysis } from '../ide/host';
import { hover } from '../ide/hover';
import { inlayHints } from '../ide/inlayHints';
import { resolveKernelVersion } from '../io/kernelTree';
import { readKbOverrides } from '../io/kbOverrides';
import { initParser } from '../syntax/parser';
import { parseSource } from '../syntax/sourceFile';
import { parseConfig, type Config } from './config';
import { SimulateRequest, StatusNotification, type StatusParams } from './protocol';
import { codeActions } from './codeActions';
import { simulateDeadlockActions } from './simulateActions';
import { deadlockCodeLenses, wholeDocument, withDeadlockHints } from './simulateLenses';
import { createAnalyser } from '../ide/fixes';
import { FIX_ALL_KIND, toDiagnostic, toHover, toInlayHint } from './toProto';
import { WorkspaceIndex } from './workspaceIndex';
import { contentHashOf, localHeadersOf } from '../index/analyseFiles';
import type { HeaderReads } from '../io/localIncludes';
import {
  isRlsim, ModelRuns, refreshCodeLenses, RLSIM_CAPABILITIES, rlsimCodeLenses, rlsimDefinition, rlsimDiagnostics, rlsimHover, simulate,
  sourceBases,
} from './rlsim';

interface DocState {
  version: number;
  configKey: string;
  analysis?: FileAnalysis;
  /** why the file was not analysed (binary, too large) */
  skipped?: string;
}

const DOCS_DIR = path.join(__dirname, '..', 'docs', 'checks');
const HELP_BASE = 'https://github.com/reclaim-lens/reclaim-lens/blob/main/docs/checks/';

/**
 * A parse that takes longer is abandoned and the document reported as not analysed: on some broken text
 * tree-sitter's error recovery is quadratic (a minute for 400 kB of unclosed braces), and the server answers
 * nothing while it parses. Kernel files parse in well under a second; a 10 MB header in about 1.5 s on 2 cores.
 */
export const PARSE_TIMEOUT_MS = 4000;

/** Why an editor buffer is not analysed: binary content or over the size limit (never throws). */
export function decodeProblem(text: string, maxChars: number): string | undefined {
  if (text.slice(0, 8192).includes('\u0000')) return 'binary file, not analysed';
  if (text.length > maxChars) return `file too large (${(text.length / 1048576).toFixed(1)} MB > limit ${(maxChars / 1048576).toFixed(0)} MB), not analysed`;
  return undefined;
}

export function startServer(connection: Connection = createConnection(ProposedFeatures.all)): void {
  const documents = new TextDocuments(TextDocument);
  const states = new Map<string, DocState>();
  const configs = new Map<string, Promise<Config>>();
  /** bad settings already reported since the last change of settings (each document and the index read them) */
  const reportedProblems = new Set<string>();
  const timers = new Map<string, NodeJS.Timeout>();
  let parser: Parser | undefined;
  let kb: KbProvider | undefined;
  /** digest of the knowledge-base override files in force ('' when none) */
  let kbKey = '';
  let host: AnalysisHost | undefined;
  let canConfigure = false;
  let canRefreshHints = false;
  let canRefreshLenses = false;
  let canShowDisabledActions = false;
  let rootPath: string | undefined;
  const log = (msg: string) => connection.console.log(msg);
  /** A message for the user; a client that cannot show it must not take the server down. */
  const warn = (msg: string) => {
    void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: msg });
    log(msg);
  };
  // The last line of defence: a stray rejection is logged, never fatal.
  process.on('unhandledRejection', (e) => connection.console.error(`unhandled rejection: ${e instanceof Error ? e.stack : String(e)}`));
  const helpHref = (code: string) => {
    const local = path.join(DOCS_DIR, `${code}.md`);
    return fs.existsSync(local) ? pathToFileURL(local).toString() : `${HELP_BASE}${code}.md`;
  };

  function isolate<P, R>(name: string, fn: (p: P) => R | Promise<R>): (p: P) => Promise<R | null> {
    return async (p: P) => {
      try {
        return await fn(p);
      } catch (e) {
        connection.console.error(`${name} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        return null;
      }
    };
  }

  const status = (s: Partial<StatusParams> & Pick<StatusParams, 'state' | 'message'>) => {
    connection.sendNotification(StatusNotification.type, {
      kernelVersion: '', files: states.size, sites: 0, findings: 0, lastAnalysisMs: 0, ...s,
    });
  };

  async function configFor(uri: string): Promise<Config> {
    let c = configs.get(uri);
    if (!c) {
      c = (async () => {
        let raw: unknown;
        if (canConfigure) raw = await connection.workspace.getConfiguration({ scopeUri: uri, section: 'reclaimLens' });
        const { config, problems } = parseConfig(raw);
        for (const p of problems) {
          if (reportedProblems.has(p)) continue;
          reportedProblems.add(p);
          warn(`Reclaim Lens: ${p}`);
        }
        return config;
      })();
      configs.set(uri, c);
    }
    return c;
  }

  function kernelVersionFor(uri: string, config: Config): string {
    let from: string | undefined;
    try {
      from = config.kernelRoot || (uri.startsWith('file:') ? path.dirname(fileURLToPath(uri)) : rootPath);
    } catch {
      from = rootPath;
    }
    const r = resolveKernelVersion(config.kernelVersion, from);
    return 'error' in r ? '6.12' : r.version;
  }

  // Local headers read for open documents, by path: re-read only when their size or time changes (every request
  // of an open document asks whether they did).
  const headerReads: HeaderReads = new Map();
  function headersOf(uri: string, text: string) {
    if (!uri.startsWith('file:')) return [];
    try {
      return localHeadersOf(fileURLToPath(uri), text, headerReads);
    } catch {
      return [];
    }
  }

  /** The analysis of the document's current version, computed now if needed. */
  async function analysisOf(doc: TextDocument): Promise<{ st: DocState; config: Config } | undefined> {
    if (!host) return undefined;
    const config = await configFor(doc.uri);
    const version = kernelVersionFor(doc.uri, config);
    const text = doc.getText();
    // The local headers on disk (their static inline lock wrappers and scope openers): a saved header re-analyses.
    const headers = headersOf(doc.uri, text);
    const configKey = `${version}|${config.diagnostics.disabled.join(',')}|${config.maxFileSizeMB}|${headers.length ? contentHashOf(new Uint8Array(), headers) : ''}`;
    const have = states.get(doc.uri);
    if (have && have.version === doc.version && have.configKey === configKey) return { st: have, config };
    const st: DocState = { version: doc.version, configKey };
    const problem = decodeProblem(text, config.maxFileSizeMB * 1024 * 1024);
    if (problem) st.skipped = problem;
    else {
      const t0 = performance.now();
      const file = parseSource(parser!, text, undefined, { timeoutMs: PARSE_TIMEOUT_MS });
      try {
        if (file.problems.some((p) => p.startsWith('parse cancelled'))) {
          st.skipped = `parsing took longer than ${PARSE_TIMEOUT_MS / 1000} s (syntax errors tree-sitter recovers from slowly), not analysed`;
        } else {
          const a = host.analyseParsed(file, { kernelVersion: version, disabledChecks: config.diagnostics.disabled, headers }, (fn, e) => {
            connection.console.error(`${doc.uri}: ${fn}(): ${e instanceof Error ? e.stack ?? e.message : e}`);
          });
          st.analysis = { ...a, ms: performance.now() - t0 };
        }
      } finally {
        file.dispose();
      }
    }
    states.set(doc.uri, st);
    return { st, config };
  }

  async function publish(doc: TextDocument) {
    if (doc.languageId === 'rlsim' || doc.uri.endsWith('.rlsim')) {
      connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: rlsimDiagnostics(doc) });
      return;
    }
    status({ state: 'analysing', message: `analysing ${path.basename(doc.uri)}` });
    const r = await analysisOf(doc);
    if (!r || documents.get(doc.uri)?.version !== doc.version) return; // stale: a newer version is on its way
    const { st, config } = r;
    if (st.skipped) {
      connection.sendDiagnostics({
        uri: doc.uri, version: doc.version,
        diagnostics: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: 3, source: 'reclaim-lens', message: `Reclaim Lens: ${st.skipped}` }],
      });
      status({ state: 'ready', message: st.skipped });
      return;
    }
    const a = st.analysis!;
    const diags = diagnostics(a.facts, config.diagnostics).map((d) => toDiagnostic(d, doc, helpHref));
    diags.push(...wsIndex.diagnosticsFor(doc.uri, config.diagnostics));
    connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: diags });
    if (canRefreshHints) void connection.languages.inlayHint.refresh().catch(() => undefined);
    const sites = a.facts.functions.reduce((n, f) => n + f.sites.length, 0);
    for (const p of a.facts.problems) log(`${doc.uri}: ${p}`);
    status({
      state: 'ready', kernelVersion: kernelVersionFor(doc.uri, config), sites, findings: diags.length, lastAnalysisMs: Math.round(a.ms),
      message: `${sites} allocation site${sites === 1 ? '' : 's'}, ${diags.length} finding${diags.length === 1 ? '' : 's'} (${Math.round(a.ms)} ms)`,
    });
  }

  function schedule(doc: TextDocument, delay: number) {
    clearTimeout(timers.get(doc.uri));
    timers.set(doc.uri, setTimeout(() => {
      timers.delete(doc.uri);
      const current = documents.get(doc.uri);
      if (current) publish(current).catch((e) => connection.console.error(`analysis failed: ${e instanceof Error ? e.stack : e}`));
    }, delay));
  }

  // The workspace index (lsp/workspaceIndex.ts): whole-program deadlock findings, merged into publish() and hover.
  const wsIndex = new WorkspaceIndex({
    connection, log, warn, config: configFor, helpHref,
    isOpen: (uri) => !!documents.get(uri),
    republish: (uri) => {
      const doc = documents.get(uri);
      if (doc) schedule(doc, 0);
      // The "Simulate deadlock" code lenses of the file changed with its findings (lsp/simulateLenses.ts).
      if (doc && canRefreshLenses) refreshCodeLenses(connection);
    },
  });

  connection.onInitialize(async (params: InitializeParams): Promise<InitializeResult> => {
    canConfigure = !!params.capabilities.workspace?.configuration;
    canRefreshHints = !!params.capabilities.workspace?.inlayHint?.refreshSupport;
    canRefreshLenses = !!params.capabilities.workspace?.codeLens?.refreshSupport;
    canShowDisabledActions = !!params.capabilities.textDocument?.codeAction?.disabledSupport;
    const folder = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    try {
      rootPath = folder ? fileURLToPath(folder) : undefined;
    } catch {
      rootPath = undefined;
    }
    parser = await initParser();
    kb = createKbProvider();
    host = new AnalysisHost(parser, kb.view);
    kbKey = '';
    wsIndex.setFolder(rootPath);
    return {
      capabilities: {
        // didSave refreshes the workspace index (lsp/workspaceIndex.ts)
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        inlayHintProvider: { resolveProvider: false },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: ['quickfix', FIX_ALL_KIND] },
        ...RLSIM_CAPABILITIES,
      },
      serverInfo: { name: 'reclaim-lens', version: '0.1.0' },
    };
  });

  /**
   * reclaimLens.kb.paths (the workspace folder's setting, relative to it): the override files are read again on
   * every change of settings; when what they say changed, the knowledge base and every open analysis are rebuilt.
   */
  async function loadKbOverrides(): Promise<void> {
    if (!parser) return;
    const scope = rootPath ? pathToFileURL(rootPath).toString() : undefined;
    const config = scope ? await configFor(scope) : undefined;
    const read = readKbOverrides(config?.kbPaths ?? [], rootPath ?? process.cwd());
    for (const p of read.problems) warn(`Reclaim Lens: reclaimLens.kb.paths: ${p}`);
    if (read.key === kbKey) return;
    kbKey = read.key;
    kb = createKbProvider(read.files);
    host = new AnalysisHost(parser, kb.view);
    states.clear();
    for (const p of kb.problems) warn(`Reclaim Lens: knowledge base: ${p}`);
    if (read.files.length) log(`knowledge base: ${read.files.length} override file(s): ${read.files.map((f) => f.path).join(', ')}`);
  }

  connection.onInitialized(() => {
    if (canConfigure) void connection.client.register(DidChangeConfigurationNotification.type, { section: 'reclaimLens' });
    for (const p of kb?.problems ?? []) warn(`Reclaim Lens: knowledge base: ${p}`);
    status({ state: 'ready', message: 'ready' });
    void loadKbOverrides().then(() => {
      for (const doc of documents.all()) schedule(doc, 0);
    }, (e) => connection.console.error(`knowledge-base overrides: ${e instanceof Error ? e.stack : String(e)}`));
    void wsIndex.configure();
  });

  connection.onDidChangeConfiguration(() => {
    configs.clear();
    reportedProblems.clear();
    void loadKbOverrides().catch((e) => connection.console.error(`knowledge-base overrides: ${e instanceof Error ? e.stack : String(e)}`)).then(() => {
      for (const doc of documents.all()) schedule(doc, 0);
    });
    void wsIndex.configure();
  });
  documents.onDidSave((e) => wsIndex.saved(e.document.uri));
  connection.onShutdown(() => wsIndex.dispose());

  documents.onDidOpen((e) => schedule(e.document, 0));
  documents.onDidChangeContent((e) => schedule(e.document, 150));
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    states.delete(e.document.uri);
    configs.delete(e.document.uri);
    connection.sendDiagnostics({ uri: e.document.uri, diagnostics: wsIndex.closed(e.document.uri) });
  });

  connection.languages.inlayHint.on(isolate('inlayHint', async (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc || doc.uri.endsWith('.rlsim')) return null;
    const r = await analysisOf(doc);
    if (!r?.st.analysis) return [];
    const range = { start: doc.offsetAt(p.range.start), end: doc.offsetAt(p.range.end) };
    // Masks in the callers' contexts, once the workspace index has them for this file (asked now, hints refreshed then).
    const contextsOf = wsIndex.siteContextsFor(doc.uri, () => {
      if (canRefreshHints) void connection.languages.inlayHint.refresh().catch(() => undefined);
    });
    const hints = inlayHints(r.st.analysis.facts, range, r.config.inlayHints, r.st.analysis.kb.gfp, contextsOf)
      .map((h) => toInlayHint(h, doc, (file, line) => wsIndex.locationOf(file, line)));
    // " ⚠ deadlock" at the allocations of the workspace index's deadlock findings (lsp/simulateLenses.ts).
    return withDeadlockHints(doc, hints, r.st.analysis.facts, wsIndex.simulationsAt(doc.uri, p.range, r.config.diagnostics), p.range, r.config.inlayHints);
  }));

  connection.onHover(isolate('hover', async (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return null;
    if (isRlsim(doc)) return rlsimHover(doc, p.position, sourceBases(doc.uri, rootPath));
    const r = await analysisOf(doc);
    if (!r?.st.analysis) return null;
    const h = hover(r.st.analysis.facts, r.st.analysis.text, doc.offsetAt(p.position), r.st.analysis.kb.gfp);
    // The masks in the site's calling contexts, from the workspace index's last whole-program pass.
    const inContexts = h ? await wsIndex.contextsMarkdownAt(doc.uri, h.site) : undefined;
    const withContexts = h && inContexts ? { ...h, markdown: `${h.markdown}\n\n---\n\n${inContexts}` } : h;
    return wsIndex.withReports(withContexts ? toHover(withContexts, doc) : null, doc.uri, p.position, r.config.diagnostics);
  }));

  // Quick fixes, each verified by re-analysis (ide/fixes), and source.fixAll.reclaimLens.
  connection.onCodeAction(isolate('codeAction', async (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc || isRlsim(doc) || !parser || !kb) return null;
    const config = await configFor(doc.uri);
    if (decodeProblem(doc.getText(), config.maxFileSizeMB * 1024 * 1024)) return null;
    const st = (await analysisOf(doc))?.st;
    if (st?.skipped) return null; // e.g. a parse past PARSE_TIMEOUT_MS: the fixes would parse it again
    const analyser = createAnalyser(parser, kb.view, kernelVersionFor(doc.uri, config));
    const facts = st?.analysis?.facts;
    const simulations = wsIndex.simulationsAt(doc.uri, p.range, config.diagnostics);
    // The workspace index's reclaim deadlocks get the narrowing quick fix (ide/fixes/deadlockMask.ts) too.
    const extra = simulations.filter((s) => s.requires).map((s) => ({
      code: String(s.diagnostic.code), severity: 'warning' as const, message: String(s.diagnostic.message), function: s.function, related: [],
      span: { start: doc.offsetAt(s.diagnostic.range.start), end: doc.offsetAt(s.diagnostic.range.end) }, requires: [...s.requires!],
      ...s.fixTarget,
    }));
    const actions = codeActions(doc, p, { analyser, config, helpHref, disabledSupport: canShowDisabledActions, facts, extra });
    // "Simulate deadlock" on the workspace index's deadlock diagnostics (lsp/simulateActions.ts).
    return [...actions, ...simulateDeadlockActions(p, simulations)];
  }));

  // ---- .rlsim models (lsp/rlsim.ts): go-to-source, "▶ Run model" code lens, reclaimLens/simulate ----
  const modelRuns = new ModelRuns();
  connection.onDefinition(isolate('definition', (p) => {
    const doc = documents.get(p.textDocument.uri);
    return doc && isRlsim(doc) ? rlsimDefinition(doc, p.position, sourceBases(doc.uri, rootPath)) : null;
  }));
  connection.onCodeLens(isolate('codeLens', async (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return null;
    if (isRlsim(doc)) return rlsimCodeLenses(doc, modelRuns);
    // C files: "⚠ Simulate deadlock (…)" on every deadlock finding of the workspace index (lsp/simulateLenses.ts).
    const config = await configFor(doc.uri);
    return deadlockCodeLenses(wsIndex.simulationsAt(doc.uri, wholeDocument(doc), config.diagnostics));
  }));
  connection.onRequest(SimulateRequest.type, (p) => simulate(p, {
    document: (uri) => documents.get(uri), rootPath: () => rootPath, runs: modelRuns, error: (m) => connection.console.error(m),
    ran: () => refreshCodeLenses(connection),
  }));
  documents.onDidClose((e) => modelRuns.forget(e.document.uri));
  // ---- end .rlsim models ----

  documents.listen(connection);
  connection.listen();
}
