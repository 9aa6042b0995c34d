import * as fs from 'node:fs';
import * as path from 'node:path';
import { initParser, parseWith } from './server/src/syntax/parser';
import { parseSource } from './server/src/syntax/sourceFile';
import { preprocessKernelC } from './server/src/syntax/kernelIdioms';
import { listFunctions } from './server/src/syntax/ast';
import { analyseFile } from './server/src/analysis/fileAnalysis';
import { createKbProvider } from './server/src/analysis/kbView';
const dir = process.argv[2];
const files: string[] = [];
const walk = (d: string) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (p.endsWith('.c')) files.push(p); } };
walk(dir);
const texts = files.map((f) => fs.readFileSync(f, 'latin1'));
(async () => {
  const parser = await initParser();
  const kb = createKbProvider().view('6.12');
  for (let round = 0; round < 2; round++) {
  let t = performance.now(); for (const x of texts) parseWith(parser, x).delete(); const raw = performance.now() - t;
  t = performance.now(); const pre = texts.map((x) => preprocessKernelC(x).text); const prep = performance.now() - t;
  t = performance.now(); for (const x of pre) parseWith(parser, x).delete(); const parsePre = performance.now() - t;
  let lf = 0, an = 0, sp = 0;
  for (const x of texts) {
    let t0 = performance.now(); const sf = parseSource(parser, x); sp += performance.now() - t0;
    t0 = performance.now(); listFunctions(sf); lf += performance.now() - t0;
    t0 = performance.now(); analyseFile(sf, kb, { kernelVersion: '6.12', disabledChecks: [] }); an += performance.now() - t0;
    sf.dispose();
  }
  console.log({ raw: raw|0, prep: prep|0, parsePre: parsePre|0, parseSource: sp|0, listFunctions: lf|0, analyseFile: an|0 });
  }
})();
