// SPDX-License-Identifier: GPL-2.0
/*
 * The end-to-end test's workspace (not real kernel code): a page fault on a user buffer that is an mmap of the
 * same file runs the file's ->page_mkwrite, which takes the mapping's invalidate_lock; an ioctl that copies to
 * user memory under that lock deadlocks on itself (gfs2's "mmap + page fault deadlocks").
 */
static vm_fault_t demofs_page_mkwrite(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	struct address_space *mapping = inode->i_mapping;

	sb_start_pagefault(inode->i_sb);
	filemap_invalidate_lock_shared(mapping);
	folio_mark_dirty(page_folio(vmf->page));
	filemap_invalidate_unlock_shared(mapping);
	sb_end_pagefault(inode->i_sb);
	return VM_FAULT_LOCKED;
}

static const struct vm_operations_struct demofs_file_vm_ops = {
	.fault		= filemap_fault,
	.page_mkwrite	= demofs_page_mkwrite,
};

static long demofs_ioc_getmap(struct file *file, void __user *arg, void *buf, size_t len)
{
	struct inode *inode = file_inode(file);
	struct address_space *mapping = inode->i_mapping;
	long ret = 0;

	filemap_invalidate_lock(mapping);
	if (copy_to_user(arg, buf, len))
		ret = -EFAULT;
	filemap_invalidate_unlock(mapping);
	return ret;
}
