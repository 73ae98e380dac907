# shellcheck shell=bash
# The end-to-end lab, sourced by tests/e2e/run.sh, tests/e2e/capture-http.sh
# and bench/throughput.sh. See tests/e2e/README.md.
#
# Network namespaces (names carry a per-run prefix, so runs in parallel do
# not collide; only documentation ranges, only inside these namespaces):
#
#   <p>-cli  198.51.100.2 --\
#                            br0 198.51.100.1  <p>-srv  203.0.113.1 --- 203.0.113.2  <p>-lan
#   <p>-cli2 198.51.100.3 --/   (VPN server)   forwarding on           (iperf3, ping target;
#                                                                      10.8.0.0/24 via 203.0.113.1)
#
# VPN pool 10.8.0.0/24 (server 10.8.0.1), pushed route 203.0.113.0/24,
# DNS 203.0.113.53, split DNS example.test. The same functions drive Debian's
# ocserv or wolfguard (server_start_ocserv / server_start_wolfguard), and the
# real openconnect client (client_connect / client_disconnect) with our own
# client-script.sh in place of vpnc-script.
#
# Robustness rules: every wait is for a condition and bounded by a generous
# deadline (wait_for), never a fixed sleep or a speed: the suite must pass on
# a slow or busy machine (WOLFGUARD_STRESS=1 scripts/test.sh runs it under a
# CPU hog, with sanitizer builds); a deadline only decides how long a broken
# server takes to fail. Every process the lab starts lives in one of its namespaces (lab_down
# kills what is left there, then deletes the namespaces), and the server
# runs in its own cgroup so the CPU time of all its processes, exited ones
# included, can be read.
#
# Environment knobs: LAB_ID (name prefix part; default $$x$RANDOM), LAB_KEEP=1 keeps
# the run directory, WOLFGUARD_BIN, WOLFGUARD_PLUGIN_DIR, WG_LOG_LEVEL,
# CONNECT_TIMEOUT.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$E2E_DIR/../.." && pwd)
# $$ alone is not unique: sandboxes with their own pid namespaces may share
# /run/netns.
LAB_ID=${LAB_ID:-$$x$RANDOM}
LAB_PFX=wgt$LAB_ID
NS_CLI=$LAB_PFX-cli NS_CLI2=$LAB_PFX-cli2 NS_SRV=$LAB_PFX-srv NS_LAN=$LAB_PFX-lan
SRV_ADDR=198.51.100.1 CLI_ADDR=198.51.100.2 CLI2_ADDR=198.51.100.3
SRV_LAN_ADDR=203.0.113.1 LAN_ADDR=203.0.113.2
POOL_NET=10.8.0.0/24
PUSHED_ROUTE=203.0.113.0/24 PUSHED_DNS=203.0.113.53 PUSHED_SPLIT_DNS=example.test
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-60} # openconnect gives up on a blocked DTLS after ~12 s
RUN=            # run directory (certificates, configs, logs), made by lab_up
SERVER_PID=     # pid of the server's main process
SERVER_KIND=    # ocserv | wolfguard
SERVER_CG=      # the server's cgroup directory, if one could be made
SERVER_CG_KIND= # v2 | v1
CERT_TYPE=ecdsa # which server certificate the next server_start_* uses
PIN=            # pin-sha256:... of the server key of CERT_TYPE
declare -gA CLIENT_PID=() # tag -> pid of openconnect
declare -gA CLIENT_NS=()  # tag -> namespace it runs in
LAB_NETNS=()              # the namespaces this run created (only these are deleted)

log() { echo "lab: $*" >&2; }

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds;
# returns 1 once SECONDS of wall-clock time have passed (a slow COMMAND does
# not stretch the deadline).
wait_for() {
	local secs=$1 end
	shift
	end=$(($(now_us) + secs * 1000000))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(now_us)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; } # microseconds since the epoch
now_ms() { echo $(($(now_us) / 1000)); }

