#!/usr/bin/env bash
# Installs everything wolfguard needs to build, run and test on Debian 12.
#
#  - Debian 12 packages by name (apt-get, the machine's own sources).
#  - llhttp 9.x from Debian 13's binary packages (Debian 12 has none).
#  - wolfSSL 5.7.x built from Debian 13's source package with the features the
#    product needs (AES-NI asm, DTLS 1.2/1.3, CIDs, PSK, exporter, tickets,
#    IP-address subjectAltNames) into the project-local prefix .deps/prefix,
#    with the patches of scripts/patches/ (docs/dtls.md), cached under
#    ~/.cache so that a second run, or a fresh clone on the same machine,
#    takes seconds.
#  - hiredis 1.x built from Debian 13's source package (Debian 12's 0.14 has no
#    pluggable I/O, which TLS to Redis through wolfSSL needs, docs/cluster.md):
#    static, position-independent, without USE_SSL (no OpenSSL), into the same
#    prefix and cached the same way.
#
# Debian 13 is reached through a private apt configuration under .deps/apt that
# reuses the mirror named in this machine's apt sources; no system-wide apt
# setting is changed.
#
# Usage: scripts/deps.sh   (as root, or through sudo: it installs Debian packages)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/.deps"
prefix="$deps/prefix"
cache_root="${WOLFGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wolfguard}"

WOLFSSL_CONFIGURE_FLAGS=(
	--enable-aesni --enable-intelasm --enable-aesgcm-stream
	--enable-tls13 --enable-dtls --enable-dtls13 --enable-dtlscid
	--enable-dtls-frag-ch --enable-dtls-mtu --enable-psk --enable-keying-material
	--enable-session-ticket --enable-secure-renegotiation --enable-sni
	--enable-alpn --enable-opensslextra --enable-certgen --enable-ecc
	--enable-supportedcurves --enable-curve25519 --enable-sp --enable-sp-asm
	--enable-harden --enable-crl --enable-ip-alt-name
	--disable-examples --disable-benchmark --disable-crypttests
	--disable-oldtls
)
# WOLFSSL_STATIC_PSK: openconnect's PSK-NEGOTIATE DTLS offers plain PSK suites
# (PSK-AES256-GCM-SHA384 first); the key is fresh per session, exported from
# the TLS session. WOLFSSL_DTLS_CH_FRAG: ClientHellos larger than one datagram.
# WOLFSSL_STATIC_RSA: legacy DTLS (plugins/transport-dtls/dtls_legacy.c) resumes the RSA-named
# suites Cisco clients ask for (OC-DTLS1_2-AES256-GCM is AES256-GCM-SHA384);
# no RSA key exchange ever runs, and the TLS listener's cipher list has none.
# --enable-ip-alt-name (WOLFSSL_IP_ALT_NAME): certificates' iPAddress
# subjectAltNames are read, so that TLS to Redis can be checked against an IP
# address (cluster-redis-tls-name, docs/cluster.md).
# DTLS_CID_MAX_SIZE=8: transport-lanes gives every DTLS 1.3 lane an 8-byte random
# connection ID (wolfSSL's default limit is 2 bytes, too few to be unique per worker).
WOLFSSL_CFLAGS="-O2 -g -DWOLFSSL_STATIC_PSK -DWOLFSSL_DTLS_CH_FRAG -DHAVE_SECRET_CALLBACK -DWOLFSSL_STATIC_RSA -DDTLS_CID_MAX_SIZE=8"

die() { echo "deps.sh: error: $*" >&2; exit 1; }
say() { echo "deps.sh: $*"; }

# shellcheck source=scripts/root.sh
. "$top/scripts/root.sh"
case "${1:-}" in -h | --help) wg_usage; exit 0 ;; esac
wg_need_root deps.sh "it installs Debian packages" "$@"
command -v apt-get >/dev/null || die "apt-get not found: wolfguard's set-up targets Debian 12"

