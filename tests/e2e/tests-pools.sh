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

# A policy that holds one login for a long time runs on a worker thread:
# while carol's after_auth holds her login, bob logs in and gets his tunnel
# and alice's tunnel answers pings, all before carol's policy returns. The
# test makes the policy slow itself (it spins until POLICY_HOLD seconds of
# wall-clock time have passed, so the hold does not depend on the machine's
# speed) and the script prints when it starts and stops holding (Lua's print
# goes to the server's log): the test checks the order of events, never a
# duration. Were the policy run on the event loop, bob's login and alice's
# pings would wait for it, and its "returns" line would come first.
POLICY_HOLD=${POLICY_HOLD:-20}

# slow_policy FILE USER SECONDS: a policy script whose after_auth holds USER's
# login for SECONDS (wall clock) and admits everyone.
slow_policy() {
	cat >"$1" <<LUA
function after_auth(session)
  if session.user == "$2" then
    print("slow.lua: $2's policy holds")
    local stop, n = wolfguard.time() + $3, 0
    -- string.rep: much time for few VM instructions, well inside the budget
    while wolfguard.time() < stop do local _ = string.rep("x", 65536); n = n + 1 end
    print("slow.lua: $2's policy returns after " .. n .. " rounds")
  end
  return true
end
LUA
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$1\", \"max-instructions\": 1000000000}}" \
		>"$RUN/conf.d/40-policy-lua.json"
}

policy_returned() { grep -q "slow.lua: $1's policy returns" "$RUN/server.log"; }

WOLFGUARD_TESTS+=(policy_off_loop)
test_policy_off_loop() {
	wolfguard_conf false
	add_user carol secret3 sales
	slow_policy "$RUN/slow.lua" carol "$POLICY_HOLD"
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	connect_or_fail alice secret1 || return 1
	client_connect carol secret3 --ns "$NS_CLI2" --tag carol >/dev/null 2>&1 &
	local carol_job=$! out rx rtt
	wait_for 60 grep -q "slow.lua: carol's policy holds" "$RUN/server.log" ||
		fail "carol's login did not reach the policy" || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	! policy_returned carol ||
		fail "carol's policy returned before bob's login was done: bob waited for it (or POLICY_HOLD=$POLICY_HOLD s is too short here)" || return 1
	# Pings through alice's tunnel while carol's policy holds: all answered.
	out=$(in_ns "$NS_CLI" ping -c 5 -i 0.2 -W 5 "$LAN_ADDR")
	rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
	rtt=$(awk -F/ '/^rtt/ {print $6}' <<<"$out")
	! policy_returned carol ||
		fail "carol's policy returned before alice's pings were answered: they waited for it" || return 1
	echo "   while carol's policy held: bob logged in, alice's pings ${rx:-0}/5 answered (max rtt ${rtt:-none} ms)"
	[ "${rx:-0}" = 5 ] || fail "alice's tunnel lost pings while a policy ran: ${rx:-0}/5 answered" || return 1
	wait "$carol_job" || fail "carol's slow login failed: $(tail -n 2 "$(client_log carol)" | tr '\n' ' ')" || return 1
	policy_returned carol || fail "carol got in without her policy returning" || return 1
}

# A client that goes away while its login's policy runs: the server notices
# at once (it keeps reading while a request is answered), and when the
# policy returns, the session it made is ended, not left holding an address.
WOLFGUARD_TESTS+=(policy_client_leaves)
test_policy_client_leaves() {
	wolfguard_conf false
	# Held long enough (wall clock) that the client is surely gone first.
	slow_policy "$RUN/slow.lua" alice 10
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	client_connect alice secret1 >/dev/null 2>&1 &
	local job=$!
	wait_for 60 grep -q "slow.lua: alice's policy holds" "$RUN/server.log" || fail "the login did not reach the policy" || return 1
	# The client runs in this lab's client namespace: kill it there only.
	local p
	for p in $(ip netns pids "$NS_CLI"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = openconnect ] && kill -9 "$p"
	done
	wait "$job" 2>/dev/null
	! policy_returned alice || fail "the policy returned before the client was killed: the test proves nothing" || return 1
	wait_for 90 grep -q "session ended: the client left during login" "$RUN/server.log" ||
		fail "the session of a client that left was not ended: $(grep alice "$RUN/server.log" | tail -n 2 | tr '\n' ' ')" || return 1
	server_alive || fail "the server died" || return 1
	local n
	n=$(ctl --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))' 2>/dev/null)
	[ "$n" = 0 ] || fail "sessions left after the client left: $n" || return 1
}
