// The "Reclaim Lens: Simulation" webview panel: asks the server to run a model (`reclaimLens/simulate`), shows the
// replay in the webview (client/webview/main.ts), and does what the webview asks: reveal a step's source line, open
// the model beside, re-run. The webview is a security boundary: its page has a strict CSP with a nonce and loads
// only dist/webview.js; its messages are validated (messages.ts) and name steps by position, so every path the
// panel opens comes from the server's result and is checked to lie in the workspace or beside the model.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ResponseError, type LanguageClient } from 'vscode-languageclient/node';
import { SimulateRequest, type SimStepInfo, type SimulateErrorData, type SimulateParams, type SimulateResult } from '../../../server/src/lsp/protocol';
import type { ServerController } from '../client';
import { COMMANDS } from '../commands';
import { makeNonce, webviewHtml } from './html';
import {
  isModelUri, MAX_MODEL_TEXT, parsePanelState, parseWebviewMessage, type HostMessage, type PanelSource, type WebviewMessage,
} from './messages';
import { allowedRoot } from './paths';

export const VIEW_TYPE = 'reclaimLens.simulation';
const TITLE = 'Reclaim Lens: Simulation';
/** How long a run waits for a server that is still starting. */
const SERVER_WAIT_MS = 30_000;

interface Deps {
  extensionUri: vscode.Uri;
  controller: ServerController;
  output: vscode.LogOutputChannel;
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')], enableFindWidget: true };
}

/** The running language client, waiting for one that is starting. */
function runningClient(controller: ServerController): Promise<LanguageClient> {
  const now = controller.running;
  if (now) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error('the Reclaim Lens server is not running (see the Reclaim Lens output)'));
    }, SERVER_WAIT_MS);
    const sub = controller.onDidChangeStatus(() => {
      const c = controller.running;
      if (!c) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(c);
    });
  });
}

function sameUri(a: vscode.Uri, b: string): boolean {
  return a.toString() === vscode.Uri.parse(b).toString();
}

export class SimulationPanel implements vscode.Disposable {
  private static current: SimulationPanel | undefined;
  private last: HostMessage | undefined;
  private result: SimulateResult | undefined;
  private seq = 0;
  private disposed = false;
  private readonly disposables: vscode.Disposable[] = [];

  static disposeCurrent(): void {
    SimulationPanel.current?.dispose();
  }

  /** Shows `source` in the panel (creating it beside the active editor) and runs it. */
  static show(deps: Deps, source: PanelSource): void {
    const cur = SimulationPanel.current;
    if (cur) {
      cur.source = source;
      cur.panel.reveal(undefined, false);
      void cur.run();
      return;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, TITLE, vscode.ViewColumn.Beside, webviewOptions(deps.extensionUri));
    SimulationPanel.current = new SimulationPanel(panel, deps, source);
    void SimulationPanel.current.run();
  }

  /** The serializer's half: a panel VS Code restored after a reload, with the state its webview saved. */
  static revive(panel: vscode.WebviewPanel, deps: Deps, state: unknown): void {
    const s = parsePanelState(state);
    if (!s) {
      panel.dispose();
      return;
    }
    SimulationPanel.current?.dispose();
    panel.webview.options = webviewOptions(deps.extensionUri);
    SimulationPanel.current = new SimulationPanel(panel, deps, s.source);
    void SimulationPanel.current.run();
  }

