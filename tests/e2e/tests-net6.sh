# shellcheck shell=bash
# Networking for ocserv admins (issue 20): the TLS port shared behind a
# real haproxy that speaks the PROXY protocol (listen-proxy-proto). Sourced
# by run.sh.
#
#   client ── 198.51.100.1:443 haproxy (send-proxy-v2, or v1) ─┐
#          ── 198.51.100.1:444 haproxy (the other version)   ─┴─ 198.51.100.1:8443 wolfguard (TCP)
#          ── 198.51.100.1:443/udp wolfguard (DTLS, straight)

WOLFGUARD_TESTS+=(net6_proxy_v2 net6_proxy_v1 net6_proxy_not_configured net6_proxy_radius)

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
	wait_for 30 net6_client_address_is alice "$CLI_ADDR" ||
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
	wait_for 30 net6_client_address_is alice "$CLI_ADDR" ||
		fail "the session's client address is not $CLI_ADDR: $(net6_ctl_json list | jq -c '[.sessions[] | .client_address]')" || return 1
	client_disconnect alice
	wait_for 30 grep -q "fe443 be_send-proxy/wg" "$RUN/haproxy.log" ||
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

# Behind haproxy with RADIUS: FreeRADIUS sees the client's address as
# Calling-Station-Id (in the Access-Request and the accounting Start), never
# the relay's.
test_net6_proxy_radius() {
	net6_haproxy || return 1
	radius_run net6_proxy_radius_checks
	local rc=$?
	net6_haproxy_stop
	return $rc
}

