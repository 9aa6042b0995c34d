// The corpus property test of issue #6 on part of fs/ of linux 6.1 (scripts/fix-corpus.ts runs all of fs/, about
// a minute): every GFP_NOFS/GFP_NOIO allocation the analysis classifies as fixable gets its fix built and verified,
// and every fix that is offered is checked again independently (a fresh analysis of the fixed text, compared by
// counts). No offered fix may fail that check. The counts are printed (t.diagnostic) and pinned loosely.
// Needs the trees from scripts/extract-kernel.sh.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCorpus } from '../../scripts/fix-corpus';

const TREE = path.join(__dirname, '..', '..', '.cache', 'kernel', '6.1');
const NEWER = path.join(__dirname, '..', '..', '.cache', 'kernel', '6.12');
const DIRS = ['fs/quota', 'fs/xfs', 'fs/ext4', 'fs/udf', 'fs/exfat', 'fs/gfs2'];

test('fixes on fs/{quota,xfs,ext4,udf,exfat,gfs2} of 6.1: every offered fix passes the independent re-check', { timeout: 300_000 }, async (t) => {
  for (const d of [...DIRS, '']) if (!fs.existsSync(path.join(TREE, d))) assert.fail(`no kernel tree at ${path.join(TREE, d)}: run scripts/extract-kernel.sh`);
  let fixable = 0;
  let offered = 0;
  let passed = 0;
  const notOffered: Record<string, number> = {};
  const failed: string[] = [];
  let changedToKernel = 0;
  let changedOffered = 0;
  for (const dir of DIRS) {
    const r = await runCorpus(TREE, dir, '6.1', undefined, fs.existsSync(NEWER) ? { tree: NEWER, version: '6.12' } : undefined);
    t.diagnostic(`${dir}: ${r.sites} GFP_NOFS/GFP_NOIO sites, ${r.fixable} fixable, ${r.offered} offered, ${r.passed} passed, ${(r.ms / 1000).toFixed(1)} s`);
    fixable += r.fixable;
    offered += r.offered;
    passed += r.passed;
    failed.push(...r.failed.map((f) => `${f.file}:${f.line} [${f.code}] ${f.why}`));
    for (const [k, n] of Object.entries(r.notOffered)) notOffered[k] = (notOffered[k] ?? 0) + n;
    changedToKernel += r.agreement?.changedToKernel ?? 0;
    changedOffered += r.agreement?.changedOffered ?? 0;
    if (dir === 'fs/quota') {
      // quota_v2.c v2_read_file_info(): 6.12 opens memalloc_nofs_save() after down_read(&dqopt->dqio_sem) and turns the
      // GFP_NOFS into GFP_KERNEL; the scope fix offered on 6.1 is the same edit.
      assert.ok(r.agreement?.examples.some((e) => e.file === 'fs/quota/quota_v2.c' && e.fn === 'v2_read_file_info' && e.ours === 'scope-candidate' && /\+ scope/.test(e.theirs)), JSON.stringify(r.agreement?.examples));
    }
  }
  for (const [k, n] of Object.entries(notOffered).sort((a, b) => b[1] - a[1])) t.diagnostic(`not offered ${n}: ${k}`);
  t.diagnostic(`total: ${fixable} fixable, ${offered} offered, ${passed} passed the re-check; developers turned ${changedToKernel} of these sites into GFP_KERNEL by 6.12, we offer it at ${changedOffered}`);
  assert.deepEqual(failed, []);
  assert.equal(passed, offered);
  assert.ok(fixable >= 130, `${fixable} fixable`);
  assert.ok(changedOffered >= 0.8 * changedToKernel, `developers turned ${changedToKernel} sites into GFP_KERNEL, we offer it at ${changedOffered}`);
  assert.ok(offered >= 0.6 * fixable, `${offered} of ${fixable} offered`);
});
