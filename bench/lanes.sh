#!/usr/bin/env bash
# Lanes benchmark (issue 15): wolfguard-client --lanes against wolfguard in
# the namespace lab of tests/e2e/lib.sh, with a second client-server path and
# both paths shaped with tc. Side by side, in one run:
#
#   A  aggregate: 4 parallel TCP flows, one lane (path A) vs two lanes (A and
#      B), each path 200 Mbit/s; goal: two lanes >= 1.8 x one lane
#   B  cut: path B's UDP dropped in the middle of a 4-flow iperf3 run; the
#      longest gap (100 ms iperf3 intervals without bytes), and whether the
#      session survived; the same cut against openconnect whose DTLS runs
#      over path B (its TLS over path A); goal: gap < 1 s, no drop
#   C  server CPU-seconds per GB, unshaped, 4 flows: two lanes vs
#      openconnect's single DTLS lane; goal: no worse
#   D  one TCP flow, unshaped: wolfguard-client with two lanes vs without
#      lanes (its DTLS); goal: no worse
#
# Usage (root): flock /tmp/wolfguard-bench.lock bench/lanes.sh [--seconds N] [--rate MBIT] [--only LIST]
#   --rate MBIT   each path's shaping in A and B (default 200)
#   --only LIST   the scenarios to run, e.g. A or C,D (default A,B,C,D)
#   LANES_PERF=DIR in the environment: perf profiles of the server in D (DIR/d_lanes.perf, d_plain.perf)
# Needs build/core/wolfguard, build/tools/client/wolfguard-client
# (WOLFGUARD_CLIENT_BIN) and iperf3, tc, nft, jq. A benchmark, not a test:
# it prints what it measured and fails only when a server or client cannot
# be started. Results belong in docs/benchmarks.md with this command line.
set -uo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"

SECS=20 RATE=200 ONLY=A,B,C,D
usage() { echo "usage: $0 [--seconds N] [--rate MBIT] [--only A,B,C,D]" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) SECS=${2:-}; shift ;;
	--rate) RATE=${2:-}; shift ;;
	--only) ONLY=${2:-}; shift ;;
	-h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) usage ;;
	esac
	shift
done
[[ $SECS =~ ^[0-9]+$ ]] && [ "$SECS" -ge 6 ] && [ "$SECS" -le 300 ] || usage
[[ $RATE =~ ^[0-9]+$ ]] && [ "$RATE" -ge 1 ] || usage
[[ $ONLY =~ ^[ABCD](,[ABCD])*$ ]] || usage
want() { [[ ,$ONLY, == *",$1,"* ]]; } # SCENARIO
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 1; }
CLIENT_BIN=${WOLFGUARD_CLIENT_BIN:-$TOP/build/tools/client/wolfguard-client}
[ -x "$CLIENT_BIN" ] || { echo "$0: $CLIENT_BIN not built" >&2; exit 1; }

trap lab_down EXIT
trap 'exit 130' INT TERM HUP
note() { echo "bench: $*" >&2; }
# The load average (1 minute) now: the run's numbers depend on it.
load1() { cut -d' ' -f1 /proc/loadavg; }
LOAD_START=$(load1)

# Path B (the client's eth1, the server's pathb, 192.0.2.0/24) and the tc
# shaping of both paths: tests/e2e/tests-lanes-paths.sh, whose e2e test runs
# the same topology.
# shellcheck source=tests/e2e/tests-lanes-paths.sh
. "$(dirname "$0")/../tests/e2e/tests-lanes-paths.sh"
# A 20 ms queue at the bottleneck (a router's, not a 2 ms one that drops
# the lanes' probes along with the TCP segments that fill it).
shape() { lanes_paths_shape "$RATE" 20; }
unshape() { lanes_paths_unshape; }

lanes_conf() {
	wolfguard_conf false
	cat >"$RUN/conf.d/35-transport-lanes.json" <<JSON
{"plugin": "transport-lanes", "options": {"port": 4443, "probe-interval-ms": 100, "probe-deadline-ms": 300}}
JSON
}

