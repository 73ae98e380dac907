#!/usr/bin/env bash
# Scale benchmark: how many idle sessions Debian's ocserv and wolfguard hold,
# how fast they set them up, and what each held session costs the server.
#
# Usage (root): bench/scale.sh [--sizes 100,1000,10000] [--wg-sizes 100000]
#               [--servers "ocserv wolfguard"] [--concurrency N] [--idle S]
#               [--settle S] [--server-nofile N|keep] [--wg-workers N|auto] [--no-perf]
#
#   --sizes       session counts run against every server (default 100,1000,10000)
#   --wg-sizes    extra counts run against wolfguard only (default 100000; "" for none)
#   --servers     which servers (default "ocserv wolfguard")
#   --concurrency set-ups in flight (default 100)
#   --idle        seconds of idle CPU measurement with all sessions held (default 20)
#   --settle      seconds between the end of the ramp and the measurements (default 5)
#   --server-nofile  RLIMIT_NOFILE (soft and hard) the servers start with
#                 (default: the shell's hard limit; raising it past that needs
#                 CAP_SYS_RESOURCE; "keep" leaves the shell's soft limit)
#   --max-setup S cap on one ramp (default 1800; set-ups still running then fail)
#   --conn-timeout S  per set-up (default 60)
#   --wg-workers  wolfguard's "workers" (processes); default auto: one per
#                 15 000 sessions, so no process needs more descriptors than
#                 this machine's hard limit of 20 000 allows
#   --no-perf     do not profile the idle servers
#
# Everything runs inside ONE network namespace this script creates: both
# servers listen on 127.0.0.1:443 (one at a time), tools/bench's
# wolfguard-bench connects from 127.1.x.y sources, and ocserv's per-session
# TUN devices stay private. The namespace, the processes in it and the
# temporary directory are removed on exit, failure included. Runs are
# sequential (never two big runs at once) and each is bounded by `timeout`.
#
# Per run it prints the bench's table and, at the end, one summary table;
# the raw JSON lines, server logs, smaps/perf evidence stay in the run
# directory when SCALE_KEEP=1.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BENCH_BIN=${BENCH_BIN:-$TOP/build/tools/wolfguard-bench}
WOLFGUARD_BIN=${WOLFGUARD_BIN:-$TOP/build/core/wolfguard}
SIZES=100,1000,10000 WG_SIZES=100000 SERVERS="ocserv wolfguard"
CONC=100 IDLE=20 SETTLE=5 MAX_SETUP=1800 CONN_TO=60 SRV_NOFILE=$(ulimit -Hn) PERF=1 WG_WORKERS=auto
USER_NAME=bench USER_PASS=bench-secret-1 USER_GROUP=bench
POOL_NET=10.64.0.0 POOL_LEN=12 POOL_MASK=255.240.0.0

usage() { sed -n '4,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--sizes) SIZES=${2-}; shift ;;
	--wg-sizes) WG_SIZES=${2-}; shift ;;
	--servers) SERVERS=${2-}; shift ;;
	--concurrency) CONC=${2-}; shift ;;
	--idle) IDLE=${2-}; shift ;;
	--settle) SETTLE=${2-}; shift ;;
	--server-nofile) SRV_NOFILE=${2-}; shift ;;
	--max-setup) MAX_SETUP=${2-}; shift ;;
	--conn-timeout) CONN_TO=${2-}; shift ;;
	--wg-workers) WG_WORKERS=${2-}; shift ;;
	--no-perf) PERF=0 ;;
	*) usage ;;
	esac
	shift
done
num_list() { [[ -z $1 || $1 =~ ^[0-9]+(,[0-9]+)*$ ]]; }
num_list "$SIZES" && num_list "$WG_SIZES" || usage
[[ $CONC =~ ^[0-9]+$ && $IDLE =~ ^[0-9]+$ && $SETTLE =~ ^[0-9]+$ && $MAX_SETUP =~ ^[0-9]+$ && $CONN_TO =~ ^[0-9]+$ ]] || usage
[[ $SRV_NOFILE = keep || $SRV_NOFILE =~ ^[0-9]+$ ]] || usage
[[ $WG_WORKERS = auto || $WG_WORKERS =~ ^[0-9]+$ ]] || usage
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespace)" >&2; exit 1; }
[ -x "$BENCH_BIN" ] || { echo "$0: $BENCH_BIN missing: bash scripts/build.sh release" >&2; exit 1; }

note() { echo "scale: $*" >&2; }