DEBIAN_PACKAGES=(
	# build
	build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
	autoconf automake libtool dpkg-dev xz-utils patch
	# libraries
	libevent-dev libjansson-dev libpam0g-dev libradcli-dev nettle-dev liblua5.4-dev
	libldap-dev libcriterion-dev libcrypt-dev
	libcjose-dev libcurl4-openssl-dev # auth-oidc: JOSE (JWS, JWK) and the provider's HTTPS documents
	libhiredis-dev # the cluster store's Redis client, with its libevent adapter (docs/cluster.md)
	# run and test peers
	openconnect ocserv vpnc-scripts iperf3 iproute2 iputils-ping nftables procps
	ethtool # GRO on the lab's veth pairs (tests/e2e/lib.sh lab_gro), as a real NIC does it
	openssl ca-certificates psmisc jq curl
	stress-ng # WOLFGUARD_STRESS=1 scripts/test.sh: the suite under a CPU hog
	# auth backends the end-to-end tests start on loopback, and confinement
	freeradius freeradius-utils slapd ldap-utils libpam-modules libpam-oath oathtool db-util
	# a real PROXY protocol relay in front of the TLS port (tests-net6.sh)
	haproxy
	redis-server # the cluster tests' shared store (tests/e2e/tests-cluster.sh)
	libseccomp-dev
	# the OpenID provider tests-oidc.sh starts (Lemonldap::NG's portal under Plack's own HTTPS server)
	liblemonldap-ng-portal-perl liblemonldap-ng-handler-perl libplack-perl libio-socket-ssl-perl
	libcrypt-openssl-bignum-perl libgd-securityimage-perl libimage-magick-perl libstring-random-perl libconvert-pem-perl
	# (recommended by the portal: its JWKS (RSA n, e), its captcha module (always loaded), its OIDC issuer, rotateOidcKeys)
	# systemd readiness (sd_notify), Debian packaging and its checks (debian/, tests-package.sh)
	libsystemd-dev debhelper lintian fakeroot python3
)

install_debian_packages() {
	local missing=()
	for p in "${DEBIAN_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "Debian packages: all present"
		return
	fi
	say "installing Debian packages: ${missing[*]}"
	apt-get update -o DPkg::Lock::Timeout=600 -q >/dev/null || die "apt-get update failed: check the machine's apt sources and network"
	DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends "${missing[@]}" >/dev/null \
		|| die "apt-get install failed for: ${missing[*]}"
	# ocserv's package starts a system service; wolfguard's tests and benchmarks run their own.
	if command -v systemctl >/dev/null && systemctl is-active --quiet ocserv 2>/dev/null; then
		systemctl stop ocserv.service ocserv.socket 2>/dev/null || true
	fi
	pkill -x ocserv 2>/dev/null || true
}

# The mirror of this machine's Debian archive, read from its own apt sources.
debian_mirror() {
	local uri
	uri=$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
		| awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1=="deb" {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
			/etc/apt/sources.list | grep -v -- '-security' | head -n1 || true)
	fi
	[ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}"
	echo "${uri%/}"
}

# apt-get bound to a private Debian 13 source list and state; used for downloads only.
trixie_apt() { trixie_apt_tool apt-get -q "$@"; }
trixie_apt_cache() { trixie_apt_tool apt-cache "$@"; }
trixie_apt_tool() {
	local d="$deps/apt" tool=$1
	shift
	"$tool" \
		-o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts="$d/empty" \
		-o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" \
		-o Dir::State::Status=/var/lib/dpkg/status \
		-o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root "$@"
}

trixie_apt_update() {
	local d="$deps/apt" mirror
	[ -f "$d/lists/.updated" ] && [ -n "$(find "$d/lists/.updated" -mmin -1440 2>/dev/null)" ] && return
	mirror=$(debian_mirror)
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/empty"
	cat >"$d/sources.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main
EOF
	say "reading Debian 13 package lists from $mirror"
	trixie_apt update >/dev/null || die "could not read Debian 13 lists from $mirror (is debian-archive-keyring current?)"
	touch "$d/lists/.updated"
}

