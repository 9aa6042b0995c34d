// Fix 1 (nofs-scope-candidate): use the scoped API for the critical section. Right after the statement that takes
// the lock (or opens the transaction) the fix opens `nofs_flags = memalloc_nofs_save();` under a one-line comment
// naming the lock, closes it with `memalloc_nofs_restore(nofs_flags);` before every statement that releases that
// lock (early returns and goto unwinds release it too, so they are covered), declares `unsigned int nofs_flags;`
// after the function's leading declarations (a name no identifier of the function uses), and turns every GFP_NOFS
// the lock covers on every path into GFP_KERNEL. The NOIO pair is used for a GFP_NOIO allocation.
// Not offered: a lock taken by a cleanup.h guard or in a caller, or never released in this function (the scope
// would have to end elsewhere: for a lock taken by a lock wrapper of the file, wrapperScope.ts offers the scope inside
// the wrappers). Verification checks the rest: balance on
// every path, and that exactly the allocations under the lock get the scope's narrowing.
import type { Node } from 'web-tree-sitter';
import { anchorOf, describeAnchor, restrictedLiteral, type Anchor } from '../../analysis/checks/nofsScopeCandidate';
import type { AllocSite, Finding } from '../../analysis/facts';
import { lineOf } from '../../analysis/lines';
import { callAt, freshName, lockClassesOfApiCall, refuse, rewriteOr, scopeApis, typeEnvOf } from './common';
import { insertAfterStatement, insertBeforeStatement, startsLine, indentAt, type TextEdit } from './edits';
import { callArgs, calleeName } from '../../syntax/ast';
import { callsIn, statementOf } from './flow';
import type { FixBuilder, FixInput, FixKind, Intent, Refusal } from './types';

export const scopeCandidate: FixBuilder = (input, finding) => {
  const m = input.analyser.kb.gfp;
  const site = input.run.sites.find((s) => s.gfpArg?.start === finding.span.start);
  const kind = site ? restrictedLiteral(site, m) : undefined;
  const anchor = site ? anchorOf(site) : undefined;
  if (!site || !kind || !anchor) return refuse(finding, 'no GFP_NOFS/GFP_NOIO allocation under one lock or transaction here', 'scope-candidate');
  // The weakest restriction written under the lock decides the scope: with a GFP_NOFS among the allocations the lock
  // covers, a NOFS scope (a GFP_NOIO there keeps its mask); with only GFP_NOIO ones, a NOIO scope.
  const covered = coveredBy(anchor);
  const noio = kind === 'noio' && !input.run.sites.some((s) => covered(s) && restrictedLiteral(s, m) === 'nofs');
  const reclaim = noio ? 'start I/O' : 'recurse into the filesystem';
  const plan = planScope(input, finding, {
    kind: 'scope-candidate', anchor, site, noio,
    comment: (held) => held ? `${held} is held: reclaim must not ${reclaim}` : `a ${txName(anchor)} transaction is open: reclaim must not ${reclaim}`,
  });
  if ('reason' in plan) return plan;
  return [{
    kind: 'scope-candidate', code: finding.code, target: finding,
    title: `Open a ${plan.save}() scope while ${plan.held ? `${plan.held} is held` : 'the transaction is open'} (${plan.turned} allocation${plan.turned === 1 ? '' : 's'} → GFP_KERNEL)`,
    edits: plan.edits, preferred: true, confidence: 'high', fixAll: true,
    note: describeAnchor(anchor, input.snap),
    intent: plan.intent,
  }];
};

const txName = (a: Anchor) => (a.kind === 'lock' ? '' : a.frame.family.slice('trans:'.length));

/** The allocations a scope opened at the anchor's acquisition covers on every path: those holding it from there. */
export function coveredBy(anchor: Anchor): (s: AllocSite) => boolean {
  const at = anchor.kind === 'lock' ? anchor.lock.site.start : anchor.frame.site.start;
  return (s) => s.paths.length > 0 && s.paths.every((p) => anchor.kind === 'lock'
    ? p.held.some((h) => h.cls === anchor.lock.cls && h.site.start === at)
    : p.scopes.some((f) => f.family === anchor.frame.family && f.site.start === at));
}

