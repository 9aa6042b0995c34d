#!/usr/bin/env bash
# Extract the kernel subsets that the corpus tests and benchmarks read from Debian's linux-source tarballs.
#
#   bash scripts/extract-kernel.sh [--all] [--check] [6.12] [6.1]
#
# Sources: /usr/src/linux-source-<v>.tar.xz (Debian packages linux-source-6.12 and linux-source-6.1;
# override the directory with KERNEL_TARBALL_DIR).
# Destination: .cache/kernel/<v>/ in the repository (git-ignored), without the tarball's top-level folder.
# With no version argument both 6.12 and 6.1 are extracted.
#
# Idempotent: .cache/kernel/<v>/.extract-stamp records the tarball (path, size, mtime) and what was extracted.
# A repeat run with the same tarball and an equal or smaller selection does nothing.
# Extraction goes to a temporary sibling folder that is renamed into place only once tar has finished and the
# stamp is written, so an interrupted run leaves no stamp (or a stale temporary folder) and is redone next time.
# --all extracts the whole tree (for benchmarks); a later run without --all keeps the whole tree.
# --check only reports whether the wanted extraction is up to date (exit 0) or not (exit 1).
# Exit 2 with a one-line message when a tarball is missing.
set -euo pipefail

SUBSET=(Makefile fs mm include block drivers/gpu drivers/md drivers/block kernel net/sunrpc lib drivers/dma-buf scripts/coccinelle)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tar_dir="${KERNEL_TARBALL_DIR:-/usr/src}"
all=0
check=0
versions=()
for arg in "$@"; do
  case "$arg" in
    --all) all=1 ;;
    --check) check=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    6.*) versions+=("$arg") ;;
    *) echo "extract-kernel: unknown argument '$arg' (expected --all, --check, 6.12, 6.1)" >&2; exit 64 ;;
  esac
done
[ ${#versions[@]} -gt 0 ] || versions=(6.12 6.1)

wanted_selection() {
  if [ "$all" = 1 ]; then echo all; else echo "${SUBSET[*]}"; fi
}

# A stamp satisfies the request when it names the same tarball identity and a selection that covers the wanted one.
stamp_ok() {
  local stamp="$1" identity="$2" selection
  [ -f "$stamp" ] || return 1
  [ "$(sed -n 's/^tarball=//p' "$stamp")" = "$identity" ] || return 1
  [ "$(sed -n 's/^complete=//p' "$stamp")" = yes ] || return 1
  selection="$(sed -n 's/^selection=//p' "$stamp")"
  [ "$selection" = all ] && return 0
  [ "$all" = 0 ] && [ "$selection" = "${SUBSET[*]}" ]
}

status=0
for v in "${versions[@]}"; do
  tarball="$tar_dir/linux-source-$v.tar.xz"
  if [ ! -f "$tarball" ]; then
    echo "extract-kernel: $tarball not found; install Debian's linux-source-$v (apt-get install -y linux-source-$v)" >&2
    exit 2
  fi
  identity="$tarball size=$(stat -c %s "$tarball") mtime=$(stat -c %Y "$tarball")"
  dest="$root/.cache/kernel/$v"
  stamp="$dest/.extract-stamp"
  if stamp_ok "$stamp" "$identity"; then
    echo "extract-kernel: $v up to date ($(sed -n 's/^selection=//p' "$stamp" | cut -c1-60))"
    continue
  fi
  if [ "$check" = 1 ]; then
    echo "extract-kernel: $v missing or stale" >&2
    status=1
    continue
  fi

  mkdir -p "$root/.cache/kernel"
  rm -rf "$root/.cache/kernel/.tmp-$v".*   # leftovers of an interrupted run
  tmp="$(mktemp -d "$root/.cache/kernel/.tmp-$v.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT INT TERM
  top="linux-source-$v"
  members=()
  if [ "$all" = 0 ]; then
    for m in "${SUBSET[@]}"; do members+=("$top/$m"); done
  fi
  echo "extract-kernel: extracting $(wanted_selection | cut -c1-60) from $tarball ..."
  start=$SECONDS
  tar -xJf "$tarball" -C "$tmp" --strip-components=1 --no-same-owner "${members[@]}"
  {
    echo "tarball=$identity"
    echo "selection=$(wanted_selection)"
    echo "extracted_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "complete=yes"
  } >"$tmp/.extract-stamp"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  trap - EXIT INT TERM
  echo "extract-kernel: $v done in $((SECONDS - start)) s -> ${dest#"$root"/}"
done
exit $status
