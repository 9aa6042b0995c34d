// The analysis on the real kernel (linux-source 6.12.117: fs/xfs, fs/ext4, fs/btrfs, fs/jbd2, mm), asserting
// concrete facts: no crashes, allocation sites against an independent count, specific sites with their effective
// masks (each verified by reading the code, file:line cited), the exact set of findings with a verdict per finding,
// and the share of functions with syntax errors. Needs the tree from scripts/extract-kernel.sh.
//
// Every directory is analysed once, through the same ide/ AnalysisHost as the CLI, and rendered through the CLI's
// JSON shapes (sitesOf/findingsOf: the public contract); all tests share that result.
//
// FIXME(#2) marks today's behaviour where it is wrong: the assertion pins what the analysis does now, the comment
// says what is wrong and why. Fixing the analysis makes such an assertion fail: update it to the right value.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { findingsOf, sitesOf, type AnalysedFile, type JsonFinding, type JsonSite } from '../../server/src/cli/output';
import { decodeSource } from '../../server/src/syntax/sourceFile';
import { testHost } from '../harness/analyse';
import { allocatorNames, countAllocatorCalls, type Count } from './independent-count';

const TREE = path.join(__dirname, '..', '..', '.cache', 'kernel', '6.12');
/** The release every line number below was read from (Debian's linux-source-6.12). */
const RELEASE = '6.12.117';
const DIRS = ['fs/xfs', 'fs/ext4', 'fs/btrfs', 'fs/jbd2', 'mm'];
/** The allocator headers, for the count: macros and prototypes that a grep would take for calls. */
const HEADERS = ['include/linux/slab.h', 'include/linux/gfp.h', 'include/linux/vmalloc.h', 'include/linux/pagemap.h',
  'include/linux/xarray.h', 'include/linux/mempool.h', 'include/linux/buffer_head.h'];

function requireTree(): void {
  const makefile = path.join(TREE, 'Makefile');
  if (!fs.existsSync(makefile) || !DIRS.every((d) => fs.existsSync(path.join(TREE, d)))) {
    assert.fail(`no kernel tree at ${TREE}: run scripts/extract-kernel.sh`);
  }
  const mk = fs.readFileSync(makefile, 'utf8');
  const v = ['VERSION', 'PATCHLEVEL', 'SUBLEVEL'].map((k) => new RegExp(`^${k}\\s*=\\s*(\\d+)`, 'm').exec(mk)?.[1]).join('.');
  if (v !== RELEASE) {
    assert.fail(`the facts in this file were read from linux ${RELEASE}, the tree at ${TREE} is ${v}: re-verify them against the new release and update RELEASE`);
  }
}

interface FunctionRow {
  file: string;
  name: string;
  hasError: boolean;
  /** texts of the statements the CFG builder reported as problems */
  problems: string[];
}

interface Corpus {
  files: AnalysedFile[];
  filesPerDir: Record<string, number>;
  /** onError callbacks: an exception in the analysis of one function */
  errors: string[];
  /** FileFacts.problems (binary, too large, a function whose analysis threw) */
  problems: string[];
  functions: FunctionRow[];
  sites: JsonSite[];
  findings: JsonFinding[];
  ms: number;
}

function listC(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.c')) out.push(p);
    }
  };
  walk(path.join(TREE, dir));
  return out.sort();
}

let corpusP: Promise<Corpus> | undefined;

function corpus(): Promise<Corpus> {
  requireTree();
  corpusP ??= analyseCorpus();
  return corpusP;
}

