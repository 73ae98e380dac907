#!/usr/bin/env bash
# Throughput benchmark: Debian's ocserv and wolfguard side by side in the
# same namespace lab (tests/e2e/lib.sh), the same openconnect client, one
# client, DTLS on (or --cstp: UDP 443 dropped in the server namespace, so
# the tunnel runs over TLS/TCP).
#
# Usage (root): bench/throughput.sh [--cstp] [--seconds N] [--reps N] [--servers "ocserv wolfguard"]
#                                   [--perf DIR] [--coalesce-us N] [--no-gro] [--udp-gro on|off]
#
# The lab's veth ends toward the clients do GRO, as a real NIC does by
# default (lib.sh, lab_gro), and hold received packets up to --coalesce-us
# microseconds (default 50; gro_flush_timeout) before GRO hands them on, as
# a NIC's interrupt coalescing does: without it a veth pair delivers every
# packet on its own and GRO never merges anything. --no-gro: neither (the
# lab as before 2026-12-04). Both servers run in the same lab. With GRO
# on, openconnect runs with --queue-len=64 (a larger UDP send buffer; see
# OC_ARGS below for why).
# --udp-gro off: wolfguard with transport-dtls's "udp-gro": false (the
# socket reads one datagram per receive slot, as before), for an A/B in
# the same lab.
#
# Per server it measures, with a fresh server and one connected client:
#   - iperf3 client->LAN and LAN->client, N seconds each (default 10), REPS
#     times (default 3), the median, in Gbit/s;
#   - server CPU-seconds per GB moved: user+system time of ALL the server's
#     processes (ocserv forks sec-mod and a worker per client), read from
#     the cgroup the lab puts the server in (exited processes included), or
#     from the process tree where no cgroup can be made; the median of the
#     runs;
#   - ping latency through the tunnel, idle: 200 pings at 0.01 s, the
#     average, median (p50) and 99th percentile (p99);
#   - ping latency under load: the same pings (one every 0.01 s) while
#     iperf3 fills the tunnel, client->LAN and LAN->client, p50 and p99;
#   - server memory: sum of Pss of all server processes (smaps_rollup),
#     with the client connected, after the transfers.
# and prints a table with the ratio wolfguard/ocserv. --perf DIR records a
# call-graph profile of the server's processes (perf record -g) during the
# first transfer of each direction into DIR/KIND-{up,down}.data, and writes
# the top of `perf report` beside it (.txt). wolfguard runs when its
# binary ($WOLFGUARD_BIN, default build/core/wolfguard) exists.
# It is a benchmark, not a test: it prints numbers and fails only when a
# server cannot be started or reached.
set -uo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"

MODE=dtls SECS=10 REPS=3 SERVERS="ocserv wolfguard" PERF_DIR= COALESCE_US=50 UDP_GRO=on
usage() { echo "usage: $0 [--cstp] [--seconds N] [--reps N] [--servers \"ocserv wolfguard\"] [--perf DIR] [--coalesce-us N] [--no-gro] [--udp-gro on|off]" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--cstp) MODE=cstp ;;
	--seconds) SECS=${2:-}; shift ;;
	--reps) REPS=${2:-}; shift ;;
	--servers) SERVERS=${2:-}; shift ;;
	--perf) PERF_DIR=${2:-}; shift ;;
	--coalesce-us) COALESCE_US=${2:-}; shift ;;
	--no-gro) LAB_GRO=0 ;;
	--udp-gro) UDP_GRO=${2:-}; shift ;;
	-h | --help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) usage ;;
	esac
	shift
done
[[ $SECS =~ ^[0-9]+$ ]] && [ "$SECS" -ge 1 ] && [ "$SECS" -le 120 ] || usage
[[ $REPS =~ ^[0-9]+$ ]] && [ "$REPS" -ge 1 ] && [ "$REPS" -le 20 ] || usage
case "$UDP_GRO" in on | off) ;; *) usage ;; esac
[[ $COALESCE_US =~ ^[0-9]+$ ]] && [ "$COALESCE_US" -le 1000 ] || usage
LAB_GRO_FLUSH_NS=$((COALESCE_US * 1000))
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 1; }
if [ -n "$PERF_DIR" ]; then
	command -v perf >/dev/null || { echo "$0: --perf needs perf (Debian: linux-perf)" >&2; exit 1; }
	mkdir -p "$PERF_DIR" || exit 1
	PERF_DIR=$(cd "$PERF_DIR" && pwd)
fi

