// The long fuzz of the language server (issue #8): seeded, reproducible, over LSP (test/harness/lspFuzz.ts).
//
//   npm run fuzz -- [--seed N] [--edits N] [--files a.c,b.c ...] [--no-hostile] [--hostile-edits N] [--huge-mb N]
//                   [--depth N] [--chain-chars N] [--word-chars N] [--timeout-ms N] [--rss-mb N]
//
// --chain-chars: the longest operator chain (`a+a+…`) an edit pastes (default 4000; longer ones meet tree-sitter's
// quadratic error recovery, see "Tree-sitter limits" in test/harness/lspFuzz.ts); --word-chars: the longest
// identifier (default 4000; 150000 meets the analysis bugs under "Analysis limits" there).
// --edits is per file (default 3000); --files are relative to .cache/kernel/6.12 or absolute (default: a handful
// of large fs/ and mm/ files; the largest test/fixtures files when the tree is not extracted). Without --seed a
// random seed is chosen and printed: rerun with it to reproduce a failure. Prints the totals; exits 1 on failures.
// Needs a current dist/ (npm run build).
import * as fs from 'node:fs';
import { DEFAULT_FILES, runFuzz } from '../test/harness/lspFuzz';
import { SERVER_JS } from '../test/harness/lspClient';

function usage(msg: string): never {
  process.stderr.write(`fuzz: ${msg}\nusage: npm run fuzz -- [--seed N] [--edits N] [--files a.c,b.c ...] [--no-hostile] [--hostile-edits N] [--huge-mb N] [--depth N] [--chain-chars N] [--word-chars N] [--timeout-ms N] [--rss-mb N]\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let seed = Math.floor(Math.random() * 2 ** 31);
  let edits = 3000;
  let files: string[] = [];
  let hostile = true;
  let hugeMB = 20;
  let depth = 10_000;
  let hostileEdits = 20;
  let chainChars = 4000;
  let wordChars = 4000;
  let timeoutMs = 5000;
  let rssMB = 1536;
  const num = (i: number) => {
    const v = Number(args[i + 1]);
    if (args[i + 1] === undefined || !Number.isFinite(v) || v < 0) usage(`${args[i]} needs a non-negative number`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case '--seed': seed = num(i++) >>> 0; break;
      case '--edits': edits = Math.floor(num(i++)); break;
      case '--huge-mb': hugeMB = num(i++); break;
      case '--depth': depth = Math.floor(num(i++)); break;
      case '--hostile-edits': hostileEdits = Math.floor(num(i++)); break;
      case '--chain-chars': chainChars = Math.floor(num(i++)); break;
      case '--word-chars': wordChars = Math.floor(num(i++)); break;
      case '--timeout-ms': timeoutMs = num(i++); break;
      case '--rss-mb': rssMB = num(i++); break;
      case '--no-hostile': hostile = false; break;
      case '--files':
        while (args[i + 1] !== undefined && !args[i + 1].startsWith('--')) files.push(...args[++i].split(',').filter(Boolean));
        if (!files.length) usage('--files needs file names');
        break;
      case '-h': case '--help': usage('the long fuzz of the language server');
      default: usage(`unknown option ${a}`);
    }
  }
  if (!fs.existsSync(SERVER_JS)) usage(`${SERVER_JS} is missing: run npm run build`);
  if (!files.length) files = DEFAULT_FILES;
  console.log(`fuzz: seed ${seed}, ${edits} edits per file (rerun: npm run fuzz -- --seed ${seed} --edits ${edits}${files === DEFAULT_FILES ? '' : ` --files ${files.join(',')}`})`);
  const { failures } = await runFuzz({
    seed, editsPerFile: edits, files, hostile, hugeMB, nestDepth: depth, hostileEdits, maxChainChars: chainChars, maxWordChars: wordChars, requestTimeoutMs: timeoutMs, rssLimitMB: rssMB,
    log: (l) => console.log(l),
  });
  if (failures.length) {
    console.log(`\n${failures.length} failure${failures.length === 1 ? '' : 's'}:`);
    for (const f of failures.slice(0, 50)) console.log(`  ${f}`);
    if (failures.length > 50) console.log(`  … and ${failures.length - 50} more`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
