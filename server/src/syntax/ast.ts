// Pure helpers over tree-sitter-c trees: functions, declarations, traversal, ranges.
// Knows C, not the kernel API (the only kernel knowledge comes from kernelIdioms.ts: syscall names, inline macros).
// Getters return undefined instead of throwing; nothing here allocates beyond the returned values.
import type { Node, TreeCursor } from 'web-tree-sitter';
import { INLINE_ANNOTATIONS, syscallFunctionName, type Rewrite } from './kernelIdioms';
import type { SourceFile } from './sourceFile';

export interface VarDecl {
  name: string;
  /** The declared type as C text, annotations dropped, whitespace normalised: `const struct xfs_inode *`. */
  typeText: string;
  /** `struct xfs_inode *ip` → 'xfs_inode' (also unions and enums). */
  structTag?: string;
  /** `gfp_t gfp` → 'gfp_t'. */
  typedefName?: string;
  /** Number of `*` in the declarator (arrays do not count). */
  pointerDepth: number;
  /** The initialiser, when there is one. */
  initNode?: Node;
  /** The declaration or parameter_declaration node. */
  node: Node;
  /** The identifier being declared. */
  nameNode: Node;
}

export interface FunctionInfo {
  /** The function's name; `sys_<name>`/`compat_sys_<name>` for SYSCALL_DEFINEn()/COMPAT_SYSCALL_DEFINEn(). */
  name: string;
  /** The function_definition node. */
  node: Node;
  /** Its compound_statement body. */
  body: Node;
  /** The identifier naming the function (for SYSCALL_DEFINE0 one column left of the name as written). */
  nameNode?: Node;
  params: VarDecl[];
  isStatic: boolean;
  isInline: boolean;
  /** An ERROR or MISSING node somewhere inside the body. */
  hasError: boolean;
  /** The return type as C text, annotations dropped: `struct folio *`. */
  returnTypeText: string;
  /** Offsets of the whole definition. */
  start: number;
  end: number;
}

export interface TextRange {
  start: number;
  end: number;
}

/** Node types that cannot contain a function definition: not descended into by listFunctions. */
const NO_FUNCTIONS = new Set([
  'expression_statement', 'declaration', 'return_statement', 'preproc_def', 'preproc_function_def', 'preproc_call',
  'preproc_include', 'comment', 'string_literal', 'concatenated_string', 'char_literal', 'field_declaration_list',
  'enumerator_list', 'initializer_list', 'parameter_list', 'type_definition', 'goto_statement', 'break_statement',
  'continue_statement', 'number_literal', 'identifier', 'primitive_type', 'type_identifier',
]);

/**
 * Every function definition of the file, in source order, including those inside ERROR nodes and preprocessor
 * branches, and those that a brace imbalance nested inside another function's body (tree-sitter-c accepts a
 * function_definition as a block item; the kernel has no nested functions, so such a node is a real function
 * that the parser mis-nested).
 */
export function listFunctions(file: SourceFile): FunctionInfo[] {
  const out: FunctionInfo[] = [];
  forEach(file.tree.rootNode, (node) => {
    if (NO_FUNCTIONS.has(node.type)) return false;
    if (node.type === 'function_definition') {
      const info = functionInfo(file, node);
      if (info) out.push(info);
      // A mis-nested function can only hide in a body with a syntax error: clean bodies are not walked.
      return !info || info.hasError;
    }
    return true;
  });
  return out;
}

