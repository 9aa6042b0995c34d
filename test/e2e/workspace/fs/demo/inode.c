// SPDX-License-Identifier: GPL-2.0
/*
 * demo filesystem: inode helpers. The end-to-end test's workspace (not real kernel code):
 * a NOFS-scoped allocation, a sleeping allocation under a spinlock, an OR that cannot narrow.
 */
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>

struct demo_inode_info {
	spinlock_t		lock;
	struct mutex		xattr_mutex;
	struct list_head	extents;
};

struct demo_extent {
	struct list_head	list;
	u64			start, len;
};

/* Right: the scope makes the allocation NOFS although it asks for GFP_KERNEL. */
static void *demo_copy_xattr(struct demo_inode_info *di, const void *value, size_t size)
{
	unsigned int nofs_flags;
	void *copy;

	mutex_lock(&di->xattr_mutex);
	nofs_flags = memalloc_nofs_save();
	copy = kmemdup(value, size, GFP_KERNEL);
	memalloc_nofs_restore(nofs_flags);
	mutex_unlock(&di->xattr_mutex);
	return copy;
}

/* Bug: GFP_KERNEL may sleep, but a spinlock is held (sleep-in-atomic). */
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

/* Bug: OR cannot remove __GFP_FS (gfp-or-ineffective). */
static void *demo_alloc_buffer(size_t len)
{
	return kvmalloc(len, GFP_KERNEL | GFP_NOFS);
}
