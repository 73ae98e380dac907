# Hostile clients against the login path (sourced by run.sh; wolfguard only).
# As in tests-hostile.sh (whose helpers these tests use: attack set-up,
# traffic_start/traffic_check, alive_or_fail), each attack runs from the
# second client namespace with tests/hostile/attack_login.py while alice's
# real openconnect tunnel pings the LAN host, and a real openconnect login
# must work during or right after it. Measured numbers are printed ("   ..."
# lines); see docs/security.md.

ATTACK_LOGIN=${ATTACK_LOGIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../hostile" && pwd)/attack_login.py}

attack_login() { # ns subcommand args...: like attack(), with attack_login.py
	local ns=$1
	shift
	in_ns "$ns" timeout 180 python3 "$ATTACK_LOGIN" --host "$SRV_ADDR" "$@" >"$RUN/attack.out" 2>"$RUN/attack.err"
	local rc=$?
	grep '^RESULT' "$RUN/attack.out" | sed 's/^RESULT/   result:/'
	return $rc
}

# A real openconnect login that must work (tag TAG, from namespace NS), then
# its tunnel must carry a ping; the client is left connected.
real_login_or_fail() { # tag ns user password
	connect_or_fail "$3" "$4" --tag "$1" --ns "$2" || return 1
	ping_ok "$2" "$LAN_ADDR" || fail "no traffic through $1's new tunnel"
}

# Requests pipelined on one TLS connection (1 to 3 per TLS record), sent in
# one burst. They used to be answered recursively, one stack frame (~26 KiB
# in the release build) deeper per login form, and a record's later requests
# after the next record's: about 310 GET / overflowed the stack and killed
# the server (measured). Now they are answered one at a time, in order, from
# the event loop, up to the per-connection request bound (128), then 429
# and a close.
test_hostile_pipelined() {
	hostile_setup '"auth-timeout": 20, "max-logins-per-connection": 1000, "max-logins-per-address": 1000' || return 1
	traffic_start 40
	# GET / (a login form) alternating with GET /nothing-N (404): an answer
	# out of order shows as the wrong status at its place.
	attack_login "$NS_CLI2" pipeline --n 1000 --mix --bound 128 ||
		fail "pipelined requests not answered in order up to the bound: $(cat "$RUN/attack.out" "$RUN/attack.err" | tail -n 3)" ||
		return 1
	alive_or_fail || return 1
	grep -q "too many requests on one connection" "$RUN/server.log" || fail "the bound was not logged" || return 1
	traffic_check || return 1
	real_login_or_fail bob "$NS_CLI2" bob secret2 || return 1
	alive_or_fail
}

# The same kind of burst with the default limits: every GET / starts a login
# conversation, and one connection may hold max-logins-per-connection (4).
test_hostile_pipelined_logins() {
	hostile_setup '"auth-timeout": 20' || return 1
	traffic_start 20
	attack_login "$NS_CLI2" pipeline --n 1000 --bound 4 ||
		fail "conversations per connection not bounded: $(cat "$RUN/attack.out" "$RUN/attack.err" | tail -n 3)" || return 1
	grep -q "max-logins-per-connection" "$RUN/server.log" || fail "the refusal was not logged" || return 1
	traffic_check || return 1
	real_login_or_fail bob "$NS_CLI2" bob secret2 || return 1
	alive_or_fail
}

# Many connections from one address, each starting login conversations:
# the address holds at most max-logins-per-address (here 12) at a time; every
# refusal counts as a failed login, so the address ends up banned. A real
# openconnect login from another address works meanwhile.
test_hostile_conversation_flood() {
	hostile_setup '"auth-timeout": 60, "max-logins-per-address": 12, "ban-failures": 20' || return 1
	traffic_start 40
	attack_login "$NS_CLI2" conversation-flood --conns 60 --per-conn 10 --max-held 12 ||
		fail "conversations per address not bounded: $(cat "$RUN/attack.out" "$RUN/attack.err" | tail -n 3)" || return 1
	grep -q "max-logins-per-address" "$RUN/server.log" || fail "no refusal logged" || return 1
	grep -q "banned for .* failed logins" "$RUN/server.log" || fail "the flooding address was not banned" || return 1
	traffic_check || return 1
	# alice again, from her own address, on a second tunnel.
	real_login_or_fail alice2 "$NS_CLI" alice secret1 || return 1
	alive_or_fail
}

# One address holds as many half-open TLS connections as it can: it gets
# max-unauthenticated-per-address (10) of the 40 pre-login slots, so another
# address's openconnect still logs in, and reconnects with its cookie.
test_hostile_unauth_share() {
	local out cookie
	hostile_setup '"auth-timeout": 30, "max-unauthenticated": 40, "max-unauthenticated-per-address": 10' || return 1
	in_ns "$NS_CLI2" timeout 120 python3 "$ATTACK_LOGIN" --host "$SRV_ADDR" hold-unauth --n 60 --seconds 25 \
		--max-held 10 >"$RUN/attack.out" 2>"$RUN/attack.err" &
	local apid=$!
	wait_for 30 grep -q '^HELD' "$RUN/attack.out" || fail "the attacker did not get its connections up" || return 1
	echo "   attacker holds $(sed -n 's/^HELD //p' "$RUN/attack.out") pre-login connections"
	out=$(in_ns "$NS_CLI" timeout 20 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "https://$SRV_ADDR/" <<<secret1 2>"$RUN/authenticate.log")
	cookie=$(printf '%s\n' "$out" | sed -n "s/^COOKIE='\(.*\)'$/\1/p")
	[ -n "$cookie" ] || fail "login refused while the attacker holds its share: $(tail -n 2 "$RUN/authenticate.log" | tr '\n' ' ')" || return 1
	connect_or_fail alice-r - --cookie "$cookie" --tag alice-r || return 1
	client_disconnect alice-r --keep-session
	connect_or_fail alice-r - --cookie "$cookie" --tag alice-r || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic after the reconnect" || return 1
	wait "$apid"
	local rc=$?
	grep '^RESULT' "$RUN/attack.out" | sed 's/^RESULT/   result:/'
	[ $rc = 0 ] || fail "one address held more than its share: $(cat "$RUN/attack.out")" || return 1
	grep -q "max-unauthenticated-per-address" "$RUN/server.log" || fail "no refusal logged" || return 1
	alive_or_fail
}

# The XML logout (<config-auth type="logout">) ends the session its cookie
# names: the cookie is refused afterwards.
test_hostile_logout_cookie() {
	hostile_setup '"auth-timeout": 20' || return 1
	attack_login "$NS_CLI2" logout --user bob --password secret2 ||
		fail "the cookie survived the XML logout: $(cat "$RUN/attack.out" "$RUN/attack.err" | tail -n 3)" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice lost traffic" || return 1
	alive_or_fail
}

# After a failed password the next form comes after a delay that grows with
# the address's failures (4 s here). A client that leaves and answers the
# same conversation on a new connection must wait for it too (409 until
# then).
test_hostile_context_reuse() {
	hostile_setup '"auth-timeout": 30' || return 1
	attack_login "$NS_CLI2" context-reuse --user bob --password secret2 --failures 4 --min-delay 3.0 ||
		fail "the failure delay was skipped: $(cat "$RUN/attack.out" "$RUN/attack.err" | tail -n 3)" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice lost traffic" || return 1
	alive_or_fail
}

WOLFGUARD_TESTS+=(hostile_pipelined hostile_pipelined_logins hostile_conversation_flood hostile_unauth_share
	hostile_logout_cookie hostile_context_reuse)