RUN=$(mktemp -d "/tmp/wgscale.XXXXXX") || exit 1
# wolfguard serves as nobody once set up (its sandbox) and reads the
# password file then; ocserv's workers (user nobody) use files in it too:
# the run's throwaway files are world-readable.
chmod 755 "$RUN"
SERVER_PID=
# shellcheck source=bench/lib/loopback-lab.sh
. "$TOP/bench/lib/loopback-lab.sh"

# Kills every process in the namespace (only this script's), waits for them.
ns_kill_all() { lab_kill_all 100; }

cleanup() {
	server_stop
	ns_kill_all
	[ -z "$NS_MADE" ] || ip netns del "$NS" 2>/dev/null || note "could not delete namespace $NS"
	if [ -n "${SCALE_KEEP:-}" ]; then note "kept $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

lab_ns_up wgscale || exit 1
# A throwaway server certificate and one user, shared by both servers.
lab_cert scale.test || exit 1
lab_user "$USER_NAME" "$USER_GROUP" "$USER_PASS"

kernel_limits() {
	printf 'kernel %s, %s CPUs, %s MiB RAM\n' "$(uname -r)" "$(nproc)" "$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)"
	printf 'pid_max %s, threads-max %s, file-max %s, nr_open %s, somaxconn %s (in the namespace)\n' \
		"$(cat /proc/sys/kernel/pid_max)" "$(cat /proc/sys/kernel/threads-max)" "$(cat /proc/sys/fs/file-max)" \
		"$(cat /proc/sys/fs/nr_open)" "$(in_ns cat /proc/sys/net/core/somaxconn)"
	printf 'shell RLIMIT_NOFILE %s/%s, servers start with %s; CAP_SYS_RESOURCE %s\n' "$(ulimit -Sn)" "$(ulimit -Hn)" \
		"$SRV_NOFILE" "$( (($(awk '/CapEff/ {print "0x" $2}' /proc/self/status) >> 24 & 1)) && echo yes || echo no)"
}
kernel_limits | tee "$RUN/limits.txt" >&2

ocserv_conf() {
	cat >"$RUN/ocserv.conf" <<CONF
auth = "plain[passwd=$RUN/ocpasswd]"
listen-host = 127.0.0.1
tcp-port = 443
run-as-user = nobody
run-as-group = nogroup
socket-file = $RUN/ocserv.sock
pid-file = $RUN/ocserv.pid
server-cert = $RUN/cert.pem
server-key = $RUN/key.pem
isolate-workers = false
max-clients = 0
max-same-clients = 0
rate-limit-ms = 0
max-ban-score = 0
keepalive = 32
dpd = 90
mobile-dpd = 1800
try-mtu-discovery = false
cookie-timeout = 300
deny-roaming = false
auth-timeout = 240
device = vpns
predictable-ips = true
ipv4-network = $POOL_NET
ipv4-netmask = $POOL_MASK
ping-leases = false
use-occtl = false
log-level = 1
CONF
}

# workers_for SESSIONS: wolfguard's process count for a run.
workers_for() {
	if [ "$WG_WORKERS" = auto ]; then echo $((($1 + 14999) / 15000)); else echo "$WG_WORKERS"; fi
}

wolfguard_conf() { # WORKERS
	lab_wolfguard_conf "$RUN/conf.d" 443 "$RUN/control.sock" "$POOL_NET/$POOL_LEN" "\"workers\": ${1:-1}"
}

listening() { in_ns ss -Hltn 'sport = :443' | grep -q .; }

# server_start KIND TAG [WORKERS]: the server in the namespace, its
# RLIMIT_NOFILE set first; SERVER_PID is its main process.
server_start() {
	local kind=$1 tag=$2 workers=${3:-1} plugdir i
	local lim=()
	[ "$SRV_NOFILE" = keep ] || lim=(prlimit "--nofile=$SRV_NOFILE:$SRV_NOFILE")
	case "$kind" in
	ocserv)
		ocserv_conf
		"${lim[@]}" ip netns exec "$NS" ocserv -f -c "$RUN/ocserv.conf" >"$RUN/$tag.server.log" 2>&1 &
		;;
	wolfguard)
		[ -x "$WOLFGUARD_BIN" ] || { note "$WOLFGUARD_BIN missing"; return 1; }
		plugdir=${WOLFGUARD_PLUGIN_DIR:-$(cd "$(dirname "$WOLFGUARD_BIN")/../plugins" && pwd)}
		wolfguard_conf "$workers"
		WOLFGUARD_PLUGIN_DIR=$plugdir timeout 10 "$WOLFGUARD_BIN" --check-config "$RUN/conf.d" >"$RUN/check.log" 2>&1 ||
			{ note "wolfguard --check-config failed:"; cat "$RUN/check.log" >&2; return 1; }
		WOLFGUARD_PLUGIN_DIR=$plugdir "${lim[@]}" ip netns exec "$NS" "$WOLFGUARD_BIN" -c "$RUN/conf.d" \
			>"$RUN/$tag.server.log" 2>&1 &
		;;
	esac
	SERVER_PID=$!
	for ((i = 0; i < 150; i++)); do
		listening && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	listening || { note "$kind did not start:"; tail -n 20 "$RUN/$tag.server.log" >&2; return 1; }
	# prlimit and ip netns exec exec() the server: $! is the server itself.
	note "$kind up, pid $SERVER_PID, nofile $(awk '/Max open files/ {print $4}' "/proc/$SERVER_PID/limits")"
}

