// Lockdep-style lock class names from lock expressions and the declared types in scope:
// `&ip->i_lock` with `struct xfs_inode *ip` → `&xfs_inode->i_lock`; `inode_lock(dir)` → `&inode->i_rwsem`;
// a statically defined lock `&foo_lock` → `foo_lock` (lockdep prints the variable name for static keys).
import type { Node } from 'web-tree-sitter';
import type { VarDecl } from '../syntax/ast';

/** The declared type of a name in scope (lazy: built on first use). */
export interface TypeEnv {
  has(name: string): boolean;
  get(name: string): VarDecl | undefined;
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
  if (text.startsWith('&')) {
    const inner = text.slice(1).replace(/^\((.*)\)$/, '$1');
    const m = /^([A-Za-z_]\w*)(.*)$/.exec(inner);
    if (!m) return text;
    const [, id, rest] = m;
    if (rest === '') return types.has(id) ? `&${id}` : id;
    return `&${typeName(id, types) ?? id}${rest}`;
  }
  return text;
}

/** The lockdep-style name of the object an expression points to: its struct tag when declared, else the text. */
function objectBase(text: string, types: TypeEnv): string {
  const m = /^([A-Za-z_]\w*)((?:->|\.).*)?$/.exec(text);
  if (!m) return text;
  return `${typeName(m[1], types) ?? m[1]}${m[2] ?? ''}`;
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
  const m = /^&\(?([A-Za-z_]\w*)(.*?)\)?$/.exec(t);
  if (!m) return t;
  const [, id, rest] = m;
  if (rest === '') return types.has(id) ? `&${id}` : id;
  return `&${typeName(id, types) ?? id}${rest}`;
}