/** The FunctionInfo of one function_definition node, or undefined when it has no body. */
export function functionInfo(file: SourceFile, node: Node): FunctionInfo | undefined {
  const body = node.childForFieldName('body');
  if (!body) return undefined;
  const declarator = node.childForFieldName('declarator');
  const shape = declarator ? declaratorShape(declarator) : undefined;
  const nameNode = shape?.name;
  let name = nameNode?.text ?? (declarator ? normalise(declarator.text.replace(/\(.*$/s, '')) : '');
  if (nameNode) {
    const rw = rewriteAt(file.rewrites, nameNode.startIndex);
    const sys = rw ? syscallFunctionName(rw) : undefined;
    if (sys) name = sys;
  }
  // The head's text tells storage class and inline-ness without visiting its nodes.
  const head = file.text.slice(node.startIndex, nameNode?.startIndex ?? body.startIndex);
  const isStatic = /\bstatic\b/.test(head);
  let isInline = /\b(?:__)?inline(?:__)?\b|\b__forceinline\b/.test(head);
  if (!isInline) {
    for (const rw of rewritesIn(file.rewrites, node.startIndex, nameNode?.startIndex ?? body.startIndex)) {
      if (INLINE_ANNOTATIONS.has(rw.macro)) isInline = true;
    }
  }
  // Parameters and the return type are computed on first use: most functions never need them.
  let params: VarDecl[] | undefined;
  let returnTypeText: string | undefined;
  return {
    name,
    node,
    body,
    nameNode,
    get params() {
      if (!params) {
        params = [];
        const paramList = shape?.fn?.childForFieldName('parameters');
        if (paramList) {
          for (const p of paramList.namedChildren) {
            if (p && p.type === 'parameter_declaration') params.push(...declsOf(p));
          }
        }
      }
      return params;
    },
    isStatic,
    isInline,
    hasError: body.hasError,
    get returnTypeText() {
      if (returnTypeText === undefined) {
        const type = node.childForFieldName('type');
        const quals = node.children.filter((c): c is Node => !!c && c.type === 'type_qualifier' && c.startIndex < (type?.startIndex ?? 0));
        const base = normalise([...quals.map((q) => q.text), type?.text ?? ''].join(' '));
        const stars = shape?.returnPointers ?? 0;
        returnTypeText = stars > 0 ? `${base} ${'*'.repeat(stars)}` : base;
      }
      return returnTypeText;
    },
    start: node.startIndex,
    end: node.endIndex,
  };
}

interface DeclaratorShape {
  /** The identifier declared. */
  name?: Node;
  /** The innermost function_declarator (a function definition's own parameter list). */
  fn?: Node;
  /** `*` before the function declarator (the return type's pointers), or in total for variables. */
  returnPointers: number;
  /** Pointers inside the (first) function declarator: a function pointer when > 0. */
  pointersInsideFunction: number;
  /** Number of array declarators. */
  arrays: number;
}

function declaratorShape(decl: Node): DeclaratorShape {
  const shape: DeclaratorShape = { returnPointers: 0, pointersInsideFunction: 0, arrays: 0 };
  let n: Node | null = decl;
  let guard = 0;
  while (n && guard++ < 64) {
    switch (n.type) {
      case 'function_declarator':
        shape.fn = n;
        n = n.childForFieldName('declarator');
        break;
      case 'pointer_declarator':
      case 'abstract_pointer_declarator':
        if (shape.fn) shape.pointersInsideFunction++;
        else shape.returnPointers++;
        n = n.childForFieldName('declarator');
        break;
      case 'array_declarator':
        shape.arrays++;
        n = n.childForFieldName('declarator');
        break;
      case 'init_declarator':
        n = n.childForFieldName('declarator');
        break;
      case 'parenthesized_declarator':
      case 'attributed_declarator':
        n = n.namedChildren.find((c) => !!c && c.type !== 'attribute_specifier' && c.type !== 'ms_call_modifier') ?? null;
        break;
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
        shape.name = n;
        return shape;
      default:
        return shape;
    }
  }
  return shape;
}

/** Variables declared by one declaration or parameter_declaration (prototypes are not variables). */
export function declsOf(decl: Node): VarDecl[] {
  const type = decl.childForFieldName('type');
  if (!type) return [];
  const quals = decl.children.filter((c): c is Node => !!c && c.type === 'type_qualifier' && c.startIndex < type.startIndex);
  const base = normalise([...quals.map((q) => q.text), type.text].join(' '));
  let structTag: string | undefined;
  let typedefName: string | undefined;
  if (type.type === 'struct_specifier' || type.type === 'union_specifier' || type.type === 'enum_specifier') {
    structTag = type.childForFieldName('name')?.text;
  } else if (type.type === 'type_identifier') {
    typedefName = type.text;
  }
  const out: VarDecl[] = [];
  for (const d of decl.childrenForFieldName('declarator')) {
    if (!d) continue;
    const initNode = d.type === 'init_declarator' ? d.childForFieldName('value') ?? undefined : undefined;
    const shape = declaratorShape(d);
    if (!shape.name || shape.name.type !== 'identifier') continue;
    if (shape.fn && shape.pointersInsideFunction === 0) continue; // a function prototype
    const pointerDepth = shape.returnPointers + shape.pointersInsideFunction;
    let typeText = pointerDepth > 0 ? `${base} ${'*'.repeat(pointerDepth)}` : base;
    if (shape.arrays > 0) typeText += '[]'.repeat(shape.arrays);
    const v: VarDecl = { name: shape.name.text, typeText, pointerDepth, node: decl, nameNode: shape.name };
    if (structTag !== undefined) v.structTag = structTag;
    if (typedefName !== undefined) v.typedefName = typedefName;
    if (initNode) v.initNode = initNode;
    out.push(v);
  }
  return out;
}

/** Statements whose subtrees hold no block-scope declarations (statement expressions aside). */
const NO_DECLARATIONS = new Set([
  'expression_statement', 'return_statement', 'goto_statement', 'break_statement', 'continue_statement', 'comment',
  'preproc_call', 'preproc_def', 'preproc_function_def', 'gnu_asm_expression',
]);

/**
 * Variables declared in `node`: the parameters when it is a function_definition or a parameter_list, and every
 * local declaration below it (nested blocks, `for` init declarations, statement expressions), in source order.
 * Nested function definitions are not entered.
 */
export function collectDeclarations(node: Node): VarDecl[] {
  const out: VarDecl[] = [];
  let root = node;
  if (node.type === 'function_definition') {
    const decl = node.childForFieldName('declarator');
    const params = decl ? declaratorShape(decl).fn?.childForFieldName('parameters') : undefined;
    if (params) out.push(...collectDeclarations(params));
    const body = node.childForFieldName('body');
    if (!body) return out;
    root = body;
  }
  if (root.type === 'parameter_list') {
    for (const p of root.namedChildren) if (p && p.type === 'parameter_declaration') out.push(...declsOf(p));
    return out;
  }
  // A cursor walk that reads only type names and materialises a Node only at declarations (node objects are
  // costly to marshal out of WASM). Declarations inside statement expressions in initialisers are not collected.
  const cursor = root.walk();
  try {
    let descend = true;
    // Depth kept here: cursor.currentDepth counts the cursor's whole stack at every call, quadratic in the depth
    // of a tree (a chain `a+a+…` of 30,000 operands took seconds).
    let depth = 0;
    for (;;) {
      if (descend && cursor.gotoFirstChild()) {
        depth++;
        descend = visitDecl(cursor, out);
        continue;
      }
      for (;;) {
        if (depth === 0) return out;
        if (cursor.gotoNextSibling()) break;
        if (!cursor.gotoParent()) return out;
        depth--;
      }
      descend = visitDecl(cursor, out);
    }
  } finally {
    cursor.delete();
  }
}

/** One step of collectDeclarations' walk: records a declaration, says whether to descend. */
function visitDecl(cursor: TreeCursor, out: VarDecl[]): boolean {
  const type = cursor.nodeType;
  if (type === 'declaration') {
    out.push(...declsOf(cursor.currentNode));
    return false;
  }
  return type !== 'function_definition' && !NO_DECLARATIONS.has(type) && !LEAVES.has(type);
}

/** Node types with nothing below them worth a visit. */
const LEAVES = new Set(['identifier', 'number_literal', 'string_literal', 'field_identifier', 'type_identifier', 'primitive_type', 'comment']);

/**
 * Depth-first pre-order walk. `visit` returning `false` skips the node's children (the walk goes on with its
 * siblings); use findFirst() to stop the whole walk.
 */
export function forEach(node: Node, visit: (node: Node) => boolean | void): void {
  const cursor = node.walk();
  try {
    let descend = visit(cursor.currentNode) !== false;
    let depth = 0; // not cursor.currentDepth: see collectDeclarations
    for (;;) {
      if (descend && cursor.gotoFirstChild()) {
        depth++;
        descend = visit(cursor.currentNode) !== false;
        continue;
      }
      for (;;) {
        if (depth === 0) return;
        if (cursor.gotoNextSibling()) break;
        if (!cursor.gotoParent()) return;
        depth--;
      }
      descend = visit(cursor.currentNode) !== false;
    }
  } finally {
    cursor.delete();
  }
}

/** The first node in pre-order for which `pred` holds; the walk stops there. */
export function findFirst(node: Node, pred: (node: Node) => boolean): Node | undefined {
  const cursor = node.walk();
  try {
    let depth = 0; // not cursor.currentDepth: see collectDeclarations
    for (;;) {
      const n = cursor.currentNode;
      if (pred(n)) return n;
      if (cursor.gotoFirstChild()) {
        depth++;
        continue;
      }
      for (;;) {
        if (depth === 0) return undefined;
        if (cursor.gotoNextSibling()) break;
        if (!cursor.gotoParent()) return undefined;
        depth--;
      }
    }
  } finally {
    cursor.delete();
  }
}

/** The nearest ancestor (not the node itself) for which `pred` holds. */
export function findParent(node: Node, pred: (node: Node) => boolean): Node | undefined {
  for (let p = node.parent; p; p = p.parent) if (pred(p)) return p;
  return undefined;
}

/** The node's text as the user wrote it (tree-sitter's node.text is the rewritten text). */
export function textOf(file: SourceFile, node: Node | TextRange): string {
  const r = toRange(node);
  return file.text.slice(r.start, r.end);
}

export function toRange(node: Node | TextRange): TextRange {
  return 'startIndex' in node ? { start: node.startIndex, end: node.endIndex } : { start: node.start, end: node.end };
}

export function rangeContains(outer: TextRange, inner: TextRange | number): boolean {
  if (typeof inner === 'number') return outer.start <= inner && inner < outer.end;
  return outer.start <= inner.start && inner.end <= outer.end;
}

export function rangesOverlap(a: TextRange, b: TextRange): boolean {
  return a.start < b.end && b.start < a.end;
}

/** The smallest named node covering [start, end). */
export function nodeAt(file: SourceFile, start: number, end = start): Node | undefined {
  return file.tree.rootNode.namedDescendantForIndex(start, end) ?? undefined;
}

/** Is `offset` inside a `#define` (object-like or function-like)? Such text is not code. */
export function isInsideMacroDefinition(file: SourceFile | Node, offset: number): boolean {
  const root = 'tree' in file ? file.tree.rootNode : file;
  let n: Node | null = root.descendantForIndex(offset, offset);
  for (; n; n = n.parent) {
    if (n.type === 'preproc_def' || n.type === 'preproc_function_def') return n.startIndex <= offset && offset < n.endIndex;
  }
  return false;
}

/** The rewrite covering `offset` (rewrites sorted by start, as SourceFile keeps them). */
export function rewriteAt(rewrites: readonly Rewrite[], offset: number): Rewrite | undefined {
  let lo = 0;
  let hi = rewrites.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (rewrites[mid].start <= offset) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // Rewrites do not nest except annotations inside a syscall/define rewrite: look back a little.
  for (let i = best; i >= 0 && best - i < 16; i--) {
    const r = rewrites[i];
    if (r.start <= offset && offset < r.end) return r;
  }
  return undefined;
}

/** Rewrites starting inside [start, end). */
export function rewritesIn(rewrites: readonly Rewrite[], start: number, end: number): Rewrite[] {
  let lo = 0;
  let hi = rewrites.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rewrites[mid].start < start) lo = mid + 1;
    else hi = mid;
  }
  const out: Rewrite[] = [];
  for (let i = lo; i < rewrites.length && rewrites[i].start < end; i++) out.push(rewrites[i]);
  return out;
}

