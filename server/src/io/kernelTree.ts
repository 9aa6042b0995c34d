// Finding the kernel tree a file belongs to and its version (top-level Makefile: VERSION, PATCHLEVEL, SUBLEVEL).
// IO lives here, at the edge; the analysis only sees the resolved version string.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The latest table we ship; used when `auto` finds no kernel Makefile. */
export const DEFAULT_KERNEL_VERSION = '6.12';

export function readKernelVersion(root: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, 'Makefile'), 'utf8');
  } catch {
    return undefined;
  }
  const get = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\d+)\\s*$`, 'm').exec(text)?.[1];
  const v = get('VERSION');
  const p = get('PATCHLEVEL');
  if (!v || !p) return undefined;
  const s = get('SUBLEVEL');
  return s && s !== '0' ? `${v}.${p}.${s}` : `${v}.${p}`;
}

/** Walks up from `start` to the first directory whose Makefile declares a kernel version. */
export function findKernelRoot(start: string): string | undefined {
  let dir = path.resolve(start);
  for (let i = 0; i < 64; i++) {
    if (readKernelVersion(dir)) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

export interface ResolvedVersion {
  version: string;
  /** how it was found, for status lines: "Makefile of /src/linux", "setting", "default" */
  origin: string;
}

const VERSION_RE = /^\d+\.\d+(\.\d+)?$/;

export function isValidKernelVersion(v: string): boolean {
  return VERSION_RE.test(v);
}

/** `auto` → the Makefile of the tree above `from` (or `root`), else the default; an explicit version is checked. */
export function resolveKernelVersion(setting: string, from: string | undefined): ResolvedVersion | { error: string } {
  if (setting !== 'auto') {
    if (!isValidKernelVersion(setting)) return { error: `bad kernel version '${setting}': expected 'auto' or a version like 6.1 or 6.12.117` };
    return { version: setting, origin: 'setting' };
  }
  const root = from ? findKernelRoot(from) : undefined;
  const v = root ? readKernelVersion(root) : undefined;
  if (root && v) return { version: v, origin: `Makefile of ${root}` };
  return { version: DEFAULT_KERNEL_VERSION, origin: 'default (no kernel Makefile found)' };
}