trap lab_down EXIT
trap 'exit 130' INT TERM HUP

note() { echo "bench: $*" >&2; }

median() { # numbers on stdin
	sort -g | awk '{a[NR] = $1} END {if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

percentile() { # P: the P-th percentile (nearest rank) of the numbers on stdin
	sort -g | awk -v p="$1" '{a[NR] = $1} END {if (NR == 0) print ""; else {r = int(NR * p / 100 + 0.999999); if (r < 1) r = 1; print a[r]}}'
}

# ping_times COUNT: one ping every 10 ms from the client to the LAN host;
# prints each round-trip time (ms), one a line (lost ones are left out).
ping_times() {
	in_ns "$NS_CLI" ping -n -c "$1" -i 0.01 -W 1 "$LAN_ADDR" 2>/dev/null | sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p'
}

# perf_start NAME / perf_stop: a profile of the server's processes during
# one transfer (--perf DIR only).
PERF_PID=
perf_start() {
	local pids
	[ -n "$PERF_DIR" ] || return 0
	pids=$(server_pids | paste -sd, -)
	[ -n "$pids" ] || return 0
	perf record -q -g -F 1999 -p "$pids" -o "$PERF_DIR/$1.data" >/dev/null 2>&1 &
	PERF_PID=$!
	PERF_NAME=$1
}
perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null
	PERF_PID=
	perf report -i "$PERF_DIR/$PERF_NAME.data" --no-children --percent-limit 0.7 --stdio -g none \
		--sort dso,sym >"$PERF_DIR/$PERF_NAME.txt" 2>/dev/null
}

# One transfer: prints "mbps cpu_seconds_per_GB", or nothing on failure.
measure() { # [-R] [perf-name]
	local c0 c1 mbps
	[ -z "${2:-}" ] || perf_start "$2"
	c0=$(server_cpu_usec)
	mbps=$(iperf_mbps "$NS_CLI" "$SECS" "${1:-}")
	c1=$(server_cpu_usec)
	[ -z "${2:-}" ] || perf_stop
	awk -v m="${mbps:-0}" -v c="$((c1 - c0))" -v s="$SECS" \
		'BEGIN { gb = m * 1e6 * s / 8 / 1e9; if (gb > 0) printf "%s %.3f\n", m, c / 1e6 / gb }'
}

# Latency under load: iperf3 fills the tunnel ([-R]: LAN->client) while
# the client pings the LAN host every 10 ms; prints "p50 p99" (ms).
loaded_ping() { # [-R]
	local ip times n
	n=$(((SECS > 3 ? SECS - 2 : 1) * 100))
	iperf_mbps "$NS_CLI" "$SECS" "${1:-}" >/dev/null &
	ip=$!
	# The pings start once iperf3's data connection carries data.
	wait_for 10 sh -c "ip netns exec $NS_LAN ss -Htn state established 'sport = :$IPERF_PORT' | grep -c . | grep -q '^[2-9]'"
	sleep 1 # past TCP's slow start: the tunnel is full
	times=$(ping_times "$n")
	wait "$ip"
	[ -n "$times" ] || { echo "- -"; return; }
	echo "$(echo "$times" | percentile 50) $(echo "$times" | percentile 99)"
}

