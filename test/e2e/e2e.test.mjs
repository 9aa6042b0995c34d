// Reclaim Lens in a real VS Code: the VSIX installed into code-server 4.100.3, driven in Debian's Chromium.
// Run it with `bash test/e2e/run.sh` (or `npm run test:e2e`): that script packages and installs the VSIX, starts
// code-server and sets RL_E2E_*; this file only drives the browser.
//
// One step per user-facing feature, in the order a user meets them. Each step is a function of the workbench,
// waits only on DOM states (with timeouts), and saves a screenshot to test-artifacts/e2e/ when it ends; a failing
// step saves NN-<step>-FAILED.png and names it in its error. Steps do not depend on each other's results: each
// opens the file it needs and goes to the line it looks at.
//
// A feature that is not built yet has a step that asserts what the product does TODAY, marked FIXME with the issue
// that builds it: when that lands, the step fails, and the FIXME says what to check instead.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Workbench, normalise } from './lib/workbench.mjs';

const C_FILE = 'fs/demo/inode.c';
const XFS_FILE = 'fs/xfs/xfs_demo_iomap.c';
const MODEL_FILE = 'models/kswapd-abba.rlsim';
/** Indexed by the workspace index (.vscode/settings.json: reclaimLens.index.paths): whole-program deadlocks. */
const RECLAIM_FILE = 'deadlocks/fs/demo/demo_cache.c';
const FAULT_FILE = 'deadlocks/fs/demofs/demofs_file.c';
/** fs/jffs2 of linux-source-6.12, copied in by run.sh: a real reclaim recursion */
const JFFS2_FILE = 'deadlocks/fs/jffs2/xattr.c';
/** fs/ntfs3 of linux-source-6.1, copied in by run.sh: a real page-fault case (docs/evaluation/real-cycles.md G1) */
const NTFS3_FILE = 'deadlocks/fs/ntfs3/frecord.c';
/** The key run.sh binds to reclaimLens.simulateDeadlock with models/xfs-ilock-super-cache-scan.rlsim's text. */
const SIMULATE_DEADLOCK_KEY = 'Control+Alt+Shift+D';

const wb = Workbench.fromEnv();
before(() => wb.open(), { timeout: 120_000 });
after(() => wb.close());

/** A test that screenshots its end state, and on failure puts the failure screenshot's path into the error. */
function step(name, fn, { timeout = 60_000 } = {}) {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
  test(name, { timeout }, async () => {
    try {
      await wb.reset();
      await fn(wb);
      await wb.shot(slug);
    } catch (error) {
      let shot = '(none: the page is gone)';
      try {
        shot = await wb.shot(`${slug}-FAILED`);
      } catch {
        // keep the original error
      }
      // Node's reporter prints the stack, which holds the message as it was when the error was made.
      const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      throw new Error(`${first}\n    screenshot: ${shot}`, { cause: error });
    } finally {
      await wb.escape().catch(() => undefined);
    }
  });
}

// --- kernel C in the editor ---------------------------------------------------------------------------------------

step('inlay hint shows the effective mask at an allocation inside a NOFS scope', async () => {
  await wb.openFile(C_FILE);
  await wb.gotoLine(29);
  // The first analysis starts the server: allow for it. The hint follows the gfp argument, inside the call.
  const line = wb.line(/kmemdup\(value,\s+size,\s+GFP_KERNEL\s+⇒\s+GFP_NOFS\);/);
  await line.waitFor({ timeout: 60_000 });
  // It is an inlay hint (injected text: Monaco renders each label part as a span with a dyn-rule class), not text
  // of the document.
  const parts = await line.locator('span[class*="dyn-rule"]').allInnerTexts();
  assert.equal(normalise(parts.join('')), '⇒ GFP_NOFS');
  // The sleeping allocation under the spinlock gets no hint in the default mode ("changed"): its mask is as written.
  await wb.gotoLine(41);
  const atomicLine = normalise(await wb.line('ext = kmalloc(sizeof(*ext), GFP_KERNEL);').innerText());
  assert.doesNotMatch(atomicLine, /⇒/);
}, { timeout: 90_000 });

