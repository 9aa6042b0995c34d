// Loads the knowledge base: the built-in data files (bundled JSON) plus optional user override files,
// validated entry by entry, and indexed by name per kernel table.
// An invalid built-in entry is a developer error and throws (file, JSON path, reason).
// An invalid override entry is skipped and reported in `problems`; loading overrides never throws.
import type { z } from 'zod';
import { GfpModel } from '../gfp';
import allocatorsJson from './data/allocators.json';
import gfp61Json from './data/gfp-6.1.json';
import gfp612Json from './data/gfp-6.12.json';
import guardsJson from './data/guards.json';
import lockFlagsJson from './data/lockFlags.json';
import locksJson from './data/locks.json';
import scopesJson from './data/scopes.json';
import sleepersJson from './data/sleepers.json';
import lockContextsJson from './data/lockContexts.json';
import maskHelpersJson from './data/maskHelpers.json';
import transactionsJson from './data/transactions.json';
import uaccessJson from './data/uaccess.json';
import reclaimEntriesJson from './data/reclaimEntries.json';
import reclaimGatesJson from './data/reclaimGates.json';
import crossWaitsJson from './data/crossWaits.json';
import accessorsJson from './data/accessors.json';
import fieldTypesJson from './data/fieldTypes.json';
import classKeysJson from './data/classKeys.json';
import deferredCallsJson from './data/deferredCalls.json';
import lockOrdersJson from './data/lockOrders.json';
import dispatchesJson from './data/dispatches.json';
import { ENTRY_KEYS, entrySchemas, gfpTableFileSchema, type EntryKey } from './schema';
import type {
  AccessorEntry, AllocatorEntry, ClassKeyEntry, CrossWaitEntry, DeferredCallEntry, DispatchEntry, LockOrderEntry, FieldTypeEntry, GfpTableFile, GuardEntry, KernelTable, KnowledgeBase,
  LockApiEntry, LockContextEntry, LockFlagEntry, MaskHelperEntry, ReclaimEntry, ReclaimGateEntry, ScopeApiEntry,
  SleeperEntry, TransactionEntry, UaccessEntry,
} from './types';

export const KERNEL_TABLES: readonly KernelTable[] = ['6.1', '6.12'];

/** The built-in data files by file name, as imported (exported so tests can feed corrupted copies to buildKnowledgeBase). */
export const BUILTIN_FILES: Readonly<Record<string, unknown>> = {
  'gfp-6.1.json': gfp61Json,
  'gfp-6.12.json': gfp612Json,
  'allocators.json': allocatorsJson,
  'scopes.json': scopesJson,
  'locks.json': locksJson,
  'lockFlags.json': lockFlagsJson,
  'guards.json': guardsJson,
  'uaccess.json': uaccessJson,
  'sleepers.json': sleepersJson,
  'transactions.json': transactionsJson,
  'maskHelpers.json': maskHelpersJson,
  'lockContexts.json': lockContextsJson,
  'reclaimEntries.json': reclaimEntriesJson,
  'reclaimGates.json': reclaimGatesJson,
  'crossWaits.json': crossWaitsJson,
  'accessors.json': accessorsJson,
  'fieldTypes.json': fieldTypesJson,
  'classKeys.json': classKeysJson,
  'deferredCalls.json': deferredCallsJson,
  'lockOrders.json': lockOrdersJson,
  'dispatches.json': dispatchesJson,
};

/** A user override file: same shapes as the data files, `{ "allocators": [...], "locks": [...], ... }`, comments allowed. */
export interface KbOverride {
  path: string;
  text: string;
}

