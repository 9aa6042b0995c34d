// SPDX-License-Identifier: GPL-2.0
/*
 * demo filesystem: journal helpers (example for Reclaim Lens; not real kernel code).
 */
#include <linux/jbd2.h>
#include <linux/slab.h>

struct demo_journal {
	journal_t		*journal;
	struct mutex		commit_mutex;
	struct idr		tids;
	spinlock_t		tid_lock;
};

/* Inside a jbd2 handle: GFP_NOFS is already implied by the handle's scope (nofs-redundant). */
static int demo_log_update(struct demo_journal *j, const void *data, size_t len)
{
	handle_t *handle;
	void *rec;

	handle = jbd2_journal_start(j->journal, 1);
	if (IS_ERR(handle))
		return PTR_ERR(handle);
	rec = kmalloc(len, GFP_NOFS);
	if (rec) {
		memcpy(rec, data, len);
		kfree(rec);
	}
	jbd2_journal_stop(handle);
	return rec ? 0 : -ENOMEM;
}

/* The preload idiom: allocate before the spinlock, then GFP_NOWAIT under it. */
static int demo_new_tid(struct demo_journal *j, void *owner)
{
	int id;

	idr_preload(GFP_KERNEL);
	spin_lock(&j->tid_lock);
	id = idr_alloc(&j->tids, owner, 1, 0, GFP_NOWAIT);
	spin_unlock(&j->tid_lock);
	idr_preload_end();
	return id;
}

/* Bug: __GFP_NOFAIL without direct reclaim (nofail-without-reclaim). */
static void *demo_emergency(size_t len)
{
	return kmalloc(len, GFP_ATOMIC | __GFP_NOFAIL);
}
