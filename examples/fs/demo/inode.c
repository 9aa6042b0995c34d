// SPDX-License-Identifier: GPL-2.0
/*
 * demo filesystem: inode helpers (example for Reclaim Lens; not real kernel code).
 */
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>

struct demo_inode_info {
	spinlock_t		lock;
	struct mutex		xattr_mutex;
	struct rw_semaphore	truncate_sem;
	struct list_head	extents;
	struct inode		vfs_inode;
};

struct demo_extent {
	struct list_head	list;
	u64			start, len;
};

/* Bug: GFP_KERNEL under a spinlock (sleep-in-atomic). */
static int demo_add_extent(struct demo_inode_info *di, u64 start, u64 len)
{
	struct demo_extent *ext;

	spin_lock(&di->lock);
	ext = kmalloc(sizeof(*ext), GFP_KERNEL);
	if (!ext) {
		spin_unlock(&di->lock);
		return -ENOMEM;
	}
	ext->start = start;
	ext->len = len;
	list_add_tail(&ext->list, &di->extents);
	spin_unlock(&di->lock);
	return 0;
}

/* Right: the scope makes every allocation in the critical section NOFS, including the helper's. */
static int demo_set_xattr(struct demo_inode_info *di, const char *name, const void *value, size_t size)
{
	unsigned int nofs_flags;
	void *copy;
	int ret = 0;

	mutex_lock(&di->xattr_mutex);
	nofs_flags = memalloc_nofs_save();
	copy = kmemdup(value, size, GFP_KERNEL);
	if (!copy) {
		ret = -ENOMEM;
		goto out;
	}
	kfree(copy);
out:
	memalloc_nofs_restore(nofs_flags);
	mutex_unlock(&di->xattr_mutex);
	return ret;
}

/* Bug: the error path leaks the NOFS scope (scope-unbalanced). */
static int demo_truncate(struct demo_inode_info *di, loff_t size)
{
	unsigned int nofs_flags;
	void *buf;

	down_write(&di->truncate_sem);
	nofs_flags = memalloc_nofs_save();
	buf = kzalloc(PAGE_SIZE, GFP_NOFS);
	if (!buf) {
		up_write(&di->truncate_sem);
		return -ENOMEM;
	}
	kfree(buf);
	memalloc_nofs_restore(nofs_flags);
	up_write(&di->truncate_sem);
	return 0;
}

/* Bug: OR cannot remove __GFP_FS (gfp-or-ineffective). */
static void *demo_alloc_buffer(size_t len)
{
	return kvmalloc(len, GFP_KERNEL | GFP_NOFS);
}
