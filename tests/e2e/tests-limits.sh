# shellcheck shell=bash
# Per-session limits (issue 20): rates per direction from conf.d and from
# RADIUS, data quotas, restrict-user-to-routes/-ports, Lua's
# session.set_limit, and rekeying with openconnect under traffic. Sourced
# by run.sh (wolfguard only).
#
# Rates are checked as upper bounds with a margin (a busy machine is slow,
# never faster than the limit); "traffic that must not pass" is checked with
# ping_none / a bounded nc, and the server's per-session counter of dropped
# packets must have grown.

WOLFGUARD_TESTS+=(limits_rate_config limits_rate_radius limits_quota_disconnect limits_quota_throttle
	limits_restrict_routes limits_restrict_ports limits_lua limits_rekey_ssl limits_rekey_new_tunnel limits_iroute)

OUTSIDE_ADDR=192.0.2.2 # a LAN host address outside the pushed route 203.0.113.0/24

limits_server_opts() { # JSON object merged into the server section
	local f=$RUN/conf.d/00-server.json
	jq --argjson extra "$1" '.server += $extra' "$f" >"$f.new" && mv "$f.new" "$f"
}

limits_start() { # JSON for the server section
	wolfguard_conf false
	limits_server_opts "$1"
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"
}

# limits_session_field USER FIELD: that field of USER's session in `wolfguardctl --json list`.
limits_session_field() {
	ctl --json list | jq -r --arg u "$1" --arg f "$2" '[.sessions[] | select(.user == $u)][0][$f]'
}

# A LAN host address outside every pushed route, reachable from the server
# (and answering to the pool through it); the client is given a route to it
# through its tunnel by hand, as a user trying to reach more would.
limits_outside_up() { # tag
	ip -n "$NS_LAN" addr add "$OUTSIDE_ADDR/32" dev lo 2>/dev/null
	ip -n "$NS_SRV" route replace "$OUTSIDE_ADDR/32" via "$LAN_ADDR"
	ip -n "${CLIENT_NS[$1]}" route replace "$OUTSIDE_ADDR/32" dev "tun-$1"
}

# limits_tcp_open NS PORT: a TCP connection from NS to the LAN host's PORT
# is accepted within 8 s (a one-shot iperf3 server listens there; the
# client is bash's /dev/tcp, so no extra tool is needed).
limits_tcp_open() {
	local ns=$1 port=$2 srv rc
	in_ns "$NS_LAN" timeout 30 iperf3 -s -1 -B "$LAN_ADDR" -p "$port" >/dev/null 2>&1 &
	srv=$!
	wait_for 20 sh -c "ip netns exec $NS_LAN ss -Hltn 'sport = :$port' | grep -q ."
	in_ns "$ns" timeout 8 bash -c "exec 3<>/dev/tcp/$LAN_ADDR/$port" >/dev/null 2>&1
	rc=$?
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	return $rc
}

# rx-data-per-sec / tx-data-per-sec for one user ("users"), different each
# way so a mix-up of directions shows: alice may send 10 Mbit/s and receive
# 5 Mbit/s; bob (no entry) is unlimited.
test_limits_rate_config() {
	limits_start '{"users": {"alice": {"rx-data-per-sec": 1250000, "tx-data-per-sec": 625000}}}' || return 1
	connect_or_fail alice secret1 || return 1
	[ "$(limits_session_field alice rx_limit_kbps)" = 10000 ] ||
		fail "alice's rx_limit_kbps is $(limits_session_field alice rx_limit_kbps), want 10000" || return 1
	[ "$(limits_session_field alice tx_limit_kbps)" = 5000 ] ||
		fail "alice's tx_limit_kbps is $(limits_session_field alice tx_limit_kbps), want 5000" || return 1
	local up down free
	up=$(iperf_volume "$NS_CLI" 6)
	down=$(iperf_volume "$NS_CLI" 3 -R)
	echo "   alice limited to 10 Mbit/s up, 5 Mbit/s down: measured up ${up:-failed}, down ${down:-failed} Mbit/s"
	[ -n "$up" ] && [ -n "$down" ] || fail "a limited transfer did not complete: up ${up:-failed} down ${down:-failed}" ||
		return 1
	[ "$up" -le 12 ] || fail "rx-data-per-sec not applied: up $up Mbit/s (limit 10)" || return 1
	[ "$down" -le 6 ] || fail "tx-data-per-sec not applied: down $down Mbit/s (limit 5)" || return 1
	client_disconnect alice
	connect_or_fail bob secret2 || return 1
	[ "$(limits_session_field bob rx_limit_kbps)" = 0 ] || fail "bob got a limit he has no entry for" || return 1
	free=$(iperf_volume "$NS_CLI" 16)
	echo "   bob (no limit): ${free:-failed} Mbit/s"
	[ -n "$free" ] || fail "bob's unlimited transfer did not complete" || return 1
}

