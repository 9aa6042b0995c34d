#!/usr/bin/env node
// The CLI entry installed as `reclaim-lens`; the bundle is built by `npm ci` (prepare) or `npm run build`.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('reclaim-lens: dist/cli.js is missing; run `npm run build` in ' + path.join(__dirname, '..') + '\n');
  process.exit(2);
}
const { main, processIo } = require(cli);
main(process.argv.slice(2), processIo())
  .then((code) => { process.exitCode = code; });
