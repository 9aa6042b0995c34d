// Zod schemas for the knowledge-base files in data/ and for user override files.
// Each entry schema infers exactly the matching interface in types.ts (checked at compile time below).
// Cross-entry rules (names resolving in a gfp table, guards naming existing lock APIs) live in index.ts.
import { z } from 'zod';
import type {
  AccessorEntry,
  AllocatorEntry,
  ClassKeyEntry,
  DispatchEntry,
  CrossWaitEntry,
  DeferredCallEntry,
  LockOrderEntry,
  FieldTypeEntry,
  LockContextEntry,
  MaskHelperEntry,
  GfpBitEntry,
  GfpMaskEntry,
  GfpTableFile,
  GuardEntry,
  KernelTable,
  LockApiEntry,
  LockFlagEntry,
  PfFlag,
  ReclaimEntry,
  ReclaimGateEntry,
  ScopeApiEntry,
  SleeperEntry,
  TransactionEntry,
  UaccessEntry,
} from './types';

const KERNEL_TABLES = ['6.1', '6.12'] as const satisfies readonly KernelTable[];
const PF_FLAGS = ['PF_MEMALLOC', 'PF_MEMALLOC_NOFS', 'PF_MEMALLOC_NOIO', 'PF_MEMALLOC_PIN'] as const satisfies readonly PfFlag[];

export const kernelTableSchema = z.enum(KERNEL_TABLES);
export const pfFlagSchema = z.enum(PF_FLAGS);

/** A C identifier: kernel names are kept verbatim. */
const ident = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a C identifier');
/** A citation: starts with a kernel path ("include/linux/slab.h@6.12:900"); free text may follow. */
const source = z.string().regex(/^[^\s@:]+(@6\.(1|12))?(:\d+)?(\s.*)?$/, 'must start with a kernel path, optionally @6.1/@6.12 and :line');
const argIndex = z.number().int().min(0);
const versions = z.array(kernelTableSchema).min(1);

export const gfpBitEntrySchema = z
  .object({
    name: ident,
    value: z.number().int().positive().nullable(),
    aliases: z.array(ident).optional(),
    meaning: z.string().min(1),
    source,
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.value !== null && (e.value & (e.value - 1)) !== 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['value'], message: 'a gfp bit must be a power of two' });
  });

export const gfpMaskEntrySchema = z
  .object({
    name: ident,
    bits: z.array(ident).min(1),
    clear: z.array(ident).optional(),
    source,
    historical: z.boolean().optional(),
  })
  .strict();

export const gfpTableFileSchema = z
  .object({
    table: kernelTableSchema,
    bits: z.array(gfpBitEntrySchema),
    masks: z.array(gfpMaskEntrySchema),
  })
  .strict();

export const allocatorEntrySchema = z
  .object({
    name: ident,
    class: z.enum(['slab', 'page', 'vmalloc', 'pagecache', 'mempool', 'block', 'xarray', 'idr', 'skb', 'dma', 'percpu', 'string', 'misc']),
    gfpArg: z.union([argIndex, z.literal('last')]).optional(),
    optional: z.boolean().optional(),
    implicit: ident.optional(),
    adds: z.array(ident).optional(),
    clears: z.array(ident).optional(),
    mapping: z.object({ arg: argIndex, mode: z.enum(['mask', 'constraint']) }).strict().optional(),
    mayFault: z.boolean().optional(),
    mayAlwaysSleep: z.boolean().optional(),
    vmallocFallback: z.boolean().optional(),
    noprof: z.boolean().optional(),
    maskFrom: z.object({ struct: ident, field: ident }).strict().optional(),
    versions: versions.optional(),
    note: z.string().optional(),
    source,
  })
  .strict()
  .superRefine((e, ctx) => {
    const problem = maskSourceProblem(e);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });

/**
 * The "exactly one mask source" rule: an explicit gfp argument, an implicit mask, or the mapping's mask.
 * `optional: true` is the one combination of two: the gfp argument, falling back to `implicit` when omitted.
 * A `constraint` mapping narrows a gfp argument (or implicit mask) and is not a source of its own.
 */
