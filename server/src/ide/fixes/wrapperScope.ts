// Fix 1, the wrapper variant (nofs-scope-candidate): where the lock of the critical section is taken by a lock wrapper
// of this file (`static void foo_lock(struct foo *f) { mutex_lock(&f->m); }`, which the analysis derives as one:
// functionAnalysis.ts deriveCalleeEffects), the scope goes inside the wrappers, as jbd2 handles
// (`handle->saved_alloc_context`) and XFS transactions (`tp->t_pflags`) do: the lock wrapper saves the scope right
// after taking the lock, into a new field of the object that holds the lock, and the unlock wrapper restores it right
// before releasing it. Every critical section of that lock in the file (every caller) is then NOFS, and every GFP_NOFS
// made in one of them on every path becomes GFP_KERNEL. An additional code action, never preferred, never applied by
// fix-all (it edits other functions and a struct: a choice for the developer).
// Refused, with the reason, when it would not be sound:
//   - the struct holding the lock is not defined in this file (the cookie needs a field in it), or the lock is not a
//     field of a struct;
//   - a shared (read) or counting lock: several tasks hold it at once and would overwrite each other's cookie;
//   - the lock is taken in this file other than through the wrapper (a direct mutex_lock(), a trylock, a guard): that
//     section would get no scope, and the unlock wrapper would restore a cookie nobody saved;
//   - it is released by a function that also takes it, or nowhere in this file;
//   - the wrapper is called with the lock already held (nesting): the second save would overwrite the cookie.
// Verification (verify.ts with wrapperCheck.ts) re-analyses the edited file and checks the rest: the wrappers keep the
// scope open (closed) on every path, every path that holds the lock has the scope and no other does, no allocation
// gains __GFP_FS under the lock, and the usual invariants (no new finding, masks exactly as intended).
import type { Node } from 'web-tree-sitter';
import { restrictedLiteral, anchorOf, covers } from '../../analysis/checks/nofsScopeCandidate';
import { declaredHeld } from '../../analysis/functionAnalysis';
import type { FunctionFacts, HeldLock, Span } from '../../analysis/facts';
import type { KbView } from '../../analysis/kbView';
import { lineOf } from '../../analysis/lines';
import type { LockKind } from '../../model/kb/types';
import { callArgs, calleeName, type FunctionInfo } from '../../syntax/ast';
import { freshName, lockClassesOfApiCall, refuse, rewriteOr, scopeApis, typeEnvOf } from './common';
import { insertAfterStatement, insertBeforeStatement, startsLine, type TextEdit } from './edits';
import { callsIn, statementOf } from './flow';
import type { FixBuilder, Intent } from './types';

const KIND = 'wrapper-scope' as const;

/** Lock kinds one task holds at a time when taken for writing: a cookie kept in the object is that task's. */
const EXCLUSIVE: ReadonlySet<LockKind> = new Set(['mutex', 'rwsem', 'percpu_rwsem', 'bitlock']);

/** A lock the function holds because a call of it took it (not one it declares its caller holds). */
export function heldByCall(h: HeldLock, kb: KbView): boolean {
  return !declaredHeld(h, kb);
}

/** The lock-API calls of the file that take or release `cls`, per function (a syntax scan, as the analysis classes them). */
export function lockCallsOf(infos: readonly FunctionInfo[], kb: KbView, cls: string): { fn: FunctionInfo; call: Node; op: string }[] {
  const out: { fn: FunctionInfo; call: Node; op: string }[] = [];
  for (const fn of infos) {
    let types: ReturnType<typeof typeEnvOf> | undefined;
    for (const call of callsIn(fn.body)) {
      const name = calleeName(call);
      const api = name ? kb.lock(name) : undefined;
      if (!api || (api.op !== 'acquire' && api.op !== 'release' && api.op !== 'trylock')) continue;
      const c = lockClassesOfApiCall(call, kb, (types ??= typeEnvOf(fn)));
      if (c?.classes.includes(cls)) out.push({ fn, call, op: c.op });
    }
  }
  return out;
}

/** The calls of functions whose callers see them take `cls` (lock wrappers, and wrappers of them). */
function lockersOf(callees: FixInputFile['callees'], cls: string): Set<string> {
  const out = new Set<string>();
  for (const [name, e] of callees) if (e.effects.some((x) => x.op === 'acquire' && 'held' in x && x.held.cls === cls)) out.add(name);
  return out;
}
type FixInputFile = Parameters<FixBuilder>[0]['file'];

