// Lockdep-style lock class names from lock expressions and the declared types in scope:
// `&ip->i_lock` with `struct xfs_inode *ip` → `&xfs_inode->i_lock`; `inode_lock(dir)` → `&inode->i_rwsem`;
// a statically defined lock `&foo_lock` → `foo_lock` (lockdep prints the variable name for static keys).
import type { Node } from 'web-tree-sitter';
import type { VarDecl } from '../syntax/ast';
import type { LockApiEntry, LockFlagEntry } from '../model/kb/types';

/** The declared type of a name in scope (lazy: built on first use). */
export interface TypeEnv {
  has(name: string): boolean;
  get(name: string): VarDecl | undefined;
  /** knowledge base: the struct an accessor returns a pointer to (`EXT4_I` → `ext4_inode_info`) */
  accessor?(name: string): string | undefined;
  /** knowledge base: the struct a pointer field points to (`inode`, `i_mapping` → `address_space`) */
  fieldType?(struct: string, field: string): string | undefined;
}

/** Sparse context names that are not lock expressions (`RCU` → `rcu_read_lock`): knowledge-base lockContexts. */
export type LockContexts = (name: string) => string | undefined;

export function lockClassName(template: string | undefined, arg: Node | undefined, types: TypeEnv, contexts: LockContexts): string {
  if (template !== undefined && !template.includes('{0}')) return template;
  if (!arg) return template ? template.replace('{0}', '?') : '?';
  const text = arg.text.replace(/\s+/g, '').replace(/\[[^\]]*\]/g, '');
  const context = template ? undefined : contexts(text);
  if (context) return context;
  if (template) {
    // `xa_lock(&root->delayed_nodes)` with `&{0}->xa_lock`: the argument is an address, so the field is `.xa_lock`.
    if (text.startsWith('&') && template.startsWith('&{0}->')) return `&${objectBase(text.slice(1), types)}.${template.slice('&{0}->'.length)}`;
    return template.replace('{0}', objectBase(text, types));
  }
  if (text.startsWith('&')) return addressClass(text, types);
  // `spin_lock(lock)` with a local pointer or parameter `lock`: which lock it points to is not known here; `*lock`
  // names it without pretending it is the static lock of the same name elsewhere.
  if (/^[A-Za-z_]\w*$/.test(text) && types.has(text)) return `*${text}`;
  return text;
}

/**
 * The lockdep-style name of the object an expression points to: the struct type of the last pointer hop whose type
 * is known, followed by the fields after it. `ip->i_lock` (struct xfs_inode *ip) → `xfs_inode->i_lock`;
 * `inode->i_mapping` → `address_space`; `EXT4_I(inode)->i_data_sem` → `ext4_inode_info->i_data_sem`. Unknown types
 * leave the text as written.
 */
function objectBase(text: string, types: TypeEnv): string {
  const p = resolvePath(text, types);
  return p ? `${p.base}${p.rest}` : text;
}

/** Splits `base(->|.)f1(->|.)f2…` (base an identifier or an accessor call) and walks the known field types. */
function resolvePath(text: string, types: TypeEnv): { base: string; rest: string } | undefined {
  const t = stripParens(text);
  const id = /^[A-Za-z_]\w*/.exec(t);
  if (!id) return undefined;
  let i = id[0].length;
  let struct: string | undefined;
  let base = id[0];
  if (t[i] === '(') {
    // An accessor call: EXT4_I(inode), file_inode(file), folio_inode(folio).
    let depth = 0;
    let j = i;
    for (; j < t.length; j++) {
      if (t[j] === '(') depth++;
      else if (t[j] === ')' && --depth === 0) break;
    }
    if (j >= t.length) return undefined;
    struct = types.accessor?.(id[0]);
    base = t.slice(0, j + 1);
    i = j + 1;
  } else {
    struct = typeName(id[0], types);
  }
  const rest = t.slice(i);
  if (rest !== '' && !/^(?:(?:->|\.)[A-Za-z_]\w*)+$/.test(rest)) return { base: struct ?? base, rest };
  if (!struct) return { base, rest };
  // Walk the fields whose pointee types the knowledge base knows.
  const hops = [...rest.matchAll(/(->|\.)([A-Za-z_]\w*)/g)];
  let at: string = struct;
  let k = 0;
  for (; k < hops.length; k++) {
    const next: string | undefined = types.fieldType?.(at, hops[k][2]);
    if (!next) break;
    at = next;
  }
  return { base: at, rest: hops.slice(k).map((h) => `${h[1]}${h[2]}`).join('') };
}

/**
 * The struct key of the object an expression denotes, for a call through one of its function-pointer fields: `e->ops`
 * with `struct elevator_type *e` → "elevator_type.ops" (the fields after the last hop whose pointee type is known
 * follow the struct, joined by dots); `ops` with `const struct foo_ops *ops` → "foo_ops"; `(*ops)` likewise.
 * Undefined when the type of the expression's base is not known.
 */
