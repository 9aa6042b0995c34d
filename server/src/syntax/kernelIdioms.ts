// Kernel idioms that tree-sitter-c cannot parse as written, rewritten so that it can.
//
// preprocessKernelC(text) returns a text of exactly the same length, with every newline in place, so that every
// offset and every line/column computed on the rewritten text is valid on the original one.
// Each change is reported as a Rewrite so that later layers can still read what was there (lock annotations,
// scoped_guard() arguments, DEFINE_*() invocations, SYSCALL_DEFINEn() names).
//
// The rewriter is driven by a small C lexer that skips comments, string and character literals, and treats
// preprocessor lines (with their backslash continuations) as opaque: the body of a #define is never rewritten,
// because a macro definition is not code (tree-sitter keeps it as a preproc_arg and we keep it verbatim).
// `#if 0` groups are blanked (newlines kept), like the compiler and ctags do: they often hold text that is not C.
// `#else`/`#elif` groups of `#if 0` are kept.
//
// What is rewritten (all same-length replacements; each one is a Rewrite):
//   - annotation and attribute macros from ANNOTATION_MACROS (and the prefixes in ANNOTATION_PREFIXES) are
//     replaced by spaces together with their parenthesised arguments, wherever they occur in code
//     ('annotation'); an all-caps word at the start of a top-level item before a declaration keyword
//     (`EXPORT_FOR_TESTS struct …`) likewise, and `STATIC` becomes `static` (MACRO_KEYWORDS);
//   - lock annotations (__acquires/__releases/__must_hold…) likewise, recorded as 'lock-annotation' with args;
//   - an iterator macro in statement position inside a function body, `IDENT(args) {` or `IDENT(args) stmt`,
//     gets its name replaced by `while` (or `if` for names shorter than 5 characters) so that tree-sitter builds
//     a while_statement whose condition is the parenthesised args and whose body is the macro's body
//     ('iterator'); scoped_guard()/scoped_cond_guard()/scoped_class() are the same shape and are recorded as
//     'scoped-guard' (a lock scope for the analysis; scoped_cond_guard's fail statement is blanked in the
//     condition and kept in args); `do { … } for_each_vma(vmi, vma);` gets its `while` the same way;
//   - SYSCALL_DEFINEn(name, t1, a1, …) { becomes `long            name( t1  a1, …) {` (COMPAT_ and SYSCALL32_
//     likewise; an argument that is a macro call, compat_arg_u64_dual(x), stands for whole parameters);
//     SYSCALL_DEFINE0(name) becomes `long           name()` (the name moves one column left there);
//     ast.ts names these functions sys_<name> / compat_sys_<name> / sys32_<name> ('syscall');
//   - top-level invocations that are not declarations tree-sitter understands (DEFINE_*(), EXPORT_SYMBOL*(),
//     module_init(), MODULE_*(), *_initcall(), TRACE_EVENT() and the other entries of TOP_LEVEL_MACROS, plus any
//     all-caps function-like macro at the start of a top-level item not followed by `{`) are blanked with their
//     `;` and a preceding `static`/`extern`, and recorded as 'define' with their args; in a body,
//     `static DEFINE_X(…);` loses its `static`, and `DECLARE_BITMAP(map, N) = {…}` becomes `DECLARE_BITMAP map`;
//   - preprocessor conditionals tree-sitter cannot parse (a branch starting with `else`, braces opened in one
//     branch and closed in another, alternative function heads, conditionals inside initializers or argument
//     lists, right after a label or an `if (…)`) are flattened or reduced to their first branch (see
//     resolveConditionals below; 'other', macro '#if');
//   - smaller shapes ('other'): GNU case ranges `case A ... B:` lose `... B`; `container_of(p, struct foo, m)`
//     loses the `struct` keyword of the type argument; `offsetof(struct s, a.b[0])` keeps only `a`;
//     `typeof(expr)`/`__alignof__(expr)` on one line become one identifier; a macro next to a string literal
//     (`KERN_INFO MY_VERSION " ready"`) becomes a string literal; statements passed to a macro
//     (`DLM_ASSERT(x, dump(x););`) become a comma expression; an argument-less statement macro without `;`
//     (`BCH_OPTS()` before a statement) becomes `BCH_OPTS ;`; a macro wrapping a block (`D2(list_for_each…{…})`)
//     is blanked around what it wraps; `#define f(fmt, args...)` loses the `...` of the named variadic.
//
// Measured on linux-source-6.12 fs/ + mm/ by scripts/parse-quality.ts (see its header and the corpus test).
//
// Pure: no IO, no tree-sitter.

export type RewriteKind = 'annotation' | 'lock-annotation' | 'iterator' | 'scoped-guard' | 'syscall' | 'define' | 'other';

export interface RewriteArg {
  /** The argument's text in the original source, trimmed. */
  text: string;
  start: number;
  end: number;
}

export interface Rewrite {
  /** Range of the original text the rewrite covers (some characters inside may be unchanged). */
  start: number;
  end: number;
  kind: RewriteKind;
  /** The macro name as written, or '#if 0', 'case-range'. */
  macro: string;
  /** Top-level comma-separated arguments of the macro invocation, in the original text. */
  args?: RewriteArg[];
}

export interface PreprocessResult {
  text: string;
  rewrites: Rewrite[];
}

type ArgsMode = 'none' | 'required' | 'optional';

interface MacroSpec {
  kind: 'annotation' | 'lock-annotation';
  args: ArgsMode;
}

const A0: MacroSpec = { kind: 'annotation', args: 'none' };
const A1: MacroSpec = { kind: 'annotation', args: 'required' };
const AOPT: MacroSpec = { kind: 'annotation', args: 'optional' };
const L1: MacroSpec = { kind: 'lock-annotation', args: 'required' };

/**
 * Attribute and annotation macros, blanked with their arguments wherever they appear in code.
 * Sources (linux-source-6.12): include/linux/compiler_types.h (C), compiler_attributes.h (CA), compiler.h (CO),
 * init.h (I), cache.h (CH), linkage.h (LK), kprobes.h (K), cleanup.h (CL), sched/debug.h (S), random.h (R),
 * slab.h (SL), compiler-context-analysis.h / compiler_types.h for the sparse lock contexts (LC), cpu.h (CPU),
 * percpu-defs.h (P), export.h (E), btf.h (B), uaccess.h/types.h (T).
 */