async function analyseCorpus(): Promise<Corpus> {
  const host = await testHost();
  const t0 = performance.now();
  const c: Corpus = { files: [], filesPerDir: {}, errors: [], problems: [], functions: [], sites: [], findings: [], ms: 0 };
  for (const dir of DIRS) {
    const files = listC(dir);
    c.filesPerDir[dir] = files.length;
    for (const abs of files) {
      const rel = path.relative(TREE, abs).split(path.sep).join('/');
      const decoded = decodeSource(fs.readFileSync(abs), { maxBytes: 10 << 20 });
      if (decoded.text === undefined) {
        c.problems.push(`${rel}: ${decoded.problem}`);
        continue;
      }
      const text = decoded.text;
      const a = host.analyse(text, { kernelVersion: '6.12', disabledChecks: [] }, (fn, e) => {
        c.errors.push(`${rel}: ${fn}(): ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      });
      for (const p of a.facts.problems) c.problems.push(`${rel}: ${p}`);
      for (const fn of a.facts.functions) {
        c.functions.push({ file: rel, name: fn.name, hasError: fn.hasError, problems: fn.problems.map((p) => text.slice(p.start, p.end)) });
      }
      c.files.push({ rel, text, facts: a.facts, kb: a.kb });
    }
  }
  c.sites = sitesOf(c.files);
  c.findings = findingsOf(c.files);
  c.ms = performance.now() - t0;
  return c;
}

const under = (dir: string) => (file: string) => file.startsWith(`${dir}/`);

test('fs/xfs, fs/ext4, fs/btrfs, fs/jbd2, mm: every .c file analysed without an exception or a problem', async (t) => {
  const c = await corpus();
  t.diagnostic(`${c.files.length} files, ${c.functions.length} functions, ${c.sites.length} sites, ${c.findings.length} findings in ${Math.round(c.ms)} ms`);
  assert.deepEqual(c.filesPerDir, { 'fs/xfs': 176, 'fs/ext4': 39, 'fs/btrfs': 73, 'fs/jbd2': 6, mm: 161 });
  assert.deepEqual(c.errors, []);
  assert.deepEqual(c.problems, []);
  assert.ok(c.functions.length > 14000, `only ${c.functions.length} functions`);
  // Fixed: labels and case values were reported as CFG problems (nodes compared with === instead of by id).
  // kjournald2 (fs/jbd2/journal.c:160) has two labels, `loop:` (190) and `end_loop:` (248), and nothing odd.
  const kjournald2 = c.functions.find((f) => f.file === 'fs/jbd2/journal.c' && f.name === 'kjournald2');
  assert.deepEqual(kjournald2?.problems, []);
});

// Differences between the analysis and the independent count, each read in the code. Anything else is a failure.
// (Two more were fixed in 97a71a0 and stay guarded by the zero tolerance: a shared /g regex leaked its lastIndex
// into the scan of branch conditions, an assignment went unseen and a feasible branch was dropped, losing
// fs/btrfs/send.c:1210 kvmalloc and fs/btrfs/extent_io.c:3325 radix_tree_preload.)
const KNOWN_MISSES: { key: string; why: string }[] = [
  // (Fixed: jbd2__journal_start/jbd2_journal_start are both a transaction and an allocator; the transaction entry
  // used to shadow the site at fs/ext4/ext4_jbd2.c:112 and fs/ext4/super.c:785.)
];

interface CountRow {
  /** allocation sites the analysis reports */
  ours: number;
  /** calls the independent scan finds inside function bodies */
  independent: number;
  /** allocator names at file scope (definitions, prototypes): not calls, not counted */
  fileScope: number;
  /** allocator calls inside #define bodies: not calls until the macro is used, not counted */
  inDefines: number;
  /** `->NAME(`, `.NAME(`: member function pointers, not counted */
  members: number;
  /** every `NAME(` in the raw text, comments and strings included */
  naive: number;
}

test('allocation sites agree with an independent text count, per directory, except for the listed misses', async (t) => {
  const c = await corpus();
  const names = allocatorNames('6.12');
  const key = (file: string, line: number, name: string) => `${file}:${line}:${name}`;
  const bag = (keys: string[]) => {
    const m = new Map<string, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const minus = (a: Map<string, number>, b: Map<string, number>) => {
    const out: string[] = [];
    for (const [k, n] of a) for (let i = b.get(k) ?? 0; i < n; i++) out.push(k);
    return out.sort();
  };
  const indep = new Map<string, Count>();
  for (const f of c.files) indep.set(f.rel, countAllocatorCalls(f.text, names));

  const rows: Record<string, CountRow> = {};
  for (const dir of [...DIRS, 'fs/xfs/scrub']) {
    const files = c.files.filter((f) => under(dir)(f.rel));
    const counts = files.map((f) => [f.rel, indep.get(f.rel)!] as const);
    const theirs = bag(counts.flatMap(([rel, n]) => n.calls.map((h) => key(rel, h.line, h.name))));
    const ours = bag(c.sites.filter((s) => under(dir)(s.file)).map((s) => key(s.file, s.line, s.api)));
    const missed = minus(theirs, ours);
    const extra = minus(ours, theirs);
    const sum = (f: (n: Count) => number) => counts.reduce((a, [, n]) => a + f(n), 0);
    rows[dir] = {
      ours: [...ours.values()].reduce((a, b) => a + b, 0),
      independent: [...theirs.values()].reduce((a, b) => a + b, 0),
      fileScope: sum((n) => n.fileScope.length), inDefines: sum((n) => n.inDefines), members: sum((n) => n.members),
      naive: sum((n) => n.naive),
    };
    t.diagnostic(`${dir}: ${JSON.stringify(rows[dir])}${missed.length ? ` missed ${missed.join(', ')}` : ''}${extra.length ? ` extra ${extra.join(', ')}` : ''}`);
    // Tolerance: none. Every difference was read in the code and is listed in KNOWN_MISSES; a new one is either a
    // regression (a site lost) or a new kind of difference to investigate.
    assert.deepEqual(missed, KNOWN_MISSES.map((m) => m.key).filter(under(dir)).sort(), `${dir}: sites the analysis misses`);
    assert.deepEqual(extra, [], `${dir}: sites the independent count does not find`);
  }
  // The numbers, so that a change in either shows. mm: the 71 file-scope names are the allocators' own definitions
  // (mm/slub.c:4236 `void *kmem_cache_alloc_noprof(struct kmem_cache *s, gfp_t gfpflags)`, mm/util.c:55
  // `char *kstrdup(const char *s, gfp_t gfp)`, mm/vmalloc.c, and mm/nommu.c's no-MMU vmalloc family); fs/jbd2: the
  // 2 are the definitions of jbd2__journal_start and jbd2_journal_start (fs/jbd2/transaction.c:470, 542). No .c file
  // here calls an allocator inside a #define, and none through a member (`ops->kmalloc(`). The naive count is a plain
  // grep: comments and strings add 156 in mm alone (`kmalloc()` in prose, mm/slab_common.c:401, 620, 783 …).
  assert.deepEqual(rows, {
    'fs/xfs': { ours: 261, independent: 261, fileScope: 0, inDefines: 0, members: 0, naive: 269 },
    'fs/ext4': { ours: 152, independent: 152, fileScope: 0, inDefines: 0, members: 0, naive: 162 },
    'fs/btrfs': { ours: 372, independent: 372, fileScope: 0, inDefines: 0, members: 0, naive: 377 },
    'fs/jbd2': { ours: 25, independent: 25, fileScope: 2, inDefines: 0, members: 0, naive: 29 },
    mm: { ours: 555, independent: 555, fileScope: 71, inDefines: 0, members: 0, naive: 782 },
    'fs/xfs/scrub': { ours: 57, independent: 57, fileScope: 0, inDefines: 0, members: 0, naive: 57 },
  });
});

test('allocator headers: macro bodies and prototypes are not sites, inline calls are', async (t) => {
  requireTree();
  const host = await testHost();
  const names = allocatorNames('6.12');
  const row = { ours: 0, independent: 0, fileScope: 0, inDefines: 0 };
  for (const rel of HEADERS) {
    const text = fs.readFileSync(path.join(TREE, rel), 'utf8');
    const errors: string[] = [];
    const a = host.analyse(text, { kernelVersion: '6.12', disabledChecks: [] }, (fn, e) => errors.push(`${fn}: ${String(e)}`));
    assert.deepEqual(errors, [], rel);
    assert.deepEqual(a.facts.problems, [], rel);
    const n = countAllocatorCalls(text, names);
    const ours = sitesOf([{ rel, text, facts: a.facts, kb: a.kb }]).map((s) => `${s.line}:${s.api}`).sort();
    assert.deepEqual(ours, n.calls.map((h) => `${h.line}:${h.name}`).sort(), `${rel}: sites versus calls in inline bodies`);
    row.ours += ours.length;
    row.independent += n.calls.length;
    row.fileScope += n.fileScope.length;
    row.inDefines += n.inDefines;
  }
  t.diagnostic(JSON.stringify(row));
  // 6.12's alloc_hooks() layer: the 155 in #define lines are the macros' names and bodies (include/linux/slab.h:900
  // `#define kmalloc(...) alloc_hooks(kmalloc_noprof(__VA_ARGS__))` counts twice); the 87 at file scope are
  // prototypes and inline definitions (slab.h:885 `static __always_inline … void *kmalloc_noprof(size_t size,
  // gfp_t flags)`); the 49 sites are calls inside inline bodies, e.g. slab.h:1129 `return kmalloc_noprof(size,
  // flags | __GFP_ZERO);` in kzalloc_noprof. A grep would report 291 "calls" here.
  assert.deepEqual(row, { ours: 49, independent: 49, fileScope: 87, inDefines: 155 });
});

/** The one site at file:line with this api (columns are asserted by the caller through the whole object). */
function siteAt(c: Corpus, file: string, line: number, api: string): JsonSite {
  const found = c.sites.filter((s) => s.file === file && s.line === line && s.api === api);
  assert.equal(found.length, 1, `${file}:${line} ${api}: ${found.length} sites (${JSON.stringify(c.sites.filter((s) => s.file === file && Math.abs(s.line - line) < 5).map((s) => `${s.line}:${s.api}`))})`);
  return found[0];
}

const scope = (api: string, line: number) => ({ api, flags: ['PF_MEMALLOC_NOFS'], line });

// mapping_gfp_constraint(mapping, GFP_KERNEL), rendered as a clear of every bit outside GFP_KERNEL.
const MAPPING_AND_GFP_KERNEL = 'mapping_gfp_mask(mapping) & GFP_KERNEL';

// PATH COUNTS. FIXME(#2): PathFacts.count (server/src/analysis/facts.ts) and the README promise "the number of acyclic
// paths from the function entry that reach the site"; since 97a71a0 a statement without relevant identifiers is
// opaque to the CFG builder (CfgHooks.opaque, built as nothing), so the branches inside it no longer split paths and
// `count` is the number of paths that differ in relevant statements. fs/ext4/inline.c:2015 is reached by 2 acyclic
// paths (1999 `if (!ext4_test_inode_state(…)) ext4_es_remove_extent(…);`) and reported with 1. Either keep an
// opaque if/switch as a diamond with as many edges as it has acyclic paths (only the statement's shape is needed,
// not its expressions), or redefine `count` in facts.ts and the README.
test('sites with their effective masks, as verified by reading the code', async () => {
  const c = await corpus();
  const facts: [JsonSite, JsonSite][] = [
    // fs/xfs/xfs_buf.c:454 `nofs_flag = memalloc_nofs_save();` then 456 `bp->b_addr = vm_map_ram(bp->b_pages,
    // bp->b_page_count, -1);` in a retry loop, restored at 462. vm_map_ram allocates GFP_KERNEL internally; the
    // explicit scope (the comment at 440 says why) makes it GFP_NOFS.
    [siteAt(c, 'fs/xfs/xfs_buf.c', 456, 'vm_map_ram'), {
      file: 'fs/xfs/xfs_buf.c', line: 456, column: 17, function: '_xfs_buf_map_pages', api: 'vm_map_ram',
      literal: 'GFP_KERNEL', effective: ['GFP_NOFS'], held: [], atomic: false, scopes: [scope('memalloc_nofs_save', 454)],
      paths: [{ effective: 'GFP_NOFS', count: 1 }],
    }],
    // fs/ext4/inline.c:593 `handle = ext4_journal_start(inode, EXT4_HT_WRITE_PAGE, needed_blocks);` (error path
    // leaves at 597), then 602 `__filemap_get_folio(mapping, 0, FGP_WRITEBEGIN | FGP_NOFS, mapping_gfp_mask(mapping))`
    // with the handle open: the jbd2 handle's NOFS scope narrows the mapping's mask. (In ext4, every allocator of
    // allocators.json between ext4_journal_start*() and ext4_journal_stop() of the same function already passes a
    // NOFS mask or a mapping mask; this is the mapping one.)
    [siteAt(c, 'fs/ext4/inline.c', 602, '__filemap_get_folio'), {
      file: 'fs/ext4/inline.c', line: 602, column: 10, function: 'ext4_convert_inline_data_to_extent', api: '__filemap_get_folio',
      literal: 'mapping_gfp_mask(mapping)', effective: ['mapping_gfp_mask(mapping) & ~__GFP_FS'], held: [], atomic: false,
      scopes: [scope('ext4_journal_start', 593)], paths: [{ effective: 'mapping_gfp_mask(mapping) & ~__GFP_FS', count: 1 }],
    }],
    // fs/ext4/inline.c:1969 ext4_journal_start, 1987 `down_write(&EXT4_I(inode)->i_data_sem);`, 2015
    // `value = kmalloc(value_len, GFP_NOFS);`: NOFS written and NOFS by the handle (see the nofs-redundant verdict).
    // FIXME(#2): `held` misses xattr_sem: 1973 `ext4_write_lock_xattr(inode, &no_expand)` is
    // down_write(&EXT4_I(inode)->xattr_sem) (fs/ext4/xattr.h), and locks.json has no entry for
    // ext4_write_lock_xattr/ext4_write_unlock_xattr. The i_data_sem class is type-based through the accessors
    // knowledge base (EXT4_I() returns struct ext4_inode_info *), the same class as through a local `ei`.
    [siteAt(c, 'fs/ext4/inline.c', 2015, 'kmalloc'), {
      file: 'fs/ext4/inline.c', line: 2015, column: 12, function: 'ext4_inline_data_truncate', api: 'kmalloc',
      literal: 'GFP_NOFS', effective: ['GFP_NOFS'], held: ['&ext4_inode_info->i_data_sem'], atomic: false,
      // FIXME(#2): 2 paths, see PATH COUNTS.
      scopes: [scope('ext4_journal_start', 1969)], paths: [{ effective: 'GFP_NOFS', count: 1 }],
    }],
    // fs/ext4/resize.c:554 ext4_journal_start_sb, then in the loop 582 `gdb = sb_getblk(sb, block);`. sb_getblk →
    // __getblk (include/linux/buffer_head.h:374): mapping_gfp_constraint(bd_mapping, ~__GFP_FS) | __GFP_MOVABLE |
    // __GFP_NOFAIL, and the block device mapping is GFP_USER: GFP_NOFS|__GFP_HARDWALL|__GFP_MOVABLE|__GFP_NOFAIL.
    [siteAt(c, 'fs/ext4/resize.c', 582, 'sb_getblk'), {
      file: 'fs/ext4/resize.c', line: 582, column: 10, function: 'setup_new_flex_group_blocks', api: 'sb_getblk',
      literal: 'GFP_NOFS', effective: ['GFP_NOFS|__GFP_MOVABLE|__GFP_NOFAIL|__GFP_HARDWALL'], held: [], atomic: false,
      scopes: [scope('ext4_journal_start_sb', 554)], paths: [{ effective: 'GFP_NOFS|__GFP_MOVABLE|__GFP_NOFAIL|__GFP_HARDWALL', count: 1 }],
    }],
    // fs/ext4/move_extent.c:138 `flags = memalloc_nofs_save();`, 139 and 146 __filemap_get_folio(mapping[i], …,
    // mapping_gfp_mask(mapping[i])), restored at 142 (error) and 148: mapping masks narrowed by an explicit scope.
    [siteAt(c, 'fs/ext4/move_extent.c', 146, '__filemap_get_folio'), {
      file: 'fs/ext4/move_extent.c', line: 146, column: 13, function: 'mext_folio_double_lock', api: '__filemap_get_folio',
      literal: 'mapping_gfp_mask(mapping[1])', effective: ['mapping_gfp_mask(mapping[1]) & ~__GFP_FS'], held: [], atomic: false,
      // FIXME(#2): 2 paths (`if (inode1 < inode2)` at 129), see PATH COUNTS.
      scopes: [scope('memalloc_nofs_save', 138)], paths: [{ effective: 'mapping_gfp_mask(mapping[1]) & ~__GFP_FS', count: 1 }],
    }],
    // fs/btrfs/delayed-inode.c:151 `xa_lock(&root->delayed_nodes);` (a spinlock), 160
    // `ptr = __xa_store(&root->delayed_nodes, ino, node, GFP_ATOMIC);`, unlocked at 165: atomic, GFP_ATOMIC.
    // The xarray is embedded in struct btrfs_root, so its lock class is `&btrfs_root->delayed_nodes.xa_lock`.
    [siteAt(c, 'fs/btrfs/delayed-inode.c', 160, '__xa_store'), {
      file: 'fs/btrfs/delayed-inode.c', line: 160, column: 8, function: 'btrfs_get_or_create_delayed_node', api: '__xa_store',
      literal: 'GFP_ATOMIC', effective: ['GFP_ATOMIC'], held: ['&btrfs_root->delayed_nodes.xa_lock'], atomic: true, scopes: [],
      paths: [{ effective: 'GFP_ATOMIC', count: 1 }],
    }],
    // fs/btrfs/delayed-inode.c:137 `node = kmem_cache_zalloc(delayed_node_cache, GFP_NOFS);`: no scope, no lock;
    // the literal stays NOFS, kmem_cache_zalloc adds __GFP_ZERO.
    [siteAt(c, 'fs/btrfs/delayed-inode.c', 137, 'kmem_cache_zalloc'), {
      file: 'fs/btrfs/delayed-inode.c', line: 137, column: 9, function: 'btrfs_get_or_create_delayed_node', api: 'kmem_cache_zalloc',
      literal: 'GFP_NOFS', effective: ['GFP_NOFS|__GFP_ZERO'], held: [], atomic: false, scopes: [],
      paths: [{ effective: 'GFP_NOFS|__GFP_ZERO', count: 1 }],
    }],
    // fs/btrfs/ctree.c:3951 `buf = kmalloc(item_size, GFP_NOFS);` in split_item: a plain GFP_NOFS that stays so.
    [siteAt(c, 'fs/btrfs/ctree.c', 3951, 'kmalloc'), {
      file: 'fs/btrfs/ctree.c', line: 3951, column: 8, function: 'split_item', api: 'kmalloc',
      literal: 'GFP_NOFS', effective: ['GFP_NOFS'], held: [], atomic: false, scopes: [], paths: [{ effective: 'GFP_NOFS', count: 1 }],
    }],
    // fs/btrfs/sysfs.c:1727 `nofs_flag = memalloc_nofs_save();`, 1729 `rkobj = kzalloc(sizeof(*rkobj), GFP_NOFS);`.
    [siteAt(c, 'fs/btrfs/sysfs.c', 1729, 'kzalloc'), {
      file: 'fs/btrfs/sysfs.c', line: 1729, column: 10, function: 'btrfs_sysfs_add_block_group_type', api: 'kzalloc',
      literal: 'GFP_NOFS', effective: ['GFP_NOFS|__GFP_ZERO'], held: [], atomic: false, scopes: [scope('memalloc_nofs_save', 1727)],
      paths: [{ effective: 'GFP_NOFS|__GFP_ZERO', count: 1 }],
    }],
    // fs/jbd2/transaction.c:316 start_this_handle(…, gfp_t gfp_mask); 353 `if ((gfp_mask & __GFP_FS) == 0)` 354
    // `gfp_mask |= __GFP_NOFAIL;` 355 `new_transaction = kmem_cache_zalloc(transaction_cache, gfp_mask);`: the
    // caller's mask, symbolic, with and without the added __GFP_NOFAIL.
    [siteAt(c, 'fs/jbd2/transaction.c', 355, 'kmem_cache_zalloc'), {
      file: 'fs/jbd2/transaction.c', line: 355, column: 21, function: 'start_this_handle', api: 'kmem_cache_zalloc',
      literal: 'gfp_mask', effective: ['gfp_mask | __GFP_ZERO', 'gfp_mask | __GFP_ZERO | __GFP_NOFAIL'], held: [], atomic: false, scopes: [],
      // FIXME(#2): 2 paths each (`if (handle->h_rsv_handle)` at 324 splits them), see PATH COUNTS.
      paths: [{ effective: 'gfp_mask | __GFP_ZERO', count: 1 }, { effective: 'gfp_mask | __GFP_ZERO | __GFP_NOFAIL', count: 1 }],
    }],
    // fs/jbd2/journal.c:2802 `void *jbd2_alloc(size_t size, gfp_t flags)`, 2809 `ptr = kmem_cache_alloc(get_slab(size),
    // flags);`: the parameter, as is.
    [siteAt(c, 'fs/jbd2/journal.c', 2809, 'kmem_cache_alloc'), {
      file: 'fs/jbd2/journal.c', line: 2809, column: 9, function: 'jbd2_alloc', api: 'kmem_cache_alloc',
      literal: 'flags', effective: ['flags'], held: [], atomic: false, scopes: [], paths: [{ effective: 'flags', count: 1 }],
    }],
    // fs/xfs/scrub/quotacheck.c:255 `mutex_lock(&xqc->lock);` (struct xqcheck *xqc), 264 rhashtable_insert_fast()
    // (GFP_ATOMIC inside, rhashtable.h): a sleeping lock is held, the context is not atomic. 15 paths: five case
    // labels reach the `break` of the first switch (222-227), three that of the second (233-245).
    [siteAt(c, 'fs/xfs/scrub/quotacheck.c', 264, 'rhashtable_insert_fast'), {
      file: 'fs/xfs/scrub/quotacheck.c', line: 264, column: 11, function: 'xqcheck_mod_live_ino_dqtrx', api: 'rhashtable_insert_fast',
      literal: 'GFP_ATOMIC', effective: ['GFP_ATOMIC'], held: ['&xqcheck->lock'], atomic: false, scopes: [],
      paths: [{ effective: 'GFP_ATOMIC', count: 15 }],
    }],
    // mm/filemap.c:2476 `folio = filemap_alloc_folio(mapping_gfp_mask(mapping), min_order);`: the mapping's mask.
    [siteAt(c, 'mm/filemap.c', 2476, 'filemap_alloc_folio'), {
      file: 'mm/filemap.c', line: 2476, column: 10, function: 'filemap_create_folio', api: 'filemap_alloc_folio',
      literal: 'mapping_gfp_mask(mapping)', effective: ['mapping_gfp_mask(mapping)'], held: [], atomic: false, scopes: [],
      paths: [{ effective: 'mapping_gfp_mask(mapping)', count: 1 }],
    }],
    // mm/filemap.c:2493 `filemap_invalidate_lock_shared(mapping);` (down_read(&mapping->invalidate_lock)), 2495
    // `filemap_add_folio(mapping, folio, index, mapping_gfp_constraint(mapping, GFP_KERNEL))`.
    // The mapping's mask AND GFP_KERNEL (mapping_gfp_constraint(mapping, GFP_KERNEL)), in kernel notation.
    [siteAt(c, 'mm/filemap.c', 2495, 'filemap_add_folio'), {
      file: 'mm/filemap.c', line: 2495, column: 10, function: 'filemap_create_folio', api: 'filemap_add_folio',
      literal: MAPPING_AND_GFP_KERNEL, effective: [MAPPING_AND_GFP_KERNEL], held: ['&address_space->invalidate_lock'], atomic: false,
      scopes: [], paths: [{ effective: MAPPING_AND_GFP_KERNEL, count: 1 }],
    }],
    // mm/readahead.c:733 `gfp_t gfp_mask = readahead_gfp_mask(mapping);` (mapping mask | __GFP_NORETRY |
    // __GFP_NOWARN, include/linux/pagemap.h), 752 `folio = filemap_alloc_folio(gfp_mask, min_order);`: a gfp_t local
    // followed from its initialiser.
    [siteAt(c, 'mm/readahead.c', 752, 'filemap_alloc_folio'), {
      file: 'mm/readahead.c', line: 752, column: 11, function: 'readahead_expand', api: 'filemap_alloc_folio',
      literal: 'mapping_gfp_mask(mapping) | __GFP_NOWARN | __GFP_NORETRY', effective: ['mapping_gfp_mask(mapping) | __GFP_NOWARN | __GFP_NORETRY'],
      held: [], atomic: false, scopes: [], paths: [{ effective: 'mapping_gfp_mask(mapping) | __GFP_NOWARN | __GFP_NORETRY', count: 1 }],
    }],
    // fs/xfs/xfs_inode_item.c:49 `dip = kzalloc(mp->m_sb.sb_inodesize, GFP_KERNEL | GFP_NOFS);`: OR keeps __GFP_FS,
    // the value is GFP_KERNEL (see the gfp-or-ineffective finding).
    [siteAt(c, 'fs/xfs/xfs_inode_item.c', 49, 'kzalloc'), {
      file: 'fs/xfs/xfs_inode_item.c', line: 49, column: 8, function: 'xfs_inode_item_precommit_check', api: 'kzalloc',
      literal: 'GFP_KERNEL', effective: ['GFP_KERNEL|__GFP_ZERO'], held: [], atomic: false, scopes: [],
      paths: [{ effective: 'GFP_KERNEL|__GFP_ZERO', count: 1 }],
    }],
  ];
  assert.ok(facts.length >= 10);
  for (const [actual, expected] of facts) assert.deepEqual(actual, expected, `${expected.file}:${expected.line}`);
});

// Every finding over fs/xfs, fs/ext4, fs/btrfs, fs/jbd2 and mm, judged by reading the code.
const FINDINGS: string[] = [
  // TRUE. `GFP_KERNEL | GFP_NOFS` is GFP_KERNEL; the author meant NOFS (DEBUG_EXPENSIVE precommit check).
  'warning gfp-or-ineffective fs/xfs/xfs_inode_item.c:49 xfs_inode_item_precommit_check',
  // TRUE (hint). kvmalloc(value_len, GFP_NOFS) at 1545 and kvmalloc(value_size, GFP_NOFS) at 2640: honoured
  // since 5.17; the WARN_ON_ONCE at 1542 even checks that PF_MEMALLOC_NOFS is set under a running handle.
  'hint vmalloc-nofs fs/ext4/xattr.c:1545 ext4_xattr_inode_cache_find',
  'hint vmalloc-nofs fs/ext4/xattr.c:2640 ext4_xattr_move_to_block',
  // FALSE POSITIVE FIXME(#3). 2102 spin_lock(&locked_ref->lock), then btrfs_run_delayed_refs_for_head() (which
  // unlocks on its -EAGAIN return, 1991) or cleanup_ref_head() (which unlocks head->lock at 1912 before returning 1
  // and at 1917 before returning 0): at `again:` (2131) the lock is free before cond_resched() at 2133. The callees'
  // releases are invisible per function; the lock-effect summaries of #3 (a callee that releases a lock it did not
  // take releases the caller's) remove it.
  'error sleep-in-atomic fs/btrfs/extent-tree.c:2133 __btrfs_run_delayed_refs',
  // TRUE, a kernel bug in 6.12.117. 1727 memalloc_nofs_save(); 1750-1753: when space_info->block_group_kobjs[index]
  // is already set, `spin_unlock(); kobject_put(&rkobj->kobj); return;` leaves without memalloc_nofs_restore()
  // (the other exits restore at 1731 and 1761): the caller keeps running with PF_MEMALLOC_NOFS.
  'warning scope-unbalanced fs/btrfs/sysfs.c:1727 btrfs_sysfs_add_block_group_type',
  // TRUE. kzalloc(…, GFP_NOFS) at 1729, two lines after the unconditional memalloc_nofs_save() at 1727.
  'information nofs-redundant fs/btrfs/sysfs.c:1729 btrfs_sysfs_add_block_group_type',
  // TRUE as a note. 183 `memalloc_nofs_save();` with the cookie discarded on purpose (comment 177-182): the journal
  // thread runs NOFS for its whole life; a discarded cookie is reported as information, not as a leak.
  'information scope-unbalanced fs/jbd2/journal.c:183 kjournald2',
];
// Fixed since the first classification, and guarded by the exact list above:
// - nofs-redundant at fs/ext4/extents.c:2963 and fs/ext4/inline.c:2015: ext4_journal_start*() opens no NOFS scope
//   without a journal (ext4_get_nojournal(), fs/ext4/ext4_jbd2.c:111); the entries are now `conditional`.
// - sleep-in-atomic fs/jbd2/transaction.c:384: the sparse marker `__release(&journal->j_state_lock)` at 412 is
//   now a release (locks.json: __acquire/__release).
// - sleep-in-atomic mm/memory.c:1196: pte_unmap_unlock() now releases its ptl (locks.json).
// - scope-unbalanced in mm/filemap.c:2550/2554, mm/kasan/shadow.c:380-390 and mm/vmalloc.c:3768-3782, and
//   sleep-in-atomic mm/workingset.c:779: branches on the same side-effect-free condition (`x & FLAG`, `==`, `!=`)
//   are now correlated.


test('findings: exactly the known set, each one judged true or false by reading the code', async (t) => {
  const c = await corpus();
  const got = c.findings.map((f) => `${f.severity} ${f.code} ${f.file}:${f.line} ${f.function}`);
  for (const f of c.findings) t.diagnostic(`${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.code}]`);
  assert.deepEqual([...got].sort(), [...FINDINGS].sort());
});

test('functions whose body has a syntax error: at most 1% of those analysed', async (t) => {
  const c = await corpus();
  const report: Record<string, string> = {};
  let bad = 0;
  for (const dir of DIRS) {
    const fns = c.functions.filter((f) => under(dir)(f.file));
    const withError = fns.filter((f) => f.hasError);
    bad += withError.length;
    report[dir] = `${withError.length}/${fns.length}`;
  }
  t.diagnostic(`hasError: ${JSON.stringify(report)}, total ${bad}/${c.functions.length} (${(100 * bad / c.functions.length).toFixed(2)}%)`);
  assert.ok(bad / c.functions.length <= 0.01, `${bad} of ${c.functions.length} functions have an ERROR node: ${c.functions.filter((f) => f.hasError).slice(0, 20).map((f) => `${f.file}:${f.name}`).join(', ')}`);
  // A known one, to show the measurement sees them: fs/xfs/xfs_icache.c xfs_reclaim_inodes_nr.
  assert.ok(c.functions.some((f) => f.file === 'fs/xfs/xfs_icache.c' && f.name === 'xfs_reclaim_inodes_nr' && f.hasError));
});