net6_proxy_radius_checks() {
	rm -rf "$RUN/conf.d"
	wolfguard_conf false
	rm -f "$RUN/conf.d/20-auth-plain.json"
	cat >"$RUN/conf.d/20-auth-radius.json" <<JSON
{"plugin": "auth-radius", "options": {"servers": $RADIUS_SERVER_JSON, "secret": "$RADIUS_SECRET",
  "nas-identifier": "wolfguard-lab", "timeout": 5, "retries": 0, "accounting": true}}
JSON
	local f=$RUN/conf.d/00-server.json
	jq --argjson port "$NET6_WG_PORT" '.server += {"port": $port, "listen-proxy-proto": true}' "$f" >"$f.new" && mv "$f.new" "$f"
	server_start_wolfguard false || { fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"; return 1; }
	connect_or_fail bob secret2 || return 1
	grep -q "Calling-Station-Id = \"$CLI_ADDR\"" "$RUN/radius.log" ||
		fail "FreeRADIUS did not get Calling-Station-Id $CLI_ADDR: $(grep Calling-Station "$RUN/radius.log" | head -n 2 | tr '\n' ' ')" || return 1
	! grep -q "Calling-Station-Id = \"$SRV_ADDR\"" "$RUN/radius.log" || fail "FreeRADIUS got the relay's address as Calling-Station-Id" || return 1
	wait_for 30 grep -q "Acct-Status-Type = Start" "$RUN/radius.log" || fail "no accounting Start" || return 1
}

# --- complete IPv6 ----------------------------------------------------------------

WOLFGUARD_TESTS+=(net6_ipv6_lan)

NET6_LAN6_NET=fd00:203::/64
NET6_SRV_LAN6=fd00:203::1
NET6_LAN6=fd00:203::2
NET6_POOL6=2001:db8:8::/64

# An IPv6 LAN behind the server: the LAN host routes the IPv6 pool back.
net6_lan6_up() {
	if ! { ip -n "$NS_SRV" -6 addr add "$NET6_SRV_LAN6/64" dev lan0 nodad &&
		ip -n "$NS_LAN" -6 addr add "$NET6_LAN6/64" dev eth0 nodad &&
		ip -n "$NS_LAN" -6 route replace "$NET6_POOL6" via "$NET6_SRV_LAN6"; }; then
		fail "cannot give the LAN IPv6 addresses"
		return 1
	fi
	wait_for 30 in_ns "$NS_SRV" ping -6 -c1 -W1 "$NET6_LAN6" >/dev/null 2>&1 || { fail "the server cannot reach the IPv6 LAN"; return 1; }
}

net6_lan6_down() {
	ip -n "$NS_SRV" -6 addr del "$NET6_SRV_LAN6/64" dev lan0 2>/dev/null
	ip -n "$NS_LAN" -6 addr del "$NET6_LAN6/64" dev eth0 2>/dev/null
	return 0
}

# iperf3 over IPv6 to the LAN host: prints Mbit/s when all MB went through.
net6_iperf6() { iperf_volume_to "$NET6_LAN6" iperf6 "$@"; } # ns mb [-R]

# Dual-stack pool, an IPv6 route to a LAN: openconnect receives the route as
# X-CSTP-Split-Include-IP6 and installs it; ping6 and iperf3 over IPv6 (both
# ways) reach the LAN host; a packet with another IPv6 source than the
# session's is dropped (the LAN never sees it); with isolate-clients, two
# clients cannot reach each other over IPv6 while both reach the LAN.
test_net6_ipv6_lan() {
	net6_lan6_up || return 1
	wolfguard_conf true
	cat >"$RUN/conf.d/30-routing-static.json" <<JSON
{"plugin": "routing-static", "options": {"ipv4-network": "$POOL_NET", "ipv6-network": "$NET6_POOL6",
  "routes": ["$PUSHED_ROUTE", "$NET6_LAN6_NET"], "dns": ["$PUSHED_DNS", "2001:db8::53"]}}
JSON
	server_start_wolfguard true || { fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"; net6_lan6_down; return 1; }
	net6_ipv6_lan_checks
	local rc=$?
	net6_lan6_down
	return $rc
}

net6_tx_packets() { in_ns "$NS_CLI" cat "/sys/class/net/$1/statistics/tx_packets"; }

net6_ipv6_lan_checks() {
	connect_or_fail alice secret1 || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	grep -q "X-CSTP-Split-Include-IP6: $NET6_LAN6_NET" "$(client_log alice)" ||
		fail "openconnect did not receive X-CSTP-Split-Include-IP6: $(grep -i 'split-include' "$(client_log alice)" | tr '\n' ' ')" || return 1
	[ "$(client_env alice CISCO_IPV6_SPLIT_INC_0_ADDR)/$(client_env alice CISCO_IPV6_SPLIT_INC_0_MASKLEN)" = "$NET6_LAN6_NET" ] ||
		fail "openconnect's script got no IPv6 split route: $(grep IPV6 "$RUN/env-alice" | tr '\n' ' ')" || return 1
	# openconnect 9.01 hands every DNS server, either family, to the script in INTERNAL_IP4_DNS.
	grep -Eq "^INTERNAL_IP[46]_DNS=.*2001:db8::53" "$RUN/env-alice" || fail "no IPv6 DNS server: $(grep DNS "$RUN/env-alice" | tr '\n' ' ')" || return 1
	local a6 b6
	a6=$(client_env alice INTERNAL_IP6_NETMASK)
	a6=${a6%/*}
	b6=$(client_env bob INTERNAL_IP6_NETMASK)
	b6=${b6%/*}
	[[ $a6 == 2001:db8:8::* && $b6 == 2001:db8:8::* ]] || fail "no IPv6 addresses from the pool: '$a6' '$b6'" || return 1
	in_ns "$NS_CLI" ip -6 route get "$NET6_LAN6" | grep -q "dev tun-alice" ||
		fail "the IPv6 LAN is not routed into the tunnel: $(in_ns "$NS_CLI" ip -6 route get "$NET6_LAN6")" || return 1
	in_ns "$NS_CLI" ping -6 -c 1 -i 0.2 -w 15 "$NET6_LAN6" >/dev/null 2>&1 || fail "ping6 to the LAN host failed" || return 1
	in_ns "$NS_CLI2" ping -6 -c 1 -i 0.2 -w 15 "$NET6_LAN6" >/dev/null 2>&1 || fail "bob's ping6 to the LAN host failed" || return 1

	local up down
	up=$(net6_iperf6 "$NS_CLI" "$IPERF_MB")
	[ -n "$up" ] || fail "iperf3 over IPv6 to the LAN did not complete: $(tail -c 300 "$RUN/iperf6.log")" || return 1
	down=$(net6_iperf6 "$NS_CLI" "$IPERF_MB" -R)
	[ -n "$down" ] || fail "iperf3 -R over IPv6 from the LAN did not complete: $(tail -c 300 "$RUN/iperf6.log")" || return 1
	echo "net6_ipv6_lan: iperf3 over IPv6 (${IPERF_MB} MiB): up $up Mbit/s, down $down Mbit/s" >&2

	# Isolation: bob's IPv6 address is not reachable from alice.
	in_ns "$NS_CLI" ip -6 route replace "$NET6_POOL6" dev tun-alice
	! in_ns "$NS_CLI" ping -6 -c 3 -i 0.4 -W 2 "$b6" >/dev/null 2>&1 || fail "alice reached bob over IPv6 with isolate-clients on" || return 1

	# Source check: a packet from an IPv6 address that is not alice's never reaches the LAN.
	in_ns "$NS_LAN" nft -f - <<NFT || { fail "nft in the LAN namespace"; return 1; }
table inet net6 {
	counter spoofed { }
	counter genuine { }
	chain input {
		type filter hook input priority 0;
		ip6 saddr 2001:db8:8::99 counter name spoofed
		ip6 saddr $a6 icmpv6 type echo-request counter name genuine
	}
}
NFT
	local tx0 tx1
	in_ns "$NS_CLI" ip -6 addr add 2001:db8:8::99/128 dev tun-alice nodad
	tx0=$(net6_tx_packets tun-alice)
	in_ns "$NS_CLI" ping -6 -c 3 -i 0.3 -W 1 -I 2001:db8:8::99 "$NET6_LAN6" >/dev/null 2>&1
	tx1=$(net6_tx_packets tun-alice)
	[ $((tx1 - tx0)) -ge 3 ] || fail "the spoofed pings did not enter the tunnel ($tx0 -> $tx1 packets)" || return 1
	in_ns "$NS_CLI" ping -6 -c 1 -i 0.2 -w 15 -I "$a6" "$NET6_LAN6" >/dev/null 2>&1 || fail "alice's own address stopped working" || return 1
	local spoofed genuine
	spoofed=$(in_ns "$NS_LAN" nft list counter inet net6 spoofed | awk '/packets/ {print $2; exit}')
	genuine=$(in_ns "$NS_LAN" nft list counter inet net6 genuine | awk '/packets/ {print $2; exit}')
	in_ns "$NS_LAN" nft delete table inet net6
	[ "${genuine:-0}" -ge 1 ] || fail "the LAN counted none of alice's genuine pings (the counter cannot be trusted)" || return 1
	[ "${spoofed:-1}" = 0 ] || fail "$spoofed packets with a spoofed IPv6 source reached the LAN" || return 1
}

# --- IPv6 from RADIUS ---------------------------------------------------------------

WOLFGUARD_TESTS+=(net6_radius_ipv6)

# FreeRADIUS (tests-radius.sh's set-up) with one more user first in its
# users file: dave gets an IPv6 address and an IPv6 route.
net6_radius_start() {
	local tpl=$RUN/net6-radius-tpl
	rm -rf "$tpl" && mkdir -p "$tpl/radius" || return 1
	cp "$E2E_DIR/radius/radiusd.conf" "$tpl/radius/" || return 1
	{
		printf 'dave\tCleartext-Password := "secret4"\n'
		printf '\tFramed-IPv6-Address = 2001:db8:8::4d,\n'
		printf '\tFramed-IPv6-Route = "%s :: 1"\n\n' "$NET6_LAN6_NET"
		cat "$E2E_DIR/radius/users"
	} >"$tpl/radius/users"
	E2E_DIR=$tpl radius_start
}

# Framed-IPv6-Address picks dave's pool slot (IPv4 10.8.0.77 follows:
# 0x4d), Framed-IPv6-Route reaches openconnect as an IPv6 split route, and
# ping6 to the LAN host goes through.
test_net6_radius_ipv6() {
	net6_lan6_up || return 1
	if ! net6_radius_start; then
		fail "freeradius did not start: $(tail -n 3 "$RUN/radius.log" 2>/dev/null | tr '\n' ' ')"
		radius_stop; net6_lan6_down; return 1
	fi
	net6_radius_ipv6_checks
	local rc=$?
	radius_stop
	net6_lan6_down
	return $rc
}

net6_radius_ipv6_checks() {
	rm -rf "$RUN/conf.d"
	wolfguard_conf false
	rm -f "$RUN/conf.d/20-auth-plain.json"
	cat >"$RUN/conf.d/20-auth-radius.json" <<JSON
{"plugin": "auth-radius", "options": {"servers": $RADIUS_SERVER_JSON, "secret": "$RADIUS_SECRET",
  "nas-identifier": "wolfguard-lab", "timeout": 5, "retries": 0}}
JSON
	cat >"$RUN/conf.d/30-routing-static.json" <<JSON
{"plugin": "routing-static", "options": {"ipv4-network": "$POOL_NET", "ipv6-network": "$NET6_POOL6",
  "routes": ["$PUSHED_ROUTE"]}}
JSON
	server_start_wolfguard false || { fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"; return 1; }
	connect_or_fail dave secret4 || return 1
	[ "$(client_env dave INTERNAL_IP6_NETMASK)" = "2001:db8:8::4d/64" ] ||
		fail "dave's IPv6 address is not RADIUS's 2001:db8:8::4d: $(grep IP6 "$RUN/env-dave" | tr '\n' ' ')" || return 1
	[ "$(client_env dave INTERNAL_IP4_ADDRESS)" = "10.8.0.77" ] ||
		fail "dave's IPv4 address does not follow the slot: $(client_env dave INTERNAL_IP4_ADDRESS)" || return 1
	[ "$(client_env dave CISCO_IPV6_SPLIT_INC_0_ADDR)/$(client_env dave CISCO_IPV6_SPLIT_INC_0_MASKLEN)" = "$NET6_LAN6_NET" ] ||
		fail "Framed-IPv6-Route did not reach openconnect: $(grep IPV6 "$RUN/env-dave" | tr '\n' ' ')" || return 1
	in_ns "$NS_CLI" ping -6 -c 1 -i 0.2 -w 15 "$NET6_LAN6" >/dev/null 2>&1 || fail "ping6 to the LAN host through RADIUS's route failed" || return 1
}

# --- IPv6 from Lua ------------------------------------------------------------------

WOLFGUARD_TESTS+=(net6_lua_ipv6)

# A policy gives alice an IPv6 address (session.set_address with an IPv6
# address) and an IPv6 route (tunnel.routes): openconnect gets both, the
# IPv4 address of the same pool slot comes with it, ping6 reaches the LAN.
test_net6_lua_ipv6() {
	net6_lan6_up || return 1
	cat >"$RUN/net6-policy.lua" <<LUA
function after_auth(session)
  if session.user == "alice" then session.set_address("2001:db8:8::66") end
  return true
end
function before_tunnel(session, tunnel)
  table.insert(tunnel.routes, "$NET6_LAN6_NET")
end
LUA
	chmod 644 "$RUN/net6-policy.lua"
	wolfguard_conf false
	cat >"$RUN/conf.d/30-routing-static.json" <<JSON
{"plugin": "routing-static", "options": {"ipv4-network": "$POOL_NET", "ipv6-network": "$NET6_POOL6",
  "routes": ["$PUSHED_ROUTE"]}}
JSON
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$RUN/net6-policy.lua\"}}" >"$RUN/conf.d/40-policy-lua.json"
	if ! server_start_wolfguard false; then
		fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"; net6_lan6_down; return 1
	fi
	net6_lua_ipv6_checks
	local rc=$?
	net6_lan6_down
	return $rc
}

net6_lua_ipv6_checks() {
	connect_or_fail alice secret1 || return 1
	[ "$(client_env alice INTERNAL_IP6_NETMASK)" = "2001:db8:8::66/64" ] ||
		fail "alice's IPv6 address is not the policy's 2001:db8:8::66: $(grep IP6 "$RUN/env-alice" | tr '\n' ' ')" || return 1
	[ "$(client_env alice INTERNAL_IP4_ADDRESS)" = "10.8.0.102" ] ||
		fail "alice's IPv4 address does not follow the slot (0x66 = 102): $(client_env alice INTERNAL_IP4_ADDRESS)" || return 1
	[ "$(client_env alice CISCO_IPV6_SPLIT_INC_0_ADDR)/$(client_env alice CISCO_IPV6_SPLIT_INC_0_MASKLEN)" = "$NET6_LAN6_NET" ] ||
		fail "the policy's IPv6 route did not reach openconnect: $(grep IPV6 "$RUN/env-alice" | tr '\n' ' ')" || return 1
	in_ns "$NS_CLI" ping -6 -c 1 -i 0.2 -w 15 "$NET6_LAN6" >/dev/null 2>&1 || fail "ping6 to the LAN host through the policy's route failed" || return 1
}

# --- RADIUS accounting with Message-Authenticator ----------------------------------

WOLFGUARD_TESTS+=(net6_radius_acct_ma)

# Every Accounting-Request carries a Message-Authenticator. FreeRADIUS
# drops a request whose Message-Authenticator is wrong, so Start and Stop
# records written to its detail file, with the attribute seen in each
# request it logged, show that both it and the Request Authenticator are
# right.
test_net6_radius_acct_ma() { radius_run net6_radius_acct_ma_checks; }

net6_radius_acct_ma_checks() {
	radius_wolfguard "$RADIUS_SERVER_JSON" '"accounting": true' || return 1
	connect_or_fail bob secret2 || return 1
	wait_for 60 grep -q 'Acct-Status-Type = Start' "$RUN/radius/acct/detail" || fail "no Accounting Start in the detail file" || return 1
	client_disconnect bob
	wait_for 60 grep -q 'Acct-Status-Type = Stop' "$RUN/radius/acct/detail" || fail "no Accounting Stop in the detail file" || return 1
	local n_acct n_ma
	# -X prints each request: its "Received Accounting-Request" line, then its attributes.
	n_acct=$(grep -c 'Received Accounting-Request' "$RUN/radius.log")
	n_ma=$(awk '/Received Accounting-Request/ {inreq = 1; next} /Received / {inreq = 0} inreq && /Message-Authenticator = 0x/ {n++} END {print n + 0}' "$RUN/radius.log")
	[ "$n_acct" -ge 2 ] || fail "FreeRADIUS logged $n_acct Accounting-Requests, want Start and Stop" || return 1
	[ "$n_ma" = "$n_acct" ] || fail "$n_ma of $n_acct Accounting-Requests carried a Message-Authenticator" || return 1
	! grep -qi 'invalid Message-Authenticator' "$RUN/radius.log" || fail "FreeRADIUS found an invalid Message-Authenticator" || return 1
}