install_llhttp() {
	if pkg-config --exists 'libllhttp >= 9' 2>/dev/null; then
		say "llhttp: $(pkg-config --modversion libllhttp) present"
		return
	fi
	trixie_apt_update
	local work="$deps/llhttp"
	rm -rf "$work" && mkdir -p "$work"
	(cd "$work" && trixie_apt download libllhttp-dev >/dev/null) || die "could not download libllhttp-dev from Debian 13"
	local runtime
	runtime=$(dpkg-deb -f "$work"/libllhttp-dev_*.deb Depends | tr ',' '\n' | grep -o 'libllhttp[0-9.]*' | head -n1)
	[ -n "$runtime" ] || die "libllhttp-dev's runtime package name not found"
	(cd "$work" && trixie_apt download "$runtime" >/dev/null) || die "could not download $runtime from Debian 13"
	say "installing llhttp from Debian 13: $(ls "$work" | tr '\n' ' ')"
	dpkg -i "$work"/*.deb >/dev/null || die "dpkg -i of Debian 13's llhttp packages failed"
}

# Patches applied to Debian's wolfSSL source before it is configured, in name
# order (scripts/patches/wolfssl-*.patch, each explained in its header and in
# docs/dtls.md); their text is part of the cache key, so a changed patch
# rebuilds wolfSSL.
wolfssl_patches() { ls "$top"/scripts/patches/wolfssl-*.patch 2>/dev/null | LC_ALL=C sort; }

wolfssl_cache_key() {
	{
		printf '%s\n' "$1" "${WOLFSSL_CONFIGURE_FLAGS[@]}" "$WOLFSSL_CFLAGS" "$(uname -m)" "$(gcc -dumpversion)"
		local p
		for p in $(wolfssl_patches); do cat "$p"; done
	} | sha256sum | cut -c1-16
}

# Applies each patch once: one that is already in the tree is left alone.
apply_wolfssl_patches() { # source-tree
	local p
	for p in $(wolfssl_patches); do
		if patch -d "$1" -p1 -R --dry-run -s -f <"$p" >/dev/null 2>&1; then
			say "wolfSSL: $(basename "$p") already applied"
			continue
		fi
		patch -d "$1" -p1 -s -f --no-backup-if-mismatch <"$p" >/dev/null || die "wolfSSL: $(basename "$p") does not apply"
		say "wolfSSL: applied $(basename "$p")"
	done
}

# The version of Debian 13's source package $1 to build, into the caller's
# `version`: the one the cache was built from, else the newest in Debian 13's
# lists, so that a cache key names exactly what is built.
trixie_source_version() { # package
	version=$(cat "$cache_root/$1-version" 2>/dev/null || true)
	[ -n "$version" ] && return
	trixie_apt_update
	version=$(trixie_apt_cache showsrc "$1" 2>/dev/null | awk '/^Version:/ && !v {v=$2} END {print v}')
	[ -n "$version" ] || die "$1 source package not found in Debian 13 lists"
}

# True (and says so) when .deps/prefix already holds the build KEY: its
# stamp says so and its .pc file is there.
prefix_holds() { # label version key stamp pc-file
	[ "$(cat "$4" 2>/dev/null)" = "$3" ] && [ -f "$5" ] || return 1
	say "$1: $2 present in .deps/prefix"
}

# Unpacks a cached build into .deps/prefix and stamps it. The cached tree was
# built for another checkout's path: its .pc file gets this prefix.
restore_cached_build() { # label version key tarball pc-file stamp
	say "$1 $2: restoring cached build $3"
	tar -xzf "$4" -C "$prefix"
	sed -i "s|^prefix=.*|prefix=$prefix|" "$5"
	echo "$3" >"$6"
}

# Debian 13's source package PACKAGE=VERSION, downloaded into DIR and
# unpacked as DIR/tree.
trixie_source_tree() { # label package version dir
	trixie_apt_update
	say "$1 $3: downloading Debian 13's source package"
	(cd "$4" && trixie_apt source --download-only "$2=$3" >/dev/null) \
		|| die "could not download $2 $3 source from Debian 13"
	(cd "$4" && dpkg-source --no-check -x ./*.dsc tree >/dev/null) || die "dpkg-source -x failed for $2"
}

install_wolfssl() {
	local stamp="$prefix/.wolfssl-key" pc="$prefix/lib/pkgconfig/wolfssl.pc" version key
	trixie_source_version wolfssl
	key=$(wolfssl_cache_key "$version")
	prefix_holds wolfSSL "$version" "$key" "$stamp" "$pc" && return
	rm -rf "$prefix"
	mkdir -p "$cache_root" "$prefix"
	if [ -f "$cache_root/$key.tar.gz" ]; then
		restore_cached_build wolfSSL "$version" "$key" "$cache_root/$key.tar.gz" "$pc" "$stamp"
		return
	fi
	local src="$deps/wolfssl-src"
	rm -rf "$src" && mkdir -p "$src"
	trixie_source_tree wolfSSL wolfssl "$version" "$src"
	apply_wolfssl_patches "$src/tree"
	say "wolfSSL $version: configuring and building (a few minutes, once)"
	(
		cd "$src/tree"
		[ -x configure ] || ./autogen.sh >"$src/autogen.log" 2>&1
		./configure --prefix="$prefix" "${WOLFSSL_CONFIGURE_FLAGS[@]}" \
			CFLAGS="$WOLFSSL_CFLAGS" >"$src/configure.log" 2>&1 \
			|| { tail -30 "$src/configure.log" >&2; exit 1; }
		make -j"$(nproc)" >"$src/make.log" 2>&1 || { tail -30 "$src/make.log" >&2; exit 1; }
		make install >"$src/install.log" 2>&1
	) || die "wolfSSL build failed (logs under .deps/wolfssl-src)"
	echo "$version" >"$cache_root/wolfssl-version"
	echo "$key" >"$stamp"
	tar -czf "$cache_root/$key.tar.gz.tmp" -C "$prefix" . && mv "$cache_root/$key.tar.gz.tmp" "$cache_root/$key.tar.gz"
	rm -rf "$src"
	say "wolfSSL $version: built into .deps/prefix and cached as $key"
}

# hiredis >= 1.0 from Debian 13's source: its redisContextFuncs let
# core/cluster/redis_tls.c run wolfSSL under the async context. Built without
# USE_SSL (the server links one TLS library, wolfSSL) and installed static
# only, so that the server, wolfguardctl and the Debian package link it in and
# never pick Debian 12's libhiredis.so.0.14 at run time.
hiredis_cache_key() {
	printf '%s\n' "hiredis" "$1" "static-pic-nossl-pc2" "$(uname -m)" "$(gcc -dumpversion)" | sha256sum | cut -c1-16
}

install_hiredis() {
	local stamp="$prefix/.hiredis-key" pc="$prefix/lib/pkgconfig/hiredis.pc" version key
	trixie_source_version hiredis
	key=$(hiredis_cache_key "$version")
	prefix_holds hiredis "$version" "$key" "$stamp" "$pc" && return
	mkdir -p "$cache_root" "$prefix"
	if [ -f "$cache_root/hiredis-$key.tar.gz" ]; then
		restore_cached_build hiredis "$version" "$key" "$cache_root/hiredis-$key.tar.gz" "$pc" "$stamp"
		return
	fi
	local src="$deps/hiredis-src" stage="$deps/hiredis-stage"
	rm -rf "$src" "$stage" && mkdir -p "$src" "$stage"
	trixie_source_tree hiredis hiredis "$version" "$src"
	say "hiredis $version: building (static, no USE_SSL)"
	(
		cd "$src/tree"
		make -j"$(nproc)" static OPTIMIZATION=-O2 DEBUG=-g >"$src/make.log" 2>&1 || { tail -30 "$src/make.log" >&2; exit 1; }
		make install PREFIX="$stage" LIBRARY_PATH=lib >"$src/install.log" 2>&1 || { tail -30 "$src/install.log" >&2; exit 1; }
	) || die "hiredis build failed (logs under .deps/hiredis-src)"
	# Static only: no libhiredis.so in the prefix, so -lhiredis resolves to the archive.
	rm -f "$stage"/lib/libhiredis.so*
	# Its .pc names the staging directory and adds include/hiredis itself to the
	# search path (whose read.h, sds.h, async.h would shadow other headers): the
	# paths are made relative to prefix, and the code includes <hiredis/...>.
	rm -rf "$stage/lib/cmake"
	sed -i -e "s|^prefix=.*|prefix=$prefix|" -e "s|^libdir=.*|libdir=\${prefix}/lib|" \
		-e "s|^includedir=.*|includedir=\${prefix}/include|" -e "s|^pkgincludedir=.*|pkgincludedir=\${includedir}/hiredis|" \
		-e "s|^Cflags:.*|Cflags: -I\${includedir} -D_FILE_OFFSET_BITS=64|" "$stage/lib/pkgconfig/hiredis.pc"
	tar -czf "$cache_root/hiredis-$key.tar.gz.tmp" -C "$stage" . && mv "$cache_root/hiredis-$key.tar.gz.tmp" "$cache_root/hiredis-$key.tar.gz"
	cp -a "$stage"/. "$prefix"/
	echo "$version" >"$cache_root/hiredis-version"
	echo "$key" >"$stamp"
	rm -rf "$src" "$stage"
	say "hiredis $version: built into .deps/prefix and cached as $key"
}

install_debian_packages
install_llhttp
install_wolfssl
install_hiredis
say "all dependencies ready"
