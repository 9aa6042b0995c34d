// The layering of ARCHITECTURE.md, enforced: every import between server/src folders must be an allowed edge,
// and only lsp/ may import vscode-languageserver, only client/ may import vscode.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const SRC = path.join(__dirname, '..', '..', 'server', 'src');

const ALLOWED: Record<string, string[]> = {
  syntax: ['syntax'],
  model: ['model'],
  analysis: ['analysis', 'model', 'syntax'],
  simulate: ['simulate', 'analysis', 'model', 'syntax'],
  ide: ['ide', 'analysis', 'simulate', 'model', 'syntax'],
  io: ['io'],
  index: ['index', 'ide', 'analysis', 'simulate', 'model', 'syntax', 'io'],
  lsp: ['lsp', 'ide', 'analysis', 'simulate', 'model', 'syntax', 'io', 'index'],
  cli: ['cli', 'ide', 'analysis', 'simulate', 'model', 'syntax', 'io', 'index'],
};
const PURE = new Set(['syntax', 'model', 'analysis', 'simulate', 'ide']);

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? tsFiles(p) : d.name.endsWith('.ts') ? [p] : [];
  });
}

test('server/src layers import only what ARCHITECTURE.md allows', () => {
  const problems: string[] = [];
  for (const file of tsFiles(SRC)) {
    const rel = path.relative(SRC, file);
    const layer = rel.includes(path.sep) ? rel.split(path.sep)[0] : 'root';
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)) {
      const spec = m[1];
      if (spec.startsWith('.')) {
        const target = path.relative(SRC, path.resolve(path.dirname(file), spec));
        const tl = target.split(path.sep)[0];
        if (layer !== 'root' && ALLOWED[layer] && !ALLOWED[layer].includes(tl)) problems.push(`${rel}: ${layer} → ${tl} (${spec})`);
      } else {
        if (spec.startsWith('vscode-languageserver') && layer !== 'lsp' && !(layer === 'root')) problems.push(`${rel}: imports ${spec} outside lsp/`);
        if (spec === 'vscode') problems.push(`${rel}: imports vscode in the server`);
        if (PURE.has(layer) && /^(node:)?(fs|child_process|net|http|worker_threads)$/.test(spec) && !rel.endsWith(path.join('syntax', 'parser.ts'))) {
          problems.push(`${rel}: IO (${spec}) in the pure layer ${layer}/`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});
