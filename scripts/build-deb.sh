#!/usr/bin/env bash
# Builds the Debian packages (debian/) from this tree into build-deb/:
#   wolfguard, wolfguard-plugins-{pam,radius,ldap,lua}, wolfguard-dev
# then runs lintian on them (build-deb/lintian.txt). The tree is copied first
# (tracked and new files, not build/ or .deps/), so the checkout stays clean
# and dpkg-buildpackage's output lands in build-deb/, not in the parent
# directory. Packages built from the same tree contents are reused: the key
# is a hash of every file's content, written to build-deb/stamp.
#
# Needs scripts/deps.sh first (wolfSSL in .deps/prefix, debhelper, lintian).
# Usage: scripts/build-deb.sh [--force]     prints the build-deb/ path last
set -euo pipefail
case "${1:-}" in
-h | --help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
--force | '') ;;
*) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build-deb
cd "$top"

die() { echo "build-deb.sh: error: $*" >&2; exit 1; }
command -v dpkg-buildpackage >/dev/null || die "dpkg-buildpackage missing: run scripts/deps.sh"
command -v dh >/dev/null || die "debhelper missing: run scripts/deps.sh"
[ -f .deps/prefix/lib/pkgconfig/wolfssl.pc ] || die "no wolfSSL in .deps/prefix: run scripts/deps.sh"

# What the packages are built from: not tests/ and bench/ (-Dtests=false),
# nor the Markdown documentation,
# so editing a test does not rebuild the packages.
files() {
	git ls-files --cached --others --exclude-standard | grep -vE '^(tests|bench)/|^docs/[^/]*\.md$|^README\.md$' |
		while read -r f; do [ -f "$f" ] && echo "$f"; done
}
key=$(files | sort | xargs -d '\n' sha256sum | sha256sum | cut -c1-16)
if [ "${1:-}" != --force ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$key" ] && ls "$out"/wolfguard_*.deb >/dev/null 2>&1; then
	echo "build-deb.sh: packages of this tree ($key) already in build-deb/"
	echo "$out"
	exit 0
fi
rm -rf "$out" && mkdir -p "$out/src/wolfguard"
files | tar -cf - -T - | tar -xf - -C "$out/src/wolfguard"
start=$(date +%s)
echo "build-deb.sh: dpkg-buildpackage -us -uc -b (log: build-deb/build.log)"
(cd "$out/src/wolfguard" && DEPS_PREFIX="$top/.deps/prefix" dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 ||
	{ tail -n 40 "$out/build.log" >&2; die "dpkg-buildpackage failed"; }
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out/" 2>/dev/null || true
echo "build-deb.sh: built in $(($(date +%s) - start)) s: $(cd "$out" && ls ./*.deb | tr '\n' ' ')"
if command -v lintian >/dev/null; then
	# The tags that remain are explained in docs/install.md ("lintian").
	lintian --info --display-info "$out"/*.changes >"$out/lintian.txt" 2>&1 || true
	echo "build-deb.sh: lintian: $(grep -cE '^[EW]:' "$out/lintian.txt") errors/warnings, $(grep -cE '^[IP]:' "$out/lintian.txt") info (build-deb/lintian.txt)"
fi
rm -rf "$out/src"
echo "$key" >"$out/stamp"
echo "$out"
