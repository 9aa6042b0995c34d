// The language status item's rendering (client/src/statusModel.ts), checked without an editor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatusParams } from '../../server/src/lsp/protocol';
import { SLOW_ANALYSIS_MS, formatMs, renderStatus } from '../../client/src/statusModel';

const params = (over: Partial<StatusParams>): StatusParams => ({
  state: 'ready',
  message: '12 sites, 1 finding (6.12)',
  kernelVersion: '6.12',
  files: 1,
  sites: 12,
  findings: 1,
  lastAnalysisMs: 35,
  ...over,
});

test('ready shows a pass icon, the kernel version and the message with its timing', () => {
  const view = renderStatus({ kind: 'server', params: params({}) });
  assert.equal(view.text, '$(pass) Reclaim Lens: 6.12');
  assert.equal(view.detail, '12 sites, 1 finding (6.12) · last analysis 35 ms');
  assert.equal(view.severity, 'information');
  assert.equal(view.busy, false);
  assert.equal(view.command, 'reclaimLens.showOutput');
});

test('analysing and starting are busy', () => {
  assert.equal(renderStatus({ kind: 'server', params: params({ state: 'analysing', message: 'fs/foo/inode.c' }) }).busy, true);
  assert.equal(renderStatus({ kind: 'server', params: params({ state: 'starting', message: 'loading knowledge base' }) }).busy, true);
});

test('error has severity Error and shows the message', () => {
  const view = renderStatus({ kind: 'server', params: params({ state: 'error', message: 'tree-sitter-c.wasm: ABI mismatch' }) });
  assert.equal(view.severity, 'error');
  assert.equal(view.text, 'Reclaim Lens: 6.12');
  assert.equal(view.detail, 'tree-sitter-c.wasm: ABI mismatch');
  assert.equal(view.command, 'reclaimLens.showOutput');
});

test('a slow analysis turns the item into a warning', () => {
  const view = renderStatus({ kind: 'server', params: params({ lastAnalysisMs: SLOW_ANALYSIS_MS + 500 }) });
  assert.equal(view.severity, 'warning');
  assert.equal(view.text, 'Reclaim Lens: 6.12');
  assert.match(view.detail, /slow: last analysis 4\.5 s$/);
});

test('no kernel version: the name alone', () => {
  assert.equal(renderStatus({ kind: 'server', params: params({ kernelVersion: '' }) }).text, '$(pass) Reclaim Lens');
});

test('a server that stopped offers a restart; one that failed to start points at the output', () => {
  const stopped = renderStatus({ kind: 'client', phase: 'stopped' }, '6.1');
  assert.equal(stopped.severity, 'error');
  assert.match(stopped.text, /server stopped/);
  assert.equal(stopped.command, 'reclaimLens.restartServer');
  const failed = renderStatus({ kind: 'client', phase: 'startFailed' });
  assert.equal(failed.severity, 'error');
  assert.equal(failed.command, 'reclaimLens.showOutput');
  const restarting = renderStatus({ kind: 'client', phase: 'restarting' });
  assert.equal(restarting.severity, 'warning');
  assert.equal(restarting.busy, true);
});

test('the running phase keeps the last known kernel version', () => {
  assert.equal(renderStatus({ kind: 'client', phase: 'running' }, '6.1').text, 'Reclaim Lens: 6.1');
});

test('formatMs', () => {
  assert.equal(formatMs(12.4), '12 ms');
  assert.equal(formatMs(999), '999 ms');
  assert.equal(formatMs(1234), '1.2 s');
});
