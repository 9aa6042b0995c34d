// Runs every test/**/*.test.ts (except the real-editor e2e suite) with node's test runner and tsx.
// Node 20's --test does not expand globs itself. Extra arguments are passed to node (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'e2e' || d.name === 'fixtures' || d.name === 'node_modules' ? [] : find(p);
    return d.name.endsWith('.test.ts') ? [p] : [];
  });
}

const files = find('test').sort();
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...process.argv.slice(2), ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
