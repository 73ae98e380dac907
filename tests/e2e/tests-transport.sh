# shellcheck shell=bash
# Transport plugins end to end: DTLS is the transport-dtls plugin, CSTP the
# lane that is always there. Sourced by run.sh (which defines fail,
# connect_or_fail, ...); metrics/metric/ctl_server_opts come from tests-ctl.sh.

TRANSPORT_METRICS_PORT=9618

transport_metric() { # NAME-WITH-LABELS
	in_ns "$NS_SRV" curl -sf --max-time 5 "http://127.0.0.1:$TRANSPORT_METRICS_PORT/metrics" |
		awk -v k="$1" '$1 == k {print $2; exit}'
}

# server_start_tcp_only: server_start_wolfguard for a conf.d with no
# transport, where nothing binds UDP 443 (server_wait_ready waits for both).
server_start_tcp_only() {
	local bin plugdir
	bin=$(wolfguard_bin)
	plugdir=${WOLFGUARD_PLUGIN_DIR:-$(cd "$(dirname "$bin")/../plugins" && pwd)}
	WOLFGUARD_PLUGIN_DIR=$plugdir timeout 10 "$bin" --check-config "$RUN/conf.d" >"$RUN/check-config.log" 2>&1 ||
		{ cat "$RUN/check-config.log" >&2; return 1; }
	server_launch wolfguard env WOLFGUARD_PLUGIN_DIR="$plugdir" "$bin" -c "$RUN/conf.d"
	wait_for 30 sh -c "ip netns exec $NS_SRV ss -Hltn 'sport = :443' | grep -q ." || return 1
	! in_ns "$NS_SRV" ss -Hlun 'sport = :443' | grep -q . || { log "UDP 443 is bound without a transport"; return 1; }
}

# Without the transport-dtls file the server offers no lane and binds no
# UDP port: the client is told nothing about DTLS, and the tunnel works over
# CSTP.
test_transport_none() {
	wolfguard_conf false
	rm -f "$RUN/conf.d/40-transport-dtls.json"
	server_start_tcp_only || fail "wolfguard did not start (or bound UDP 443)" || return 1
	grep -q "lanes beside CSTP: none" "$RUN/server.log" || fail "the server did not say it runs CSTP only" || return 1
	nft_setup || fail "nft setup failed" || return 1
	connect_or_fail alice secret1 || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping over CSTP" || return 1
	local tcp0 tcp1
	tcp0=$(nft_count tcp)
	in_ns "$NS_CLI" ping -c 50 -i 0.02 -s 1000 -W 2 "$LAN_ADDR" >/dev/null || fail "pings lost over CSTP" || return 1
	tcp1=$(nft_count tcp)
	[ "$(nft_count udp)" = 0 ] || fail "$(nft_count udp) UDP packets although no transport is enabled" || return 1
	# 50 pings of 1000 bytes: at least one TCP segment each to the server.
	[ $((tcp1 - tcp0)) -ge 50 ] || fail "only $((tcp1 - tcp0)) TCP packets for 50 pings: not over CSTP" || return 1
	! grep -q "Established DTLS connection" "$(client_log alice)" || fail "DTLS came up without a transport" || return 1
	grep -q "tunnel up over TLS, address" "$RUN/server.log" || fail "the server offered a lane" || return 1
}

