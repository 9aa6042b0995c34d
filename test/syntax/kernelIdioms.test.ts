// preprocessKernelC: exact rewrites, offsets kept, and the trees tree-sitter builds from the rewritten text.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Node, Parser } from 'web-tree-sitter';
import { collectDeclarations, findFirst, listFunctions } from '../../server/src/syntax/ast';
import { knownCondition, preprocessKernelC, type Rewrite } from '../../server/src/syntax/kernelIdioms';
import { initParser } from '../../server/src/syntax/parser';
import { parseSource, type SourceFile } from '../../server/src/syntax/sourceFile';

let parser: Parser;
before(async () => {
  parser = await initParser();
});

function parse(text: string): SourceFile {
  return parseSource(parser, text);
}

/** Same length, same newlines: every offset and line/column stays valid. */
function assertShapeKept(text: string): ReturnType<typeof preprocessKernelC> {
  const r = preprocessKernelC(text);
  assert.equal(r.text.length, text.length);
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\n' || r.text[i] === '\n') assert.equal(r.text[i], text[i], `newline moved at ${i}`);
  }
  return r;
}

function only(rewrites: readonly Rewrite[], kind: Rewrite['kind']): Rewrite[] {
  return rewrites.filter((r) => r.kind === kind);
}

function nodesOfType(root: Node, type: string): Node[] {
  const out: Node[] = [];
  const walk = (n: Node): void => {
    if (n.type === type) out.push(n);
    for (const c of n.namedChildren) if (c) walk(c);
  };
  walk(root);
  return out;
}

describe('annotations', () => {
  test('static int __init f(void) yields function f, __init blanked in place', () => {
    const text = 'static int __init f(void)\n{\n\treturn 0;\n}\n';
    const r = assertShapeKept(text);
    assert.equal(r.text, 'static int        f(void)\n{\n\treturn 0;\n}\n');
    assert.deepEqual(r.rewrites, [{ start: 11, end: 17, kind: 'annotation', macro: '__init' }]);
    const f = parse(text);
    const fns = listFunctions(f);
    assert.deepEqual(fns.map((x) => x.name), ['f']);
    assert.equal(fns[0].isStatic, true);
    assert.equal(fns[0].returnTypeText, 'int');
    assert.equal(f.hasErrors, false);
  });

  test('annotations with arguments are blanked with them, arguments recorded', () => {
    const text = '__printf(2, 3) void __cold log(int lvl, const char *fmt, ...);\nstruct s { int n; int a[] __counted_by(n); } __packed __aligned(8);\n';
    const r = assertShapeKept(text);
    const printf = r.rewrites.find((x) => x.macro === '__printf')!;
    assert.equal(text.slice(printf.start, printf.end), '__printf(2, 3)');
    assert.deepEqual(printf.args?.map((a) => a.text), ['2', '3']);
    assert.equal(text.slice(printf.args![1].start, printf.args![1].end), '3');
    assert.deepEqual(r.rewrites.map((x) => x.macro), ['__printf', '__cold', '__counted_by', '__packed', '__aligned']);
    assert.equal(parse(text).hasErrors, false);
  });

  test('__user, __iomem, __rcu, __percpu, __force in declarators and casts', () => {
    const text = 'static long g(void __user *p, void __iomem *io)\n{\n\tstruct foo __rcu *x = (struct foo __force *)p;\n\tint __percpu *c;\n\treturn 0;\n}\n';
    const f = parse(text);
    assert.equal(f.hasErrors, false);
    const [fn] = listFunctions(f);
    assert.deepEqual(fn.params.map((p) => [p.name, p.typeText, p.pointerDepth]), [['p', 'void *', 1], ['io', 'void *', 1]]);
    const locals = collectDeclarations(fn.body);
    assert.deepEqual(locals.map((d) => [d.name, d.structTag ?? null]), [['x', 'foo'], ['c', null]]);
  });

  test('__acquires(&l) is a lock-annotation with its argument kept', () => {
    const text = 'static void lock_it(struct s *s) __acquires(&s->lock) __releases(RCU)\n{\n\tspin_lock(&s->lock);\n}\n';
    const r = assertShapeKept(text);
    const locks = only(r.rewrites, 'lock-annotation');
    assert.deepEqual(locks.map((x) => [x.macro, x.args?.map((a) => a.text)]), [['__acquires', ['&s->lock']], ['__releases', ['RCU']]]);
    const arg = locks[0].args![0];
    assert.equal(text.slice(arg.start, arg.end), '&s->lock');
    const f = parse(text);
    assert.equal(f.hasErrors, false);
    assert.deepEqual(listFunctions(f).map((x) => x.name), ['lock_it']);
  });

  test('__always_inline makes the function inline', () => {
    const f = parse('static __always_inline int h(void) { return 1; }\nstatic inline int i(void) { return 2; }\n');
    assert.deepEqual(listFunctions(f).map((x) => [x.name, x.isInline]), [['h', true], ['i', true]]);
  });

  test('an identifier that is only a prefix or an Object property is not an annotation', () => {
    const text = 'int constructor(int __initial, int toString) { return __initial + toString; }\n';
    const r = assertShapeKept(text);
    assert.equal(r.rewrites.length, 0);
  });
});

