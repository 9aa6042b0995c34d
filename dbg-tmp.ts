import { analyseText } from './test/harness/analyse';
(async () => {
  const a = await analyseText(`static void *local_paths(size_t n, bool atomic)
{
	gfp_t gfp = GFP_KERNEL;

	if (atomic)
		gfp = GFP_NOWAIT;
	return kmalloc(n, gfp);
}`);
  console.log(JSON.stringify(a.facts.functions[0].sites[0].paths.map(p => p.literal)));
})();
