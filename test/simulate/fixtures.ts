// Loads test/fixtures/models/*.rlsim and the expectation in each model's header comment:
//   // expect: deadlock, shortest N
//   // expect: no-deadlock
import * as fs from 'node:fs';
import * as path from 'node:path';

export const MODELS_DIR = path.join(__dirname, '..', 'fixtures', 'models');

export interface ModelFixture {
  name: string;
  file: string;
  text: string;
  deadlock: boolean;
  shortest?: number;
}

export function parseExpectation(text: string, name: string): { deadlock: boolean; shortest?: number } {
  const m = /^\/\/ expect: (deadlock|no-deadlock)(?:, shortest (\d+))?\s*$/m.exec(text);
  if (!m) throw new Error(`${name}: missing '// expect: deadlock, shortest N' or '// expect: no-deadlock' header`);
  if (m[1] === 'deadlock' && m[2] === undefined) throw new Error(`${name}: a deadlock expectation needs ', shortest N'`);
  return { deadlock: m[1] === 'deadlock', shortest: m[2] !== undefined ? Number(m[2]) : undefined };
}

export function loadFixtures(): ModelFixture[] {
  return fs.readdirSync(MODELS_DIR)
    .filter((f) => f.endsWith('.rlsim'))
    .sort()
    .map((f) => {
      const file = path.join(MODELS_DIR, f);
      const text = fs.readFileSync(file, 'utf8');
      return { name: f, file, text, ...parseExpectation(text, f) };
    });
}