export const ANNOTATION_MACROS: Readonly<Record<string, MacroSpec>> = {
  // GNU attribute syntax itself (C)
  __attribute__: A1, __attribute: A1, __declspec: A1,
  // sparse address spaces and checks (C, T)
  __user: A0, __kernel: A0, __iomem: A0, __rcu: A0, __percpu: A0, __force: A0, __bitwise: A0, __bitwise__: A0,
  __nocast: A0, __safe: A0, __private: A0, __must_check: A0, __kernel_ulong_t_unused: A0, __data_racy: A0,
  __user_ptr: A0, __percpu_qual: A0,
  // inlining, placement, linkage (CA, C, LK, CO)
  __always_inline: A0, __inline_maybe_unused: A0, __gnu_inline: A0, noinline: A0, noinline_for_stack: A0,
  __noinline: A0, __flatten: A0, __cold: A0, __hot: A0, __used: A0, __always_used: A0, __always_unused: A0,
  __maybe_unused: A0, __weak: A0, __visible: A0, asmlinkage: A0, notrace: A0, noinstr: A0, __noreturn: A0,
  __pure: A0, __attribute_const__: A0, __malloc: A0, __packed: A0, __naked: A0, __noclone: A0, __noipa: A0,
  __nocfi: A0, __noscs: A0, __no_kcsan: A0, __no_profile: A0, __no_sanitize_address: A0, __no_sanitize_thread: A0,
  __no_sanitize_undefined: A0, __no_sanitize_or_inline: A0, __no_kasan_or_inline: A0, __no_stack_protector: A0,
  __disable_sanitizer_instrumentation: A0, __no_caller_saved_registers: A0, __noinitretpoline: A0,
  __preserve_most: A0, __retain: A0, __nonstring: A0, __uninitialized: A0, __designated_init: A0,
  __randomize_layout: A0, __no_randomize_layout: A0, __latent_entropy: A0, __deprecated: A0, __fix_address: A0,
  __function_aligned: A0, __overloadable: A0, __annotate_jump_table: A0, __signed_wrap: A0, __cpuidle: A0,
  __sched: A0, __kprobes: A0, __nocapture: A0, __noendbr: A0, __naked_fn: A0, __no_reorder: A0,
  __assume_kmalloc_alignment: A0, __assume_slab_alignment: A0, __assume_page_alignment: A0,
  __aligned_largest: A0, __nosavedata: A0, __alloc_func: A0, __free_func: A0, __bpf_kfunc: A0,
  __must_hold_rcu: A0, __ksym: A0, __lockfunc: A0, __weak_alias: A0, __no_instrument: A0, __inline_hint: A0,
  // attribute macros with arguments (CA, C, CL, SL)
  __printf: A1, __scanf: A1, __aligned: A1, __alloc_size: A1, __realloc_size: A1, __counted_by: A1,
  __counted_by_le: A1, __counted_by_be: A1, __section: A1, __alias: A1, __copy: A1, __mode: A1,
  __cleanup: A1, __free: A1, __assume_aligned: A1, __compiletime_error: A1, __compiletime_warning: A1,
  __diagnose_as: A1, __noinstr_section: A1, __pass_object_size: A1, __pass_dynamic_object_size: A1,
  __nonnull: AOPT, __nonstring_array: A0, __cacheline_group_begin: A1, __cacheline_group_end: A1,
  __cacheline_group_begin_aligned: A1, __cacheline_group_end_aligned: A1, __ADDRESSABLE: A1,
  // section placement (I, CPU, P)
  __init: A0, __exit: A0, __initdata: A0, __exitdata: A0, __initconst: A0, __meminit: A0, __meminitdata: A0,
  __meminitconst: A0, __ref: A0, __refdata: A0, __refconst: A0, __init_or_module: A0, __initdata_or_module: A0,
  __read_mostly: A0, __ro_after_init: A0, __exit_call: A0, __exitused: A0, __cpuinit: A0, __cpuinitdata: A0,
  __page_aligned_bss: A0, __page_aligned_data: A0, __nosave: A0, __head: A0, __init_memblock: A0,
  __initdata_memblock: A0, __lsm_ro_after_init: A0, __kfence_pool_attrs: A0, __percpu_attrs: A0,
  // sparse lock contexts (LC): blanked, arguments kept for the lock analysis
  __acquires: L1, __releases: L1, __must_hold: L1, __cond_acquires: L1, __cond_releases: L1,
  __acquires_shared: L1, __releases_shared: L1, __must_hold_shared: L1, __cond_acquires_shared: L1,
};

/** Annotations that make a function inline (include/linux/compiler_types.h, compiler_attributes.h). */
export const INLINE_ANNOTATIONS: ReadonlySet<string> = new Set(['__always_inline', '__inline_maybe_unused', '__gnu_inline']);

/** All-caps macros that stand for a keyword of the same length (fs/xfs/xfs_linux.h). */
export const MACRO_KEYWORDS: ReadonlyMap<string, string> = new Map([['STATIC', 'static']]);

/** Identifier prefixes blanked like ANNOTATION_MACROS entries (include/linux/cache.h: the cacheline family). */
export const ANNOTATION_PREFIXES: readonly { prefix: string; spec: MacroSpec }[] = [
  { prefix: '____cacheline_', spec: A0 },
  { prefix: '__cacheline_aligned', spec: A0 },
  { prefix: '__cacheline_internodealigned', spec: A0 },
];

/** Iterator-shaped macros that open a lock scope (include/linux/cleanup.h). */
export const SCOPED_GUARD_MACROS: ReadonlySet<string> = new Set(['scoped_guard', 'scoped_cond_guard', 'scoped_class']);

/**
 * Function-like macros that define functions (include/linux/syscalls.h, include/linux/compat.h).
 * The function is named prefix + first argument.
 */
export const SYSCALL_MACROS: readonly { pattern: RegExp; prefix: string }[] = [
  { pattern: /^SYSCALL_DEFINE[0-6]$/, prefix: 'sys_' },
  { pattern: /^COMPAT_SYSCALL_DEFINE[0-6]$/, prefix: 'compat_sys_' },
  { pattern: /^SYSCALL32_DEFINE[0-6]$/, prefix: 'sys32_' },
];

/**
 * Top-level invocations blanked as 'define' (their arguments are kept in the Rewrite).
 * Sources: include/linux/export.h (EXPORT_SYMBOL*), module.h (module_init/exit, MODULE_*), moduleparam.h
 * (module_param*, core_param), init.h (*_initcall, __setup, early_param), tracepoint.h and trace/define_trace.h
 * (TRACE_EVENT, DECLARE_EVENT_CLASS, DEFINE_EVENT…), cleanup.h (DEFINE_GUARD, DEFINE_FREE, DEFINE_CLASS…),
 * percpu-defs.h (DEFINE_PER_CPU*), jump_label.h (DEFINE_STATIC_KEY_*), error-injection.h, kprobes.h
 * (NOKPROBE_SYMBOL), objtool.h (STACK_FRAME_NON_STANDARD), lsm_hooks.h (LSM_HOOK). Any all-caps function-like
 * macro at the start of a top-level item is blanked too (see the module header).
 */
export const TOP_LEVEL_MACROS: readonly RegExp[] = [
  /^module_(init|exit|param\w*|driver|platform_driver|misc_device|usb_driver|pci_driver|i2c_driver)$/,
  /^(early|late|core|postcore|arch|subsys|fs|rootfs|device|pure|console|security)_initcall(_sync)?$/,
  /^(__setup|__setup_param|early_param|early_param_on_off|core_param|core_param_unsafe|postcore_param)$/,
  /^(__initcall|__exitcall|cond_syscall|device_initcall|security_initcall|arch_param_cb)$/,
  /^(fs_param_\w+|__module_param_call|module_param_call|module_param_named\w*|module_param_cb\w*)$/,
  /^(device_param_cb|__MODULE_INFO|__exitcall)$/,
];

const C_KEYWORDS: ReadonlySet<string> = new Set([
  'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double', 'else', 'enum', 'extern',
  'float', 'for', 'goto', 'if', 'inline', 'int', 'long', 'register', 'restrict', 'return', 'short', 'signed',
  'sizeof', 'static', 'struct', 'switch', 'typedef', 'union', 'unsigned', 'void', 'volatile', 'while', '_Bool',
  '_Complex', '_Alignas', '_Alignof', '_Atomic', '_Generic', '_Noreturn', '_Static_assert', '_Thread_local',
  'asm', '__asm__', '__asm', 'typeof', '__typeof__', '__typeof', '__inline', '__inline__', '__volatile__',
  '__volatile', '__restrict', '__restrict__', '__extension__', '__alignof__', '__alignof', 'alignof',
  'offsetof', '__builtin_offsetof', '__builtin_va_arg', 'static_assert', '__label__', '__auto_type',
  'defined', '__const', '__const__', '__signed__', '__signed', 'signed',
]);

/** Keywords that start a declaration: never the body of an iterator macro. */
const DECL_KEYWORDS: ReadonlySet<string> = new Set([
  'auto', 'char', 'const', 'double', 'enum', 'extern', 'float', 'inline', 'int', 'long', 'register', 'restrict',
  'short', 'signed', 'static', 'struct', 'typedef', 'union', 'unsigned', 'void', 'volatile', '_Bool', '_Atomic',
  '_Alignas', '_Thread_local', 'typeof', '__typeof__', '__auto_type', '_Static_assert', 'static_assert',
]);

/** Keywords that can start the single-statement body of an iterator macro. */
const STMT_KEYWORDS: ReadonlySet<string> = new Set([
  'if', 'for', 'while', 'do', 'switch', 'return', 'break', 'continue', 'goto',
]);

/** Type- and alignment-of operators whose operand tree-sitter wants to be a type (typeof_member: include/linux/stddef.h). */
const TYPEOF_LIKE: ReadonlySet<string> = new Set(['typeof', '__typeof__', '__typeof', 'typeof_member', '__alignof__', '__alignof', '_Alignof', 'alignof']);

const CONTROL_KEYWORDS: ReadonlySet<string> = new Set(['if', 'while', 'for', 'switch']);

/**
 * The build the analysis reads: x86-64, the architecture the whole-program pass prefers too (interproc.ts
 * narrowDefinitions). Its own architecture symbols are defined (arch/x86/Kconfig: `config X86`, `config X86_64`);
 * those of every other architecture (each arch/<name>/Kconfig's top symbol, and X86_32) are not. A conditional that
 * tests only one of them is decided like `#if 0`: the group that a build of this architecture does not compile is
 * blanked (vmcore's `#ifdef CONFIG_S390` fault handler). Any other configuration symbol keeps every branch.
 */
