// Functions bound to the ops-table fields through which reclaim, kswapd, mmu-notifier invalidation and page faults
// call filesystem and driver code: `.evict_inode = xfs_fs_evict_inode,` in a `struct super_operations` initializer,
// or `shrinker->scan_objects = foo_scan;`. The fields are knowledge-base data (reclaimEntries), plus those
// allocators allocate through (`.alloc_inode = nilfs_alloc_inode`: AllocatorEntry.maskFrom).
import type { Node } from 'web-tree-sitter';
import type { SourceFile } from '../syntax/sourceFile';
import type { OpsBinding } from './facts';
import type { KbView } from './kbView';

const fieldRes = new WeakMap<KbView, RegExp | null>();

function fieldRe(kb: KbView): RegExp | null {
  let re = fieldRes.get(kb);
  if (re === undefined) {
    const fields = [...new Set([...kb.reclaimEntries().map((e) => e.field), ...kb.allocatorOpsFields()])];
    re = fields.length ? new RegExp(`(\\.|->)\\s*(${fields.join('|')})\\s*=\\s*&?\\s*([A-Za-z_]\\w*)\\s*(?=[,;}\\n]|$)`, 'g') : null;
    fieldRes.set(kb, re);
  }
  return re;
}

export function opsBindingsOf(file: SourceFile, kb: KbView): OpsBinding[] {
  const re = fieldRe(kb);
  if (!re) return [];
  const out: OpsBinding[] = [];
  const text = file.text;
  for (const m of text.matchAll(new RegExp(re.source, 'g'))) {
    const fn = m[3];
    if (fn === 'NULL' || /^[A-Z0-9_]+$/.test(fn)) continue;
    const at = m.index! + m[0].indexOf(m[2]);
    const struct = m[1] === '.' ? initializerStruct(file, at) : undefined;
    const fnAt = m.index! + m[0].lastIndexOf(fn);
    out.push({ field: m[2], fn, ...(struct ? { struct } : {}), span: { start: fnAt, end: fnAt + fn.length } });
  }
  return out;
}

/** `static const struct super_operations xfs_super_operations = { .evict_inode = … }`: "super_operations". */
function initializerStruct(file: SourceFile, at: number): string | undefined {
  let n: Node | null = file.tree.rootNode.descendantForIndex(at, at + 1);
  let sawList = false;
  for (let up = 0; n && up < 12; up++, n = n.parent) {
    if (n.type === 'initializer_list') sawList = true;
    else if (n.type === 'expression_statement' || n.type === 'function_definition' || n.type === 'compound_statement') return undefined;
    else if (n.type === 'declaration' && sawList) {
      const t = n.childForFieldName('type');
      if (t?.type === 'struct_specifier') return t.childForFieldName('name')?.text;
      return undefined;
    }
  }
  return undefined;
}
