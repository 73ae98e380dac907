# shellcheck shell=bash
# The loopback lab of bench/scale.sh and bench/cluster.sh: ONE network
# namespace that holds servers and clients on 127.0.0.1, a throwaway server
# certificate, one user, and wolfguard's conf.d for it. Sourced after the
# script has set RUN (its temporary directory) and defined note().
#
#   lab_ns_up PREFIX      the namespace PREFIX$$x$RANDOM (NS), lo up; NS_MADE=1
#   in_ns CMD...          CMD in the namespace
#   lab_kill_all TRIES    kills every process in the namespace (only the
#                         script's), waits up to TRIES x 0.2 s for them
#   lab_cert CN           $RUN/cert.pem, $RUN/key.pem: ECDSA P-256, 2 days
#   lab_user USER GROUP PASS  $RUN/ocpasswd (ocpasswd format, SHA-512 crypt:
#                         ocpasswd's default), read by ocserv and auth-plain
#   lab_wolfguard_conf DIR PORT CONTROL-SOCKET POOL [MORE-SERVER-JSON]
#                         DIR/*.json: a server on 127.0.0.1:PORT without
#                         session limits, log-stderr, auth-plain with that
#                         user, routing-static leasing from POOL

NS='' NS_MADE=''

# Processes in the namespace are started with `ip netns exec` itself, not
# through a shell function: a function run with & is a subshell, and $!
# would name it instead of the process (which would then outlive a kill,
# holding the benchmark lock's descriptor).
in_ns() { ip netns exec "$NS" "$@"; }

lab_ns_up() {
	NS=$1$$x$RANDOM
	ip netns add "$NS" || { note "cannot create namespace $NS"; return 1; }
	NS_MADE=1
	in_ns ip link set lo up
}

lab_kill_all() {
	local pids i
	[ -n "$NS_MADE" ] || return 0
	for ((i = 0; i < $1; i++)); do
		pids=$(ip netns pids "$NS" 2>/dev/null)
		[ -n "$pids" ] || return 0
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null
		sleep 0.2
	done
	note "processes left in $NS: $(ip netns pids "$NS" | wc -l)"
}

lab_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$RUN/key.pem" -out "$RUN/cert.pem" 2>"$RUN/openssl.log" || { note "openssl failed"; return 1; }
	chmod 644 "$RUN/key.pem"
}

lab_user() {
	printf '%s:%s:%s\n' "$1" "$2" "$(openssl passwd -6 "$3")" >"$RUN/ocpasswd"
	chmod 644 "$RUN/ocpasswd"
}

lab_wolfguard_conf() {
	local c=$1
	rm -rf "$c" && mkdir -p "$c"
	cat >"$c/00-server.json" <<JSON
{"server": {"listen": "127.0.0.1", "port": $2, "udp-port": 0,
  "certificate": "$RUN/cert.pem", "private-key": "$RUN/key.pem",
  "isolate-clients": false, "cookie-lifetime": 300, "idle-timeout": 0, "auth-timeout": 240,
  "keepalive": 32, "dpd": 90, "max-clients": 0, "max-unauthenticated": 100000,
  "log-level": "notice", "control-socket": "$3"${5:+, $5}}}
JSON
	echo '{"plugin": "log-stderr", "options": {"level": "notice"}}' >"$c/10-log-stderr.json"
	echo "{\"plugin\": \"auth-plain\", \"options\": {\"password-file\": \"$RUN/ocpasswd\"}}" >"$c/20-auth-plain.json"
	echo "{\"plugin\": \"routing-static\", \"options\": {\"ipv4-network\": \"$4\"}}" >"$c/30-routing-static.json"
}
