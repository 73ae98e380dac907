# shellcheck shell=bash
# Data quota per user and period (issue 20: period-data-quota,
# data-quota-period, data-quota-state-file): counted across the user's
# sessions (two at once, from two clients) and across a restart of the
# server. Traffic is iperf3 volumes through the real openconnect; every wait
# is for a condition. Sourced by run.sh.

WOLFGUARD_TESTS+=(quota_period)

QUOTA_BYTES=6291456 # 6 MiB a day for alice

quota_field() { # TAG-USER FIELD: a field of the first session of USER
	ctl --json list | jq -r --arg u "$1" --arg f "$2" '[.sessions[] | select(.user == $u)][0][$f]'
}

# The day's count as every session of alice saw it at its last flush.
quota_used_min() { ctl --json list | jq '[.sessions[] | select(.user == "alice")] | map(.period_data_used) | min'; }
quota_used_at_least() { [ "$(quota_used_min)" -ge "$1" ] 2>/dev/null; }

quota_ended_count() { grep -c 'session ended: daily data quota reached' "$RUN/server.log"; }

# alice may move 6 MiB a day, on a server of two worker processes. A first session moves 2 MiB and logs out; the
# server restarts and reads her count back from the state file. Two
# sessions at once, one on each worker, then move data: a1 2 MiB, then a2 as fast as it can
# for 10 s: it is stopped at what the day has left, below the quota on
# its own (checked in its disconnect event), and both end with "daily
# data quota reached" (the client is told; the disconnect events carry the
# reason and the counters). A new session of hers is ended at once while
# bob, who has no quota used, goes on working.
test_quota_period() {
	wolfguard_conf false
	local f=$RUN/conf.d/00-server.json
	# Two workers; the two clients' addresses reach different ones
	# (worker_of: tests-workers.sh), so the sum is made across processes.
	[ "$(worker_of "$CLI_ADDR" 2)" != "$(worker_of "$CLI2_ADDR" 2)" ] ||
		fail "test set-up: the two client addresses hash to the same worker" || return 1
	jq --arg st "$RUN/quota.state" --argjson q "$QUOTA_BYTES" \
		'.server += {"workers": 2, "data-quota-period": "day", "data-quota-state-file": $st,
			"users": {"alice": {"period-data-quota": $q}}}' "$f" >"$f.new" && mv "$f.new" "$f"
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1
	connect_or_fail alice secret1 --tag morning || return 1
	[ "$(quota_field alice period_data_quota)" = "$QUOTA_BYTES" ] || fail "period_data_quota not listed" || return 1
	[ -n "$(iperf_volume "$NS_CLI" 2)" ] || fail "the first 2 MiB did not pass" || return 1
	client_disconnect morning
	wait_for 30 grep -q 'session ended: client' "$RUN/server.log" || fail "the first session did not end" || return 1
	# What the session counted (what reached the server before the logout).
	local first
	first=$(sed -n 's/.*session ended: client disconnected (rx \([0-9]*\) bytes .* tx \([0-9]*\) bytes.*/\1 \2/p' \
		"$RUN/server.log" | awk '{print $1 + $2; exit}')

	# A restart keeps the count (written when the server stops).
	server_stop
	grep -q '^wolfguard-period-quota 1$' "$RUN/quota.state" || fail "no state file written" || return 1
	local kept
	kept=$(awk '$3 == "alice" {print $2}' "$RUN/quota.state")
	[ -n "$first" ] && [ "${kept:-0}" = "$first" ] ||
		fail "the state file keeps ${kept:-nothing} bytes for alice, her session counted ${first:-?}" || return 1
	server_start_wolfguard false || fail "wolfguard did not restart: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1
	grep -q "data quota per period: 1 users' counts read from $RUN/quota.state" "$RUN/server.log" ||
		fail "the restarted server did not read the counts" || return 1

	ctl events >"$RUN/events.jsonl" 2>&1 &
	local ev=$!
	wait_for 30 test -s "$RUN/events.jsonl"
	connect_or_fail alice secret1 --tag a1 || { kill "$ev"; return 1; }
	connect_or_fail alice secret1 --tag a2 --ns "$NS_CLI2" || { kill "$ev"; return 1; }
	# Session ids are numbered per worker (id mod 2 is the worker's index).
	[ "$(ctl --json list | jq '[.sessions[] | select(.user == "alice") | (.id | tonumber) % 2] | unique | length')" = 2 ] ||
		fail "alice's two sessions are not on two workers" || { kill "$ev"; return 1; }
	local used
	used=$(quota_field alice period_data_used)
	[ "${used:-0}" -ge "$kept" ] 2>/dev/null || fail "after the restart alice's day counts ${used:-nothing} bytes" ||
		{ kill "$ev"; return 1; }
	[ -n "$(iperf_volume "$NS_CLI" 2)" ] || fail "a1's 2 MiB did not pass (under the quota)" || { kill "$ev"; return 1; }
	[ "$(quota_ended_count)" = 0 ] || fail "a session ended before the day's sum reached the quota" ||
		{ kill "$ev"; return 1; }
	# The table has a1's bytes once a flush (every 2 s) took them.
	wait_for 30 quota_used_at_least $((kept + 500000)) ||
		fail "a1's bytes did not reach the day's count: $(ctl --json list | jq -c '[.sessions[] | [.id, .period_data_used, .rx_bytes, .tx_bytes]]')" || { kill "$ev"; return 1; }
	used=$(quota_used_min)
	echo "   day's count after a1: $used of $QUOTA_BYTES bytes"
	# a2 sends as fast as it can: it stops at what the day has left, far
	# below the quota (alone it would run to the quota).
	iperf_mbps "$NS_CLI2" 10 >/dev/null
	wait_for 30 sh -c "[ \$(grep -c 'session ended: daily data quota reached' '$RUN/server.log') -ge 2 ]" ||
		fail "alice's sessions did not both end at the day's quota ($(quota_ended_count) ended)" ||
		{ kill "$ev"; return 1; }
	grep -q 'daily data quota of 6291456 bytes reached: the session ends' "$RUN/server.log" ||
		fail "the log does not name the daily quota" || { kill "$ev"; return 1; }
	[ "$(client_exit_code a2 30)" != running ] || fail "a2 still runs" || { kill "$ev"; return 1; }
	grep -q 'daily data quota reached' "$(client_log a2)" || fail "the client was not told why" ||
		{ kill "$ev"; return 1; }
	wait_for 30 sh -c "[ \$(grep -c 'daily data quota reached' '$RUN/events.jsonl') -ge 2 ]"
	kill "$ev" 2>/dev/null
	wait "$ev" 2>/dev/null
	local total
	total=$(jq -s '[.[] | select(.event == "disconnect" and .reason == "daily data quota reached") |
		.rx_bytes + .tx_bytes] | add' "$RUN/events.jsonl")
	[ "$((${total:-0} + kept))" -ge "$QUOTA_BYTES" ] 2>/dev/null ||
		fail "the disconnect events count ${total:-nothing} bytes (plus $kept before), want >= the quota" || return 1
	local most
	most=$(jq -s '[.[] | select(.event == "disconnect" and .reason == "daily data quota reached") |
		.rx_bytes + .tx_bytes] | max' "$RUN/events.jsonl")
	[ "${most:-$QUOTA_BYTES}" -lt "$QUOTA_BYTES" ] 2>/dev/null ||
		fail "a session moved ${most:-?} bytes alone: the quota was not reached by the sum" || return 1

	# Used up for today: a new session of alice ends at once; bob is not alice.
	client_connect alice secret1 --tag late
	wait_for 30 sh -c "[ \$(grep -c 'session ended: daily data quota reached' '$RUN/server.log') -ge 3 ]" ||
		fail "a new session of alice was not ended (quota used up)" || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "bob's tunnel does not work" || return 1
	[ "$(quota_field bob period_data_quota)" = null ] || fail "bob has a period quota listed" || return 1
}
