import { initParser } from './server/src/syntax/parser';
import { parseSource } from './server/src/syntax/sourceFile';
import { listFunctions, declsOf } from './server/src/syntax/ast';
(async () => {
  const p = await initParser();
  const sf = parseSource(p, `static void *local_paths(size_t n, bool atomic)
{
	gfp_t gfp = GFP_KERNEL;
	return kmalloc(n, gfp);
}`);
  const fn = listFunctions(sf)[0];
  const n = fn.body.descendantForIndex(fn.body.startIndex + 9, fn.body.startIndex + 12)!;
  console.log(n.type, n.text, n.parent!.type, n.parent!.parent!.type);
  console.log(declsOf(n.parent!.parent!).map((d) => [d.name, d.typeText, d.pointerDepth]));
})();
