# Legacy DTLS (sourced by run.sh): openconnect told to offer only the suites
# Cisco's clients offer (--dtls-ciphers), no PSK-NEGOTIATE. The server answers
# with X-DTLS-Session-ID and a suite, and the client resumes that session
# over UDP with the master secret it sent (core/dtls_legacy.c).

WOLFGUARD_TESTS+=(dtls_legacy_aes256_gcm dtls_legacy_aes128_gcm dtls_legacy_aes256_sha dtls_legacy_aes128_sha
	dtls_legacy_psk_preferred dtls_legacy_off dtls_legacy_reconnect)

# The suite openconnect (GnuTLS) names once DTLS is up.
legacy_client_suite() { # TAG
	sed -n 's/.*Established DTLS connection (using GnuTLS)\. Ciphersuite \(.*\)\.$/\1/p' "$(client_log "$1")" | tail -n 1
}

# legacy_dtls_up CIPHERS WANT: connects alice offering only CIPHERS, waits
# for DTLS, checks the client names WANT (a grep -E pattern) and that the
# server logged the legacy suite; then iperf3 both ways must go over UDP.
legacy_dtls_up() {
	local ciphers=$1 want=$2 suite tcp0 udp0 tcp1 udp1
	start_server || return 1
	nft_setup || fail "nft setup failed" || return 1
	connect_or_fail alice secret1 -- --dtls-ciphers="$ciphers" || return 1
	client_wait_dtls alice 15 || fail "no DTLS with --dtls-ciphers=$ciphers: $(grep -i dtls "$(client_log alice)" | tail -n 3 | tr '\n' ' ')" || return 1
	suite=$(legacy_client_suite alice)
	echo "   --dtls-ciphers=$ciphers: the client reports $suite"
	echo "$suite" | grep -Eq "$want" || fail "client suite '$suite', want $want" || return 1
	grep -q "DTLS offered: $ciphers" "$RUN/server.log" || fail "the server did not log the legacy offer" || return 1
	tcp0=$(nft_count tcp) udp0=$(nft_count udp)
	iperf_both "legacy DTLS iperf3" || return 1
	tcp1=$(nft_count tcp) udp1=$(nft_count udp)
	echo "   packets to port 443 during the transfer: udp $((udp1 - udp0)), tcp $((tcp1 - tcp0))"
	[ $((udp1 - udp0)) -ge 1000 ] && [ $((tcp1 - tcp0)) -lt 200 ] ||
		fail "data did not go over DTLS: udp $((udp1 - udp0)) tcp $((tcp1 - tcp0)) packets" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "tunnel gone after the transfer" || return 1
}

test_dtls_legacy_aes256_gcm() { legacy_dtls_up OC-DTLS1_2-AES256-GCM '^\(DTLS1\.2\)-\(RSA\)-\(AES-256-GCM\)$'; }
test_dtls_legacy_aes128_gcm() { legacy_dtls_up OC-DTLS1_2-AES128-GCM '^\(DTLS1\.2\)-\(RSA\)-\(AES-128-GCM\)$'; }
