# shellcheck shell=bash
# auth-ldap end-to-end tests, sourced by tests/e2e/run.sh (wolfguard only).
#
# Each test starts a real OpenLDAP slapd inside the server namespace, on
# 127.0.0.1 and a non-standard port, from a slapd.conf written under $RUN
# (template and directory in tests/e2e/ldap/, mdb backend, memberof
# overlay), fills it with ldapadd, and stops it when the test ends, passed or
# failed. The system's slapd (its config and databases) is never used.

LDAP_PORT=13890
LDAP_DEAD_PORT=13899 # nothing listens here: the "dead" server
LDAP_HOLE_PORT=13898 # SYNs to this port are dropped: a server that never answers
LDAP_ROOTPW=wg-lab-ldap-root
LDAP_PID=
LDAP_URI="ldap://127.0.0.1:$LDAP_PORT/"
LDAP_PEOPLE="ou=people,dc=example,dc=org"

# A certificate for 127.0.0.1 (IP SAN, as libldap checks the name it
# connected to), signed by the lab CA.
ldap_cert() {
	local d=$1
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/ldap.key" 2>>"$d/openssl.log" &&
		openssl req -new -key "$d/ldap.key" -subj /CN=127.0.0.1 -out "$d/ldap.csr" 2>>"$d/openssl.log" &&
		printf '%s\n' "subjectAltName=IP:127.0.0.1" "extendedKeyUsage=serverAuth" "basicConstraints=CA:FALSE" \
			>"$d/ldap.ext" &&
		openssl x509 -req -in "$d/ldap.csr" -CA "$RUN/ca.pem" -CAkey "$RUN/ca.key" -CAcreateserial -days 2 \
			-extfile "$d/ldap.ext" -out "$d/ldap.pem" 2>>"$d/openssl.log"
}

ldap_start() {
	local d=$RUN/ldap
	rm -rf "$d"
	mkdir -p "$d/db" || return 1
	for tool in slapd ldapadd; do
		command -v "$tool" >/dev/null || { log "$tool is missing; run scripts/deps.sh"; return 1; }
	done
	ldap_cert "$d" || { log "could not make the LDAP server certificate: $(tail -n 2 "$d/openssl.log")"; return 1; }
	# LDAP_EXTRA: global directives a test adds (e.g. "allow bind_anon_dn").
	sed -e "s|@DIR@|$d|g" -e "s|@ROOTPW@|$LDAP_ROOTPW|g" -e "s|^# @EXTRA@$|${LDAP_EXTRA:-}|" \
		"$E2E_DIR/ldap/slapd.conf" >"$d/slapd.conf" || return 1
	# -d 256: stay in the foreground and log every operation (connections,
	# BINDs with their DN and result), kept after a failure.
	# ip netns exec execs slapd, so $! is slapd itself (what ldap_stop kills);
	# through the in_ns function it would be a subshell that TERM leaves slapd behind.
	ip netns exec "$NS_SRV" slapd -d 256 -h "$LDAP_URI" -f "$d/slapd.conf" >"$RUN/slapd.log" 2>&1 &
	LDAP_PID=$!
	wait_for 60 sh -c "ip netns exec $NS_SRV ss -Hltn 'sport = :$LDAP_PORT' | grep -q ." || {
		log "slapd did not start: $(tail -n 5 "$RUN/slapd.log" | tr '\n' ' ')"
		return 1
	}
	timeout 60 ip netns exec "$NS_SRV" ldapadd -x -H "$LDAP_URI" -D "cn=admin,dc=example,dc=org" -w "$LDAP_ROOTPW" \
		-f "$E2E_DIR/ldap/directory.ldif" >"$RUN/ldapadd.log" 2>&1 || {
		log "ldapadd failed: $(tail -n 3 "$RUN/ldapadd.log" | tr '\n' ' ')"
		return 1
	}
}

ldap_stop() {
	in_ns "$NS_SRV" nft delete table inet ldaplab 2>/dev/null
	[ -n "$LDAP_PID" ] || return 0
	kill -TERM "$LDAP_PID" 2>/dev/null
	wait_for 30 sh -c "! kill -0 $LDAP_PID" || kill -KILL "$LDAP_PID" 2>/dev/null
	wait "$LDAP_PID" 2>/dev/null
	LDAP_PID=
	return 0
}

# ldap_run BODY: slapd up, BODY, slapd down whatever BODY did.
ldap_run() {
	local rc
	if ! ldap_start; then
		fail "slapd did not start: $(tail -n 3 "$RUN/slapd.log" 2>/dev/null | tr '\n' ' ')"
		ldap_stop
		return 1
	fi
	"$@"
	rc=$?
	ldap_stop
	return $rc
}

