#!/usr/bin/env bash
# End-to-end tests: the real openconnect client against a VPN server in
# network namespaces. Usage (root): tests/e2e/run.sh [wolfguard|ocserv] [test...]
# Prints "PASS name (Ns)" / "FAIL name: reason" per test and a final
# "N passed, M failed" line; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

KIND=${1:-wolfguard}
shift || true
ALL_TESTS=(login_dtls cstp_only wrong_password two_clients_isolation cookie_reconnect policy_lua lua_examples control rsa_ipv6)
TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=("${ALL_TESTS[@]}")

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 1; }
for tool in openconnect iperf3 nft ip; do
	command -v $tool >/dev/null || { echo "run.sh: $tool is missing; run scripts/deps.sh" >&2; exit 1; }
done
trap lab_down EXIT
trap 'exit 130' INT TERM
lab_up

fail() { echo "$*" >"$RUN/why"; return 1; }

start_server() { # isolate
	rm -rf "$RUN/conf.d"
	"server_start_$KIND" "$1"
}

# iperf3 through the tunnel from NS to the LAN host; prints Mbit/s.
iperf_mbps() { # ns seconds [-R]
	ip netns exec "$NS_LAN" timeout 30 iperf3 -s -1 >/dev/null 2>&1 &
	local srv=$!
	wait_for 5 sh -c "ip netns exec $NS_LAN ss -ltn | grep -q ':5201 '"
	ip netns exec "$1" timeout $(($2 + 15)) iperf3 -c 203.0.113.2 -t "$2" -f m ${3:-} 2>/dev/null |
		awk '/receiver/ {print int($7)}'
	wait "$srv" 2>/dev/null
}

check_server_alive() {
	kill -0 "$SERVER_PID" 2>/dev/null || fail "server died: $(tail -5 "$RUN/server.log")"
	! grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$RUN/server.log" || fail "sanitizer report in server log"
}

ping_ok() { # ns target
	ip netns exec "$1" ping -c 3 -i 0.2 -W 2 "$2" >/dev/null 2>&1
}

