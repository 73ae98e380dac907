#!/usr/bin/env bash
# Builds wolfguard. Usage: scripts/build.sh [release|asan]   (default: release)
#   release -> build/       optimised, the binary `scripts/run.sh` starts
#   asan    -> build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in -h | --help) sed -n '2,4s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
kind=${1:-release}
export PKG_CONFIG_PATH="$top/.deps/prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
case "$kind" in
release) dir="$top/build"; opts=(--buildtype=debugoptimized) ;;
asan) dir="$top/build-asan"; opts=(--buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false) ;;
*) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" "$top" "${opts[@]}" >/dev/null
else
	meson setup --reconfigure "$dir" "$top" >/dev/null
fi
ninja -C "$dir" >/dev/null || ninja -C "$dir"
echo "build.sh: $kind build ready in ${dir#$top/}"
