# shellcheck shell=bash
# Several server names on one TLS port (issue 20, ocserv's [vhost:...]):
# the real openconnect sends the URL's host name as SNI (--resolve points
# the names at the lab server), and each name gets its own certificate
# (checked by pinning it), its own login chain and its own address pool.
# Sourced by run.sh.

WOLFGUARD_TESTS+=(vhost_sni vhost_fallback_refuse vhost_reload vhost_workers vhost_proxy)

VHOST_A=vpn-a.test VHOST_B=vpn-b.test
VHOST_POOL_A=10.10.0.0/24 VHOST_POOL_B=10.9.0.0/24

# vhost_cert NAME: a self-signed ECDSA certificate for NAME in
# $RUN/vh-NAME.{pem,key}; prints its pin.
vhost_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 -subj "/CN=$1" \
		-addext "subjectAltName=DNS:$1" -keyout "$RUN/vh-$1.key" -out "$RUN/vh-$1.pem" 2>>"$RUN/openssl.log" ||
		return 1
	chmod 644 "$RUN/vh-$1.key" # read again by a reload, after the server dropped root
	pin_of "$RUN/vh-$1.key"
}

# vhost_plugins NAME POOL USER PASS: NAME's own password file (one user),
# auth-plain and routing-static files that belong to NAME.
vhost_plugins() {
	local f=$RUN/ocpasswd-$1
	printf '%s:%s:%s\n' "$3" vhostgroup "$(openssl passwd -6 "$4")" >"$f"
	chmod 644 "$f"
	cat >"$RUN/conf.d/21-auth-plain-$1.json" <<JSON
{"plugin": "auth-plain", "vhost": "$1", "options": {"password-file": "$f"}}
JSON
	[ -n "$2" ] || return 0
	cat >"$RUN/conf.d/31-routing-static-$1.json" <<JSON
{"plugin": "routing-static", "vhost": "$1", "options": {"ipv4-network": "$2",
  "routes": ["$PUSHED_ROUTE"], "dns": ["$PUSHED_DNS"]}}
JSON
}

# vhost_server_opts JSON-OBJECT: merges keys into the server section.
vhost_server_opts() {
	local f=$RUN/conf.d/00-server.json
	jq --argjson extra "$1" '.server += $extra' "$f" >"$f.new" && mv "$f.new" "$f"
}

# vhost_connect NAME PIN USER PASS TAG [client_connect options]: openconnect
# to https://NAME/ (SNI NAME), the name resolved to the lab server.
vhost_connect() {
	local name=$1 pin=$2 user=$3 pass=$4 tag=$5
	shift 5
	PIN=$pin CLIENT_URL="https://$name/" client_connect "$user" "$pass" --tag "$tag" "$@" \
		-- --resolve "$name:$SRV_ADDR"
}

# vhost_authenticate NAME PIN USER PASS LOG: `openconnect --authenticate`
# under NAME; prints the cookie (nothing when refused).
vhost_authenticate() {
	in_ns "$NS_CLI" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u "$3" \
		--servercert "$2" --resolve "$1:$SRV_ADDR" "https://$1/" <<<"$4" 2>"$5" |
		sed -n "s/^COOKIE='\(.*\)'$/\1/p"
}