# ldap_wolfguard OPTIONS-JSON: wolfguard with auth-ldap in place of
# auth-plain (a running one is stopped first).
ldap_wolfguard() {
	server_stop
	rm -rf "$RUN/conf.d"
	wolfguard_conf false
	rm -f "$RUN/conf.d/20-auth-plain.json"
	echo "{\"plugin\": \"auth-ldap\", \"options\": {$1}}" >"$RUN/conf.d/20-auth-ldap.json"
	server_start wolfguard || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"
}

LDAP_DIRECT="\"uri\": [\"$LDAP_URI\"], \"bind-dn-template\": \"uid=%u,$LDAP_PEOPLE\", \"timeout\": 10"
LDAP_SEARCH="\"uri\": [\"$LDAP_URI\"], \"search-base\": \"$LDAP_PEOPLE\", \"search-filter\": \"(&(objectClass=inetOrgPerson)(uid=%u))\",
  \"bind-dn\": \"cn=vpn-reader,ou=services,dc=example,dc=org\", \"bind-password\": \"reader-secret\", \"timeout\": 10"

ldap_ctl_json() { "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" -s "$RUN/control.sock" --json "$@"; }

# The groups of USER's session as "a,b" (wolfguardctl --json show).
ldap_session_groups() {
	ldap_ctl_json show "$1" | jq -r '[.. | objects | select(.user? == "'"$1"'") | .groups[]] | join(",")' 2>/dev/null
}

# Direct bind as uid=alice: a tunnel with traffic; her groups come from
# memberOf (kept by slapd's memberof overlay), her mail and departmentNumber
# reach a Lua policy that lets in only users whose attributes match.
_ldap_bind_login() {
	cat >"$RUN/ldap/policy.lua" <<'LUA'
function after_auth(session)
  if session.attr("mail") ~= session.user .. "@example.org" then
    return false, "mail attribute missing"
  end
  if session.attr("departmentnumber") ~= "4711" then
    return false, "No department, no VPN."
  end
  if session.attr("ldap-dn") ~= "uid=" .. session.user .. ",ou=people,dc=example,dc=org" then
    return false, "ldap-dn attribute wrong"
  end
  return true
end
LUA
	ldap_wolfguard "$LDAP_DIRECT, \"group-attribute\": \"memberOf\", \"attributes\": [\"mail\", \"departmentNumber\"]" ||
		return 1
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$RUN/ldap/policy.lua\"}}" >"$RUN/conf.d/40-policy-lua.json"
	server_stop
	server_start wolfguard || fail "wolfguard did not start with the policy: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1
	connect_or_fail alice secret1 || return 1
	local addr groups
	addr=$(client_env alice INTERNAL_IP4_ADDRESS)
	address_in_pool "$addr" || fail "address '$addr' is not in $POOL_NET" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping reply from $LAN_ADDR through the tunnel" || return 1
	grep -q "auth-ldap: user \"alice\" accepted as \"uid=alice,$LDAP_PEOPLE\"" "$RUN/server.log" ||
		fail "no accept line in the log" || return 1
	grep -q "BIND dn=\"uid=alice,$LDAP_PEOPLE\" method=128" "$RUN/slapd.log" || fail "slapd saw no bind as alice" || return 1
	groups=$(ldap_session_groups alice | tr , '\n' | sort | paste -sd,)
	[ "$groups" = "staff,vpn-engineers" ] || fail "alice's groups from memberOf: '$groups', want staff and vpn-engineers" ||
		return 1
	# bob lacks departmentNumber: the policy, reading the LDAP attributes, refuses him.
	if client_connect bob secret2 --ns "$NS_CLI2"; then fail "bob got in without departmentNumber"; return 1; fi
	grep -q "No department, no VPN." "$(client_log bob)" || fail "bob was not refused by the policy" || return 1
}
test_ldap_bind_login() { ldap_run _ldap_bind_login; }