/** Lookups by name. On 6.12, `allocator()` also resolves `<name>_noprof` to the base entry when that entry has `noprof`. */
export interface KbLookup {
  allocator(name: string): AllocatorEntry | undefined;
  scope(name: string): ScopeApiEntry | undefined;
  lock(name: string): LockApiEntry | undefined;
  /** All flag → class entries of a flag-selected lock API (xfs_ilock); empty when none. */
  lockFlags(api: string): LockFlagEntry[];
  guard(name: string): GuardEntry | undefined;
  uaccess(name: string): UaccessEntry | undefined;
  sleeper(name: string): SleeperEntry | undefined;
  transaction(name: string): TransactionEntry | undefined;
  maskHelper(name: string): MaskHelperEntry | undefined;
  lockContext(name: string): LockContextEntry | undefined;
  /** Every ops-table field reclaim, kswapd, mmu-notifier invalidation or a page fault calls through. */
  reclaimEntries(): readonly ReclaimEntry[];
  /** The ops-table fields allocators allocate through (AllocatorEntry.maskFrom: `alloc_inode`). */
  allocatorOpsFields(): readonly string[];
  /**
   * The entry of an ops-table field. With the struct type known: the entry of exactly that struct and field (or a
   * struct-less entry whose field alone identifies it); unknown: only an entry marked uniqueField.
   */
  reclaimEntry(field: string, struct: string | undefined): ReclaimEntry | undefined;
  /** A token that gates reclaim when tested in an `if` (`__GFP_FS`, `current_is_kswapd`, `PF_MEMALLOC`). */
  reclaimGate(token: string): ReclaimGateEntry | undefined;
  /** Cross-thread waits (loop-back NFS); each applies only when its setting is on. */
  crossWaits(): readonly CrossWaitEntry[];
  /** A function or macro returning a pointer to a known struct (`EXT4_I` → ext4_inode_info). */
  accessor(name: string): AccessorEntry | undefined;
  /** The struct type a field of a struct points to (`inode`, `i_mapping` → "address_space"). */
  fieldType(struct: string, field: string): string | undefined;
  /** the lock class's lockdep key is per filesystem type */
  perFsTypeClass(cls: string): ClassKeyEntry | undefined;
  /** reclaim and fault paths do not follow this call (it is deferred) */
  deferredCall(caller: string, callee: string): DeferredCallEntry | undefined;
  /** a documented lock order `before` → `after` */
  lockOrder(before: string, after: string): LockOrderEntry | undefined;
  /** reclaim and fault paths follow calls through this field of this struct (`ocfs2_stack_operations.dlm_unlock`) */
  dispatch(structField: string): DispatchEntry | undefined;
}

/** The knowledge base as seen by code written for one kernel table. */
export interface KbView extends KbLookup {
  table: KernelTable;
  gfp: GfpModel;
}

/** Per-table views; the lookups on the index itself search the 6.12 view first, then 6.1. */
export interface KbIndex extends KbLookup {
  forTable(table: KernelTable): KbView;
}

export interface KbLoadResult {
  kb: KnowledgeBase;
  index: KbIndex;
  problems: string[];
}

type AnyEntry =
  | AllocatorEntry | ScopeApiEntry | LockApiEntry | LockFlagEntry | GuardEntry | UaccessEntry | SleeperEntry | TransactionEntry
  | MaskHelperEntry | LockContextEntry | ReclaimEntry | ReclaimGateEntry | CrossWaitEntry | AccessorEntry | FieldTypeEntry
  | ClassKeyEntry | DeferredCallEntry | LockOrderEntry | DispatchEntry;
type EntryOf<K extends EntryKey> = z.infer<(typeof entrySchemas)[K]>;
type Entries = { [K in EntryKey]: EntryOf<K>[] };

/** Load the built-in knowledge base plus overrides (later override files win over earlier ones and over built-ins). */
export function loadKnowledgeBase(overrides: readonly KbOverride[] = []): KbLoadResult {
  return buildKnowledgeBase(BUILTIN_FILES, overrides);
}