/**
 * `&f->m` (or `&f->a.m`) taking the class `&foo->m`: the object holding the lock (`f`) and how its fields are reached;
 * for an API whose class comes from a template (`foo_lock_obj(f)` → `&foo->lock`) the argument is the object.
 */
function objectOf(call: Node, kb: KbView, clsPath: string): { obj: string; sep: string; text: string } | undefined {
  const api = kb.lock(calleeName(call) ?? '');
  const arg = callArgs(call)[api?.lockArg ?? 0];
  if (!arg) return undefined;
  const text = arg.text.replace(/\s+/g, '');
  const simple = /^[A-Za-z_][\w]*(?:(?:->|\.)[A-Za-z_]\w*)*$/;
  if (api?.classTemplate) return simple.test(text) ? { obj: text, sep: '->', text: arg.text.replace(/\s+/g, ' ') } : undefined;
  for (const sep of ['->', '.']) {
    const tail = `${sep}${clsPath}`;
    if (!text.startsWith('&') || !text.endsWith(tail)) continue;
    const obj = text.slice(1, text.length - tail.length);
    if (simple.test(obj)) return { obj, sep, text: arg.text.replace(/\s+/g, ' ') };
  }
  return undefined;
}

/** The struct definitions (with a body) named `tag` in the file. */
function structsNamed(root: Node, tag: string): Node[] {
  return root.descendantsOfType('struct_specifier').filter((s): s is Node => !!s && s.childForFieldName('name')?.text === tag && !!s.childForFieldName('body'));
}

/** The field declaration of a struct body that declares `name`. */
function fieldDecl(body: Node, name: string): Node | undefined {
  for (const d of body.namedChildren) {
    if (!d || d.type !== 'field_declaration') continue;
    if (d.descendantsOfType('field_identifier').some((x) => x?.text === name && x.parent?.type !== 'field_expression')) return d;
  }
  return undefined;
}

const list = (names: readonly string[]) => names.map((n) => `${n}()`).join('/');

