#!/usr/bin/env bash
# The end-to-end test of Reclaim Lens in a real VS Code: packages the VSIX, installs it into code-server 4.100.3,
# drives the workbench in Debian's Chromium with playwright-core and checks every user-facing feature
# (test/e2e/e2e.test.mjs). Screenshots of each step go to test-artifacts/e2e/.
#
# Usage: bash test/e2e/run.sh            (from anywhere; `npm run test:e2e` in the repo root)
# Needs: Node 20, npm, and Debian's chromium ripgrep build-essential python3 pkg-config libkrb5-dev.
#
# Every process it starts runs in a process group of its own (setsid) and is stopped by group when the run ends,
# whether it passes, fails or is interrupted: code-server (with its extension hosts and the language servers),
# the test runner, and Chromium (which playwright starts in a group of its own; the test writes its id down).
set -euo pipefail
e2e=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$e2e/../.." && pwd)
cd "$root"

started=$(date +%s)
elapsed() { echo "$(($(date +%s) - started)) s"; }

artifacts="$root/test-artifacts/e2e"
rm -rf "$artifacts"
mkdir -p "$artifacts"
run=$(mktemp -d "${TMPDIR:-/tmp}/reclaim-lens-e2e.XXXXXX")
groups=()

stop_groups() {
  local pgid
  [ -f "$run/chromium.pgid" ] && groups+=("$(cat "$run/chromium.pgid")")
  for pgid in "${groups[@]}"; do kill -TERM -- "-$pgid" 2>/dev/null || true; done
  # Give them a moment to exit on TERM (code-server stops its extension hosts), then make sure.
  for _ in $(seq 1 50); do
    local alive=0
    for pgid in "${groups[@]}"; do kill -0 -- "-$pgid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pgid in "${groups[@]}"; do kill -KILL -- "-$pgid" 2>/dev/null || true; done
  groups=()
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_groups
  rm -rf "$run"
  echo "e2e: finished in $(elapsed) (exit $rc); screenshots and logs in ${artifacts#"$root"/}/"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for cmd in chromium rg; do
  command -v "$cmd" >/dev/null || { echo "e2e: $cmd is missing (apt-get install chromium ripgrep)" >&2; exit 2; }
done

# 1. Tooling and the VSIX: the same artefact a user installs.
bash "$e2e/install.sh"
[ -d "$root/node_modules/esbuild" ] || npm ci --no-audit --no-fund
bash "$root/scripts/package-vsix.sh" --out "$run/reclaim-lens.vsix" > "$artifacts/vsix.txt" || {
  cat "$artifacts/vsix.txt"; exit 1; }
tail -n 1 "$artifacts/vsix.txt"
echo "e2e: tooling and VSIX ready after $(elapsed)"

# 2. code-server with private folders (nothing lands in $HOME) and a copy of the workspace (steps may edit it).
code_server="$e2e/node_modules/.bin/code-server"
mkdir -p "$run/data/User" "$run/exts"
cp -r "$e2e/workspace" "$run/workspace"
# The reclaim-deadlock case of the workspace is the bundled example itself (the quick start checks the same file).
mkdir -p "$run/workspace/deadlocks/fs/demo"
cp "$e2e/../../examples/fs/demo/cache.c" "$run/workspace/deadlocks/fs/demo/demo_cache.c"
# A real finding too: fs/jffs2 of linux-source-6.12 (scripts/extract-kernel.sh), whose create_xattr_datum()
# allocates under c->xattr_sem, which jffs2_evict_inode() takes (docs/evaluation/real-cycles.md, B1).
jffs2="$root/.cache/kernel/6.12/fs/jffs2"
[ -d "$jffs2" ] || { echo "e2e: $jffs2 is missing: run scripts/extract-kernel.sh first" >&2; exit 1; }
mkdir -p "$run/workspace/deadlocks/fs"
cp -r "$jffs2" "$run/workspace/deadlocks/fs/jffs2"
# A real page-fault case: fs/ntfs3 of linux-source-6.1: ni_fiemap() copies to the user's buffer under ni_lock; a
# fault on a mapping of the same resident file reads it through ntfs_read_folio(), which takes ni_lock
# (docs/evaluation/real-cycles.md, G1).
ntfs3="$root/.cache/kernel/6.1/fs/ntfs3"
[ -d "$ntfs3" ] || { echo "e2e: $ntfs3 is missing: run scripts/extract-kernel.sh first" >&2; exit 1; }
cp -r "$ntfs3" "$run/workspace/deadlocks/fs/ntfs3"
cat > "$run/data/User/settings.json" <<'EOF'
{
  "workbench.startupEditor": "none",
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "workbench.tips.enabled": false,
  "workbench.colorTheme": "Default Dark Modern",
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "security.workspace.trust.enabled": false,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "update.mode": "none",
  "telemetry.telemetryLevel": "off",
  "chat.commandCenter.enabled": false,
  "editor.inlayHints.enabled": "on",
  "editor.minimap.enabled": false,
  "editor.fontSize": 14,
  "editor.hover.delay": 100,
  "editor.hover.above": false,
  "files.autoSave": "off",
  "files.hotExit": "off"
}
EOF
# "Simulate deadlock" (reclaimLens.simulateDeadlock) takes a model text: the deadlock findings' code action passes
# their generated model (the steps on workspace/deadlocks/); one step also reaches the command as a user could, with
# a hand-written model: a keybinding with the model as its argument.
node -e '
  const fs = require("node:fs");
  const text = fs.readFileSync(process.argv[1], "utf8");
  const bindings = [{ key: "ctrl+alt+shift+d", command: "reclaimLens.simulateDeadlock", args: text }];
  fs.writeFileSync(process.argv[2], JSON.stringify(bindings, null, 2));
' "$run/workspace/models/xfs-ilock-super-cache-scan.rlsim" "$run/data/User/keybindings.json"
: > "$run/config.yaml"
cs_args=(--config "$run/config.yaml" --user-data-dir "$run/data" --extensions-dir "$run/exts")
"$code_server" "${cs_args[@]}" --install-extension "$run/reclaim-lens.vsix" --force > "$artifacts/install-extension.log" 2>&1 || {
  cat "$artifacts/install-extension.log"; exit 1; }
installed=$("$code_server" "${cs_args[@]}" --list-extensions --show-versions 2>/dev/null)
echo "e2e: installed from the VSIX: $installed"
grep -qx 'reclaim-lens.reclaim-lens@[0-9.]*' <<<"$installed" || { echo "e2e: the VSIX did not install" >&2; exit 1; }

port=$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
setsid "$code_server" "${cs_args[@]}" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry \
  --disable-update-check --disable-workspace-trust --disable-getting-started-override --ignore-last-opened \
  > "$artifacts/code-server.log" 2>&1 &
groups+=($!)

# 3. The test (its own process group too), bounded as a whole: each step has its own timeout, and this one keeps
# a wedged browser from eating CI's budget. It waits for /healthz itself.
set +e
RL_E2E_URL="http://127.0.0.1:$port" RL_E2E_WORKSPACE="$run/workspace" RL_E2E_ARTIFACTS="$artifacts" \
  RL_E2E_RUN="$run" setsid timeout --kill-after=10s "${RL_E2E_TIMEOUT:-240}" \
  node --test --test-reporter=spec "$e2e/e2e.test.mjs" &
test_pid=$!
groups+=("$test_pid")
wait "$test_pid"
rc=$?
set -e
[ $rc -eq 124 ] && echo "e2e: the test did not finish within ${RL_E2E_TIMEOUT:-240} s" >&2
# The extension host's and the language server's logs, for a failed run.
find "$run/data/logs" -name '*.log' -path '*exthost*' -exec cp {} "$artifacts/" \; 2>/dev/null || true
exit $rc