describe('comments, strings and macro definitions are never rewritten', () => {
  test('comments and strings keep their text', () => {
    const text = [
      'void f(void)',
      '{',
      '\t/* __init list_for_each_entry(a, b, c) { */',
      '\t// scoped_guard(spinlock, &l) { __user',
      '\tputs("__user __init list_for_each(p, h) {");',
      "\tc = '{';",
      '}',
      '',
    ].join('\n');
    const r = assertShapeKept(text);
    assert.equal(r.text, text);
    assert.deepEqual(r.rewrites, []);
  });

  test('a #define body is untouched (a macro definition is not a function)', () => {
    const text = [
      '#define for_each_thing(pos, head) \\',
      '\tlist_for_each_entry(pos, head, list) { __init }',
      '#define SHOW(x) static int __init show_##x(void) { return 0; }',
      'int real(void) { return 0; }',
      '',
    ].join('\n');
    const r = assertShapeKept(text);
    assert.equal(r.text, text);
    const f = parse(text);
    assert.deepEqual(listFunctions(f).map((x) => x.name), ['real']);
  });

  test('#if 0 groups are blanked, their #else kept', () => {
    const text = '#if 0\nthis is ( not C {\n#else\nint kept(void) { return 1; }\n#endif\n';
    const r = assertShapeKept(text);
    assert.equal(r.text, '#if 0\n                 \n#else\nint kept(void) { return 1; }\n#endif\n');
    assert.deepEqual(r.rewrites.map((x) => x.macro), ['#if 0']);
    const f = parse(text);
    assert.equal(f.hasErrors, false);
    assert.deepEqual(listFunctions(f).map((x) => x.name), ['kept']);
  });

  test('conditionals on one architecture symbol are decided for x86-64; other symbols keep every branch', () => {
    const text = [
      'int f(void)', '{',
      '#ifdef CONFIG_S390', '\ts390();', '#else', '\tother();', '#endif',
      '#if defined(CONFIG_X86) /* own */', '\tx86();', '#elif defined(CONFIG_ARM64)', '\tarm64();', '#else', '\tneither();', '#endif',
      '#ifndef CONFIG_PPC', '\tnot_ppc();', '#else', '\tppc();', '#endif',
      '#if !IS_ENABLED(CONFIG_X86_64)', '\tnot_64();', '#endif',
      '#ifdef CONFIG_ARM64', '#ifdef CONFIG_X86', '\tnested();', '#endif', '#else', '\tafter_nested();', '#endif',
      '#ifdef CONFIG_FOO', '\tfoo();', '#else', '\tnot_foo();', '#endif',
      '#if defined(CONFIG_S390) || defined(CONFIG_X86)', '\tcompound();', '#endif',
      '}', '',
    ].join('\n');
    const r = assertShapeKept(text);
    const calls = [...r.text.matchAll(/([a-z_0-9]+)\(\);/g)].map((m) => m[1]);
    assert.deepEqual(calls, ['other', 'x86', 'not_ppc', 'after_nested', 'foo', 'not_foo', 'compound']);
    assert.equal(parse(text).hasErrors, false);
  });

  test('knownCondition: only #if 0 and single architecture tests are known', () => {
    assert.equal(knownCondition('if', '0'), false);
    assert.equal(knownCondition('ifdef', 'CONFIG_S390'), false);
    assert.equal(knownCondition('ifndef', 'CONFIG_S390'), true);
    assert.equal(knownCondition('if', 'defined CONFIG_X86'), true);
    assert.equal(knownCondition('if', '!defined(CONFIG_ARM64) // comment'), true);
    assert.equal(knownCondition('if', 'IS_BUILTIN(CONFIG_RISCV)'), false);
    assert.equal(knownCondition('ifdef', 'CONFIG_NUMA'), undefined);
    assert.equal(knownCondition('if', 'defined(CONFIG_S390) && defined(CONFIG_NUMA)'), undefined);
    assert.equal(knownCondition('elif', 'defined(CONFIG_S390)'), undefined);
  });
});

