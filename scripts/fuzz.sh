#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a
# bounded time from its seed corpus, then replays every saved regression
# input. New corpus entries go to a scratch directory under the build tree,
# never into the repository. Exits non-zero if any target crashes.
#
# Usage: scripts/fuzz.sh [seconds-per-target]   (default 30)
set -uo pipefail
case "${1:-}" in -h | --help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-30}
dir="$top/build-fuzz"
export PKG_CONFIG_PATH="$top/.deps/prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
command -v clang >/dev/null || { echo "fuzz.sh: clang is missing; run scripts/deps.sh" >&2; exit 1; }
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$dir" "$top" -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
		-Db_lundef=false --buildtype=debugoptimized >/dev/null || exit 1
fi
ninja -C "$dir" >/dev/null || { ninja -C "$dir"; exit 1; }

declare -A max_len=([fuzz_http]=20000 [fuzz_http_pipe]=90000 [fuzz_auth_xml]=8192 [fuzz_cstp]=40000 [fuzz_dtls_hello]=1500
	[fuzz_config]=4096 [fuzz_ocpasswd]=4096 [fuzz_control]=4200 [fuzz_privsep]=4200 [fuzz_dtls_payload]=2048
	[fuzz_gso]=70000 [fuzz_gro]=20000 [fuzz_utf8]=512 [fuzz_radius_reply]=4096 [fuzz_route_filter]=2048)
# session records read back from Redis (core/cluster/record.c)
max_len[fuzz_cluster_record]=20000
# legacy DTLS headers and the ClientHello EMS scan (plugins/transport-dtls/dtls_legacy_hdr.c, dtls_legacy_ems.c)
max_len[fuzz_dtls_legacy]=4096
# wolfguard-client's and wolfguard-bench's reading of server answers (tools/proto-client)
max_len[fuzz_client_answer]=16384
# transport-lanes (plugins/transport-lanes/lane_msg.c, lane_datagram.c)
max_len[fuzz_lane_msg]=2048
max_len[fuzz_lane_hello]=1500
# the PROXY protocol header before TLS (core/net/proxy_proto.c)
max_len[fuzz_proxy_proto]=1100
# the ClientHello's server name before TLS, for vhosts (core/net/sni.c)
max_len[fuzz_sni]=17000
# auth-oidc: a bearer token, a newline, a JWK Set (plugins/auth-oidc/oidc_token.c, oidc_jwks.c)
max_len[fuzz_oidc_token]=16384
# wolfguard-bench --traffic: a packet out of the tunnel, a UDP payload at the sink (tools/bench/traffic_wire.c)
max_len[fuzz_bench_traffic]=2048
# the DTLS socket's UDP GRO train splitter (plugins/lib-dtls/udp_gro.c): segment size, flags, a train
max_len[fuzz_udp_gro]=70000
# auth-oidc browser login: callback query, token endpoint answer, STRAP key header (oidc_callback.c, oidc_seal.c)
max_len[fuzz_oidc_sso]=8192
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# One target: its regression inputs, then fuzzing for $secs. Prints one line
# (and the crash's report); the verdict goes to $dir/$target.verdict.
fuzz_one() {
	local target=$1 bin="$dir/tests/fuzz/$1" scratch="$dir/fuzz-corpus/$1" reg="$top/tests/fuzz/regressions/$1"
	mkdir -p "$scratch" "$dir/fuzz-artifacts"
	echo fail >"$dir/$target.verdict"
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
		if ! "$bin" "$reg"/* >"$dir/$target.regress.log" 2>&1; then
			echo "fuzz.sh: $target: a regression input crashes again"; tail -20 "$dir/$target.regress.log"
			return 1
		fi
	fi
	if "$bin" -max_total_time="$secs" -max_len="${max_len[$target]}" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$dir/fuzz-artifacts/$target-" "$scratch" "$top/tests/fuzz/corpus/$target" \
		>"$dir/$target.log" 2>&1; then
		echo "fuzz.sh: $target: $(grep -oE '#[0-9]+ +DONE.*' "$dir/$target.log" | tail -n1 || echo ok)"
		echo ok >"$dir/$target.verdict"
	else
		echo "fuzz.sh: $target: CRASH (input saved under build-fuzz/fuzz-artifacts)"
		grep -m1 -A20 -E "ERROR|runtime error" "$dir/$target.log"
		return 1
	fi
}
# FUZZ_JOBS targets at once (default: one per core); fuzzing is CPU-bound,
# so this divides the stage's wall time by the number of cores.
jobs=${FUZZ_JOBS:-$(nproc)}
for target in "${!max_len[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	fuzz_one "$target" &
done
wait
failed=()
for target in "${!max_len[@]}"; do
	[ "$(cat "$dir/$target.verdict" 2>/dev/null)" = ok ] || failed+=("$target")
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz.sh: failed: ${failed[*]}"
	exit 1
fi
echo "fuzz.sh: ${#max_len[@]} targets ran ${secs}s each without a crash"
