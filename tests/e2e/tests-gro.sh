# shellcheck shell=bash
# UDP GRO on the DTLS socket (plugins/lib-dtls/udp_gro.h): with GRO on the
# lab's veth pairs (lab_gro in lib.sh), a burst of openconnect's datagrams
# reaches the server as trains, which it cuts back into DTLS datagrams; the
# transfer must be whole, and /metrics must show that trains did arrive (so
# that the test fails if the kernel never merged anything, and the cutting
# went untested). With "udp-gro": false the same transfer works and no
# train is counted. Sourced by run.sh (fail, connect_or_fail, iperf_both,
# nft_*); ctl_server_opts comes from tests-ctl.sh.
#
# dtls_gro_trains   iperf3 both ways over DTLS; trains counted, none refused
# dtls_gro_off      udp-gro false: the gauge says off, no trains, iperf3 whole

WOLFGUARD_TESTS+=(dtls_gro_trains dtls_gro_off)

GRO_METRICS_PORT=9623

gro_metric() { # NAME: one sample of the DTLS transport's /metrics
	in_ns "$NS_SRV" curl -sf --max-time 10 "http://127.0.0.1:$GRO_METRICS_PORT/metrics" |
		awk -v k="$1" '$1 == k {print $2; exit}'
}

# gro_server [udp-gro]: wolfguard with /metrics and the DTLS option, alice
# connected over DTLS, nft counters on.
gro_server() {
	wolfguard_conf false
	ctl_server_opts "{\"metrics-port\": $GRO_METRICS_PORT}"
	local f=$RUN/conf.d/40-transport-dtls.json
	jq --argjson on "${1:-true}" '.options["udp-gro"] = $on' "$f" >"$f.new" && mv "$f.new" "$f"
	server_start_wolfguard || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
	nft_setup || fail "nft setup failed" || return 1
	# --queue-len: a veth pair keeps each datagram charged to openconnect's
	# UDP socket until the server has read the train it is in, and the
	# default send buffer (2 x 10 packets) then overflows into TLS; a real
	# NIC frees the client's datagram when it leaves (docs/benchmarks.md).
	connect_or_fail alice secret1 -- --queue-len=64 || return 1
	client_wait_dtls alice || fail "no 'Established DTLS connection' from openconnect" || return 1
}

# gro_coalesce NS: how long cli1 holds received packets for GRO (its
# gro_flush_timeout, as a NIC's interrupt coalescing): without it a veth
# pair hands every packet on by itself and GRO merges nothing.
gro_coalesce() { in_ns "$NS_SRV" sh -c "echo $1 >/sys/class/net/cli1/gro_flush_timeout"; }

test_dtls_gro_trains() {
	[ "$LAB_GRO_ON" = 1 ] || fail "GRO is off on the lab's veth pairs (ethtool missing? LAB_GRO=$LAB_GRO): no trains to test" || return 1
	gro_coalesce 50000 || fail "cannot set cli1's gro_flush_timeout" || return 1
	gro_trains_body
	local r=$?
	gro_coalesce 0
	return $r
}

gro_trains_body() {
	gro_server true || return 1
	grep -q "UDP GRO on" "$RUN/server.log" || fail "the server did not log UDP GRO on" || return 1
	[ "$(gro_metric wolfguard_dtls_udp_gro)" = 1 ] || fail "/metrics: wolfguard_dtls_udp_gro is not 1" || return 1
	local udp0 udp1 tcp0 tcp1 trains datagrams refused
	udp0=$(nft_count udp) tcp0=$(nft_count tcp)
	iperf_both "DTLS iperf3 with UDP GRO" || return 1
	udp1=$(nft_count udp) tcp1=$(nft_count tcp)
	trains=$(gro_metric wolfguard_dtls_gro_trains_total)
	datagrams=$(gro_metric wolfguard_dtls_gro_train_datagrams_total)
	refused=$(gro_metric wolfguard_dtls_rx_refused_total)
	# (nft counts a train as one packet: it sees what GRO made)
	echo "   UDP to port 443: $((udp1 - udp0)) receives; $trains trains held $datagrams datagrams; refused $refused; TCP $((tcp1 - tcp0))"
	# the data stayed on DTLS (a lost or refused train would make
	# openconnect fall back to CSTP)
	[ $((tcp1 - tcp0)) -lt 200 ] || fail "$((tcp1 - tcp0)) TCP packets to 443 during the transfer: not over DTLS" || return 1
	! grep -qi "dead peer" "$(client_log alice)" || fail "openconnect saw DTLS die: $(grep -i 'dead peer' "$(client_log alice)" | head -n 1)" || return 1
	[ "${trains:-0}" -ge 1 ] 2>/dev/null || fail "no GRO train arrived (trains ${trains:-none})" || return 1
	[ "$datagrams" -ge $((2 * trains)) ] || fail "$trains trains held only $datagrams datagrams" || return 1
	[ "$refused" = 0 ] || fail "$refused receives refused" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "tunnel gone after the transfer" || return 1
}

test_dtls_gro_off() {
	gro_server false || return 1
	grep -q "UDP GRO off" "$RUN/server.log" || fail "the server did not log UDP GRO off" || return 1
	[ "$(gro_metric wolfguard_dtls_udp_gro)" = 0 ] || fail "/metrics: wolfguard_dtls_udp_gro is not 0" || return 1
	iperf_both "DTLS iperf3 without UDP GRO" || return 1
	[ "$(gro_metric wolfguard_dtls_gro_trains_total)" = 0 ] ||
		fail "$(gro_metric wolfguard_dtls_gro_trains_total) trains with udp-gro false" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "tunnel gone after the transfer" || return 1
}