test_login_dtls() {
	start_server false || return 1
	client_connect "$NS_CLI1" a alice secret1 || fail "no tunnel: $(tail -3 "$RUN/client-a.log")" || return 1
	local addr
	addr=$(client_env a INTERNAL_IP4_ADDRESS)
	[[ $addr =~ ^10\.8\.0\.([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 2 ] && [ "${BASH_REMATCH[1]}" -le 254 ] ||
		fail "address '$addr' is not in the pool" || return 1
	[ "$(client_env a CISCO_SPLIT_INC_0_ADDR)/$(client_env a CISCO_SPLIT_INC_0_MASKLEN)" = 203.0.113.0/24 ] ||
		fail "pushed route missing" || return 1
	[ "$(client_env a INTERNAL_IP4_DNS)" = 203.0.113.53 ] || fail "DNS not pushed" || return 1
	[ "$(client_env a CISCO_SPLIT_DNS)" = example.test ] || fail "split DNS not pushed" || return 1
	wait_for 10 grep -q "Established DTLS connection" "$RUN/client-a.log" || fail "DTLS not established" || return 1
	ping_ok "$NS_CLI1" 203.0.113.2 || fail "ping to the LAN host failed" || return 1
	local up down
	up=$(iperf_mbps "$NS_CLI1" 3)
	down=$(iperf_mbps "$NS_CLI1" 3 -R)
	echo "   DTLS iperf3: client->LAN ${up:-0} Mbit/s, LAN->client ${down:-0} Mbit/s"
	[ "${up:-0}" -ge 20 ] && [ "${down:-0}" -ge 20 ] || fail "throughput too low: up ${up:-0} down ${down:-0} Mbit/s" || return 1
	grep -q "Established DTLS" "$RUN/client-a.log" && ! grep -q "DTLS handshake failed" "$RUN/client-a.log" ||
		fail "DTLS dropped during the transfer" || return 1
	client_disconnect a
	wait_for 5 grep -q "session ended: client disconnected" "$RUN/server.log" || [ "$KIND" = ocserv ] ||
		fail "server did not see the disconnect" || return 1
	check_server_alive
}

test_cstp_only() {
	start_server false || return 1
	ip netns exec "$NS_SRV" nft add table inet e2e
	ip netns exec "$NS_SRV" nft add chain inet e2e input '{ type filter hook input priority 0; }'
	ip netns exec "$NS_SRV" nft add rule inet e2e input udp dport 443 drop
	client_connect "$NS_CLI1" a alice secret1 || fail "no tunnel over TLS: $(tail -3 "$RUN/client-a.log")" || return 1
	ping_ok "$NS_CLI1" 203.0.113.2 || fail "ping over CSTP failed" || return 1
	local up down
	up=$(iperf_mbps "$NS_CLI1" 3)
	down=$(iperf_mbps "$NS_CLI1" 3 -R)
	echo "   CSTP iperf3: client->LAN ${up:-0} Mbit/s, LAN->client ${down:-0} Mbit/s"
	[ "${up:-0}" -ge 20 ] && [ "${down:-0}" -ge 20 ] || fail "throughput too low: up ${up:-0} down ${down:-0}" || return 1
	! grep -q "Established DTLS connection" "$RUN/client-a.log" || fail "DTLS came up although UDP is blocked" || return 1
	client_disconnect a
	ip netns exec "$NS_SRV" nft delete table inet e2e
	check_server_alive
}

test_wrong_password() {
	start_server false || return 1
	if client_connect "$NS_CLI1" a alice wrong-password; then
		fail "a wrong password got a tunnel"
		return 1
	fi
	local pid
	pid=$(client_pid a)
	wait_for 10 sh -c "! kill -0 $pid" || fail "client still running after refusal" || return 1
	wait "$pid"
	[ $? -ne 0 ] || fail "openconnect exited 0 after a wrong password" || return 1
	[ "$KIND" = ocserv ] || grep -q 'login failed for user "alice": wrong password' "$RUN/server.log" ||
		fail "no log line with the reason" || return 1
	check_server_alive
}

test_two_clients_isolation() {
	start_server false || return 1
	client_connect "$NS_CLI1" a alice secret1 || fail "client a: no tunnel" || return 1
	client_connect "$NS_CLI2" b bob secret2 || fail "client b: no tunnel" || return 1
	local a b
	a=$(client_env a INTERNAL_IP4_ADDRESS)
	b=$(client_env b INTERNAL_IP4_ADDRESS)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ] || fail "addresses not distinct: '$a' '$b'" || return 1
	ping_ok "$NS_CLI1" "$b" || fail "client a cannot reach client b with isolation off" || return 1
	client_disconnect a
	client_disconnect b
	[ "$KIND" = ocserv ] && return 0 # ocserv isolates through its own options; not compared here
	server_stop
	start_server true || return 1
	client_connect "$NS_CLI1" a alice secret1 || fail "client a: no tunnel (isolated)" || return 1
	client_connect "$NS_CLI2" b bob secret2 || fail "client b: no tunnel (isolated)" || return 1
	b=$(client_env b INTERNAL_IP4_ADDRESS)
	! ping_ok "$NS_CLI1" "$b" || fail "client a reached client b with isolate-clients on" || return 1
	ping_ok "$NS_CLI1" 203.0.113.2 || fail "isolated client cannot reach the LAN" || return 1
	client_disconnect a
	client_disconnect b
	check_server_alive
}

test_cookie_reconnect() {
	start_server false || return 1
	local out cookie a1 a2
	out=$(printf 'secret1\n' | ip netns exec "$NS_CLI1" timeout 20 openconnect --authenticate --non-inter \
		--passwd-on-stdin -u alice --servercert "$PIN" 198.51.100.1 2>/dev/null)
	cookie=$(printf '%s\n' "$out" | sed -n "s/^COOKIE='\(.*\)'$/\1/p")
	[ -n "$cookie" ] || fail "--authenticate printed no cookie" || return 1
	client_connect "$NS_CLI1" a alice unused -C "$cookie" || fail "cookie login failed" || return 1
	a1=$(client_env a INTERNAL_IP4_ADDRESS)
	# The client's network drops: no DISCONNECT reaches the server.
	client_disconnect a KILL
	ip -n "$NS_CLI1" link del tun-a 2>/dev/null
	wait_for 10 grep -q "session kept" "$RUN/server.log" || [ "$KIND" = ocserv ] ||
		fail "server did not keep the session" || return 1
	client_connect "$NS_CLI1" a alice unused -C "$cookie" || fail "reconnect with the cookie failed" || return 1
	a2=$(client_env a INTERNAL_IP4_ADDRESS)
	[ "$a1" = "$a2" ] || fail "address changed on reconnect: $a1 -> $a2" || return 1
	ping_ok "$NS_CLI1" 203.0.113.2 || fail "no traffic after reconnect" || return 1
	client_disconnect a
	# After a real disconnect the cookie is dead.
	wait_for 5 grep -q "session ended: client disconnected" "$RUN/server.log" || [ "$KIND" = ocserv ] ||
		fail "disconnect not seen" || return 1
	if client_connect "$NS_CLI1" c alice unused -C "$cookie"; then
		fail "a logged-out cookie was accepted"
		return 1
	fi
	check_server_alive
}

test_policy_lua() {
	[ "$KIND" = wolfguard ] || return 0
	wolfguard_conf false
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$E2E_DIR/policy.lua\", \"max-instructions\": 200000}}" \
		>"$RUN/conf.d/40-policy-lua.json"
	add_user carol secret3 sales
	add_user dave secret4 sales
	server_start_wolfguard false || return 1
	# A policy denial reaches the user with the script's message.
	if client_connect "$NS_CLI1" b bob secret2; then fail "policy let bob in"; return 1; fi
	grep -q "Bob may not use the VPN today." "$RUN/client-b.log" || fail "denial message not shown to the user" || return 1
	# A script error and an endless loop deny only that login, with the reason logged.
	if client_connect "$NS_CLI1" c carol secret3; then fail "a failing script let carol in"; return 1; fi
	grep -qE "policy-lua: after_auth failed, denying: .*policy.lua:7: carol's rule is broken" "$RUN/server.log" ||
		fail "script error not logged with file:line" || return 1
	if client_connect "$NS_CLI1" d dave secret4; then fail "an endless loop let dave in"; return 1; fi
	grep -q "instruction limit (200000) exceeded" "$RUN/server.log" || fail "loop not cut off by the budget" || return 1
	# Others still get in, with the routes and split DNS the script added for their group.
	client_connect "$NS_CLI1" a alice secret1 || fail "alice refused: $(tail -3 "$RUN/client-a.log")" || return 1
	local i found=
	for i in 0 1 2; do
		[ "$(client_env a "CISCO_SPLIT_INC_${i}_ADDR")/$(client_env a "CISCO_SPLIT_INC_${i}_MASKLEN")" = 198.18.0.0/15 ] && found=1
	done
	[ -n "$found" ] && [ "$(client_env a CISCO_SPLIT_INC)" = 2 ] || fail "route from the policy script missing" || return 1
	[ "$(client_env a CISCO_SPLIT_DNS)" = corp.example ] || fail "split DNS from the policy script missing" || return 1
	ping_ok "$NS_CLI1" 203.0.113.2 || fail "no traffic for the allowed user" || return 1
	client_disconnect a
	check_server_alive
}

# Starts wolfguard with policy-lua running SCRIPT (extra options as JSON).
start_with_policy() { # script [extra-options-json]
	server_stop
	wolfguard_conf false
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$1\"${2:+, $2}}}" >"$RUN/conf.d/40-policy-lua.json"
	server_start_wolfguard false
}

test_lua_examples() {
	[ "$KIND" = wolfguard ] || return 0
	local ex="$TOP/lua/examples"
	add_user gina secret5 guests
	add_user olga secret6 oncall
	add_user sam secret7 sales

	# deny_platform.lua: the platform the client reports decides.
	start_with_policy "$ex/deny_platform.lua" || return 1
	if client_connect "$NS_CLI1" m sam secret7 --os=android; then fail "android client admitted"; return 1; fi
	grep -q "Mobile devices may not use this VPN (android)." "$RUN/client-m.log" || fail "platform denial not shown" || return 1
	client_connect "$NS_CLI1" l sam secret7 --os=linux-64 || fail "linux client refused" || return 1
	client_disconnect l

	# group_routes.lua: engineering gets its routes and split DNS.
	start_with_policy "$ex/group_routes.lua" || return 1
	client_connect "$NS_CLI1" a alice secret1 || fail "alice refused" || return 1
	grep -q "^CISCO_SPLIT_INC_[0-9]*_ADDR=198.18.0.0$" "$RUN/env-a" && [ "$(client_env a CISCO_SPLIT_DNS)" = corp.example ] ||
		fail "group routes not pushed" || return 1
	client_disconnect a

	# office_hours.lua: on-call always; others only in office hours (same clock as the server).
	start_with_policy "$ex/office_hours.lua" || return 1
	client_connect "$NS_CLI1" o olga secret6 || fail "on-call user refused" || return 1
	client_disconnect o
	local dow hour open=no
	dow=$(date +%u) hour=$((10#$(date +%H)))
	[ "$dow" -le 5 ] && [ "$hour" -ge 7 ] && [ "$hour" -lt 19 ] && open=yes
	if client_connect "$NS_CLI1" s sam secret7; then
		[ $open = yes ] || fail "admitted outside office hours" || return 1
		client_disconnect s
	else
		[ $open = no ] || fail "refused in office hours" || return 1
		grep -q "VPN access is open Monday to Friday" "$RUN/client-s.log" || fail "hours message not shown" || return 1
	fi

	# session_limits.lua: guests are held to 20 Mbit/s each way.
	start_with_policy "$ex/session_limits.lua" || return 1
	client_connect "$NS_CLI1" g gina secret5 || fail "guest refused" || return 1
	local up down
	up=$(iperf_mbps "$NS_CLI1" 3)
	down=$(iperf_mbps "$NS_CLI1" 3 -R)
	echo "   guest rate limit 20 Mbit/s: measured up ${up:-0}, down ${down:-0} Mbit/s"
	[ "${up:-0}" -ge 10 ] && [ "${up:-0}" -le 24 ] && [ "${down:-0}" -ge 10 ] && [ "${down:-0}" -le 24 ] ||
		fail "rate limit not applied: up ${up:-0} down ${down:-0} Mbit/s" || return 1
	[ "$(client_env g INTERNAL_IP4_MTU)" -le 1280 ] || fail "guest MTU not lowered" || return 1
	client_disconnect g

	# reevaluate(): a session the policy no longer allows is ended.
	start_with_policy "$E2E_DIR/policy_reevaluate.lua" '"reevaluate-interval": 1' || return 1
	client_connect "$NS_CLI1" b bob secret2 || fail "bob refused at login" || return 1
	local pid
	pid=$(client_pid b)
	wait_for 10 sh -c "! kill -0 $pid" || fail "reevaluate did not end bob's session" || return 1
	grep -q "session ended: Re-evaluated: bob's access was withdrawn." "$RUN/server.log" ||
		fail "reason not logged" || return 1
	check_server_alive
}

ctl() { "$(dirname "${WOLFGUARD_BIN:-$TOP/build/core/wolfguard}")/../tools/wolfguardctl" -s "$RUN/control.sock" "$@"; }

test_control() {
	[ "$KIND" = wolfguard ] || return 0
	start_server false || return 1
	client_connect "$NS_CLI1" a alice secret1 || fail "alice: no tunnel" || return 1
	client_connect "$NS_CLI2" b bob secret2 || fail "bob: no tunnel" || return 1
	local out
	out=$(ctl list) || fail "wolfguardctl list failed" || return 1
	echo "$out" | grep -q "^[0-9]* *alice .*$(client_env a INTERNAL_IP4_ADDRESS)" &&
		echo "$out" | grep -q "^[0-9]* *bob .*$(client_env b INTERNAL_IP4_ADDRESS)" &&
		echo "$out" | grep -q "^2 sessions$" || fail "list does not show both sessions: $out" || return 1
	out=$(ctl --json show alice) || fail "show alice failed" || return 1
	echo "$out" | grep -q '"user": "alice"' && ! echo "$out" | grep -q '"user": "bob"' ||
		fail "show alice: $out" || return 1
	ctl status | grep -q "auth-plain" || fail "status lacks the plugin list" || return 1
	ctl disconnect bob | grep -q "^1 session(s) disconnected" || fail "disconnect bob failed" || return 1
	local pid
	pid=$(client_pid b)
	wait_for 10 sh -c "! kill -0 $pid" || fail "bob's client still running" || return 1
	ping_ok "$NS_CLI1" 203.0.113.2 || fail "alice lost her tunnel when bob was disconnected" || return 1
	ctl list | grep -q "^1 session$" || fail "bob still listed" || return 1
	ctl show nobody | grep -q "^0 sessions$" || fail "show of an unknown user" || return 1
	ctl reload >/dev/null 2>&1 && { fail "reload claimed success"; return 1; }
	check_server_alive
}

test_rsa_ipv6() {
	[ "$KIND" = wolfguard ] || return 0
	# An RSA certificate, and an IPv6 pool beside the IPv4 one.
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=vpn.test \
		-keyout "$RUN/key.pem" -out "$RUN/cert.pem" 2>/dev/null
	PIN="pin-sha256:$(openssl x509 -in "$RUN/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64)"
	wolfguard_conf false
	cat >"$RUN/conf.d/30-routing-static.json" <<JSON
{"plugin": "routing-static", "options": {"ipv4-network": "10.8.0.0/24", "ipv6-network": "fd00:8::/64",
  "routes": ["203.0.113.0/24"]}}
JSON
	server_start_wolfguard false || return 1
	[ "$("$(dirname "${WOLFGUARD_BIN:-$TOP/build/core/wolfguard}")/wolfguard" --print-pin "$RUN/cert.pem")" = "$PIN" ] ||
		fail "--print-pin disagrees with openssl for an RSA key" || return 1
	client_connect "$NS_CLI1" a alice secret1 || fail "no tunnel with an RSA certificate" || return 1
	local a6
	a6=$(client_env a INTERNAL_IP6_ADDRESS)
	[ -z "$a6" ] && a6=$(client_env a INTERNAL_IP6_NETMASK)
	[[ $a6 == fd00:8::* ]] || fail "no IPv6 address from the pool: '$a6'" || return 1
	ping_ok "$NS_CLI1" 203.0.113.2 || fail "IPv4 ping failed" || return 1
	wait_for 5 ip netns exec "$NS_CLI1" ping -6 -c 1 -W 1 fd00:8::1 || fail "IPv6 ping to the server failed" || return 1
	client_disconnect a
	make_certs
	check_server_alive
}

passed=0
failed=0
for t in "${TESTS[@]}"; do
	rm -f "$RUN/why"
	start=$(date +%s)
	"test_$t"
	ok=$?
	server_stop
	# Sanitizer builds report leaks only when the server exits.
	if [ $ok = 0 ] && grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$RUN/server.log" 2>/dev/null; then
		grep -m1 -A12 -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$RUN/server.log" >"$RUN/why"
		ok=1
	fi
	if [ $ok = 0 ]; then
		echo "PASS $t ($(($(date +%s) - start))s)"
		passed=$((passed + 1))
	else
		echo "FAIL $t: $(cat "$RUN/why" 2>/dev/null || echo 'see logs')"
		[ -f "$RUN/server.log" ] && tail -n 15 "$RUN/server.log" | sed 's/^/   server: /'
		failed=$((failed + 1))
	fi
	for p in "${CLIENT_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	CLIENT_PIDS=()
	server_stop
	ip netns exec "$NS_SRV" nft delete table inet e2e 2>/dev/null
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