  private constructor(private readonly panel: vscode.WebviewPanel, private readonly deps: Deps, private source: PanelSource) {
    const webview = panel.webview;
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(deps.extensionUri, 'dist', 'webview.js')).toString(),
    });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      webview.onDidReceiveMessage((raw) => {
        const m = parseWebviewMessage(raw);
        if (m) this.handle(m).catch((e) => this.report('the simulation panel failed', e));
        else deps.output.warn(`Simulation panel: ignored an unexpected message from the webview`);
      }),
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (this.isModel(doc.uri)) void this.run();
      }),
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (SimulationPanel.current === this) SimulationPanel.current = undefined;
    this.seq++;
    while (this.disposables.length) this.disposables.pop()!.dispose();
    this.panel.dispose();
  }

  private async handle(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        if (this.last) await this.post(this.last);
        return;
      case 'rerun': return this.run();
      case 'openModel': return this.openModel();
      case 'reveal': return this.revealStep(m.step);
      case 'revealModel': return this.revealModelLine(m.line);
    }
  }

  private post(m: HostMessage): Thenable<boolean> {
    if (m.type !== 'busy' || !this.last || this.last.type === 'busy') this.last = m;
    return this.panel.webview.postMessage(m);
  }

  private title(): string {
    const s = this.source;
    if (s.kind === 'file') return path.posix.basename(vscode.Uri.parse(s.uri).path);
    return s.baseUri ? `model of ${path.posix.basename(vscode.Uri.parse(s.baseUri).path)}` : 'model';
  }

  /** The model document the panel shows, when there is one (a file, or the untitled document of a text). */
  private modelUri(): vscode.Uri | undefined {
    const s = this.source;
    if (s.kind === 'file') return vscode.Uri.parse(s.uri);
    return s.docUri ? vscode.Uri.parse(s.docUri) : undefined;
  }

  private isModel(uri: vscode.Uri): boolean {
    const m = this.modelUri();
    return !!m && m.toString() === uri.toString();
  }

  private params(): SimulateParams {
    const s = this.source;
    if (s.kind === 'file') return { uri: s.uri };
    const doc = s.docUri ? vscode.workspace.textDocuments.find((d) => sameUri(d.uri, s.docUri!)) : undefined;
    return { text: doc ? doc.getText() : s.text, baseUri: s.baseUri };
  }

  /** Runs the model; a newer run or a closed panel drops the answer of an older one. */
  async run(): Promise<void> {
    const seq = ++this.seq;
    const source = this.source;
    const title = this.title();
    await this.post({ type: 'busy', source, title });
    try {
      const client = await runningClient(this.deps.controller);
      const result = await client.sendRequest(SimulateRequest.type, this.params());
      if (seq !== this.seq) return;
      this.result = result;
      await this.post({ type: 'show', source, title, result });
    } catch (e) {
      if (seq !== this.seq) return;
      const problems = e instanceof ResponseError ? (e.data as SimulateErrorData | undefined)?.problems ?? [] : [];
      const message = e instanceof Error ? e.message : String(e);
      this.result = undefined;
      if (!(e instanceof ResponseError)) this.deps.output.error(`Simulation failed: ${message}`);
      await this.post({ type: 'failed', source, title, message, problems });
    }
  }

  /** The editor column for files the panel opens: the first column when the panel is elsewhere, else beside it. */
  private sideColumn(): vscode.ViewColumn {
    return this.panel.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
  }

  private async show(uri: vscode.Uri, line?: number, preserveFocus = true): Promise<void> {
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    const at = line !== undefined ? new vscode.Range(line, 0, line, 0) : undefined;
    const editor = await vscode.window.showTextDocument(uri, { viewColumn: visible?.viewColumn ?? this.sideColumn(), preserveFocus, preview: line !== undefined, selection: at });
    if (at) editor.revealRange(at, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private async openModel(): Promise<void> {
    let uri = this.modelUri();
    const s = this.source;
    if (s.kind === 'text' && !(uri && vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri!.toString()))) {
      const doc = await vscode.workspace.openTextDocument({ language: 'rlsim', content: s.text });
      this.source = { ...s, docUri: doc.uri.toString() };
      uri = doc.uri;
      if (this.last && this.last.type !== 'busy') await this.post({ ...this.last, source: this.source });
    }
    if (uri) await this.show(uri, undefined, false);
  }

  private async revealModelLine(line: number): Promise<void> {
    if (!this.modelUri()) await this.openModel();
    const uri = this.modelUri();
    if (uri) await this.show(uri, line);
  }

  /** Folders a step's source file may lie in: the workspace folders and the model's (or the finding's) folder. */
  private roots(): string[] {
    const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    const s = this.source;
    const beside = s.kind === 'file' ? s.uri : s.baseUri;
    if (beside?.startsWith('file:')) roots.push(path.dirname(vscode.Uri.parse(beside).fsPath));
    return roots;
  }

  /** The step's source file, if the server found it and it is a file inside the workspace or beside the model. */
  private async sourceOf(step: SimStepInfo): Promise<vscode.Uri | undefined> {
    const raw = step.location?.uri;
    if (!raw) return undefined;
    let uri: vscode.Uri;
    try {
      uri = vscode.Uri.parse(raw, true);
    } catch {
      return undefined;
    }
    if (uri.scheme !== 'file' || !allowedRoot(uri.fsPath, this.roots())) return undefined;
    try {
      return ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.File) !== 0 ? uri : undefined;
    } catch {
      return undefined;
    }
  }

  private async revealStep(index: number): Promise<void> {
    const step = this.result?.steps[index];
    if (!step) return;
    const src = await this.sourceOf(step);
    if (src && step.location) return this.show(src, Math.max(0, step.location.line - 1));
    if (step.location) {
      vscode.window.setStatusBarMessage(`Reclaim Lens: ${step.location.file}:${step.location.line} is not in the workspace; showing the step in the model`, 5000);
    }
    if (this.modelUri()) await this.show(this.modelUri()!, step.modelRange.start.line);
  }

  private report(what: string, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.deps.output.error(`${what}: ${message}`);
    void vscode.window.showErrorMessage(`Reclaim Lens: ${what} (${message}).`);
  }
}

