import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { SCOPE_OPS, STEP_RESOURCE_KINDS } from '../../server/src/simulate/model';
import grammar from '../../syntaxes/rlsim.tmLanguage.json';

interface Rule { match?: string; begin?: string; end?: string; name?: string; patterns?: Rule[]; captures?: Record<string, { name: string }> }

function rules(): Rule[] {
  const out: Rule[] = [];
  const walk = (r: Rule): void => {
    out.push(r);
    for (const p of r.patterns ?? []) walk(p);
  };
  for (const r of Object.values(grammar.repository as Record<string, Rule>)) walk(r);
  return out;
}

/** Scope names any grammar rule gives to `text` somewhere in `line` (a flat approximation of the tokenizer). */
function scopesOf(line: string, text: string): string[] {
  const out: string[] = [];
  for (const r of rules()) {
    if (!r.match) continue;
    for (const m of line.matchAll(new RegExp(r.match, 'g'))) {
      if (r.name && m[0].trim() === text) out.push(r.name);
      for (const [i, c] of Object.entries(r.captures ?? {})) if (m[Number(i)] === text) out.push(c.name);
    }
  }
  return out;
}

test('grammar metadata and regexes', () => {
  assert.equal(grammar.scopeName, 'source.rlsim');
  for (const r of rules()) for (const k of ['match', 'begin', 'end'] as const) if (r[k]) assert.doesNotThrow(() => new RegExp(r[k]!), r[k]);
});

test('every step and declaration keyword of the parser is highlighted', () => {
  const steps = [...Object.keys(STEP_RESOURCE_KINDS), 'alloc', 'reclaim', 'fault', ...SCOPE_OPS];
  for (const op of steps) assert.ok(scopesOf(`  ${op} x`, op).includes('keyword.control.step.rlsim'), op);
  for (const kw of ['mutex', 'spinlock', 'rwsem', 'completion', 'fence', 'transaction', 'queue']) {
    assert.ok(scopesOf(`${kw} &a->b`, kw).includes('storage.type.resource.rlsim'), kw);
  }
  assert.ok(scopesOf('  nofs {', 'nofs').includes('keyword.control.scope.rlsim'));
});

test('declarations vs steps, masks, lock names, locations and comments', () => {
  assert.ok(scopesOf('reclaim super_cache_scan kind shrinker gate __GFP_FS @fs/super.c:193 {', 'super_cache_scan').includes('entity.name.function.callback.rlsim'));
  assert.deepEqual(scopesOf('  reclaim GFP_KERNEL @mm/vmscan.c:6883', 'GFP_KERNEL'), ['constant.language.gfp.rlsim']);
  assert.ok(scopesOf('  fault filemap_fault @fs/ioctl.c:120', 'fault').includes('keyword.control.step.rlsim'));
  assert.ok(!scopesOf('  fault filemap_fault @fs/ioctl.c:120', 'filemap_fault').includes('entity.name.function.callback.rlsim'));
  assert.ok(scopesOf('thread kswapd0 role kswapd', 'kswapd').includes('support.constant.rlsim'));
  assert.ok(scopesOf('  lock &xfs_inode->i_lock @x.c:1', '&xfs_inode->i_lock').includes('variable.other.lock.rlsim'));
  assert.ok(scopesOf('  alloc GFP_KERNEL & ~__GFP_FS', '__GFP_FS').includes('constant.language.gfp.rlsim'));
  assert.ok(scopesOf('  lock &a @fs/xfs/xfs_icache.c:1035', '@fs/xfs/xfs_icache.c:1035').includes('markup.underline.link.location.rlsim'));
  assert.ok(scopesOf('  lock &a // held across the alloc', '// held across the alloc').includes('comment.line.double-slash.rlsim'));
});
