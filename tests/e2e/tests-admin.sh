# shellcheck shell=bash
# Everyday administration settings (issue 20): sessions per user
# (max-same-clients) counted across workers. Sourced by run.sh.

# admin_server_opts JSON-OBJECT: merges keys into the server section.
admin_server_opts() {
	local f=$RUN/conf.d/00-server.json
	jq --argjson extra "$1" '.server += $extra' "$f" >"$f.new" && mv "$f.new" "$f"
}

# admin_authenticate NS USER PASS LOG: one `openconnect --authenticate`;
# prints the cookie (nothing when refused), the client's words go to LOG.
admin_authenticate() {
	in_ns "$1" timeout 20 openconnect --authenticate --non-inter --passwd-on-stdin -u "$2" \
		--servercert "$PIN" "https://$SRV_ADDR/" <<<"$3" 2>"$4" | sed -n "s/^COOKIE='\(.*\)'$/\1/p"
}

WOLFGUARD_TESTS+=(admin_same_clients admin_same_clients_lua admin_radius_message_authenticator admin_camouflage admin_events admin_events_workers)

# Two workers; alice may hold 2 sessions ("users"), the group sales 1
# ("groups"). alice's first session is on one worker, her second on the
# other (two client addresses that hash to different workers); her third
# login, on the first worker, is refused with a message naming the limit,
# while both tunnels keep carrying traffic. When one session ends, alice
# may log in again. bob (sales) gets one session and his second is refused.
test_admin_same_clients() {
	local wa wb
	wa=$(worker_of "$CLI_ADDR" 2)
	wb=$(worker_of "$CLI2_ADDR" 2)
	[ "$wa" != "$wb" ] || fail "test set-up: the two client addresses hash to the same worker ($wa)" || return 1
	wolfguard_conf false
	admin_server_opts '{"workers": 2, "users": {"alice": {"max-same-clients": 2}},
		"groups": {"sales": {"max-same-clients": 1}}}'
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1

	connect_or_fail alice secret1 --tag a1 || return 1
	connect_or_fail alice secret1 --tag a2 --ns "$NS_CLI2" || return 1
	local n
	n=$(ctl --json list | jq '[.sessions[] | select(.user == "alice")] | length')
	[ "$n" = 2 ] || fail "wolfguardctl lists $n sessions of alice, want 2" || return 1

	local cookie
	cookie=$(admin_authenticate "$NS_CLI" alice secret1 "$RUN/third.log")
	[ -z "$cookie" ] || fail "the third login of alice (limit 2) got a cookie" || return 1
	grep -q "Too many sessions: user alice may have 2 at a time" "$RUN/third.log" ||
		fail "the refused client was not told why: $(tr '\n' ' ' <"$RUN/third.log" | tail -c 300)" || return 1
	grep -q 'login of alice refused: 2 sessions already, max-same-clients 2' "$RUN/server.log" ||
		fail "the refusal is not in the server log" || return 1
	n=$(ctl --json list | jq '[.sessions[] | select(.user == "alice")] | length')
	[ "$n" = 2 ] || fail "after the refusal wolfguardctl lists $n sessions of alice, want 2" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice's first tunnel stopped working" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "alice's second tunnel stopped working" || return 1

	# The place is given back when a session ends, on either worker.
	client_disconnect a2
	wait_for 30 admin_alice_sessions_are 1 ||
		fail "alice's second session did not end" || return 1
	cookie=$(admin_authenticate "$NS_CLI" alice secret1 "$RUN/again.log")
	[ -n "$cookie" ] || fail "alice could not log in again after ending a session: $(tail -n 2 "$RUN/again.log")" ||
		return 1

	cookie=$(admin_authenticate "$NS_CLI2" bob secret2 "$RUN/bob1.log")
	[ -n "$cookie" ] || fail "bob's first login failed: $(tail -n 2 "$RUN/bob1.log")" || return 1
	cookie=$(admin_authenticate "$NS_CLI" bob secret2 "$RUN/bob2.log")
	[ -z "$cookie" ] || fail "bob's second login got a cookie (group sales, limit 1)" || return 1
	grep -q "Too many sessions: user bob may have 1 at a time" "$RUN/bob2.log" ||
		fail "bob was not told why: $(tr '\n' ' ' <"$RUN/bob2.log" | tail -c 300)" || return 1
}

