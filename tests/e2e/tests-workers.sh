# shellcheck shell=bash
# The server as several worker processes ("workers": 2): clients are steered
# to a worker by their source address, VPN addresses to the worker that
# leased them (one multi-queue TUN device), and the master answers the
# control socket for all of them. Sourced by run.sh.

# The worker the client steering program picks for an IPv4 address (the
# same hash as core/workers/steer.c): ((addr * 0x9e3779b1) mod 2^32 >> 16) mod n.
worker_of() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	local h=$(((((a << 24 | b << 16 | c << 8 | d) * 0x9e3779b1) & 0xffffffff) >> 16))
	echo $((h % $2))
}

workers_conf() { # N
	wolfguard_conf false
	local f=$RUN/conf.d/00-server.json
	jq --argjson n "$1" '.server += {workers: $n}' "$f" >"$f.new" && mv "$f.new" "$f"
}

sessions_listed() { [ "$(ctl --json list | jq '.sessions | length')" = "$1" ]; } # N: wolfguardctl lists N

# The server's worker processes (children of the master).
worker_pids() { pgrep -P "$SERVER_PID" -x wolfguard; }

WOLFGUARD_TESTS+=(workers_steering workers_worker_dies)

# alice (198.51.100.2) and bob (198.51.100.3) land on different workers of
# two: each logs in, gets DTLS, reaches the LAN, and they reach each other
# through the TUN device (a packet from one worker's client steered to the
# other worker's queue). The cookie brings alice back to her worker and
# address. wolfguardctl sees both workers' sessions; disconnect, reload and
# the graceful stop reach every worker.
test_workers_steering() {
	local wa wb t
	wa=$(worker_of "$CLI_ADDR" 2)
	wb=$(worker_of "$CLI2_ADDR" 2)
	[ "$wa" != "$wb" ] || fail "test set-up: alice and bob hash to the same worker ($wa)" || return 1
	workers_conf 2
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	# Port 443 is bound by the first worker up; the master reports once
	# every worker has started (slowly, with a sanitizer build on a busy
	# machine): wait for that, not for a fixed time.
	wait_for 90 grep -q "2 workers serving" "$RUN/server.log" || fail "the master did not report its workers" || return 1
	local n
	n=$(worker_pids | wc -l)
	[ "$n" = 2 ] || fail "expected 2 worker processes under the master, found $n" || return 1

	local out cookie
	out=$(in_ns "$NS_CLI" timeout 60 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "https://$SRV_ADDR/" <<<secret1 2>"$RUN/authenticate.log")
	cookie=$(printf '%s\n' "$out" | sed -n "s/^COOKIE='\(.*\)'$/\1/p")
	[ -n "$cookie" ] || fail "--authenticate printed no COOKIE" || return 1
	connect_or_fail alice - --cookie "$cookie" || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	client_wait_dtls alice || fail "alice: no DTLS (UDP steered to another worker?)" || return 1
	client_wait_dtls bob || fail "bob: no DTLS" || return 1
	local a b
	a=$(client_env alice INTERNAL_IP4_ADDRESS)
	b=$(client_env bob INTERNAL_IP4_ADDRESS)
	address_in_pool "$a" && address_in_pool "$b" && [ "$a" != "$b" ] ||
		fail "addresses '$a' and '$b': not two distinct pool addresses" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice cannot reach the LAN" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "bob cannot reach the LAN" || return 1
	ping_ok "$NS_CLI" "$b" || fail "alice (worker $wa) cannot reach bob (worker $wb) at $b" || return 1
	# Bulk traffic both ways through each worker's own TUN queue (offloads,
	# segmentation and merging per queue).
	for t in alice:"$NS_CLI" bob:"$NS_CLI2"; do
		iperf_both "workers: ${t%%:*}" "${t#*:}" || return 1
	done
	wait_for 30 server_log_count_ge 'offloads on' 2 || fail "not both TUN queues have offloads" || return 1

	# Session ids are index + k * count: each says which worker holds it.
	local list ida idb
	list=$(ctl --json list) || fail "wolfguardctl list failed: $list" || return 1
	[ "$(jq '.sessions | length' <<<"$list")" = 2 ] || fail "list shows not 2 sessions: $list" || return 1
	ida=$(jq -r '.sessions[] | select(.user == "alice") | .id' <<<"$list")
	idb=$(jq -r '.sessions[] | select(.user == "bob") | .id' <<<"$list")
	[ $((ida % 2)) = "$wa" ] && [ $((idb % 2)) = "$wb" ] ||
		fail "alice's session $ida / bob's $idb are not on workers $wa / $wb" || return 1
	[ "$(ctl --json status | jq '.sessions, .workers' | tr '\n' ' ')" = "2 2 " ] ||
		fail "status does not sum the workers: $(ctl --json status)" || return 1

	# The cookie reconnect reaches alice's worker again: same address.
	client_disconnect alice --keep-session
	connect_or_fail alice - --cookie "$cookie" || return 1
	[ "$(client_env alice INTERNAL_IP4_ADDRESS)" = "$a" ] || fail "alice's address changed on reconnect" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic after the reconnect" || return 1

	ctl disconnect "$idb" >/dev/null || fail "disconnect of bob's session failed" || return 1
	wait_for 30 sh -c "! kill -0 $(client_pid bob) 2>/dev/null" || fail "bob's client is still connected" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice lost her tunnel when bob was disconnected" || return 1
	wait_for 30 sessions_listed 1 || fail "list after disconnect is not 1 session" || return 1

	out=$(ctl --json reload) || fail "reload failed: $out" || return 1
	wait_for 30 server_log_count_ge reload 2 || fail "not every worker logged the reload" || return 1

	kill -TERM "$SERVER_PID"
	wait_for 60 sh -c "! kill -0 $SERVER_PID 2>/dev/null" || fail "the master did not stop" || return 1
	grep -q "server shutdown" "$(client_log alice)" || fail "alice was not told of the shutdown" || return 1
	[ -z "$(pgrep -x wolfguard -P "$SERVER_PID" 2>/dev/null)" ] || fail "workers left running" || return 1
	[ ! -e "$RUN/control.sock" ] && [ ! -e "$RUN/control.sock.w0" ] ||
		fail "control sockets left behind" || return 1
	SERVER_PID=
	# Started again for run.sh, which fails a test whose server is gone.
	server_start_wolfguard false || fail "wolfguard did not start again" || return 1
}

# A worker that dies takes the server down with a clear line (its sessions
# are gone; the service manager restarts the whole), and nothing is left.
test_workers_worker_dies() {
	workers_conf 2
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	local w
	w=$(worker_pids | head -n 1)
	[ -n "$w" ] || fail "no worker process" || return 1
	kill -KILL "$w"
	wait_for 60 sh -c "! kill -0 $SERVER_PID 2>/dev/null" || fail "the master did not stop after a worker died" || return 1
	grep -q "was killed by signal 9; stopping the server" "$RUN/server.log" ||
		fail "no log line about the dead worker" || return 1
	SERVER_PID=
	server_start_wolfguard false || fail "wolfguard did not start again" || return 1
}
