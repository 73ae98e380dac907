# shellcheck shell=bash
# Unbans across the nodes of a cluster (docs/cluster.md "Bans"): a node's
# own unban and `wolfguardctl --cluster unban` lift the ban on every node; a
# ban made again after an unban holds. Sourced by run.sh; uses
# tests-cluster.sh's helpers.

WOLFGUARD_TESTS+=(cluster_unban_across_nodes)

login_ok_on() { # ns user password port: a password login succeeds
	in_ns "$1" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u "$2" \
		--servercert "$PIN" "https://$SRV_ADDR:$4/" <<<"$3" 2>&1 | grep -q "^COOKIE="
}

banned_on() { ctl_node "$1" bans | grep -q "^$2 "; } # node addr
not_banned_on() { ! banned_on "$@"; }

test_cluster_unban_across_nodes() { cluster_unban_across_nodes; local rc=$?; node2_stop || rc=1; redis_stop; return $rc; }
cluster_unban_across_nodes() {
	redis_start || fail "redis-server did not start" || return 1
	node_start a || fail "node a did not start" || return 1
	node2_start b || fail "node b did not start: $(tail -n 3 "$RUN/node-b.log")" || return 1

	# A node's own unban reaches the other node.
	ctl_node a ban "$CLI_ADDR" 300 >/dev/null || fail "ban on node a failed" || return 1
	wait_for 30 banned_on b "$CLI_ADDR" || fail "node b did not apply node a's ban" || return 1
	login_ok_on "$NS_CLI" alice secret1 8443 && fail "the banned address logged in on node b" && return 1
	ctl_node a unban "$CLI_ADDR" >/dev/null || fail "unban on node a failed" || return 1
	wait_for 30 grep -q "$CLI_ADDR: unbanned (an unban shared by another node or wolfguardctl --cluster)" "$RUN/node-b.log" ||
		fail "node b did not apply node a's unban" || return 1
	! banned_on b "$CLI_ADDR" || fail "node b still lists the ban: $(ctl_node b bans)" || return 1
	[ "$(rcli ZSCORE wg:bans "$CLI_ADDR")" = "" ] || fail "the ban is still in redis" || return 1
	login_ok_on "$NS_CLI" alice secret1 8443 || fail "alice, unbanned, could not log in on node b" || return 1

	# wolfguardctl --cluster unban lifts a ban on every node.
	wgctl_cluster ban "$CLI2_ADDR" 300 >/dev/null || fail "wolfguardctl --cluster ban failed" || return 1
	wait_for 30 banned_on a "$CLI2_ADDR" || fail "node a did not apply the cluster ban" || return 1
	wait_for 30 banned_on b "$CLI2_ADDR" || fail "node b did not apply the cluster ban" || return 1
	wgctl_cluster unban "$CLI2_ADDR" | grep -q "unbanned on every node" || fail "wolfguardctl --cluster unban did not say so" || return 1
	wait_for 30 not_banned_on a "$CLI2_ADDR" ||
		fail "node a kept the ban after wolfguardctl --cluster unban" || return 1
	wait_for 30 not_banned_on b "$CLI2_ADDR" ||
		fail "node b kept the ban after wolfguardctl --cluster unban" || return 1
	grep -q "$CLI2_ADDR: unbanned (an unban shared" "$RUN/server.log" || fail "no line on node a for the unban" || return 1
	login_ok_on "$NS_CLI2" bob secret2 443 || fail "bob, unbanned, could not log in on node a" || return 1
	wgctl_cluster unban 999.1.1.1 >/dev/null 2>&1 && fail "a bad address was accepted" && return 1

	# Banned again after the unban (the unban's entry is still in its set):
	# the new ban holds on both nodes.
	ctl_node b ban "$CLI2_ADDR" 300 >/dev/null || fail "second ban on node b failed" || return 1
	wait_for 30 banned_on a "$CLI2_ADDR" || fail "node a did not apply the ban made after the unban" || return 1
	login_ok_on "$NS_CLI2" bob secret2 443 && fail "the ban made after the unban did not hold on node a" && return 1
	banned_on a "$CLI2_ADDR" && banned_on b "$CLI2_ADDR" || fail "the new ban was lifted by the old unban" || return 1
	[ "$(grep -c "$CLI2_ADDR: unbanned" "$RUN/server.log")" = 1 ] || fail "node a lifted the new ban" || return 1
	return 0
}