# in_net ADDR NET/24: ADDR lies in the /24 NET.
in_net24() { [ "${1%.*}" = "$(echo "${2%/*}" | cut -d. -f1-3)" ]; }

vhost_session_field() { # USER FIELD: a field of USER's session in wolfguardctl --json list
	ctl --json list | jq -r --arg u "$1" --arg f "$2" '.sessions[] | select(.user == $u) | .[$f] // "null"' | head -n 1
}

# Two vhosts beside the default server on port 443. carol exists only for
# vpn-b.test, dave only for vpn-a.test, alice only for the default. Each
# name answers with its own certificate (openconnect pins it: a wrong pin
# fails), logs in only its own users, and leases from its own pool, which
# reaches the LAN host. wolfguardctl, the events and a Lua policy see the
# vhost. An unknown name and a URL without a name (an address) get the
# default server.
test_vhost_sni() {
	local pin_a pin_b out
	pin_a=$(vhost_cert "$VHOST_A") && pin_b=$(vhost_cert "$VHOST_B") || fail "certificates" || return 1
	wolfguard_conf false
	vhost_server_opts "{\"vhosts\": {
		\"$VHOST_A\": {\"certificate\": \"$RUN/vh-$VHOST_A.pem\", \"private-key\": \"$RUN/vh-$VHOST_A.key\",
			\"banner\": \"Welcome to A\"},
		\"$VHOST_B\": {\"certificate\": \"$RUN/vh-$VHOST_B.pem\", \"private-key\": \"$RUN/vh-$VHOST_B.key\"}}}"
	vhost_plugins "$VHOST_A" "$VHOST_POOL_A" dave secret4
	printf '%s:%s:%s\n' frank vhostgroup "$(openssl passwd -6 secret6)" >>"$RUN/ocpasswd-$VHOST_A"
	vhost_plugins "$VHOST_B" "$VHOST_POOL_B" carol secret3
	cat >"$RUN/vhost.lua" <<'LUA'
function after_auth(session)
  if session.user == "frank" then
    return false, "frank is not welcome on " .. tostring(session.vhost)
  end
  return true
end
LUA
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$RUN/vhost.lua\"}}" >"$RUN/conf.d/45-policy-lua.json"
	ip -n "$NS_LAN" route add "$VHOST_POOL_A" via "$SRV_LAN_ADDR"
	ip -n "$NS_LAN" route add "$VHOST_POOL_B" via "$SRV_LAN_ADDR"
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1
	grep -q "vhost $VHOST_B: pool $VHOST_POOL_B routed into" "$RUN/server.log" ||
		fail "B's pool was not routed into the TUN device" || return 1

	# Each name's own certificate: the other's pin is refused.
	out=$(vhost_authenticate "$VHOST_B" "$pin_a" carol secret3 "$RUN/b-wrong-pin.log")
	[ -z "$out" ] || fail "vpn-b.test was accepted with vpn-a.test's pin" || return 1
	out=$(vhost_authenticate "$VHOST_B" "$PIN" carol secret3 "$RUN/b-default-pin.log")
	[ -z "$out" ] || fail "vpn-b.test answered with the default server's certificate" || return 1

	# Each name's own users.
	out=$(vhost_authenticate "$VHOST_B" "$pin_b" dave secret4 "$RUN/b-dave.log")
	[ -z "$out" ] || fail "dave (vpn-a.test's user) logged in on vpn-b.test" || return 1
	out=$(vhost_authenticate "$VHOST_A" "$pin_a" carol secret3 "$RUN/a-carol.log")
	[ -z "$out" ] || fail "carol (vpn-b.test's user) logged in on vpn-a.test" || return 1
	out=$(vhost_authenticate "$VHOST_B" "$pin_b" alice secret1 "$RUN/b-alice.log")
	[ -z "$out" ] || fail "alice (the default server's user) logged in on vpn-b.test" || return 1

	# Each name's own pool, reaching the LAN.
	vhost_connect "$VHOST_B" "$pin_b" carol secret3 carol ||
		fail "carol on vpn-b.test: $(grep -v '^$' "$(client_log carol)" | tail -n 2 | tr '\n' ' ')" || return 1
	local addr
	addr=$(client_env carol INTERNAL_IP4_ADDRESS)
	in_net24 "$addr" "$VHOST_POOL_B" || fail "carol got $addr, not from vpn-b.test's pool $VHOST_POOL_B" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "carol's tunnel (pool $VHOST_POOL_B) does not reach the LAN" || return 1
	vhost_connect "$VHOST_A" "$pin_a" dave secret4 dave --ns "$NS_CLI2" ||
		fail "dave on vpn-a.test: $(grep -v '^$' "$(client_log dave)" | tail -n 2 | tr '\n' ' ')" || return 1
	addr=$(client_env dave INTERNAL_IP4_ADDRESS)
	in_net24 "$addr" "$VHOST_POOL_A" || fail "dave got $addr, not from vpn-a.test's pool $VHOST_POOL_A" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "dave's tunnel (pool $VHOST_POOL_A) does not reach the LAN" || return 1
	[ "$(client_env dave CISCO_BANNER)" = "Welcome to A" ] || fail "dave was not given vpn-a.test's banner" || return 1

	# Visible to the operator and to policies.
	[ "$(vhost_session_field carol vhost)" = "$VHOST_B" ] || fail "wolfguardctl: carol's vhost is not $VHOST_B" || return 1
	[ "$(vhost_session_field dave vhost)" = "$VHOST_A" ] || fail "wolfguardctl: dave's vhost is not $VHOST_A" || return 1
	grep -q "logged in under vhost $VHOST_B" "$RUN/server.log" || fail "the log does not name carol's vhost" || return 1
	out=$(vhost_authenticate "$VHOST_A" "$pin_a" frank secret6 "$RUN/a-frank.log")
	[ -z "$out" ] || fail "the policy let frank in" || return 1
	grep -q "frank is not welcome on $VHOST_A" "$RUN/a-frank.log" ||
		fail "Lua did not see the vhost: $(tr '\n' ' ' <"$RUN/a-frank.log" | tail -c 300)" || return 1

	# A cookie of vpn-b.test is not a session under another name.
	out=$(vhost_authenticate "$VHOST_B" "$pin_b" carol secret3 "$RUN/b-carol2.log")
	[ -n "$out" ] || fail "carol's second login failed: $(tail -n 2 "$RUN/b-carol2.log")" || return 1
	if in_ns "$NS_CLI" timeout 30 openconnect --non-inter --cookie-on-stdin --servercert "$pin_a" \
		--resolve "$VHOST_A:$SRV_ADDR" --script /bin/true "https://$VHOST_A/" <<<"$out" >"$RUN/cross.log" 2>&1; then
		fail "vpn-b.test's cookie opened a tunnel under vpn-a.test" || return 1
	fi
	grep -q "session cookie of another server name" "$RUN/server.log" ||
		fail "the server did not say why it refused the cookie under vpn-a.test" || return 1
	client_disconnect_all

	# No name (an address in the URL) and an unknown name: the default server.
	connect_or_fail alice secret1 --tag noname || return 1
	in_net24 "$(client_env noname INTERNAL_IP4_ADDRESS)" "$POOL_NET" || fail "no SNI: not the default pool" || return 1
	client_disconnect_all
	vhost_connect other.test "$PIN" alice secret1 other ||
		fail "unknown name: $(grep -v '^$' "$(client_log other)" | tail -n 2 | tr '\n' ' ')" || return 1
	in_net24 "$(client_env other INTERNAL_IP4_ADDRESS)" "$POOL_NET" || fail "unknown SNI: not the default pool" ||
		return 1
	[ "$(vhost_session_field alice vhost)" = null ] || fail "the default server's session names a vhost" || return 1
}

# vhost-fallback "refuse": a name no vhost has, and no name at all, end
# the handshake (a TLS alert; the log says which name); the vhost's name
# still works.
test_vhost_fallback_refuse() {
	local pin_b out
	pin_b=$(vhost_cert "$VHOST_B") || fail "certificate" || return 1
	wolfguard_conf false
	vhost_server_opts "{\"vhost-fallback\": \"refuse\", \"vhosts\": {
		\"$VHOST_B\": {\"certificate\": \"$RUN/vh-$VHOST_B.pem\", \"private-key\": \"$RUN/vh-$VHOST_B.key\"}}}"
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1
	out=$(vhost_authenticate other.test "$PIN" alice secret1 "$RUN/other.log")
	[ -z "$out" ] || fail "an unknown name was served" || return 1
	grep -q 'refused: unknown server name "other.test"' "$RUN/server.log" ||
		fail "the refusal of other.test is not logged" || return 1
	out=$(in_ns "$NS_CLI" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "https://$SRV_ADDR/" <<<secret1 2>"$RUN/noname.log" | sed -n "s/^COOKIE='\(.*\)'$/\1/p")
	[ -z "$out" ] || fail "a ClientHello without a name was served" || return 1
	grep -q 'refused: no server name (SNI)' "$RUN/server.log" || fail "the refusal without SNI is not logged" ||
		return 1
	# vpn-b.test has no auth or routing file of its own: the default's serve it.
	vhost_connect "$VHOST_B" "$pin_b" alice secret1 alice ||
		fail "alice on vpn-b.test: $(grep -v '^$' "$(client_log alice)" | tail -n 2 | tr '\n' ' ')" || return 1
	in_net24 "$(client_env alice INTERNAL_IP4_ADDRESS)" "$POOL_NET" || fail "alice: not the default pool" || return 1
}

# A reload adds a vhost with its own certificate and users (and the default
# pool): its name then answers with its certificate and its users log in,
# while a session made before goes on. A reload that gives a vhost a pool
# not routed at start is refused with the reason, and the running
# configuration stays.
test_vhost_reload() {
	local pin_b out
	pin_b=$(vhost_cert "$VHOST_B") || fail "certificate" || return 1
	wolfguard_conf false
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1
	connect_or_fail alice secret1 || return 1
	out=$(vhost_authenticate "$VHOST_B" "$pin_b" carol secret3 "$RUN/before.log")
	[ -z "$out" ] || fail "vpn-b.test answered before it was configured" || return 1

	vhost_server_opts "{\"vhosts\": {
		\"$VHOST_B\": {\"certificate\": \"$RUN/vh-$VHOST_B.pem\", \"private-key\": \"$RUN/vh-$VHOST_B.key\"}}}"
	vhost_plugins "$VHOST_B" "" carol secret3
	out=$(ctl reload 2>&1) || fail "the reload adding vpn-b.test failed: $out" || return 1
	vhost_connect "$VHOST_B" "$pin_b" carol secret3 carol --ns "$NS_CLI2" ||
		fail "carol on vpn-b.test after the reload: $(grep -v '^$' "$(client_log carol)" | tail -n 2 | tr '\n' ' ')" ||
		return 1
	[ "$(vhost_session_field carol vhost)" = "$VHOST_B" ] || fail "carol's session is not vpn-b.test's" || return 1
	out=$(vhost_authenticate "$VHOST_B" "$pin_b" alice secret1 "$RUN/b-alice.log")
	[ -z "$out" ] || fail "alice logged in on vpn-b.test, whose chain is its own" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice's session did not survive the reload" || return 1

	# A pool that was not routed at start waits for a restart.
	cat >"$RUN/conf.d/31-routing-static-$VHOST_B.json" <<JSON
{"plugin": "routing-static", "vhost": "$VHOST_B", "options": {"ipv4-network": "$VHOST_POOL_B"}}
JSON
	if out=$(ctl reload 2>&1); then fail "a reload with a new vhost pool was accepted: $out"; return 1; fi
	echo "$out" | grep -q "its pool $VHOST_POOL_B is not routed into .*needs a restart" ||
		fail "the refusal does not say why: $out" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "carol's session went with the refused reload" || return 1
}

# Two worker processes: each reads the server name and serves the vhost's
# chain and pool; worker 0 routed the pool into the shared TUN device, and
# the kernel steers each leased address of it to the worker that holds the
# session. carol logs in from two clients, which reach different workers;
# both get vpn-b.test's pool and reach the LAN.
test_vhost_workers() {
	local pin_b addr1 addr2
	[ "$(worker_of "$CLI_ADDR" 2)" != "$(worker_of "$CLI2_ADDR" 2)" ] ||
		fail "test set-up: the two client addresses hash to the same worker" || return 1
	pin_b=$(vhost_cert "$VHOST_B") || fail "certificate" || return 1
	wolfguard_conf false
	vhost_server_opts "{\"workers\": 2, \"vhosts\": {
		\"$VHOST_B\": {\"certificate\": \"$RUN/vh-$VHOST_B.pem\", \"private-key\": \"$RUN/vh-$VHOST_B.key\"}}}"
	vhost_plugins "$VHOST_B" "$VHOST_POOL_B" carol secret3
	ip -n "$NS_LAN" route add "$VHOST_POOL_B" via "$SRV_LAN_ADDR"
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1
	vhost_connect "$VHOST_B" "$pin_b" carol secret3 c1 ||
		fail "carol (client 1): $(grep -v '^$' "$(client_log c1)" | tail -n 2 | tr '\n' ' ')" || return 1
	vhost_connect "$VHOST_B" "$pin_b" carol secret3 c2 --ns "$NS_CLI2" ||
		fail "carol (client 2): $(grep -v '^$' "$(client_log c2)" | tail -n 2 | tr '\n' ' ')" || return 1
	addr1=$(client_env c1 INTERNAL_IP4_ADDRESS)
	addr2=$(client_env c2 INTERNAL_IP4_ADDRESS)
	in_net24 "$addr1" "$VHOST_POOL_B" && in_net24 "$addr2" "$VHOST_POOL_B" ||
		fail "carol got $addr1 and $addr2, not both from $VHOST_POOL_B" || return 1
	[ "$addr1" != "$addr2" ] || fail "both sessions got $addr1" || return 1
	[ "$(ctl --json list | jq '[.sessions[] | select(.vhost == "'"$VHOST_B"'") | (.id | tonumber) % 2] | unique | length')" = 2 ] ||
		fail "carol's two sessions are not on two workers" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "client 1 (pool $VHOST_POOL_B) does not reach the LAN" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "client 2 (pool $VHOST_POOL_B) does not reach the LAN" || return 1
}

# Behind haproxy (listen-proxy-proto, tests-net6.sh's relay): the PROXY
# header comes first, then the ClientHello, whose name still picks the
# vhost; the session has the client's own address and the vhost's chain.
test_vhost_proxy() {
	local pin_b f
	pin_b=$(vhost_cert "$VHOST_B") || fail "certificate" || return 1
	net6_haproxy || return 1
	wolfguard_conf false
	f=$RUN/conf.d/00-server.json
	jq --argjson port "$NET6_WG_PORT" --arg c "$RUN/vh-$VHOST_B.pem" --arg k "$RUN/vh-$VHOST_B.key" --arg n "$VHOST_B" \
		'.server += {"port": $port, "listen-proxy-proto": true, "vhosts": {($n): {"certificate": $c, "private-key": $k}}}' \
		"$f" >"$f.new" && mv "$f.new" "$f"
	vhost_plugins "$VHOST_B" "" carol secret3
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1
	wait_for 30 sh -c "ip netns exec '$NS_SRV' ss -Hltn 'sport = :$NET6_WG_PORT' | grep -q ." ||
		fail "wolfguard does not listen on $NET6_WG_PORT" || return 1
	vhost_connect "$VHOST_B" "$pin_b" carol secret3 carol ||
		fail "carol through haproxy: $(grep -v '^$' "$(client_log carol)" | tail -n 2 | tr '\n' ' ')" || return 1
	[ "$(vhost_session_field carol vhost)" = "$VHOST_B" ] || fail "carol's session is not vpn-b.test's" || return 1
	[ "$(vhost_session_field carol client_address)" = "$CLI_ADDR" ] ||
		fail "carol's client address is $(vhost_session_field carol client_address), not $CLI_ADDR" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "carol's tunnel does not work" || return 1
	connect_or_fail alice secret1 --tag alice --ns "$NS_CLI2" || return 1
	[ "$(vhost_session_field alice vhost)" = null ] || fail "alice (no name) got a vhost" || return 1
	net6_haproxy_stop
}