/** loadKnowledgeBase over an explicit set of built-in files (throws when one of them is invalid). */
export function buildKnowledgeBase(files: Readonly<Record<string, unknown>>, overrides: readonly KbOverride[] = []): KbLoadResult {
  const gfp = {} as Record<KernelTable, GfpTableFile>;
  const models = {} as Record<KernelTable, GfpModel>;
  for (const table of KERNEL_TABLES) {
    const file = `gfp-${table}.json`;
    const parsed = gfpTableFileSchema.safeParse(files[file]);
    if (!parsed.success) throw new Error(`knowledge base ${file}: ${formatIssue(parsed.error.issues[0])}`);
    if (parsed.data.table !== table) throw new Error(`knowledge base ${file}: "table" is ${parsed.data.table}, expected ${table}`);
    gfp[table] = parsed.data;
    try {
      models[table] = new GfpModel(parsed.data);
    } catch (e) {
      throw new Error(`knowledge base ${file}: ${(e as Error).message}`);
    }
  }

  const entries = emptyEntries();
  const ctx: CheckCtx = { models, entries };
  for (const key of ENTRY_KEYS) {
    const file = `${key}.json`;
    const raw = files[file];
    if (!isObject(raw) || !Array.isArray(raw[key])) throw new Error(`knowledge base ${file}: expected an object with a "${key}" array`);
    const extra = Object.keys(raw).filter((k) => k !== key && !k.startsWith('$'));
    if (extra.length) throw new Error(`knowledge base ${file}: unexpected key(s) ${extra.join(', ')}`);
    const seen = new Map<string, EntryOf<EntryKey>>();
    (raw[key] as unknown[]).forEach((item, i) => {
      const entry = parseEntry(key, item);
      if (typeof entry === 'string') throw new Error(`knowledge base ${file}: ${key}[${i}]${nameOf(item)}${entry}`);
      const bad = crossCheck(key, entry, ctx);
      if (bad) throw new Error(`knowledge base ${file}: ${key}[${i}]${nameOf(item)}: ${bad}`);
      for (const table of tablesOf(entry)) {
        const id = `${table}:${keyOf(key, entry)}`;
        if (seen.has(id)) throw new Error(`knowledge base ${file}: ${key}[${i}]${nameOf(item)}: duplicate for table ${table}`);
        seen.set(id, entry);
      }
      (entries[key] as EntryOf<EntryKey>[]).push(entry);
    });
  }

  const problems: string[] = [];
  for (const o of overrides) applyOverride(o, ctx, problems);

  const kb: KnowledgeBase = { gfp, ...entries };
  return { kb, index: buildIndex(entries, models), problems };
}

/** Remove `//` and `/* *\/` comments outside strings, and trailing commas before `]` or `}` (JSONC). */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' '); // keep line numbers for JSON.parse errors
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  // second pass: trailing commas (strings are intact now, comments gone)
  let res = '';
  for (let k = 0; k < out.length; k++) {
    const c = out[k];
    if (c === '"') {
      let j = k + 1;
      while (j < out.length && out[j] !== '"') j += out[j] === '\\' ? 2 : 1;
      res += out.slice(k, j + 1);
      k = j;
      continue;
    }
    if (c === ',') {
      let j = k + 1;
      while (j < out.length && /\s/.test(out[j])) j++;
      if (out[j] === ']' || out[j] === '}') continue;
    }
    res += c;
  }
  return res;
}

// ---- internals

interface CheckCtx {
  models: Record<KernelTable, GfpModel>;
  entries: Entries;
}

