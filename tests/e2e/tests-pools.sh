# Named address pools of routing-static, chosen by group or by a Lua policy
# (sourced by run.sh).

WOLFGUARD_TESTS+=(pool_by_group pool_by_policy)

# pools_conf POOLS-JSON-LIST: routing-static with named pools.
pools_conf() {
	cat >"$RUN/conf.d/30-routing-static.json" <<JSON
{"plugin": "routing-static", "options": {"ipv4-network": "$POOL_NET", "routes": ["$PUSHED_ROUTE"], "pools": $1}}
JSON
}

last_octet_in() { # address lo hi: lo <= last octet < hi
	local o=${1##*.}
	[[ $1 == 10.8.0.* ]] && [ "$o" -ge "$2" ] && [ "$o" -lt "$3" ]
}

test_pool_by_group() {
	wolfguard_conf false
	pools_conf '["engineering=10.8.0.128/26"]'
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	connect_or_fail alice secret1 || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	local a b
	a=$(client_env alice INTERNAL_IP4_ADDRESS)
	b=$(client_env bob INTERNAL_IP4_ADDRESS)
	last_octet_in "$a" 128 192 || fail "alice (engineering) got $a, not from 10.8.0.128/26" || return 1
	! last_octet_in "$b" 128 192 && address_in_pool "$b" ||
		fail "bob (sales) got $b: inside the engineering pool or outside the network" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice cannot reach the LAN from her pool" || return 1
}

test_pool_by_policy() {
	wolfguard_conf false
	pools_conf '["vip=10.8.0.64/27"]'
	cat >"$RUN/pools.lua" <<'LUA'
function after_auth(session)
  if session.user == "bob" then session.set_pool("vip") end
  if session.user == "alice" then session.set_address("10.8.0.77") end
  if session.user == "carol" then session.set_pool("nonexistent") end
  return true
end
LUA
	add_user carol secret3 sales
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$RUN/pools.lua\"}}" >"$RUN/conf.d/40-policy-lua.json"
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	connect_or_fail alice secret1 || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	local a b
	a=$(client_env alice INTERNAL_IP4_ADDRESS)
	b=$(client_env bob INTERNAL_IP4_ADDRESS)
	[ "$a" = 10.8.0.77 ] || fail "alice got $a, not the address her policy set (10.8.0.77)" || return 1
	last_octet_in "$b" 64 96 || fail "bob got $b, not from the vip pool 10.8.0.64/27" || return 1
	client_disconnect alice
	# A policy naming a pool that does not exist gets no address rather
	# than one from some other range.
	! client_connect carol secret3 || fail "carol got a tunnel from a pool that does not exist" || return 1
	grep -q 'no pool named "nonexistent"' "$RUN/server.log" || fail "the unknown pool was not logged" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "bob lost the LAN" || return 1
}

# A slow policy script runs on a worker thread: while carol's after_auth
# burns CPU for seconds, alice's tunnel keeps answering pings at once and
# bob logs in and gets his tunnel before carol's login is decided.
WOLFGUARD_TESTS+=(policy_off_loop)
test_policy_off_loop() {
	wolfguard_conf false
	cat >"$RUN/slow.lua" <<'LUA'
function after_auth(session)
  if session.user == "carol" then
    local x = 0
    for i = 1, 250000000 do x = x + i end
  end
  return true
end
LUA
	add_user carol secret3 sales
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$RUN/slow.lua\", \"max-instructions\": 1000000000}}" \
		>"$RUN/conf.d/40-policy-lua.json"
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	connect_or_fail alice secret1 || return 1
	local t0 t_bob t_carol rtt
	t0=$(date +%s%N)
	client_connect carol secret3 --ns "$NS_CLI2" --tag carol >/dev/null 2>&1 &
	local carol_job=$!
	# Notes when carol's tunnel is configured (bounded: 60 s).
	(for _ in $(seq 600); do [ -s "$RUN/env-carol" ] && break; sleep 0.1; done; date +%s%N >"$RUN/carol-done") &
	local watcher=$!
	sleep 0.2
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	t_bob=$((($(date +%s%N) - t0) / 1000000))
	# Pings through alice's tunnel while carol's script runs.
	rtt=$(in_ns "$NS_CLI" ping -c 10 -i 0.1 -W 1 "$LAN_ADDR" | awk -F/ '/^rtt/ {print $6}')
	wait "$carol_job" || fail "carol's slow login failed: $(tail -n 2 "$(client_log carol)" | tr '\n' ' ')" || return 1
	wait "$watcher"
	t_carol=$((($(cat "$RUN/carol-done") - t0) / 1000000))
	echo "   alice's max ping rtt during carol's policy: ${rtt:-none} ms; bob's login done after ${t_bob} ms; carol's after ~${t_carol} ms"
	[ -n "$rtt" ] && awk -v r="$rtt" 'BEGIN {exit !(r < 50)}' ||
		fail "alice's tunnel stalled while a policy ran: max rtt ${rtt:-lost} ms" || return 1
	[ "$t_carol" -ge 2000 ] || fail "carol's policy took only ${t_carol} ms: the test proves nothing" || return 1
	[ "$t_bob" -lt "$t_carol" ] || fail "bob's login (${t_bob} ms) waited for carol's policy (${t_carol} ms)" || return 1
}

# A client that goes away while its login's policy runs: the server notices
# at once (it keeps reading while a request is answered), and when the
# policy returns, the session it made is ended, not left holding an address.
WOLFGUARD_TESTS+=(policy_client_leaves)
test_policy_client_leaves() {
	wolfguard_conf false
	cat >"$RUN/slow.lua" <<'LUA'
function after_auth(session)
  local x = 0
  for i = 1, 150000000 do x = x + i end
  return true
end
LUA
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$RUN/slow.lua\", \"max-instructions\": 1000000000}}" \
		>"$RUN/conf.d/40-policy-lua.json"
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	client_connect alice secret1 >/dev/null 2>&1 &
	local job=$!
	wait_for 10 grep -q "session created" "$RUN/server.log" || fail "the login did not reach the policy" || return 1
	# The client runs in this lab's client namespace: kill it there only.
	local p
	for p in $(ip netns pids "$NS_CLI"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = openconnect ] && kill -9 "$p"
	done
	wait "$job" 2>/dev/null
	wait_for 15 grep -q "session ended: the client left during login" "$RUN/server.log" ||
		fail "the session of a client that left was not ended: $(grep alice "$RUN/server.log" | tail -n 2 | tr '\n' ' ')" || return 1
	server_alive || fail "the server died" || return 1
	local n
	n=$(ctl --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))' 2>/dev/null)
	[ "$n" = 0 ] || fail "sessions left after the client left: $n" || return 1
}