admin_alice_sessions_are() { [ "$(ctl --json list | jq '[.sessions[] | select(.user == "alice")] | length')" = "$1" ]; }

# A Lua policy sets the limit (session.set_max_same_clients in after_auth)
# over the server's: the server allows 5, the script gives alice 1 and
# reports what the backend attribute said (nothing). Her second login is
# refused with the message; bob, whom the script leaves alone, gets two.
test_admin_same_clients_lua() {
	wolfguard_conf false
	admin_server_opts '{"max-same-clients": 5}'
	cat >"$RUN/same.lua" <<'LUA'
function after_auth(session)
  if session.user == "alice" then
    assert(session.attr("max-same-clients") == nil)
    session.set_max_same_clients(1)
  end
  return true
end
LUA
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$RUN/same.lua\"}}" >"$RUN/conf.d/40-policy-lua.json"
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1
	local cookie
	cookie=$(admin_authenticate "$NS_CLI" alice secret1 "$RUN/alice1.log")
	[ -n "$cookie" ] || fail "alice's first login failed: $(tail -n 2 "$RUN/alice1.log")" || return 1
	cookie=$(admin_authenticate "$NS_CLI2" alice secret1 "$RUN/alice2.log")
	[ -z "$cookie" ] || fail "alice's second login got a cookie (the script set 1)" || return 1
	grep -q "Too many sessions: user alice may have 1 at a time" "$RUN/alice2.log" ||
		fail "alice was not told why: $(tr '\n' ' ' <"$RUN/alice2.log" | tail -c 300)" || return 1
	cookie=$(admin_authenticate "$NS_CLI" bob secret2 "$RUN/bob1.log")
	[ -n "$cookie" ] || fail "bob's first login failed" || return 1
	cookie=$(admin_authenticate "$NS_CLI2" bob secret2 "$RUN/bob2.log")
	[ -n "$cookie" ] || fail "bob's second login failed (server limit 5): $(tail -n 2 "$RUN/bob2.log")" || return 1
}

# RADIUS hygiene against FreeRADIUS that requires Message-Authenticator from
# us (require_message_authenticator = yes) and signs its replies: alice logs
# in; her Access-Request carried a Message-Authenticator and an
# Acct-Session-Id, and accounting reports the session under that same id.
# Then FreeRADIUS answers unsigned: the login is refused and the log says
# why (CVE-2024-3596); with require-message-authenticator false it passes.
_admin_radius_ma() {
	radius_wolfguard "$RADIUS_SERVER_JSON" '"accounting": true' || return 1
	connect_or_fail alice secret1 || return 1
	grep -a -q 'Message-Authenticator = 0x' "$RUN/radius.log" || fail "no Message-Authenticator in the Access-Request" ||
		return 1
	! grep -a -qi 'Message-Authenticator.*\(missing\|invalid\|incorrect\)' "$RUN/radius.log" ||
		fail "FreeRADIUS complained about the Message-Authenticator" || return 1
	local id
	id=$(sed -n 's/^([0-9]*)[[:space:]]*Acct-Session-Id = "\([0-9a-f]\{16\}\)"$/\1/p' "$RUN/radius.log" | head -n 1)
	[ -n "$id" ] || fail "no 16-hex-digit Acct-Session-Id in the Access-Request" || return 1
	wait_for 30 sh -c "grep -q 'Acct-Status-Type = Start' '$RUN/radius/acct/detail'" || fail "no Accounting Start" || return 1
	[ "$(detail_value "$(detail_record Start)" Acct-Session-Id)" = "$id" ] ||
		fail "accounting Start has Acct-Session-Id '$(detail_value "$(detail_record Start)" Acct-Session-Id)', the login had $id" ||
		return 1
	client_disconnect alice
	server_stop
	radius_stop

	RADIUS_UNSIGNED=1 radius_start || fail "freeradius (unsigned) did not start" || return 1
	radius_wolfguard "$RADIUS_SERVER_JSON" || return 1
	! client_connect alice secret1 || fail "a login passed on an unsigned Access-Accept" || return 1
	grep -q 'sent a bad reply: a reply without Message-Authenticator (refused: CVE-2024-3596)' "$RUN/server.log" ||
		fail "the refusal of the unsigned reply is not logged" || return 1
	client_disconnect alice
	server_stop
	radius_wolfguard "$RADIUS_SERVER_JSON" '"require-message-authenticator": false' || return 1
	connect_or_fail alice secret1 || return 1
}
test_admin_radius_message_authenticator() { radius_run _admin_radius_ma; }

