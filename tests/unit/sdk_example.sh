#!/bin/sh
# Stages `meson install --tags devel` (the SDK: header and .pc) into a
# DESTDIR, then builds and installs examples/plugin-hello and
# examples/transport-null with their own Makefiles against that staged SDK
# only (no system pkg-config path, no source-tree include). Prints
#   cflags=...  abi=N  plugin=/path/to/installed/auth-hello.so
#   transport=/path/to/installed/transport-null.so
# for test_sdk_example.c, which then loads the plugin.
#
# usage: sdk_example.sh BUILD_ROOT SOURCE_ROOT WORKDIR
set -eu
build=$1
src=$2
work=$3
dest=$work/destdir

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet --tags devel >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; echo "meson install failed" >&2; exit 1; }

pc=$(find "$dest" -name wolfguard-sdk.pc | head -n 1)
[ -n "$pc" ] || { echo "wolfguard-sdk.pc was not installed" >&2; exit 1; }
[ -n "$(find "$dest" -path '*/include/wolfguard/plugin.h')" ] ||
	{ echo "wolfguard/plugin.h was not installed" >&2; exit 1; }

# Only the staged .pc is visible; its prefix is moved into the DESTDIR.
PKG_CONFIG_LIBDIR=$(dirname "$pc")
PKG_CONFIG_PATH=
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH
prefix=$(pkg-config --variable=prefix wolfguard-sdk)
pkgconfig="pkg-config --define-variable=prefix=$dest$prefix"

cp -R "$src/examples/plugin-hello" "$work/hello"
make -s -C "$work/hello" PKG_CONFIG="$pkgconfig" CFLAGS="-O2 -Wall -Wextra -Werror" install >&2
cp -R "$src/examples/transport-null" "$work/transport-null"
make -s -C "$work/transport-null" PKG_CONFIG="$pkgconfig" CFLAGS="-O2 -Wall -Wextra -Werror" install >&2

plugindir=$($pkgconfig --variable=plugindir wolfguard-sdk)
echo "cflags=$($pkgconfig --cflags wolfguard-sdk)"
echo "abi=$($pkgconfig --variable=abi_version wolfguard-sdk)"
echo "plugin=$plugindir/auth-hello.so"
echo "transport=$plugindir/transport-null.so"