# bench_server KIND: sets RESULT="up_gbps up_cpu down_gbps down_cpu ping_ms pss_kib dtls
#   idle_p50 idle_p99 up_load_p50 up_load_p99 down_load_p50 down_load_p99"
# (runs in this shell, so lab_down knows the server and its cgroup).
bench_server() {
	local kind=$1 ups=() downs=() r u d up_g up_c down_g down_c ping pss dtls=no idle lu ld pu pd
	if [ "$kind" = wolfguard ]; then
		wolfguard_conf false
		if [ "$UDP_GRO" = off ]; then
			jq '.options["udp-gro"] = false' "$RUN/conf.d/40-transport-dtls.json" >"$RUN/dtls.json" &&
				mv "$RUN/dtls.json" "$RUN/conf.d/40-transport-dtls.json"
		fi
	fi
	server_start "$kind" false >&2 || { note "$kind did not start"; return 1; }
	if [ "$MODE" = cstp ]; then
		nft_setup block-udp || { note "nft setup failed"; return 1; }
	fi
	client_connect alice secret1 ${OC_ARGS:+-- $OC_ARGS} || { note "$kind: no tunnel: $(tail -n 2 "$(client_log alice)")"; return 1; }
	if [ "$MODE" = dtls ]; then
		if client_wait_dtls alice 15; then dtls=yes; else note "WARNING: $kind: DTLS did not come up, numbers are over CSTP"; fi
	elif grep -q "Established DTLS connection" "$(client_log alice)"; then
		note "WARNING: $kind: DTLS up despite the block"
	fi
	ping_ok "$NS_CLI" "$LAN_ADDR" || { note "$kind: no ping through the tunnel"; return 1; }
	for ((r = 1; r <= REPS; r++)); do
		pu='' pd=''
		[ "$r" != 1 ] || pu=$kind-up pd=$kind-down
		u=$(measure "" "$pu")
		d=$(measure -R "$pd")
		[ -z "$u" ] || ups+=("$u")
		[ -z "$d" ] || downs+=("$d")
		note "$kind run $r/$REPS (Mbit/s, server CPU-s/GB): client->LAN ${u:-FAILED}, LAN->client ${d:-FAILED}"
	done
	up_g=$(printf '%s\n' "${ups[@]}" | awk 'NF {print $1 / 1000}' | median)
	up_c=$(printf '%s\n' "${ups[@]}" | awk 'NF {print $2}' | median)
	down_g=$(printf '%s\n' "${downs[@]}" | awk 'NF {print $1 / 1000}' | median)
	down_c=$(printf '%s\n' "${downs[@]}" | awk 'NF {print $2}' | median)
	idle=$(ping_times 200)
	ping=$(echo "$idle" | awk 'NF {s += $1; n++} END {if (n) printf "%.4f\n", s / n}')
	idle="$(echo "$idle" | percentile 50) $(echo "$idle" | percentile 99)"
	[ "$idle" != " " ] || idle="- -"
	lu=$(loaded_ping)
	ld=$(loaded_ping -R)
	note "$kind ping (ms p50 p99): idle $idle, loaded client->LAN $lu, LAN->client $ld"
	pss=$(server_pss_kib)
	[ "$MODE" = cstp ] || grep -q "Established DTLS connection" "$(client_log alice)" || dtls=no
	client_disconnect alice
	server_stop
	[ "$kind" != wolfguard ] || grep -o "DTLS: UDP GRO.*" "$RUN/server.log" | tail -n1 | sed 's/^/bench: wolfguard: /' >&2
	RESULT="${up_g:--} ${up_c:--} ${down_g:--} ${down_c:--} ${ping:--} ${pss:--} $dtls $idle $lu $ld"
}

lab_up || exit 1
gro_text="wolfguard udp-gro $UDP_GRO, GRO off on the lab's veth"
OC_ARGS=
if [ "$LAB_GRO_ON" = 1 ]; then
	gro_text="wolfguard udp-gro $UDP_GRO, GRO on the lab's veth, coalescing ${COALESCE_US} us"
	# A veth pair keeps a packet charged to the sender's socket until the
	# receiver frees it, and a GRO train is freed only when the server has
	# read it: openconnect's UDP send buffer (2 x its queue of 10 packets)
	# then fills, and it sends the overflow over TLS instead. A real NIC frees
	# the client's packet when it leaves the client, so this is the lab's
	# alone; a longer queue (both servers) leaves DTLS all the traffic.
	OC_ARGS=--queue-len=64
	gro_text="$gro_text, openconnect $OC_ARGS"
fi
note "$MODE, $REPS x ${SECS}s each direction (median), openconnect $(openconnect --version 2>&1 | awk 'NR == 1 {print $NF}'), $(nproc) CPUs, $gro_text"
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
row "ping idle (ms, avg of 200)" 5 %.3f
row "ping idle (ms, p50)" 8 %.3f
row "ping idle (ms, p99)" 9 %.3f
row "ping loaded client->LAN (ms, p50)" 10 %.3f
row "ping loaded client->LAN (ms, p99)" 11 %.3f
row "ping loaded LAN->client (ms, p50)" 12 %.3f
row "ping loaded LAN->client (ms, p99)" 13 %.3f
row "server memory, 1 client (PSS KiB)" 6 %d
printf '%-38s %12s %12s\n' "data channel DTLS" "$(col ocserv 7)" "$(col wolfguard 7)"
acct="the process tree"
[ -z "$SERVER_CG_KIND" ] || acct="the server cgroup ($SERVER_CG_KIND)"
echo "(server CPU from $acct; $REPS x ${SECS}s per direction, medians of the successful runs;"
echo " pings every 10 ms: idle 200, loaded while iperf3 runs ${SECS}s; $gro_text;"
echo " load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
