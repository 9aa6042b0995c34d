// Temporary directories for tests, removed when the test file ends.
import * as fs from 'node:fs';
import { after } from 'node:test';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(prefix);
  dirs.push(d);
  return d;
}