# wg_client TAG ARGS...: wolfguard-client in the client namespace, as
# client_connect starts openconnect.
wg_client() {
	local tag=$1 end addr
	shift
	rm -f "$RUN/env-$tag"
	LAB_RUN_DIR=$RUN ip netns exec "$NS_CLI" "$CLIENT_BIN" --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" --interface "tun-$tag" --script "$E2E_DIR/client-script.sh" "$@" \
		"https://$SRV_ADDR/" <<<secret1 >"$RUN/client-$tag.log" 2>&1 &
	CLIENT_PID[$tag]=$!
	CLIENT_NS[$tag]=$NS_CLI
	end=$(($(now_us) + CONNECT_TIMEOUT * 1000000))
	while [ "$(now_us)" -lt "$end" ]; do
		addr=$(client_env "$tag" INTERNAL_IP4_ADDRESS)
		[ -n "$addr" ] && ip -n "$NS_CLI" -4 addr show dev "tun-$tag" 2>/dev/null | grep -q "inet $addr/" && return 0
		sleep 0.1
	done
	return 1
}

ctl() { "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" -s "$RUN/control.sock" "$@"; }
lanes_alive_is() { # N
	[ "$(ctl --json list | jq '[.sessions[0].transports["transport-lanes"].lanes[] | select(.alive)] | length')" = "$1" ]
}

# iperf3 with P flows for SECS seconds, 100 ms intervals, JSON into FILE;
# prints the receiver's Mbit/s.
run_iperf() { # P FILE [extra iperf3 args]
	local p=$1 file=$2 srv
	shift 2
	in_ns "$NS_LAN" timeout $((SECS + 30)) iperf3 -s -1 -B "$LAN_ADDR" -p 5203 >/dev/null 2>&1 &
	srv=$!
	wait_for 30 sh -c "ip netns exec $NS_LAN ss -Hltn 'sport = :5203' | grep -q ." || return 1
	in_ns "$NS_CLI" timeout $((SECS + 20)) iperf3 -c "$LAN_ADDR" -p 5203 -P "$p" -t "$SECS" -i 0.1 -J "$@" >"$file"
	wait "$srv" 2>/dev/null
	jq '.end.sum_received.bits_per_second / 1e6 | floor' "$file"
}

