// SPDX-License-Identifier: GPL-2.0
/*
 * The end-to-end test's workspace (not real kernel code), as examples/fs/demo/cache.c: a cache with a shrinker,
 * and an insert path that allocates under the cache lock. Reclaim runs the shrinker, which takes demo_cache_lock:
 * GFP_KERNEL under that lock is the cycle demo_cache_lock -> fs_reclaim -> demo_cache_lock (reclaim-deadlock).
 */
static DEFINE_MUTEX(demo_cache_lock);
static struct shrinker *demo_shrinker;

static unsigned long demo_cache_scan(struct shrinker *s, struct shrink_control *sc)
{
	unsigned long freed;

	mutex_lock(&demo_cache_lock);
	freed = demo_cache_prune(sc->nr_to_scan);
	mutex_unlock(&demo_cache_lock);
	return freed;
}

int demo_cache_init(void)
{
	demo_shrinker = shrinker_alloc(0, "demo-cache");
	if (!demo_shrinker)
		return -ENOMEM;
	demo_shrinker->scan_objects = demo_cache_scan;
	shrinker_register(demo_shrinker);
	return 0;
}

struct demo_entry *demo_cache_insert(u64 key)
{
	struct demo_entry *e;

	mutex_lock(&demo_cache_lock);
	e = kmalloc(sizeof(*e), GFP_KERNEL);
	if (e)
		demo_cache_link(e, key);
	mutex_unlock(&demo_cache_lock);
	return e;
}
