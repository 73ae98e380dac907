# shellcheck shell=bash
# A multi-homed server whose UDP sockets are bound to the wildcard address
# (docs/lanes.md 8, docs/dtls.md): the server namespace gets a second
# address on the clients' link, the clients connect to it, and the route
# back to them would answer from the first one. Their UDP sockets are
# connect()ed (openconnect's DTLS, wolfguard-client's lanes), so DTLS and
# the lanes work only because the answers leave from the address the
# client sent to (IP_PKTINFO, plugins/lib-dtls/udp_local.c). Sourced by
# run.sh; the lanes helpers come from tests-lanes.sh.
#
# lanes_wildcard_second_address  server listening on "::" (TLS, DTLS and
#                  lanes) with 198.51.100.1 and 198.51.100.10 on its link:
#                  openconnect to .10 gets DTLS and pings over it;
#                  wolfguard-client --lanes 2 to .10 gets both lanes alive
#                  and moves a transfer over them

WOLFGUARD_TESTS+=(lanes_wildcard_second_address)

SRV_ADDR2=198.51.100.10

# The source the server's route picks for packets to the client.
multihome_route_src() {
	ip -n "$NS_SRV" -j route get "$CLI_ADDR" | jq -r '.[0].prefsrc'
}

test_lanes_wildcard_second_address() {
	lanes_wildcard_second_address_run
	local rc=$?
	ip -n "$NS_SRV" addr del "$SRV_ADDR2/24" dev cli1 2>/dev/null
	return $rc
}

lanes_wildcard_second_address_run() {
	lanes_need_client || return 1
	ip -n "$NS_SRV" addr add "$SRV_ADDR2/24" dev cli1 || fail "cannot add $SRV_ADDR2 to the server" || return 1
	# The failure this test is about needs the route back to leave from
	# the other address; a secondary address of the subnet never is.
	# shellcheck disable=SC2153 # SRV_ADDR: the lab's, from lib.sh
	[ "$(multihome_route_src)" = "$SRV_ADDR" ] ||
		fail "the server's route to the client leaves from $(multihome_route_src), not $SRV_ADDR" || return 1
	lanes_conf
	jq '.server.listen = "::"' "$RUN/conf.d/00-server.json" >"$RUN/00-server.json.new" &&
		mv "$RUN/00-server.json.new" "$RUN/conf.d/00-server.json" || fail "cannot set listen" || return 1
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	in_ns "$NS_SRV" ss -Hlun 'sport = :443' | grep -q '\*:443' ||
		fail "the DTLS socket is not bound to the wildcard: $(in_ns "$NS_SRV" ss -Hlun)" || return 1

	# openconnect (transport-dtls) to the second address.
	SRV_ADDR=$SRV_ADDR2 connect_or_fail bob secret2 || return 1
	client_wait_dtls bob 30 || fail "openconnect to $SRV_ADDR2 got no DTLS: $(grep -i dtls "$(client_log bob)" | tail -3)" ||
		return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "openconnect to $SRV_ADDR2 cannot ping" || return 1
	! grep -q "the peer sends to" "$RUN/server.log" || fail "a DTLS association changed its local address" || return 1
	client_disconnect bob

	# wolfguard-client's lanes to the second address.
	SRV_ADDR=$SRV_ADDR2 lanes_connect alice alice secret1 "$NS_CLI" 2 ||
		fail "wolfguard-client --lanes 2 to $SRV_ADDR2 did not connect" || return 1
	wait_for 30 lanes_alive_is alice 2 || fail "not 2 lanes alive via $SRV_ADDR2: $(lanes_of alice)" || return 1
	lanes_iperf "$NS_CLI" 8 8 -R || fail "download over lanes via $SRV_ADDR2 failed: $(tail -3 "$RUN/iperf-lanes.log")" ||
		return 1
	local k
	for k in 0 1; do
		[ "$(lane_field alice $k tx_bytes)" -gt 10000 ] || fail "lane $k carried little: $(lanes_of alice)" || return 1
	done
}