# The longest run of 100 ms intervals in which no bytes arrived, in ms: of
# all flows together, and of the worst single flow (a flow on the cut path
# stalls while the others carry on, which the sum hides).
longest_gap_ms() { # FILE
	jq '[.intervals[].sum.bytes] | reduce .[] as $b ({cur: 0, max: 0};
		if $b == 0 then .cur += 1 | .max = ([.max, .cur] | max) else .cur = 0 end) | .max * 100' "$1"
}
longest_flow_gap_ms() { # FILE
	jq '[.intervals[].streams] | transpose | map(reduce .[] as $s ({cur: 0, max: 0};
		if ($s.bytes // 0) == 0 then .cur += 1 | .max = ([.max, .cur] | max) else .cur = 0 end) | .max) | max * 100' "$1"
}
# The lanes' left_rotation counters of the session, "lane0/lane1".
lanes_left() {
	ctl --json list | jq -r '[.sessions[0].transports["transport-lanes"].lanes[].left_rotation | tostring] | join("/")'
}

# Scenario B's cut: path B's UDP dropped in both directions at the server,
# SECS/2 seconds into the run.
cut_path_b_later() {
	(sleep $((SECS / 2)) && in_ns "$NS_SRV" nft add table inet benchcut &&
		in_ns "$NS_SRV" nft add chain inet benchcut in '{ type filter hook input priority -10; }' &&
		in_ns "$NS_SRV" nft add rule inet benchcut in iifname pathb meta l4proto udp drop) &
}

declare -A R
lab_up || exit 1
lanes_path_b_up || { note "path B could not be built"; exit 1; }
note "two paths of ${RATE} Mbit/s each, ${SECS}s runs, $(nproc) CPUs"

# The CPU time of process PID so far, in microseconds.
pid_cpu_usec() { # PID
	awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($14 + $15) * 1e6 / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}
# UDP datagrams namespace NS dropped for a full receive buffer so far.
udp_rcvbuf_errors() { # NS
	in_ns "$1" nstat -az UdpRcvbufErrors Udp6RcvbufErrors 2>/dev/null | awk '/RcvbufErrors/ {n += $2} END {print n + 0}'
}
# run_iperf with the server's and the client's (wolfguard-client TAG) CPU:
# sets R[KEY] (Mbit/s), R[KEY_srv] and R[KEY_cli] (CPU-seconds per GB),
# R[KEY_why]: TCP retransmissions, UDP datagrams dropped at the server's
# and the client's full socket buffers.
run_iperf_cpu() { # KEY TAG P [iperf3 args]
	local key=$1 tag=$2 p=$3 s0 s1 c0 c1 m us0 uc0
	shift 3
	s0=$(server_cpu_usec) c0=$(pid_cpu_usec "${CLIENT_PID[$tag]}")
	us0=$(udp_rcvbuf_errors "$NS_SRV") uc0=$(udp_rcvbuf_errors "$NS_CLI")
	# LANES_PERF=DIR: the server's profile of the run in DIR/KEY.perf (perf report -i).
	local perf=
	if [ -n "${LANES_PERF:-}" ]; then
		perf record -q -g -o "$LANES_PERF/$key.perf" -p "$(server_pids | paste -sd,)" -- sleep "$SECS" >/dev/null 2>&1 &
		perf=$!
	fi
	m=$(run_iperf "$p" "$RUN/$key.json" "$@")
	[ -z "$perf" ] || wait "$perf" 2>/dev/null
	s1=$(server_cpu_usec) c1=$(pid_cpu_usec "${CLIENT_PID[$tag]}")
	R[$key]=$m
	R[${key}_why]="retransmits $(jq '.end.sum_sent.retransmits // "-"' "$RUN/$key.json"), UDP drops server $(($(udp_rcvbuf_errors "$NS_SRV") - us0)) client $(($(udp_rcvbuf_errors "$NS_CLI") - uc0))"
	R[${key}_srv]=$(awk -v m="$m" -v c="$((s1 - s0))" -v s="$SECS" 'BEGIN {if (m > 0) printf "%.2f", c / 1e6 / (m * 1e6 * s / 8 / 1e9); else print "-"}')
	R[${key}_cli]=$(awk -v m="$m" -v c="$((c1 - c0))" -v s="$SECS" 'BEGIN {if (m > 0) printf "%.2f", c / 1e6 / (m * 1e6 * s / 8 / 1e9); else print "-"}')
}

lanes_conf
server_start_wolfguard false >&2 || { note "wolfguard did not start"; exit 1; }
if want A || want B; then
	shape || { note "tc failed"; exit 1; }
fi
# A: one lane vs two lanes, shaped.
if want A; then
	wg_client one --lanes 1 --lane-bind eth0 || { note "no tunnel with one lane"; exit 1; }
	wait_for 30 lanes_alive_is 1 || note "WARNING: the lane is not alive"
	R[a1]=$(run_iperf 4 "$RUN/a1.json")
	client_disconnect one
	wg_client two --lanes 2 --lane-bind eth0 --lane-bind eth1 || { note "no tunnel with two lanes"; exit 1; }
	wait_for 30 lanes_alive_is 2 || note "WARNING: not two lanes alive"
	R[a2]=$(run_iperf 4 "$RUN/a2.json")
	R[a2_left]=$(lanes_left)
	client_disconnect two
fi
# B: the cut, with two lanes.
if want B; then
	wg_client two --lanes 2 --lane-bind eth0 --lane-bind eth1 || { note "no tunnel with two lanes"; exit 1; }
	wait_for 30 lanes_alive_is 2 || note "WARNING: not two lanes alive"
	cut_path_b_later
	R[b_rate]=$(run_iperf 4 "$RUN/b.json")
	R[b_gap]=$(longest_gap_ms "$RUN/b.json")
	R[b_flow_gap]=$(longest_flow_gap_ms "$RUN/b.json")
	R[b_left]=$(lanes_left)
	R[b_alive]=$(kill -0 "${CLIENT_PID[two]}" 2>/dev/null && echo yes || echo no)
	in_ns "$NS_SRV" nft delete table inet benchcut 2>/dev/null
	client_disconnect two
	# B against openconnect: its DTLS over path B (a policy route for UDP 443),
	# its TLS over path A.
	ip -n "$NS_CLI" rule add ipproto udp dport 443 table 101 && ip -n "$NS_CLI" route add "$SRV_ADDR/32" dev eth1 src "$PATHB_CLI" table 101
	client_connect alice secret1 || { note "openconnect: no tunnel"; exit 1; }
	client_wait_dtls alice 30 || note "WARNING: openconnect got no DTLS"
	cut_path_b_later
	R[o_rate]=$(run_iperf 4 "$RUN/o.json")
	R[o_gap]=$(longest_gap_ms "$RUN/o.json")
	R[o_flow_gap]=$(longest_flow_gap_ms "$RUN/o.json")
	R[o_alive]=$(kill -0 "${CLIENT_PID[alice]}" 2>/dev/null && echo yes || echo no)
	in_ns "$NS_SRV" nft delete table inet benchcut 2>/dev/null
	ip -n "$NS_CLI" rule del ipproto udp dport 443 table 101
	client_disconnect alice
fi
# C: CPU per GB, unshaped, 4 flows: two lanes vs a single DTLS lane
# (openconnect's, connected afresh over path A so that its DTLS is up; and
# wolfguard-client's without lanes).
unshape
cpu_per_gb() { # TAG: the server's CPU-seconds per GB of a 4-flow run
	local c0 c1 m
	c0=$(server_cpu_usec)
	m=$(run_iperf 4 "$RUN/c_$1.json")
	c1=$(server_cpu_usec)
	awk -v m="$m" -v c="$((c1 - c0))" -v s="$SECS" 'BEGIN {if (m > 0) printf "%.2f", c / 1e6 / (m * 1e6 * s / 8 / 1e9); else print "-"}'
}
if want C; then
	client_connect alice secret1 || { note "openconnect: no tunnel"; exit 1; }
	client_wait_dtls alice 30 || note "WARNING: openconnect got no DTLS"
	R[c_oc]=$(cpu_per_gb oc)
	client_disconnect alice
fi
# D: one flow, unshaped, lanes vs the same client without lanes (its DTLS),
# with each end's CPU per GB.
if want C || want D; then
	wg_client two --lanes 2 --lane-bind eth0 --lane-bind eth1 || { note "no tunnel with two lanes"; exit 1; }
	wait_for 30 lanes_alive_is 2 || note "WARNING: not two lanes alive"
	want C && R[c_lanes]=$(cpu_per_gb lanes)
	want D && run_iperf_cpu d_lanes two 1
	client_disconnect two
	wg_client plain || { note "no tunnel without lanes"; exit 1; }
	want C && R[c_plain]=$(cpu_per_gb plain)
	want D && run_iperf_cpu d_plain plain 1
	client_disconnect plain
fi
server_stop

LOAD_END=$(load1)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }
echo
printf '%-62s %s\n' "A  4 flows, one lane (Mbit/s)" "${R[a1]:--}"
printf '%-62s %s\n' "A  4 flows, two lanes over two paths (Mbit/s)" "${R[a2]:--}"
printf '%-62s %s\n' "A  ratio two/one (goal >= 1.8)" "$(ratio "${R[a2]:-0}" "${R[a1]:-0}")"
printf '%-62s %s\n' "A  times each lane left the rotation in that run (lane 0/1)" "${R[a2_left]:--}"
printf '%-62s %s ms (worst flow %s ms), %s Mbit/s, session kept: %s, lanes left the rotation (0/1): %s\n' \
	"B  path B cut mid-run, lanes: longest gap, all flows" "${R[b_gap]:--}" "${R[b_flow_gap]:--}" "${R[b_rate]:--}" \
	"${R[b_alive]:--}" "${R[b_left]:--}"
