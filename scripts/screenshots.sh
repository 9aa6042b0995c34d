#!/usr/bin/env bash
# Regenerates the README's pictures (docs/images/*.png) from a real run of the extension: the e2e test
# (test/e2e/run.sh) installs the packaged VSIX into code-server and, while it checks the features, saves the
# pictures the README shows to test-artifacts/e2e/readme/. This copies them over docs/images/ when every step passed.
#
# Usage: bash scripts/screenshots.sh        (needs what test/e2e/run.sh needs; about 30 s once installed)
set -euo pipefail
cd "$(dirname "$0")/.."

bash test/e2e/run.sh
shopt -s nullglob
shots=(test-artifacts/e2e/readme/*.png)
if [ ${#shots[@]} -eq 0 ]; then
  echo "screenshots: the e2e run saved no README pictures" >&2
  exit 1
fi
mkdir -p docs/images
# Pictures the run no longer makes would go stale: start from an empty folder.
rm -f docs/images/*.png
cp "${shots[@]}" docs/images/
for f in docs/images/*.png; do
  echo "screenshots: $f ($(stat -c %s "$f") bytes)"
done