export interface SyntaxProblem extends TextRange {
  message: string;
}

/** ERROR (outermost only) and MISSING nodes under `node`, at most `limit`. */
export function syntaxErrors(node: Node, limit = 100): SyntaxProblem[] {
  const out: SyntaxProblem[] = [];
  if (!node.hasError) return out;
  forEach(node, (n) => {
    if (out.length >= limit) return false;
    if (!n.hasError) return false;
    if (n.isMissing) {
      out.push({ start: n.startIndex, end: n.endIndex, message: `syntax error: missing '${n.type}'` });
      return false;
    }
    if (n.isError) {
      const text = n.text.trim().replace(/\s+/g, ' ');
      out.push({ start: n.startIndex, end: n.endIndex, message: `syntax error: unexpected '${text.length > 40 ? text.slice(0, 40) + '…' : text}'` });
      return false;
    }
    return true;
  });
  return out;
}

const STATEMENT_PARENTS = new Set(['compound_statement', 'case_statement', 'labeled_statement', 'translation_unit']);
const BOUNDARY_TOKENS = new Set([';', '{', '}']);

/**
 * ERROR/MISSING nodes under `body` that break statement structure (so a CFG built from it is wrong):
 *   - an ERROR node that is a direct child of a compound_statement, case_statement or labeled_statement
 *     (it sits where statements go: the statements it swallowed are lost);
 *   - an ERROR node anywhere that contains a statement boundary: a `;`, `{` or `}` token, or a statement or
 *     declaration node (it swallowed a statement boundary);
 *   - a MISSING `;`, `}`, `{`, `)` or `(` (the parser closed or split a statement where the source did not).
 * ERROR nodes inside an expression that contain none of these (an unknown macro argument such as a type) do
 * not break the structure and are not reported.
 */