const ARCH_DEFINED: ReadonlySet<string> = new Set(['CONFIG_X86', 'CONFIG_X86_64', 'CONFIG_64BIT']);
const ARCH_UNDEFINED: ReadonlySet<string> = new Set([
  'CONFIG_X86_32', 'CONFIG_ALPHA', 'CONFIG_ARC', 'CONFIG_ARM', 'CONFIG_ARM64', 'CONFIG_CSKY', 'CONFIG_HEXAGON',
  'CONFIG_IA64', 'CONFIG_LOONGARCH', 'CONFIG_M68K', 'CONFIG_MICROBLAZE', 'CONFIG_MIPS', 'CONFIG_NIOS2',
  'CONFIG_OPENRISC', 'CONFIG_PARISC', 'CONFIG_PPC', 'CONFIG_PPC32', 'CONFIG_PPC64', 'CONFIG_RISCV', 'CONFIG_S390',
  'CONFIG_SUPERH', 'CONFIG_SPARC', 'CONFIG_SPARC32', 'CONFIG_SPARC64', 'CONFIG_UML', 'CONFIG_XTENSA',
]);

/**
 * The value of a conditional directive in this build when it is known: `#if 0`, and a test of one architecture
 * symbol (`#ifdef`, `#ifndef`, `#if [!]defined(…)`, `#if [!]IS_ENABLED(…)`/`IS_BUILTIN(…)`); undefined otherwise.
 */
export function knownCondition(name: string, rest: string): boolean | undefined {
  const r = rest.replace(/\/\*.*?\*\/|\/\/.*$/g, '').trim();
  const sym = (x: string): boolean | undefined => (ARCH_DEFINED.has(x) ? true : ARCH_UNDEFINED.has(x) ? false : undefined);
  if (name === 'ifdef' || name === 'ifndef') {
    const v = /^[A-Za-z_]\w*$/.test(r) ? sym(r) : undefined;
    return v === undefined ? undefined : name === 'ifdef' ? v : !v;
  }
  if (name !== 'if') return undefined;
  if (/^0$/.test(r)) return false;
  const m = /^(!?)\s*(?:defined\s*\(\s*([A-Za-z_]\w*)\s*\)|defined\s+([A-Za-z_]\w*)|(?:IS_ENABLED|IS_BUILTIN)\s*\(\s*([A-Za-z_]\w*)\s*\))$/.exec(r);
  if (!m) return undefined;
  const v = sym(m[2] ?? m[3] ?? m[4]);
  return v === undefined ? undefined : m[1] ? !v : v;
}

// ---------------------------------------------------------------------------------------------------------------
// Lexer

const enum T {
  Ident,
  Punct,
  Number,
  String,
  Char,
}

interface Tok {
  t: T;
  start: number;
  end: number;
  /** Identifier or punctuator text; empty for literals and numbers. */
  s: string;
}

interface Directive {
  start: number;
  end: number;
  name: string;
  rest: string;
  /** Number of code tokens before the directive. */
  tok: number;
  /** Inside a blanked `#if 0` group (not a directive the compiler would see). */
  skipped: boolean;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
}

function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** End of a block comment starting at i (`/*`), or text length when unterminated. */
function skipBlockComment(text: string, i: number): number {
  const close = text.indexOf('*/', i + 2);
  return close < 0 ? text.length : close + 2;
}

/** End of a line comment starting at i, honouring backslash-newline continuations; stops before the newline. */
function skipLineComment(text: string, i: number): number {
  let j = i + 2;
  for (;;) {
    const nl = text.indexOf('\n', j);
    if (nl < 0) return text.length;
    let k = nl - 1;
    if (k >= 0 && text.charCodeAt(k) === 13) k--;
    if (k >= j && text.charCodeAt(k) === 92) {
      j = nl + 1;
      continue;
    }
    return nl;
  }
}

/** End of a quoted literal starting at i (the quote); an unescaped newline ends an unterminated literal. */
function skipQuoted(text: string, i: number, quote: number): number {
  let j = i + 1;
  const n = text.length;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c === 92) {
      j += 2;
      continue;
    }
    if (c === quote) return j + 1;
    if (c === 10) return j;
    j++;
  }
  return n;
}

const PUNCT3 = new Set(['...', '<<=', '>>=']);
const PUNCT2 = new Set(['->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+=', '-=', '*=', '/=',
  '%=', '&=', '^=', '|=', '##']);

interface Lexed {
  toks: Tok[];
  directives: Directive[];
  /** Regions blanked because this build does not compile them (`#if 0`, knownCondition): [start, end) pairs. */
  if0: [number, number][];
}

function lex(text: string): Lexed {
  const toks: Tok[] = [];
  const directives: Directive[] = [];
  const if0: [number, number][] = [];
  const n = text.length;
  let i = 0;
  let lineStart = true;
  // Skipping a group this build does not compile (`#if 0`, a foreign architecture's test): depth of nested
  // conditionals inside the skipped group, start of the blanked region, and whether the skip lasts to the `#endif`
  // (the `#else` side of a group known true) rather than to the next branch.
  let skipping = false;
  let skipDepth = 0;
  let skipFrom = 0;
  let skipToEndif = false;
  // Per open conditional outside skipped groups: whether a branch of it known true was compiled.
  const open: boolean[] = [];
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      lineStart = true;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
      i++;
      continue;
    }
    if (c === 92 && (text.charCodeAt(i + 1) === 10 || (text.charCodeAt(i + 1) === 13 && text.charCodeAt(i + 2) === 10))) {
      i += text.charCodeAt(i + 1) === 10 ? 2 : 3;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      i = skipBlockComment(text, i);
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      i = skipLineComment(text, i);
      continue;
    }
    if (c === 35 && lineStart) {
      const d = readDirective(text, i, toks.length, skipping);
      i = d.end;
      const isElse = d.name === 'else' || d.name === 'elif' || d.name === 'elifdef' || d.name === 'elifndef';
      if (skipping) {
        if (d.name === 'if' || d.name === 'ifdef' || d.name === 'ifndef') skipDepth++;
        else if (d.name === 'endif') {
          if (skipDepth === 0) {
            skipping = false;
            d.skipped = false;
            if0.push([skipFrom, d.start]);
            open.pop();
          } else skipDepth--;
        } else if (isElse && skipDepth === 0 && !skipToEndif) {
          // The next branch of a group whose first branch was known false: compiled if it is `#else`, unknown
          // if it is an `#elif` (its condition is not evaluated; both stay, as any other conditional's).
          skipping = false;
          d.skipped = false;
          if0.push([skipFrom, d.start]);
        }
        directives.push(d);
        continue;
      }
      if (d.name === 'if' || d.name === 'ifdef' || d.name === 'ifndef') {
        const known = knownCondition(d.name, d.rest);
        open.push(known === true);
        if (known === false) {
          d.skipped = false;
          skipping = true;
          skipToEndif = false;
          skipDepth = 0;
          skipFrom = d.end;
        }
      } else if (isElse && open.length && open[open.length - 1]) {
        // The other branches of a group whose first branch is compiled: not compiled.
        skipping = true;
        skipToEndif = true;
        skipDepth = 0;
        skipFrom = d.start;
        d.skipped = true;
      } else if (d.name === 'endif') open.pop();
      directives.push(d);
      continue;
    }
    lineStart = false;
    let tok: Tok;
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentChar(text.charCodeAt(j))) j++;
      const q = text.charCodeAt(j);
      const word = text.slice(i, j);
      if ((q === 34 || q === 39) && (word === 'L' || word === 'u' || word === 'U' || word === 'u8')) {
        const end = skipQuoted(text, j, q);
        tok = { t: q === 34 ? T.String : T.Char, start: i, end, s: '' };
      } else {
        tok = { t: T.Ident, start: i, end: j, s: word };
      }
    } else if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (isIdentChar(d) || d === 46) j++;
        else if ((d === 43 || d === 45) && /[eEpP]/.test(text[j - 1])) j++;
        else if (d === 39 && isIdentChar(text.charCodeAt(j + 1))) j++;
        else break;
      }
      tok = { t: T.Number, start: i, end: j, s: '' };
    } else if (c === 34 || c === 39) {
      tok = { t: c === 34 ? T.String : T.Char, start: i, end: skipQuoted(text, i, c), s: '' };
    } else {
      let s = text[i];
      const c2 = text.charCodeAt(i + 1);
      // Only characters that can start a multi-character punctuator look further.
      if (c2 === c || c2 === 61 || c2 === 62 || c2 === 46 || c2 === 38 || c2 === 124 || c2 === 43 || c2 === 45 || c2 === 35) {
        const three = text.slice(i, i + 3);
        const two = text.slice(i, i + 2);
        s = PUNCT3.has(three) ? three : PUNCT2.has(two) ? two : s;
      }
      tok = { t: T.Punct, start: i, end: i + s.length, s };
    }
    i = tok.end;
    if (!skipping) toks.push(tok);
  }
  if (skipping) if0.push([skipFrom, n]);
  return { toks, directives, if0 };
}