step('hover on the allocator shows the derivation of the mask', async () => {
  await wb.openFile(C_FILE);
  await wb.gotoLine(29, 9); // on `kmemdup`
  await wb.line(/GFP_KERNEL\s+⇒\s+GFP_NOFS/).waitFor({ timeout: 60_000 });
  await wb.keyboard.press('Control+K');
  await wb.keyboard.press('Control+I');
  const hover = wb.page.locator('.monaco-hover:visible', { hasText: 'effective gfp mask' }).first();
  await hover.waitFor();
  const text = normalise(await hover.innerText());
  for (const expected of [
    'kmemdup() — effective gfp mask in demo_copy_xattr()',
    'literal GFP_KERNEL',
    'memalloc_nofs_save() at line 28 sets PF_MEMALLOC_NOFS',
    'current_gfp_context() GFP_NOFS',
    'Held locks: &demo_inode_info->xattr_mutex (line 27)',
    'Atomic context: no',
    'may enter FS reclaim: no',
  ]) {
    assert.ok(text.includes(expected), `the hover lacks "${expected}"; it says: ${text}`);
  }
  await wb.readmeShot('hints', wb.page.locator('.part.editor'));
});

step('language status item reports the kernel version and the last analysis', async () => {
  await wb.openFile(C_FILE);
  // `auto` reads VERSION/PATCHLEVEL from the workspace's top Makefile (6.12).
  const status = await wb.languageStatus(/Reclaim Lens: 6\.12 .*last analysis \d/);
  assert.match(status, /allocation sites?, \d+ findings?/);
});

step('sleep-in-atomic is reported in the editor and in the Problems panel', async () => {
  await wb.openFile(C_FILE);
  await wb.gotoLine(41, 8);
  await wb.activeEditor().locator('.squiggly-error').first().waitFor({ timeout: 60_000 });
  const panel = await wb.problemsPanel();
  const row = panel.locator('.monaco-list-row', { hasText: 'GFP_KERNEL may sleep while holding &demo_inode_info->lock' });
  await row.first().waitFor();
  const text = normalise(await row.first().innerText());
  assert.match(text, /reclaim-lens\W*sleep-in-atomic/);
  assert.match(text, /\[Ln 41, Col 8\]/);
  // The related location (where the spinlock was taken) is listed under it.
  await panel.locator('.monaco-list-row', { hasText: 'taken here by spin_lock() (line 40)' }).first().waitFor();
  // The other bug in the file, and nothing about the correct NOFS-scoped allocation.
  await panel.locator('.monaco-list-row', { hasText: 'OR cannot remove __GFP_FS' }).first().waitFor();
  assert.equal(await panel.locator('.monaco-list-row', { hasText: 'demo_copy_xattr' }).count(), 0);
});

step('quick fix at the ineffective OR: Use GFP_NOFS, verified, applied, then undone', async () => {
  await wb.openFile(C_FILE);
  await wb.gotoLine(56, 23); // on `GFP_KERNEL | GFP_NOFS`
  await wb.activeEditor().locator('.squiggly-warning').first().waitFor({ timeout: 60_000 });
  await wb.keyboard.press('Control+.');
  // The preferred fix is first in the list; Enter applies it (clicking the row times out).
  await wb.page.locator('.action-widget .monaco-list-row', { hasText: 'Use GFP_NOFS' }).first().waitFor();
  await wb.keyboard.press('Enter');
  await wb.line('return kvmalloc(len, GFP_NOFS);').waitFor();
  const panel = await wb.problemsPanel();
  await panel.locator('.monaco-list-row', { hasText: 'OR cannot remove __GFP_FS' }).first().waitFor({ state: 'detached', timeout: 60_000 });
  // Leave the file as it was for the other steps.
  await wb.focusEditor();
  await wb.keyboard.press('Control+Z');
  await wb.line('return kvmalloc(len, GFP_KERNEL | GFP_NOFS);').waitFor();
});