describe('iterator macros', () => {
  const text = [
    'int count(struct list_head *head)',
    '{',
    '\tstruct item *pos;',
    '\tint n = 0;',
    '',
    '\tlist_for_each_entry(pos, head, member) {',
    '\t\tn++;',
    '\t\tpos->seen = 1;',
    '\t}',
    '\tfor_each_cpu(cpu, mask)',
    '\t\tn += per_cpu(x, cpu);',
    '\treturn n;',
    '}',
    '',
  ].join('\n');

  test('list_for_each_entry(pos, head, member) { … } is a while_statement holding the statements', () => {
    const r = assertShapeKept(text);
    const it = only(r.rewrites, 'iterator');
    assert.deepEqual(it.map((x) => [x.macro, x.args?.map((a) => a.text)]), [
      ['list_for_each_entry', ['pos', 'head', 'member']],
      ['for_each_cpu', ['cpu', 'mask']],
    ]);
    assert.equal(text.slice(it[0].start, it[0].end), 'list_for_each_entry(pos, head, member)');
    assert.equal(r.text.slice(it[0].start, it[0].start + 19), 'while              ');
    const arg = it[0].args![1];
    assert.equal(text.slice(arg.start, arg.end), 'head');

    const f = parse(text);
    assert.equal(f.hasErrors, false);
    const [fn] = listFunctions(f);
    const loops = nodesOfType(fn.body, 'while_statement');
    assert.equal(loops.length, 2);
    assert.equal(loops[0].startIndex, it[0].start);
    const body = loops[0].childForFieldName('body')!;
    assert.equal(body.type, 'compound_statement');
    assert.equal(body.namedChildren.length, 2);
    // The single-statement form takes the next statement as its body.
    assert.equal(loops[1].childForFieldName('body')!.type, 'expression_statement');
    assert.deepEqual(fn.body.namedChildren.map((c) => c!.type), ['declaration', 'declaration', 'while_statement', 'while_statement', 'return_statement']);
  });

  test('short macro names become if', () => {
    const r = assertShapeKept('void f(void)\n{\n\teach(x) {\n\t\tg();\n\t}\n}\n');
    assert.match(r.text, /\tif  \(x\) \{/);
  });

  test('scoped_guard(spinlock_irqsave, &l) { … } is a scoped-guard with its arguments', () => {
    const src = 'void f(struct s *s)\n{\n\tscoped_guard (spinlock_irqsave, &s->lock) {\n\t\ts->n++;\n\t}\n\tscoped_guard(rcu)\n\t\tg();\n}\n';
    const r = assertShapeKept(src);
    const g = only(r.rewrites, 'scoped-guard');
    assert.deepEqual(g.map((x) => [x.macro, x.args?.map((a) => a.text)]), [['scoped_guard', ['spinlock_irqsave', '&s->lock']], ['scoped_guard', ['rcu']]]);
    const f = parse(src);
    assert.equal(f.hasErrors, false);
    const loops = nodesOfType(f.tree.rootNode, 'while_statement');
    assert.deepEqual(loops.map((l) => l.startIndex), g.map((x) => x.start));
  });

  test('scoped_cond_guard: the fail statement is kept in args and blanked in the condition', () => {
    const src = 'int f(void)\n{\n\tscoped_cond_guard(mutex_intr, return -EINTR, &m) {\n\t\tg();\n\t}\n\treturn 0;\n}\n';
    const r = assertShapeKept(src);
    const [g] = only(r.rewrites, 'scoped-guard');
    assert.deepEqual(g.args?.map((a) => a.text), ['mutex_intr', 'return -EINTR', '&m']);
    assert.ok(!r.text.includes('return -EINTR'));
    assert.equal(parse(src).hasErrors, false);
  });

  test('guard(mutex)(&lock); stays a call of a call', () => {
    const src = 'void f(void)\n{\n\tguard(mutex)(&lock);\n\tg();\n}\n';
    const r = assertShapeKept(src);
    assert.equal(r.text, src);
    const f = parse(src);
    const call = findFirst(f.tree.rootNode, (n) => n.type === 'call_expression')!;
    assert.equal(call.childForFieldName('function')!.type, 'call_expression');
  });

  test('do { … } for_each_vma(vmi, vma); ends a do-while', () => {
    const src = 'void f(void)\n{\n\tdo {\n\t\tg();\n\t} for_each_vma(vmi, vma);\n\th();\n}\n';
    const f = parse(src);
    assert.equal(f.hasErrors, false);
    assert.equal(nodesOfType(f.tree.rootNode, 'do_statement').length, 1);
  });

  test('not iterators: top-level definitions, calls with `;`, initializers, conditional expressions', () => {
    const src = [
      'int f(void) {',
      '\tstatic const struct ops o = { .open = OPEN(x), .n = { 1, 2 } };',
      '\tfoo(a, b);',
      '\tx = y ? BAR(a) : b;',
      '\tif (BAZ(x))',
      '\t\treturn 1;',
      '\treturn 0;',
      '}',
      '',
    ].join('\n');
    const r = assertShapeKept(src);
    assert.deepEqual(only(r.rewrites, 'iterator'), []);
    assert.equal(parse(src).hasErrors, false);
  });
});

describe('syscalls and top-level macros', () => {
  test('SYSCALL_DEFINE3 is named sys_open with its parameters', () => {
    const src = 'SYSCALL_DEFINE3(open, const char __user *, filename, int, flags, umode_t, mode)\n{\n\treturn do_sys_open(AT_FDCWD, filename, flags, mode);\n}\n';
    const r = assertShapeKept(src);
    const [sys] = only(r.rewrites, 'syscall');
    assert.equal(sys.macro, 'SYSCALL_DEFINE3');
    assert.deepEqual(sys.args?.map((a) => a.text), ['open', 'const char __user *', 'filename', 'int', 'flags', 'umode_t', 'mode']);
    const f = parse(src);
    assert.equal(f.hasErrors, false);
    const [fn] = listFunctions(f);
    assert.equal(fn.name, 'sys_open');
    assert.equal(fn.returnTypeText, 'long');
    assert.equal(src.slice(fn.nameNode!.startIndex, fn.nameNode!.endIndex), 'open');
    assert.deepEqual(fn.params.map((p) => [p.name, p.typeText]), [['filename', 'const char *'], ['flags', 'int'], ['mode', 'umode_t']]);
  });

  test('SYSCALL_DEFINE0 and COMPAT_SYSCALL_DEFINE with a parameter macro', () => {
    const src = [
      'SYSCALL_DEFINE0(getpid)',
      '{',
      '\treturn 1;',
      '}',
      'COMPAT_SYSCALL_DEFINE6(fallocate, int, fd, int, mode, compat_arg_u64_dual(offset),',
      '\t\t       compat_arg_u64_dual(len))',
      '{',
      '\treturn 0;',
      '}',
      '',
    ].join('\n');
    const f = parse(src);
    assert.deepEqual(listFunctions(f).map((x) => x.name), ['sys_getpid', 'compat_sys_fallocate']);
  });

  test('top-level DEFINE_*, EXPORT_SYMBOL, module_init do not swallow the next function', () => {
    const src = [
      'DEFINE_GUARD(mutex, struct mutex *, mutex_lock(_T), mutex_unlock(_T))',
      'static DEFINE_PER_CPU(struct pagevec, lru_pvecs);',
      'int g(void)',
      '{',
      '\treturn 0;',
      '}',
      'EXPORT_SYMBOL_GPL(g);',
      'module_init(g);',
      'int h(void) { return 1; }',
      '',
    ].join('\n');
    const r = assertShapeKept(src);
    const defs = only(r.rewrites, 'define');
    assert.deepEqual(defs.map((x) => x.macro), ['DEFINE_GUARD', 'DEFINE_PER_CPU', 'EXPORT_SYMBOL_GPL', 'module_init']);
    assert.deepEqual(defs[0].args?.map((a) => a.text), ['mutex', 'struct mutex *', 'mutex_lock(_T)', 'mutex_unlock(_T)']);
    assert.equal(src.slice(defs[1].start, defs[1].end), 'static DEFINE_PER_CPU(struct pagevec, lru_pvecs);');
    const f = parse(src);
    assert.equal(f.hasErrors, false);
    assert.deepEqual(listFunctions(f).map((x) => x.name), ['g', 'h']);
  });

  test('trace-event headers', () => {
    const src = [
      'TRACE_EVENT(xfs_thing,',
      '\tTP_PROTO(struct xfs_inode *ip, int n),',
      '\tTP_ARGS(ip, n),',
      '\tTP_STRUCT__entry(__field(dev_t, dev) __field(int, n)),',
      '\tTP_fast_assign(__entry->dev = VFS_I(ip)->i_sb->s_dev; __entry->n = n;),',
      '\tTP_printk("dev %d n %d", __entry->dev, __entry->n)',
      ');',
      'static inline int after(void) { return 0; }',
      '',
    ].join('\n');
    const f = parse(src);
    assert.equal(f.hasErrors, false);
    assert.deepEqual(listFunctions(f).map((x) => x.name), ['after']);
  });
});

describe('preprocessor conditionals and other shapes', () => {
  test('an #ifdef that starts with else is flattened', () => {
    const src = [
      'static int pick(int t)',
      '{',
      '\tif (t == 1)',
      '\t\treturn 1;',
      '#ifdef CONFIG_X',
      '\telse if (t == 2)',
      '\t\treturn 2;',
      '#endif',
      '\telse if (t == 3)',
      '\t\treturn 3;',
      '\treturn 0;',
      '}',
      'int next(void) { return 0; }',
      '',
    ].join('\n');
    const r = assertShapeKept(src);
    assert.deepEqual(r.rewrites.map((x) => [x.macro, x.args?.[0].text]), [['#if', 'flatten']]);
    const f = parse(src);
    assert.equal(f.hasErrors, false);
    assert.deepEqual(listFunctions(f).map((x) => x.name), ['pick', 'next']);
  });

  test('alternative function heads keep the first branch', () => {
    const src = [
      '#ifdef CONFIG_A',
      'static int two(int a, int b)',
      '#else',
      'static int two(int a)',
      '#endif',
      '{',
      '\treturn a;',
      '}',
      '',
    ].join('\n');
    const f = parse(src);
    assert.equal(f.hasErrors, false);
    const fns = listFunctions(f);
    assert.deepEqual(fns.map((x) => [x.name, x.params.length]), [['two', 2]]);
  });

  test('balanced conditionals are left to tree-sitter', () => {
    const src = '#ifdef CONFIG_A\nint a(void) { return 1; }\n#else\nint a(void) { return 0; }\n#endif\n';
    const r = assertShapeKept(src);
    assert.equal(r.text, src);
    assert.equal(listFunctions(parse(src)).length, 2);
  });

  test('case ranges, types as macro arguments, offsetof paths, typeof, string macros', () => {
    const src = [
      'int f(struct list_head *p)',
      '{',
      '\tstruct item *it = container_of(p, struct item, list);',
      '\ttypeof(*it) copy;',
      '\tsize_t o = offsetof(struct item, u.s.field[0]);',
      '\tswitch (it->n) {',
      "\tcase 'a' ... 'z':",
      '\t\tprintk(KERN_INFO MY_VERSION " ready\\n");',
      '\t\tbreak;',
      '\t}',
      '\treturn o;',
      '}',
      '',
    ].join('\n');
    assertShapeKept(src);
    const f = parse(src);
    assert.equal(f.hasErrors, false, f.tree.rootNode.toString());
    const [fn] = listFunctions(f);
    assert.deepEqual(collectDeclarations(fn.body).map((d) => d.name), ['it', 'copy', 'o']);
  });

  test('a label before a conditional, and statements passed to a macro', () => {
    const src = 'void f(void)\n{\nout:\n#ifdef CONFIG_X\n\tg();\n#endif\n\tDLM_ASSERT(x, dump(x););\n\treturn;\n}\n';
    const f = parse(src);
    assert.equal(f.hasErrors, false);
  });
});

describe('robustness', () => {
  test('half-typed and hostile input: no throw, shape kept', () => {
    const samples = [
      '', '{', '}', ')', '#', '#if', '#if 0', '#endif', '/* unterminated', '"unterminated\nint x;', "'", '\\', '\\\n',
      'list_for_each_entry(', 'int f(void) { list_for_each_entry(a, b', 'SYSCALL_DEFINE3(', 'SYSCALL_DEFINE0() {',
      'scoped_guard(', '__attribute__((', 'case 1 ...', 'DEFINE_FOO(a, b', '#define X \\', 'int f(void) { do { } FOO(',
      '\u0000\u0001\uFFFD\uD800', 'é😀 int f(void) { return "é😀"; }', '#ifdef A\n#else\n#else\n#endif\n#endif\n',
      'a ? b : c : d ? e', 'typeof(', 'offsetof(struct a, b.c', 'int f(void) {\r\n\tlist_for_each(p, h)\r\n\t\tg();\r\n}\r\n',
    ];
    for (const s of samples) {
      assertShapeKept(s);
      const f = parse(s);
      listFunctions(f);
      f.dispose();
    }
  });

  test('random slices of kernel-style code keep their shape', () => {
    const src = [
      'static int __init f(void) __acquires(&l)', '{', '\tlist_for_each_entry(pos, head, member) {', '\t\tscoped_guard(spinlock, &l)',
      '\t\t\tg(pos);', '\t}', '#ifdef CONFIG_X', '\telse if (x)', '#endif', '\treturn 0;', '}',
      'SYSCALL_DEFINE2(x, int, a, char __user *, b)', '{', '}', 'DEFINE_GUARD(a, b, c, d)', 'EXPORT_SYMBOL(f);', '',
    ].join('\n');
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const a = rnd(src.length);
      const b = a + rnd(src.length - a + 1);
      const cut = src.slice(0, a) + src.slice(b);
      assertShapeKept(cut);
    }
  });

  test('a parse error in one function does not stop listing the others', () => {
    const src = 'int a(void) { return 1; }\nint b(void) { if (x { y(; }\nint c(void) { return 3; }\n';
    const f = parse(src);
    const fns = listFunctions(f);
    // The half-typed b leaves brackets open: it is set aside, a and c are intact.
    assert.deepEqual(fns.map((x) => [x.name, x.hasError]), [['a', false], ['c', false]]);
    assert.deepEqual(f.problems, ['syntax errors in lines 2-2; that part is not analysed']);
    const broken = parse('int a(void) { return 1; }\nint b(void) { if (x) { y(1 2); } }\nint c(void) { return 3; }\n');
    const bfns = listFunctions(broken);
    assert.deepEqual(bfns.map((x) => [x.name, x.hasError]), [['a', false], ['b', true], ['c', false]]);
  });
});
