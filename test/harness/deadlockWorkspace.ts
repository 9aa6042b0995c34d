// A kernel-like workspace for the language-server tests of the whole-tree deadlock checks: files written below a
// temporary folder, and the gated shrinker the reclaim-deadlock cases take their lock from.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A shrinker whose scan takes demo_cache_lock, only with __GFP_FS. */
export const SHRINKER = `// A shrinker whose scan takes the cache lock, only with __GFP_FS.
DEFINE_MUTEX(demo_cache_lock);
static struct shrinker *demo_shrinker;

static unsigned long demo_scan(struct shrinker *s, struct shrink_control *sc)
{
	if (!(sc->gfp_mask & __GFP_FS))
		return SHRINK_STOP;
	mutex_lock(&demo_cache_lock);
	mutex_unlock(&demo_cache_lock);
	return 0;
}

int demo_init(void)
{
	demo_shrinker = shrinker_alloc(0, "demo");
	demo_shrinker->scan_objects = demo_scan;
	shrinker_register(demo_shrinker);
	return 0;
}
`;

/** Writes a file, creating its folders. */
export function write(file: string, text: string) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}
