# shellcheck shell=bash
# wolfguard-bench --traffic (tools/bench, docs/benchmarks.md) against
# wolfguard: a few sessions log in, set up DTLS (PSK-NEGOTIATE) or stay
# on CSTP, send a bounded number of UDP datagrams to wolfguard-bench-sink in
# the LAN namespace, which echoes them. Three observers count every
# datagram independently: the bench (sent, echoes back), the sink (its
# report and its own totals) and nft counters in the server namespace on
# the forward path between the TUN and the LAN link. The tests assert that
# they agree packet for packet and byte for byte, in both directions. The
# rate is low (a few hundred datagrams a second): nothing should be lost,
# even on a busy machine. Sourced by run.sh.
# shellcheck source=bench/lib/traffic-lab.sh
. "$TOP/bench/lib/traffic-lab.sh"

WOLFGUARD_TESTS+=(bench_traffic_dtls bench_traffic_cstp)

# bench_traffic_check SESSIONS PACKETS [bench options]: one run, then the
# counts of the three observers compared.
bench_traffic_check() {
	local n=$1 pk=$2 out=$RUN/bench-traffic.out j c rc
	shift 2
	traffic_server_start wolfguard || fail "wolfguard did not start" || return 1
	tun_counters_up || fail "nft counters could not be set up" || return 1
	sink_start || fail "the sink did not start" || return 1
	BENCH_TIMEOUT=300 bench_traffic "$out" -n "$n" --packets "$pk" --rate 200 --seconds 120 --settle 1 \
		--drain-ms 2000 -v "$@"
	rc=$?
	sink_stop
	[ $rc = 0 ] || fail "bench exit status $rc: $(tail -n 3 "$out.err" | tr '\n' ' ')" || return 1
	j=$(bench_json "$out")
	[ -n "$j" ] || fail "no JSON line in the bench output" || return 1
	c=$(tun_counters)
	local held tx txb srx srxb stx rx rxb rep up upb down downb
	read -r held tx txb srx srxb stx rx rxb rep < <(jq -r '[.held, .traffic.tx_pkts, .traffic.tx_bytes,
		.traffic.sink_rx_pkts, .traffic.sink_rx_bytes, .traffic.sink_tx_pkts, .traffic.rx_pkts,
		.traffic.rx_bytes, .traffic.reported] | @tsv' <<<"$j")
	read -r up upb down downb <<<"$c"
	local seen="bench sent $tx ($txb B), sink got $srx ($srxb B) echoed $stx, bench got $rx ($rxb B); nft to LAN $up ($upb B), from LAN $down ($downb B)"
	[ "$held" = "$n" ] || fail "$held of $n sessions held" || return 1
	[ "$rep" = "$n" ] || fail "the sink reported $rep of $n sessions" || return 1
	[ "$tx" = $((n * pk)) ] || fail "expected $((n * pk)) datagrams sent: $seen" || return 1
	# client -> LAN: what the bench sent crossed the TUN and reached the sink.
	[ "$up" = "$tx" ] && [ "$upb" = "$txb" ] || fail "client->LAN over the TUN: $seen" || return 1
	[ "$srx" = "$tx" ] && [ "$srxb" = "$txb" ] || fail "the sink's count differs: $seen" || return 1
	# LAN -> client: every echo crossed the TUN back and reached its session.
	[ "$down" = "$stx" ] && [ "$rx" = "$stx" ] && [ "$rxb" = "$downb" ] || fail "LAN->client over the TUN: $seen" || return 1
	# The sink's own totals (printed when it stopped) agree with its reports.
	grep -q "rx $tx packets $txb bytes, echoed $stx packets" "$RUN/sink.log" ||
		fail "sink totals: $(tail -n 1 "$RUN/sink.log"); $seen" || return 1
}

# Three sessions over DTLS: each set up its DTLS channel before counting
# as held (a session that did not would fail at stage "dtls").
test_bench_traffic_dtls() {
	bench_traffic_check 3 300 || return 1
	jq -e '.traffic.transport == "dtls" and .failed.dtls == 0' <<<"$(bench_json "$RUN/bench-traffic.out")" >/dev/null ||
		fail "not over DTLS" || return 1
	# The datagrams went to the server over UDP 443 (DTLS records).
	local u
	u=$(nft_count udp)
	[ "${u:-0}" -ge 900 ] || fail "only ${u:-0} UDP datagrams to port 443 for 900 data packets" || return 1
}

# Two sessions over CSTP (--cstp): the same counts through the TLS stream.
test_bench_traffic_cstp() {
	bench_traffic_check 2 200 --cstp || return 1
	jq -e '.traffic.transport == "cstp"' <<<"$(bench_json "$RUN/bench-traffic.out")" >/dev/null ||
		fail "not over CSTP" || return 1
	[ "$(nft_count udp)" = 0 ] || fail "$(nft_count udp) UDP datagrams to port 443 with --cstp" || return 1
}