# Search then bind with a search account; groups from a group search,
# vpn-engineers mapped to the wolfguard group engineering by DN, staff
# unmapped (its CN); mapped groups come first, so engineering is the
# session's group. A filter metacharacter as user name finds no one.
_ldap_search_bind() {
	ldap_wolfguard "$LDAP_SEARCH, \"group-base\": \"ou=groups,dc=example,dc=org\",
	  \"group-filter\": \"(&(objectClass=groupOfNames)(member=%d))\",
	  \"group-map\": [\"cn=vpn-engineers,ou=groups,dc=example,dc=org=engineering\"]" || return 1
	connect_or_fail alice secret1 || return 1
	local out groups
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping reply through alice's tunnel" || return 1
	out=$(ldap_ctl_json show alice) || fail "wolfguardctl show alice failed" || return 1
	groups=$(ldap_session_groups alice)
	[ "$groups" = "engineering,staff" ] && [ "$(echo "$out" | jq -r '.. | objects | select(.user? == "alice") | .group')" = engineering ] ||
		fail "alice's groups '$groups' (want engineering,staff; group engineering): $out" || return 1
	grep -q 'BIND dn="cn=vpn-reader,ou=services,dc=example,dc=org" method=128' "$RUN/slapd.log" ||
		fail "the search account did not bind" || return 1
	grep -q 'SRCH base="ou=people,dc=example,dc=org" scope=2 deref=0 filter="(&(objectClass=inetOrgPerson)(uid=alice))"' \
		"$RUN/slapd.log" || fail "slapd saw no user search" || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	groups=$(ldap_session_groups bob)
	[ "$groups" = staff ] || fail "bob's groups '$groups', want staff" || return 1
	# "*" must be searched as a literal asterisk (\2a), matching no one.
	if client_connect '*' secret1 --tag star; then fail "user name * got a tunnel"; return 1; fi
	grep -q 'filter="(&(objectClass=inetOrgPerson)(uid=\\2A))"' "$RUN/slapd.log" ||
		fail "the user name was not escaped in the filter" || return 1
	grep -q 'login failed for user "\*": invalid credentials (.*found no such user)' "$RUN/server.log" ||
		fail "no 'no such user' log line for *" || return 1
}
test_ldap_search_bind() { ldap_run _ldap_search_bind; }

# A wrong password and an unknown user are refused with the reason in the
# log and a generic message to the user; a dead server is reported as such
# and skipped when another one answers.
_ldap_wrong_password() {
	ldap_wolfguard "$LDAP_DIRECT" || return 1
	if client_connect alice wrong-password; then fail "a wrong password got a tunnel"; return 1; fi
	[ "$(client_exit_code alice)" != 0 ] || fail "openconnect exited 0 after a rejected login" || return 1
	grep -q "login failed for user \"alice\": invalid credentials ($LDAP_URI: bind as \"uid=alice,$LDAP_PEOPLE\": Invalid credentials" \
		"$RUN/server.log" || fail "no log line with the LDAP reason" || return 1
	grep -q 'Login failed\.' "$(client_log alice)" || fail "the user did not see 'Login failed.'" || return 1
	! grep -q 'Invalid credentials' "$(client_log alice)" || fail "the LDAP reason leaked to the user" || return 1
	if client_connect mallory whatever --tag m; then fail "an unknown user got a tunnel"; return 1; fi
	grep -q 'login failed for user "mallory": invalid credentials' "$RUN/server.log" || fail "unknown user not logged" || return 1
	# Only a dead server: "unreachable", not "invalid credentials".
	ldap_wolfguard "\"uri\": [\"ldap://127.0.0.1:$LDAP_DEAD_PORT/\"], \"bind-dn-template\": \"uid=%u,$LDAP_PEOPLE\", \"timeout\": 2" ||
		return 1
	if client_connect alice secret1 --tag dead; then fail "a login with no LDAP server got a tunnel"; return 1; fi
	grep -q "login failed for user \"alice\": no LDAP server reachable (ldap://127.0.0.1:$LDAP_DEAD_PORT/: bind as .*Can't contact LDAP server" \
		"$RUN/server.log" || fail "the dead server was not reported as unreachable" || return 1
	# The dead server first, the live one second: failover.
	ldap_wolfguard "\"uri\": [\"ldap://127.0.0.1:$LDAP_DEAD_PORT/\", \"$LDAP_URI\"], \"bind-dn-template\": \"uid=%u,$LDAP_PEOPLE\", \"timeout\": 2" ||
		return 1
	connect_or_fail alice secret1 --tag failover || return 1
}
test_ldap_wrong_password() { ldap_run _ldap_wrong_password; }

