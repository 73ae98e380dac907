# shellcheck shell=bash
# Networking for ocserv admins (issue 20): the TLS port shared behind a
# real haproxy that speaks the PROXY protocol (listen-proxy-proto). Sourced
# by run.sh.
#
#   client ── 198.51.100.1:443 haproxy (send-proxy-v2, or v1) ─┐
#          ── 198.51.100.1:444 haproxy (the other version)   ─┴─ 198.51.100.1:8443 wolfguard (TCP)
#          ── 198.51.100.1:443/udp wolfguard (DTLS, straight)

WOLFGUARD_TESTS+=(net6_proxy_v2 net6_proxy_v1 net6_proxy_not_configured)

NET6_WG_PORT=8443

# net6_haproxy [v1|v2]: starts haproxy in the server namespace, relaying
# TCP 443 with that PROXY protocol version (default v2) and 444 with the
# other to wolfguard's port; waits until it listens.
net6_haproxy() {
	local main=send-proxy-v2 other=send-proxy
	[ "${1:-v2}" = v1 ] && main=send-proxy other=send-proxy-v2
	command -v haproxy >/dev/null || { fail "haproxy is not installed (scripts/deps.sh)"; return 1; }
	cat >"$RUN/haproxy.cfg" <<CFG
global
	log stderr format short local0 info
defaults
	mode tcp
	log global
	option tcplog
	timeout connect 10s
	timeout client 5m
	timeout server 5m
frontend fe443
	bind $SRV_ADDR:443
	default_backend be_$main
frontend fe444
	bind $SRV_ADDR:444
	default_backend be_$other
backend be_$main
	server wg $SRV_ADDR:$NET6_WG_PORT $main
backend be_$other
	server wg $SRV_ADDR:$NET6_WG_PORT $other
CFG
	ip netns exec "$NS_SRV" haproxy -db -f "$RUN/haproxy.cfg" >"$RUN/haproxy.log" 2>&1 &
	NET6_HAPROXY_PID=$!
	wait_for 30 sh -c "ip netns exec '$NS_SRV' ss -Hltn 'sport = :444' | grep -q ." ||
		{ fail "haproxy did not start: $(tail -n 3 "$RUN/haproxy.log" | tr '\n' ' ')"; return 1; }
}

net6_haproxy_stop() {
	[ -n "${NET6_HAPROXY_PID:-}" ] || return 0
	kill "$NET6_HAPROXY_PID" 2>/dev/null
	wait "$NET6_HAPROXY_PID" 2>/dev/null
	NET6_HAPROXY_PID=
}

