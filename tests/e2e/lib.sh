# shellcheck shell=bash
# The end-to-end lab: network namespaces joined by veth pairs, a VPN server
# (wolfguard or Debian's ocserv) in one, the real openconnect client in
# others, and a LAN host behind the server. Only documentation ranges are
# used, only inside namespaces this script creates; lab_down removes all.
#
#   cli1 198.51.100.2 --- srv 198.51.100.1 | 203.0.113.1 --- lan 203.0.113.2
#   cli2 192.0.2.2    --- srv 192.0.2.1
# VPN pool 10.8.0.0/24 (server 10.8.0.1); pushed route 203.0.113.0/24,
# DNS 203.0.113.53, split DNS example.test.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$E2E_DIR/../.." && pwd)
ID=${LAB_ID:-$$}
NS_SRV=wgs$ID NS_CLI1=wgc$ID NS_CLI2=wgd$ID NS_LAN=wgl$ID
RUN=${LAB_RUN:-/tmp/wolfguard-lab.$ID}
SERVER_PID=
SERVER_KIND=
CLIENT_PIDS=()

log() { echo "lab: $*" >&2; }

# Waits until "$@" succeeds, polling every 0.1 s, for at most $1 seconds.
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

lab_up() {
	mkdir -p "$RUN"
	for ns in "$NS_SRV" "$NS_CLI1" "$NS_CLI2" "$NS_LAN"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add "v1c$ID" type veth peer name "v1s$ID"
	ip link add "v2c$ID" type veth peer name "v2s$ID"
	ip link add "vl$ID" type veth peer name "vls$ID"
	ip link set "v1c$ID" netns "$NS_CLI1"; ip link set "v1s$ID" netns "$NS_SRV"
	ip link set "v2c$ID" netns "$NS_CLI2"; ip link set "v2s$ID" netns "$NS_SRV"
	ip link set "vl$ID" netns "$NS_LAN"; ip link set "vls$ID" netns "$NS_SRV"
	ip -n "$NS_CLI1" addr add 198.51.100.2/24 dev "v1c$ID"; ip -n "$NS_CLI1" link set "v1c$ID" up
	ip -n "$NS_CLI2" addr add 192.0.2.2/24 dev "v2c$ID"; ip -n "$NS_CLI2" link set "v2c$ID" up
	ip -n "$NS_SRV" addr add 198.51.100.1/24 dev "v1s$ID"; ip -n "$NS_SRV" link set "v1s$ID" up
	ip -n "$NS_SRV" addr add 192.0.2.1/24 dev "v2s$ID"; ip -n "$NS_SRV" link set "v2s$ID" up
	ip -n "$NS_SRV" addr add 203.0.113.1/24 dev "vls$ID"; ip -n "$NS_SRV" link set "vls$ID" up
	ip -n "$NS_LAN" addr add 203.0.113.2/24 dev "vl$ID"; ip -n "$NS_LAN" link set "vl$ID" up
	ip -n "$NS_LAN" route add 10.8.0.0/24 via 203.0.113.1
	ip netns exec "$NS_SRV" sysctl -qw net.ipv4.ip_forward=1
	make_certs
}

lab_down() {
	local p
	for p in "${CLIENT_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	server_stop
	for ns in "$NS_SRV" "$NS_CLI1" "$NS_CLI2" "$NS_LAN"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "${LAB_KEEP:-}" ] || rm -rf "$RUN"
}

make_certs() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
		-subj /CN=vpn.test -keyout "$RUN/key.pem" -out "$RUN/cert.pem" 2>/dev/null
	PIN="pin-sha256:$(openssl x509 -in "$RUN/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64)"
	: >"$RUN/ocpasswd"
	add_user alice secret1 engineering
	add_user bob secret2 sales
}

add_user() { # name password group
	printf '%s:%s:%s\n' "$1" "$3" "$(openssl passwd -6 "$2")" >>"$RUN/ocpasswd"
}

# --- servers ---------------------------------------------------------------

wolfguard_conf() { # isolate(true|false) [extra json files...]
	local c="$RUN/conf.d"
	rm -rf "$c" && mkdir -p "$c"
	cat >"$c/00-server.json" <<JSON
{"server": {"listen": "0.0.0.0", "port": 443, "udp-port": 443,
  "certificate": "$RUN/cert.pem", "private-key": "$RUN/key.pem",
  "isolate-clients": $1, "cookie-lifetime": 120, "log-level": "${WG_LOG_LEVEL:-info}",
  "control-socket": "$RUN/control.sock"}}
JSON
	echo '{"plugin": "log-stderr", "options": {"level": "debug"}}' >"$c/10-log-stderr.json"
	echo "{\"plugin\": \"auth-plain\", \"options\": {\"password-file\": \"$RUN/ocpasswd\"}}" >"$c/20-auth-plain.json"
	cat >"$c/30-routing-static.json" <<JSON
{"plugin": "routing-static", "options": {"ipv4-network": "10.8.0.0/24",
  "routes": ["203.0.113.0/24"], "dns": ["203.0.113.53"], "split-dns": ["example.test"]}}
JSON
}

