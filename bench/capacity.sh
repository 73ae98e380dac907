#!/usr/bin/env bash
# Capacity benchmark: how much traffic the server forwards with 1, 10, 100
# and 1000 busy sessions, and what it costs in server CPU, for wolfguard
# (one process), wolfguard with "workers": 2, and Debian's ocserv, in one
# run, in the same namespace lab (tests/e2e/lib.sh + bench/lib/traffic-lab.sh).
#
# Usage (root): bench/capacity.sh [--sizes 1,10,100,1000] [--seconds N]
#                                 [--servers "wolfguard wolfguard-w2 ocserv"]
#                                 [--cstp] [--rate PPS] [--size BYTES]
#
# Per server and session count, with a fresh server: wolfguard-bench
# --traffic (tools/bench) logs the sessions in from 30 client addresses,
# sets up DTLS (PSK-NEGOTIATE; --cstp: over TLS), and every session sends
# IPv4/UDP datagrams of --size bytes (default 1200) to wolfguard-bench-sink
# in the LAN namespace, which echoes them: as fast as the echoes come back
# (a window of packets in flight, 256 shared by all sessions, 2 to 64 each)
# or --rate PPS per session, for --seconds (default 10). Printed per run:
# goodput each way, loss each way, server CPU seconds per GB moved (both
# ways, from /proc of the server's processes), the Gbit/s one server core
# moves at that cost, the server cores used, and per-session fairness.
# It is a benchmark, not a test: it prints numbers and fails only when a
# server or the lab cannot be started. Run it alone:
#   flock /tmp/wolfguard-bench.lock bench/capacity.sh
set -uo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"
# shellcheck source=bench/lib/traffic-lab.sh
. "$(dirname "$0")/lib/traffic-lab.sh"

SIZES=1,10,100,1000 SECS=10 SERVERS="wolfguard wolfguard-w2 ocserv" EXTRA=()
usage() { sed -n '7,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--sizes) SIZES=${2-}; shift ;;
	--seconds) SECS=${2-}; shift ;;
	--servers) SERVERS=${2-}; shift ;;
	--cstp) EXTRA+=(--cstp) ;;
	--rate) EXTRA+=(--rate "${2-}"); shift ;;
	--size) EXTRA+=(--size "${2-}"); shift ;;
	*) usage ;;
	esac
	shift
done
[[ $SIZES =~ ^[0-9]+(,[0-9]+)*$ && $SECS =~ ^[0-9]+$ ]] || usage
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 1; }

note() { echo "capacity: $*" >&2; }
trap 'sink_stop; lab_down' EXIT
trap 'exit 130' INT TERM HUP

traffic_pool
lab_up || exit 1
traffic_sources_up || { note "cannot add the client addresses"; exit 1; }
sink_start || exit 1
RESULTS=$RUN/capacity.jsonl
: >"$RESULTS"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
note "$(nproc) CPUs, load $LOAD_START, runs in $RUN"

# drops NS: "udp_rcvbuf_errors udp_sndbuf_errors tun_tx_dropped" of a namespace (where
# datagrams are lost when a reader falls behind: a UDP socket's receive
# buffer, a TUN queue the server does not read fast enough).
drops() {
	local u t
	# shellcheck disable=SC2016 # awk's own $fields
	u=$(ip netns exec "$1" awk '$1 == "Udp:" && !h {for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next}
		$1 == "Udp:" {print $c["RcvbufErrors"], $c["SndbufErrors"]}' /proc/net/snmp)
	t=$(ip -n "$1" -j -s link show type tun 2>/dev/null | jq '[.[].stats64.tx.dropped] | add // 0')
	echo "${u:-0 0} ${t:-0}"
}

# run_one CONFIG SESSIONS: a fresh server, one bench run, its JSON line.
run_one() {
	local cfg=$1 n=$2 kind workers=1 out=$RUN/$1-$2.out rc
	case "$cfg" in
	wolfguard) kind=wolfguard ;;
	wolfguard-w2) kind=wolfguard workers=2 ;;
	ocserv) kind=ocserv ;;
	*) note "unknown server $cfg"; return 1 ;;
	esac
	note "=== $cfg, $n sessions"
	traffic_server_start "$kind" "$workers" >&2 || { note "$cfg did not start"; return 1; }
	local d0s d0c d1s d1c
	d0s=$(drops "$NS_SRV") d0c=$(drops "$NS_CLI")
	BENCH_TIMEOUT=$((n / 2 + 300 + SECS)) bench_traffic "$out" -n "$n" -c 32 --src "$TRAFFIC_SRC_NET" \
		--setup-timeout $((n / 2 + 240)) --conn-timeout 120 --settle 3 --seconds "$SECS" --label "$cfg-$n" "${EXTRA[@]}"
	rc=$?
	d1s=$(drops "$NS_SRV") d1c=$(drops "$NS_CLI")
	# shellcheck disable=SC2086 # three numbers each
	set -- $d0s $d1s $d0c $d1c
	note "drops during the run: server UDP receive/send buffers $(($4 - $1))/$(($5 - $2)), server TUN queues $(($6 - $3)), client UDP receive/send buffers $((${10} - $7))/$((${11} - $8))"
	[ $rc = 0 ] || note "bench exit status $rc (3: not every session held): $(tail -n 2 "$out.err" | tr '\n' ' ')"
	grep -E '^  (established|failed|traffic|packets|goodput|loss|per session|server CPU  |bench CPU)' "$out" >&2
	if [ -n "$(bench_json "$out")" ]; then
		bench_json "$out" | jq -c --arg cfg "$cfg" '. + {config: $cfg}' >>"$RESULTS"
	fi
	server_stop
	# ocserv's per-session TUN devices go with its workers.
	wait_for 120 sh -c "[ \$(ip netns exec $NS_SRV ip -o link show type tun | wc -l) = 0 ]" ||
		note "TUN devices left in the server namespace"
}

