# shellcheck shell=bash
# The cluster store (docs/cluster.md): wolfguard nodes sharing sessions
# through a real redis-server (Debian's), started on loopback in the server
# namespace. The nodes take turns on the lab's one service address (node A
# is killed, node B starts on the same address and ports), as a service
# address moves between machines, so the real openconnect client reconnects
# on its own, with its cookie, to the other node. Sourced by run.sh.

REDIS_PORT=6390
REDIS_PID=

redis_start() { # [redis-server options...]: a fresh, empty redis-server with no persistence
	ip netns exec "$NS_SRV" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
		--dir "$RUN" --protected-mode no "$@" >>"$RUN/redis.log" 2>&1 &
	REDIS_PID=$!
	wait_for 30 redis_ok || { log "redis-server did not start: $(tail -n 3 "$RUN/redis.log")"; return 1; }
}

redis_ok() { [ "$(rcli PING 2>/dev/null)" = PONG ] || rcli PING 2>&1 | grep -q NOAUTH; }

redis_stop() {
	[ -n "$REDIS_PID" ] || return 0
	kill -CONT "$REDIS_PID" 2>/dev/null
	kill -TERM "$REDIS_PID" 2>/dev/null
	wait_for 30 sh -c "! kill -0 $REDIS_PID 2>/dev/null" || kill -KILL "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

rcli() { in_ns "$NS_SRV" timeout 10 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
session_keys() { rcli --scan --pattern 'wg:s:*' 2>/dev/null; }
session_keys_are() { [ "$(session_keys | grep -c .)" = "$1" ]; } # N

# The lab's conf.d with the cluster on: node NAME, its own TUN device and
# control socket, in conf.d-NAME (kept apart so that both nodes' files stay).
cluster_conf() { # name
	wolfguard_conf false
	head -c 48 /dev/urandom >"$RUN/cluster.key" 2>/dev/null || true
	[ -s "$RUN/cluster.key.keep" ] || cp "$RUN/cluster.key" "$RUN/cluster.key.keep"
	local f=$RUN/conf.d/00-server.json
	jq --arg node "$1" --arg key "$RUN/cluster.key.keep" --arg redis "127.0.0.1:$REDIS_PORT" \
		--arg ctl "$RUN/control-$1.sock" --arg tun "wg$1" \
		'.server += {"cluster-redis": $redis, "cluster-node": $node, "cluster-key-file": $key,
		  "cluster-timeout-ms": 1000, "control-socket": $ctl, "tun-device": $tun}' "$f" >"$f.new" && mv "$f.new" "$f"
}

node_start() { # name: a node on the service address; its log in node-NAME.log too
	cluster_conf "$1"
	server_start_wolfguard false || return 1
	wait_for 30 grep -q "cluster: redis at 127.0.0.1:$REDIS_PORT connected" "$RUN/server.log"
}

node_kill() { # the running node dies at once (no DISCONNECT to its clients)
	kill -KILL "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
	cp "$RUN/server.log" "$RUN/node-$1.log"
	wait_for 30 sh -c "! ip netns exec '$NS_SRV' ss -Hltn 'sport = :443' | grep -q ."
}

authenticate() { # user password -> prints the cookie
	in_ns "$NS_CLI" timeout 60 openconnect --authenticate --non-inter --passwd-on-stdin -u "$1" \
		--servercert "$PIN" "https://$SRV_ADDR/" <<<"$2" 2>"$RUN/authenticate.log" |
		sed -n "s/^COOKIE='\(.*\)'$/\1/p"
}

WOLFGUARD_TESTS+=(cluster_failover cluster_redis_faults)

# alice logs in on node A; A is killed; node B starts on the same address,
# and alice's openconnect reconnects by itself with its cookie: B adopts
# the session from Redis (same address, no password: the client has none
# left to give), traffic flows. The record in Redis is keyed by a hash, the
# cookie appears nowhere in it. alice's logout on B deletes the record, and
# her cookie is refused from then on.
test_cluster_failover() { cluster_failover; local rc=$?; redis_stop; return $rc; }
cluster_failover() {
	redis_start || fail "redis-server did not start" || return 1
	node_start a || fail "node a did not start with the cluster on: $(tail -n 3 "$RUN/server.log")" || return 1
	local cookie a
	cookie=$(authenticate alice secret1)
	[ -n "$cookie" ] || fail "--authenticate printed no COOKIE" || return 1
	connect_or_fail alice - --cookie "$cookie" -- --reconnect-timeout 120 || return 1
	a=$(client_env alice INTERNAL_IP4_ADDRESS)
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic through node a" || return 1
	wait_for 30 session_keys_are 1 || fail "redis holds not 1 session record: $(session_keys)" || return 1
	local key dump
	key=$(session_keys)
	[[ $key =~ ^wg:s:[0-9a-f]{64}$ ]] || fail "record key '$key' is not wg:s:<HMAC>" || return 1
	dump=$(rcli HGETALL "$key")
	[ "$(rcli HGET "$key" node)" = a ] || fail "record does not name node a: $dump" || return 1
	[ "$(rcli HGET "$key" addr4)" = "$a" ] || fail "record's address is not $a: $dump" || return 1
	# The cookie in any form (openconnect's cookie is the hex after webvpn=).
	local hex=${cookie#webvpn=}
	hex=${hex%%;*}
	! rcli --scan | grep -qi "$hex" && ! grep -qi "$hex" <<<"$dump" || fail "the cookie is stored in clear" || return 1
	local ttl
	ttl=$(rcli TTL "$key")
	[ "$ttl" -gt 0 ] && [ "$ttl" -le 120 ] || fail "record TTL $ttl, want 1..120 (cookie-lifetime)" || return 1

	local posts
	posts=$(grep -c "^POST " "$(client_log alice)")
	node_kill a
	node_start b || fail "node b did not start: $(tail -n 3 "$RUN/server.log")" || return 1
	local t_ready
	t_ready=$(now_ms)
	wait_for 90 grep -q "adopted from node a" "$RUN/server.log" ||
		fail "node b adopted no session: $(grep -i cluster "$RUN/server.log" | tail -n 3 | tr '\n' ' ')" || return 1
	wait_for 60 grep -q "tunnel up" "$RUN/server.log" || fail "no tunnel on node b" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic through node b after the reconnect" || return 1
	echo "   failover: node b ready -> alice's traffic flows through b in $(($(now_ms) - t_ready)) ms (openconnect's own reconnect back-off included)"
	[ "$(grep -c "^POST " "$(client_log alice)")" = "$posts" ] || fail "the client logged in again on node b" || return 1
	grep -q "tunnel up.*address $a" "$RUN/server.log" || fail "alice's address on node b is not $a" || return 1
	wait_for 30 sh -c "[ \"\$(timeout 10 ip netns exec '$NS_SRV' redis-cli -p $REDIS_PORT HGET '$key' node)\" = b ]" ||
		fail "the record does not name node b" || return 1

	# wolfguardctl --cluster reads the shared state straight from Redis.
	local list
	list=$(in_ns "$NS_SRV" "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" --cluster "127.0.0.1:$REDIS_PORT" --json sessions)
	jq -e --arg a "$a" '.sessions | length == 1 and .[0].user == "alice" and .[0].node == "b" and .[0].addr4 == $a' \
		<<<"$list" >/dev/null || fail "wolfguardctl --cluster sessions: $list" || return 1
	in_ns "$NS_SRV" "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" --cluster "127.0.0.1:$REDIS_PORT" status |
		grep -q "^node b  *1 sessions" || fail "wolfguardctl --cluster status does not show node b's session" || return 1

	# Node b's own pool does not know alice's address: bob's login on b must
	# not be given it (the lease is parked, another address leased).
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	local b
	b=$(client_env bob INTERNAL_IP4_ADDRESS)
	address_in_pool "$b" && [ "$b" != "$a" ] || fail "bob got '$b' on node b, alice holds $a" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" && ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic for both on node b" || return 1
	client_disconnect bob

	# A logout ends the session everywhere: the record goes, the cookie is refused.
	client_disconnect alice
	wait_for 30 session_keys_are 0 || fail "the ended session's record is still in redis" || return 1
	client_connect alice - --cookie "$cookie" && fail "the cookie of a logged-out session was accepted" && return 1
	wait_for 30 grep -q "cluster: no session .* on any node" "$RUN/server.log" ||
		fail "no log line for the refused cookie" || return 1
	return 0
}

# Redis down: a password login still works; a cookie this node does not
# know is refused at once with 503 and a clear line (the loop does not
# wait). Redis stuck (SIGSTOP, as a partition looks): the request times out
# after cluster-timeout-ms. Redis restarted empty: the node writes its live
# sessions again, so they can fail over again.
test_cluster_redis_faults() { cluster_redis_faults; local rc=$?; redis_stop; return $rc; }
cluster_redis_faults() {
	redis_start || fail "redis-server did not start" || return 1
	node_start a || fail "node a did not start with the cluster on" || return 1
	redis_stop
	wait_for 30 grep -q "cluster: redis at .* unavailable" "$RUN/server.log" || fail "no line for redis going away" || return 1
	connect_or_fail alice secret1 || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic with redis down" || return 1
	local foreign
	foreign=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	local t0
	t0=$(now_ms)
	client_connect bob - --ns "$NS_CLI2" --cookie "$foreign" && fail "an unknown cookie was accepted with redis down" && return 1
	wait_for 30 grep -q "cluster: cannot adopt session .*: redis unavailable" "$RUN/server.log" ||
		fail "no clear line for the refused reconnect" || return 1
	echo "   redis down: unknown cookie refused after $(($(now_ms) - t0)) ms"
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice's tunnel suffered while redis was down" || return 1

	# Back, empty: alice's record is written again (the node catches up).
	redis_start || fail "redis-server did not start again" || return 1
	wait_for 30 grep -q "cluster: redis at .* is back" "$RUN/server.log" || fail "no line for redis coming back" || return 1
	wait_for 30 session_keys_are 1 || fail "alice's record was not written again after the restart" || return 1

	# Stuck: the reply never comes; the CONNECT is refused after the timeout.
	local refused_before
	refused_before=$(grep -c "cluster: cannot adopt session .*: redis unavailable" "$RUN/server.log")
	kill -STOP "$REDIS_PID"
	t0=$(now_ms)
	client_connect bob - --ns "$NS_CLI2" --cookie "$foreign" && fail "an unknown cookie was accepted with redis stuck" && return 1
	# Refused as Redis is seen stuck: the request's own timeout, or the
	# connection already dropped for an earlier late reply.
	wait_for 30 server_log_count_ge "cluster: cannot adopt session .*: redis unavailable" $((refused_before + 1)) ||
		fail "no line for the refused reconnect with redis stuck" || return 1
	# Waited for, not looked up: the node's own line for the drop ("redis at
	# ADDR unavailable: no reply in time"), or the adoption's own request
	# timing out; under load the CONNECT may come after a poll's late reply
	# already dropped the connection.
	wait_for 30 grep -qE "unavailable: no reply in time|redis unavailable \(timeout\)" "$RUN/server.log" ||
		fail "the stall was not detected as a late reply" || return 1
	echo "   redis stuck: refused after $(($(now_ms) - t0)) ms (cluster-timeout-ms 1000)"
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice's tunnel suffered while redis was stuck" || return 1
	kill -CONT "$REDIS_PID"
	wait_for 30 server_log_count_ge "cluster: redis at .* is back" 2 || fail "the node did not reconnect after the stall" || return 1
	[ "$(grep -c "cluster: redis at .* is back" "$RUN/server.log")" -le 3 ] ||
		fail "the node flapped between up and down while redis was stuck" || return 1
	wait_for 30 session_keys_are 1 || fail "alice's record is not in redis after the stall" || return 1
	return 0
}

# A second node running beside the lab's server (which holds port 443): port
# 8443, no DTLS, its own pool, TUN device and control socket, log node-NAME.log.
NODE2_PID=
node2_start() { # name
	local c=$RUN/conf.d-$1 bin plugdir
	bin=$(wolfguard_bin)
	plugdir=${WOLFGUARD_PLUGIN_DIR:-$(cd "$(dirname "$bin")/../plugins" && pwd)}
	local more='{}'
	[ -z "${NODE2_OPTS:-}" ] || more=$NODE2_OPTS # more server options (JSON)
	rm -rf "$c" && cp -r "$RUN/conf.d" "$c" && rm -f "$c/40-transport-dtls.json"
	jq --arg node "$1" --arg ctl "$RUN/control-$1.sock" --arg tun "wg$1" --argjson more "$more" \
		'.server += {"cluster-node": $node, port: 8443, "udp-port": 0, "control-socket": $ctl, "tun-device": $tun} + $more' \
		"$c/00-server.json" >"$c/new" && mv "$c/new" "$c/00-server.json"
	# Its own slice of addresses, unless the nodes share one pool.
	jq --arg net "${NODE2_NET:-10.9.0.0/24}" '.options["ipv4-network"] = $net' "$c/30-routing-static.json" >"$c/new" &&
		mv "$c/new" "$c/30-routing-static.json"
	ip netns exec "$NS_SRV" env WOLFGUARD_PLUGIN_DIR="$plugdir" "$bin" -c "$c" >"$RUN/node-$1.log" 2>&1 &
	NODE2_PID=$!
	wait_for "${NODE2_WAIT:-90}" grep -q "cluster: redis at .* connected" "$RUN/node-$1.log"
}

node2_stop() { # fails on a sanitizer report in the second node's log (the runner checks server.log only)
	[ -n "$NODE2_PID" ] || return 0
	kill -TERM "$NODE2_PID" 2>/dev/null
	wait_for 60 sh -c "! kill -0 $NODE2_PID 2>/dev/null" || kill -KILL "$NODE2_PID" 2>/dev/null
	wait "$NODE2_PID" 2>/dev/null
	NODE2_PID=
	local f
	for f in "$RUN"/node-*.log; do
		[ -f "$f" ] || continue
		! grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$f" ||
			fail "sanitizer report in $(basename "$f"): $(grep -m1 -A12 -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$f")" ||
			return 1
	done
}

ctl_node() { "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" -s "$RUN/control-$1.sock" "${@:2}"; }

WOLFGUARD_TESTS+=(cluster_shared_ban)

# Nodes a and b run side by side. An administrator's ban on node a reaches
# node b within a few seconds (b reads the shared ban set), and bob's
# address is refused there too; alice, not banned, logs in on b. Wrong
# passwords on node b ban carol's address on node a as well.
test_cluster_shared_ban() { cluster_shared_ban; local rc=$?; node2_stop || rc=1; redis_stop; return $rc; }
cluster_shared_ban() {
	redis_start || fail "redis-server did not start" || return 1
	node_start a || fail "node a did not start" || return 1
	jq '.server += {"ban-failures": 3, "ban-window": 120, "ban-time": 300}' "$RUN/conf.d/00-server.json" \
		>"$RUN/new" && mv "$RUN/new" "$RUN/conf.d/00-server.json"
	node2_start b || fail "node b did not start: $(tail -n 3 "$RUN/node-b.log")" || return 1
	ctl_node a ban "$CLI2_ADDR" 300 >/dev/null || fail "ban on node a failed" || return 1
	wait_for 30 grep -q "$CLI2_ADDR: banned for .* (a ban shared by another node)" "$RUN/node-b.log" ||
		fail "node b did not apply node a's ban" || return 1
	ctl_node b bans | grep -q "^$CLI2_ADDR " || fail "node b's ban list lacks $CLI2_ADDR: $(ctl_node b bans)" || return 1
	local out
	out=$(in_ns "$NS_CLI2" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u bob \
		--servercert "$PIN" "https://$SRV_ADDR:8443/" <<<secret2 2>&1)
	! grep -q "^COOKIE=" <<<"$out" || fail "the banned address logged in on node b" || return 1
	grep -q "$CLI2_ADDR: connection refused: address banned" "$RUN/node-b.log" || fail "node b did not refuse bob" || return 1
	out=$(in_ns "$NS_CLI" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "https://$SRV_ADDR:8443/" <<<secret1 2>&1)
	grep -q "^COOKIE=" <<<"$out" || fail "alice (not banned) could not log in on node b: $(tail -n 2 <<<"$out")" || return 1
	# An automatic ban on b (wrong passwords from alice's address) reaches a.
	local i
	for i in 1 2 3 4; do
		in_ns "$NS_CLI" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
			--servercert "$PIN" "https://$SRV_ADDR:8443/" <<<wrong >/dev/null 2>&1
		grep -q "$CLI_ADDR: banned for 300 s after 3 failed logins" "$RUN/node-b.log" && break
	done
	grep -q "$CLI_ADDR: banned for 300 s after 3 failed logins" "$RUN/node-b.log" || fail "wrong passwords did not ban on node b" || return 1
	wait_for 30 grep -q "$CLI_ADDR: banned for .* (a ban shared by another node)" "$RUN/server.log" ||
		fail "node a did not apply node b's automatic ban" || return 1
	return 0
}

WOLFGUARD_TESTS+=(cluster_same_clients)

# max-same-clients 1 across two nodes: alice's tunnel on node a counts on
# node b once b has read the counts (its log says when): her login on b is
# refused, bob's is not; after her logout on a she logs in on b.
test_cluster_same_clients() { cluster_same_clients; local rc=$?; node2_stop || rc=1; redis_stop; return $rc; }
cluster_same_clients() {
	redis_start || fail "redis-server did not start" || return 1
	node_start a || fail "node a did not start" || return 1
	jq '.server += {"max-same-clients": 1}' "$RUN/conf.d/00-server.json" >"$RUN/new" && mv "$RUN/new" "$RUN/conf.d/00-server.json"
	node2_start b || fail "node b did not start: $(tail -n 3 "$RUN/node-b.log")" || return 1
	connect_or_fail alice secret1 || return 1
	wait_for 30 grep -q "cluster: 1 sessions of 1 users on other nodes" "$RUN/node-b.log" ||
		fail "node b never saw alice's session on node a" || return 1
	local out
	out=$(in_ns "$NS_CLI2" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "https://$SRV_ADDR:8443/" <<<secret1 2>&1)
	! grep -q "^COOKIE=" <<<"$out" || fail "alice's second session (on node b) was accepted" || return 1
	grep -q "login of alice refused: 1 sessions already, max-same-clients 1" "$RUN/node-b.log" ||
		fail "node b did not refuse alice by max-same-clients" || return 1
	out=$(in_ns "$NS_CLI2" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u bob \
		--servercert "$PIN" "https://$SRV_ADDR:8443/" <<<secret2 2>&1)
	grep -q "^COOKIE=" <<<"$out" || fail "bob could not log in on node b" || return 1
	client_disconnect alice
	wait_for 30 grep -q "cluster: 0 sessions of 0 users on other nodes" "$RUN/node-b.log" ||
		fail "node b did not see alice's session end" || return 1
	out=$(in_ns "$NS_CLI2" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "https://$SRV_ADDR:8443/" <<<secret1 2>&1)
	grep -q "^COOKIE=" <<<"$out" || fail "alice could not log in on node b after her logout on a" || return 1
	return 0
}

WOLFGUARD_TESTS+=(cluster_redis_acl)

# Redis with ACLs: the default user is off, the nodes' user may touch only
# wg:* keys. The node authenticates (AUTH user password) and writes its
# records; with a wrong password it stays down with the reason, and logins
# still work.
test_cluster_redis_acl() { cluster_redis_acl; local rc=$?; redis_stop; return $rc; }
cluster_redis_acl() {
	redis_start --user default off --user wgnode on '>s3cret' '~wg:*' '+@all' '-@dangerous' ||
		fail "redis-server with ACLs did not start" || return 1
	cluster_conf a
	echo s3cret >"$RUN/redis.pass"
	local f=$RUN/conf.d/00-server.json
	jq --arg p "$RUN/redis.pass" '.server += {"cluster-redis-user": "wgnode", "cluster-redis-password-file": $p}' \
		"$f" >"$f.new" && mv "$f.new" "$f"
	server_start_wolfguard false || fail "node a did not start" || return 1
	wait_for 30 grep -q "cluster: redis at 127.0.0.1:$REDIS_PORT connected" "$RUN/server.log" ||
		fail "node a did not authenticate: $(grep cluster "$RUN/server.log" | tail -n 2)" || return 1
	connect_or_fail alice secret1 || return 1
	wait_for 30 sh -c "[ \"\$(timeout 10 ip netns exec '$NS_SRV' redis-cli -p $REDIS_PORT --user wgnode --pass s3cret --no-auth-warning --scan --pattern 'wg:s:*' | grep -c .)\" = 1 ]" ||
		fail "no record written through the ACL user" || return 1
	client_disconnect alice
	server_stop
	echo wrong >"$RUN/redis.pass"
	server_start_wolfguard false || fail "node a did not start with a wrong redis password" || return 1
	wait_for 30 grep -q "cluster: redis at .* unavailable: AUTH failed: WRONGPASS" "$RUN/server.log" ||
		fail "no clear line for the refused AUTH: $(grep cluster "$RUN/server.log" | tail -n 2)" || return 1
	connect_or_fail alice secret1 || return 1
	return 0
}

WOLFGUARD_TESTS+=(cluster_live_old_node)

# Both nodes alive. alice's session on node a lingers (her client went
# away); she comes back through node b, which adopts it. Her logout on b
# ends it everywhere: node a's lingering copy refuses her cookie too (it
# asks Redis before resuming a lingering session, finds no record, and
# ends the copy). A plain reconnect to the node that holds the session
# still works (the record names it).
test_cluster_live_old_node() { cluster_live_old_node; local rc=$?; node2_stop || rc=1; redis_stop; return $rc; }
cluster_live_old_node() {
	redis_start || fail "redis-server did not start" || return 1
	node_start a || fail "node a did not start" || return 1
	NODE2_OPTS='{"metrics-port": 9391}' node2_start b || fail "node b did not start: $(tail -n 3 "$RUN/node-b.log")" || return 1
	local cookie a
	cookie=$(authenticate alice secret1)
	[ -n "$cookie" ] || fail "--authenticate printed no COOKIE" || return 1
	connect_or_fail alice - --cookie "$cookie" || return 1
	a=$(client_env alice INTERNAL_IP4_ADDRESS)
	client_disconnect alice --keep-session
	connect_or_fail alice - --cookie "$cookie" || return 1
	grep -q "cluster: session .* resumes here unchecked" "$RUN/server.log" &&
		fail "node a did not check Redis before resuming" && return 1
	[ "$(client_env alice INTERNAL_IP4_ADDRESS)" = "$a" ] || fail "the reconnect to node a changed the address" || return 1
	client_disconnect alice --keep-session
	SRV_ADDR="$SRV_ADDR:8443" connect_or_fail alice - --cookie "$cookie" --no-dtls || return 1
	grep -q "adopted from node a" "$RUN/node-b.log" || fail "node b did not adopt alice's session" || return 1
	[ "$(pool_metric wolfguard_cluster_adopted_sessions_total 9391)" = 1 ] ||
		fail "metrics: node b counts $(pool_metric wolfguard_cluster_adopted_sessions_total 9391) adopted sessions, want 1" || return 1
	client_disconnect alice
	wait_for 30 session_keys_are 0 || fail "the record outlived the logout on node b" || return 1
	CONNECT_TIMEOUT=20 client_connect alice - --cookie "$cookie" && fail "node a's stale copy accepted the cookie" && return 1
	wait_for 30 grep -q "ended on another node" "$RUN/server.log" || fail "node a's copy did not end" || return 1
	return 0
}

# --- The shared address pool (cluster-shared-pool) -------------------------

SHARED_NET=10.77.0.0/29 # .2 to .6: five addresses for the clients of both nodes

# The lab's conf.d of node a with the shared pool on (node2_start copies it
# for node b, given NODE2_NET=$SHARED_NET).
shared_pool_conf() { # [more server options as JSON]
	cluster_conf a
	local c=$RUN/conf.d
	local more='{}'
	[ -z "${1:-}" ] || more=$1
	jq --argjson more "$more" '.server += {"cluster-shared-pool": true, "metrics-port": 9390} + $more' \
		"$c/00-server.json" >"$c/new" && mv "$c/new" "$c/00-server.json"
	jq --arg net "$SHARED_NET" '.options["ipv4-network"] = $net' "$c/30-routing-static.json" >"$c/new" &&
		mv "$c/new" "$c/30-routing-static.json"
}

add_pool_users() { # users u1..uN with passwords pw1..pwN (the lab's file is restored after the test)
	[ -f "$RUN/ocpasswd.keep" ] || cp "$RUN/ocpasswd" "$RUN/ocpasswd.keep"
	local i
	for ((i = 1; i <= $1; i++)); do add_user "u$i" "pw$i" pool; done
}
restore_users() { [ ! -f "$RUN/ocpasswd.keep" ] || mv "$RUN/ocpasswd.keep" "$RUN/ocpasswd"; }

lease_keys() { rcli --scan --pattern 'wg:lease4:*' 2>/dev/null | sort; }
lease_keys_are() { [ "$(lease_keys | grep -c .)" = "$1" ]; } # N
node_addresses() { ctl_node "$1" --json list | jq -r '.sessions[].vpn_address // empty'; } # name
pool_metric() { in_ns "$NS_SRV" curl -sf --max-time 30 "http://127.0.0.1:${2:-9390}/metrics" | awk -v k="$1" '$1 == k {print $2; exit}'; }

login_to() { # port user password -> the client's output in $RUN/login-USER.out
	in_ns "$NS_CLI" timeout 60 openconnect --authenticate --non-inter --passwd-on-stdin -u "$2" \
		--servercert "$PIN" "https://$SRV_ADDR:$1/" <<<"$3" >"$RUN/login-$2.out" 2>&1
}
logged_in() { grep -q "^COOKIE=" "$RUN/login-$1.out"; } # user

WOLFGUARD_TESTS+=(cluster_shared_pool)

# Both nodes lease from one pool of five addresses and claim every address
# in Redis before giving it out. Eight logins race, four on each node at
# once: exactly five get an address, no address is given twice (the nodes'
# session lists and Redis's lease keys agree), the other three are refused
# with "no address" and both nodes stay up. The nodes really collided (a
# claim found the address held by the other node). Redis restarted empty
# gets every lease back from the nodes; an administrator's disconnect
# frees its address in Redis and the next login gets it.
test_cluster_shared_pool() { cluster_shared_pool; local rc=$?; node2_stop || rc=1; redis_stop; restore_users; return $rc; }
cluster_shared_pool() {
	redis_start || fail "redis-server did not start" || return 1
	add_pool_users 9
	shared_pool_conf
	server_start_wolfguard false || fail "node a did not start: $(tail -n 3 "$RUN/server.log")" || return 1
	wait_for 30 grep -q "cluster: redis at 127.0.0.1:$REDIS_PORT connected" "$RUN/server.log" || fail "node a: no redis" || return 1
	grep -q "addresses from the shared pool" "$RUN/server.log" || fail "node a does not say it uses the shared pool" || return 1
	NODE2_NET=$SHARED_NET NODE2_OPTS='{"metrics-port": 9391}' node2_start b ||
		fail "node b did not start: $(tail -n 3 "$RUN/node-b.log")" || return 1

	local i pids=() port
	for i in 1 2 3 4 5 6 7 8; do
		port=443
		((i % 2)) || port=8443
		login_to "$port" "u$i" "pw$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	local won=0 lost=0
	for i in 1 2 3 4 5 6 7 8; do
		if logged_in "u$i"; then won=$((won + 1)); else lost=$((lost + 1)); fi
	done
	[ "$won" = 5 ] && [ "$lost" = 3 ] || fail "$won logins got an address and $lost did not; want 5 and 3" || return 1
	kill -0 "$SERVER_PID" && kill -0 "$NODE2_PID" || fail "a node died in the race" || return 1
	local all
	all=$( (node_addresses a; node_addresses b) | sort)
	[ "$(grep -c . <<<"$all")" = 5 ] || fail "the nodes hold $(grep -c . <<<"$all") sessions, want 5: $all" || return 1
	[ -z "$(uniq -d <<<"$all")" ] || fail "an address was given twice: $(uniq -d <<<"$all" | tr '\n' ' ')" || return 1
	while read -r a; do
		[[ $a == 10.77.0.[2-6] ]] || fail "address $a is outside the shared pool" || return 1
	done <<<"$all"
	# Redis holds one lease per address, each for a distinct session.
	[ "$(lease_keys | sed 's/^wg:lease4://')" = "$all" ] ||
		fail "redis's leases ($(lease_keys | tr '\n' ' ')) are not the sessions' addresses ($(tr '\n' ' ' <<<"$all"))" || return 1
	[ "$(lease_keys | while read -r k; do rcli GET "$k"; done | sort -u | grep -c .)" = 5 ] ||
		fail "two leases name the same session" || return 1
	local st
	st=$(in_ns "$NS_SRV" "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" --cluster "127.0.0.1:$REDIS_PORT" --json status)
	[ "$(jq .leases <<<"$st")" = 5 ] || fail "wolfguardctl --cluster status: $st" || return 1
	[ "$(cat "$RUN/server.log" "$RUN/node-b.log" | grep -c "session ended: no address available")" = 3 ] ||
		fail "the refused logins do not each have a clear line" || return 1
	cat "$RUN/server.log" "$RUN/node-b.log" | grep -q "cluster: .* is held by another node; leasing another" ||
		fail "the nodes never collided on an address (the race did not happen)" || return 1
	local conflicts
	conflicts=$(( $(pool_metric 'wolfguard_cluster_lease_claims_total{result="conflict"}') + 0 ))
	[ "$(pool_metric wolfguard_cluster_redis_up)" = 1 ] || fail "metrics: redis not up on node a" || return 1
	echo "   race: 5 of 8 logins leased, 3 refused; node a saw $conflicts conflicts, leases $(pool_metric wolfguard_cluster_leases)"

	# Redis restarted empty: the nodes write every lease again.
	redis_stop
	redis_start || fail "redis-server did not start again" || return 1
	wait_for 30 lease_keys_are 5 || fail "the leases were not written again: $(lease_keys | tr '\n' ' ')" || return 1
	[ "$(lease_keys | sed 's/^wg:lease4://')" = "$all" ] || fail "different leases after the restart" || return 1

	# An administrator's disconnect on node b frees its address everywhere:
	# u9's login on node a gets exactly that one.
	local id freed
	id=$(ctl_node b --json list | jq -r '.sessions[0].id')
	freed=$(ctl_node b --json list | jq -r '.sessions[0].vpn_address')
	ctl_node b disconnect "$id" >/dev/null || fail "disconnect on node b failed" || return 1
	wait_for 30 lease_keys_are 4 || fail "the ended session's lease stayed in redis" || return 1
	login_to 443 u9 pw9
	logged_in u9 || fail "u9 got no address after one was freed: $(tail -n 2 "$RUN/login-u9.out")" || return 1
	node_addresses a | grep -qx "$freed" || fail "u9 did not get the freed address $freed" || return 1
	lease_keys_are 5 || fail "u9's lease is not in redis" || return 1

	# The lease travels with the session: a session of node a gets its
	# tunnel there (its record is written then), its client goes away and
	# comes back (its cookie) on node b, which adopts it with the same
	# address; the address's lease in Redis still names the same session.
	local mover addr key holder cookie
	mover=$(ctl_node a --json list | jq -r '.sessions[0].user')
	addr=$(ctl_node a --json list | jq -r '.sessions[0].vpn_address')
	key=wg:lease4:$addr
	holder=$(rcli GET "$key")
	cookie=$(sed -n "s/^COOKIE='\(.*\)'$/\1/p" "$RUN/login-$mover.out")
	[ -n "$cookie" ] && [ -n "$holder" ] || fail "no cookie or lease for $mover's session on node a" || return 1
	connect_or_fail "$mover" - --cookie "$cookie" || return 1
	client_disconnect "$mover" --keep-session
	SRV_ADDR="$SRV_ADDR:8443" connect_or_fail "$mover" - --cookie "$cookie" --no-dtls || return 1
	[ "$(client_env "$mover" INTERNAL_IP4_ADDRESS)" = "$addr" ] ||
		fail "$mover got $(client_env "$mover" INTERNAL_IP4_ADDRESS) on node b, had $addr on node a" || return 1
	grep -q "adopted from node a" "$RUN/node-b.log" || fail "node b did not adopt $mover's session" || return 1
	[ "$(rcli GET "$key")" = "$holder" ] || fail "the lease of $addr changed hands at the adoption" || return 1
	# Its logout on node b frees the address in Redis.
	client_disconnect "$mover"
	wait_for 30 sh -c "[ \"\$(timeout 10 ip netns exec '$NS_SRV' redis-cli -p $REDIS_PORT EXISTS '$key')\" = 0 ]" ||
		fail "the lease of $addr outlived the logout on node b" || return 1
	return 0
}

WOLFGUARD_TESTS+=(cluster_redis_partition)

# Node b reaches Redis at 127.0.0.2, node a at 127.0.0.1; nft in the server
# namespace drops b's packets both ways (a partition: no reset, no reply).
# b notices within its timeout and says so; a goes on leasing from the
# shared pool; b refuses new logins (it cannot claim an address) with a
# clear line; alice's session on b ends before its lease can lapse in
# Redis (so nobody else can be given her address while she still has it);
# once the lease lapsed, node a hands the address out again. After the
# partition heals, b is back and its claims see a's leases.
PART_TABLE=wgpart
partition_b() {
	in_ns "$NS_SRV" nft -f - <<NFT
table inet $PART_TABLE {
	chain input {
		type filter hook input priority 0;
		ip daddr 127.0.0.2 tcp dport $REDIS_PORT drop
		ip saddr 127.0.0.2 tcp sport $REDIS_PORT drop
	}
}
NFT
}
heal_b() { in_ns "$NS_SRV" nft delete table inet "$PART_TABLE" 2>/dev/null || true; }

test_cluster_redis_partition() { cluster_redis_partition; local rc=$?; heal_b; client_disconnect_all; node2_stop || rc=1; redis_stop; restore_users; return $rc; }
cluster_redis_partition() {
	redis_start --bind 127.0.0.1 127.0.0.2 || fail "redis-server did not start" || return 1
	add_pool_users 8
	shared_pool_conf '{"cookie-lifetime": 30}'
	server_start_wolfguard false || fail "node a did not start: $(tail -n 3 "$RUN/server.log")" || return 1
	wait_for 30 grep -q "cluster: redis at 127.0.0.1:$REDIS_PORT connected" "$RUN/server.log" || fail "node a: no redis" || return 1
	NODE2_NET=$SHARED_NET NODE2_OPTS="{\"metrics-port\": 9391, \"cluster-redis\": \"127.0.0.2:$REDIS_PORT\"}" node2_start b ||
		fail "node b did not start: $(tail -n 3 "$RUN/node-b.log")" || return 1
	SRV_ADDR="$SRV_ADDR:8443" connect_or_fail alice secret1 --no-dtls || return 1
	local a1
	a1=$(client_env alice INTERNAL_IP4_ADDRESS)
	[ "$(rcli EXISTS "wg:lease4:$a1")" = 1 ] || fail "alice's address $a1 has no lease in redis" || return 1

	partition_b || fail "nft could not cut node b off" || return 1
	local t0
	t0=$(now_ms)
	wait_for 30 grep -q "cluster: redis at 127.0.0.2:$REDIS_PORT unavailable" "$RUN/node-b.log" ||
		fail "node b did not notice the partition" || return 1
	echo "   partition noticed by node b after $(($(now_ms) - t0)) ms (cluster-timeout-ms 1000, requests every 2 s)"
	[ "$(pool_metric wolfguard_cluster_redis_up 9391)" = 0 ] || fail "metrics: node b still says redis is up" || return 1
	login_to 443 u1 pw1
	logged_in u1 || fail "node a could not lease during b's partition: $(tail -n 2 "$RUN/login-u1.out")" || return 1
	! node_addresses a | grep -qx "$a1" || fail "node a gave out alice's address $a1 while her lease lived" || return 1
	! grep -q "unavailable" "$RUN/server.log" || fail "node a lost redis too" || return 1
	login_to 8443 u2 pw2
	! logged_in u2 || fail "node b gave an address it could not claim" || return 1
	grep -q "cluster: no address: the shared pool needs redis, which is unavailable" "$RUN/node-b.log" ||
		fail "node b's refusal has no clear line" || return 1

	# alice's lease cannot be renewed: her session ends while the key still lives.
	wait_for 90 grep -q "cluster: the lease of $a1 could not be renewed" "$RUN/node-b.log" ||
		fail "node b kept alice's session past its lease" || return 1
	local left
	left=$(rcli PTTL "wg:lease4:$a1")
	[ "$left" -gt 0 ] || fail "alice's lease had lapsed before her session ended on node b (PTTL $left)" || return 1
	echo "   node b ended alice's session $left ms before her lease would lapse in redis"
	[ "$(pool_metric wolfguard_cluster_lease_lapsed_total 9391)" = 1 ] || fail "metrics: no lapsed lease on node b" || return 1
	# The lease lapses; node a can then give the address out (all five are a's).
	wait_for 60 sh -c "[ \"\$(timeout 10 ip netns exec '$NS_SRV' redis-cli -p $REDIS_PORT EXISTS 'wg:lease4:$a1')\" = 0 ]" ||
		fail "alice's lease did not lapse" || return 1
	# Five logins use every free address (u1's may have lapsed meanwhile:
	# its cookie lives 30 s), so a1 among them.
	local i
	for i in 3 4 5 6 7; do login_to 443 "u$i" "pw$i"; done
	node_addresses a | grep -qx "$a1" || fail "node a never gave out the lapsed address $a1: $(node_addresses a | tr '\n' ' ')" || return 1

	heal_b
	wait_for 60 grep -q "cluster: redis at 127.0.0.2:$REDIS_PORT is back" "$RUN/node-b.log" ||
		fail "node b did not come back after the partition" || return 1
	login_to 8443 u8 pw8
	local both
	both=$( (node_addresses a; node_addresses b) | sort)
	[ -z "$(uniq -d <<<"$both")" ] || fail "after the partition an address is on both nodes: $(uniq -d <<<"$both")" || return 1
	! logged_in u8 || [ "$(node_addresses b | grep -c .)" = 1 ] || fail "node b's sessions: $(node_addresses b)" || return 1
	return 0
}

WOLFGUARD_TESTS+=(cluster_adopted_accounting)

# Accounting follows the session: alice logs in through auth-radius on node
# a (Accounting Start); a is killed; node b adopts her session and sends
# its own Start with the same Acct-Session-Id (the attribute travels in the
# session record), and her logout on b sends the Stop with that id.
radius_cluster_node() { # name: node NAME with auth-radius (accounting on) on the service address
	cluster_conf "$1"
	rm -f "$RUN/conf.d/20-auth-plain.json"
	cat >"$RUN/conf.d/20-auth-radius.json" <<JSON
{"plugin": "auth-radius", "options": {"servers": $RADIUS_SERVER_JSON, "secret": "$RADIUS_SECRET",
  "nas-identifier": "wolfguard-lab", "timeout": 5, "retries": 0, "accounting": true}}
JSON
	server_start_wolfguard false || return 1
	wait_for 30 grep -q "cluster: redis at 127.0.0.1:$REDIS_PORT connected" "$RUN/server.log"
}
starts_with_id() { grep -c "Acct-Session-Id = \"$1\"" <(awk 'BEGIN {RS = ""} /Acct-Status-Type = Start\n/' "$RUN/radius/acct/detail" 2>/dev/null); }

test_cluster_adopted_accounting() { radius_run cluster_adopted_accounting; local rc=$?; redis_stop; return $rc; }
cluster_adopted_accounting() {
	redis_start || fail "redis-server did not start" || return 1
	radius_cluster_node a || fail "node a did not start: $(tail -n 3 "$RUN/server.log")" || return 1
	local cookie id
	cookie=$(authenticate alice secret1)
	[ -n "$cookie" ] || fail "--authenticate printed no COOKIE" || return 1
	connect_or_fail alice - --cookie "$cookie" -- --reconnect-timeout 120 || return 1
	wait_for 60 sh -c "grep -q 'Acct-Status-Type = Start' '$RUN/radius/acct/detail'" || fail "no Accounting Start from node a" || return 1
	id=$(detail_value "$(detail_record Start)" Acct-Session-Id)
	[ -n "$id" ] || fail "node a's Start lacks Acct-Session-Id" || return 1
	node_kill a
	radius_cluster_node b || fail "node b did not start: $(tail -n 3 "$RUN/server.log")" || return 1
	wait_for 90 grep -q "adopted from node a" "$RUN/server.log" || fail "node b adopted no session" || return 1
	wait_for 60 sh -c "[ \"\$(awk 'BEGIN {RS = \"\"} /Acct-Status-Type = Start\n/' '$RUN/radius/acct/detail' | grep -c 'Acct-Session-Id = \"$id\"')\" = 2 ]" ||
		fail "node b sent no Start with alice's Acct-Session-Id $id ($(starts_with_id "$id") Starts)" || return 1
	local start
	start=$(detail_record Start)
	[ "$(detail_value "$start" User-Name)" = alice ] && [ "$(detail_value "$start" Framed-IP-Address)" = 10.8.0.77 ] ||
		fail "node b's Start: $start" || return 1
	client_disconnect alice
	wait_for 60 sh -c "grep -q 'Acct-Status-Type = Stop' '$RUN/radius/acct/detail'" || fail "no Accounting Stop from node b" || return 1
	[ "$(detail_value "$(detail_record Stop)" Acct-Session-Id)" = "$id" ] || fail "node b's Stop has another id" || return 1
	return 0
}

WOLFGUARD_TESTS+=(cluster_ctl_across_nodes)

# wolfguardctl --cluster disconnect and ban, written to Redis, reach every
# node: alice's tunnel on node a ends (her record goes), bob's on node b
# stays; a ban of alice's address is applied by both nodes and refuses her
# on node b.
wgctl_cluster() { in_ns "$NS_SRV" "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" --cluster "127.0.0.1:$REDIS_PORT" "$@"; }
test_cluster_ctl_across_nodes() { cluster_ctl_across_nodes; local rc=$?; client_disconnect_all; node2_stop || rc=1; redis_stop; return $rc; }
cluster_ctl_across_nodes() {
	redis_start || fail "redis-server did not start" || return 1
	node_start a || fail "node a did not start" || return 1
	node2_start b || fail "node b did not start: $(tail -n 3 "$RUN/node-b.log")" || return 1
	connect_or_fail alice secret1 || return 1
	SRV_ADDR="$SRV_ADDR:8443" connect_or_fail bob secret2 --ns "$NS_CLI2" --no-dtls || return 1
	wait_for 30 session_keys_are 2 || fail "redis holds not 2 session records: $(session_keys)" || return 1
	wgctl_cluster disconnect alice | grep -q "sessions of alice: ended on every node" || fail "disconnect did not say so" || return 1
	wait_for 30 grep -q "session ended: disconnected by an administrator (cluster)" "$RUN/server.log" ||
		fail "node a did not end alice's session" || return 1
	grep -q "cluster: 1 sessions of alice ended (wolfguardctl --cluster disconnect)" "$RUN/server.log" ||
		fail "no line for the cluster disconnect" || return 1
	wait_for 30 session_keys_are 1 || fail "alice's record outlived the disconnect" || return 1
	ctl_node b --json list | jq -e '.sessions | length == 1 and .[0].user == "bob"' >/dev/null ||
		fail "bob's session on node b suffered: $(ctl_node b --json list)" || return 1
	! grep -q "disconnected by an administrator" "$RUN/node-b.log" || fail "node b ended a session" || return 1

	wgctl_cluster ban "$CLI_ADDR" 300 | grep -q "banned for 300s on every node" || fail "ban did not say so" || return 1
	wait_for 30 grep -q "$CLI_ADDR: banned for .* (a ban shared by another node)" "$RUN/server.log" ||
		fail "node a did not apply the cluster ban" || return 1
	wait_for 30 grep -q "$CLI_ADDR: banned for .* (a ban shared by another node)" "$RUN/node-b.log" ||
		fail "node b did not apply the cluster ban" || return 1
	local out
	out=$(in_ns "$NS_CLI" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "https://$SRV_ADDR:8443/" <<<secret1 2>&1)
	! grep -q "^COOKIE=" <<<"$out" || fail "the banned address logged in on node b" || return 1
	wgctl_cluster ban 999.1.1.1 >/dev/null 2>&1 && fail "a bad address was accepted" && return 1
	return 0
}