# TERM, 30 s for the server and its workers to go, then everything in the
# namespace is killed; waits until ocserv's TUN devices are gone.
server_stop() {
	local i
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
	ns_kill_all
	for ((i = 0; i < 300; i++)); do
		[ "$(in_ns ip -o link show type tun 2>/dev/null | wc -l)" = 0 ] && break
		sleep 0.2
	done
}

# Evidence while every session is held: smaps of the biggest processes,
# status, fds, threads, and a perf profile of the idle server.
evidence() {
	local tag=$1 secs=$2 p out=$RUN/$tag.evidence.txt
	{
		echo "== $tag: server processes (pid ppid rss comm), first 5 of $(pgrep -c -P "$SERVER_PID" 2>/dev/null || echo 0) children"
		ps -o pid=,ppid=,rss=,nlwp=,comm= -p "$SERVER_PID"
		pgrep -P "$SERVER_PID" | head -n 5 | xargs -r ps -o pid=,ppid=,rss=,nlwp=,comm= -p
		echo "== main process status"
		grep -E '^(VmRSS|VmData|RssAnon|RssFile|Threads)' "/proc/$SERVER_PID/status"
		echo "open fds: $(ls "/proc/$SERVER_PID/fd" | wc -l)"
		echo "== main process smaps_rollup"
		cat "/proc/$SERVER_PID/smaps_rollup"
		echo "== main process: biggest mappings by Pss (KiB, mapping)"
		awk '/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "[anon]" : $6); range = $1} /^Pss:/ {print $2, name, range}' \
			"/proc/$SERVER_PID/smaps" | sort -rn | head -n 12
		p=$(pgrep -P "$SERVER_PID" | tail -n 1)
		if [ -n "$p" ]; then
			echo "== one child ($p, $(cat "/proc/$p/comm")) smaps_rollup"
			cat "/proc/$p/smaps_rollup"
		fi
		echo "== kernel: slab top (KiB)"
		awk 'NR > 2 {printf "%10d %s\n", $3 * $4 / 1024, $1}' /proc/slabinfo 2>/dev/null | sort -rn | head -n 8
		echo "== TUN devices in the namespace: $(in_ns ip -o link show type tun | wc -l)"
		echo "== sockets: $(in_ns ss -Htn state established | wc -l) established TCP in the namespace"
	} >"$out" 2>&1
	if [ "$PERF" = 1 ] && command -v perf >/dev/null && [ "$secs" -ge 4 ]; then
		timeout $((secs + 10)) perf record -q -F 499 -o "$RUN/$tag.perf.data" -p "$SERVER_PID" -- sleep $((secs - 2)) \
			>/dev/null 2>&1 &&
			{
				echo "== perf: idle server, $((secs - 2)) s, 499 Hz, flat, by symbol"
				perf report -q -i "$RUN/$tag.perf.data" --no-children --sort comm,dso,sym --stdio 2>/dev/null |
					grep -v '^$' | grep -E '^ +[0-9]' | head -n 25
			} >>"$out" 2>&1
	fi
	# glibc's own account of the heap (in use vs. held from the system),
	# printed by the server to its stderr; wolfguard only (one process).
	if [[ $tag == wolfguard-* ]] && command -v gdb >/dev/null; then
		timeout 30 gdb -p "$SERVER_PID" -batch -ex 'call (void) malloc_stats()' >/dev/null 2>&1
		sleep 0.5
		{
			echo "== glibc malloc_stats() of the server (from its log)"
			grep -E '^(Arena|system bytes|in use bytes|Total|max mmap)' "$RUN/$tag.server.log" | tail -n 40
		} >>"$out" 2>&1
	fi
}