for cfg in $SERVERS; do
	if [[ $cfg == wolfguard* ]] && [ ! -x "$(wolfguard_bin)" ]; then
		note "$(wolfguard_bin) not found: $cfg skipped (set WOLFGUARD_BIN)"
		continue
	fi
	for n in ${SIZES//,/ }; do run_one "$cfg" "$n" || exit 1; done
done

echo
printf '%-13s %5s %5s %8s %8s %7s %7s %7s %8s %6s %26s %6s\n' server sess held "up Gb/s" "dn Gb/s" "loss up" "loss dn" "CPU s/GB" "Gb/s/core" cores "per-session dn Mb/s min/med/max" Jain
jq -r '[.config, .sessions, .held, .traffic.up_gbps, .traffic.down_gbps, .traffic.loss_up, .traffic.loss_down,
	.traffic.cpu_s_per_gb, .traffic.gbps_per_core, .traffic.server_cores, .traffic.down_mbps.min,
	.traffic.down_mbps.median, .traffic.down_mbps.max, .traffic.down_mbps.jain] | @tsv' "$RESULTS" |
	while IFS=$'\t' read -r c s h u d lu ld cpu pc cores mn md mx jn; do
		printf '%-13s %5s %5s %8.3f %8.3f %6.2f%% %6.2f%% %8.2f %8.3f %6.2f %8.2f/%7.2f/%8.2f %6.3f\n' "$c" "$s" "$h" "$u" "$d" \
			"$(awk -v v="$lu" 'BEGIN {print v * 100}')" "$(awk -v v="$ld" 'BEGIN {print v * 100}')" "$cpu" "$pc" "$cores" \
			"$mn" "$md" "$mx" "$jn"
	done
echo
echo "ratios, same run (wolfguard / ocserv): server CPU per GB, and goodput both ways"
for n in ${SIZES//,/ }; do
	for cfg in wolfguard wolfguard-w2; do
		jq -rs --arg c "$cfg" --argjson n "$n" '
			(map(select(.config == $c and .sessions == $n)) | .[0].traffic) as $w |
			(map(select(.config == "ocserv" and .sessions == $n)) | .[0].traffic) as $o |
			if $w and $o and $o.cpu_s_per_gb > 0 and ($o.up_gbps + $o.down_gbps) > 0 then
				"  \($n) sessions, \($c): CPU/GB \($w.cpu_s_per_gb / $o.cpu_s_per_gb * 1000 | round / 1000), goodput \(($w.up_gbps + $w.down_gbps) / ($o.up_gbps + $o.down_gbps) * 1000 | round / 1000)"
			else empty end' "$RESULTS"
	done
done
echo "(goodput: inner IP bytes over the sending time, client->LAN counted by the sink, LAN->client by the bench;"
echo " CPU s/GB: server processes' user+system time from go to drained per GB moved both ways; Gb/s/core = 8 / CPU s/GB;"
echo " cores: server CPU seconds / wall seconds; the bench, the sink and the server share this machine's $(nproc) CPUs;"
echo " load average at the start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg))"
echo "JSON lines: $RESULTS"
cp "$RESULTS" "/tmp/capacity-$(date +%Y%m%dT%H%M%S).jsonl" 2>/dev/null && echo "(copied to /tmp)"
