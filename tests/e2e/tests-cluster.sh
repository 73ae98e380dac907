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
	local t0=$(now_ms)
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
	# Waited for, not looked up: the refusal may come from the connection
	# being dropped for an earlier late reply before this request's own timer
	# (cluster-timeout-ms) has fired and logged.
	wait_for 30 grep -qE "redis unavailable: no reply in time|redis unavailable \(timeout\)" "$RUN/server.log" ||
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
	rm -rf "$c" && cp -r "$RUN/conf.d" "$c" && rm -f "$c/40-transport-dtls.json"
	jq --arg node "$1" --arg ctl "$RUN/control-$1.sock" --arg tun "wg$1" \
		'.server += {"cluster-node": $node, port: 8443, "udp-port": 0, "control-socket": $ctl, "tun-device": $tun}' \
		"$c/00-server.json" >"$c/new" && mv "$c/new" "$c/00-server.json"
	jq '.options["ipv4-network"] = "10.9.0.0/24"' "$c/30-routing-static.json" >"$c/new" && mv "$c/new" "$c/30-routing-static.json"
	ip netns exec "$NS_SRV" env WOLFGUARD_PLUGIN_DIR="$plugdir" "$bin" -c "$c" >"$RUN/node-$1.log" 2>&1 &
	NODE2_PID=$!
	wait_for 90 grep -q "cluster: redis at .* connected" "$RUN/node-$1.log"
}

node2_stop() {
	[ -n "$NODE2_PID" ] || return 0
	kill -TERM "$NODE2_PID" 2>/dev/null
	wait_for 60 sh -c "! kill -0 $NODE2_PID 2>/dev/null" || kill -KILL "$NODE2_PID" 2>/dev/null
	wait "$NODE2_PID" 2>/dev/null
	NODE2_PID=
}

ctl_node() { "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" -s "$RUN/control-$1.sock" "${@:2}"; }

WOLFGUARD_TESTS+=(cluster_shared_ban)

# Nodes a and b run side by side. An administrator's ban on node a reaches
# node b within a few seconds (b reads the shared ban set), and bob's
# address is refused there too; alice, not banned, logs in on b. Wrong
# passwords on node b ban carol's address on node a as well.
test_cluster_shared_ban() { cluster_shared_ban; local rc=$?; node2_stop; redis_stop; return $rc; }
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
test_cluster_same_clients() { cluster_same_clients; local rc=$?; node2_stop; redis_stop; return $rc; }
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
test_cluster_live_old_node() { cluster_live_old_node; local rc=$?; node2_stop; redis_stop; return $rc; }
cluster_live_old_node() {
	redis_start || fail "redis-server did not start" || return 1
	node_start a || fail "node a did not start" || return 1
	node2_start b || fail "node b did not start: $(tail -n 3 "$RUN/node-b.log")" || return 1
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
	client_disconnect alice
	wait_for 30 session_keys_are 0 || fail "the record outlived the logout on node b" || return 1
	CONNECT_TIMEOUT=20 client_connect alice - --cookie "$cookie" && fail "node a's stale copy accepted the cookie" && return 1
	wait_for 30 grep -q "ended on another node" "$RUN/server.log" || fail "node a's copy did not end" || return 1
	return 0
}