# RADIUS: dave's Access-Accept carries WISPr-Bandwidth-Max-Up 8000000 (bit/s)
# and RP-Downstream-Speed-Limit 4000 (kbit/s); the session gets 8000 kbit/s
# from the client and 4000 to it, and the download stays under 4 Mbit/s.
_limits_rate_radius() {
	radius_wolfguard "$RADIUS_SERVER_JSON" || return 1
	connect_or_fail dave secret4 || return 1
	[ "$(limits_session_field dave rx_limit_kbps)" = 8000 ] ||
		fail "rx_limit_kbps $(limits_session_field dave rx_limit_kbps), want 8000 from WISPr-Bandwidth-Max-Up" || return 1
	[ "$(limits_session_field dave tx_limit_kbps)" = 4000 ] ||
		fail "tx_limit_kbps $(limits_session_field dave tx_limit_kbps), want 4000 from RP-Downstream-Speed-Limit" ||
		return 1
	local down
	down=$(iperf_volume "$NS_CLI" 2 -R)
	echo "   RADIUS limit 4 Mbit/s to the client: measured ${down:-failed} Mbit/s"
	[ -n "$down" ] || fail "the transfer did not complete" || return 1
	[ "$down" -le 5 ] || fail "RP-Downstream-Speed-Limit not applied: $down Mbit/s" || return 1
}
test_limits_rate_radius() { radius_run _limits_rate_radius; }

# data-quota with the default action: alice may move 3 MiB; an 8 MiB upload
# ends her session ("data quota reached", told to the client), RADIUS-style
# accounting is not needed to see it: the disconnect event carries the
# counters, which passed the quota.
test_limits_quota_disconnect() {
	limits_start '{"users": {"alice": {"data-quota": 3145728}}}' || return 1
	connect_or_fail alice secret1 || return 1
	[ "$(limits_session_field alice data_quota)" = 3145728 ] || fail "data_quota not listed" || return 1
	ctl events >"$RUN/events.jsonl" 2>&1 &
	local ev=$!
	wait_for 10 test -s "$RUN/events.jsonl"
	# Time-bounded: the session ends under the transfer, which then stalls.
	iperf_mbps "$NS_CLI" 10 >/dev/null
	wait_for 30 grep -q 'session ended: data quota reached' "$RUN/server.log" ||
		fail "the session did not end at its quota" || { kill "$ev"; return 1; }
	[ "$(client_exit_code alice 30)" != running ] || fail "the client still runs after the quota ended the session" ||
		{ kill "$ev"; return 1; }
	grep -q 'data quota reached' "$(client_log alice)" || fail "the client was not told why" || { kill "$ev"; return 1; }
	wait_for 10 grep -q '"disconnect"' "$RUN/events.jsonl"
	kill "$ev" 2>/dev/null
	wait "$ev" 2>/dev/null
	local total
	total=$(jq -r 'select(.event == "disconnect") | .rx_bytes + .tx_bytes' "$RUN/events.jsonl" | tail -n 1)
	[ "${total:-0}" -ge 3145728 ] 2>/dev/null || fail "the disconnect event counts ${total:-nothing} bytes, want >= the quota" ||
		return 1
	grep '"disconnect"' "$RUN/events.jsonl" | grep -q 'data quota reached' || fail "the event lacks the reason" || return 1
}

# data-quota-action throttle: past 2 MiB the group's sessions are held to
# 250000 bytes/s (2 Mbit/s) each way, and stay up.
test_limits_quota_throttle() {
	limits_start '{"data-quota-action": "throttle", "data-quota-throttle-per-sec": 250000,
		"groups": {"engineering": {"data-quota": 2097152}}}' || return 1
	connect_or_fail alice secret1 || return 1
	# Time-based runs: a volume run (-n) ends when its bytes are written, and
	# at 2 Mbit/s most of them would still sit in the sender's buffer.
	iperf_mbps "$NS_CLI" 4 >/dev/null
	wait_for 10 grep -q 'data quota of 2097152 bytes reached: throttled to 2000 kbit/s' "$RUN/server.log" ||
		fail "no throttle at the quota" || return 1
	local up
	up=$(iperf_mbps "$NS_CLI" 8)
	echo "   throttled past the quota (2 Mbit/s): ${up:-failed} Mbit/s"
	[ -n "$up" ] || fail "the throttled session carries nothing" || return 1
	[ "$up" -le 3 ] || fail "not throttled: $up Mbit/s" || return 1
	[ "$(limits_session_field alice quota_reached)" = true ] || fail "quota_reached not listed" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "the throttled session stopped working" || return 1
}