export const wrapperScope: FixBuilder = (input, finding) => {
  const kb = input.analyser.kb;
  const m = kb.gfp;
  const text = input.snap.text;
  const facts = input.snap.facts;
  const { infos, callees } = input.file;
  const site = input.run.sites.find((s) => s.gfpArg?.start === finding.span.start);
  const anchor = site ? anchorOf(site) : undefined;
  // Not the wrapper situation (a lock taken by a lock API or a caller, a transaction): nothing to offer, nothing to say.
  if (!site || !anchor || anchor.kind !== 'lock') return [];
  const lock = anchor.lock;
  const cls = lock.cls;
  const lockers = lockersOf(callees, cls);
  if (kb.lock(lock.api) || !lockers.has(lock.api) || !facts.functions.some((f) => f.name === lock.api)) return [];
  const W = lock.api;
  const no = (reason: string) => refuse(finding, `the scope inside ${W}(): ${reason}`, KIND);

  // Exclusive: one task at a time holds it, so a cookie kept in the object is that task's.
  if (lock.read) return no(`${cls} is taken shared (for reading): several tasks hold it at once and would overwrite each other's cookie`);
  if (!EXCLUSIVE.has(lock.kind)) return no(`${cls} is a ${lock.kind} lock, not one a single task holds at a time: a cookie kept in the object could be another task's`);

  // The object that holds the lock: the cookie needs a field in its struct, defined in this file.
  const cm = /^&([A-Za-z_]\w*)->(.+)$/.exec(cls);
  if (!cm) return no(`${cls} is not a field of a struct: the cookie needs a field of the object that holds the lock (as XFS's tp->t_pflags, jbd2's handle->saved_alloc_context)`);
  const [, tag, clsPath] = cm;
  const structs = structsNamed(input.snap.file.tree.rootNode, tag);
  if (!structs.length) return no(`the cookie needs a field in struct ${tag}, which is defined in another file`);
  if (structs.length > 1) return no(`struct ${tag} is defined ${structs.length} times in this file (#if branches?): write the field by hand`);
  const struct = structs[0];

  // Every acquisition of the lock in the file is in one function, the base wrapper, by a lock-API call.
  const calls = lockCallsOf(infos, kb, cls);
  const acquiring = new Map<string, FunctionFacts>();
  for (const fn of facts.functions) {
    const a = fn.acquires.find((x) => x.cls === cls && !x.declared);
    if (a) acquiring.set(fn.name, fn);
  }
  if (acquiring.size !== 1) {
    const names = [...acquiring.keys()];
    const other = facts.functions.find((f) => names.includes(f.name) && f.name !== W && !lockers.has(f.name)) ?? facts.functions.find((f) => names.includes(f.name) && f.name !== W);
    const a = other?.acquires.find((x) => x.cls === cls && !x.declared);
    return no(`${cls} is also taken directly in ${other?.name ?? names[1]}() (${a?.api ?? 'a lock call'}() at line ${a ? lineOf(input.snap, a.span.start) : '?'}), not through a wrapper: that critical section would get no scope, and the unlock wrapper would restore a cookie nobody saved there`);
  }
  const base = [...acquiring.values()][0];
  if (!lockers.has(base.name)) return no(`${base.name}() takes ${cls} but does not return holding it on every path: it is not a lock wrapper`);
  const baseAcq = base.acquires.filter((x) => x.cls === cls && !x.declared);
  const byGuard = baseAcq.find((a) => !calls.some((c) => c.op !== 'release' && c.call.startIndex === a.span.start));
  if (byGuard) return no(`${base.name}() takes ${cls} with ${byGuard.api}() at line ${lineOf(input.snap, byGuard.span.start)}, not by a lock call the save can follow`);
  const bad = baseAcq.find((x) => x.trylock || x.read || x.heldBefore.includes(cls));
  if (bad) return no(bad.trylock ? `${base.name}() takes ${cls} with ${bad.api}(), which may fail` : bad.read ? `${base.name}() takes ${cls} shared (for reading)` : `${base.name}() takes ${cls} again while holding it`);
  // Nesting: no lock wrapper is called with the lock already held (the second save would overwrite the cookie).
  for (const fn of facts.functions) {
    for (const c of fn.callSites) {
      if (!lockers.has(c.callee)) continue;
      if (c.paths.some((p) => p.held.some((h) => h.cls === cls))) {
        return no(`${c.callee}() is called with ${cls} already held in ${fn.name}() (line ${lineOf(input.snap, c.span.start)}): a second save would overwrite the cookie of the first`);
      }
    }
  }
  // Every release is in an unlock wrapper: a function that releases its caller's lock and takes none of its own.
  const releases = calls.filter((c) => c.op === 'release');
  const unlockFns = [...new Set(releases.map((r) => r.fn.name))];
  if (!unlockFns.length) return no(`no function of this file releases ${cls}: the scope would have no place to close`);
  for (const u of unlockFns) {
    if (u === base.name) return no(`${u}() releases ${cls} as well as taking it: the scope cannot close in it without leaving the lock wrapper unbalanced`);
    const eff = callees.get(u)?.effects ?? [];
    if (!eff.some((e) => e.op === 'release' && 'cls' in e && e.cls === cls)) return no(`${u}() releases ${cls} but its callers do not see it as an unlock wrapper`);
  }

  // The scope: NOFS unless every restricted allocation under the lock is GFP_NOIO.
  const underLock = (fn: FunctionFacts) => fn.sites.filter((s) => s.paths.length > 0 && s.paths.every((p) => !p.atomic && p.held.some((h) => h.cls === cls && heldByCall(h, kb))));
  const restricted = facts.functions.flatMap((fn) => underLock(fn).map((s) => ({ fn, s, k: restrictedLiteral(s, m) }))).filter((x) => x.k);
  const noio = restricted.length > 0 && restricted.every((x) => x.k === 'noio');
  const apis = scopeApis(noio, kb, input.analyser.kernelVersion);
  if ('error' in apis) return no(apis.error);
  const { save, restore, flags } = apis;

  // The cookie's field: a name the file does not use anywhere.
  const code = codeOf(text);
  const field = freshName(apis.cookieNames, code, code, new Set());
  const edits: TextEdit[] = [];
  const body = struct.childForFieldName('body')!;
  const anchorField = fieldDecl(body, clsPath.split(/\.|->/)[0].replace(/\[.*$/, ''));
  const unlockNames = list(unlockFns);
  if (anchorField && startsLine(text, anchorField.startIndex)) {
    edits.push(...insertAfterStatement(text, anchorField, [`unsigned int ${field};\t/* ${save}() cookie, from ${base.name}() to ${unlockNames} */`])!);
  } else if (anchorField) {
    edits.push({ start: anchorField.endIndex, end: anchorField.endIndex, newText: ` unsigned int ${field};` });
  } else {
    return no(`cannot find the field ${clsPath} in struct ${tag}`);
  }

  // The save after each acquisition in the base wrapper, the restore before each release in the unlock wrappers.
  const reclaim = noio ? 'start I/O' : 'recurse into the filesystem';
  const seen = new Set<number>();
  for (const c of calls) {
    const st = statementOf(c.call);
    const where = `${c.fn.name}() (line ${lineOf(input.snap, c.call.startIndex)})`;
    if (!st) return no(`the lock call in ${where} is inside an expression the fix cannot put a statement next to`);
    if (seen.has(st.id)) return no(`${where} takes or releases ${cls} twice in one statement`);
    seen.add(st.id);
    const o = objectOf(c.call, kb, clsPath);
    if (!o) return no(`cannot tell which object holds ${cls} in ${where}: the cookie's field must be reached from it`);
    const cookie = `${o.obj}${o.sep}${field}`;
    const e = c.op === 'release'
      ? insertBeforeStatement(text, st, `${restore}(${cookie});`)
      : insertAfterStatement(text, st, [`/* ${o.text} is held until ${unlockNames}: reclaim must not ${reclaim} */`, `${cookie} = ${save}();`]);
    if (!e) return no(`cannot insert a statement next to the lock call in ${where}`);
    edits.push(...e);
  }

  // Every GFP_NOFS (GFP_NOIO in a NOIO scope) of every critical section of the lock in the file → GFP_KERNEL.
  const intent: Intent = {
    literals: new Map(), scope: { flags, cookieField: field },
    wrapper: { cls, field, lockFns: [base.name], unlockFns, family: apis.family },
  };
  const root = input.snap.file.tree.rootNode;
  const fns = new Set<string>();
  let turned = 0;
  for (const { fn, s } of restricted) {
    if (s.paths.some((p) => p.scopes.some((f) => covers(f, noio ? 'noio' : 'nofs')))) continue;
    const node = nodeAt(root, s.gfpArg);
    if (!node) continue;
    const r = rewriteOr(node, text, kb, (n) => (n === 'GFP_NOFS' || (noio && n === 'GFP_NOIO') ? 'GFP_KERNEL' : undefined));
    if (!r || !r.edits.length) continue;
    edits.push(...r.edits);
    intent.literals.set(s.callee.start, { removed: r.before & ~r.after, added: r.after & ~r.before });
    fns.add(fn.name);
    turned++;
  }
  if (!restricted.some((x) => x.s.callee.start === site.callee.start)) return no(`this allocation is not under ${cls} on every path`);

  const callers = facts.functions.filter((f) => f.callSites.some((c) => lockers.has(c.callee)) && !lockers.has(f.name)).length;
  const notStatic = [base.name, ...unlockFns].filter((n) => !facts.functions.find((f) => f.name === n)?.isStatic);
  const via = W === base.name ? "" : `, also through ${W}()`;
  return [{
    kind: KIND, code: finding.code, target: finding,
    title: `Open the ${save}() scope inside ${base.name}()/${unlockNames} for all ${callers} caller${callers === 1 ? '' : 's'}${via} (${turned} allocation${turned === 1 ? '' : 's'} in ${fns.size} function${fns.size === 1 ? '' : 's'} → GFP_KERNEL; cookie in struct ${tag}.${field})`,
    edits, preferred: false, confidence: 'high', fixAll: false,
    note: `as jbd2 handles and XFS transactions do: every critical section of ${cls} in this file becomes ${noio ? 'NOIO' : 'NOFS'}, not only this one; the cookie lives in struct ${tag}, which only one task at a time reaches with the lock held`
      + (notStatic.length ? `; ${list(notStatic)} ${notStatic.length === 1 ? 'is' : 'are'} not static: callers in other files get the scope too` : ''),
    intent,
  }];
};

/** The text with its comments and string literals blanked (same length): the names the code uses. */
function codeOf(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\\n]|\\.)*"/g, (x) => x.replace(/[^\n]/g, ' '));
}

/** The node spanning exactly `span` (the gfp argument). */
function nodeAt(root: Node, span: Span | undefined): Node | undefined {
  if (!span) return undefined;
  let n: Node | null = root.descendantForIndex(span.start, Math.max(span.start, span.end - 1));
  while (n && !(n.startIndex === span.start && n.endIndex === span.end)) {
    if (n.startIndex < span.start || n.endIndex > span.end) return undefined;
    n = n.parent;
  }
  return n ?? undefined;
}
