#!/usr/bin/env bash
# Throughput, server CPU per GB, latency and memory: wolfguard and Debian's
# ocserv in the same lab (tests/e2e/lib.sh), the same openconnect client.
# A benchmark, not a test: it prints numbers. Needs root.
#
# Usage: bench/throughput.sh [--cstp] [--seconds N] [--reps N]
#   --cstp     block UDP so traffic goes over TLS (CSTP) instead of DTLS
set -uo pipefail
. "$(dirname "$0")/../tests/e2e/lib.sh"

MODE=dtls SECS=10 REPS=3
while [ $# -gt 0 ]; do
	case "$1" in
	--cstp) MODE=cstp ;;
	--seconds) SECS=$2; shift ;;
	--reps) REPS=$2; shift ;;
	*) echo "usage: $0 [--cstp] [--seconds N] [--reps N]" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
trap lab_down EXIT
lab_up

ticks() { # sum of utime+stime (clock ticks) of the given pids
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo $t
}

pss_kib() {
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/smaps_rollup" ] || continue
		t=$((t + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
	done
	echo $t
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# One direction: prints "mbps cpu_seconds_per_GB".
measure() { # extra-iperf-flag
	local pids before after mbps hz
	hz=$(getconf CLK_TCK)
	ip netns exec "$NS_LAN" timeout $((SECS + 30)) iperf3 -s -1 >/dev/null 2>&1 &
	wait_for 5 sh -c "ip netns exec $NS_LAN ss -ltn | grep -q ':5201 '"
	pids=$(server_pids)
	before=$(ticks $pids)
	mbps=$(ip netns exec "$NS_CLI1" timeout $((SECS + 20)) iperf3 -c 203.0.113.2 -t "$SECS" -f m ${1:-} 2>/dev/null |
		awk '/receiver/ {print $7}')
	after=$(ticks $(server_pids))
	wait 2>/dev/null
	awk -v m="${mbps:-0}" -v b="$before" -v a="$after" -v hz="$hz" -v s="$SECS" \
		'BEGIN { gb = m * s / 8 / 1000; printf "%.0f %.2f\n", m, (gb > 0 ? (a - b) / hz / gb : 0) }'
}

run_server() { # kind -> prints "up_mbps up_cpu down_mbps down_cpu ping_ms pss_kib"
	local kind=$1 ups=() downs=() r
	"server_start_$kind" false >/dev/null || return 1
	if [ "$MODE" = cstp ]; then
		ip netns exec "$NS_SRV" nft add table inet bench
		ip netns exec "$NS_SRV" nft add chain inet bench input '{ type filter hook input priority 0; }'
		ip netns exec "$NS_SRV" nft add rule inet bench input udp dport 443 drop
	fi
	client_connect "$NS_CLI1" a alice secret1 || { echo "no tunnel for $kind" >&2; return 1; }
	[ "$MODE" = dtls ] && { wait_for 10 grep -q "Established DTLS" "$RUN/client-a.log" || echo "warning: $kind: DTLS not up" >&2; }
	for ((r = 0; r < REPS; r++)); do
		ups+=("$(measure)")
		downs+=("$(measure -R)")
	done
	local up_m up_c down_m down_c ping pss
	up_m=$(printf '%s\n' "${ups[@]}" | awk '{print $1}' | median)
	up_c=$(printf '%s\n' "${ups[@]}" | awk '{print $2}' | median)
	down_m=$(printf '%s\n' "${downs[@]}" | awk '{print $1}' | median)
	down_c=$(printf '%s\n' "${downs[@]}" | awk '{print $2}' | median)
	ping=$(ip netns exec "$NS_CLI1" ping -c 50 -i 0.02 -q 203.0.113.2 | awk -F/ '/rtt/ {print $5}')
	pss=$(pss_kib $(server_pids))
	client_disconnect a
	server_stop
	ip netns exec "$NS_SRV" nft delete table inet bench 2>/dev/null
	echo "$up_m $up_c $down_m $down_c ${ping:-0} $pss"
}

echo "bench: $MODE, $REPS x ${SECS}s each direction, medians; openconnect $(openconnect --version | awk 'NR==1 {print $NF}')" >&2
oc=$(run_server ocserv) || exit 1
wg=$(run_server wolfguard) || exit 1
read -r o1 o2 o3 o4 o5 o6 <<<"$oc"
read -r w1 w2 w3 w4 w5 w6 <<<"$wg"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), a / b }'; }
printf '%-34s %12s %12s %10s\n' "metric ($MODE)" ocserv wolfguard "wg/ocserv"
printf '%-34s %12s %12s %10s\n' "throughput client->LAN (Mbit/s)" "$o1" "$w1" "$(ratio "$w1" "$o1")"
printf '%-34s %12s %12s %10s\n' "throughput LAN->client (Mbit/s)" "$o3" "$w3" "$(ratio "$w3" "$o3")"
printf '%-34s %12s %12s %10s\n' "server CPU-s/GB client->LAN" "$o2" "$w2" "$(ratio "$w2" "$o2")"
printf '%-34s %12s %12s %10s\n' "server CPU-s/GB LAN->client" "$o4" "$w4" "$(ratio "$w4" "$o4")"
printf '%-34s %12s %12s %10s\n' "ping through tunnel (ms avg)" "$o5" "$w5" "$(ratio "$w5" "$o5")"
printf '%-34s %12s %12s %10s\n' "server memory, 1 client (PSS KiB)" "$o6" "$w6" "$(ratio "$w6" "$o6")"