# restrict-user-to-routes for alice: the pushed route's host answers, a host
# outside it (routed through the tunnel by hand) does not, and the dropped
# packets are counted. bob, unrestricted, reaches both.
test_limits_restrict_routes() {
	limits_start '{"users": {"alice": {"restrict-user-to-routes": true}}}' || return 1
	connect_or_fail alice secret1 || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	limits_outside_up alice
	limits_outside_up bob
	ping_ok "$NS_CLI2" "$OUTSIDE_ADDR" || fail "test set-up: the outside host is not reachable through the VPN" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice cannot reach her pushed route" || return 1
	iperf_volume "$NS_CLI" 4 >/dev/null || true
	ping_none "$NS_CLI" "$OUTSIDE_ADDR" || fail "alice reached a host outside her routes" || return 1
	local n
	n=$(limits_session_field alice filtered_packets)
	[ "${n:-0}" -ge 5 ] 2>/dev/null || fail "filtered_packets is '${n}', want >= 5 after the refused pings" || return 1
	[ "$(limits_session_field bob filtered_packets)" = 0 ] || fail "bob's packets were filtered" || return 1
}

# restrict-user-to-ports: bob ("groups": sales) may use only TCP 5201 (iperf3)
# and ICMP; TCP 5202 is refused. alice may use all but ICMP ("!(icmp())").
test_limits_restrict_ports() {
	limits_start '{"groups": {"sales": {"restrict-user-to-ports": "tcp(5201), icmp()"}},
		"users": {"alice": {"restrict-user-to-ports": "!(icmp())"}}}' || return 1
	connect_or_fail bob secret2 || return 1
	connect_or_fail alice secret1 --ns "$NS_CLI2" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "bob's ICMP was refused" || return 1
	[ -n "$(iperf_volume "$NS_CLI" 4)" ] || fail "bob's iperf3 (tcp 5201) did not pass" || return 1
	! limits_tcp_open "$NS_CLI" 5202 || fail "bob connected to tcp 5202" || return 1
	limits_tcp_open "$NS_CLI2" 5202 || fail "alice could not connect to tcp 5202" || return 1
	ping_none "$NS_CLI2" "$LAN_ADDR" || fail "alice's ICMP passed" || return 1
	local n
	n=$(limits_session_field bob filtered_packets)
	[ "${n:-0}" -ge 1 ] 2>/dev/null || fail "bob's filtered_packets is '$n'" || return 1
	n=$(limits_session_field alice filtered_packets)
	[ "${n:-0}" -ge 5 ] 2>/dev/null || fail "alice's filtered_packets is '$n'" || return 1
}

# A Lua policy sets limits with session.set_limit (over the server's): the
# listing shows them and the port restriction holds.
test_limits_lua() {
	wolfguard_conf false
	cat >"$RUN/limits.lua" <<'LUA'
function after_auth(session)
  if session.user == "alice" then
    session.set_limit("tx-data-per-sec", 500000)
    session.set_limit("data-quota", 1000000000)
  end
  return true
end
function before_tunnel(session, tunnel)
  if session.user == "alice" then
    session.set_limit("restrict-user-to-ports", "tcp(5201)")
    session.set_limit("restrict-user-to-routes", true)
  end
  return true
end
LUA
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$RUN/limits.lua\"}}" >"$RUN/conf.d/40-policy-lua.json"
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" ||
		return 1
	connect_or_fail alice secret1 || return 1
	[ "$(limits_session_field alice tx_limit_kbps)" = 4000 ] || fail "tx-data-per-sec from Lua not applied" || return 1
	[ "$(limits_session_field alice data_quota)" = 1000000000 ] || fail "data-quota from Lua not applied" || return 1
	ping_none "$NS_CLI" "$LAN_ADDR" || fail "ICMP passed a tcp(5201)-only session" || return 1
	[ -n "$(iperf_volume "$NS_CLI" 2)" ] || fail "tcp 5201 did not pass" || return 1
}

# rekey-method ssl: openconnect renews the TLS keys of the running
# connection (a TLS 1.3 KeyUpdate) every rekey-time seconds, while iperf3
# runs through the tunnel, and then sets DTLS up again; the session (id,
# address) survives and traffic goes on after the rekey.
test_limits_rekey_ssl() {
	limits_start '{"rekey-time": 8, "rekey-method": "ssl"}' || return 1
	connect_or_fail alice secret1 || return 1
	client_wait_dtls alice || fail "no DTLS" || return 1
	grep -q 'X-CSTP-Rekey-Method: ssl' "$(client_log alice)" || fail "the client was not offered rekey-method ssl" || return 1
	local id mbps
	id=$(limits_session_field alice id)
	mbps=$(iperf_mbps "$NS_CLI" 20)
	echo "   iperf3 across the rekeys: ${mbps:-failed} Mbit/s"
	[ -n "$mbps" ] || fail "iperf3 across a rekey failed" || return 1
	grep -q 'CSTP rekey due' "$(client_log alice)" || fail "no rekey happened in 20 s (rekey-time 8)" || return 1
	grep -q 'Renegotiated SSL' "$(client_log alice)" || fail "the rekey did not renew the TLS keys: $(grep -i 'rekey\|rehandshake' "$(client_log alice)" | tail -n 2 | tr '\n' ' ')" || return 1
	! grep -q 'Rehandshake failed' "$(client_log alice)" || fail "the TLS rehandshake failed (fell back to a new tunnel)" ||
		return 1
	[ "$(limits_session_field alice id)" = "$id" ] || fail "the session changed across the rekey" || return 1
	# After the TLS rekey openconnect sets DTLS up again (new keys there too).
	wait_for 30 sh -c "[ \$(grep -c 'Established DTLS connection' '$(client_log alice)') -ge 2 ]" ||
		fail "DTLS was not set up again after the rekey" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic after the rekey" || return 1
}

