// Where the simulation panel may open files: inside a workspace folder or beside the model. Imports no `vscode`.
import * as path from 'node:path';

/** Whether `child` is strictly inside the folder `parent` (lexically: `..` segments are resolved first). */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** The first of `roots` that contains `file`, if any. */
export function allowedRoot(file: string, roots: readonly string[]): string | undefined {
  return roots.find((r) => isInside(file, r));
}