# An empty password is refused before any bind. slapd here allows
# unauthenticated binds (allow bind_anon_dn), so a bind with alice's DN and
# no password would succeed: only the plugin stands in the way.
_ldap_empty_password() {
	ldap_wolfguard "$LDAP_DIRECT" || return 1
	# Proof that the server would accept it: ldapwhoami with the DN and no password.
	timeout 30 ip netns exec "$NS_SRV" ldapwhoami -x -H "$LDAP_URI" -D "uid=alice,$LDAP_PEOPLE" -w '' >"$RUN/ldap/whoami.log" 2>&1 ||
		fail "slapd refused the unauthenticated bind, so this test could not fail: $(cat "$RUN/ldap/whoami.log")" ||
		return 1
	local binds_before
	binds_before=$(grep -c "BIND dn=\"uid=alice,$LDAP_PEOPLE\"" "$RUN/slapd.log")
	if client_connect alice ''; then fail "an empty password got a tunnel"; return 1; fi
	grep -q 'login failed for user "alice": empty password refused before any LDAP bind' "$RUN/server.log" ||
		fail "no log line for the empty password" || return 1
	[ "$(grep -c "BIND dn=\"uid=alice,$LDAP_PEOPLE\"" "$RUN/slapd.log")" = "$binds_before" ] ||
		fail "the plugin sent a bind for the empty password" || return 1
	connect_or_fail alice secret1 --tag after || return 1
}
test_ldap_empty_password() { LDAP_EXTRA="allow bind_anon_dn" ldap_run _ldap_empty_password; }

# StartTLS verified against ca-file: the lab CA signed slapd's certificate
# for 127.0.0.1, so the login works; with another CA it is refused and the
# log says why.
_ldap_starttls() {
	ldap_wolfguard "$LDAP_DIRECT, \"starttls\": true, \"ca-file\": \"$RUN/ca.pem\"" || return 1
	connect_or_fail alice secret1 || return 1
	grep -q 'STARTTLS' "$RUN/slapd.log" || fail "slapd saw no StartTLS" || return 1
	grep -q 'TLS established' "$RUN/slapd.log" || fail "slapd did not establish TLS" || return 1
	client_disconnect alice
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=another CA" \
		-keyout "$RUN/ldap/other-ca.key" -out "$RUN/ldap/other-ca.pem" 2>>"$RUN/ldap/openssl.log" ||
		fail "could not make the other CA" || return 1
	# A ca-file that holds no certificate stops the server at start (plugin init).
	if ldap_wolfguard "$LDAP_DIRECT, \"starttls\": true, \"ca-file\": \"$RUN/ldap/slapd.conf\"" 2>/dev/null; then
		fail "a ca-file without certificates was accepted"
		return 1
	fi
	grep -q "ca-file: $RUN/ldap/slapd.conf holds no PEM certificate" "$RUN/server.log" ||
		fail "no ca-file error in the server log: $(tail -n 2 "$RUN/server.log")" || return 1
	ldap_wolfguard "$LDAP_DIRECT, \"starttls\": true, \"ca-file\": \"$RUN/ldap/other-ca.pem\"" || return 1
	local binds_before
	binds_before=$(grep -c "BIND dn=\"uid=alice,$LDAP_PEOPLE\"" "$RUN/slapd.log")
	if client_connect alice secret1 --tag wrongca; then fail "a server with an untrusted certificate was used"; return 1; fi
	grep -q "login failed for user \"alice\": no LDAP server reachable ($LDAP_URI: StartTLS failed: .*certificate" \
		"$RUN/server.log" || fail "no StartTLS certificate failure in the log" || return 1
	[ "$(grep -c "BIND dn=\"uid=alice,$LDAP_PEOPLE\"" "$RUN/slapd.log")" = "$binds_before" ] ||
		fail "the password was sent to a server that failed verification" || return 1
}
test_ldap_starttls() { ldap_run _ldap_starttls; }