/** A preprocessor line from `#` through its last continued line (the newline itself is not included). */
function readDirective(text: string, i: number, tok: number, skipped: boolean): Directive {
  const n = text.length;
  let j = i + 1;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c === 10) break;
    if (c === 92 && (text.charCodeAt(j + 1) === 10 || (text.charCodeAt(j + 1) === 13 && text.charCodeAt(j + 2) === 10))) {
      j += text.charCodeAt(j + 1) === 10 ? 2 : 3;
      continue;
    }
    if (c === 47 && text.charCodeAt(j + 1) === 42) {
      j = skipBlockComment(text, j);
      continue;
    }
    if (c === 47 && text.charCodeAt(j + 1) === 47) {
      j = skipLineComment(text, j);
      continue;
    }
    if (c === 34 || c === 39) {
      j = skipQuoted(text, j, c);
      continue;
    }
    j++;
  }
  const m = /^#\s*([A-Za-z_]*)/.exec(text.slice(i, Math.min(j, i + 64)));
  const name = m ? m[1] : '';
  const restStart = i + (m ? m[0].length : 1);
  const rest = text.slice(restStart, j).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/g, ' ').replace(/\\\r?\n/g, ' ').trim();
  return { start: i, end: j, name, rest, tok, skipped };
}

// ---------------------------------------------------------------------------------------------------------------
// Rewriter

const enum F {
  /** A function body. */
  Function,
  /** A compound statement or a statement expression inside a function. */
  Block,
  /** struct/union/enum body, initializer list, compound literal. */
  Aggregate,
  /** Parentheses of if/while/for/switch or of an iterator macro. */
  Control,
  /** Parentheses of a call or macro invocation (opener preceded by an identifier). */
  Call,
  /** Any other parentheses or brackets. */
  Group,
}

interface Frame {
  f: F;
  /** Index of the opening token. */
  open: number;
  /** For Block/Function frames: pending `?` of a conditional expression in the current statement. */
  questions: number;
  /** For Call frames: the callee identifier. */
  callee?: string;
  /** For Block frames: the body of a `do` (a `while` must follow the closing brace). */
  afterDo?: boolean;
}

class Patcher {
  private readonly patches: { start: number; text: string }[] = [];
  constructor(private readonly source: string) {}

  blank(start: number, end: number): void {
    if (end <= start) return;
    const slice = this.source.slice(start, end);
    this.patches.push({ start, text: slice.replace(/[^\r\n]/g, ' ') });
  }

  put(start: number, text: string): void {
    this.patches.push({ start, text });
  }

  apply(): string {
    if (this.patches.length === 0) return this.source;
    this.patches.sort((a, b) => a.start - b.start);
    const out: string[] = [];
    let at = 0;
    for (const p of this.patches) {
      if (p.start < at) continue; // overlapping patch: the first one wins (never expected)
      out.push(this.source.slice(at, p.start), p.text);
      at = p.start + p.text.length;
    }
    out.push(this.source.slice(at));
    return out.join('');
  }
}

const ANNOTATION_MAP: ReadonlyMap<string, MacroSpec> = new Map(Object.entries(ANNOTATION_MACROS));

function annotationSpec(name: string): MacroSpec | undefined {
  const spec = ANNOTATION_MAP.get(name);
  if (spec) return spec;
  if (name.charCodeAt(0) !== 95) return undefined;
  for (const p of ANNOTATION_PREFIXES) if (name.startsWith(p.prefix)) return p.spec;
  return undefined;
}

function syscallPrefix(name: string): string | undefined {
  if (!name.includes('SYSCALL')) return undefined;
  for (const s of SYSCALL_MACROS) if (s.pattern.test(name)) return s.prefix;
  return undefined;
}

/** The name a SYSCALL_DEFINEn() rewrite gives its function (`sys_open`), or undefined for other rewrites. */
export function syscallFunctionName(rewrite: Rewrite): string | undefined {
  if (rewrite.kind !== 'syscall' || !rewrite.args || rewrite.args.length === 0) return undefined;
  const prefix = syscallPrefix(rewrite.macro);
  return prefix === undefined ? undefined : prefix + rewrite.args[0].text;
}

function isTopLevelMacro(name: string): boolean {
  if (/^[A-Z_][A-Z0-9_]*$/.test(name) && /[A-Z]/.test(name) && name.length > 2) return true;
  for (const re of TOP_LEVEL_MACROS) if (re.test(name)) return true;
  return false;
}

