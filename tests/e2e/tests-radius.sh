# shellcheck shell=bash
# auth-radius end-to-end tests, sourced by tests/e2e/run.sh (wolfguard only).
#
# Each test starts a real FreeRADIUS 3.2 inside the server namespace, on
# loopback and non-standard ports, from a configuration written under $RUN
# (templates in tests/e2e/radius/), and stops it when the test ends, passed
# or failed. wolfguard talks to it at 127.0.0.1 in that namespace.

RADIUS_SECRET=wg-lab-radius-secret
RADIUS_AUTH_PORT=18120 RADIUS_ACCT_PORT=18130
RADIUS_DEAD_PORT=18190 # nothing listens here: the "dead" server
RADIUS_PID=

radius_start() {
	local d=$RUN/radius f
	rm -rf "$d"
	mkdir -p "$d/log" "$d/acct" "$d/run" || return 1
	for f in radiusd.conf users; do
		sed -e "s|@DIR@|$d|g" -e "s|@AUTH_PORT@|$RADIUS_AUTH_PORT|g" -e "s|@ACCT_PORT@|$RADIUS_ACCT_PORT|g" \
			-e "s|@SECRET@|$RADIUS_SECRET|g" -e "s|@REQUIRE_MA@|${RADIUS_REQUIRE_MA:-yes}|g" \
			"$E2E_DIR/radius/$f" >"$d/$f" || return 1
	done
	# RADIUS_UNSIGNED=1: replies without Message-Authenticator (as 3.2.1 sends them by default).
	[ -z "${RADIUS_UNSIGNED:-}" ] || sed -i 's/&Message-Authenticator := 0x00/\&Tmp-String-9 := "unsigned"/' "$d/radiusd.conf"
	command -v freeradius >/dev/null || { log "freeradius is missing; run scripts/deps.sh"; return 1; }
	# -X: foreground, one thread, every request in the log (kept after a failure).
	# Not through in_ns: a function run with & is a subshell, and its pid in
	# RADIUS_PID would be all radius_stop kills (FreeRADIUS lived on, bound).
	ip netns exec "$NS_SRV" freeradius -X -d "$d" >"$RUN/radius.log" 2>&1 &
	RADIUS_PID=$!
	wait_for 60 sh -c "ip netns exec $NS_SRV ss -Hlun 'sport = :$RADIUS_ACCT_PORT' | grep -q ." || {
		log "freeradius did not start: $(tail -n 5 "$RUN/radius.log" | tr '\n' ' ')"
		return 1
	}
}

radius_stop() {
	[ -n "$RADIUS_PID" ] || return 0
	kill -TERM "$RADIUS_PID" 2>/dev/null
	wait_for 30 sh -c "! kill -0 $RADIUS_PID" || kill -KILL "$RADIUS_PID" 2>/dev/null
	wait "$RADIUS_PID" 2>/dev/null
	RADIUS_PID=
	return 0
}

# radius_run BODY: FreeRADIUS up, BODY, FreeRADIUS down whatever BODY did.
radius_run() {
	local rc
	if ! radius_start; then
		fail "freeradius did not start: $(tail -n 3 "$RUN/radius.log" 2>/dev/null | tr '\n' ' ')"
		radius_stop
		return 1
	fi
	"$@"
	rc=$?
	radius_stop
	return $rc
}

# radius_wolfguard SERVERS-JSON [MORE-OPTIONS-JSON]: wolfguard with
# auth-radius in place of auth-plain.
radius_wolfguard() {
	rm -rf "$RUN/conf.d"
	wolfguard_conf false
	rm -f "$RUN/conf.d/20-auth-plain.json"
	cat >"$RUN/conf.d/20-auth-radius.json" <<JSON
{"plugin": "auth-radius", "options": {"servers": $1, "secret": "$RADIUS_SECRET",
  "nas-identifier": "wolfguard-lab", "timeout": 5, "retries": 0${2:+, $2}}}
JSON
	server_start wolfguard || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"
}

RADIUS_SERVER_JSON="[\"127.0.0.1:$RADIUS_AUTH_PORT:$RADIUS_ACCT_PORT\"]"

# has_route TAG NET/BITS: openconnect handed the client script this split route.
has_route() {
	local tag=$1 net=${2%/*} bits=${2#*/} i
	for i in $(sed -n "s/^CISCO_SPLIT_INC_\([0-9]*\)_ADDR=$net$/\1/p" "$RUN/env-$tag"); do
		[ "$(client_env "$tag" "CISCO_SPLIT_INC_${i}_MASKLEN")" = "$bits" ] && return 0
	done
	return 1
}