# rekey-method new-tunnel: openconnect opens a new tunnel with its cookie;
# the session and its address stay, DTLS comes back, traffic continues.
test_limits_rekey_new_tunnel() {
	limits_start '{"rekey-time": 8, "rekey-method": "new-tunnel"}' || return 1
	connect_or_fail alice secret1 || return 1
	grep -q 'X-CSTP-Rekey-Method: new-tunnel' "$(client_log alice)" || fail "new-tunnel not offered" || return 1
	local id addr mbps
	id=$(limits_session_field alice id)
	addr=$(client_env alice INTERNAL_IP4_ADDRESS)
	mbps=$(iperf_mbps "$NS_CLI" 20)
	echo "   iperf3 across the new tunnels: ${mbps:-failed} Mbit/s"
	[ -n "$mbps" ] || fail "iperf3 across a rekey failed" || return 1
	grep -q 'CSTP rekey due' "$(client_log alice)" || fail "no rekey happened in 20 s (rekey-time 8)" || return 1
	[ "$(grep -c 'tunnel up over TLS' "$RUN/server.log")" -ge 2 ] || fail "no second CONNECT for the rekey" || return 1
	[ "$(limits_session_field alice id)" = "$id" ] || fail "the session changed across the rekey" || return 1
	[ "$(ctl --json list | jq '.sessions | length')" = 1 ] || fail "the rekey left a second session" || return 1
	ip -n "$NS_CLI" -4 addr show dev tun-alice | grep -q "inet $addr/" || fail "the address changed" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic after the rekey" || return 1
}

# Echo requests the LAN host has received (its namespace's ICMP counters).
limits_lan_echos() { in_ns "$NS_LAN" awk '/^Icmp: [0-9]/ {print $10}' /proc/net/snmp; }

# iroute: alice's client has the network 198.18.77.0/24 behind it (an
# address on its loopback). The LAN host reaches it through the VPN, and
# alice's packets from it pass; bob, with the same address behind his
# client but no iroute, cannot send from it (spoofed source, dropped), and
# once alice is gone the network is unreachable.
test_limits_iroute() {
	limits_start '{"users": {"alice": {"iroute": ["198.18.77.0/24"]}}}' || return 1
	grep -q 'iroute 198.18.77.0/24 routed into' "$RUN/server.log" || fail "the iroute was not routed into the TUN device" ||
		return 1
	ip -n "$NS_SRV" route show 198.18.77.0/24 | grep -q "dev" || fail "no kernel route for the iroute" || return 1
	ip -n "$NS_LAN" route replace 198.18.77.0/24 via "$SRV_LAN_ADDR"
	ip -n "$NS_CLI" addr add 198.18.77.1/32 dev lo
	ip -n "$NS_CLI2" addr add 198.18.77.1/32 dev lo
	connect_or_fail alice secret1 || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	ping_ok "$NS_LAN" 198.18.77.1 || fail "the LAN host cannot reach the network behind alice's client" || return 1
	in_ns "$NS_CLI" ping -c 1 -w 15 -I 198.18.77.1 "$LAN_ADDR" >/dev/null 2>&1 ||
		fail "alice cannot send from her iroute" || return 1
	# bob's echo requests from 198.18.77.1 must not reach the LAN host (its
	# replies would go to alice, so count what the LAN host received).
	local before after
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "bob's own traffic does not pass" || return 1
	before=$(limits_lan_echos)
	in_ns "$NS_CLI2" ping -c 5 -i 0.2 -W 2 -I 198.18.77.1 "$LAN_ADDR" >/dev/null 2>&1
	after=$(limits_lan_echos)
	[ "$after" = "$before" ] || fail "bob's packets from a network that is not his reached the LAN host" ||
		return 1
	client_disconnect alice
	ping_none "$NS_LAN" 198.18.77.1 || fail "the iroute still answers after alice left" || return 1
}