export function maskSourceProblem(e: Pick<AllocatorEntry, 'gfpArg' | 'optional' | 'implicit' | 'mapping'>): string | undefined {
  if (e.optional) {
    if (e.gfpArg === undefined || e.implicit === undefined) return 'optional: true needs both gfpArg and implicit (the mask used when the argument is omitted)';
    if (e.mapping?.mode === 'mask') return 'optional gfp argument and mapping mask are two mask sources';
    return undefined;
  }
  const sources = [e.gfpArg !== undefined && 'gfpArg', e.implicit !== undefined && 'implicit', e.mapping?.mode === 'mask' && 'mapping'].filter(Boolean);
  if (sources.length === 0) return 'no mask source: give gfpArg, implicit or mapping {mode: "mask"}';
  if (sources.length > 1) return `more than one mask source (${sources.join(', ')})`;
  return undefined;
}

export const scopeApiEntrySchema = z
  .object({
    name: ident,
    op: z.enum(['save', 'restore']),
    flags: z.union([z.array(pfFlagSchema).min(1), z.literal('arg')]),
    cookieArg: argIndex.optional(),
    family: z.string().min(1),
    versions: versions.optional(),
    source,
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.op === 'restore' && e.cookieArg === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['cookieArg'], message: 'a restore needs cookieArg' });
    if (e.op === 'save' && e.cookieArg !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['cookieArg'], message: 'a save returns its cookie; cookieArg is for restores' });
  });

export const lockApiEntrySchema = z
  .object({
    name: ident,
    op: z.enum(['acquire', 'release', 'trylock', 'assert-held', 'might-acquire']),
    kind: z.enum(['spinlock', 'raw_spinlock', 'rwlock', 'mutex', 'rwsem', 'percpu_rwsem', 'semaphore', 'seqlock', 'rcu', 'srcu', 'preempt', 'irq', 'bh', 'preload', 'bitlock', 'pagefault', 'fence', 'queue-freeze', 'lockdep_map', 'other']),
    lockArg: argIndex.nullable(),
    classTemplate: z.string().min(1).optional(),
    read: z.boolean().optional(),
    atomic: z.boolean(),
    irqsOff: z.boolean().optional(),
    bhOff: z.boolean().optional(),
    sleeps: z.boolean().optional(),
    /** an acquire that returns an error without the lock (interrupted, killed): callers test its result */
    mayFail: z.boolean().optional(),
    flagsArg: argIndex.optional(),
    versions: versions.optional(),
    source,
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.lockArg === null && e.classTemplate === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['classTemplate'], message: 'a context-only API (lockArg: null) needs its pseudo-class name in classTemplate' });
    if (e.lockArg === null && e.classTemplate?.includes('{0}')) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['classTemplate'], message: '{0} refers to the lock argument, but lockArg is null' });
    if (e.flagsArg !== undefined && e.flagsArg === e.lockArg) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['flagsArg'], message: 'flagsArg and lockArg must differ' });
  });

export const lockFlagEntrySchema = z
  .object({
    api: ident,
    flag: ident,
    classTemplate: z.string().min(1),
    read: z.boolean(),
    source,
  })
  .strict();

export const guardEntrySchema = z.object({ name: ident, lock: ident, unlock: ident, source }).strict();

export const uaccessEntrySchema = z
  .object({
    name: ident,
    kind: z.enum(['copy', 'single', 'gup', 'fault-in', 'iter', 'nofault']),
    mayFault: z.boolean(),
    access: z.enum(['read', 'write', 'either']).optional(),
    readdir: z.boolean().optional(),
    source,
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.kind === 'nofault' && e.mayFault) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['mayFault'], message: 'kind "nofault" cannot fault' });
  });

export const sleeperEntrySchema = z.object({ name: ident, releasesArg: argIndex.optional(), source }).strict();

export const transactionEntrySchema = z
  .object({
    name: ident,
    op: z.enum(['open', 'close']),
    subsystem: z.string().min(1),
    resource: z.string().min(1),
    scope: z.union([pfFlagSchema, z.literal('none')]),
    handleArg: z.union([argIndex, z.literal('return')]).optional(),
    versions: versions.optional(),
    conditional: z.string().min(1).optional(),
    source,
  })
  .strict();

export const maskHelperEntrySchema = z
  .object({
    name: ident,
    mappingArg: argIndex,
    gfpArg: argIndex.optional(),
    adds: z.array(z.string().min(1)).optional(),
    versions: versions.optional(),
    source,
  })
  .strict();

export const lockContextEntrySchema = z
  .object({
    name: ident,
    cls: z.string().min(1),
    versions: versions.optional(),
    source,
  })
  .strict();

