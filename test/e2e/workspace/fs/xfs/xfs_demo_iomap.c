// SPDX-License-Identifier: GPL-2.0
/*
 * The end-to-end test's workspace (not real kernel code): the shape of syzbot's "possible deadlock in
 * xfs_buffered_write_iomap_begin". models/xfs-ilock-super-cache-scan.rlsim is its model.
 */
#include <linux/slab.h>
#include "xfs_inode.h"

/*
 * Bug (reclaim-deadlock; fs/ is not indexed here): GFP_KERNEL may enter direct reclaim under the ILOCK, and the
 * superblock shrinker's inode reclaim takes an ILOCK of the same class.
 */
static void *xfs_demo_fill_dirty_folios(struct xfs_inode *ip, size_t n)
{
	void *map;

	xfs_ilock(ip, XFS_ILOCK_EXCL);
	map = kmalloc(n, GFP_KERNEL);
	xfs_iunlock(ip, XFS_ILOCK_EXCL);
	return map;
}
