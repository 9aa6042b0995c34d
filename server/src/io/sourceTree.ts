// What the workspace index reads: whether a folder looks like a kernel tree, the folders indexed by default, and
// the .c/.h files below a folder (sorted, .git and node_modules skipped, symlink loops broken by real path: the
// rules of the CLI's file collection). Asynchronous, so that a language server keeps answering while it walks.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The folders of a kernel tree that hold most allocations under locks that reclaim also takes. */
export const DEFAULT_KERNEL_DIRS: readonly string[] = ['fs', 'mm', 'block', 'drivers/gpu', 'drivers/md', 'kernel', 'lib'];

const isDir = async (p: string): Promise<boolean> => {
  try {
    return (await fs.promises.stat(p)).isDirectory();
  } catch {
    return false;
  }
};

/** A top-level Makefile plus fs/ and mm/, or include/linux/. */
export async function looksLikeKernelTree(root: string): Promise<boolean> {
  try {
    if (!(await fs.promises.stat(path.join(root, 'Makefile'))).isFile()) return false;
  } catch {
    return false;
  }
  if ((await isDir(path.join(root, 'fs'))) && (await isDir(path.join(root, 'mm')))) return true;
  return isDir(path.join(root, 'include', 'linux'));
}

/** DEFAULT_KERNEL_DIRS that exist under `root`, as forward-slash relative paths. */
export async function existingKernelDirs(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of DEFAULT_KERNEL_DIRS) if (await isDir(path.join(root, ...d.split('/')))) out.push(d);
  return out;
}

export const isSourceFile = (name: string): boolean => /\.[ch]$/.test(name);

/**
 * Appends the .c and .h files below `abs` (or `abs` itself when it is a file) to `out`, in sorted order; returns
 * an error message for `abs` itself (unreadable subfolders are skipped). `shouldStop` is polled between folders.
 */
export async function collectSourceFiles(abs: string, out: string[], seen = new Set<string>(), shouldStop?: () => boolean): Promise<string | undefined> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file or directory' : code === 'ELOOP' ? 'symbolic link loop' : `cannot access (${code})`;
  }
  if (st.isFile()) {
    out.push(abs);
    return undefined;
  }
  if (!st.isDirectory()) return 'not a regular file or directory';
  let real: string;
  try {
    real = await fs.promises.realpath(abs);
  } catch {
    return 'cannot resolve path';
  }
  if (seen.has(real)) return undefined;
  seen.add(real);
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(abs, { withFileTypes: true });
  } catch (e) {
    return `cannot read directory (${(e as NodeJS.ErrnoException).code})`;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of entries) {
    if (shouldStop?.()) return undefined;
    const p = path.join(abs, d.name);
    if (d.isDirectory() || d.isSymbolicLink()) {
      if (d.isSymbolicLink()) {
        try {
          const target = await fs.promises.stat(p);
          if (!target.isDirectory()) {
            // Only a regular file: a link to a FIFO or a device (`x.c -> /dev/zero`) would block or never end a read.
            if (target.isFile() && isSourceFile(d.name)) out.push(p);
            continue;
          }
        } catch {
          continue; // dangling link or loop
        }
      }
      if (d.name === '.git' || d.name === 'node_modules') continue;
      await collectSourceFiles(p, out, seen, shouldStop);
    } else if (d.isFile() && isSourceFile(d.name)) {
      out.push(p);
    }
  }
  return undefined;
}