server_start_wolfguard() { # isolate(true|false)
	local bin=${WOLFGUARD_BIN:-$TOP/build/core/wolfguard}
	[ -f "$RUN/conf.d/00-server.json" ] || wolfguard_conf "${1:-false}"
	SERVER_KIND=wolfguard
	WOLFGUARD_PLUGIN_DIR=${WOLFGUARD_PLUGIN_DIR:-$TOP/build/plugins} \
		ip netns exec "$NS_SRV" "$bin" -c "$RUN/conf.d" >"$RUN/server.log" 2>&1 &
	SERVER_PID=$!
	wait_for 10 grep -q "listening on" "$RUN/server.log" || { log "server did not start:"; cat "$RUN/server.log" >&2; return 1; }
}

server_start_ocserv() { # isolate(true|false)
	SERVER_KIND=ocserv
	cat >"$RUN/ocserv.conf" <<CONF
auth = "plain[passwd=$RUN/ocpasswd]"
tcp-port = 443
udp-port = 443
run-as-user = nobody
run-as-group = nogroup
socket-file = $RUN/ocserv.sock
server-cert = $RUN/cert.pem
server-key = $RUN/key.pem
isolate-workers = false
max-clients = 64
max-same-clients = 64
keepalive = 32
dpd = 90
mobile-dpd = 1800
try-mtu-discovery = false
cookie-timeout = 120
deny-roaming = false
tls-priorities = "NORMAL:%SERVER_PRECEDENCE"
auth-timeout = 240
device = vpns
predictable-ips = true
ipv4-network = 10.8.0.0/24
dns = 203.0.113.53
split-dns = example.test
route = 203.0.113.0/255.255.255.0
ping-leases = false
pid-file = $RUN/ocserv.pid
use-occtl = false
CONF
	[ "${1:-false}" = true ] && echo "restrict-user-to-routes = true" >>"$RUN/ocserv.conf"
	ip netns exec "$NS_SRV" ocserv -f -c "$RUN/ocserv.conf" >"$RUN/server.log" 2>&1 &
	SERVER_PID=$!
	wait_for 10 sh -c "ip netns exec $NS_SRV ss -ltn | grep -q ':443 '" || { log "ocserv did not start:"; cat "$RUN/server.log" >&2; return 1; }
}

server_stop() {
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	wait_for 5 sh -c "! kill -0 $SERVER_PID" || kill -KILL "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
}

# All processes of the server: ocserv forks a worker per user.
server_pids() {
	[ -n "$SERVER_PID" ] || return 0
	local all=$SERVER_PID p
	for p in $(pgrep -P "$SERVER_PID"); do all="$all $p $(pgrep -P "$p" | tr '\n' ' ')"; done
	echo $all
}

# --- clients ---------------------------------------------------------------

# client_connect NS TAG USER PASS [openconnect options...]: starts openconnect
# in NS with tun device tun-TAG; waits for the tunnel address. Its log is
# $RUN/client-TAG.log and the env it was configured with $RUN/env-TAG.
client_connect() {
	local ns=$1 tag=$2 user=$3 pass=$4 server
	shift 4
	server=198.51.100.1
	[ "$ns" = "$NS_CLI2" ] && server=192.0.2.1
	rm -f "$RUN/env-$tag"
	printf '%s\n' "$pass" | LAB_RUN_DIR=$RUN ip netns exec "$ns" openconnect --non-inter --passwd-on-stdin -u "$user" \
		--servercert "$PIN" --interface "tun-$tag" --script "$E2E_DIR/client-script.sh" \
		-v "$@" "$server" >"$RUN/client-$tag.log" 2>&1 &
	local pid=$!
	CLIENT_PIDS+=("$pid")
	eval "CLIENT_PID_$tag=$pid"
	# Done when the tunnel is configured, or when the client gave up.
	wait_for 20 sh -c "test -s '$RUN/env-$tag' || ! kill -0 $pid"
	test -s "$RUN/env-$tag"
}

client_pid() { eval "echo \${CLIENT_PID_$1:-}"; }

client_env() { # TAG VAR
	sed -n "s/^$2=//p" "$RUN/env-$1"
}

client_disconnect() { # TAG [signal]
	local pid
	pid=$(client_pid "$1")
	[ -n "$pid" ] || return 0
	kill "-${2:-INT}" "$pid" 2>/dev/null
	wait_for 5 sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