export interface ScopeRequest {
  kind: FixKind;
  /** the lock (or transaction) whose critical section the scope covers */
  anchor: Anchor;
  /** the allocation the fix is for: it must be inside the scope on every path */
  site: AllocSite;
  /** the NOIO pair instead of the NOFS one */
  noio: boolean;
  /** the one-line comment above the save, given the lock as written (undefined for a transaction) */
  comment: (held: string | undefined) => string;
}

export interface ScopePlan {
  edits: TextEdit[];
  intent: Intent;
  /** explicit GFP_NOFS/GFP_NOIO turned into GFP_KERNEL */
  turned: number;
  save: string;
  /** the lock as written (`&fi->i_lock`, or its class and API) */
  held?: string;
}

/**
 * The scope conversion shared by fix 1 (nofs-scope-candidate) and the scope fix of a reclaim deadlock: the save right
 * after the statement that takes the anchor (after its error check), a restore before every statement that releases
 * it, the cookie declared with the locals, and every GFP_NOFS (and, in a NOIO scope, GFP_NOIO) the scope covers on
 * every path turned into GFP_KERNEL. Verification checks balance and masks.
 */
export function planScope(input: FixInput, finding: Finding, req: ScopeRequest): ScopePlan | Refusal {
  const { anchor, site, noio, kind } = req;
  const kb = input.analyser.kb;
  const text = input.snap.text;
  if (anchor.kind === 'lock' && anchor.lock.guard) return refuse(finding, `${anchor.lock.cls} is taken by a cleanup.h guard, which releases it at the end of its block: write the scope by hand`, kind);
  const body = input.info.body;
  const types = typeEnvOf(input.info);
  const acqSpan = anchor.kind === 'lock' ? anchor.lock.site : anchor.frame.site;
  const acqCall = callAt(body, acqSpan.start, acqSpan.end);
  if (!acqCall || acqCall.startIndex !== acqSpan.start) return refuse(finding, `${anchor.kind === 'lock' ? anchor.lock.cls : 'the transaction'} is not taken by a call in ${input.fn.name}() (a caller or an annotation holds it): the scope belongs where it is taken`, kind);
  let acqStmt = statementOf(acqCall);
  if (!acqStmt) return refuse(finding, 'the lock is taken inside an expression the fix cannot put a statement after', kind);
  acqStmt = skipErrorCheck(acqStmt, acqCall) ?? acqStmt;

  // Every statement that releases the lock (or closes the transaction).
  const isRelease = (call: Node): boolean => {
    if (anchor.kind === 'lock') {
      const c = lockClassesOfApiCall(call, kb, types);
      return !!c && c.op === 'release' && c.classes.includes(anchor.lock.cls);
    }
    const name = calleeName(call);
    const tx = name ? kb.transaction(name) : undefined;
    return !!tx && tx.op === 'close' && `trans:${tx.subsystem}` === anchor.frame.family;
  };
  const releases = callsIn(body).filter(isRelease);
  const covered = coveredBy(anchor);
  const what = anchor.kind === 'lock' ? anchor.lock.cls : `the ${txName(anchor)} transaction`;
  if (!releases.length && anchor.kind === 'lock' && !kb.lock(anchor.lock.api) && input.file.callees.has(anchor.lock.api)) {
    return refuse(finding, `${what} is taken by ${anchor.lock.api}(), a lock wrapper of this file, and not released by a lock call in ${input.fn.name}(): a scope here is not offered (the wrapper variant puts it inside the wrappers)`, kind);
  }
  if (!releases.length) return refuse(finding, `${what} is not released in ${input.fn.name}(): the scope would have to end in a caller`, kind);

  const apis = scopeApis(noio, kb, input.analyser.kernelVersion);
  if ('error' in apis) return refuse(finding, apis.error, kind);
  const { save, restore, flags } = apis;
  const fnText = text.slice(input.info.node.startIndex, input.info.node.endIndex);
  const name = freshName(apis.cookieNames, fnText, text, types.names);
  // The lock as written (`&fi->i_lock`), or its class when the API names it (`inode_lock(inode)`: &inode->i_rwsem).
  const api = kb.lock(calleeName(acqCall) ?? '');
  const held = anchor.kind !== 'lock' ? undefined
    : api?.classTemplate ? `${anchor.lock.cls} (${anchor.lock.api}())` : callArgs(acqCall)[api?.lockArg ?? 0]?.text.replace(/\s+/g, ' ') ?? anchor.lock.cls;

  const edits: TextEdit[] = [];
  const decl = declarationEdit(text, body, `unsigned int ${name};`);
  if (!decl) return refuse(finding, 'cannot find where the function declares its locals', kind);
  edits.push(decl);
  const open = insertAfterStatement(text, acqStmt, [`/* ${req.comment(held)} */`, `${name} = ${save}();`]);
  if (!open) return refuse(finding, 'cannot insert a statement after the lock is taken', kind);
  edits.push(...open);
  const seen = new Set<number>();
  for (const r of releases) {
    const st = statementOf(r);
    if (!st) return refuse(finding, `the release at line ${lineOf(input.snap, r.startIndex)} is inside an expression`, kind);
    if (st.id === acqStmt.id) return refuse(finding, 'the lock is taken and released in one statement', kind);
    if (seen.has(st.id)) continue;
    seen.add(st.id);
    const e = insertBeforeStatement(text, st, `${restore}(${name});`);
    if (!e) return refuse(finding, 'cannot insert the restore before a release', kind);
    edits.push(...e);
  }

  const intent: Intent = { literals: new Map(), scope: { flags: [...flags] } };
  let turned = 0;
  for (const s of input.run.sites) {
    if (!covered(s) || !s.gfpNode || s.callee.start < acqCall.endIndex) continue;
    const r = rewriteOr(s.gfpNode, text, kb, (n) => (n === 'GFP_NOFS' || (noio && n === 'GFP_NOIO') ? 'GFP_KERNEL' : undefined));
    if (!r || !r.edits.length) continue;
    edits.push(...r.edits);
    intent.literals.set(s.callee.start, { removed: r.before & ~r.after, added: r.after & ~r.before });
    turned++;
  }
  if (!covered(site) || site.callee.start < acqCall.endIndex) return refuse(finding, 'this allocation would not be inside the scope on every path', kind);
  return { edits, intent, turned, save, held };
}