function activeModel(): vscode.TextDocument | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc && (doc.languageId === 'rlsim' || doc.uri.path.endsWith('.rlsim')) ? doc : undefined;
}

/** `reclaimLens.simulateModel [uri]`: from the code lens (a URI string), a menu (a Uri) or the active .rlsim editor. */
function simulateModel(deps: Deps, arg?: unknown): void {
  const uri = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.toString() : activeModel()?.uri.toString();
  if (uri && isModelUri(uri)) return SimulationPanel.show(deps, { kind: 'file', uri });
  // A model in a file without the .rlsim extension (language set by hand): simulate its text.
  const doc = uri ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri && d.languageId === 'rlsim') : undefined;
  if (doc) return SimulationPanel.show(deps, { kind: 'text', text: doc.getText(), baseUri: doc.uri.scheme === 'file' ? doc.uri.toString() : undefined });
  void vscode.window.showInformationMessage('Reclaim Lens: open a .rlsim model to simulate it.');
}

/**
 * `reclaimLens.simulateDeadlock(modelText, sourceUri?)`: simulate a model text, e.g. the one the deadlock detector
 * builds for a finding; its `@file` paths resolve against the folder of `sourceUri`, then the workspace.
 */
function simulateDeadlock(deps: Deps, text?: unknown, sourceUri?: unknown): void {
  if (typeof text !== 'string' || text.length > MAX_MODEL_TEXT) {
    void vscode.window.showErrorMessage('Reclaim Lens: Simulate Deadlock needs a model text (see docs/rlsim.md).');
    return;
  }
  const base = sourceUri instanceof vscode.Uri ? sourceUri.toString() : typeof sourceUri === 'string' ? sourceUri : undefined;
  SimulationPanel.show(deps, { kind: 'text', text, baseUri: base?.startsWith('file:') ? base : undefined });
}

export function registerSimulation(context: vscode.ExtensionContext, controller: ServerController, output: vscode.LogOutputChannel): void {
  const deps: Deps = { extensionUri: context.extensionUri, controller, output };
  context.subscriptions.push(
    vscode.commands.registerCommand(COMMANDS.simulateModel, (arg?: unknown) => simulateModel(deps, arg)),
    vscode.commands.registerCommand(COMMANDS.simulateDeadlock, (text?: unknown, sourceUri?: unknown) => simulateDeadlock(deps, text, sourceUri)),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => SimulationPanel.revive(panel, deps, state),
    }),
    { dispose: () => SimulationPanel.disposeCurrent() },
  );
}