step('Simulate deadlock from a reclaim-deadlock finding: the allocation under the lock the shrinker takes', async () => {
  await wb.openFile(RECLAIM_FILE);
  await wb.gotoLine(35, 6); // `e = kmalloc(sizeof(*e), GFP_KERNEL);` under demo_cache_lock
  // The workspace index (reclaimLens.index.paths: deadlocks/) publishes the finding: a squiggle on the allocation
  // and its row in the Problems panel, with the shrinker's lock as a related location.
  await wb.activeEditor().locator('.squiggly-warning').first().waitFor({ timeout: 90_000 });
  const panel = await wb.problemsPanel();
  const row = panel.locator('.monaco-list-row', { hasText: 'kmalloc(GFP_KERNEL) may enter reclaim while demo_cache_lock is held' }).first();
  await row.waitFor();
  const text = normalise(await row.innerText());
  assert.match(text, /reclaim-lens\W*reclaim-deadlock/);
  assert.match(text, /\[Ln 35, Col 6\]/);
  await wb.closePanel();
  await wb.focusEditor();
  await wb.runQuickFix('Simulate deadlock: demo_cache_insert() (reclaim-deadlock)');
  // The finding's model in the simulation view: the task that allocates, the shrinker reclaim runs, the one lock.
  const view = wb.simulationView();
  await view.locator('h1', { hasText: 'reclaim-deadlock in demo_cache_insert() at deadlocks/fs/demo/demo_cache.c:35' }).waitFor({ timeout: 60_000 });
  await view.locator('.verdict.deadlock', { hasText: 'Deadlock' }).waitFor();
  const heads = (await view.locator('.timeline .heads .head').allInnerTexts()).map(normalise);
  // One task: the shrinker runs in its own reclaim, and the cycle closes on the lock it already holds.
  assert.deepEqual(heads, ['demo_cache_insert task']);
  await view.locator('.timeline .card .label', { hasText: 'lock(demo_cache_lock)' }).first().waitFor();
  await view.locator('.timeline .card .label', { hasText: 'alloc(GFP_KERNEL)' }).first().waitFor();
  await view.locator('.summary', { hasText: 'Chain: demo_cache_lock → fs_reclaim → demo_cache_lock' }).waitFor();
  await view.locator('.summary', { hasText: 'demo_cache_insert waits for demo_cache_lock held by demo_cache_insert' }).waitFor();
  await view.locator('button[data-act="last"]').click();
  await view.locator('.position', { hasText: /^Deadlock \(after step \d+\)/ }).waitFor();
  await view.locator('.row.deadlock.current .card.blocked', { hasText: 'lock(demo_cache_lock)' }).first().waitFor();
  await wb.dismissHovers();
  await wb.readmeShot('simulate-reclaim', wb.page.locator('.part.editor'));
}, { timeout: 120_000 });

step('Simulate deadlock from a fault-deadlock finding: copy_to_user under the lock ->page_mkwrite takes', async () => {
  await wb.openFile(FAULT_FILE);
  await wb.gotoLine(32, 6); // `if (copy_to_user(arg, buf, len))` under the mapping's invalidate_lock
  await wb.activeEditor().locator('.squiggly-warning').first().waitFor({ timeout: 90_000 });
  const panel = await wb.problemsPanel();
  const row = panel.locator('.monaco-list-row', { hasText: 'copy_to_user() may fault while &address_space->invalidate_lock is held' }).first();
  await row.waitFor();
  const text = normalise(await row.innerText());
  assert.match(text, /reclaim-lens\W*fault-deadlock/);
  assert.match(text, /\[Ln 32, Col 6\]/);
  await wb.closePanel();
  await wb.focusEditor();
  await wb.runQuickFix('Simulate deadlock: demofs_ioc_getmap() (fault-deadlock)');
  const view = wb.simulationView();
  await view.locator('h1', { hasText: 'fault-deadlock in demofs_ioc_getmap() at deadlocks/fs/demofs/demofs_file.c:32' }).waitFor({ timeout: 60_000 });
  await view.locator('.verdict.deadlock', { hasText: 'Deadlock' }).waitFor();
  const heads = (await view.locator('.timeline .heads .head').allInnerTexts()).map(normalise);
  // One task: its own page fault runs ->page_mkwrite, which waits for the lock the task holds.
  assert.deepEqual(heads, ['demofs_ioc_getmap task']);
  await view.locator('.timeline .card .label', { hasText: 'lock(&address_space->invalidate_lock)' }).first().waitFor();
  await view.locator('.timeline .card .label', { hasText: 'fault(demofs_page_mkwrite)' }).first().waitFor();
  await view.locator('.summary', { hasText: 'Chain: &address_space->invalidate_lock → &mm->mmap_lock → &address_space->invalidate_lock' }).waitFor();
  await view.locator('button[data-act="last"]').click();
  await view.locator('.position', { hasText: /^Deadlock \(after step \d+\)/ }).waitFor();
  await view.locator('.row.deadlock.current .card.blocked', { hasText: '&address_space->invalidate_lock' }).first().waitFor();
  await wb.dismissHovers();
  await wb.readmeShot('simulate-fault', wb.page.locator('.part.editor'));
}, { timeout: 120_000 });