const RECLAIM_CONTEXTS = ['reclaim', 'kswapd', 'mmu-notifier', 'fault'] as const satisfies readonly ReclaimEntry['context'][];
const reclaimContext = z.enum(RECLAIM_CONTEXTS);
/** One cited step of a kernel path: the function and the line of it that leads on. */
const pathStep = z.object({ fn: ident, source }).strict();

export const reclaimEntrySchema = z
  .object({
    field: ident,
    struct: ident.optional(),
    uniqueField: z.boolean(),
    context: reclaimContext,
    path: z.array(pathStep).min(1),
    requires: z.array(ident).min(1).optional(),
    objects: z.enum(['unreferenced-inode', 'any']).optional(),
    rare: z.string().min(1).optional(),
    onWrite: z.boolean().optional(),
    note: z.string().min(1).optional(),
    versions: versions.optional(),
    source,
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.struct === undefined && !e.uniqueField) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['uniqueField'], message: 'an entry without struct is found by its field alone, so it needs uniqueField: true' });
  });

export const reclaimGateEntrySchema = z
  .object({
    token: ident,
    meaning: z.enum(['gfp-bits', 'kswapd', 'in-reclaim', 'blockable', 'unlinked-inode']),
    bits: z.array(ident).min(1).optional(),
    source,
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.meaning === 'gfp-bits' && !e.bits) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['bits'], message: 'meaning "gfp-bits" needs the bits the token tests' });
    if (e.meaning !== 'gfp-bits' && e.bits) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['bits'], message: `bits are for meaning "gfp-bits", not "${e.meaning}"` });
  });

export const crossWaitEntrySchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a lower-case-with-dashes name'),
    setting: z.string().regex(/^reclaimLens\.[A-Za-z0-9.]+$/, 'must be a reclaimLens.* setting'),
    requires: z.array(ident).min(1).optional(),
    context: reclaimContext,
    path: z.array(pathStep).min(1),
    waitsFor: z.string().min(1),
    takes: z.array(z.object({ cls: z.string().min(1), fn: ident, source }).strict()).min(1),
    note: z.string().min(1).optional(),
    versions: versions.optional(),
    source,
  })
  .strict();

export const accessorEntrySchema = z
  .object({
    name: ident,
    returns: ident,
    versions: versions.optional(),
    source,
  })
  .strict();

export const fieldTypeEntrySchema = z
  .object({
    struct: ident,
    field: ident,
    type: ident,
    versions: versions.optional(),
    source,
  })
  .strict();

export const classKeyEntrySchema = z
  .object({
    cls: z.string().min(1),
    key: z.literal('file_system_type'),
    versions: versions.optional(),
    source,
  })
  .strict();

export const deferredCallEntrySchema = z
  .object({
    /** the calling function, or `struct.field` for the generic kernel's call through an ops table (`super_operations.evict_inode`) */
    caller: z.union([ident, z.string().regex(/^[A-Za-z_]\w*\.[A-Za-z_]\w*$/, 'a function name or struct.field')]).optional(),
    callee: ident,
    note: z.string().min(1),
    everywhere: z.boolean().optional(),
    versions: versions.optional(),
    source,
  })
  .strict();

export const dispatchEntrySchema = z
  .object({
    struct: ident,
    field: ident,
    versions: versions.optional(),
    source,
  })
  .strict();

export const lockOrderEntrySchema = z
  .object({
    before: z.string().min(1),
    after: z.string().min(1),
    note: z.string().min(1),
    versions: versions.optional(),
    source,
  })
  .strict();

/** Entry schemas by the key that holds them in data files and override files. */
export const entrySchemas = {
  allocators: allocatorEntrySchema,
  scopes: scopeApiEntrySchema,
  locks: lockApiEntrySchema,
  lockFlags: lockFlagEntrySchema,
  guards: guardEntrySchema,
  uaccess: uaccessEntrySchema,
  sleepers: sleeperEntrySchema,
  transactions: transactionEntrySchema,
  maskHelpers: maskHelperEntrySchema,
  lockContexts: lockContextEntrySchema,
  reclaimEntries: reclaimEntrySchema,
  reclaimGates: reclaimGateEntrySchema,
  crossWaits: crossWaitEntrySchema,
  accessors: accessorEntrySchema,
  fieldTypes: fieldTypeEntrySchema,
  classKeys: classKeyEntrySchema,
  deferredCalls: deferredCallEntrySchema,
  lockOrders: lockOrderEntrySchema,
  dispatches: dispatchEntrySchema,
} as const;

export type EntryKey = keyof typeof entrySchemas;
export const ENTRY_KEYS = Object.keys(entrySchemas) as EntryKey[];