export function structuralErrors(body: Node): Node[] {
  const out: Node[] = [];
  if (!body.hasError) return out;
  forEach(body, (n) => {
    if (!n.hasError) return false;
    if (n.isMissing) {
      if (BOUNDARY_TOKENS.has(n.type) || n.type === ')' || n.type === '(') out.push(n);
      return false;
    }
    if (n.isError) {
      if ((n.parent && STATEMENT_PARENTS.has(n.parent.type)) || containsBoundary(n)) {
        out.push(n);
        return false;
      }
    }
    return true;
  });
  return out;
}

function containsBoundary(error: Node): boolean {
  return findFirst(error, (n) => n.id !== error.id && (
    (!n.isNamed && BOUNDARY_TOKENS.has(n.type)) ||
    n.type.endsWith('_statement') || n.type === 'declaration' || n.type === 'compound_statement'
  )) !== undefined;
}

function normalise(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** The name of a called function, `f(…)` or `(f)(…)`; undefined for calls through pointers and fields. */
export function calleeName(call: Node): string | undefined {
  const f = call.childForFieldName('function');
  if (!f) return undefined;
  if (f.type === 'identifier') return f.text;
  if (f.type === 'parenthesized_expression' && f.namedChild(0)?.type === 'identifier') return f.namedChild(0)!.text;
  return undefined;
}

/** The arguments of a call, comments left out. */
export function callArgs(call: Node): Node[] {
  const a = call.childForFieldName('arguments');
  if (!a) return [];
  const out: Node[] = [];
  for (let i = 0; i < a.namedChildCount; i++) {
    const c = a.namedChild(i);
    if (c && c.type !== 'comment') out.push(c);
  }
  return out;
}
