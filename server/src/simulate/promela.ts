// Promela export of a compiled model, for checking with SPIN (Debian package `spin`):
//   spin -a model.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan
// SPIN's invalid-end-state check then finds exactly our deadlocks: every proctype ends at its closing brace
// (its only valid end state; no `end` labels anywhere else), so a state where no process can move and some
// process has not finished is reported as "invalid end state".
//
// Encoding (mirrors explore.ts step for step):
// - one `active proctype` per thread; reclaim callbacks and fault handlers are expanded inline where an
//   alloc / reclaim / fault step may enter them, as options of a nondeterministic `if` whose first option is
//   `skip` (no reclaim / no fault) and whose other options start with a guard on local scope state only;
// - mutex / spinlock: a global byte, taken with `atomic { m == 0 -> m = 1 }`; each proctype keeps a local
//   `h` flag so unlock only releases what it holds;
// - rwsem: writer flag, reader count and queued-writer count; a writer that finds the lock busy queues first
//   (readers then block), exactly as the explorer's two-phase write lock;
// - completion: a bit; transaction / frozen queue: share count + closer id, commit and freeze are two-phase;
// - trylock: `if :: atomic { free -> take } <rest of block> :: atomic { !free -> release what the block
//   holds } fi`, i.e. a failed trylock bails out of its block;
// - a step that may sleep is guarded by `spins == 0` (spinlocks held by this proctype): sleeping under a
//   spinlock blocks forever, which the explorer also treats as a stuck (deadlocked) thread.
import { __GFP_DIRECT_RECLAIM, __GFP_FS, __GFP_IO } from './gfp';
import type { Block, Instr, Program } from './program';

function ident(s: string): string {
  const id = s.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_').replace(/^_|_$/g, '');
  return id.length > 0 ? id.slice(0, 40) : 'x';
}

