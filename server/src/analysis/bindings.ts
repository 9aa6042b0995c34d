// Functions stored into the fields of structs of function pointers: `.evict_inode = xfs_fs_evict_inode,` in a
// `struct super_operations` initializer, `.ops = { .init_sched = dd_init_sched, … }` nested in a `struct
// elevator_type`, or `shrinker->scan_objects = foo_scan;`. Reclaim, kswapd, mmu-notifier invalidation and page faults
// enter filesystem and driver code through some of these fields (knowledge base: reclaimEntries), allocators allocate
// through others (`.alloc_inode`: AllocatorEntry.maskFrom), and every `ops->field(…)` call of the tree resolves
// through all of them (interproc.ts, indirect calls).
import type { Node } from 'web-tree-sitter';
import type { SourceFile } from '../syntax/sourceFile';
import type { OpsBinding, StructField } from './facts';
import type { KbView } from './kbView';

/** `.field = name` or `->field = name`, the value a plain identifier (or its address) ending the initializer or statement. */
const STORE = /(\.|->)\s*([A-Za-z_]\w*)\s*=\s*&?\s*([A-Za-z_]\w*)\s*(?=[,;}\n]|$)/g;
/** identifiers the file calls, declares or defines as functions: `name(` */
const CALLED = /\b([A-Za-z_]\w*)\s*\(/g;

const kbFieldSets = new WeakMap<KbView, Set<string>>();

/** The fields the knowledge base names (reclaim entries, allocators' ops fields): stores into them are always kept. */
function kbFields(kb: KbView): Set<string> {
  let s = kbFieldSets.get(kb);
  if (!s) kbFieldSets.set(kb, (s = new Set([...kb.reclaimEntries().map((e) => e.field), ...kb.allocatorOpsFields()])));
  return s;
}

export function opsBindingsOf(file: SourceFile, kb: KbView): OpsBinding[] {
  const known = kbFields(kb);
  const out: OpsBinding[] = [];
  const text = file.text;
  let called: Set<string> | undefined;
  for (const m of text.matchAll(STORE)) {
    const fn = m[3];
    if (fn === 'NULL' || fn === 'true' || fn === 'false' || /^[A-Z0-9_]+$/.test(fn)) continue;
    const at = m.index! + m[0].indexOf(m[2], m[1].length);
    const init = m[1] === '.' ? initializerOf(file, at) : undefined;
    // An assignment outside an initializer stores a function only if the file names it as one (`foo_scan(`): most
    // `x->count = n;` are data. Stores into the fields the knowledge base names are kept as they are.
    if (!init && !known.has(m[2])) {
      called ??= new Set([...text.matchAll(CALLED)].map((c) => c[1]));
      if (!called.has(fn)) continue;
    }
    const fnAt = m.index! + m[0].lastIndexOf(fn);
    const object = init ? undefined : assignedObjectType(text, m.index!);
    out.push({
      field: m[2], fn, ...(init?.struct ? { struct: init.struct } : {}), ...(init?.nested.length ? { nested: init.nested } : {}),
      ...(object ? { object } : {}), span: { start: fnAt, end: fnAt + fn.length },
    });
  }
  return out;
}

/**
 * The declared struct type of the initializer a designator is in, and the designators of the enclosing nested lists
 * (`static struct elevator_type mq_deadline = { .ops = { .init_sched = … } }`: "elevator_type", ["ops"]).
 * Undefined outside a declaration's initializer (an assignment `x.field = f;`).
 */
function initializerOf(file: SourceFile, at: number): { struct?: string; nested: string[] } | undefined {
  let n: Node | null = file.tree.rootNode.descendantForIndex(at, at + 1);
  let lists = 0;
  const nested: string[] = [];
  for (let up = 0; n && up < 24; up++, n = n.parent) {
    const t = n.type;
    if (t === 'initializer_list') lists++;
    else if (t === 'initializer_pair' && lists > 0) {
      // A pair whose value holds the list we came from: its designator names the nested struct's field.
      const d = n.namedChild(0);
      if (d?.type === 'field_designator') nested.unshift(d.text.replace(/^\.\s*/, ''));
      else return { nested: [] };
    } else if (t === 'expression_statement' || t === 'function_definition' || t === 'compound_statement') return lists ? { nested: [] } : undefined;
    else if (t === 'declaration' && lists) {
      const ty = n.childForFieldName('type');
      if (ty?.type === 'struct_specifier') return { struct: ty.childForFieldName('name')?.text, nested };
      if (ty?.type === 'type_identifier') return { struct: ty.text, nested };
      return { nested: [] };
    }
  }
  return lists ? { nested: [] } : undefined;
}

/**
 * The struct type of the object an assignment stores into, when the object is a plain identifier declared as a
 * pointer to a struct in the text before it (`struct shrinker *s = shrinker_alloc(…);` … `s->scan_objects = …`).
 */
function assignedObjectType(text: string, at: number): string | undefined {
  const id = /([A-Za-z_]\w*)\s*$/.exec(text.slice(Math.max(0, at - 64), at));
  if (!id || /[\w\]).>]\s*(?:->|\.)\s*$/.test(text.slice(Math.max(0, at - 66 - id[1].length), at - id[0].length))) return undefined;
  const before = text.slice(Math.max(0, at - 4000), at);
  let found: string | undefined;
  for (const d of before.matchAll(new RegExp(`\\bstruct\\s+([A-Za-z_]\\w*)\\s*\\*\\s*${id[1]}\\s*[;=,)]`, 'g'))) found = d[1];
  return found;
}

/**
 * The struct-typed fields of the structs this file defines (`struct ocfs2_stack_plugin { … struct
 * ocfs2_stack_operations *sp_ops; … }`): the whole-program pass follows them to name the struct an indirect call's
 * object points to (`active_stack->sp_ops->dlm_unlock(…)` → `ocfs2_stack_operations`). Read from the text: pointer and
 * embedded members declared as `struct T [*]name;`.
 */
export function structFieldsOf(text: string): StructField[] {
  const out: StructField[] = [];
  const head = /\bstruct\s+([A-Za-z_]\w*)\s*\{/g;
  for (const m of text.matchAll(head)) {
    let depth = 0;
    let end = -1;
    for (let i = m.index! + m[0].length - 1; i < text.length; i++) {
      const ch = text[i];
      if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) {
        end = i;
        break;
      }
    }
    if (end < 0) continue;
    const body = text.slice(m.index! + m[0].length, end);
    for (const f of body.matchAll(/\bstruct\s+([A-Za-z_]\w*)\s*(?:\*\s*)*(?:const\s+)?([A-Za-z_]\w*)\s*;/g)) {
      out.push({ struct: m[1], field: f[2], type: f[1] });
    }
  }
  return out;
}
