#!/usr/bin/env bash
# Cluster failover benchmark: sessions spread over two wolfguard nodes that
# share one Redis (docs/cluster.md), then node A killed: how many of its
# sessions come back on node B with their cookies, and how fast.
#
# Usage (root): bench/cluster.sh [--sizes 200,1000] [--concurrency N] [--shared-pool yes|no]
#
#   --sizes        sessions per run, dealt in turn to node A and node B (default 200,1000)
#   --concurrency  set-ups and reconnects in flight (default 32)
#   --shared-pool  the nodes lease from one pool claimed in Redis (default yes),
#                  or each from its own slice (no)
#
# One network namespace made here holds everything: redis-server on
# 127.0.0.1:6399, node A on 127.0.0.1:443, node B on 127.0.0.1:8443, and
# bench/cluster_failover.py (the clients, from 127.1.x.y sources). The
# clients reconnect as soon as their connection drops (a real openconnect
# waits its own back-off first): the numbers are the nodes' and Redis's
# part of a failover. Run it inside `flock /tmp/wolfguard-bench.lock`.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
WOLFGUARD_BIN=${WOLFGUARD_BIN:-$TOP/build/core/wolfguard}
PLUGIN_DIR=${WOLFGUARD_PLUGIN_DIR:-$TOP/build/plugins}
SIZES=200,1000 CONC=32 SHARED=yes
USER_NAME=bench USER_PASS=bench-secret-1
REDIS_PORT=6399

usage() { sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--sizes) SIZES=${2-}; shift ;;
	--concurrency) CONC=${2-}; shift ;;
	--shared-pool) SHARED=${2-}; shift ;;
	*) usage ;;
	esac
	shift
done
[[ $SIZES =~ ^[0-9]+(,[0-9]+)*$ && $CONC =~ ^[0-9]+$ && $SHARED =~ ^(yes|no)$ ]] || usage
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespace)" >&2; exit 1; }
[ -x "$WOLFGUARD_BIN" ] || { echo "$0: $WOLFGUARD_BIN missing: bash scripts/build.sh release" >&2; exit 1; }

note() { echo "cluster: $*" >&2; }
RUN=$(mktemp -d /tmp/wgcluster.XXXXXX) || exit 1
chmod 755 "$RUN" # the nodes read their files as nobody once sandboxed
PIDS=()
# shellcheck source=bench/lib/loopback-lab.sh
. "$TOP/bench/lib/loopback-lab.sh"

stop_all() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
	# Whatever is left in the namespace (a node's helper process) goes too.
	lab_kill_all 50
}
cleanup() {
	stop_all
	[ -z "$NS_MADE" ] || ip netns del "$NS" 2>/dev/null
	if [ -n "${CLUSTER_KEEP:-}" ]; then note "kept $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

lab_ns_up wgclb || exit 1
lab_cert cluster.test || exit 1
lab_user "$USER_NAME" bench "$USER_PASS"
head -c 48 /dev/urandom >"$RUN/cluster.key"
chmod 644 "$RUN/cluster.key"

node_conf() { # name port net
	lab_wolfguard_conf "$RUN/conf.d-$1" "$2" "$RUN/control-$1.sock" "$3" "\"tun-device\": \"wg$1\",
  \"cluster-redis\": \"127.0.0.1:$REDIS_PORT\", \"cluster-node\": \"$1\", \"cluster-key-file\": \"$RUN/cluster.key\",
  \"cluster-shared-pool\": $([ "$SHARED" = yes ] && echo true || echo false)"
}

wait_for() { # seconds command...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

run_size() { # sessions
	local n=$1 net_a=10.64.0.0/12 net_b=10.64.0.0/12
	[ "$SHARED" = yes ] || { net_a=10.64.0.0/13; net_b=10.72.0.0/13; }
	ip netns exec "$NS" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$RUN" \
		>"$RUN/redis-$n.log" 2>&1 &
	PIDS+=($!)
	wait_for 30 sh -c "ip netns exec $NS redis-cli -p $REDIS_PORT PING 2>/dev/null | grep -q PONG" ||
		{ note "redis-server did not start"; return 1; }
	node_conf a 443 "$net_a"
	node_conf b 8443 "$net_b"
	ip netns exec "$NS" env WOLFGUARD_PLUGIN_DIR="$PLUGIN_DIR" "$WOLFGUARD_BIN" -c "$RUN/conf.d-a" >"$RUN/a-$n.log" 2>&1 &
	local pid_a=$!
	ip netns exec "$NS" env WOLFGUARD_PLUGIN_DIR="$PLUGIN_DIR" "$WOLFGUARD_BIN" -c "$RUN/conf.d-b" >"$RUN/b-$n.log" 2>&1 &
	local pid_b=$!
	PIDS+=("$pid_b" "$pid_a")
	if ! wait_for 60 grep -q "cluster: redis at .* connected" "$RUN/a-$n.log" ||
		! wait_for 60 grep -q "cluster: redis at .* connected" "$RUN/b-$n.log"; then
		note "a node did not start"
		return 1
	fi
	note "$n sessions over nodes a and b (shared pool: $SHARED), then node a killed"
	ip netns exec "$NS" timeout 900 python3 "$TOP/bench/cluster_failover.py" --nodes 127.0.0.1:443,127.0.0.1:8443 \
		--kill-pid "$pid_a" --b-pid "$pid_b" --sessions "$n" --concurrency "$CONC" --user "$USER_NAME" --password "$USER_PASS" \
		| tee "$RUN/result-$n.json"
	note "node b adopted $(grep -c "adopted from node a" "$RUN/b-$n.log") sessions; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	stop_all
}

echo "kernel $(uname -r), $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
IFS=, read -ra sizes <<<"$SIZES"
for n in "${sizes[@]}"; do run_size "$n" || exit 1; done