# A server that never answers (its SYNs dropped) listed first: the login
# fails over after the timeout, the event loop keeps serving meanwhile (a
# control request made while the login waits for the dead server is answered
# before that wait ends), and the next login skips the dead server
# (dead-time) instead of waiting again. Checked by the order of events and
# the log, not by durations: only the lower bound "the failover took at least
# the timeout" is timed, which a slow machine cannot break.
LDAP_HOLE_TIMEOUT=10
_ldap_dead_server() {
	in_ns "$NS_SRV" nft -f - <<NFT || fail "nft rule failed" || return 1
table inet ldaplab {
	counter hole { }
	chain input {
		type filter hook input priority 0;
		tcp dport $LDAP_HOLE_PORT counter name hole drop
	}
}
NFT
	ldap_wolfguard "\"uri\": [\"ldap://127.0.0.1:$LDAP_HOLE_PORT/\", \"$LDAP_URI\"], \"bind-dn-template\": \"uid=%u,$LDAP_PEOPLE\",
	  \"timeout\": $LDAP_HOLE_TIMEOUT, \"dead-time\": 600" || return 1
	local t0 t2 bg
	# Once the login's SYN to the dead server was dropped (the login now
	# waits on it), a control request; it must be answered while the login
	# still waits: before the server logs that the dead one did not answer.
	(
		wait_for 60 hole_tried || { echo "the login never tried the dead server" >"$RUN/ldap/ctl-during"; exit; }
		if ldap_ctl_json list >/dev/null; then
			if grep -q "Can't contact LDAP server" "$RUN/server.log"; then
				echo "answered only after the login's wait ended" >"$RUN/ldap/ctl-during"
			else
				echo ok >"$RUN/ldap/ctl-during"
			fi
		else
			echo "no answer" >"$RUN/ldap/ctl-during"
		fi
	) &
	bg=$!
	t0=$(now_ms)
	connect_or_fail alice secret1 || { wait "$bg"; return 1; }
	t2=$(($(now_ms) - t0))
	wait "$bg"
	echo "   alice's login with failover: ${t2} ms (timeout ${LDAP_HOLE_TIMEOUT} s); control request during it: $(cat "$RUN/ldap/ctl-during" 2>/dev/null)"
	[ "$(cat "$RUN/ldap/ctl-during" 2>/dev/null)" = ok ] ||
		fail "control socket during the stalled login: $(cat "$RUN/ldap/ctl-during" 2>/dev/null || echo nothing)" || return 1
	[ "$t2" -ge $((LDAP_HOLE_TIMEOUT * 1000)) ] || fail "alice's login took ${t2} ms: the dead server was not tried first?" || return 1
	grep -q "auth-ldap: user \"alice\" accepted" "$RUN/server.log" || fail "no accept" || return 1
	grep -q "auth-ldap: user \"alice\": ldap://127.0.0.1:$LDAP_HOLE_PORT/: bind as \"uid=alice,$LDAP_PEOPLE\": Can't contact LDAP server" \
		"$RUN/server.log" || fail "the unreachable server was not logged" || return 1
	# bob: the dead server is now tried last, so the live one answers first
	# and the dead one is not asked at all.
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	grep -q "auth-ldap: user \"bob\" accepted" "$RUN/server.log" || fail "no accept for bob" || return 1
	! grep -q "auth-ldap: user \"bob\": ldap://127.0.0.1:$LDAP_HOLE_PORT/" "$RUN/server.log" ||
		fail "the dead server was asked again for bob within dead-time" || return 1
}
hole_tried() { [ "$(in_ns "$NS_SRV" nft list counter inet ldaplab hole | awk '/packets/ {print $2; exit}')" -ge 1 ]; }
test_ldap_dead_server() { ldap_run _ldap_dead_server; }

# In a chain after auth-cert, auth-ldap checks the password of the user the
# certificate names, asking only for the password (client_cert, cert_args and
# server_conf_set come from tests-auth.sh).
_ldap_cert_chain() {
	declare -F client_cert >/dev/null || fail "tests-auth.sh helpers missing" || return 1
	client_cert alice "/CN=alice/OU=engineering" || fail "cannot make a client certificate" || return 1
	server_stop
	ldap_wolfguard "$LDAP_DIRECT" || return 1
	server_stop
	server_conf_set ca-file "\"$RUN/ca.pem\""
	echo '{"plugin": "auth-cert", "options": {"user-from": "cn"}}' >"$RUN/conf.d/15-auth-cert.json"
	server_start wolfguard || fail "wolfguard did not start with the chain: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1
	grep -q "login chain: auth-cert -> auth-ldap" "$RUN/server.log" || fail "the chain was not announced" || return 1
	# alice's certificate with bob's password: LDAP checks alice.
	# shellcheck disable=SC2046
	! client_connect alice secret2 --tag wrong -- $(cert_args alice) ||
		fail "alice's certificate with bob's password got a tunnel" || return 1
	grep -q "login failed for user \"alice\": invalid credentials ($LDAP_URI: bind as \"uid=alice,$LDAP_PEOPLE\"" \
		"$RUN/server.log" || fail "the LDAP step did not check alice" || return 1
	# shellcheck disable=SC2046
	connect_or_fail alice secret1 -- $(cert_args alice) || return 1
	grep -q 'user "alice" passed auth-cert; next step auth-ldap' "$RUN/server.log" ||
		fail "the server did not log the chain's steps" || return 1
	grep -q 'Please enter your password\.' "$(client_log alice)" && ! grep -q 'Please enter your username and password' "$(client_log alice)" ||
		fail "auth-ldap asked for the user name again" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping to the LAN host" || return 1
}
test_ldap_cert_chain() { ldap_run _ldap_cert_chain; }

WOLFGUARD_TESTS+=(ldap_bind_login ldap_search_bind ldap_wrong_password ldap_empty_password ldap_starttls ldap_dead_server
	ldap_cert_chain)
