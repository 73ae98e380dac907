# shellcheck shell=bash
# Nodes of a cluster with several workers each ("workers": 2, docs/cluster.md
# "Workers"): every worker is a member of its own, "NODE/wI". Uses the
# cluster helpers of tests-cluster.sh (redis_start, cluster_conf, node_kill,
# node2_start, ctl_node) and worker_of of tests-workers.sh. The lab's two
# client namespaces hash to different workers, so a client that comes back
# from the other namespace with its cookie moves between the workers of one
# node. Sourced by run.sh.

cw_conf() { # name: the cluster's conf.d for node NAME, with two workers (and the server options CW_MORE, JSON;
	# CW_NO_DTLS=1: no DTLS, so a session whose client left has no lane
	# either and lingers from then on, not from its DTLS lane's DPD timeout)
	cluster_conf "$1"
	[ -z "${CW_NO_DTLS:-}" ] || rm -f "$RUN/conf.d/40-transport-dtls.json"
	local f=$RUN/conf.d/00-server.json
	local more=${CW_MORE:-}
	[ -n "$more" ] || more='{}'
	jq --argjson more "$more" '.server += {workers: 2} + $more' "$f" >"$f.new" && mv "$f.new" "$f"
}

# Node NAME on the service address, once both workers serve and both are
# connected to Redis.
cw_node_start() { # name
	cw_conf "$1"
	server_start_wolfguard false || return 1
	wait_for 90 grep -q "2 workers serving" "$RUN/server.log" || return 1
	wait_for 60 server_log_count_ge "cluster: redis at 127.0.0.1:$REDIS_PORT connected" 2
}

# Node NAME dies at once, workers and master, as a machine does: no DISCONNECT
# to its clients. (A KILLed master alone would make its workers stop
# gracefully, telling the clients so.) The master is stopped first so that it
# cannot react to its workers' death.
cw_node_kill() { # name
	local w
	w=$(pgrep -P "$SERVER_PID" -x wolfguard)
	kill -STOP "$SERVER_PID" 2>/dev/null
	[ -z "$w" ] || kill -KILL $w 2>/dev/null # one pid per word
	node_kill "$1"
}

cw_authenticate() { # ns user password -> prints the cookie (the login is made on the worker of NS's address)
	in_ns "$1" timeout 60 openconnect --authenticate --non-inter --passwd-on-stdin -u "$2" \
		--servercert "$PIN" "https://$SRV_ADDR/" <<<"$3" 2>"$RUN/authenticate.log" |
		sed -n "s/^COOKIE='\(.*\)'$/\1/p"
}

cw_record_of() { # user -> the key of the user's session record
	local k
	for k in $(session_keys); do
		[ "$(rcli HGET "$k" user)" = "$1" ] && echo "$k" && return 0
	done
	return 1
}
cw_record_names() { [ "$(rcli HGET "$(cw_record_of "$1")" node)" = "$2" ]; } # user member
cw_ctl_cluster() { in_ns "$NS_SRV" "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" --cluster "127.0.0.1:$REDIS_PORT" "$@"; }
cw_b_counts_none() { # the last "on other nodes" line of the running node, if any, counts 0
	local last
	last=$(grep "users on other nodes" "$RUN/server.log" | tail -n 1)
	[ -z "$last" ] || grep -q "cluster: 0 sessions of 0 users on other nodes" <<<"$last"
}
cw_connect() { # user cookie ns: with openconnect's own reconnects for the failover
	connect_or_fail "$1" - --cookie "$2" --ns "$3" -- --reconnect-timeout 120
}

WOLFGUARD_TESTS+=(cluster_workers)