step('Simulate deadlock on a real kernel finding: jffs2 allocates under c->xattr_sem, which jffs2_evict_inode() takes in reclaim', async () => {
  await wb.openFile(JFFS2_FILE);
  await wb.gotoLine(367, 9); // `xd->xname = kmalloc(name_len + 1 + xsize, GFP_KERNEL);` under c->xattr_sem
  // Information severity (reclaim evicts only unlinked inodes this way: the rare path), from the workspace index.
  await wb.activeEditor().locator('.squiggly-info').first().waitFor({ timeout: 120_000 });
  await wb.focusEditor();
  await wb.runQuickFix('Simulate deadlock: create_xattr_datum() (reclaim-deadlock)');
  const view = wb.simulationView();
  await view.locator('h1', { hasText: 'reclaim-deadlock in create_xattr_datum() at deadlocks/fs/jffs2/xattr.c:367' }).waitFor({ timeout: 60_000 });
  await view.locator('.verdict.deadlock', { hasText: 'Deadlock' }).waitFor();
  await view.locator('.timeline .card .label', { hasText: 'lock(&jffs2_sb_info->xattr_sem)' }).first().waitFor();
  await view.locator('.timeline .card .label', { hasText: 'alloc(GFP_KERNEL)' }).first().waitFor();
  await view.locator('button[data-act="last"]').click();
  await view.locator('.position', { hasText: /^Deadlock \(after step \d+\)/ }).waitFor();
  await wb.dismissHovers();
  await wb.readmeShot('simulate-real-jffs2', wb.page.locator('.part.editor'));
}, { timeout: 180_000 });

step('Simulate deadlock on a real page-fault case: ntfs3 copies fiemap extents to user memory under ni_lock, which its ->read_folio takes', async () => {
  await wb.openFile(NTFS3_FILE);
  await wb.gotoLine(2157, 6); // `if (copy_to_user(fieinfo->fi_extents_start, fe_k, …` under ni_lock (ntfs_fiemap)
  await wb.activeEditor().locator('.squiggly-warning').first().waitFor({ timeout: 120_000 });
  await wb.focusEditor();
  await wb.runQuickFix('Simulate deadlock: ni_fiemap() (fault-deadlock)');
  const view = wb.simulationView();
  await view.locator('h1', { hasText: 'fault-deadlock in ni_fiemap() at deadlocks/fs/ntfs3/frecord.c:2157' }).waitFor({ timeout: 60_000 });
  await view.locator('.verdict.deadlock', { hasText: 'Deadlock' }).waitFor();
  // One task deadlocks on itself: the fault reads the resident file's folio through ntfs_read_folio(), which takes ni_lock.
  const heads = (await view.locator('.timeline .heads .head').allInnerTexts()).map(normalise);
  assert.ok(heads.length === 1 && heads[0].startsWith('ntfs_fiemap'), heads.join(' | '));
  await view.locator('.timeline .card .label', { hasText: 'fault(ntfs_read_folio)' }).first().waitFor();
  await view.locator('button[data-act="last"]').click();
  await view.locator('.position', { hasText: /^Deadlock \(after step \d+\)/ }).waitFor();
  await wb.dismissHovers();
  await wb.readmeShot('simulate-real-ntfs3', wb.page.locator('.part.editor'));
}, { timeout: 180_000 });

step('Simulate deadlock opens the simulation view with the threads and locks of the scenario', async () => {
  await wb.openFile(XFS_FILE);
  await wb.keyboard.press(SIMULATE_DEADLOCK_KEY);
  const view = wb.simulationView();
  await view.locator('h1', { hasText: 'xfs ILOCK vs super_cache_scan' }).waitFor({ timeout: 60_000 });
  await view.locator('.verdict.deadlock').waitFor();
  const heads = (await view.locator('.timeline .heads .head').allInnerTexts()).map(normalise);
  assert.deepEqual(heads, ['syz-executor task', 'kswapd0 kswapd']);
  await view.locator('.summary', { hasText: 'syz-executor waits for &xfs_nondir_ilock_class' }).waitFor();
  await view.locator('.timeline .card .label', { hasText: 'lock(&xfs_nondir_ilock_class)' }).first().waitFor();
  await view.locator('.timeline .card .label', { hasText: 'alloc(GFP_KERNEL)' }).first().waitFor();
});