function emptyEntries(): Entries {
  return {
    allocators: [], scopes: [], locks: [], lockFlags: [], guards: [], uaccess: [], sleepers: [], transactions: [], maskHelpers: [],
    lockContexts: [], reclaimEntries: [], reclaimGates: [], crossWaits: [], accessors: [], fieldTypes: [], classKeys: [], deferredCalls: [], lockOrders: [], dispatches: [],
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nameOf(item: unknown): string {
  if (!isObject(item)) return '';
  const n =
    item.name ??
    item.token ??
    (item.api !== undefined ? `${String(item.api)} ${String(item.flag)}` : undefined) ??
    (item.field !== undefined ? (item.struct !== undefined ? `${String(item.struct)}.${String(item.field)}` : item.field) : undefined);
  if (typeof n !== 'string') return '';
  // A message is one line: a name with line breaks or other control characters is quoted as JSON.
  return ` (${/[\u0000-\u001f\u007f\u2028\u2029]/.test(n) ? JSON.stringify(n) : n})`;
}

function formatPath(path: (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

function formatIssue(issue: z.ZodIssue | undefined): string {
  if (!issue) return 'invalid';
  let message = issue.message;
  if (issue.code === 'invalid_union') {
    const alts = issue.unionErrors.map((e) => e.issues[0]?.message).filter((m): m is string => !!m);
    if (alts.length) message = alts.join(', or ');
  }
  const where = formatPath(issue.path);
  return `${where ? where.replace(/^\./, '') + ': ' : ''}${message}`;
}

/** The entry, or a message starting with the JSON path inside the entry (".gfpArg: ..." or ": ..."). */
function parseEntry(key: EntryKey, item: unknown): EntryOf<EntryKey> | string {
  const parsed = entrySchemas[key].safeParse(item);
  if (parsed.success) return parsed.data as EntryOf<EntryKey>;
  const issues = parsed.error.issues;
  const first = issues[0];
  const where = first ? formatPath(first.path) : '';
  const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
  return `${where}: ${formatIssue(first ? { ...first, path: [] } : undefined)}${more}`;
}

function tablesOf(entry: AnyEntry): readonly KernelTable[] {
  const v = (entry as { versions?: KernelTable[] }).versions;
  return v && v.length ? v : KERNEL_TABLES;
}

function keyOf(key: EntryKey, entry: AnyEntry): string {
  switch (key) {
    case 'lockFlags':
      return `${(entry as LockFlagEntry).api}|${(entry as LockFlagEntry).flag}`;
    case 'reclaimEntries':
      return reclaimKey((entry as ReclaimEntry).struct, (entry as ReclaimEntry).field);
    case 'reclaimGates':
      return (entry as ReclaimGateEntry).token;
    case 'fieldTypes':
      return `${(entry as FieldTypeEntry).struct}.${(entry as FieldTypeEntry).field}`;
    case 'classKeys':
      return (entry as ClassKeyEntry).cls;
    case 'lockOrders':
      return `${(entry as LockOrderEntry).before}>${(entry as LockOrderEntry).after}`;
    case 'dispatches':
      return `${(entry as DispatchEntry).struct}.${(entry as DispatchEntry).field}`;
    case 'deferredCalls':
      return `${(entry as DeferredCallEntry).caller ?? '*'}>${(entry as DeferredCallEntry).callee}`;
    default:
      return (entry as { name: string }).name;
  }
}

/** "super_operations.evict_inode"; ".scan_objects" for a struct-less entry. */
function reclaimKey(struct: string | undefined, field: string): string {
  return `${struct ?? ''}.${field}`;
}

/** Gfp names that do not resolve in some table the entry applies to: "unknown gfp name(s) … in the 6.1 table". */
function unknownGfp(names: readonly string[], tables: readonly KernelTable[], ctx: CheckCtx): string | undefined {
  for (const table of tables) {
    const unknown = names.filter((n) => ctx.models[table].lookup(n) === undefined);
    if (unknown.length) return `unknown gfp name(s) ${unknown.join(', ')} in the ${table} table`;
  }
  return undefined;
}

/** Rules that need other data: gfp names resolve in every table the entry applies to, guards name lock APIs. */
function crossCheck(key: EntryKey, entry: AnyEntry, ctx: CheckCtx): string | undefined {
  if (key === 'allocators') {
    const a = entry as AllocatorEntry;
    const names = [...(a.implicit ? [a.implicit] : []), ...(a.adds ?? []), ...(a.clears ?? [])];
    for (const table of tablesOf(a)) {
      const unknown = names.filter((n) => ctx.models[table].lookup(n) === undefined);
      if (unknown.length) return `unknown gfp name(s) ${unknown.join(', ')} in the ${table} table`;
    }
  } else if (key === 'maskHelpers') {
    const h = entry as MaskHelperEntry;
    for (const table of tablesOf(h)) {
      const unknown = (h.adds ?? []).filter((n) => ctx.models[table].lookup(n) === undefined);
      if (unknown.length) return `unknown gfp name(s) ${unknown.join(', ')} in the ${table} table`;
    }
  } else if (key === 'guards') {
    const g = entry as GuardEntry;
    const lock = ctx.entries.locks.find((l) => l.name === g.lock);
    const unlock = ctx.entries.locks.find((l) => l.name === g.unlock);
    if (!lock) return `lock: no lock API named ${g.lock}`;
    if (!unlock) return `unlock: no lock API named ${g.unlock}`;
    if (lock.op !== 'acquire' && lock.op !== 'trylock') return `lock: ${g.lock} is a ${lock.op}, not an acquire`;
    if (unlock.op !== 'release') return `unlock: ${g.unlock} is a ${unlock.op}, not a release`;
  } else if (key === 'lockFlags') {
    const f = entry as LockFlagEntry;
    const api = ctx.entries.locks.find((l) => l.name === f.api);
    if (!api) return `api: no lock API named ${f.api}`;
    if (api.flagsArg === undefined) return `api: ${f.api} has no flagsArg`;
  } else if (key === 'reclaimEntries') {
    const r = entry as ReclaimEntry;
    const bad = unknownGfp(r.requires ?? [], tablesOf(r), ctx);
    if (bad) return `requires: ${bad}`;
    // A field that identifies its entry alone must not also belong to another struct's entry in the same table.
    const tables = tablesOf(r);
    for (const other of ctx.entries.reclaimEntries) {
      if (other.field !== r.field || other.struct === r.struct || !(other.uniqueField || r.uniqueField)) continue;
      if (!tablesOf(other).some((t) => tables.includes(t))) continue;
      return `uniqueField: ${r.field} is also a field of ${other.struct ?? '(no struct)'} in the knowledge base`;
    }
  } else if (key === 'reclaimGates') {
    const g = entry as ReclaimGateEntry;
    const bad = unknownGfp(g.bits ?? [], KERNEL_TABLES, ctx);
    if (bad) return `bits: ${bad}`;
    // A token that is itself a gfp name (__GFP_FS, GFP_KERNEL) tests exactly its own bits.
    for (const table of KERNEL_TABLES) {
      const own = ctx.models[table].lookup(g.token);
      if (own === undefined || !g.bits) continue;
      const sum = g.bits.reduce((m, b) => m | (ctx.models[table].lookup(b) ?? 0), 0);
      if (sum !== own) return `bits: ${g.bits.join('|')} is not ${g.token} in the ${table} table`;
    }
  }
  return undefined;
}

function applyOverride(o: KbOverride, ctx: CheckCtx, problems: string[]): void {
  let data: unknown;
  const text = stripJsonComments(o.text);
  try {
    data = JSON.parse(text);
  } catch (e) {
    // The stripped text keeps the line breaks: a position in it is on the same line of the file.
    // V8 quotes a short input in its message, line breaks and all: escaped, the message stays one line.
    const message = (e as Error).message.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const at = /at position (\d+)/.exec(message);
    const pos = at ? Number(at[1]) : /end of JSON input/.test(message) ? text.length : undefined;
    const line = pos === undefined ? '' : ` (line ${text.slice(0, pos).split('\n').length})`;
    problems.push(`${o.path}: invalid JSON${line}: ${message}; file ignored`);
    return;
  }
  if (!isObject(data)) {
    problems.push(`${o.path}: expected an object such as { "allocators": [...] }; file ignored`);
    return;
  }
  for (const k of Object.keys(data)) {
    if (k.startsWith('$') || (ENTRY_KEYS as string[]).includes(k)) continue;
    problems.push(`${o.path}: unknown key ${JSON.stringify(k)} (expected ${ENTRY_KEYS.join(', ')}); ignored`);
  }
  for (const key of ENTRY_KEYS) {
    const list = data[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.push(`${o.path}: ${key}: expected an array; ignored`);
      continue;
    }
    list.forEach((item, i) => {
      const entry = parseEntry(key, item);
      if (typeof entry === 'string') {
        problems.push(`${o.path}: ${key}[${i}]${nameOf(item)}${entry}; entry skipped`);
        return;
      }
      const bad = crossCheck(key, entry, ctx);
      if (bad) {
        problems.push(`${o.path}: ${key}[${i}]${nameOf(item)}: ${bad}; entry skipped`);
        return;
      }
      // An override replaces earlier entries with the same key whose tables it covers.
      const covers = new Set(tablesOf(entry));
      const id = keyOf(key, entry);
      const list2 = ctx.entries[key] as AnyEntry[];
      const kept = list2.filter((e) => keyOf(key, e) !== id || !tablesOf(e).every((t) => covers.has(t)));
      (ctx.entries[key] as AnyEntry[]) = [...kept, entry];
    });
  }
}

function buildIndex(entries: Entries, models: Record<KernelTable, GfpModel>): KbIndex {
  const views = {} as Record<KernelTable, KbView>;
  for (const table of KERNEL_TABLES) {
    const byName = <K extends EntryKey>(key: K): Map<string, EntryOf<K>> => {
      const m = new Map<string, EntryOf<K>>();
      for (const e of entries[key]) if (tablesOf(e).includes(table)) m.set(keyOf(key, e), e); // later entries win
      return m;
    };
    const allocators = byName('allocators');
    const opsFields = [...new Set([...allocators.values()].flatMap((a) => (a.maskFrom ? [a.maskFrom.field] : [])))];
    const scopes = byName('scopes');
    const locks = byName('locks');
    const guards = byName('guards');
    const uaccess = byName('uaccess');
    const sleepers = byName('sleepers');
    const transactions = byName('transactions');
    const maskHelpers = byName('maskHelpers');
    const lockContexts = byName('lockContexts');
    const reclaim = byName('reclaimEntries');
    const reclaimList = [...reclaim.values()];
    const uniqueFields = new Map<string, ReclaimEntry>();
    for (const e of reclaimList) if (e.uniqueField) uniqueFields.set(e.field, e);
    const gates = byName('reclaimGates');
    const crossWaitList = [...byName('crossWaits').values()];
    const accessors = byName('accessors');
    const fieldTypes = byName('fieldTypes');
    const classKeys = byName('classKeys');
    const deferred = byName('deferredCalls');
    const orders = byName('lockOrders');
    const dispatches = byName('dispatches');
    const flags = new Map<string, LockFlagEntry[]>();
    for (const f of byName('lockFlags').values()) flags.set(f.api, [...(flags.get(f.api) ?? []), f]);
    views[table] = {
      table,
      gfp: models[table],
      allocator(name) {
        const direct = allocators.get(name);
        // alloc_hooks() wrappers (6.10+): foo() expands to foo_noprof() with the same arguments.
        if (direct || table !== '6.12' || !name.endsWith('_noprof')) return direct;
        const base = allocators.get(name.slice(0, -'_noprof'.length));
        return base?.noprof ? base : undefined;
      },
      scope: (name) => scopes.get(name),
      lock: (name) => locks.get(name),
      lockFlags: (api) => flags.get(api) ?? [],
      guard: (name) => guards.get(name),
      uaccess: (name) => uaccess.get(name),
      sleeper: (name) => sleepers.get(name),
      transaction: (name) => transactions.get(name),
      maskHelper: (name) => maskHelpers.get(name),
      lockContext: (name) => lockContexts.get(name),
      reclaimEntries: () => reclaimList,
      allocatorOpsFields: () => opsFields,
      reclaimEntry(field, struct) {
        if (struct === undefined) return uniqueFields.get(field);
        return reclaim.get(reclaimKey(struct, field)) ?? reclaim.get(reclaimKey(undefined, field));
      },
      reclaimGate: (token) => gates.get(token),
      crossWaits: () => crossWaitList,
      accessor: (name) => accessors.get(name),
      fieldType: (struct, field) => fieldTypes.get(`${struct}.${field}`)?.type,
      perFsTypeClass: (cls) => classKeys.get(cls),
      deferredCall: (caller, callee) => deferred.get(`${caller}>${callee}`) ?? deferred.get(`*>${callee}`),
      lockOrder: (before, after) => orders.get(`${before}>${after}`),
      dispatch: (structField) => dispatches.get(structField),
    };
  }
  const order = [views['6.12'], views['6.1']];
  const first = <T>(f: (v: KbView) => T | undefined): T | undefined => {
    for (const v of order) {
      const r = f(v);
      if (r !== undefined) return r;
    }
    return undefined;
  };
  return {
    forTable: (table) => views[table],
    allocator: (name) => first((v) => v.allocator(name)),
    scope: (name) => first((v) => v.scope(name)),
    lock: (name) => first((v) => v.lock(name)),
    lockFlags: (api) => first((v) => (v.lockFlags(api).length ? v.lockFlags(api) : undefined)) ?? [],
    guard: (name) => first((v) => v.guard(name)),
    uaccess: (name) => first((v) => v.uaccess(name)),
    sleeper: (name) => first((v) => v.sleeper(name)),
    transaction: (name) => first((v) => v.transaction(name)),
    maskHelper: (name) => first((v) => v.maskHelper(name)),
    lockContext: (name) => first((v) => v.lockContext(name)),
    reclaimEntries: () => mergeByKey(order.map((v) => v.reclaimEntries()), (e) => reclaimKey(e.struct, e.field)),
    allocatorOpsFields: () => [...new Set(order.flatMap((v) => v.allocatorOpsFields()))],
    reclaimEntry: (field, struct) => first((v) => v.reclaimEntry(field, struct)),
    reclaimGate: (token) => first((v) => v.reclaimGate(token)),
    crossWaits: () => mergeByKey(order.map((v) => v.crossWaits()), (e) => e.name),
    accessor: (name) => first((v) => v.accessor(name)),
    fieldType: (struct, field) => first((v) => v.fieldType(struct, field)),
    perFsTypeClass: (cls) => first((v) => v.perFsTypeClass(cls)),
    deferredCall: (caller, callee) => first((v) => v.deferredCall(caller, callee)),
    lockOrder: (before, after) => first((v) => v.lockOrder(before, after)),
    dispatch: (structField) => first((v) => v.dispatch(structField)),
  };
}

/** The lists of several views as one, each key once: the first view that has it wins. */
function mergeByKey<T>(lists: readonly (readonly T[])[], key: (e: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const list of lists) {
    for (const e of list) {
      const k = key(e);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(e);
    }
  }
  return out;
}