# admin_probe ARGS...: one curl request from the client namespace (headers
# and body in one output, certificate not checked, as a scanner would).
admin_probe() { in_ns "$NS_CLI" curl -sk -i --max-time 10 "$@" 2>/dev/null | tr -d '\r'; }

# admin_looks_plain OUTPUT STATUS: the answer has that status and nothing
# of the VPN: no Server header, no "wolfguard", no XML, no login form.
admin_looks_plain() {
	local out=$1
	head -n 1 <<<"$out" | grep -q "^HTTP/1.1 $2" || { echo "status '$(head -n 1 <<<"$out")', want $2"; return 1; }
	! grep -qi '^server:' <<<"$out" || { echo "a Server header: $(grep -i '^server:' <<<"$out")"; return 1; }
	! grep -qi 'wolfguard\|config-auth\|<form\|X-Frame-Options\|webvpn' <<<"$out" || {
		echo "the VPN shows: $(grep -i 'wolfguard\|config-auth\|<form\|X-Frame-Options\|webvpn' <<<"$out" | head -n 2)"; return 1; }
	grep -qi '^date:' <<<"$out" || { echo "no Date header (ordinary servers send one)"; return 1; }
}

# Camouflage: with camouflage-secret set, GET / is the configured page,
# POST / with an AnyConnect init is 405, CONNECT is 400, other paths, a
# wrong secret and a made-up cookie are 404, a malformed request gets a
# plain 400: never a Server header, XML or a login form. openconnect to
# https://SERVER/?SECRET logs in; its CONNECT (with the cookie, on a new
# connection) gets the tunnel; openconnect to https://SERVER/ does not.
# After a reload with camouflage-realm, GET answers 401 with that realm.
test_admin_camouflage() {
	local secret=Xq7-camo_Secret out why
	wolfguard_conf false
	printf '<!DOCTYPE html>\n<html><body><h1>Welcome to the lab homepage</h1></body></html>\n' >"$RUN/decoy.html"
	admin_server_opts "{\"camouflage-secret\": \"$secret\", \"camouflage-page\": \"$RUN/decoy.html\"}"
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1

	out=$(admin_probe "https://$SRV_ADDR/")
	why=$(admin_looks_plain "$out" 200) || fail "GET /: $why" || return 1
	grep -q 'Welcome to the lab homepage' <<<"$out" || fail "GET / is not the camouflage page" || return 1
	out=$(admin_probe -X POST -H 'Content-Type: application/x-www-form-urlencoded' -H 'X-Transcend-Version: 1' \
		-H 'X-Aggregate-Auth: 1' --data '<?xml version="1.0" encoding="UTF-8"?><config-auth client="vpn" type="init"><version who="vpn">v9.01</version></config-auth>' \
		"https://$SRV_ADDR/")
	why=$(admin_looks_plain "$out" 405) || fail "POST / with an init: $why" || return 1
	out=$(admin_probe -X CONNECT "https://$SRV_ADDR/CSCOSSLC/tunnel")
	why=$(admin_looks_plain "$out" 400) || fail "CONNECT: $why" || return 1
	out=$(admin_probe -X CONNECT -H 'Cookie: webvpn=0123456789abcdef' "https://$SRV_ADDR/CSCOSSLC/tunnel")
	why=$(admin_looks_plain "$out" 400) || fail "CONNECT with a made-up cookie: $why" || return 1
	local path
	for path in /auth /profile.xml /+CSCOE+/logon.html /admin/login.php "/?wrong-secret" "/?"; do
		out=$(admin_probe "https://$SRV_ADDR$path")
		why=$(admin_looks_plain "$out" 404) || fail "GET $path: $why" || return 1
	done
	out=$(admin_probe -H 'Cookie: webvpncontext=00112233445566778899aabbccddeeff' "https://$SRV_ADDR/auth")
	why=$(admin_looks_plain "$out" 404) || fail "GET /auth with a made-up context: $why" || return 1
	out=$(in_ns "$NS_CLI" sh -c "printf 'GARBAGE\r\n\r\n' | timeout 10 openssl s_client -quiet -connect $SRV_ADDR:443 2>/dev/null" | tr -d '\r')
	why=$(admin_looks_plain "$out" 400) || fail "a malformed request: $why" || return 1

	# Without the secret openconnect finds no VPN.
	! admin_authenticate_url "$NS_CLI" "https://$SRV_ADDR/" "$RUN/nosecret.log" >/dev/null ||
		fail "openconnect logged in without the secret" || return 1
	local cookie
	cookie=$(admin_authenticate_url "$NS_CLI" "https://$SRV_ADDR/?$secret" "$RUN/secret.log")
	[ -n "$cookie" ] || fail "no login at the secret URL: $(tail -n 3 "$RUN/secret.log" | tr '\n' ' ')" || return 1
	connect_or_fail alice - --cookie "$cookie" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic through the tunnel of the secret login" || return 1
	client_disconnect alice

	admin_server_opts '{"camouflage-realm": "Staff intranet"}'
	ctl reload >/dev/null || fail "reload with camouflage-realm failed" || return 1
	out=$(admin_probe "https://$SRV_ADDR/")
	why=$(admin_looks_plain "$out" 401) || fail "GET / with a realm: $why" || return 1
	grep -q '^WWW-Authenticate: Basic realm="Staff intranet"$' <<<"$out" || fail "no Basic realm in the 401" || return 1
}