export function objectTypeKey(text: string, local: TypeEnv, fileScope?: (name: string) => string | undefined): string | undefined {
  // A name not declared in the function may be a file-scope object (`static struct ocfs2_stack_plugin *active_stack;`).
  const types: TypeEnv = fileScope
    ? { ...local, get: (n) => local.get(n) ?? fileScopeDecl(n, fileScope), has: (n) => local.has(n) || !!fileScope(n) }
    : local;
  let t = stripParens(text.replace(/\s+/g, '').replace(/\[[^\]]*\]/g, ''));
  while (t.startsWith('*')) t = stripParens(t.slice(1));
  const p = resolvePath(t, types);
  if (!p || !/^(?:(?:->|\.)[A-Za-z_]\w*)*$/.test(p.rest)) return undefined;
  // resolvePath gives the text itself as the base when the type of its first identifier is not known.
  const id = /^[A-Za-z_]\w*/.exec(t)![0];
  if (p.base === id && !types.get(id)?.structTag && !types.get(id)?.typedefName) return undefined;
  if (p.base.includes('(')) return undefined;
  return `${p.base}${p.rest.replace(/->/g, '.')}`;
}

function fileScopeDecl(name: string, fileScope: (name: string) => string | undefined): VarDecl | undefined {
  const tag = fileScope(name);
  return tag ? ({ name, typeText: `struct ${tag} *`, structTag: tag, pointerDepth: 1 } as unknown as VarDecl) : undefined;
}

function stripParens(t: string): string {
  while (t.startsWith('(') && t.endsWith(')')) {
    let depth = 0;
    let closesAtEnd = true;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === '(') depth++;
      else if (t[i] === ')' && --depth === 0 && i !== t.length - 1) {
        closesAtEnd = false;
        break;
      }
    }
    if (!closesAtEnd) break;
    t = t.slice(1, -1);
  }
  return t;
}

function typeName(id: string, types: TypeEnv): string | undefined {
  const d = types.get(id);
  if (!d) return undefined;
  return d.structTag ?? d.typedefName;
}

/** The class of a lock written as text (an annotation argument after parameter substitution). */
export function lockClassFromText(text: string, types: TypeEnv, contexts: LockContexts): string {
  const t = text.replace(/\s+/g, '').replace(/\[[^\]]*\]/g, '');
  const context = contexts(t);
  if (context) return context;
  return t.startsWith('&') ? addressClass(t, types) : t;
}

/** `&foo_lock` (a static lock: its name), `&ip->i_lock` (a field: the object's type and the field). */
function addressClass(text: string, types: TypeEnv): string {
  const inner = stripParens(text.slice(1));
  const m = /^([A-Za-z_]\w*)$/.exec(inner);
  if (m) return types.has(m[1]) ? `&${m[1]}` : m[1];
  const p = resolvePath(inner, types);
  return p ? `&${p.base}${p.rest}` : text;
}

/** A class a lock-API call names; `anyOf`: one of several, unknown which (a release with a variable mode). */
export interface CallLockClass {
  cls: string;
  read: boolean;
  anyOf?: boolean;
}

/**
 * The lock classes a call of a lock API names: one, or several for flag-selected APIs such as
 * `xfs_ilock(ip, A|B)` (knowledge base: lockFlags). `xfs_iunlock(dp, lock_mode)` with a variable mode (which
 * xfs_ilock_data_map_shared() returned) releases one of the API's classes, unknown which; an acquisition in an
 * unknown mode names none.
 */
export function lockClassesOfCall(api: LockApiEntry, args: readonly Node[], lockFlags: (api: string) => readonly LockFlagEntry[], types: TypeEnv, contexts: LockContexts): CallLockClass[] {
  const obj = api.lockArg === null ? undefined : args[api.lockArg];
  if (api.flagsArg !== undefined) {
    const flags = args[api.flagsArg]?.text ?? '';
    const out: CallLockClass[] = [];
    for (const lf of lockFlags(api.name)) {
      if (new RegExp(`\\b${lf.flag}\\b`).test(flags)) out.push({ cls: lockClassName(lf.classTemplate, obj, types, contexts), read: lf.read });
    }
    if (out.length) return out;
    if (!/\b[A-Z][A-Z0-9_]+\b/.test(flags)) {
      if (api.op !== 'release') return [];
      const all = new Map<string, CallLockClass>();
      for (const lf of lockFlags(api.name)) {
        const cls = lockClassName(lf.classTemplate, obj, types, contexts);
        if (!all.has(cls)) all.set(cls, { cls, read: lf.read, anyOf: true });
      }
      return [...all.values()];
    }
  }
  return [{ cls: lockClassName(api.classTemplate, obj, types, contexts), read: !!api.read }];
}
