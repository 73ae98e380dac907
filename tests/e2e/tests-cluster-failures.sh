# shellcheck shell=bash
# Failed logins counted on every node of a cluster (docs/cluster.md "Bans"):
# wrong passwords through node a and through node b add up in Redis toward
# one ban-failures, the node whose failure reaches it bans the address on
# both nodes; an unban forgets the shared count; with Redis stopped a node
# still counts (and bans) on its own. Sourced by run.sh; uses
# tests-cluster.sh's and tests-cluster-unban.sh's helpers.

WOLFGUARD_TESTS+=(cluster_shared_failures)

failed_lines() { grep -c "$2: login failed for user" "$1"; } # log addr -> how many failures it logged
failures_are() { [ "$(failed_lines "$1" "$2")" = "$3" ]; }  # log addr N

wrong_on() { # ns user port log addr: one wrong password, answered (the log counts one more failure)
	local before
	before=$(failed_lines "$4" "$5")
	in_ns "$1" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u "$2" \
		--servercert "$PIN" "https://$SRV_ADDR:$3/" <<<wrong >/dev/null 2>&1
	wait_for 30 sh -c "[ \$(grep -c '$5: login failed for user' '$4') -gt $before ]"
}

test_cluster_shared_failures() { cluster_shared_failures; local rc=$?; node2_stop || rc=1; redis_stop; return $rc; }
cluster_shared_failures() {
	local a=$RUN/server.log b=$RUN/node-b.log fkey=wg:fail:$CLI_ADDR ttl
	redis_start || fail "redis-server did not start" || return 1
	# Node a with ban-failures 4 (node b copies a's conf.d).
	cluster_conf a
	jq '.server += {"ban-failures": 4, "ban-window": 120, "ban-time": 300}' "$RUN/conf.d/00-server.json" \
		>"$RUN/new" && mv "$RUN/new" "$RUN/conf.d/00-server.json"
	server_start_wolfguard false || fail "node a did not start" || return 1
	wait_for 30 grep -q "cluster: redis at 127.0.0.1:$REDIS_PORT connected" "$a" || fail "node a did not reach redis" || return 1
	node2_start b || fail "node b did not start: $(tail -n 3 "$b")" || return 1

	# Two wrong passwords through each node: 2 + 2 reach 4 on node b.
	wrong_on "$NS_CLI" alice 443 "$a" "$CLI_ADDR" || fail "node a did not answer the first wrong password" || return 1
	wrong_on "$NS_CLI" alice 443 "$a" "$CLI_ADDR" || fail "node a did not answer the second wrong password" || return 1
	failures_are "$a" "$CLI_ADDR" 2 || fail "node a counted $(failed_lines "$a" "$CLI_ADDR") failures, not 2" || return 1
	wait_for 30 sh -c "[ \"\$(ip netns exec '$NS_SRV' redis-cli -p $REDIS_PORT GET '$fkey')\" = 2 ]" ||
		fail "the shared count is '$(rcli GET "$fkey")' after two failures on node a" || return 1
	ttl=$(rcli TTL "$fkey")
	[ "$ttl" -gt 0 ] && [ "$ttl" -le 120 ] || fail "the shared count's TTL is '$ttl', not within ban-window 120" || return 1
	wrong_on "$NS_CLI2" bob 443 "$a" "$CLI2_ADDR" || fail "node a did not answer bob's wrong password" || return 1
	login_ok_on "$NS_CLI" alice secret1 8443 || fail "alice (2 failures) could not log in on node b" || return 1
	wrong_on "$NS_CLI" alice 8443 "$b" "$CLI_ADDR" || fail "node b did not answer the third wrong password" || return 1
	! grep -q "$CLI_ADDR: banned" "$a" "$b" || fail "banned after 3 failures of 4: $(grep -h "$CLI_ADDR: banned" "$a" "$b")" || return 1
	wrong_on "$NS_CLI" alice 8443 "$b" "$CLI_ADDR" || fail "node b did not answer the fourth wrong password" || return 1
	wait_for 30 grep -q "$CLI_ADDR: banned for 300 s after 4 failed logins within 120 s on the nodes of the cluster" "$b" ||
		fail "node b did not ban after 2 failures on a and 2 on b: $(grep -h "$CLI_ADDR" "$b" | tail -n 3)" || return 1
	wait_for 30 grep -q "$CLI_ADDR: banned for .* (a ban shared by another node)" "$a" ||
		fail "node a did not apply node b's ban" || return 1
	[ "$(rcli ZSCORE wg:bans "$CLI_ADDR")" != "" ] || fail "the ban is not in the shared ban set" || return 1
	login_ok_on "$NS_CLI" alice secret1 443 && fail "the banned address logged in on node a" && return 1
	login_ok_on "$NS_CLI" alice secret1 8443 && fail "the banned address logged in on node b" && return 1
	grep -q "$CLI_ADDR: connection refused: address banned" "$a" || fail "node a did not refuse alice" || return 1
	grep -q "$CLI_ADDR: connection refused: address banned" "$b" || fail "node b did not refuse alice" || return 1
	! grep -q "$CLI2_ADDR: banned" "$a" "$b" || fail "bob's one failure banned him" || return 1
	login_ok_on "$NS_CLI2" bob secret2 8443 || fail "bob (one failure, other address) could not log in on node b" || return 1

	# An unban forgets the shared count, as the local unban forgets its own.
	ctl_node a unban "$CLI_ADDR" >/dev/null || fail "unban on node a failed" || return 1
	wait_for 30 sh -c "[ \"\$(ip netns exec '$NS_SRV' redis-cli -p $REDIS_PORT EXISTS '$fkey')\" = 0 ]" ||
		fail "the shared count survived the unban: $(rcli GET "$fkey")" || return 1
	# ... and so does wolfguardctl --cluster unban.
	wrong_on "$NS_CLI" alice 443 "$a" "$CLI_ADDR" || fail "node a did not answer a wrong password after the unban" || return 1
	wait_for 30 sh -c "[ \"\$(ip netns exec '$NS_SRV' redis-cli -p $REDIS_PORT GET '$fkey')\" = 1 ]" ||
		fail "the count after the unban is '$(rcli GET "$fkey")', not 1" || return 1
	wgctl_cluster unban "$CLI_ADDR" >/dev/null || fail "wolfguardctl --cluster unban failed" || return 1
	[ "$(rcli EXISTS "$fkey")" = 0 ] || fail "the shared count survived wolfguardctl --cluster unban" || return 1

	# Redis stopped: failures are counted on the node alone (one line says
	# so), logins are answered, and bob's failures on node a (one from
	# before, three now; four should the machine be so slow that the
	# window of the first lapsed) ban him there on node a's own count.
	redis_stop
	wait_for 30 grep -q "cluster: redis at 127.0.0.1:$REDIS_PORT unavailable" "$a" || fail "node a did not notice redis stopping" || return 1
	local i
	for i in 1 2 3 4; do
		grep -q "$CLI2_ADDR: banned" "$a" && break
		wrong_on "$NS_CLI2" bob 443 "$a" "$CLI2_ADDR" || fail "node a did not answer wrong password $i with redis down" || return 1
	done
	[ "$(grep -c "failed logins are counted on this node only until it is back" "$a")" = 1 ] ||
		fail "not one line for counting alone: $(grep -c "counted on this node only" "$a")" || return 1
	grep "$CLI2_ADDR: banned for 300 s after 4 failed logins within 120 s" "$a" | grep -vq "on the nodes of the cluster" ||
		fail "node a did not ban bob on its own count: $(grep -h "$CLI2_ADDR" "$a" | tail -n 3)" || return 1
	login_ok_on "$NS_CLI2" bob secret2 443 && fail "bob, banned by node a's own count, logged in on node a" && return 1
	return 0
}
