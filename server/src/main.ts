// LSP entry point: stdio or IPC transport chosen by vscode-languageserver from argv.
import { startServer } from './lsp/server';

startServer();