# alice's users entry gives her 10.8.0.77, two Framed-Routes and the group
# engineering (Filter-Id); the Access-Request carries what a NAS should.
_radius_login() {
	radius_wolfguard "$RADIUS_SERVER_JSON" || return 1
	connect_or_fail alice secret1 || return 1
	local addr
	addr=$(client_env alice INTERNAL_IP4_ADDRESS)
	[ "$addr" = 10.8.0.77 ] || fail "address '$addr', want Framed-IP-Address 10.8.0.77" || return 1
	has_route alice 198.18.5.0/24 || fail "Framed-Route 198.18.5.0/24 not pushed" || return 1
	has_route alice 198.18.7.0/24 || fail "Framed-Route 198.18.7.0/24 not pushed" || return 1
	ip -n "$NS_CLI" route show 198.18.5.0/24 | grep -q "dev tun-alice" || fail "Framed-Route not installed" || return 1
	grep -q 'session created (group engineering)' "$RUN/server.log" || fail "group from Filter-Id not applied" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic through the RADIUS-configured tunnel" || return 1
	# What FreeRADIUS received (its -X log prints each request).
	grep -q 'NAS-Identifier = "wolfguard-lab"' "$RUN/radius.log" || fail "no NAS-Identifier in the request" || return 1
	grep -q "Calling-Station-Id = \"$CLI_ADDR" "$RUN/radius.log" || fail "no Calling-Station-Id $CLI_ADDR" || return 1
	grep -q 'NAS-Port-Type = Virtual' "$RUN/radius.log" || fail "no NAS-Port-Type Virtual" || return 1
	grep -q 'Service-Type = Framed-User' "$RUN/radius.log" || fail "no Service-Type Framed-User" || return 1
	# bob has no Framed-IP-Address: a pool address, his own group.
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	addr=$(client_env bob INTERNAL_IP4_ADDRESS)
	address_in_pool "$addr" && [ "$addr" != 10.8.0.77 ] || fail "bob got '$addr'" || return 1
	grep -q 'session created (group sales)' "$RUN/server.log" || fail "bob's group not applied" || return 1
}
test_radius_login() { radius_run _radius_login; }

# A wrong password and an unknown user are refused; the reason and the
# server's Reply-Message reach the log.
_radius_reject() {
	radius_wolfguard "$RADIUS_SERVER_JSON" || return 1
	if client_connect alice wrong-password; then fail "a wrong password got a tunnel"; return 1; fi
	[ "$(client_exit_code alice)" != 0 ] || fail "openconnect exited 0 after a rejected login" || return 1
	grep -q 'login failed for user "alice": rejected by RADIUS (127.0.0.1:18120 answered): Wrong user name or password' \
		"$RUN/server.log" || fail "no log line with the reject and its Reply-Message" || return 1
	grep -q 'Wrong user name or password' "$(client_log alice)" || fail "the Reply-Message did not reach the user" || return 1
	if client_connect mallory whatever --tag m; then fail "an unknown user got a tunnel"; return 1; fi
	grep -q 'login failed for user "mallory": rejected by RADIUS' "$RUN/server.log" || fail "unknown user not logged" || return 1
	connect_or_fail alice secret1 || return 1
}
test_radius_reject() { radius_run _radius_reject; }

# carol's password earns an Access-Challenge: the Reply-Message is the form's
# message, the answer goes back with the State. The right code admits her,
# a wrong one is refused.
_radius_challenge() {
	radius_wolfguard "$RADIUS_SERVER_JSON" || return 1
	connect_or_fail carol secret3 -- --form-entry main:answer=123456 || return 1
	grep -q 'Enter the code from your token' "$(client_log carol)" || fail "challenge message not shown" || return 1
	grep -q 'session created (group otp-users)' "$RUN/server.log" || fail "carol's group not applied" || return 1
	# FreeRADIUS saw the State it sent come back.
	grep -q 'State = 0x6f74702d73746570' "$RUN/radius.log" || fail "State not echoed" || return 1
	client_disconnect carol
	if client_connect carol secret3 --tag c2 -- --form-entry main:answer=000000; then
		fail "a wrong code got a tunnel"
		return 1
	fi
	grep -q 'login failed for user "carol": rejected by RADIUS (127.0.0.1:18120 answered): Wrong code' "$RUN/server.log" ||
		fail "wrong code not logged with the reason" || return 1
}
test_radius_challenge() { radius_run _radius_challenge; }

# detail_record STATUS: the last record of that Acct-Status-Type in
# FreeRADIUS's detail file (records are blank-line separated).
detail_record() {
	awk -v want="$1" 'BEGIN {RS = ""} $0 ~ "Acct-Status-Type = " want "\n" {rec = $0} END {print rec}' \
		"$RUN/radius/acct/detail" 2>/dev/null
}

