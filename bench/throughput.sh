#!/usr/bin/env bash
# Throughput benchmark: Debian's ocserv and wolfguard side by side in the
# same namespace lab (tests/e2e/lib.sh), the same openconnect client, one
# client, DTLS on (or --cstp: UDP 443 dropped in the server namespace, so
# the tunnel runs over TLS/TCP).
#
# Usage (root): bench/throughput.sh [--cstp] [--seconds N] [--reps N] [--servers "ocserv wolfguard"]
#
# Per server it measures, with a fresh server and one connected client:
#   - iperf3 client->LAN and LAN->client, N seconds each (default 10), REPS
#     times (default 3), the median, in Gbit/s;
#   - server CPU-seconds per GB moved: user+system time of ALL the server's
#     processes (ocserv forks sec-mod and a worker per client), read from
#     the cgroup the lab puts the server in (exited processes included), or
#     from the process tree where no cgroup can be made; the median of the
#     runs;
#   - ping latency through the tunnel: average of 50 pings at 0.02 s;
#   - server memory: sum of Pss of all server processes (smaps_rollup),
#     with the client connected, after the transfers.
# and prints a table with the ratio wolfguard/ocserv. wolfguard runs when its
# binary ($WOLFGUARD_BIN, default build/core/wolfguard) exists.
# It is a benchmark, not a test: it prints numbers and fails only when a
# server cannot be started or reached.
set -uo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"

MODE=dtls SECS=10 REPS=3 SERVERS="ocserv wolfguard"
usage() { echo "usage: $0 [--cstp] [--seconds N] [--reps N] [--servers \"ocserv wolfguard\"]" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--cstp) MODE=cstp ;;
	--seconds) SECS=${2:-}; shift ;;
	--reps) REPS=${2:-}; shift ;;
	--servers) SERVERS=${2:-}; shift ;;
	*) usage ;;
	esac
	shift
done
[[ $SECS =~ ^[0-9]+$ ]] && [ "$SECS" -ge 1 ] && [ "$SECS" -le 120 ] || usage
[[ $REPS =~ ^[0-9]+$ ]] && [ "$REPS" -ge 1 ] && [ "$REPS" -le 20 ] || usage
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 1; }

trap lab_down EXIT
trap 'exit 130' INT TERM HUP

note() { echo "bench: $*" >&2; }

median() { # numbers on stdin
	sort -g | awk '{a[NR] = $1} END {if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# One transfer: prints "mbps cpu_seconds_per_GB", or nothing on failure.
measure() { # [-R]
	local c0 c1 mbps
	c0=$(server_cpu_usec)
	mbps=$(iperf_mbps "$NS_CLI" "$SECS" "${1:-}")
	c1=$(server_cpu_usec)
	awk -v m="${mbps:-0}" -v c="$((c1 - c0))" -v s="$SECS" \
		'BEGIN { gb = m * 1e6 * s / 8 / 1e9; if (gb > 0) printf "%s %.3f\n", m, c / 1e6 / gb }'
}

# bench_server KIND: sets RESULT="up_gbps up_cpu down_gbps down_cpu ping_ms pss_kib dtls"
# (runs in this shell, so lab_down knows the server and its cgroup).
bench_server() {
	local kind=$1 ups=() downs=() r u d up_g up_c down_g down_c ping pss dtls=no
	server_start "$kind" false >&2 || { note "$kind did not start"; return 1; }
	if [ "$MODE" = cstp ]; then
		nft_setup block-udp || { note "nft setup failed"; return 1; }
	fi
	client_connect alice secret1 || { note "$kind: no tunnel: $(tail -n 2 "$(client_log alice)")"; return 1; }
	if [ "$MODE" = dtls ]; then
		if client_wait_dtls alice 15; then dtls=yes; else note "WARNING: $kind: DTLS did not come up, numbers are over CSTP"; fi
	elif grep -q "Established DTLS connection" "$(client_log alice)"; then
		note "WARNING: $kind: DTLS up despite the block"
	fi
	ping_ok "$NS_CLI" "$LAN_ADDR" || { note "$kind: no ping through the tunnel"; return 1; }
	for ((r = 1; r <= REPS; r++)); do
		u=$(measure)
		d=$(measure -R)
		[ -z "$u" ] || ups+=("$u")
		[ -z "$d" ] || downs+=("$d")
		note "$kind run $r/$REPS (Mbit/s, server CPU-s/GB): client->LAN ${u:-FAILED}, LAN->client ${d:-FAILED}"
	done
	up_g=$(printf '%s\n' "${ups[@]}" | awk 'NF {print $1 / 1000}' | median)
	up_c=$(printf '%s\n' "${ups[@]}" | awk 'NF {print $2}' | median)
	down_g=$(printf '%s\n' "${downs[@]}" | awk 'NF {print $1 / 1000}' | median)
	down_c=$(printf '%s\n' "${downs[@]}" | awk 'NF {print $2}' | median)
	ping=$(in_ns "$NS_CLI" ping -c 50 -i 0.02 -W 2 -q "$LAN_ADDR" 2>/dev/null | awk -F/ '/^rtt|^round-trip/ {print $5}')
	pss=$(server_pss_kib)
	[ "$MODE" = cstp ] || grep -q "Established DTLS connection" "$(client_log alice)" || dtls=no
	client_disconnect alice
	server_stop
	RESULT="${up_g:--} ${up_c:--} ${down_g:--} ${down_c:--} ${ping:--} ${pss:--} $dtls"
}

lab_up || exit 1
note "$MODE, $REPS x ${SECS}s each direction (median), openconnect $(openconnect --version 2>&1 | awk 'NR == 1 {print $NF}'), $(nproc) CPUs"
declare -A R=()
for kind in $SERVERS; do
	if [ "$kind" = wolfguard ] && [ ! -x "$(wolfguard_bin)" ]; then
		note "wolfguard: $(wolfguard_bin) not found, skipped (set WOLFGUARD_BIN)"
		continue
	fi
	note "benchmarking $kind"
	bench_server "$kind" || { note "$kind failed"; exit 1; }
	R[$kind]=$RESULT
done

col() { # kind field-number
	local v=${R[$1]:-}
	[ -n "$v" ] || { echo -; return; }
	echo "$v" | awk -v f="$2" '{print $f}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "-" || v == "") print "-"; else printf f "\n", v }'; }

row() { # label field printf-format
	local o w
	o=$(col ocserv "$2") w=$(col wolfguard "$2")
	printf '%-38s %12s %12s %10s\n' "$1" "$(fmt "$o" "$3")" "$(fmt "$w" "$3")" "$(ratio "$w" "$o")"
}

echo
printf '%-38s %12s %12s %10s\n' "metric ($MODE, 1 client)" ocserv wolfguard "wg/ocserv"
row "throughput client->LAN (Gbit/s)" 1 %.3f
row "throughput LAN->client (Gbit/s)" 3 %.3f
row "server CPU-s per GB, client->LAN" 2 %.2f
row "server CPU-s per GB, LAN->client" 4 %.2f
row "ping through the tunnel (ms, avg 50)" 5 %.3f
row "server memory, 1 client (PSS KiB)" 6 %d
printf '%-38s %12s %12s\n' "data channel DTLS" "$(col ocserv 7)" "$(col wolfguard 7)"
acct="the process tree"
[ -z "$SERVER_CG_KIND" ] || acct="the server cgroup ($SERVER_CG_KIND)"
echo "(server CPU from $acct; $REPS x ${SECS}s per direction, medians of the successful runs)"