/**
 * `h = start_transaction(); if (IS_ERR(h)) return PTR_ERR(h);`: the scope opens after the error check, whose branch
 * leaves without the resource. Also `if (!h) goto out;`.
 */
function skipErrorCheck(stmt: Node, call: Node): Node | undefined {
  const assign = call.parent;
  let handle: string | undefined;
  if (assign?.type === 'assignment_expression') handle = assign.childForFieldName('left')?.text;
  else if (assign?.type === 'init_declarator') handle = assign.childForFieldName('declarator')?.text;
  if (!handle || !/^[A-Za-z_]\w*$/.test(handle)) return undefined;
  const next = stmt.nextNamedSibling;
  if (!next || next.type !== 'if_statement' || next.childForFieldName('alternative')) return undefined;
  const cond = next.childForFieldName('condition')?.text.replace(/\s+/g, '') ?? '';
  if (!new RegExp(`^\\((?:!${handle}|(?:unlikely\\()?IS_ERR(?:_OR_NULL)?\\(${handle}\\)\\)?|${handle}==NULL)\\)$`).test(cond)) return undefined;
  const cons = next.childForFieldName('consequence');
  const last = cons?.type === 'compound_statement' ? [...cons.namedChildren].reverse().find((c) => c && c.type !== 'comment') : cons;
  if (!last || (last.type !== 'return_statement' && last.type !== 'goto_statement')) return undefined;
  return next;
}

/** `unsigned int x;` after the leading declarations of the body (or first in it, followed by a blank line). */
function declarationEdit(text: string, body: Node, decl: string): TextEdit | undefined {
  const items = body.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment');
  let last: Node | undefined;
  for (const c of items) {
    if (c.type !== 'declaration') break;
    last = c;
  }
  if (last) {
    const e = insertAfterStatement(text, last, [decl]);
    return e?.[0];
  }
  const first = items[0];
  const indent = first && startsLine(text, first.startIndex) ? indentAt(text, first.startIndex) || '\t' : '\t';
  if (text[body.startIndex] !== '{') return undefined;
  return { start: body.startIndex + 1, end: body.startIndex + 1, newText: `\n${indent}${decl}\n` };
}
