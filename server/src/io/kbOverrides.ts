// Reads knowledge-base override files (the CLI's --kb, the setting reclaimLens.kb.paths). The files' contents are
// validated by model/kb (loadKnowledgeBase); here they are only found and read. A pattern may end in a `*` glob
// over one folder (`.reclaim-lens/*.jsonc`, the setting's default): a missing folder matches nothing and is not an
// error, while a named file that cannot be read is.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface OverrideFile {
  /** the path as the user wrote it (messages name it so), resolved against the base folder when relative */
  path: string;
  text: string;
}

export interface ReadOverrides {
  files: OverrideFile[];
  /** one line each: the file and why it was not read */
  problems: string[];
  /** a digest of every file's path and text ('' when there are none): part of the analysis cache key */
  key: string;
}

const MAX_BYTES = 4 * 1024 * 1024;

export function readKbOverrides(patterns: readonly string[], baseDir: string): ReadOverrides {
  const files: OverrideFile[] = [];
  const problems: string[] = [];
  for (const pattern of patterns) {
    const abs = path.resolve(baseDir, pattern);
    const base = path.basename(abs);
    if (base.includes('*')) {
      const dir = path.dirname(abs);
      const re = new RegExp(`^${base.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
      let names: string[];
      try {
        names = fs.readdirSync(dir).filter((n) => re.test(n)).sort();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') problems.push(`${pattern}: cannot list ${dir} (${code ?? String(e)})`);
        continue;
      }
      for (const n of names) readOne(path.join(dir, n), path.join(path.dirname(pattern), n), files, problems);
    } else {
      readOne(abs, pattern, files, problems);
    }
  }
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.path}\0${f.text}\0`);
  return { files, problems, key: files.length ? h.digest('hex').slice(0, 16) : '' };
}

function readOne(abs: string, shown: string, files: OverrideFile[], problems: string[]): void {
  try {
    const st = fs.statSync(abs);
    if (!st.isFile()) {
      problems.push(`${shown}: not a regular file; knowledge-base override not loaded`);
      return;
    }
    if (st.size > MAX_BYTES) {
      problems.push(`${shown}: ${(st.size / 2 ** 20).toFixed(1)} MB is too large for a knowledge-base override (limit 4 MB); not loaded`);
      return;
    }
    files.push({ path: shown, text: fs.readFileSync(abs, 'utf8') });
  } catch (e) {
    problems.push(`${shown}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)}); knowledge-base override not loaded`);
  }
}