# Node a with two workers: alice (worker wa) and bob (worker wb) log in, their
# records name a/wA and a/wB, traffic flows to each and between them, and
# wolfguardctl --cluster lists both members and the node's sum. alice comes
# back from bob's namespace: worker wb adopts her session from member a/wA
# (same address, no password), and packets to her address reach wb; back
# from her own namespace, worker wa ends its stale copy and adopts it again.
# Node a dies; node b (two workers) starts on the service address and both
# clients reconnect by themselves: each worker of b adopts one session, and
# traffic reaches both. On node b both clients cross to the other worker and
# back; the copies they leave end with their linger without taking the live
# sessions' steering with them. Node c (two workers) runs beside b: it counts b's
# sessions as another node's, b's workers never count each other's; a ban
# made through wolfguardctl --cluster reaches every worker of both nodes.
test_cluster_workers() { cluster_workers; local rc=$?; client_disconnect_all; node2_stop || rc=1; redis_stop; return $rc; }
cluster_workers() {
	local wa wb
	wa=$(worker_of "$CLI_ADDR" 2)
	wb=$(worker_of "$CLI2_ADDR" 2)
	[ "$wa" != "$wb" ] || fail "test set-up: both client addresses hash to worker $wa" || return 1
	redis_start || fail "redis-server did not start" || return 1
	cw_node_start a || fail "node a with 2 workers did not start: $(tail -n 3 "$RUN/server.log")" || return 1
	grep -q "cluster: node a/w0 (worker 0 of 2)" "$RUN/server.log" && grep -q "cluster: node a/w1 (worker 1 of 2)" "$RUN/server.log" ||
		fail "the workers did not name themselves a/w0 and a/w1: $(grep 'cluster: node' "$RUN/server.log")" || return 1

	# --- logins spread over both workers ---
	local ca cb a b
	ca=$(cw_authenticate "$NS_CLI" alice secret1)
	cb=$(cw_authenticate "$NS_CLI2" bob secret2)
	[ -n "$ca" ] && [ -n "$cb" ] || fail "--authenticate printed no COOKIE" || return 1
	cw_connect alice "$ca" "$NS_CLI" || return 1
	cw_connect bob "$cb" "$NS_CLI2" || return 1
	a=$(client_env alice INTERNAL_IP4_ADDRESS)
	b=$(client_env bob INTERNAL_IP4_ADDRESS)
	ping_ok "$NS_CLI" "$LAN_ADDR" && ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "no traffic through node a" || return 1
	ping_ok "$NS_CLI" "$b" || fail "alice (worker $wa) cannot reach bob (worker $wb) at $b" || return 1
	wait_for 30 session_keys_are 2 || fail "redis holds not 2 session records: $(session_keys)" || return 1
	wait_for 30 cw_record_names alice "a/w$wa" && wait_for 30 cw_record_names bob "a/w$wb" ||
		fail "records name $(rcli HGET "$(cw_record_of alice)" node) / $(rcli HGET "$(cw_record_of bob)" node), want a/w$wa / a/w$wb" || return 1
	local st
	st=$(cw_ctl_cluster status)
	grep -q "^node a/w$wa  *1 sessions" <<<"$st" && grep -q "^node a/w$wb  *1 sessions" <<<"$st" &&
		grep -q "^host a  *2 sessions on 2 workers" <<<"$st" || fail "wolfguardctl --cluster status: $st" || return 1
	cw_ctl_cluster --json status | jq -e '.hosts == [{"host": "a", "sessions": 2, "workers": 2}]' >/dev/null ||
		fail "status --json hosts: $(cw_ctl_cluster --json status)" || return 1

	# --- alice moves to the other worker of node a, and back ---
	client_disconnect alice --keep-session
	client_disconnect bob --keep-session
	cw_connect alice "$ca" "$NS_CLI2" || return 1
	grep -q "adopted from node a/w$wa" "$RUN/server.log" || fail "worker $wb did not adopt alice's session from a/w$wa" || return 1
	[ "$(client_env alice INTERNAL_IP4_ADDRESS)" = "$a" ] || fail "alice's address changed on worker $wb" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "no traffic for alice on worker $wb (her address not steered there?)" || return 1
	wait_for 30 cw_record_names alice "a/w$wb" || fail "alice's record does not name a/w$wb" || return 1
	client_disconnect alice --keep-session
	cw_connect alice "$ca" "$NS_CLI" || return 1
	wait_for 30 grep -q "moved to node a/w$wb; this copy ends" "$RUN/server.log" ||
		fail "worker $wa did not end its stale copy of alice's session" || return 1
	wait_for 30 grep -q "adopted from node a/w$wb" "$RUN/server.log" || fail "worker $wa did not adopt alice's session back" || return 1
	[ "$(client_env alice INTERNAL_IP4_ADDRESS)" = "$a" ] || fail "alice's address changed back on worker $wa" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic for alice back on worker $wa" || return 1
	cw_connect bob "$cb" "$NS_CLI2" || return 1
	ping_ok "$NS_CLI2" "$a" || fail "bob (worker $wb, where alice's copy lingers) cannot reach alice at $a" || return 1

	# --- node a dies, node b (two workers) adopts both sessions ---
	cw_node_kill a
	CW_NO_DTLS=1 CW_MORE='{"cookie-lifetime": 30}' cw_node_start b || fail "node b with 2 workers did not start: $(tail -n 3 "$RUN/server.log")" || return 1
	wait_for 120 grep -q "adopted from node a/w$wa" "$RUN/server.log" && wait_for 120 grep -q "adopted from node a/w$wb" "$RUN/server.log" ||
		fail "node b did not adopt both sessions: $(grep -i 'cluster' "$RUN/server.log" | tail -n 4 | tr '\n' ' ')" || return 1
	wait_for 60 cw_record_names alice "b/w$wa" && wait_for 60 cw_record_names bob "b/w$wb" ||
		fail "records name $(rcli HGET "$(cw_record_of alice)" node) / $(rcli HGET "$(cw_record_of bob)" node), want b/w$wa / b/w$wb" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" && ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "no traffic through node b's workers" || return 1
	ping_ok "$NS_CLI" "$b" && ping_ok "$NS_CLI2" "$a" || fail "alice and bob cannot reach each other on node b" || return 1
	[ "$(client_env alice INTERNAL_IP4_ADDRESS)" = "$a" ] && [ "$(client_env bob INTERNAL_IP4_ADDRESS)" = "$b" ] ||
		fail "an address changed in the failover" || return 1
	cw_ctl_cluster --json sessions | jq -e --arg a "b/w$wa" --arg b "b/w$wb" \
		'[.sessions[] | {user, node}] | sort_by(.user) == [{"user": "alice", "node": $a}, {"user": "bob", "node": $b}]' >/dev/null ||
		fail "wolfguardctl --cluster sessions: $(cw_ctl_cluster --json sessions)" || return 1

	# --- on node b (cookie-lifetime 30, CSTP only) both clients cross to the other
	# worker and back. The copies left behind end when their linger runs
	# out and must not take the live sessions' steering entries with them
	# (a release deletes only its own worker's entry; an entry missing
	# sends packets to worker 0, so one of the two would lose them). ---
	local round ns_a ns_b
	for round in cross back; do
		client_disconnect alice --keep-session
		client_disconnect bob --keep-session
		if [ $round = cross ]; then ns_a=$NS_CLI2 ns_b=$NS_CLI; else ns_a=$NS_CLI ns_b=$NS_CLI2; fi
		cw_connect alice "$ca" "$ns_a" || return 1
		cw_connect bob "$cb" "$ns_b" || return 1
		ping_ok "$ns_a" "$LAN_ADDR" && ping_ok "$ns_b" "$LAN_ADDR" || fail "no traffic after the $round move on node b" || return 1
	done
	wait_for 30 cw_record_names alice "b/w$wa" && wait_for 30 cw_record_names bob "b/w$wb" ||
		fail "after the moves the records name $(rcli HGET "$(cw_record_of alice)" node) / $(rcli HGET "$(cw_record_of bob)" node)" || return 1
	wait_for 120 grep -q "core.w$wb: \[alice@$CLI2_ADDR .*session ended: cookie expired without a reconnect" "$RUN/server.log" &&
		wait_for 120 grep -q "core.w$wa: \[bob@$CLI_ADDR .*session ended: cookie expired without a reconnect" "$RUN/server.log" ||
		fail "the copies left on the other workers did not end with their linger" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" && ping_ok "$NS_CLI2" "$LAN_ADDR" && ping_ok "$NS_CLI" "$b" ||
		fail "a stale copy's end took a live session's steering entry" || return 1
	[ "$(client_env alice INTERNAL_IP4_ADDRESS)" = "$a" ] && [ "$(client_env bob INTERNAL_IP4_ADDRESS)" = "$b" ] ||
		fail "an address changed in the moves on node b" || return 1

	# --- node c beside b: counts, and a shared ban on every worker ---
	node2_start c || fail "node c did not start: $(tail -n 3 "$RUN/node-c.log")" || return 1
	wait_for 90 grep -q "2 workers serving" "$RUN/node-c.log" || fail "node c's workers did not start" || return 1
	wait_for 60 sh -c "[ \$(grep -c 'cluster: 2 sessions of 2 users on other nodes' '$RUN/node-c.log') -ge 2 ]" ||
		fail "node c's workers did not count node b's 2 sessions" || return 1
	# Dead node a's counts lapse within 10 s; from then on each worker of b
	# counts no session elsewhere (its sibling's is not another node's):
	# its last line, if it logged one for a's counts, says 0.
	wait_for 60 cw_b_counts_none ||
		fail "node b's workers count each other's sessions as another node's: $(grep 'on other nodes' "$RUN/server.log" | tail -n 2)" || return 1
	cw_ctl_cluster ban "$CLI2_ADDR" 300 >/dev/null || fail "wolfguardctl --cluster ban failed" || return 1
	wait_for 30 sh -c "[ \$(grep -c '$CLI2_ADDR: banned for .* (a ban shared by another node)' '$RUN/node-c.log') -ge 2 ]" ||
		fail "not both workers of node c applied the ban" || return 1
	wait_for 30 server_log_count_ge "$CLI2_ADDR: banned for .* (a ban shared by another node)" 2 ||
		fail "not both workers of node b applied the ban" || return 1
	local out
	out=$(in_ns "$NS_CLI2" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u carol \
		--servercert "$PIN" "https://$SRV_ADDR:8443/" <<<x 2>&1)
	! grep -q "^COOKIE=" <<<"$out" || fail "the banned address logged in on node c" || return 1
	wait_for 30 grep -q "$CLI2_ADDR: connection refused: address banned" "$RUN/node-c.log" ||
		fail "node c's worker $wb did not refuse the banned address" || return 1
	return 0
}