function comment(s: string): string {
  return s.replace(/\*\//g, '* /').replace(/[\r\n]+/g, ' ');
}

interface Ctx {
  t: number;
  me: number;
  kswapd: boolean;
  inReclaim: boolean;
  hasSpins: boolean;
}

class Writer {
  lines: string[] = [];
  depth = 0;
  line(s: string): void {
    this.lines.push('  '.repeat(this.depth) + s);
  }
}

export function toPromela(p: Program): string {
  const w = new Writer();
  w.line(`/* Promela export of the reclaim-lens model "${comment(p.model.name ?? 'unnamed')}". */`);
  w.line('/* Check: spin -a model.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan   (errors: 0 = no deadlock) */');
  w.line('');
  p.resources.forEach((r, i) => {
    const c = `/* ${r.decl.flavor} ${comment(r.decl.name)} */`;
    switch (r.decl.kind) {
      case 'mutex': case 'spinlock':
        w.line(`byte m${i} = 0; ${c}`);
        break;
      case 'rwsem':
        w.line(`byte rw${i}_w = 0; byte rw${i}_r = 0; byte rw${i}_q = 0; ${c}`);
        break;
      case 'completion':
        w.line(`bit c${i} = 0; ${c}`);
        break;
      default:
        w.line(`byte b${i}_n = 0; byte b${i}_c = 0; ${c}`);
        break;
    }
  });
  for (const [t, th] of p.threads.entries()) {
    const body = p.blocks[th.block];
    const future = body.future[0];
    const used = p.resources.map((_, i) => (future & (1n << BigInt(i))) !== 0n);
    const hasSpins = p.resources.some((r, i) => used[i] && r.decl.kind === 'spinlock');
    w.line('');
    w.line(`/* thread ${comment(th.name)} (role ${th.role}) */`);
    w.line(`active proctype T${t}_${ident(th.name)}() {`);
    w.depth++;
    p.resources.forEach((r, i) => {
      if (!used[i]) return;
      if (r.decl.kind === 'mutex' || r.decl.kind === 'spinlock') w.line(`bit h${i} = 0;`);
      else if (r.decl.kind === 'rwsem') w.line(`bit h${i}_w = 0; byte h${i}_r = 0;`);
      else if (r.decl.kind === 'transaction' || r.decl.kind === 'queue') w.line(`byte h${i}_n = 0;`);
    });
    if (hasSpins) w.line('byte spins = 0;');
    w.line('byte nofs = 0; byte noio = 0; byte noreclaim = 0;');
    const ctx: Ctx = { t, me: t + 1, kswapd: th.role === 'kswapd', inReclaim: false, hasSpins };
    block(w, p, body, 0, ctx);
    w.line('skip');
    w.depth--;
    w.line('}');
  }
  return w.lines.join('\n') + '\n';
}

/** Emit instrs[from..] of a block; a trylock nests the rest of the block in its success branch. */
function block(w: Writer, p: Program, b: Block, from: number, ctx: Ctx): void {
  for (let i = from; i < b.instrs.length; i++) {
    const ins = b.instrs[i];
    if ((ins.op === 'trylock' || ins.op === 'tryrlock') && ins.res >= 0) {
      const { avail, take } = tryParts(p, ins, ctx);
      w.line(`/* ${describe(p, ins)} */`);
      w.line('if');
      w.line(`:: atomic { ${avail} -> ${take} }`);
      w.depth++;
      block(w, p, b, i + 1, ctx);
      w.line('skip');
      w.depth--;
      w.line(`:: atomic { !(${avail}) -> ${bailCode(p, ins, ctx)} }`);
      w.line('fi;');
      return;
    }
    step(w, p, ins, ctx);
  }
}

function describe(p: Program, ins: Instr): string {
  const loc = ins.step.location ? ` @${ins.step.location.file}:${ins.step.location.line}` : '';
  const operand = ins.step.resource ?? ins.step.mask?.text ?? ins.step.handler ?? '';
  return comment(`${ins.op} ${operand}${loc}`.replace(/\s+/g, ' ').trim());
}

function tryParts(p: Program, ins: Instr, ctx: Ctx): { avail: string; take: string } {
  const i = ins.res;
  const kind = p.resources[i].decl.kind;
  if (kind !== 'rwsem') return { avail: `m${i} == 0`, take: `m${i} = 1; h${i} = 1${kind === 'spinlock' && ctx.hasSpins ? '; spins++' : ''}` };
  if (ins.op === 'trylock') return { avail: `rw${i}_w == 0 && rw${i}_r == 0 && rw${i}_q == 0`, take: `rw${i}_w = 1; h${i}_w = 1` };
  return { avail: `rw${i}_w == 0 && rw${i}_q == 0`, take: `rw${i}_r++; h${i}_r++` };
}

function bailCode(p: Program, ins: Instr, ctx: Ctx): string {
  const parts: string[] = [];
  for (const r of ins.bail) {
    const i = r.res;
    const kind = p.resources[i].decl.kind;
    if (r.mode === 'w' && kind !== 'rwsem') parts.push(`if :: h${i} == 1 -> h${i} = 0; m${i} = 0${kind === 'spinlock' && ctx.hasSpins ? '; spins--' : ''} :: else -> skip fi`);
    else if (r.mode === 'w') parts.push(`if :: h${i}_w == 1 -> h${i}_w = 0; rw${i}_w = 0 :: else -> skip fi`);
    else if (r.mode === 'r') parts.push(`if :: h${i}_r > 0 -> h${i}_r--; rw${i}_r-- :: else -> skip fi`);
    else if (r.mode === 'n') parts.push(`if :: h${i}_n > 0 -> h${i}_n--; b${i}_n-- :: else -> skip fi`);
    else parts.push(`if :: b${i}_c == ${ctx.me} -> b${i}_c = 0 :: else -> skip fi`);
  }
  for (const k of ['nofs', 'noio', 'noreclaim'] as const) {
    const c = ins.bailScopes[k];
    if (c > 0) parts.push(`if :: ${k} >= ${c} -> ${k} = ${k} - ${c} :: else -> ${k} = 0 fi`);
  }
  return parts.length ? parts.join('; ') : 'skip';
}

function sleepGuard(ins: Instr, ctx: Ctx): string {
  return ins.sleeps && ctx.hasSpins ? 'spins == 0 && ' : '';
}

/** Guard under which an alloc / reclaim step may enter a callback, or null when it never can. */
function callbackGuard(p: Program, ins: Instr, id: number, ctx: Ctx): string | null {
  const cb = p.blocks[id].reclaim!;
  const explicit = ins.op === 'reclaim';
  const kswapd = explicit && ctx.kswapd;
  if (kswapd ? cb.from === 'direct' : cb.from === 'kswapd') return null;
  if (!explicit && (ins.mask & __GFP_DIRECT_RECLAIM) === 0) return null;
  const gate = cb.gate ? cb.gate.value : 0;
  if ((ins.mask & gate) !== gate) return null;
  const conds: string[] = [];
  if (!kswapd) conds.push('noreclaim == 0');
  if (gate & __GFP_FS) conds.push('nofs == 0 && noio == 0');
  else if (gate & __GFP_IO) conds.push('noio == 0');
  return conds.length ? conds.join(' && ') : 'true';
}

function step(w: Writer, p: Program, ins: Instr, ctx: Ctx): void {
  const i = ins.res;
  const r = i >= 0 ? p.resources[i] : undefined;
  const g = sleepGuard(ins, ctx);
  w.line(`/* ${describe(p, ins)} */`);
  switch (ins.op) {
    case 'lock':
      if (!r) break;
      if (r.decl.kind !== 'rwsem') {
        w.line(`atomic { ${g}m${i} == 0 -> m${i} = 1; h${i} = 1${r.decl.kind === 'spinlock' && ctx.hasSpins ? '; spins++' : ''} };`);
      } else {
        if (g) w.line('(spins == 0);');
        w.line('if');
        w.line(`:: atomic { rw${i}_w == 0 && rw${i}_r == 0 && rw${i}_q == 0 -> rw${i}_w = 1; h${i}_w = 1 }`);
        w.line(`:: atomic { !(rw${i}_w == 0 && rw${i}_r == 0 && rw${i}_q == 0) -> rw${i}_q++ };`);
        w.line(`   atomic { rw${i}_w == 0 && rw${i}_r == 0 -> rw${i}_q--; rw${i}_w = 1; h${i}_w = 1 }`);
        w.line('fi;');
      }
      return;
    case 'rlock':
      if (!r) break;
      w.line(`atomic { ${g}rw${i}_w == 0 && rw${i}_q == 0 -> rw${i}_r++; h${i}_r++ };`);
      return;
    case 'unlock':
      if (!r) break;
      if (r.decl.kind !== 'rwsem') {
        w.line(`atomic { if :: h${i} == 1 -> h${i} = 0; m${i} = 0${r.decl.kind === 'spinlock' && ctx.hasSpins ? '; spins--' : ''} :: else -> skip fi };`);
      } else {
        w.line(`atomic { if :: h${i}_w == 1 -> h${i}_w = 0; rw${i}_w = 0 :: h${i}_w == 0 && h${i}_r > 0 -> h${i}_r--; rw${i}_r-- :: else -> skip fi };`);
      }
      return;
    case 'wait':
      if (!r) break;
      w.line(`(${g}c${i} == 1);`);
      return;
    case 'signal':
      if (!r) break;
      w.line(`c${i} = 1;`);
      return;
    case 'start':
      if (!r) break;
      w.line(`atomic { ${g}(b${i}_c == 0 || h${i}_n > 0) -> b${i}_n++; h${i}_n++ };`);
      return;
    case 'stop': case 'exit':
      if (!r) break;
      w.line(`atomic { if :: h${i}_n > 0 -> h${i}_n--; b${i}_n-- :: else -> skip fi };`);
      return;
    case 'commit':
      if (!r) break;
      if (g) w.line('(spins == 0);');
      w.line('if');
      w.line(`:: atomic { b${i}_c == 0 && b${i}_n == 0 -> skip }`);
      w.line(`:: atomic { b${i}_c == 0 && b${i}_n > 0 -> b${i}_c = ${ctx.me} };`);
      w.line(`   atomic { b${i}_n == 0 -> b${i}_c = 0 }`);
      w.line('fi;');
      return;
    case 'freeze':
      if (!r) break;
      if (g) w.line('(spins == 0);');
      w.line('if');
      w.line(`:: atomic { b${i}_c == 0 && b${i}_n == 0 -> b${i}_c = ${ctx.me} }`);
      w.line(`:: atomic { b${i}_c == 0 && b${i}_n > 0 -> b${i}_c = ${ctx.me} };`);
      w.line(`   (b${i}_n == 0)`);
      w.line('fi;');
      return;
    case 'unfreeze':
      if (!r) break;
      w.line(`atomic { if :: b${i}_c == ${ctx.me} -> b${i}_c = 0 :: else -> skip fi };`);
      return;
    case 'io':
      if (!r) break;
      w.line(`(${g}b${i}_c == 0);`);
      return;
    case 'enter':
      if (!r) break;
      w.line(`atomic { ${g}b${i}_c == 0 -> b${i}_n++; h${i}_n++ };`);
      return;
    case 'alloc': case 'reclaim': {
      if (g) w.line('(spins == 0);');
      const memalloc = ins.op === 'alloc' ? ctx.inReclaim || ctx.kswapd : ctx.inReclaim;
      const options: { guard: string; id: number }[] = [];
      if (!memalloc) {
        for (const id of p.reclaimBlocks) {
          const guard = callbackGuard(p, ins, id, ctx);
          if (guard !== null) options.push({ guard, id });
        }
      }
      if (options.length === 0) {
        w.line('skip;');
        return;
      }
      w.line('if');
      w.line(':: skip');
      for (const o of options) {
        w.line(`:: (${o.guard}) -> /* enters ${comment(p.blocks[o.id].name)} */`);
        w.depth++;
        block(w, p, p.blocks[o.id], 0, { ...ctx, inReclaim: true });
        w.line('skip');
        w.depth--;
      }
      w.line('fi;');
      return;
    }
    case 'fault': {
      if (g) w.line('(spins == 0);');
      if (ins.handlers.length === 0) {
        w.line('skip;');
        return;
      }
      w.line('if');
      w.line(':: skip');
      for (const id of ins.handlers) {
        w.line(`:: skip; /* page fault -> ${comment(p.blocks[id].name)} */`);
        w.depth++;
        block(w, p, p.blocks[id], 0, ctx);
        w.line('skip');
        w.depth--;
      }
      w.line('fi;');
      return;
    }
    case 'nofs_save': case 'noio_save': case 'noreclaim_save':
      w.line(`${ins.op.replace('_save', '')}++;`);
      return;
    case 'nofs_restore': case 'noio_restore': case 'noreclaim_restore': {
      const v = ins.op.replace('_restore', '');
      w.line(`if :: ${v} > 0 -> ${v}-- :: else -> skip fi;`);
      return;
    }
    default:
      break;
  }
  w.line('skip;');
}
