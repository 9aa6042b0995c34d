// The one place that loads the tree-sitter runtime and the C grammar (versions pinned in server/parser.info).
// Parser.init() runs once per process; parse() never throws on user code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Language, Parser, type Tree } from 'web-tree-sitter';

let ready: Promise<Parser> | undefined;

/** The wasm beside the bundle (dist/), else in the package (tests run from source; exports hide the file). */
function locate(file: string, pkg: string): string {
  const beside = path.join(__dirname, file);
  if (fs.existsSync(beside)) return beside;
  for (let d = path.dirname(require.resolve(pkg)); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, file))) return path.join(d, file);
    if (path.dirname(d) === d) throw new Error(`cannot find ${file} of ${pkg}`);
  }
}

/** Initialise the runtime and the C language once; later calls share the same parser. */
export function initParser(): Promise<Parser> {
  ready ??= (async () => {
    const runtime = locate('tree-sitter.wasm', 'web-tree-sitter');
    await Parser.init({ locateFile: () => runtime });
    const lang = await Language.load(locate('tree-sitter-c.wasm', 'tree-sitter-c'));
    const parser = new Parser();
    parser.setLanguage(lang);
    return parser;
  })();
  return ready;
}

/** Parse already-initialised; callers must `tree.delete()` when done. */
export function parseWith(parser: Parser, text: string): Tree {
  const tree = parser.parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}