detail_value() { # record attribute
	echo "$1" | sed -n "s/^[[:space:]]*$2 = //p" | tr -d '"' | head -n 1
}

# Start with the address, Class echoed, an Interim-Update, and Stop with
# the traffic counted and the cause of the logout.
_radius_accounting() {
	local start interim stop id
	radius_wolfguard "$RADIUS_SERVER_JSON" '"accounting": true, "interim-interval": 2' || return 1
	connect_or_fail alice secret1 || return 1
	wait_for 60 sh -c "grep -q 'Acct-Status-Type = Start' '$RUN/radius/acct/detail'" || fail "no Accounting Start" || return 1
	start=$(detail_record Start)
	[ "$(detail_value "$start" Framed-IP-Address)" = 10.8.0.77 ] || fail "Start lacks Framed-IP-Address 10.8.0.77" || return 1
	[ "$(detail_value "$start" User-Name)" = alice ] || fail "Start lacks User-Name" || return 1
	# Class "alice-class-1", which FreeRADIUS prints as hex.
	[ "$(detail_value "$start" Class)" = 0x616c6963652d636c6173732d31 ] || fail "Class not echoed in Start" || return 1
	id=$(detail_value "$start" Acct-Session-Id)
	[ -n "$id" ] || fail "Start lacks Acct-Session-Id" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic through the tunnel" || return 1
	in_ns "$NS_CLI" ping -c 20 -i 0.05 -s 1000 -W 2 "$LAN_ADDR" >/dev/null 2>&1
	wait_for 60 sh -c "grep -q 'Acct-Status-Type = Interim-Update' '$RUN/radius/acct/detail'" ||
		fail "no Interim-Update within 60 s (interval 2 s)" || return 1
	interim=$(detail_record Interim-Update)
	[ "$(detail_value "$interim" Acct-Session-Id)" = "$id" ] || fail "Interim-Update for another session" || return 1
	client_disconnect alice
	wait_for 60 sh -c "grep -q 'Acct-Status-Type = Stop' '$RUN/radius/acct/detail'" || fail "no Accounting Stop" || return 1
	stop=$(detail_record Stop)
	[ "$(detail_value "$stop" Acct-Session-Id)" = "$id" ] || fail "Stop for another session" || return 1
	[ "$(detail_value "$stop" Acct-Input-Octets)" -gt 15000 ] 2>/dev/null ||
		fail "Stop Acct-Input-Octets '$(detail_value "$stop" Acct-Input-Octets)', want > 15000 after the pings" || return 1
	[ "$(detail_value "$stop" Acct-Output-Octets)" -gt 15000 ] 2>/dev/null ||
		fail "Stop Acct-Output-Octets '$(detail_value "$stop" Acct-Output-Octets)'" || return 1
	[ "$(detail_value "$stop" Acct-Input-Packets)" -ge 20 ] 2>/dev/null || fail "Stop Acct-Input-Packets too low" || return 1
	[ -n "$(detail_value "$stop" Acct-Session-Time)" ] || fail "Stop lacks Acct-Session-Time" || return 1
	[ "$(detail_value "$stop" Acct-Terminate-Cause)" = User-Request ] ||
		fail "Acct-Terminate-Cause '$(detail_value "$stop" Acct-Terminate-Cause)', want User-Request" || return 1
	[ "$(detail_value "$stop" Class)" = 0x616c6963652d636c6173732d31 ] || fail "Class not echoed in Stop" || return 1
}
test_radius_accounting() { radius_run _radius_accounting; }

# The first server never answers; the second does. The first login waits
# one timeout (5 s) and gets in; the next skips the dead server at once.
# (The log says which servers each login asked: no duration is required.)
_radius_failover() {
	local t0
	radius_wolfguard "[\"127.0.0.1:$RADIUS_DEAD_PORT\", \"127.0.0.1:$RADIUS_AUTH_PORT:$RADIUS_ACCT_PORT\"]" || return 1
	t0=$(now_ms)
	connect_or_fail alice secret1 || return 1
	echo "   login through the second server: $(($(now_ms) - t0)) ms"
	grep -q "user \"alice\" accepted (127.0.0.1:$RADIUS_DEAD_PORT did not answer, 127.0.0.1:$RADIUS_AUTH_PORT answered)" \
		"$RUN/server.log" || fail "no log of the failover" || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	grep -q "user \"bob\" accepted (127.0.0.1:$RADIUS_AUTH_PORT answered)" "$RUN/server.log" ||
		fail "the dead server was asked again within dead-time" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic after the failover" || return 1
}
test_radius_failover() { radius_run _radius_failover; }

WOLFGUARD_TESTS+=(radius_login radius_reject radius_challenge radius_accounting radius_failover)
