#!/usr/bin/env bash
# Installs the e2e package (code-server 4.100.3, playwright-core, @vscode/vsce 3.9.2) from its own lockfile.
# Skips the install when node_modules already matches package-lock.json. Needs Debian's ripgrep (and, for the
# native modules code-server compiles: build-essential python3 pkg-config libkrb5-dev); see README.md here.
set -euo pipefail
cd "$(dirname "$0")"

stamp=node_modules/.reclaim-lens-e2e-lock
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ] && [ -x node_modules/.bin/code-server ]; then
  exit 0
fi

# @vscode/ripgrep (a code-server dependency) downloads rg from GitHub in its postinstall, which this network refuses.
# It first looks for the archive in $TMPDIR/vscode-ripgrep-cache-<its version>/: put Debian's rg there. code-server
# 4.100.3 pins @vscode/ripgrep 1.15.11 (lib/vscode/npm-shrinkwrap.json), whose postinstall wants ripgrep v13.0.0-10.
RIPGREP_PKG=1.15.11
RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
rg_bin=$(command -v rg || true)
if [ -z "$rg_bin" ]; then
  echo "e2e install: ripgrep is missing (apt-get install ripgrep)" >&2
  exit 2
fi
cache="$(node -p "require('node:os').tmpdir()")/vscode-ripgrep-cache-$RIPGREP_PKG"
mkdir -p "$cache"
tar czf "$cache/$RIPGREP_ASSET" -C "$(dirname "$rg_bin")" rg

echo "e2e install: npm ci in test/e2e (code-server compiles native modules; ~1-2 min)"
start=$(date +%s)
npm ci --no-audit --no-fund --loglevel=error
pinned=$(node -p "require('./node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/package.json').version")
if [ "$pinned" != "$RIPGREP_PKG" ]; then
  echo "e2e install: code-server now uses @vscode/ripgrep $pinned; update RIPGREP_PKG/RIPGREP_ASSET in $0" >&2
  exit 1
fi
echo "$lock_hash" > "$stamp"
echo "e2e install: done in $(($(date +%s) - start)) s"