printf '%-62s %s ms (worst flow %s ms), %s Mbit/s, session kept: %s\n' \
	"B  the same cut, openconnect DTLS: longest gap, all flows" "${R[o_gap]:--}" "${R[o_flow_gap]:--}" "${R[o_rate]:--}" \
	"${R[o_alive]:--}"
printf '%-62s %s\n' "C  server CPU-s per GB, two lanes" "${R[c_lanes]:--}"
printf '%-62s %s\n' "C  server CPU-s per GB, openconnect DTLS" "${R[c_oc]:--}"
printf '%-62s %s\n' "C  server CPU-s per GB, wolfguard-client DTLS (no lanes)" "${R[c_plain]:--}"
printf '%-62s %s\n' "C  ratio lanes/openconnect DTLS (goal <= 1)" "$(ratio "${R[c_lanes]:-0}" "${R[c_oc]:-0}")"
printf '%-62s %s (CPU-s per GB: server %s, client %s)\n' "D  one TCP flow, two lanes (Mbit/s)" "${R[d_lanes]:--}" \
	"${R[d_lanes_srv]:--}" "${R[d_lanes_cli]:--}"
printf '%-62s %s\n' "D    two lanes:" "${R[d_lanes_why]:--}"
printf '%-62s %s (CPU-s per GB: server %s, client %s)\n' "D  one TCP flow, no lanes (Mbit/s)" "${R[d_plain]:--}" \
	"${R[d_plain_srv]:--}" "${R[d_plain_cli]:--}"
printf '%-62s %s\n' "D    no lanes:" "${R[d_plain_why]:--}"
printf '%-62s %s\n' "D  ratio lanes/no lanes (goal >= 1)" "$(ratio "${R[d_lanes]:-0}" "${R[d_plain]:-0}")"
printf '%-62s %s / %s (%s CPUs)\n' "load average (1 min) at the start / the end" "$LOAD_START" "$LOAD_END" "$(nproc)"
