# shellcheck shell=bash
# The traffic lab: tests/e2e/lib.sh's namespaces (client, server, LAN) with
# what wolfguard-bench --traffic needs on top. Sourced, after
# tests/e2e/lib.sh, by bench/capacity.sh and tests/e2e/tests-bench-traffic.sh.
#   - a pool big enough for 1000 sessions (POOL_NET is set before lab_up);
#   - TRAFFIC_SRC_NET: extra client addresses in the client namespace, so
#     sessions come from many sources (wolfguard's workers steer by source
#     address: from one address every session would land on one worker);
#   - the servers started with the lab's configuration plus no session
#     limits (ocserv's max-clients, wolfguard's per-address cap on logins);
#   - wolfguard-bench-sink in the LAN namespace, and the bench in the
#     client namespace aimed at it.

TRAFFIC_POOL=10.8.0.0/21           # 2046 addresses
# shellcheck disable=SC2034 # used by the scripts that source this file
TRAFFIC_SRC_NET=198.51.100.64/27   # 30 client sources: .65 - .94
TRAFFIC_SINK_PORT=9000
SINK_PID=

# The bench and the sink of the build wolfguard comes from ($BENCH_BIN,
# $SINK_BIN override).
bench_bin() { echo "${BENCH_BIN:-$(dirname "$(wolfguard_bin)")/../tools/wolfguard-bench}"; }
sink_bin() { echo "${SINK_BIN:-$(dirname "$(wolfguard_bin)")/../tools/wolfguard-bench-sink}"; }

# Before lab_up: the pool the servers lease from and the LAN routes back.
# shellcheck disable=SC2034 # POOL_NET is tests/e2e/lib.sh's
traffic_pool() { POOL_NET=$TRAFFIC_POOL; }

# After lab_up: the extra client source addresses.
traffic_sources_up() {
	local i
	for ((i = 65; i <= 94; i++)); do
		ip -n "$NS_CLI" addr add "198.51.100.$i/24" dev eth0 2>/dev/null || return 1
	done
}

# traffic_server_start ocserv|wolfguard [WORKERS]: the lab's server without
# session limits, logging little (1000 sessions).
traffic_server_start() {
	local kind=$1 workers=${2:-1} f
	case "$kind" in
	ocserv)
		ocserv_lab_conf "$RUN/ocserv.conf"
		sed -i -e '/^max-clients =/d' -e '/^max-same-clients =/d' -e '/^log-level =/d' "$RUN/ocserv.conf"
		printf 'max-clients = 0\nmax-same-clients = 0\nlog-level = 1\n' >>"$RUN/ocserv.conf"
		server_launch ocserv ocserv -f -c "$RUN/ocserv.conf"
		server_wait_ready
		;;
	wolfguard)
		wolfguard_conf false
		f=$RUN/conf.d/00-server.json
		jq --argjson n "$workers" '.server += {workers: $n, "log-level": "notice", "max-unauthenticated": 100000,
			"max-unauthenticated-per-address": 100000}' "$f" >"$f.new" && mv "$f.new" "$f" || return 1
		echo '{"plugin": "log-stderr", "options": {"level": "notice"}}' >"$RUN/conf.d/10-log-stderr.json"
		server_start_wolfguard false || return 1
		[ "$workers" = 1 ] || wait_for 90 grep -q "$workers workers serving" "$RUN/server.log"
		;;
	*)
		log "traffic_server_start: unknown server $kind"
		return 1
		;;
	esac
}

# The sink in the LAN namespace; its totals go to $RUN/sink.log on stop.
sink_start() {
	local bin
	bin=$(sink_bin)
	[ -x "$bin" ] || { log "$bin missing (scripts/build.sh release)"; return 1; }
	: >"$RUN/sink.log"
	ip netns exec "$NS_LAN" "$bin" --port "$TRAFFIC_SINK_PORT" >>"$RUN/sink.log" 2>&1 &
	SINK_PID=$!
	wait_for 30 grep -q listening "$RUN/sink.log" || { log "the sink did not start: $(cat "$RUN/sink.log")"; return 1; }
}

sink_stop() {
	[ -n "$SINK_PID" ] || return 0
	kill -TERM "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null
	SINK_PID=
}

# bench_traffic OUT [bench options...]: the bench in the client namespace
# against the running server, its output (table, then one JSON line) in
# OUT, its progress in OUT.err; the bench's exit status. Bounded by
# timeout: the ramp, --seconds and the report rounds, generously.
bench_traffic() {
	local out=$1 bin
	shift
	bin=$(bench_bin)
	[ -x "$bin" ] || { log "$bin missing (scripts/build.sh release)"; return 1; }
	in_ns "$NS_CLI" timeout --kill-after=10 "${BENCH_TIMEOUT:-900}" "$bin" --server "$SRV_ADDR:443" \
		--src "$CLI_ADDR/32" --user alice --password secret1 --traffic --sink "$LAN_ADDR:$TRAFFIC_SINK_PORT" \
		--server-pid "$SERVER_PID" "$@" >"$out" 2>"$out.err"
}

# tun_counters_up / tun_counters: nft counters in the server namespace of
# the sink's datagrams forwarded between the TUN side and the LAN link:
# "up_packets up_bytes down_packets down_bytes" (bytes: IP lengths). The
# table is the lab's ("inet lab", with its tcp443/udp443 counters for
# nft_count), removed by server_stop.
tun_counters_up() {
	nft_clear
	in_ns "$NS_SRV" nft -f - <<NFT
table inet lab {
	counter to_lan { }
	counter from_lan { }
	counter tcp443 { }
	counter udp443 { }
	chain input {
		type filter hook input priority 0;
		tcp dport 443 counter name tcp443
		udp dport 443 counter name udp443
	}
	chain forward {
		type filter hook forward priority 0;
		iifname != "lan0" oifname "lan0" udp dport $TRAFFIC_SINK_PORT counter name to_lan
		iifname "lan0" oifname != "lan0" udp sport $TRAFFIC_SINK_PORT counter name from_lan
	}
}
NFT
}
tun_counters() {
	local c
	for c in to_lan from_lan; do
		in_ns "$NS_SRV" nft list counter inet lab "$c" | awk '/packets/ {printf "%s %s ", $2, $4}'
	done
	echo
}

# The JSON line of a bench output file.
bench_json() { grep '^{' "$1" | tail -n 1; }