// --- models (.rlsim) ----------------------------------------------------------------------------------------------

step('an .rlsim model is highlighted by the grammar', async () => {
  await wb.openFile(MODEL_FILE);
  await wb.page.locator('[id="status.editor.mode"]', { hasText: 'Reclaim Lens Simulation' }).waitFor();
  await wb.gotoLine(16, 1); // `thread quota-sync {`
  await wb.runCommand('Developer: Inspect Editor Tokens and Scopes');
  const widget = wb.page.locator('.token-inspect-widget');
  await widget.waitFor();
  const text = normalise(await widget.innerText());
  assert.match(text, /storage\.type\.thread\.rlsim/);
  assert.match(text, /source\.rlsim/);
  await wb.shot('model-token-inspector');
  await wb.escape();
  await widget.waitFor({ state: 'hidden' });
  // The highlighting shows: the keyword, the thread's name and a lock are tokens of different colours.
  const tokenClass = async (lineText, token) =>
    wb.line(lineText).locator('span > span', { hasText: new RegExp(`^${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) })
      .first().getAttribute('class');
  const classes = [
    await tokenClass('thread quota-sync {', 'thread'),
    await tokenClass('thread quota-sync {', 'quota-sync'),
    await tokenClass('mutex &qd->qd_mutex', '&qd->qd_mutex'),
  ];
  assert.equal(new Set(classes).size, 3, `token classes: ${classes.join(', ')}`);
});

step('a parse error in a model is reported as a diagnostic', async () => {
  await wb.openFile(MODEL_FILE);
  await wb.gotoLine(17, 3); // `  lock &qd->qd_mutex` in thread quota-sync
  await wb.keyboard.press('Control+Shift+ArrowRight');
  await wb.keyboard.type('bogus');
  const panel = await wb.problemsPanel();
  const row = panel.locator('.monaco-list-row', { hasText: "unknown step 'bogus'" }).first();
  await row.waitFor();
  await wb.activeEditor().locator('.squiggly-error').first().waitFor();
  await wb.shot('model-parse-error');
  // Revert: the text is as saved again and the problem goes away.
  await wb.focusEditor();
  await wb.runCommand('File: Revert File');
  await wb.line('lock &qd->qd_mutex @fs/gfs2/quota.c:300').waitFor();
  await row.waitFor({ state: 'detached' });
});

step('the model code lens runs it in the simulation view', async () => {
  await wb.openFile(MODEL_FILE);
  await wb.gotoLine(1);
  const lens = wb.activeEditor().locator('.codelens-decoration a', { hasText: 'Run model' });
  await lens.waitFor({ timeout: 60_000 });
  await lens.click();
  const view = wb.simulationView();
  await view.locator('h1', { hasText: 'kswapd AB-BA with a shrinker' }).waitFor({ timeout: 60_000 });
  await view.locator('.verdict.deadlock', { hasText: 'Deadlock' }).waitFor();
  const heads = (await view.locator('.timeline .heads .head').allInnerTexts()).map(normalise);
  assert.deepEqual(heads, ['quota-sync task', 'kswapd0 kswapd']);
  await view.locator('.summary', { hasText: 'quota-sync waits for &sdp->sd_quota_mutex held by kswapd0' }).waitFor();
  await view.locator('.summary', { hasText: 'kswapd0 waits for &qd->qd_mutex held by quota-sync' }).waitFor();
  // Replay to the end: the last row is the deadlock, both threads blocked on each other's lock.
  await view.locator('button[data-act="last"]').click();
  await view.locator('.position', { hasText: 'Deadlock (after step 3)' }).waitFor();
  await view.locator('.row.deadlock.current .card.blocked', { hasText: '✗ lock(&sdp->sd_quota_mutex)' }).waitFor();
  await view.locator('.row.deadlock.current .card.blocked', { hasText: '✗ lock(&qd->qd_mutex)' }).waitFor();
  // The lens now carries the verdict of the run.
  await wb.page.locator('.codelens-decoration', { hasText: 'deadlock in 3 steps' }).waitFor();
  await wb.readmeShot('simulation', wb.page.locator('.part.editor'));
});