# admin_authenticate_url NS URL LOG: `openconnect --authenticate` as alice
# to URL; prints the cookie, fails without one.
admin_authenticate_url() {
	local c
	c=$(in_ns "$1" timeout 20 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "$2" <<<secret1 2>"$3" | sed -n "s/^COOKIE='\(.*\)'$/\1/p")
	[ -n "$c" ] && echo "$c"
}

# admin_events_start: `wolfguardctl events` in the background into
# $RUN/events.jsonl; waits for N "subscribed" lines (one per worker).
admin_events_start() {
	: >"$RUN/events.jsonl"
	# wolfguardctl itself in the background (not the ctl function, whose
	# subshell would be all that admin_events_stop kills).
	"$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" -s "$RUN/control.sock" events \
		>"$RUN/events.jsonl" 2>"$RUN/events.err" &
	ADMIN_EVENTS_PID=$!
	wait_for 30 admin_events_count subscribed "$1" || fail "the event stream did not start: $(cat "$RUN/events.err")"
}
admin_events_stop() { [ -z "${ADMIN_EVENTS_PID:-}" ] || { kill "$ADMIN_EVENTS_PID" 2>/dev/null; wait "$ADMIN_EVENTS_PID" 2>/dev/null; }; ADMIN_EVENTS_PID=; }
# admin_events_count EVENT N: at least N lines of that event.
admin_events_count() { [ "$(jq -c "select(.event == \"$1\")" "$RUN/events.jsonl" 2>/dev/null | wc -l)" -ge "$2" ]; }
admin_event() { jq -c "select(.event == \"$1\")" "$RUN/events.jsonl" | head -n 1; }

# wolfguardctl events: the stream shows alice's login and connect, bob's
# failed login, an administrator's ban, and alice's disconnect with the
# traffic her pings made; every line is one JSON object.
test_admin_events() {
	start_server false || return 1
	admin_events_start 1 || return 1
	connect_or_fail alice secret1 || { admin_events_stop; return 1; }
	in_ns "$NS_CLI" ping -c 10 -i 0.05 -s 1000 -W 2 "$LAN_ADDR" >/dev/null 2>&1
	in_ns "$NS_CLI2" timeout 20 openconnect --authenticate --non-inter --passwd-on-stdin -u bob \
		--servercert "$PIN" "https://$SRV_ADDR/" <<<"wrong" >/dev/null 2>&1
	ctl ban 203.0.113.9 60 >/dev/null
	client_disconnect alice
	wait_for 30 admin_events_count disconnect 1 && wait_for 30 admin_events_count ban 1 ||
		{ admin_events_stop; fail "events missing: $(tr '\n' ' ' <"$RUN/events.jsonl")"; return 1; }
	admin_events_stop
	jq -e . "$RUN/events.jsonl" >/dev/null || fail "a line is not JSON" || return 1
	local e
	e=$(admin_event login)
	jq -e '.user == "alice" and .group == "engineering" and (.vpn_address | test("^10\\.8\\.0\\.")) and .client_address == "198.51.100.2"' <<<"$e" >/dev/null ||
		fail "login event: $e" || return 1
	e=$(admin_event connect)
	jq -e '.user == "alice"' <<<"$e" >/dev/null || fail "connect event: $e" || return 1
	e=$(admin_event failure)
	jq -e '.user == "bob" and .client_address == "198.51.100.3" and (.reason | length > 0)' <<<"$e" >/dev/null ||
		fail "failure event: $e" || return 1
	e=$(admin_event ban)
	jq -e '.client_address == "203.0.113.9" and .seconds == 60 and .reason == "administrator"' <<<"$e" >/dev/null ||
		fail "ban event: $e" || return 1
	e=$(admin_event disconnect)
	jq -e '.user == "alice" and .rx_bytes > 10000 and .tx_bytes > 10000 and .rx_packets >= 10 and (.reason | length > 0) and .duration_s >= 0' <<<"$e" >/dev/null ||
		fail "disconnect event: $e" || return 1
}

# With two workers the master relays both workers' streams: two
# "subscribed" lines (workers 0 and 1), and the logins of alice and bob,
# who land on different workers, both appear.
test_admin_events_workers() {
	wolfguard_conf false
	admin_server_opts '{"workers": 2}'
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	admin_events_start 2 || return 1
	[ "$(jq -c 'select(.event == "subscribed") | .worker' "$RUN/events.jsonl" | sort | tr '\n' ' ')" = "0 1 " ] ||
		{ admin_events_stop; fail "subscribed lines: $(tr '\n' ' ' <"$RUN/events.jsonl")"; return 1; }
	connect_or_fail alice secret1 || { admin_events_stop; return 1; }
	connect_or_fail bob secret2 --ns "$NS_CLI2" || { admin_events_stop; return 1; }
	wait_for 30 admin_events_count login 2 || { admin_events_stop; fail "not both logins: $(tr '\n' ' ' <"$RUN/events.jsonl")"; return 1; }
	admin_events_stop
	[ "$(jq -r 'select(.event == "login") | "\(.user):\(.worker)"' "$RUN/events.jsonl" | sort | tr '\n' ' ')" = \
		"alice:$(worker_of "$CLI_ADDR" 2) bob:$(worker_of "$CLI2_ADDR" 2) " ] ||
		fail "logins not from their workers: $(tr '\n' ' ' <"$RUN/events.jsonl")" || return 1
}
