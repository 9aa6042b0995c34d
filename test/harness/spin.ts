// SPIN as an independent oracle for the tests (issue #5): a Promela model through `spin -a`, `gcc -DSAFETY` and
// `./pan` in a temporary directory, read as "errors: N" and whether one is an invalid end state (a deadlock).
// SPIN is required: CI installs Debian's `spin`; the tests that use it fail, never skip, without it.
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SPIN_MISSING = "SPIN is not installed: install Debian's `spin` package (apt-get install spin); the SPIN agreement tests do not skip";

/** The path of `spin`, or undefined. */
export function spinPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v spin'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

export interface SpinVerdict {
  errors: number;
  invalidEndState: boolean;
  /** an invalid end state was found: SPIN's word for the explorer's deadlock */
  deadlock: boolean;
  output: string;
}

export async function runSpin(pml: string): Promise<SpinVerdict> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlsim-spin-'));
  try {
    fs.writeFileSync(path.join(dir, 'model.pml'), pml);
    await run('spin', ['-a', 'model.pml'], { cwd: dir });
    await run('gcc', ['-DSAFETY', '-o', 'pan', 'pan.c'], { cwd: dir });
    const { stdout } = await run('./pan', ['-m1000000'], { cwd: dir });
    const m = /errors: (\d+)/.exec(stdout);
    if (!m) throw new Error(`unexpected pan output:\n${stdout}`);
    const errors = Number(m[1]);
    const invalidEndState = /invalid end state/.test(stdout);
    return { errors, invalidEndState, deadlock: errors > 0 && invalidEndState, output: stdout };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