in_ns() { # ns command...
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# --- topology ---------------------------------------------------------------

lab_up() {
	RUN=$(mktemp -d "/tmp/wgt-lab.$LAB_ID.XXXXXX") || return 1
	# The server reads password files, scripts and conf.d here after it
	# dropped root (to nobody): the lab's throwaway files are world-readable.
	chmod 755 "$RUN" # ocserv's workers (user nobody) use the socket in it too
	local ns
	for ns in "$NS_SRV" "$NS_CLI" "$NS_CLI2" "$NS_LAN"; do
		ip netns add "$ns" || { log "lab_up: cannot create namespace $ns (name taken?)"; return 1; }
		LAB_NETNS+=("$ns")
	done
	(
		set -e
		for ns in "$NS_SRV" "$NS_CLI" "$NS_CLI2" "$NS_LAN"; do
			ip -n "$ns" link set lo up
		done
		# Links are made directly inside the namespaces: nothing is ever
		# named or configured in the namespace the script was started in.
		ip -n "$NS_SRV" link add br0 type bridge
		ip -n "$NS_CLI" link add eth0 type veth peer name cli1 netns "$NS_SRV"
		ip -n "$NS_CLI2" link add eth0 type veth peer name cli2 netns "$NS_SRV"
		ip -n "$NS_LAN" link add eth0 type veth peer name lan0 netns "$NS_SRV"
		ip -n "$NS_SRV" link set cli1 master br0
		ip -n "$NS_SRV" link set cli2 master br0
		ip -n "$NS_SRV" addr add "$SRV_ADDR/24" dev br0
		ip -n "$NS_SRV" addr add "$SRV_LAN_ADDR/24" dev lan0
		for l in br0 cli1 cli2 lan0; do ip -n "$NS_SRV" link set "$l" up; done
		ip -n "$NS_CLI" addr add "$CLI_ADDR/24" dev eth0
		ip -n "$NS_CLI2" addr add "$CLI2_ADDR/24" dev eth0
		ip -n "$NS_LAN" addr add "$LAN_ADDR/24" dev eth0
		for ns in "$NS_CLI" "$NS_CLI2" "$NS_LAN"; do ip -n "$ns" link set eth0 up; done
		ip -n "$NS_LAN" route add "$POOL_NET" via "$SRV_LAN_ADDR"
		in_ns "$NS_SRV" sysctl -qw net.ipv4.ip_forward=1
		in_ns "$NS_SRV" sysctl -qw net.ipv6.conf.all.forwarding=1
	) || { log "lab_up: building the namespaces failed"; return 1; }
	lab_gro
	wait_for 30 in_ns "$NS_CLI" ping -c1 -W1 "$SRV_ADDR" || { log "lab_up: client cannot reach the server"; return 1; }
	wait_for 30 in_ns "$NS_CLI2" ping -c1 -W1 "$SRV_ADDR" || { log "lab_up: client 2 cannot reach the server"; return 1; }
	make_certs || { log "lab_up: certificate generation failed"; return 1; }
	make_users
}

# GRO on the server's veth ends toward the clients, as a real NIC has it by
# default (a veth pair does no GRO until asked): the kernel may then hand a
# burst of one client's datagrams to a UDP socket with UDP_GRO as one train
# (plugins/lib-dtls/udp_gro.h). LAB_GRO=0 leaves it off. Without ethtool
# (Debian: ethtool, installed by scripts/deps.sh) it stays off, with a note.
LAB_GRO=${LAB_GRO:-1}
LAB_GRO_ON=0 # 1 once lab_up turned it on
lab_gro() {
	[ "$LAB_GRO" = 1 ] || return 0
	command -v ethtool >/dev/null || { log "no ethtool: GRO stays off on the lab's veth pairs"; return 0; }
	local l
	for l in cli1 cli2; do
		in_ns "$NS_SRV" ethtool -K "$l" gro on rx-udp-gro-forwarding on >/dev/null 2>&1 || { log "ethtool -K $l gro on failed: GRO stays off"; return 0; }
		[ "${LAB_GRO_FLUSH_NS:-0}" = 0 ] || in_ns "$NS_SRV" sh -c "echo $LAB_GRO_FLUSH_NS >/sys/class/net/$l/gro_flush_timeout"
	done
	LAB_GRO_ON=1
}

# Idempotent; safe from a trap at any point of lab_up.
lab_down() {
	local ns pids p
	for p in "${CLIENT_PID[@]}"; do
		kill -KILL "$p" 2>/dev/null
		{ wait "$p"; } 2>/dev/null
	done
	server_stop 2>/dev/null
	for ns in "${LAB_NETNS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
	done
	for ns in "${LAB_NETNS[@]}"; do
		wait_for 30 sh -c "[ -z \"\$(ip netns pids $ns)\" ]"
		ip netns del "$ns" 2>/dev/null || log "lab_down: could not delete $ns"
	done
	LAB_NETNS=()
	cg_remove
	if [ -n "$RUN" ] && [ -d "$RUN" ] && [ -z "${LAB_KEEP:-}" ]; then rm -rf "$RUN"; fi
	[ -z "${LAB_KEEP:-}" ] || [ -z "$RUN" ] || log "kept $RUN"
	CLIENT_PID=()
	return 0
}

# --- certificates and users ---------------------------------------------------

# A throwaway CA and two server certificates for CN=vpn.test signed by it:
# $RUN/server-ecdsa.{pem,key} (P-256) and $RUN/server-rsa.{pem,key} (RSA
# 2048). The .pem files hold the chain (server, then CA); .crt the server
# certificate alone.
make_certs() {
	local t
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
		-subj "/CN=wolfguard lab CA $LAB_ID" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		-keyout "$RUN/ca.key" -out "$RUN/ca.pem" 2>"$RUN/openssl.log" || return 1
	printf '%s\n' "subjectAltName=DNS:vpn.test" "extendedKeyUsage=serverAuth" \
		"keyUsage=critical,digitalSignature,keyEncipherment" "basicConstraints=CA:FALSE" >"$RUN/server.ext"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$RUN/server-ecdsa.key" 2>>"$RUN/openssl.log" || return 1
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$RUN/server-rsa.key" 2>>"$RUN/openssl.log" || return 1
	for t in ecdsa rsa; do
		openssl req -new -key "$RUN/server-$t.key" -subj /CN=vpn.test -out "$RUN/server-$t.csr" 2>>"$RUN/openssl.log" &&
			openssl x509 -req -in "$RUN/server-$t.csr" -CA "$RUN/ca.pem" -CAkey "$RUN/ca.key" -CAcreateserial \
				-days 7 -extfile "$RUN/server.ext" -out "$RUN/server-$t.crt" 2>>"$RUN/openssl.log" || return 1
		cat "$RUN/server-$t.crt" "$RUN/ca.pem" >"$RUN/server-$t.pem"
	done
	chmod 644 "$RUN"/*.key # ocserv's sec-mod reads them; the keys are throwaway
	use_cert ecdsa
}

# pin_of KEYFILE: openconnect's --servercert form, the SHA-256 of the
# DER SubjectPublicKeyInfo, base64.
pin_of() {
	echo "pin-sha256:$(openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 -binary | base64)"
}

use_cert() { # ecdsa|rsa: the certificate the next server start uses; sets PIN
	CERT_TYPE=$1
	PIN=$(pin_of "$RUN/server-$1.key")
}

# Users in ocpasswd format (user:group:crypt), read by both servers.
make_users() {
	: >"$RUN/ocpasswd"
	add_user alice secret1 engineering
	add_user bob secret2 sales
	chmod 644 "$RUN/ocpasswd"
}

add_user() { # name password group
	printf '%s:%s:%s\n' "$1" "$3" "$(openssl passwd -6 "$2")" >>"$RUN/ocpasswd"
}

# --- the server's cgroup (CPU time of all its processes, exited ones too) ----

cg_create() {
	local base
	cg_remove
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		base=/sys/fs/cgroup SERVER_CG_KIND=v2
	elif grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/mounts 2>/dev/null; then
		base=/sys/fs/cgroup/unified SERVER_CG_KIND=v2
	elif [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
		base=/sys/fs/cgroup/cpuacct SERVER_CG_KIND=v1
	else
		SERVER_CG='' SERVER_CG_KIND=''
		return 0
	fi
	SERVER_CG=$base/$LAB_PFX-server
	mkdir "$SERVER_CG" 2>/dev/null || { SERVER_CG='' SERVER_CG_KIND=''; }
	return 0
}

cg_remove() {
	[ -n "$SERVER_CG" ] && [ -d "$SERVER_CG" ] || return 0
	wait_for 30 sh -c "[ ! -s '$SERVER_CG/cgroup.procs' ]"
	rmdir "$SERVER_CG" 2>/dev/null || log "could not remove cgroup $SERVER_CG"
	SERVER_CG=
}

# Server CPU time (user+system) so far, in microseconds: from the cgroup,
# else from the process tree (live processes' own time plus the time of
# the children they reaped).
server_cpu_usec() {
	if [ "$SERVER_CG_KIND" = v2 ] && [ -n "$SERVER_CG" ]; then
		awk '$1 == "usage_usec" {print $2}' "$SERVER_CG/cpu.stat"
	elif [ "$SERVER_CG_KIND" = v1 ] && [ -n "$SERVER_CG" ]; then
		echo $(($(cat "$SERVER_CG/cpuacct.usage") / 1000))
	else
		local hz p t=0
		hz=$(getconf CLK_TCK)
		for p in $(server_pids); do
			# fields after the ")" of comm: utime=12 stime=13 cutime=14 cstime=15
			t=$((t + $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13 + $14 + $15}' || echo 0)))
		done
		echo $((t * 1000000 / hz))
	fi
}

# All live processes of the server (ocserv: main, sec-mod, one worker per
# client).
server_pids() {
	if [ -n "$SERVER_CG" ] && [ -s "$SERVER_CG/cgroup.procs" ]; then
		cat "$SERVER_CG/cgroup.procs"
		return 0
	fi
	[ -n "$SERVER_PID" ] || return 0
	local todo=("$SERVER_PID") p n=0
	# Breadth-first over children; bounded in case of a runaway fork loop.
	while [ ${#todo[@]} -gt 0 ] && [ $n -lt 4096 ]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		echo "$p"
		n=$((n + 1))
		mapfile -t -O ${#todo[@]} todo < <(pgrep -P "$p")
	done
}

# Sum of PSS (KiB) over all server processes.
server_pss_kib() {
	local p t=0 v
	for p in $(server_pids); do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo $t
}

# --- servers --------------------------------------------------------------------

# server_launch KIND COMMAND...: runs COMMAND in the server namespace inside
# the server's cgroup, output to $RUN/server.log.
server_launch() {
	local kind=$1
	shift
	SERVER_KIND=$kind
	cg_create
	: >"$RUN/server.log"
	if [ -n "$SERVER_CG" ]; then
		# Joins the cgroup before `ip netns exec`, which mounts its own /sys.
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$SERVER_CG" ip netns exec "$NS_SRV" "$@" >>"$RUN/server.log" 2>&1 &
	else
		ip netns exec "$NS_SRV" "$@" >>"$RUN/server.log" 2>&1 &
	fi
	SERVER_PID=$!
	echo "$SERVER_PID" >"$RUN/server.pid"
}

server_listening() { # TCP and UDP 443 bound in the server namespace
	in_ns "$NS_SRV" ss -Hltn 'sport = :443' | grep -q . && in_ns "$NS_SRV" ss -Hlun 'sport = :443' | grep -q .
}

server_wait_ready() { # at most 90 s (a sanitizer build on a busy machine starts slowly)
	local end=$(($(now_us) + 90000000))
	while [ "$(now_us)" -lt "$end" ]; do
		server_listening && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	log "$SERVER_KIND did not start listening:"
	tail -n 20 "$RUN/server.log" >&2
	return 1
}

server_alive() { [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; }

# server_log_count_ge TEXT N: at least N lines of the server log hold TEXT
# (for wait_for: several processes log the same event at their own pace).
server_log_count_ge() { [ "$(grep -c -- "$1" "$RUN/server.log")" -ge "$2" ]; }

# Debian's ocserv: plain auth from $RUN/ocpasswd, TCP and UDP 443, the pool,
# route, DNS and split DNS above; no worker isolation (its seccomp filter is
# not wanted inside the lab), foreground, socket and pid file in $RUN.
server_start_ocserv() { # [isolate-clients: false (ocserv has no such switch)] [extra config lines...]
	local conf=$RUN/ocserv.conf
	case "${1:-}" in
	false) shift ;;
	true) log "ocserv cannot isolate clients from each other"; return 1 ;;
	esac
	ocserv_lab_conf "$conf" "$@"
	server_launch ocserv ocserv -f -c "$conf"
	server_wait_ready
}

# ocserv_lab_conf FILE [extra lines...]: the lab's ocserv configuration (also
# the input of the migration tests, tests/package/test_migrate.sh).
ocserv_lab_conf() {
	local conf=$1 line
	shift
	cat >"$conf" <<CONF
auth = "plain[passwd=$RUN/ocpasswd]"
listen-host = $SRV_ADDR
tcp-port = 443
udp-port = 443
run-as-user = nobody
run-as-group = nogroup
socket-file = $RUN/ocserv.sock
pid-file = $RUN/ocserv.pid
server-cert = $RUN/server-$CERT_TYPE.pem
server-key = $RUN/server-$CERT_TYPE.key
isolate-workers = false
max-clients = 16
max-same-clients = 4
rate-limit-ms = 0
keepalive = 32
dpd = 90
mobile-dpd = 1800
try-mtu-discovery = false
cookie-timeout = 120
deny-roaming = false
auth-timeout = 60
device = vpns
predictable-ips = true
ipv4-network = $POOL_NET
dns = $PUSHED_DNS
split-dns = $PUSHED_SPLIT_DNS
route = $PUSHED_ROUTE
ping-leases = false
use-occtl = false
log-level = 2
CONF
	for line in "$@"; do echo "$line" >>"$conf"; done
}

# wolfguard: conf.d of JSON files (see core/config/config.h, core/config/server_options.c
# and the plugins' option tables); binary $WOLFGUARD_BIN (default
# build/core/wolfguard), plugins from $WOLFGUARD_PLUGIN_DIR (default: the
# plugins directory of the same build). wolfguard_conf writes the conf.d;
# tests may add or replace files in it before server_start_wolfguard.
wolfguard_bin() { echo "${WOLFGUARD_BIN:-$TOP/build/core/wolfguard}"; }

wolfguard_conf() { # [isolate-clients: true|false]
	local c=$RUN/conf.d
	rm -rf "$c" && mkdir -p "$c"
	cat >"$c/00-server.json" <<JSON
{"server": {"listen": "$SRV_ADDR", "port": 443, "udp-port": 443,
  "certificate": "$RUN/server-$CERT_TYPE.pem", "private-key": "$RUN/server-$CERT_TYPE.key",
  "isolate-clients": ${1:-false}, "cookie-lifetime": 120, "log-level": "${WG_LOG_LEVEL:-info}",
  "user": "nobody", "group": "nogroup", "sandbox": "${WG_SANDBOX:-on}",
  "control-socket": "$RUN/control.sock"}}
JSON
	cat >"$c/10-log-stderr.json" <<JSON
{"plugin": "log-stderr", "options": {"level": "debug"}}
JSON
	cat >"$c/20-auth-plain.json" <<JSON
{"plugin": "auth-plain", "options": {"password-file": "$RUN/ocpasswd"}}
JSON
	cat >"$c/30-routing-static.json" <<JSON
{"plugin": "routing-static", "options": {"ipv4-network": "$POOL_NET",
  "routes": ["$PUSHED_ROUTE"], "dns": ["$PUSHED_DNS"], "split-dns": ["$PUSHED_SPLIT_DNS"]}}
JSON
	cat >"$c/40-transport-dtls.json" <<JSON
{"plugin": "transport-dtls", "options": {}}
JSON
}

server_start_wolfguard() { # [isolate-clients: true|false]
	local bin plugdir
	bin=$(wolfguard_bin)
	[ -x "$bin" ] || { log "wolfguard binary $bin not found (set WOLFGUARD_BIN)"; return 1; }
	plugdir=${WOLFGUARD_PLUGIN_DIR:-$(cd "$(dirname "$bin")/../plugins" 2>/dev/null && pwd)}
	[ -f "$RUN/conf.d/00-server.json" ] || wolfguard_conf "${1:-false}"
	if ! WOLFGUARD_PLUGIN_DIR=$plugdir timeout 120 "$bin" --check-config "$RUN/conf.d" >"$RUN/check-config.log" 2>&1; then
		log "wolfguard --check-config $RUN/conf.d failed:"
		cat "$RUN/check-config.log" >&2
		return 1
	fi
	server_launch wolfguard env WOLFGUARD_PLUGIN_DIR="$plugdir" "$bin" -c "$RUN/conf.d"
	server_wait_ready
}

server_start() { # kind [args]: server_start_ocserv / server_start_wolfguard
	local kind=$1
	shift
	"server_start_$kind" "$@"
}

# Stops the server (TERM, then KILL after 60 s: a sanitizer build's exit,
# with its leak check, must not be cut short, or its report would be lost)
# and every process left in its cgroup (ocserv workers).
server_stop() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		wait_for 60 sh -c "! kill -0 $SERVER_PID" || { log "server ignored SIGTERM for 60 s: killed"; kill -KILL "$SERVER_PID" 2>/dev/null; }
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=
	fi
	if [ -n "$SERVER_CG" ] && [ -s "$SERVER_CG/cgroup.procs" ]; then
		wait_for 30 sh -c "[ ! -s '$SERVER_CG/cgroup.procs' ]" ||
			xargs -r kill -KILL <"$SERVER_CG/cgroup.procs" 2>/dev/null
	fi
	nft_clear
	return 0
}

# nft in the server namespace: counters for TCP and UDP 443 (nft_count
# tcp|udp), and with block-udp the "UDP blocked" case: UDP 443 dropped.
nft_setup() { # [block-udp]
	nft_clear
	in_ns "$NS_SRV" nft -f - <<NFT || return 1
table inet lab {
	counter tcp443 { }
	counter udp443 { }
	chain input {
		type filter hook input priority 0;
		tcp dport 443 counter name tcp443
		udp dport 443 counter name udp443
		$([ "${1:-}" = block-udp ] && echo "udp dport 443 drop")
	}
}
NFT
}

nft_count() { # tcp|udp -> packets seen on port 443
	in_ns "$NS_SRV" nft list counter inet lab "${1}443" 2>/dev/null | awk '/packets/ {print $2; exit}'
}

nft_clear() { in_ns "$NS_SRV" nft delete table inet lab 2>/dev/null; return 0; }

# --- clients --------------------------------------------------------------------

# client_connect USER PASS [options] [-- openconnect-args...]
#   --no-dtls        CSTP only
#   --ns NS          namespace (default $NS_CLI; $NS_CLI2 is the second client)
#   --tag TAG        names the client: tun device tun-TAG, log $RUN/client-TAG.log,
#                    received configuration $RUN/env-TAG (default: USER)
#   --cookie COOKIE  log in with a cookie from `openconnect --authenticate`
#                    (PASS is then ignored)
#   --cafile         verify the server against the lab CA as vpn.test instead of
#                    the pin
# Starts openconnect in the background (its pid in CLIENT_PID[TAG]) and waits,
# at most CONNECT_TIMEOUT s (60 by default: with UDP blocked openconnect waits
# ~12 s for DTLS before it configures the tunnel), until the client script
# configured tun-TAG with the address the server gave. Returns 0 then, 1 if
# the client gave up or timed out (the process may then still be running:
# client_exit_code).
client_connect() {
	local user=$1 pass=$2 ns=$NS_CLI tag=$1 cookie='' cafile='' args=() addr pid
	shift 2
	while [ $# -gt 0 ]; do
		case "$1" in
		--no-dtls) args+=(--no-dtls) ;;
		--ns) ns=$2; shift ;;
		--tag) tag=$2; shift ;;
		--cookie) cookie=$2; shift ;;
		--cafile) cafile=1 ;;
		--) shift; args+=("$@"); break ;;
		*) log "client_connect: unknown option $1"; return 2 ;;
		esac
		shift
	done
	if [ -n "$cafile" ]; then
		args+=(--cafile "$RUN/ca.pem" --resolve "vpn.test:$SRV_ADDR")
	else
		args+=(--servercert "$PIN")
	fi
	rm -f "$RUN/env-$tag" "$RUN/events-$tag"
	if [ -n "$cookie" ]; then
		LAB_RUN_DIR=$RUN ip netns exec "$ns" openconnect --non-inter --cookie-on-stdin \
			--interface "tun-$tag" --script "$E2E_DIR/client-script.sh" --reconnect-timeout 10 \
			-v "${args[@]}" "$(client_server_url "$cafile")" \
			<<<"$cookie" >"$RUN/client-$tag.log" 2>&1 &
	else
		LAB_RUN_DIR=$RUN ip netns exec "$ns" openconnect --non-inter --passwd-on-stdin -u "$user" \
			--interface "tun-$tag" --script "$E2E_DIR/client-script.sh" --reconnect-timeout 10 \
			-v "${args[@]}" "$(client_server_url "$cafile")" \
			<<<"$pass" >"$RUN/client-$tag.log" 2>&1 &
	fi
	pid=$!
	CLIENT_PID[$tag]=$pid
	CLIENT_NS[$tag]=$ns
	local end=$(($(now_us) + CONNECT_TIMEOUT * 1000000))
	while [ "$(now_us)" -lt "$end" ]; do
		if [ -s "$RUN/env-$tag" ]; then
			addr=$(client_env "$tag" INTERNAL_IP4_ADDRESS)
			[ -n "$addr" ] && ip -n "$ns" -4 addr show dev "tun-$tag" 2>/dev/null | grep -q "inet $addr/" && return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

client_server_url() { # [cafile]; CLIENT_URL (set for one call) names another (a vhost's name)
	if [ -n "${CLIENT_URL:-}" ]; then echo "$CLIENT_URL"; elif [ -n "${1:-}" ]; then echo "https://vpn.test/"; else echo "https://$SRV_ADDR/"; fi
}

# client_env TAG VAR: a variable openconnect handed to the client script.
client_env() { sed -n "s/^$2=//p" "$RUN/env-$1" 2>/dev/null | head -n 1; }

client_log() { echo "$RUN/client-$1.log"; }

client_pid() { echo "${CLIENT_PID[$1]:-}"; }

# client_wait_dtls TAG [SECONDS]: waits (default 60 s: a DTLS handshake on a
# loaded machine can take several of openconnect's retransmissions) until
# openconnect reports DTLS up.
client_wait_dtls() { wait_for "${2:-60}" grep -q "Established DTLS connection" "$RUN/client-$1.log"; }

# client_exit_code TAG [SECONDS]: waits at most SECONDS (default 30) for the
# client to exit; prints its exit status ("running" if it did not exit,
# "none" if there is no such client).
client_exit_code() {
	local pid=${CLIENT_PID[$1]:-}
	[ -n "$pid" ] || { echo none; return; }
	wait_for "${2:-30}" sh -c "! kill -0 $pid"
	if kill -0 "$pid" 2>/dev/null; then echo running; return; fi
	wait "$pid" 2>/dev/null
	echo $?
}

# client_disconnect TAG [--keep-session]: SIGINT logs the session off;
# --keep-session sends SIGHUP instead, which disconnects but leaves the
# session for a reconnect with the cookie. KILL after 10 s.
client_disconnect() {
	local tag=$1 pid=${CLIENT_PID[$1]:-} sig=INT
	[ "${2:-}" = --keep-session ] && sig=HUP
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null
	wait_for 30 sh -c "! kill -0 $pid" || { log "client $tag ignored SIG$sig"; kill -KILL "$pid" 2>/dev/null; }
	{ wait "$pid"; } 2>/dev/null
	unset "CLIENT_PID[$tag]"
	wait_for 30 sh -c "! ip -n '${CLIENT_NS[$tag]}' link show 'tun-$tag'"
	return 0
}

client_disconnect_all() {
	local t
	for t in "${!CLIENT_PID[@]}"; do client_disconnect "$t"; done
}

# --- traffic ----------------------------------------------------------------------

# iperf_mbps NS SECONDS [-R]: one iperf3 run from NS to the LAN host through
# the tunnel (-R: LAN host sends); prints the receiver's Mbit/s (integer) or
# nothing on failure. A fresh one-shot server per run, both ends bounded.
IPERF_PORT=5201
iperf_mbps() {
	local ns=$1 secs=$2 rev=${3:-} srv out
	in_ns "$NS_LAN" timeout $((secs + 20)) iperf3 -s -1 -B "$LAN_ADDR" -p $IPERF_PORT >/dev/null 2>&1 &
	srv=$!
	if ! wait_for 30 sh -c "ip netns exec $NS_LAN ss -Hltn 'sport = :$IPERF_PORT' | grep -q ."; then
		kill "$srv" 2>/dev/null
		wait "$srv" 2>/dev/null
		return 1
	fi
	out=$(in_ns "$ns" timeout $((secs + 15)) iperf3 -c "$LAN_ADDR" -p $IPERF_PORT -t "$secs" -f m $rev 2>&1)
	echo "$out" >>"$RUN/iperf.log"
	wait_for 5 sh -c "! kill -0 $srv"
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	echo "$out" | awk '/ receiver$/ {for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") {printf "%d\n", $i; exit}}'
}

# iperf_volume NS MBYTES [-R]: sends MBYTES MiB through the tunnel from NS to
# the LAN host (-R: the LAN host sends) and prints the receiver's Mbit/s
# (integer) once all of it arrived; nothing if it did not. The tests ask that
# the tunnel carries the data, not how fast: a busy machine is slow, and the
# deadline (4 min) only bounds a transfer that stalled.
iperf_volume() { iperf_volume_to "$LAN_ADDR" iperf "$@"; }

# iperf_volume_to ADDR LOG NS MBYTES [-R]: iperf_volume to the LAN host's
# ADDR (IPv4, or IPv6 with a colon), iperf3's JSON appended to $RUN/LOG.log.
iperf_volume_to() {
	local addr=$1 logname=$2 ns=$3 mb=$4 rev=${5:-} srv out bytes fam=()
	[[ $addr != *:* ]] || fam=(-6)
	in_ns "$NS_LAN" timeout 300 iperf3 -s -1 -B "$addr" -p "$IPERF_PORT" >/dev/null 2>&1 &
	srv=$!
	if ! wait_for 30 sh -c "ip netns exec $NS_LAN ss -Hltn 'sport = :$IPERF_PORT' | grep -q ."; then
		kill "$srv" 2>/dev/null
		wait "$srv" 2>/dev/null
		return 1
	fi
	out=$(in_ns "$ns" timeout 240 iperf3 "${fam[@]}" -c "$addr" -p "$IPERF_PORT" -n "${mb}M" -J ${rev:+"$rev"} 2>&1)
	echo "$out" >>"$RUN/$logname.log"
	wait_for 30 sh -c "! kill -0 $srv"
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	# Complete: no error and all of it sent (TCP delivers what was sent; the
	# sender's test ends when the data is written, so the receiver's count at
	# that moment may lack what is still in flight).
	bytes=$(jq -r 'if .error then 0 else (.end.sum_sent.bytes // 0 | floor) end' <<<"$out" 2>/dev/null)
	[ "${bytes:-0}" -ge $((mb * 1048576)) ] 2>/dev/null || return 0
	jq -r '.end.sum_received.bits_per_second / 1000000 | floor' <<<"$out"
}

# ping_ok NS TARGET: a reply comes, within 30 s (pings every 0.2 s until the
# first answer).
ping_ok() { in_ns "$1" ping -c 1 -i 0.2 -w 30 "$2" >/dev/null 2>&1; }

# ping_none NS TARGET: 5 pings over 2 s, none answered within 3 s of the last
# (the check that something is NOT reachable; ping_ok's deadline would only
# make it slower).
ping_none() { ! in_ns "$1" ping -c 5 -i 0.4 -W 3 "$2" >/dev/null 2>&1; }
