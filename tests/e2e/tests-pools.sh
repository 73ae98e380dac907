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