# net6_server PROXY-ON [extra server keys as a JSON object]: wolfguard on
# TCP 8443 (behind haproxy), DTLS on UDP 443 as usual.
net6_server() {
	local f
	wolfguard_conf false
	f=$RUN/conf.d/00-server.json
	jq --argjson on "$1" --argjson extra "${2:-{\}}" --argjson port "$NET6_WG_PORT" \
		'.server += {"port": $port, "listen-proxy-proto": $on} + $extra' "$f" >"$f.new" && mv "$f.new" "$f"
	server_start_wolfguard false || { fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"; return 1; }
	wait_for 30 sh -c "ip netns exec '$NS_SRV' ss -Hltn 'sport = :$NET6_WG_PORT' | grep -q ." ||
		{ fail "wolfguard does not listen on $NET6_WG_PORT"; return 1; }
}

# net6_auth NS USER PASS PORT LOG: `openconnect --authenticate` through
# the given port; prints the cookie (nothing when refused).
net6_auth() {
	in_ns "$1" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u "$2" \
		--servercert "$PIN" "https://$SRV_ADDR:$4/" <<<"$3" 2>"$5" | sed -n "s/^COOKIE='\(.*\)'$/\1/p"
}

net6_ctl_json() { ctl --json "$@"; }

net6_client_address_is() { # user address: wolfguardctl lists user's session from address
	net6_ctl_json list | jq -e --arg u "$1" --arg a "$2" '[.sessions[] | select(.user == $u)] | length == 1 and .[0].client_address == $a' >/dev/null
}

net6_banned() { net6_ctl_json bans | jq -e --arg a "$1" '.bans | any(.addr == $a)' >/dev/null; }

# Through haproxy with PROXY v2: the session shows the client's address,
# not haproxy's; a tunnel carries traffic (DTLS goes straight to UDP 443);
# failed logins ban the client that made them, not the relay, so another
# client behind the same relay still logs in; with allow-roaming false a
# cookie is refused from another client address although both come from
# haproxy; a connection straight to the port without a header is refused.
test_net6_proxy_v2() {
	net6_haproxy || return 1
	net6_server true '{"ban-failures": 3, "ban-window": 120, "ban-time": 120, "allow-roaming": false}' || return 1

	connect_or_fail alice secret1 || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic through the tunnel behind haproxy" || return 1
	wait_for 20 net6_client_address_is alice "$CLI_ADDR" ||
		fail "the session's client address is not $CLI_ADDR: $(net6_ctl_json list | jq -c '[.sessions[] | .client_address]')" || return 1
	client_disconnect alice

	# Wrong passwords from client 2: client 2's address is banned, haproxy's is not.
	local i cookie
	for ((i = 0; i < 6; i++)); do
		net6_banned "$CLI2_ADDR" && break
		net6_auth "$NS_CLI2" alice not-the-password 443 "$RUN/wrong-$i.log" >/dev/null
	done
	net6_banned "$CLI2_ADDR" || fail "no ban of $CLI2_ADDR after $i wrong passwords: $(net6_ctl_json bans | jq -c .bans)" || return 1
	! net6_banned "$SRV_ADDR" || fail "haproxy's address $SRV_ADDR was banned" || return 1
	grep -q "$CLI2_ADDR: banned for 120 s after 3 failed logins" "$RUN/server.log" || fail "the ban was not logged for $CLI2_ADDR" || return 1
	cookie=$(net6_auth "$NS_CLI2" bob secret2 443 "$RUN/banned.log")
	[ -z "$cookie" ] || fail "the banned client logged in through haproxy" || return 1
	grep -q "$CLI2_ADDR: connection refused: address banned" "$RUN/server.log" || fail "the banned client's refusal is not logged" || return 1
	cookie=$(net6_auth "$NS_CLI" bob secret2 443 "$RUN/bob.log")
	[ -n "$cookie" ] || fail "client 1 could not log in behind the same haproxy: $(tail -n 2 "$RUN/bob.log")" || return 1

	# Roaming off: bob's cookie works from client 1's address only.
	ctl unban "$CLI2_ADDR" >/dev/null
	if CONNECT_TIMEOUT=20 client_connect bob x --cookie "$cookie" --ns "$NS_CLI2" --tag roam; then
		fail "a cookie from $CLI_ADDR was taken from $CLI2_ADDR with allow-roaming false"; return 1
	fi
	client_disconnect roam
	grep -q "$CLI2_ADDR: cookie of a session from $CLI_ADDR refused (allow-roaming is false)" "$RUN/server.log" ||
		fail "the roaming refusal does not name both client addresses: $(grep -i roaming "$RUN/server.log" | tail -n 2)" || return 1
	connect_or_fail bob x --cookie "$cookie" --tag bob1 || return 1
	client_disconnect bob1

	# Straight to wolfguard's port, no header: refused before TLS.
	cookie=$(net6_auth "$NS_CLI" alice secret1 "$NET6_WG_PORT" "$RUN/direct.log")
	[ -z "$cookie" ] || fail "a connection without a PROXY header logged in" || return 1
	grep -q "$CLI_ADDR: refused: the connection does not start with a PROXY protocol header" "$RUN/server.log" ||
		fail "the headerless connection's refusal is not logged" || return 1
	server_alive || fail "the server died" || return 1
	net6_haproxy_stop
}

# PROXY v1 (haproxy's send-proxy): a tunnel with the client's address.
test_net6_proxy_v1() {
	net6_haproxy v1 || return 1
	net6_server true || return 1
	connect_or_fail alice secret1 || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic through the tunnel behind haproxy (v1)" || return 1
	wait_for 20 net6_client_address_is alice "$CLI_ADDR" ||
		fail "the session's client address is not $CLI_ADDR: $(net6_ctl_json list | jq -c '[.sessions[] | .client_address]')" || return 1
	client_disconnect alice
	wait_for 20 grep -q "fe443 be_send-proxy/wg" "$RUN/haproxy.log" ||
		fail "haproxy's log shows no connection relayed with send-proxy: $(tail -n 3 "$RUN/haproxy.log")" || return 1
	net6_haproxy_stop
}

# The option off: a relay's PROXY header is refused (with the reason
# logged), and a client straight to the port logs in.
test_net6_proxy_not_configured() {
	net6_haproxy || return 1
	net6_server false || return 1
	local cookie
	cookie=$(net6_auth "$NS_CLI" alice secret1 443 "$RUN/relayed.log")
	[ -z "$cookie" ] || fail "a PROXY v2 header was accepted with listen-proxy-proto off" || return 1
	cookie=$(net6_auth "$NS_CLI" alice secret1 444 "$RUN/relayed1.log")
	[ -z "$cookie" ] || fail "a PROXY v1 header was accepted with listen-proxy-proto off" || return 1
	server_log_count_ge "$SRV_ADDR: refused: PROXY protocol header, but listen-proxy-proto is off" 2 ||
		fail "the refusals are not logged: $(grep -i proxy "$RUN/server.log" | tail -n 2)" || return 1
	cookie=$(net6_auth "$NS_CLI" alice secret1 "$NET6_WG_PORT" "$RUN/direct.log")
	[ -n "$cookie" ] || fail "a direct login failed: $(tail -n 2 "$RUN/direct.log")" || return 1
	net6_haproxy_stop
}
