#!/usr/bin/env bash
# Packages the extension as a VSIX from the production esbuild bundle, with @vscode/vsce 3.9.2 (the last line that
# runs on Node 20) from the e2e package's node_modules, then checks what went in: every file must match the
# allow-list below, the files the extension cannot run without must be there, and the VSIX must stay under a size
# budget. Prints the contents and the size.
#
# Usage: bash scripts/package-vsix.sh [--out FILE]      (default: reclaim-lens-<version>.vsix in the repo root)
# Needs: the root node_modules (npm ci) for esbuild; installs test/e2e's node_modules when vsce is missing.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."

# A VSIX is a zip of the manifest and extension/...; vsce renames README.md to readme.md and LICENSE to LICENSE.txt.
ALLOWED=(
  '[Content_Types].xml'
  'extension.vsixmanifest'
  'extension/package.json'
  'extension/readme.md'
  'extension/changelog.md'
  'extension/LICENSE.txt'
  'extension/dist/client.js'
  'extension/dist/server.js'
  'extension/dist/worker.js'
  'extension/dist/webview.js'
  'extension/dist/tree-sitter.wasm'
  'extension/dist/tree-sitter-c.wasm'
  'extension/syntaxes/*.tmLanguage.json'
  'extension/docs/checks/*.md'
  'extension/docs/images/*.png'
  'extension/images/*.png'
  'extension/icons/*.png'
)
REQUIRED=(
  extension/package.json extension/readme.md extension/LICENSE.txt
  extension/dist/client.js extension/dist/server.js extension/dist/tree-sitter.wasm extension/dist/tree-sitter-c.wasm
  extension/syntaxes/rlsim.tmLanguage.json
)
# Measured 2026-11: 0.79 MiB, of which the bundles and wasm are ~0.48 MiB compressed and the README's two pictures
# ~0.3 MiB. Much more than that means something is packed that should not be.
MAX_BYTES=$((2 * 1024 * 1024))

version=$(node -p "require('./package.json').version")
name=$(node -p "require('./package.json').name")
out="$PWD/$name-$version.vsix"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$(cd "$caller" && realpath -m "$2"); shift 2 ;;
    *) echo "package-vsix: unknown argument $1" >&2; exit 2 ;;
  esac
done

vsce=test/e2e/node_modules/.bin/vsce
if [ ! -x "$vsce" ]; then bash test/e2e/install.sh; fi
[ -d node_modules/esbuild ] || { echo "package-vsix: run npm ci in the repo root first (esbuild is missing)" >&2; exit 2; }

mkdir -p "$(dirname "$out")"
node esbuild.mjs --production

# vsce walks every file below its folder before it applies .vscodeignore, which takes ~25 s here with .cache/ (the
# kernel sources) and test/e2e/node_modules. So it runs in a staging copy of what git knows (tracked and untracked,
# not ignored) plus dist/: .vscodeignore still decides what goes in among all of those.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  { git ls-files -z -co --exclude-standard; find dist -type f -print0; } | while IFS= read -r -d '' f; do
    if [ -f "$f" ]; then cp --parents -- "$f" "$stage"; fi # a deleted file git still tracks is skipped
  done
else
  tar cf - --exclude=./node_modules --exclude=./.cache --exclude=./test/e2e/node_modules --exclude=./.git . | tar xf - -C "$stage"
fi
# The bundles carry their dependencies, so vsce must not walk node_modules (--no-dependencies). The package has no
# repository field, and README's relative links point into the VSIX itself (VS Code resolves them against the
# installed extension), so they are left as they are.
(cd "$stage" && "$OLDPWD/$vsce" package --no-dependencies --allow-missing-repository --no-rewrite-relative-links --out "$out" >/dev/null)

# The names in the zip's central directory (Node only: unzip is not on every machine).
mapfile -t files < <(node -e '
  const b = require("node:fs").readFileSync(process.argv[1]);
  let eocd = b.length - 22;
  while (eocd >= 0 && b.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) { console.error("package-vsix: not a zip file"); process.exit(1); }
  let p = b.readUInt32LE(eocd + 16);
  for (let i = b.readUInt16LE(eocd + 10); i > 0; i--) {
    const len = b.readUInt16LE(p + 28), extra = b.readUInt16LE(p + 30), comment = b.readUInt16LE(p + 32);
    console.log(b.toString("utf8", p + 46, p + 46 + len));
    p += 46 + len + extra + comment;
  }' "$out")

bad=0
echo "VSIX $out"
for f in "${files[@]}"; do
  [[ "$f" == */ ]] && continue
  ok=0
  for pattern in "${ALLOWED[@]}"; do
    # shellcheck disable=SC2053 # glob match on purpose; * must not cross a slash
    if [[ "$f" == "$pattern" ]] || { [[ "$f" == $pattern ]] && [[ "${f//[^\/]/}" == "${pattern//[^\/]/}" ]]; }; then
      ok=1
      break
    fi
  done
  if [ $ok -eq 1 ]; then echo "  $f"; else echo "  $f   <-- not on the allow-list"; bad=1; fi
done
for f in "${REQUIRED[@]}"; do
  printf '%s\n' "${files[@]}" | grep -qxF "$f" || { echo "  $f   <-- required, missing"; bad=1; }
done
size=$(stat -c %s "$out")
echo "size: $size bytes ($(node -p "($size / 1024 / 1024).toFixed(2)") MiB), ${#files[@]} files; budget $MAX_BYTES bytes"
if [ "$size" -gt "$MAX_BYTES" ]; then echo "  the VSIX is larger than the budget"; bad=1; fi
if [ $bad -ne 0 ]; then echo "package-vsix: FAILED (see above; what goes in is set by .vscodeignore)" >&2; exit 1; fi
