#!/usr/bin/env bash
# Runs before `npm test`: build the bundles (the LSP and CLI tests start them), type-check everything, and extract
# the kernel subsets the corpus tests read when Debian's tarballs are installed (instant when already extracted).
# Without the tarballs the corpus tests fail with a message saying what to install; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
node esbuild.mjs
npx --no-install tsc --noEmit -p .
if ls /usr/src/linux-source-6.12.tar.* >/dev/null 2>&1 && ls /usr/src/linux-source-6.1.tar.* >/dev/null 2>&1; then
  bash scripts/extract-kernel.sh
else
  echo "pretest: /usr/src/linux-source-6.12 / 6.1 tarballs not installed (apt-get install linux-source-6.12 linux-source-6.1); corpus tests will fail" >&2
fi