# A reload keeps the transports started with the server: a session's DTLS
# lane survives it, a session made after it gets DTLS too, the transport's
# counters are served on /metrics, and generation 1 still retires when its
# last session ends (the transport does not hold it).
test_transport_reload_keeps_dtls() {
	wolfguard_conf false
	ctl_server_opts "{\"metrics-port\": $TRANSPORT_METRICS_PORT}"
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	nft_setup || fail "nft setup failed" || return 1
	connect_or_fail alice secret1 || return 1
	client_wait_dtls alice || fail "alice got no DTLS" || return 1
	wait_for 30 sh -c "[ \"\$(ip netns exec $NS_SRV curl -sf http://127.0.0.1:$TRANSPORT_METRICS_PORT/metrics |
		awk '\$1 == \"wolfguard_transport_lanes_up{transport=\\\"transport-dtls\\\"}\" {print \$2}')\" = 1 ]" ||
		fail "lanes_up is $(transport_metric 'wolfguard_transport_lanes_up{transport="transport-dtls"}'), not 1" || return 1
	echo '{"plugin": "transport-dtls", "options": {"handshakes-per-session": 2}}' >"$RUN/conf.d/40-transport-dtls.json"
	local out udp0 udp1
	out=$(ctl reload) || fail "reload failed: $out" || return 1
	echo "$out" | grep -q "generation 2" || fail "reload said: $out" || return 1
	wait_for 30 grep -q "transport plugins are kept as started" "$RUN/server.log" ||
		fail "the reload did not say it keeps the transport" || return 1
	udp0=$(nft_count udp)
	in_ns "$NS_CLI" ping -c 50 -i 0.02 -s 1000 -W 2 "$LAN_ADDR" >/dev/null || fail "alice's pings lost after the reload" || return 1
	udp1=$(nft_count udp)
	[ $((udp1 - udp0)) -ge 50 ] || fail "alice's pings did not go over DTLS after the reload ($((udp1 - udp0)) UDP)" ||
		return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	client_wait_dtls bob || fail "bob, logged in after the reload, got no DTLS" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "bob cannot ping" || return 1
	wait_for 30 sh -c "[ \"\$(ip netns exec $NS_SRV curl -sf http://127.0.0.1:$TRANSPORT_METRICS_PORT/metrics |
		awk '\$1 == \"wolfguard_transport_lanes_up{transport=\\\"transport-dtls\\\"}\" {print \$2}')\" = 2 ]" ||
		fail "lanes_up is $(transport_metric 'wolfguard_transport_lanes_up{transport="transport-dtls"}'), not 2" || return 1
	client_disconnect alice
	wait_for 30 grep -q "generation 1 retired" "$RUN/server.log" || fail "generation 1 was not retired" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "bob lost his tunnel when generation 1 went" || return 1
	udp0=$(nft_count udp)
	in_ns "$NS_CLI2" ping -c 20 -i 0.02 -W 2 "$LAN_ADDR" >/dev/null || fail "bob's pings lost" || return 1
	udp1=$(nft_count udp)
	[ $((udp1 - udp0)) -ge 20 ] || fail "bob's pings did not go over DTLS ($((udp1 - udp0)) UDP)" || return 1
}

# Issue 22 item 5: one logged-in user (alice, from her own namespace, with
# the App-ID of her CONNECT) opens 40 DTLS handshakes from 40 source ports,
# answers each cookie and goes silent. The table is made small (16) and
# slow to expire (60 s) so that, without a per-session share, she would hold
# all of it for the whole test; with the share (4) she holds 4, and bob's
# openconnect gets DTLS and moves data over UDP while her slots are held.
test_transport_dtls_halfopen_share() {
	wolfguard_conf false
	echo '{"plugin": "transport-dtls", "options": {"max-handshakes": 16, "handshake-timeout-ms": 60000}}' \
		>"$RUN/conf.d/40-transport-dtls.json"
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	nft_setup || fail "nft setup failed" || return 1
	in_ns "$NS_CLI2" timeout 120 python3 "$TRANSPORT_HALFOPEN" --host "$SRV_ADDR" --user alice --password secret1 \
		--n 40 --hold 40 >"$RUN/halfopen.out" 2>"$RUN/halfopen.err" &
	local attacker=$! held
	wait_for 30 grep -q '^RESULT' "$RUN/halfopen.out" ||
		fail "the attacker did not finish its hellos: $(tail -n 3 "$RUN/halfopen.err")" || return 1
	sed 's/^RESULT/   result:/' "$RUN/halfopen.out"
	held=$(sed -n 's/.* held=\([0-9]*\).*/\1/p' "$RUN/halfopen.out")
	[ -n "$held" ] && [ "$held" -ge 1 ] || fail "the attack got no handshake held, so it proves nothing" || return 1
	# The harm first: another user's DTLS while the slots are held.
	connect_or_fail bob secret2 || return 1
	client_wait_dtls bob || fail "bob got no DTLS while alice held $held half-open handshakes" || return 1
	[ "$held" -le 4 ] || fail "one session holds $held half-open handshakes (share: 4)" || return 1
	local udp0 udp1
	udp0=$(nft_count udp)
	in_ns "$NS_CLI" ping -c 30 -i 0.02 -W 2 "$LAN_ADDR" >/dev/null || fail "bob's pings lost" || return 1
	udp1=$(nft_count udp)
	[ $((udp1 - udp0)) -ge 30 ] || fail "bob's pings did not go over DTLS ($((udp1 - udp0)) UDP)" || return 1
	kill -0 "$attacker" 2>/dev/null || fail "the attacker let go of its slots before the check" || return 1
	kill "$attacker" 2>/dev/null
	wait "$attacker" 2>/dev/null
	server_alive || fail "the server died" || return 1
}

TRANSPORT_HALFOPEN=${TRANSPORT_HALFOPEN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../hostile" && pwd)/dtls_halfopen.py}

WOLFGUARD_TESTS+=(transport_none transport_reload_keeps_dtls transport_dtls_halfopen_share)
