import * as fs from 'node:fs';
import * as path from 'node:path';
import { initParser } from './server/src/syntax/parser';
import { parseSource } from './server/src/syntax/sourceFile';
import { listFunctions } from './server/src/syntax/ast';
import { analyseFunction, calleeEffectsOf } from './server/src/analysis/functionAnalysis';
import { buildCfg } from './server/src/analysis/cfg';
import { CHECKS } from './server/src/analysis/checks';
import { createKbProvider } from './server/src/analysis/kbView';
const files: string[] = [];
const walk = (d: string) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (p.endsWith('.c')) files.push(p); } };
walk(process.argv[2]);
const texts = files.map((f) => fs.readFileSync(f, 'latin1'));
(async () => {
  const parser = await initParser();
  const kb = createKbProvider().view('6.12');
  for (let round = 0; round < 2; round++) {
    let fnT = 0, cfgFull = 0, chk = 0, nf = 0, nrel = 0, lf = 0;
    for (const x of texts) {
      const sf = parseSource(parser, x);
      let t0 = performance.now(); const fns = listFunctions(sf); const callees = calleeEffectsOf(fns, sf); lf += performance.now() - t0;
      for (const fn of fns) {
        nf++;
        t0 = performance.now(); const run = analyseFunction(fn, sf, kb, callees); fnT += performance.now() - t0;
        if (run.cfg.blocks.length) nrel++;
        t0 = performance.now(); for (const c of CHECKS) c.run(run, { kernelVersion: '6.12' }); chk += performance.now() - t0;
        if (round === 1 && run.cfg.blocks.length) { t0 = performance.now(); buildCfg(fn.body, { scopedGuard: () => undefined }); cfgFull += performance.now() - t0; }
      }
      sf.dispose();
    }
    console.log({ functions: nf, relevant: nrel, listFunctions: lf | 0, analyseFunction: fnT | 0, checks: chk | 0, cfgWithoutOpacity: cfgFull | 0 });
  }
})();