RESULTS=$RUN/results.jsonl
: >"$RESULTS"

# bench_one KIND SESSIONS: one fresh server, one bench run, evidence.
bench_one() {
	local kind=$1 n=$2 tag="$1-$2" setup_to total bpid i workers=1
	if [ "$kind" = wolfguard ]; then
		workers=$(workers_for "$n")
		[ "$workers" = 1 ] || tag="$tag-w$workers"
	fi
	note "=== $kind, $n sessions$([ "$kind" = wolfguard ] && echo ", workers: $workers")"
	server_start "$kind" "$tag" "$workers" || { echo "{\"label\":\"$tag\",\"error\":\"server did not start\"}" >>"$RESULTS"; return 1; }
	setup_to=$((n / 40 + 120))
	[ $setup_to -le "$MAX_SETUP" ] || setup_to=$MAX_SETUP
	total=$((setup_to + SETTLE + IDLE + 120))
	in_ns timeout --kill-after=10 "$total" "$BENCH_BIN" --server 127.0.0.1:443 --user "$USER_NAME" \
		--password "$USER_PASS" -n "$n" -c "$CONC" --src 127.1.0.0/16 --conn-timeout "$CONN_TO" \
		--setup-timeout "$setup_to" --settle "$SETTLE" --idle "$IDLE" --server-pid "$SERVER_PID" \
		--label "$tag" >"$RUN/$tag.bench.out" 2>"$RUN/$tag.bench.err" &
	bpid=$!
	# While the bench measures idle CPU, collect the evidence (perf adds a
	# little CPU of its own to the machine, not to the server's processes).
	for ((i = 0; i < total * 5; i++)); do
		grep -q "idle CPU over" "$RUN/$tag.bench.err" 2>/dev/null && { evidence "$tag" "$IDLE"; break; }
		kill -0 "$bpid" 2>/dev/null || break
		sleep 0.2
	done
	wait "$bpid"
	note "bench exit status $? (3: not every session held)"
	grep -v '^{' "$RUN/$tag.bench.out" >&2
	if grep -q '^{' "$RUN/$tag.bench.out"; then
		grep '^{' "$RUN/$tag.bench.out" | tail -n 1 >>"$RESULTS"
	else
		note "no result: $(tail -n 3 "$RUN/$tag.bench.err")"
		echo "{\"label\":\"$tag\",\"error\":\"bench gave no result\"}" >>"$RESULTS"
	fi
	[ ! -s "$RUN/$tag.evidence.txt" ] || sed 's/^/  | /' "$RUN/$tag.evidence.txt" >&2
	grep -iE 'error|fail|cannot|too many' "$RUN/$tag.server.log" | sort | uniq -c | sort -rn | head -n 5 |
		sed "s/^/  server log: /" >&2
	server_stop
}

for kind in $SERVERS; do
	for n in ${SIZES//,/ }; do bench_one "$kind" "$n"; done
	if [ "$kind" = wolfguard ]; then
		for n in ${WG_SIZES//,/ }; do bench_one "$kind" "$n"; done
	fi
done

echo
cat "$RUN/limits.txt"
printf '%-20s %9s %9s %10s %9s %10s %9s %11s  %s\n' run sessions held "setups/s" "p99 ms" "PSS/sess" "CPU% idle" "CPU ms/set" "first failure"
jq -r '[.label, (.sessions // "-"), (.held // "-"), (.setup_rate // "-"), (.latency_ms.p99 // "-"),
	(.server.pss_kib_per_session // "-"), (.server.cpu_idle_pct // "-"), (.server.cpu_ms_per_setup // "-"),
	((.first_error // {}) | to_entries | map(.key + ": " + .value) | join("; ")) + (.error // "")] | @tsv' "$RESULTS" |
	while IFS=$'\t' read -r l s h r p pss cpu cps why; do
		printf '%-20s %9s %9s %10.1f %9.1f %10.1f %9.2f %11.2f  %s\n' "$l" "$s" "$h" "${r/-/0}" "${p/-/0}" "${pss/-/0}" \
			"${cpu/-/0}" "${cps/-/0}" "$why"
	done
echo "(PSS/sess: KiB of server PSS added per held session, summed over the server's processes;"
echo " CPU% idle: server processes' CPU over ${IDLE} s with every session held, keepalives running, 100 = one core;"
echo " CPU ms/set: server processes' CPU from before the ramp to all held, per set-up: the server's cost of one"
echo " login + tunnel, independent of what else shares the machine)"
echo "JSON lines:"
cat "$RESULTS"