export function preprocessKernelC(text: string): PreprocessResult {
  const lexed = lex(text);
  const if0 = lexed.if0;
  const patch = new Patcher(text);
  const rewrites: Rewrite[] = [];
  for (const [s, e] of if0) {
    if (/\S/.test(text.slice(s, e))) {
      patch.blank(s, e);
      rewrites.push({ start: s, end: e, kind: 'other', macro: '#if 0' });
    }
  }

  for (const d of lexed.directives) if (d.name === 'define' && !d.skipped) rewriteNamedVariadic(text, d, patch, rewrites);
  const toks = resolveConditionals(lexed.toks, lexed.directives, patch, rewrites);
  stringifyAdjacentMacros(text, toks, patch, rewrites);
  const n = toks.length;
  // Matching closer of each opener, computed once (unbalanced openers map to n).
  const match = new Int32Array(n).fill(-1);
  {
    const stack: number[] = [];
    // Openers of each kind on the stack: a stray closer is skipped without scanning the stack, so every scan pops
    // what it passes and the whole is linear (100,000 `{` then 10,000 `)` took seconds: fuzz, issue #8).
    const opened: Record<string, number> = { '(': 0, '[': 0, '{': 0 };
    for (let k = 0; k < n; k++) {
      const tk = toks[k];
      if (tk.t !== T.Punct) continue;
      const s = tk.s;
      if (s === '(' || s === '[' || s === '{') {
        stack.push(k);
        opened[s]++;
      } else if (s === ')' || s === ']' || s === '}') {
        const want = s === ')' ? '(' : s === ']' ? '[' : '{';
        // Pop until the matching opener; a stray closer is ignored.
        if (opened[want] === 0) continue;
        let depth = stack.length - 1;
        while (toks[stack[depth]].s !== want) depth--;
        while (stack.length - 1 > depth) {
          const o = stack.pop()!;
          opened[toks[o].s]--;
          match[o] = n;
        }
        opened[want]--;
        match[stack.pop()!] = k;
      }
    }
    while (stack.length) match[stack.pop()!] = n;
  }

  const argsOf = (open: number): RewriteArg[] => {
    const close = match[open];
    const args: RewriteArg[] = [];
    if (close < 0 || close >= n) return args;
    let depth = 0;
    let from = open + 1;
    const push = (a: number, b: number): void => {
      if (b <= a) {
        const at = toks[a - 1].end;
        args.push({ text: '', start: at, end: at });
        return;
      }
      const start = toks[a].start;
      const end = toks[b - 1].end;
      args.push({ text: text.slice(start, end), start, end });
    };
    for (let k = open + 1; k < close; k++) {
      const s = toks[k].t === T.Punct ? toks[k].s : '';
      if (s === '(' || s === '[' || s === '{') depth++;
      else if (s === ')' || s === ']' || s === '}') depth--;
      else if (s === ',' && depth === 0) {
        push(from, k);
        from = k + 1;
      }
    }
    if (from < close || args.length > 0) push(from, close);
    return args;
  };
  /** Token indices of the top-level commas of a parenthesised list. */
  const commasOf = (open: number): number[] => {
    const close = match[open];
    const out: number[] = [];
    let depth = 0;
    for (let k = open + 1; k < close && k < n; k++) {
      const s = toks[k].t === T.Punct ? toks[k].s : '';
      if (s === '(' || s === '[' || s === '{') depth++;
      else if (s === ')' || s === ']' || s === '}') depth--;
      else if (s === ',' && depth === 0) out.push(k);
    }
    return out;
  };

  const frames: Frame[] = [];
  /** How many frames each opening bracket has on the stack. */
  const framesOpened: Record<string, number> = { '(': 0, '[': 0, '{': 0 };
  /** Index of the previous token that was not blanked, or -1. */
  let prev = -1;
  /** Kind of the parenthesis closed by toks[prev] when it is `)`. */
  let prevClosed: F | undefined;
  /** Set when the next `{` is the body of a rewritten iterator or syscall. */
  let pendingBody: F | undefined;
  /** Start of a top-level item after a blanked DEFINE without `;`. */
  let itemStart = true;
  /** Index of the last token of a blanked top-level define: the next item starts after it. */
  let itemBoundary = -1;
  /** Index of the `(` of a rewritten iterator macro: it is pushed as a control frame. */
  let pendingParen = -1;
  /** Index of the last `:` that closed a conditional expression (not a label). */
  let ternaryColon = -1;
  /** Number of Function/Block frames on the stack. */
  let bodyFrames = 0;
  /** Index of the token after the `}` closing a `do` body: a `while`-like macro there ends the do-while. */
  let expectWhileAt = -1;

  const top = (): Frame | undefined => frames[frames.length - 1];
  const inStatementContext = (): boolean => {
    const f = top();
    return f !== undefined && (f.f === F.Block || f.f === F.Function);
  };
  const atStatementStart = (): boolean => {
    if (!inStatementContext()) return false;
    if (prev < 0) return true;
    const p = toks[prev];
    if (p.t === T.Ident) return p.s === 'else' || p.s === 'do';
    if (p.t !== T.Punct) return false;
    switch (p.s) {
      case ';':
      case '{':
      case '}':
        return true;
      case ')':
        return prevClosed === F.Control;
      case ':':
        return prev !== ternaryColon;
      default:
        return false;
    }
  };
  /** Tokens blanked by a rewrite that the structural pass must not see. */
  const skip = new Set<number>();
  for (let k = 0; k < n; k++) {
    const tk = toks[k];
    if (skip.has(k)) continue;
    if (tk.t === T.Ident) {
      const name = tk.s;
      // 1. Annotation macros, anywhere in code.
      const spec = annotationSpec(name);
      if (spec) {
        let end = tk.end;
        let last = k;
        let args: RewriteArg[] | undefined;
        const next = toks[k + 1];
        if (spec.args !== 'none' && next && next.t === T.Punct && next.s === '(' && match[k + 1] < n && match[k + 1] > 0) {
          last = match[k + 1];
          end = toks[last].end;
          args = argsOf(k + 1);
        }
        patch.blank(tk.start, end);
        const rw: Rewrite = { start: tk.start, end, kind: spec.kind, macro: name };
        if (args) rw.args = args;
        rewrites.push(rw);
        k = last;
        continue;
      }
      const next = toks[k + 1];
      const callLike = next !== undefined && next.t === T.Punct && next.s === '(';
      if (k === expectWhileAt && callLike && name !== 'while' && !C_KEYWORDS.has(name) && tk.end - tk.start >= 5) {
        // `do { … } for_each_vma(vmi, vma);`: the macro is the `while` of a do-while.
        patch.put(tk.start, 'while'.padEnd(tk.end - tk.start));
        const close = match[k + 1];
        rewrites.push({ start: tk.start, end: close < n ? toks[close].end : tk.end, kind: 'iterator', macro: name, args: argsOf(k + 1) });
        pendingParen = k + 1;
        prev = k;
        prevClosed = undefined;
        continue;
      }
      if ((name === 'offsetof' || name === '__builtin_offsetof') && callLike) rewriteOffsetof(k);

      // 2. Top level.
      if (frames.length === 0) {
        const startOfItem = itemStart || prev < 0 || (toks[prev].t === T.Punct && (toks[prev].s === ';' || toks[prev].s === '}'));
        if (startOfItem && !callLike && next && next.t === T.Ident && DECL_KEYWORDS.has(next.s) && /^[A-Z_][A-Z0-9_]*$/.test(name) && /[A-Z]/.test(name)) {
          // `STATIC int f(void)` (fs/xfs/xfs_linux.h: #define STATIC static), `EXPORT_FOR_TESTS struct …` (btrfs):
          // an all-caps word before a declaration keyword is a storage/annotation macro.
          const kw = MACRO_KEYWORDS.get(name);
          if (kw) patch.put(tk.start, kw);
          else patch.blank(tk.start, tk.end);
          rewrites.push({ start: tk.start, end: tk.end, kind: 'annotation', macro: name });
          continue;
        }
        if (callLike && match[k + 1] < n) {
          const close = match[k + 1];
          const after = toks[close + 1];
          const prefix = syscallPrefix(name);
          if (prefix !== undefined && after && after.t === T.Punct && after.s === '{' && rewriteSyscall(k, close)) continue;
          const storage = startOfItem ? -1 : storageBefore(k);
          if ((startOfItem || storage >= 0) && isTopLevelMacro(name) && !(after && after.t === T.Punct && after.s === '{')) {
            const from = storage >= 0 ? storage : k;
            let last = close;
            if (after && after.t === T.Punct && after.s === ';') last = close + 1;
            patch.blank(toks[from].start, toks[last].end);
            rewrites.push({ start: toks[from].start, end: toks[last].end, kind: 'define', macro: name, args: argsOf(k + 1) });
            k = last;
            itemStart = true;
            itemBoundary = last;
            continue;
          }
        }
      } else if (callLike && !C_KEYWORDS.has(name) && atStatementStart() && match[k + 1] < n) {
        // 3. Iterator macros in statement position.
        const close = match[k + 1];
        const after = toks[close + 1];
        if (close > k + 2 && (!after || after.t !== T.Punct || after.s !== ';') && wrapsBlock(k + 1, close)) {
          // `D2(list_for_each_entry(…) { … })`: a macro wrapping statements; blank it, keep what it wraps.
          patch.blank(tk.start, toks[k + 1].end);
          patch.blank(toks[close].start, toks[close].end);
          rewrites.push({ start: tk.start, end: toks[close].end, kind: 'other', macro: name, args: argsOf(k + 1) });
          skip.add(k + 1);
          skip.add(close);
          continue;
        }
        if (close > k + 2 && after && after.t === T.Punct && after.s === '=' && /^[A-Z_][A-Z0-9_]*$/.test(name) &&
          toks[k + 2].t === T.Ident && toks[k + 3]?.t === T.Punct && (toks[k + 3].s === ',' || toks[k + 3].s === ')')) {
          // `DECLARE_BITMAP(map, N) = { 0 };` → `DECLARE_BITMAP map     = { 0 };`: a declaration of `map`.
          patch.blank(toks[k + 1].start, toks[k + 1].end);
          patch.blank(toks[k + 3].start, toks[close].end);
          rewrites.push({ start: tk.start, end: toks[close].end, kind: 'define', macro: name, args: argsOf(k + 1) });
          prev = k + 2;
          prevClosed = undefined;
          k = close;
          continue;
        }
        if (close === k + 2) {
          // `BCH_OPTS()` followed by a statement: a statement macro without `;` (an X-macro); `()` → ` ;`.
          const nx = toks[close + 1];
          if (isIteratorBody(close + 1) || (nx && ((nx.t === T.Ident && (nx.s === 'case' || nx.s === 'default')) || (nx.t === T.Punct && nx.s === '}')))) {
            patch.put(toks[k + 1].start, ' ;');
            rewrites.push({ start: tk.start, end: toks[close].end, kind: 'other', macro: name });
            prev = close;
            prevClosed = undefined;
            k = close;
            continue;
          }
        } else if (isIteratorBody(close + 1) && !startsWithType(k + 2) && rewriteIterator(k, close)) {
          continue;
        }
      } else if (frames.length > 0 && next && ((next.t === T.Ident && STMT_KEYWORDS.has(next.s)) || (next.t === T.Punct && next.s === '}')) &&
        /^[A-Z_][A-Z0-9_]*$/.test(name) &&
        /[A-Z]/.test(name) && atStatementStart()) {
        // `UFS_TEST_FREE_SPACE_CG` alone on a line before `for (…)`: a statement macro without `;` or arguments.
        patch.blank(tk.start, tk.end);
        rewrites.push({ start: tk.start, end: tk.end, kind: 'other', macro: name });
        continue;
      } else if (name === 'static' && atStatementStart() && next && next.t === T.Ident && /^[A-Z_][A-Z0-9_]*$/.test(next.s) &&
        toks[k + 2]?.t === T.Punct && toks[k + 2].s === '(') {
        // `static DEFINE_RATELIMIT_STATE(rs, …);` in a body: without `static` it is a macro call statement.
        patch.blank(tk.start, tk.end);
        rewrites.push({ start: tk.start, end: tk.end, kind: 'define', macro: 'static' });
        continue;
      }
      if (TYPEOF_LIKE.has(name) && callLike && match[k + 1] < n) {
        // `typeof(expr) x;`, `__alignof__(p->a[0])`: tree-sitter only takes a type inside; the whole specifier
        // becomes one identifier (a type name, or an expression).
        const close = match[k + 1];
        const len = toks[close].end - tk.start;
        if (!text.slice(tk.start, toks[close].end).includes('\n')) {
          patch.put(tk.start, (name.includes('typeof') ? 'typeof' : 'alignof').padEnd(len, '_'));
          rewrites.push({ start: tk.start, end: toks[close].end, kind: 'other', macro: name, args: argsOf(k + 1) });
          prev = close;
          prevClosed = undefined;
          k = close;
          itemStart = false;
          continue;
        }
      }
      // 4. A type given as a macro argument inside a function: `container_of(p, struct foo, m)`.
      if ((name === 'struct' || name === 'union' || name === 'enum') && bodyFrames > 0) {
        const f = top();
        const p = prev >= 0 ? toks[prev] : undefined;
        const tag = toks[k + 1];
        const after = toks[k + 2];
        // Only in a list of two or more arguments: `DARRAY(struct foo) x;` is a type, and stays one.
        if (f && f.f === F.Call && p && p.t === T.Punct && (p.s === '(' || p.s === ',') && tag && tag.t === T.Ident &&
          after && after.t === T.Punct && (after.s === ',' || after.s === ')') && !(p.s === '(' && after.s === ')')) {
          patch.blank(tk.start, tk.end);
          rewrites.push({ start: tk.start, end: tag.end, kind: 'other', macro: f.callee ?? '' });
          prev = k + 1;
          prevClosed = undefined;
          k++;
          continue;
        }
      }
      itemStart = false;
      prev = k;
      prevClosed = undefined;
      continue;
    }

    if (tk.t !== T.Punct) {
      itemStart = false;
      prev = k;
      prevClosed = undefined;
      continue;
    }
    const s = tk.s;
    switch (s) {
      case '(': {
        const p = prev >= 0 ? toks[prev] : undefined;
        let f = F.Group;
        let callee: string | undefined;
        if (p && p.t === T.Ident) {
          if (CONTROL_KEYWORDS.has(p.s)) f = F.Control;
          else if (!C_KEYWORDS.has(p.s)) {
            f = F.Call;
            callee = p.s;
          }
        }
        if (pendingParen === k) {
          f = F.Control;
          pendingParen = -1;
        }
        frames.push({ f, open: k, questions: 0, callee });
        framesOpened['(']++;
        break;
      }
      case '[':
        frames.push({ f: F.Group, open: k, questions: 0 });
        framesOpened['[']++;
        break;
      case '{': {
        let f: F;
        const enclosing = top();
        const p = prev >= 0 ? toks[prev] : undefined;
        if (pendingBody !== undefined) {
          f = pendingBody;
          pendingBody = undefined;
        } else if (!enclosing) {
          f = p && p.t === T.Punct && p.s === ')' ? F.Function : F.Aggregate;
        } else if (enclosing.f === F.Block || enclosing.f === F.Function) {
          if (!p) f = F.Block;
          else if (p.t === T.Punct) {
            if (p.s === ')') f = prevClosed === F.Group ? F.Aggregate : F.Block;
            else if (p.s === ';' || p.s === '{' || p.s === '}' || p.s === ':') f = F.Block;
            else f = F.Aggregate;
          } else if (p.t === T.Ident && (p.s === 'else' || p.s === 'do')) f = F.Block;
          else f = F.Aggregate;
        } else if (p && p.t === T.Punct && p.s === '(') {
          f = F.Block; // GNU statement expression `({ … })`
        } else {
          f = F.Aggregate;
        }
        const fr: Frame = { f, open: k, questions: 0 };
        if (f === F.Block && p && p.t === T.Ident && p.s === 'do') fr.afterDo = true;
        frames.push(fr);
        framesOpened['{']++;
        if (f === F.Block || f === F.Function) bodyFrames++;
        break;
      }
      case ')':
      case ']':
      case '}': {
        const want = s === ')' ? '(' : s === ']' ? '[' : '{';
        // No frame opened by `want`: a stray closer, skipped without scanning the frames (linear, as `match`).
        let d = framesOpened[want] > 0 ? frames.length - 1 : -1;
        while (d >= 0 && toks[frames[d].open].s !== want) d--;
        if (d >= 0) {
          const fr = frames[d];
          for (let x = d; x < frames.length; x++) {
            framesOpened[toks[frames[x].open].s]--;
            if (frames[x].f === F.Block || frames[x].f === F.Function) bodyFrames--;
          }
          frames.length = d;
          if (fr.afterDo) expectWhileAt = k + 1;
          prev = k;
          prevClosed = s === ')' ? fr.f : undefined;
          itemStart = false;
          continue;
        }
        break;
      }
      case '?': {
        const f = top();
        if (f) f.questions++;
        break;
      }
      case ':': {
        const f = top();
        if (f && f.questions > 0) {
          f.questions--;
          ternaryColon = k;
        }
        break;
      }
      case ';': {
        const f = top();
        if (f) f.questions = 0;
        if (f && f.f === F.Call && bodyFrames > 0) {
          // A statement passed to a macro: `DLM_ASSERT(x, dlm_print_lkb(lkb););` → a comma expression.
          const nx = toks[k + 1];
          const last = nx && nx.t === T.Punct && (nx.s === ')' || nx.s === ',');
          patch.put(tk.start, last ? ' ' : ',');
          rewrites.push({ start: tk.start, end: tk.end, kind: 'other', macro: f.callee ?? '' });
        }
        break;
      }
      case '...': {
        if (inStatementContext()) rewriteCaseRange(k);
        break;
      }
      default:
        break;
    }
    prev = k;
    prevClosed = undefined;
    itemStart = false;
  }

  return { text: patch.apply(), rewrites: rewrites.sort((a, b) => a.start - b.start) };

  // -------------------------------------------------------------------------------------------------------------

  /** Index of a `static`/`extern` (possibly `static const`) directly before toks[k] at the start of an item. */
  function storageBefore(k: number): number {
    let j = k - 1;
    while (j >= 0 && toks[j].t === T.Ident && (toks[j].s === 'static' || toks[j].s === 'extern' || toks[j].s === 'const')) j--;
    if (j === k - 1) return -1;
    if (j < 0 || j === itemBoundary || (toks[j].t === T.Punct && (toks[j].s === ';' || toks[j].s === '}'))) return j + 1;
    return -1;
  }

  /** Does the macro argument starting at toks[j] start with a type (`DARRAY(struct foo *) x;` is a declaration)? */
  function startsWithType(j: number): boolean {
    const t = toks[j];
    return t !== undefined && t.t === T.Ident && DECL_KEYWORDS.has(t.s);
  }

  function isIteratorBody(j: number): boolean {
    const t = toks[j];
    if (!t) return false;
    if (t.t === T.Punct) return t.s === '{';
    if (t.t !== T.Ident) return false;
    if (STMT_KEYWORDS.has(t.s)) return true;
    if (DECL_KEYWORDS.has(t.s) || C_KEYWORDS.has(t.s)) return false;
    if (annotationSpec(t.s)) return false;
    const u = toks[j + 1];
    // `FOO(x) bar baz` or `FOO(x) bar *baz` is a declaration after a macro without `;`, not a loop body.
    if (u && u.t === T.Ident) return false;
    if (u && u.t === T.Punct && u.s === '*' && toks[j + 2]?.t === T.Ident && toks[j + 3]?.t === T.Punct &&
      (toks[j + 3].s === ';' || toks[j + 3].s === '=' || toks[j + 3].s === ',')) return false;
    return true;
  }

  function rewriteIterator(k: number, close: number): boolean {
    const tk = toks[k];
    const name = tk.s;
    const len = tk.end - tk.start;
    if (len < 2) return false;
    const word = len >= 5 ? 'while' : 'if';
    patch.put(tk.start, word + ' '.repeat(len - word.length));
    const args = argsOf(k + 1);
    const kind: RewriteKind = SCOPED_GUARD_MACROS.has(name) ? 'scoped-guard' : 'iterator';
    // Arguments that are statements (scoped_cond_guard's `_fail`, e.g. `return -EINTR`) are blanked with a comma.
    const commas = commasOf(k + 1);
    for (let a = 0; a < args.length; a++) {
      const first = /^[A-Za-z_]\w*/.exec(args[a].text)?.[0];
      if (!first || !(STMT_KEYWORDS.has(first) || (name === 'scoped_cond_guard' && a === 1))) continue;
      patch.blank(args[a].start, args[a].end);
      if (a < commas.length) patch.blank(toks[commas[a]].start, toks[commas[a]].end);
      else if (a > 0) patch.blank(toks[commas[a - 1]].start, toks[commas[a - 1]].end);
    }
    rewrites.push({ start: tk.start, end: toks[close].end, kind, macro: name, args });
    // The `(` becomes a control paren, the `{` (if any) a block.
    pendingParen = k + 1;
    const after = toks[close + 1];
    if (after && after.t === T.Punct && after.s === '{') pendingBody = F.Block;
    prev = k;
    prevClosed = undefined;
    return true;
  }

  function rewriteSyscall(k: number, close: number): boolean {
    const tk = toks[k];
    const open = k + 1;
    const args = argsOf(open);
    const commas = commasOf(open);
    const nameArg = args[0];
    if (!nameArg || !/^[A-Za-z_]\w*$/.test(nameArg.text)) return false;
    const headLen = toks[open].end - tk.start;
    if (commas.length === 0) {
      // SYSCALL_DEFINE0(name) → `long           name()`: the name moves one column left.
      const region = text.slice(tk.start, toks[close].end);
      if (region.includes('\n')) return false;
      const body = nameArg.text + '()';
      const head = 'long'.padEnd(toks[open].start - tk.start);
      patch.put(tk.start, (head + body).padEnd(region.length));
    } else {
      patch.put(tk.start, 'long'.padEnd(headLen - 1) + ' ');
      patch.put(toks[commas[0]].start, '(');
      // Pairs (type, name): the comma between a type and its name is blanked; the one between pairs stays.
      // An argument that is itself a macro call (compat_arg_u64_dual(offset)) stands for whole parameters.
      for (let a = 1; a < args.length; a++) {
        if (/^\w+\s*\([^]*\)$/.test(args[a].text) && !/^(const|volatile|struct|union|enum|unsigned|signed)\b/.test(args[a].text)) continue;
        if (a < commas.length && a + 1 < args.length) patch.put(toks[commas[a]].start, ' ');
        a++;
      }
    }
    rewrites.push({ start: tk.start, end: toks[close].end, kind: 'syscall', macro: tk.s, args });
    pendingBody = F.Function;
    prev = k;
    prevClosed = undefined;
    return true;
  }

  /** Does the single argument of the list opened at `open` hold a `{` at its own level (statements)? */
  function wrapsBlock(open: number, close: number): boolean {
    let depth = 0;
    for (let j = open + 1; j < close; j++) {
      const t = toks[j];
      if (t.t !== T.Punct) continue;
      if (t.s === '(' || t.s === '[') depth++;
      else if (t.s === ')' || t.s === ']') depth--;
      else if (depth === 0 && t.s === ',') return false;
      else if (depth === 0 && t.s === '{') return j > open + 1 && toks[j - 1].t === T.Punct && toks[j - 1].s === ')';
    }
    return false;
  }

  function rewriteOffsetof(k: number): void {
    const args = argsOf(k + 1);
    const member = args[1];
    if (!member) return;
    const m = /^\s*[A-Za-z_]\w*/.exec(member.text);
    if (!m || m[0].length === member.text.length) return;
    // `offsetof(struct s, a.b[0])`: tree-sitter wants one field name; keep the first, blank the designator path.
    const from = member.start + m[0].length;
    patch.blank(from, member.end);
    rewrites.push({ start: toks[k].start, end: member.end, kind: 'other', macro: toks[k].s, args });
  }

  function rewriteCaseRange(k: number): void {
    // `case A ... B:`: find `case` before and `:` after at the same nesting.
    let j = k - 1;
    let depth = 0;
    for (; j >= 0 && k - j < 64; j--) {
      const t = toks[j];
      if (t.t === T.Punct) {
        if (t.s === ')' || t.s === ']') depth++;
        else if (t.s === '(' || t.s === '[') depth--;
        else if (depth === 0 && (t.s === ';' || t.s === '{' || t.s === '}' || t.s === ':')) return;
      } else if (t.t === T.Ident && t.s === 'case' && depth === 0) break;
    }
    if (j < 0 || toks[j].s !== 'case') return;
    let e = k + 1;
    depth = 0;
    for (; e < n && e - k < 64; e++) {
      const t = toks[e];
      if (t.t !== T.Punct) continue;
      if (t.s === '(' || t.s === '[') depth++;
      else if (t.s === ')' || t.s === ']') depth--;
      else if (depth === 0 && t.s === ':') break;
      else if (depth === 0 && (t.s === ';' || t.s === '{' || t.s === '}')) return;
    }
    if (e >= n || toks[e].s !== ':' || e === k + 1) return;
    const start = toks[k].start;
    const end = toks[e - 1].end;
    patch.blank(start, end);
    rewrites.push({
      start, end, kind: 'other', macro: 'case-range',
      args: [{ text: text.slice(toks[k + 1].start, end), start: toks[k + 1].start, end }],
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Preprocessor conditionals
//
// tree-sitter-c parses `#if`/`#ifdef` groups where a top-level item, a statement, a struct field or an enumerator
// may stand, and only when every branch is complete on its own. Kernel code also puts them inside initializer
// lists and argument lists, starts a branch with `else`, opens a brace in one branch and closes it in another,
// or writes two alternative function heads. Each conditional is classified, innermost first:
//   keep          every branch is balanced (braces, parentheses, brackets), starts like an item or a statement,
//                 is not the tail of a function head (a branch ending with `)` right before a `{`), is not right
//                 after a label, and the conditional is not inside an expression or an initializer;
//   flatten       otherwise, when there is a single branch: the directive lines are blanked and the code kept
//                 (as if the option were enabled);
//   first-branch  otherwise: the directive lines and every branch but the first live one are blanked
//                 (the first live branch of `#if 0 … #else … #endif` is the `#else` one).
// Each decision other than keep is recorded as an 'other' rewrite with macro '#if' (args[0]: the decision).

interface CondBlock {
  dirs: Directive[];
  children: CondBlock[];
}

const ITEM_START_PUNCT = new Set(['{', ';', '(', '*', '++', '--', '!', '~', '&', '[', '#']);

function resolveConditionals(toks: Tok[], directives: Directive[], patch: Patcher, rewrites: Rewrite[]): Tok[] {
  // Build the conditional tree.
  const roots: CondBlock[] = [];
  const open: CondBlock[] = [];
  for (const d of directives) {
    if (d.skipped) continue;
    switch (d.name) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const b: CondBlock = { dirs: [d], children: [] };
        (open.length ? open[open.length - 1].children : roots).push(b);
        open.push(b);
        break;
      }
      case 'elif':
      case 'elifdef':
      case 'elifndef':
      case 'else':
        if (open.length) open[open.length - 1].dirs.push(d);
        break;
      case 'endif': {
        const b = open.pop();
        if (b) b.dirs.push(d);
        break;
      }
      default:
        break;
    }
  }
  if (roots.length === 0) return toks;
  // Unterminated blocks (no #endif) are left alone.
  const complete = (b: CondBlock): boolean => b.dirs[b.dirs.length - 1].name === 'endif';

  // Context at each block start: inside an expression/initializer or not, right after a label.
  const exprAt = new Map<number, boolean>();
  {
    const starts = new Set<number>();
    for (const b of postOrder(roots)) starts.add(b.dirs[0].tok);
    const stack: string[] = [];
    for (let k = 0; k <= toks.length; k++) {
      if (starts.has(k)) {
        const topc = stack[stack.length - 1];
        exprAt.set(k, topc === '(' || topc === '[' || topc === 'init');
      }
      if (k === toks.length) break;
      const tk = toks[k];
      if (tk.t !== T.Punct) continue;
      const s = tk.s;
      if (s === '(' || s === '[') stack.push(s);
      else if (s === '{') {
        const p = toks[k - 1];
        const topc = stack[stack.length - 1];
        const init = p !== undefined && p.t === T.Punct && (p.s === '=' || (topc === 'init' && (p.s === ',' || p.s === '{')));
        stack.push(init ? 'init' : '{');
      } else if (s === ')' || s === ']' || s === '}') stack.pop();
    }
  }

  const dead = new Uint8Array(toks.length);
  /** Does the token before index k require a statement (a label, `else`, `do`, the `)` of if/while/for)? */
  const needsStatementBefore = (k: number): boolean => {
    let j = k - 1;
    while (j >= 0 && dead[j]) j--;
    const c = toks[j];
    if (!c) return false;
    if (c.t === T.Ident) return c.s === 'else' || c.s === 'do';
    if (c.t !== T.Punct) return false;
    if (c.s === ':') {
      const l = toks[j - 1];
      const b = toks[j - 2];
      return l !== undefined && l.t === T.Ident && l.s !== 'default' &&
        (b === undefined || (b.t === T.Punct && (b.s === ';' || b.s === '{' || b.s === '}')));
    }
    if (c.s === ')') return closesControl(j);
    return false;
  };
  /** Is toks[j] (a `)`) the end of an if/while/for/switch header? */
  const closesControl = (j: number, from = 0): boolean => {
    let depth = 0;
    for (let i = j; i >= from && j - i < 4000; i--) {
      if (dead[i] || toks[i].t !== T.Punct) continue;
      if (toks[i].s === ')') depth++;
      else if (toks[i].s === '(' && --depth === 0) {
        let p = i - 1;
        while (p >= 0 && dead[p]) p--;
        const kw = toks[p];
        return kw !== undefined && kw.t === T.Ident && CONTROL_KEYWORDS.has(kw.s);
      }
    }
    return false;
  };
  const live = (from: number, to: number): number[] => {
    const out: number[] = [];
    for (let k = from; k < to; k++) if (!dead[k]) out.push(k);
    return out;
  };
  const branchOk = (idx: number[], nextTok: Tok | undefined, inExpr: boolean): boolean => {
    if (idx.length === 0) return true;
    let paren = 0;
    let brack = 0;
    let brace = 0;
    for (const k of idx) {
      const tk = toks[k];
      if (tk.t !== T.Punct) continue;
      switch (tk.s) {
        case '(': paren++; break;
        case ')': if (--paren < 0) return false; break;
        case '[': brack++; break;
        case ']': if (--brack < 0) return false; break;
        case '{': brace++; break;
        case '}': if (--brace < 0) return false; break;
        default: break;
      }
    }
    if (paren !== 0 || brack !== 0 || brace !== 0) return false;
    const first = toks[idx[0]];
    if (first.t === T.Ident && first.s === 'else') return false;
    if (first.t === T.Punct && !ITEM_START_PUNCT.has(first.s)) return false;
    if (first.t === T.String) return false;
    const last = toks[idx[idx.length - 1]];
    if (last.t === T.Punct && last.s === ')' && nextTok && nextTok.t === T.Punct && nextTok.s === '{') return false;
    // A branch ending inside an expression (`mode =`) or with a label whose statement is outside.
    if (!inExpr && last.t === T.Punct && last.s !== ';' && last.s !== '}' && last.s !== ')' && last.s !== ']') return false;
    if (last.t === T.Ident && (last.s === 'else' || last.s === 'do')) return false;
    if (!inExpr && last.t === T.Punct && last.s === ')' && closesControl(idx[idx.length - 1], idx[0])) return false;
    return true;
  };
  const blankRange = (start: number, end: number): void => patch.blank(start, end);

  const resolve = (b: CondBlock): void => {
    if (!complete(b)) return;
    const dirs = b.dirs;
    const endTok = dirs[dirs.length - 1].tok;
    let after = endTok;
    while (after < toks.length && dead[after]) after++;
    const nextTok = toks[after];
    const branches: number[][] = [];
    for (let i = 0; i + 1 < dirs.length; i++) branches.push(live(dirs[i].tok, dirs[i + 1].tok));
    const inExpr = exprAt.get(dirs[0].tok) === true;
    const afterLabel = needsStatementBefore(dirs[0].tok);
    if (!inExpr && !afterLabel && branches.every((br) => branchOk(br, nextTok, inExpr))) return;
    for (const d of dirs) blankRange(d.start, d.end);
    const single = dirs.length === 2;
    const decision = single ? 'flatten' : 'first-branch';
    if (!single) {
      // The first live branch: skip `#if 0` groups (their text is already blank) and `#elif 0`.
      let keep = 0;
      while (keep < branches.length - 1 && /^0\s*$/.test(dirs[keep].rest) && (dirs[keep].name === 'if' || dirs[keep].name === 'elif')) keep++;
      for (let i = 0; i < branches.length; i++) {
        if (i === keep) continue;
        for (let k = dirs[i].tok; k < dirs[i + 1].tok; k++) dead[k] = 1;
        blankRange(dirs[i].end, dirs[i + 1].start);
      }
    }
    const first = dirs[0];
    rewrites.push({
      start: first.start, end: dirs[dirs.length - 1].end, kind: 'other', macro: '#if',
      args: [{ text: decision, start: first.start, end: first.end }],
    });
  };
  // Innermost first.
  for (const b of postOrder(roots)) resolve(b);
  return toks.filter((_, k) => !dead[k]);
}

/**
 * The blocks of a conditional tree, children before their parent and siblings in order; without recursion, since
 * the nesting depth is the file's (8,000 nested `#if` overflowed the stack: fuzz, issue #8).
 */
function postOrder(roots: readonly CondBlock[]): CondBlock[] {
  const out: CondBlock[] = [];
  const stack: [CondBlock, boolean][] = roots.map((b): [CondBlock, boolean] => [b, false]).reverse();
  while (stack.length) {
    const [b, childrenDone] = stack.pop()!;
    if (childrenDone) {
      out.push(b);
      continue;
    }
    stack.push([b, true]);
    for (let i = b.children.length - 1; i >= 0; i--) stack.push([b.children[i], false]);
  }
  return out;
}

/**
 * A macro standing for a string next to a string literal (`KERN_INFO XFS_VERSION_STRING " with "`): replaced by a
 * string literal of the same length so that tree-sitter sees a concatenated string.
 */
function stringifyAdjacentMacros(text: string, toks: Tok[], patch: Patcher, rewrites: Rewrite[]): void {
  const n = toks.length;
  const candidate = (k: number): boolean => {
    const tk = toks[k];
    if (!tk || tk.t !== T.Ident || tk.end - tk.start < 2) return false;
    if (C_KEYWORDS.has(tk.s) || annotationSpec(tk.s)) return false;
    const nx = toks[k + 1];
    return !(nx && nx.t === T.Punct && nx.s === '(');
  };
  let mark: Uint8Array | undefined;
  for (let k = 0; k < n; k++) {
    if (toks[k].t !== T.Ident) continue;
    const nx = toks[k + 1];
    const pv = toks[k - 1];
    if (((nx && nx.t === T.String) || (pv && pv.t === T.String)) && candidate(k)) (mark ??= new Uint8Array(n))[k] = 1;
  }
  if (!mark) return;
  // Chains: `KERN_INFO XFS_VERSION_STRING "…"`.
  for (let k = n - 2; k >= 0; k--) if (!mark[k] && mark[k + 1] && candidate(k)) mark[k] = 1;
  for (let k = 0; k < n; k++) {
    if (!mark[k]) continue;
    const tk = toks[k];
    patch.put(tk.start, '"' + text.slice(tk.start + 1, tk.end - 1).replace(/[\\"]/g, '_') + '"');
    rewrites.push({ start: tk.start, end: tk.end, kind: 'other', macro: tk.s });
  }
}

/**
 * Bracket balance of text[start, end) as C code (comments, strings, character literals and preprocessor lines
 * skipped): `ok` when parentheses, brackets and braces all close in order and nothing is left open.
 */
export function bracketsBalanced(text: string, start: number, end: number): boolean {
  const { toks } = lex(text.slice(start, end));
  const stack: string[] = [];
  for (const tk of toks) {
    if (tk.t !== T.Punct) continue;
    const s = tk.s;
    if (s === '(' || s === '[' || s === '{') stack.push(s);
    else if (s === ')' || s === ']' || s === '}') {
      const want = s === ')' ? '(' : s === ']' ? '[' : '{';
      if (stack.pop() !== want) return false;
    }
  }
  return stack.length === 0;
}

/** `#define printf(format, args...)`: tree-sitter-c only knows `...` alone; the GNU named form loses its dots. */
function rewriteNamedVariadic(text: string, d: Directive, patch: Patcher, rewrites: Rewrite[]): void {
  const head = /^#\s*define\s+\w+\(([^)]*)\)/.exec(text.slice(d.start, Math.min(d.end, d.start + 400)));
  if (!head) return;
  const m = /\w\s*(\.\.\.)/.exec(head[1]);
  if (!m) return;
  const at = d.start + head.index + head[0].indexOf('(') + 1 + m.index + m[0].length - 3;
  patch.blank(at, at + 3);
  rewrites.push({ start: at, end: at + 3, kind: 'other', macro: '#define' });
}