/** An override file (also the shape of each non-gfp data file): any subset of the entry lists. */
export const kbOverrideFileSchema = z
  .object({
    allocators: z.array(allocatorEntrySchema).optional(),
    scopes: z.array(scopeApiEntrySchema).optional(),
    locks: z.array(lockApiEntrySchema).optional(),
    lockFlags: z.array(lockFlagEntrySchema).optional(),
    guards: z.array(guardEntrySchema).optional(),
    uaccess: z.array(uaccessEntrySchema).optional(),
    sleepers: z.array(sleeperEntrySchema).optional(),
    transactions: z.array(transactionEntrySchema).optional(),
    maskHelpers: z.array(maskHelperEntrySchema).optional(),
    lockContexts: z.array(lockContextEntrySchema).optional(),
    reclaimEntries: z.array(reclaimEntrySchema).optional(),
    reclaimGates: z.array(reclaimGateEntrySchema).optional(),
    crossWaits: z.array(crossWaitEntrySchema).optional(),
    accessors: z.array(accessorEntrySchema).optional(),
    fieldTypes: z.array(fieldTypeEntrySchema).optional(),
    classKeys: z.array(classKeyEntrySchema).optional(),
    deferredCalls: z.array(deferredCallEntrySchema).optional(),
    lockOrders: z.array(lockOrderEntrySchema).optional(),
    dispatches: z.array(dispatchEntrySchema).optional(),
  })
  .strict();

// ---- compile-time check: each schema infers exactly the type-contract interface.
// Zod's nested object types are not syntactically identical to the interfaces, so "equal" here means:
// assignable both ways, the same keys, and the same required keys.
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type Equal<A, B> =
  Mutual<A, B> extends true ? (Mutual<keyof A, keyof B> extends true ? Mutual<RequiredKeys<A>, RequiredKeys<B>> : false) : false;
type Expect<T extends true> = T;
export type SchemaMatchesTypes = [
  Expect<Equal<z.infer<typeof kernelTableSchema>, KernelTable>>,
  Expect<Equal<z.infer<typeof pfFlagSchema>, PfFlag>>,
  Expect<Equal<z.infer<typeof gfpBitEntrySchema>, GfpBitEntry>>,
  Expect<Equal<z.infer<typeof gfpMaskEntrySchema>, GfpMaskEntry>>,
  Expect<Equal<z.infer<typeof gfpTableFileSchema>, GfpTableFile>>,
  Expect<Equal<z.infer<typeof allocatorEntrySchema>, AllocatorEntry>>,
  Expect<Equal<z.infer<typeof scopeApiEntrySchema>, ScopeApiEntry>>,
  Expect<Equal<z.infer<typeof lockApiEntrySchema>, LockApiEntry>>,
  Expect<Equal<z.infer<typeof lockFlagEntrySchema>, LockFlagEntry>>,
  Expect<Equal<z.infer<typeof guardEntrySchema>, GuardEntry>>,
  Expect<Equal<z.infer<typeof uaccessEntrySchema>, UaccessEntry>>,
  Expect<Equal<z.infer<typeof sleeperEntrySchema>, SleeperEntry>>,
  Expect<Equal<z.infer<typeof transactionEntrySchema>, TransactionEntry>>,
  Expect<Equal<z.infer<typeof maskHelperEntrySchema>, MaskHelperEntry>>,
  Expect<Equal<z.infer<typeof lockContextEntrySchema>, LockContextEntry>>,
  Expect<Equal<z.infer<typeof reclaimEntrySchema>, ReclaimEntry>>,
  Expect<Equal<z.infer<typeof reclaimGateEntrySchema>, ReclaimGateEntry>>,
  Expect<Equal<z.infer<typeof crossWaitEntrySchema>, CrossWaitEntry>>,
  Expect<Equal<z.infer<typeof accessorEntrySchema>, AccessorEntry>>,
  Expect<Equal<z.infer<typeof fieldTypeEntrySchema>, FieldTypeEntry>>,
  Expect<Equal<z.infer<typeof classKeyEntrySchema>, ClassKeyEntry>>,
  Expect<Equal<z.infer<typeof deferredCallEntrySchema>, DeferredCallEntry>>,
  Expect<Equal<z.infer<typeof lockOrderEntrySchema>, LockOrderEntry>>,
  Expect<Equal<z.infer<typeof dispatchEntrySchema>, DispatchEntry>>,
];
