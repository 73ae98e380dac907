# Legacy DTLS (sourced by run.sh): openconnect told to offer only the suites
# Cisco's clients offer (--dtls-ciphers), no PSK-NEGOTIATE. The server answers
# with X-DTLS-Session-ID and a suite, and the client resumes that session
# over UDP with the master secret it sent (core/dtls_legacy.c).

WOLFGUARD_TESTS+=(dtls_legacy_aes256_gcm dtls_legacy_aes128_gcm dtls_legacy_aes256_sha dtls_legacy_aes128_sha
	dtls_legacy_psk_preferred dtls_legacy_off dtls_legacy_reconnect dtls_legacy_vs_ocserv
	dtls_legacy_cisco_headers dtls_legacy_workers)

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
	client_wait_dtls alice || fail "no DTLS with --dtls-ciphers=$ciphers: $(grep -i dtls "$(client_log alice)" | tail -n 3 | tr '\n' ' ')" || return 1
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

# legacy_dtls_refused CIPHERS: openconnect offering only Cisco's pre-standard
# DTLS 0.9 suites. wolfSSL speaks DTLS 1.0 and later only, so the server
# answers with no X-DTLS-* header at all: the client does not try UDP, the
# tunnel comes up at once over TLS and carries everything.
legacy_dtls_refused() {
	local ciphers=$1 start took tcp0 udp0 tcp1 udp1
	start_server || return 1
	nft_setup || fail "nft setup failed" || return 1
	start=$(date +%s)
	connect_or_fail alice secret1 -- --dtls-ciphers="$ciphers" || return 1
	took=$(($(date +%s) - start))
	echo "   --dtls-ciphers=$ciphers: tunnel up over TLS after ${took}s"
	grep -q "only pre-standard DTLS 0.9 suites ($ciphers" "$RUN/server.log" ||
		fail "the server did not log why it gave no DTLS" || return 1
	! grep -q "^X-DTLS-" "$(client_log alice)" || fail "the server still sent X-DTLS headers" || return 1
	! grep -q "Established DTLS connection" "$(client_log alice)" || fail "DTLS came up with a DTLS 0.9 suite?" || return 1
	echo "   the client says: $(grep -iE "dtls" "$(client_log alice)" | tail -n 2 | tr '\n' ' ')"
	tcp0=$(nft_count tcp) udp0=$(nft_count udp)
	iperf_both "CSTP iperf3" || return 1
	tcp1=$(nft_count tcp) udp1=$(nft_count udp)
	echo "   packets to port 443 during the transfer: udp $((udp1 - udp0)), tcp $((tcp1 - tcp0))"
	[ $((udp1 - udp0)) -lt 10 ] && [ $((tcp1 - tcp0)) -ge 1000 ] ||
		fail "data did not go over TLS: udp $((udp1 - udp0)) tcp $((tcp1 - tcp0)) packets" || return 1
}

test_dtls_legacy_aes256_sha() { legacy_dtls_refused AES256-SHA; }
test_dtls_legacy_aes128_sha() { legacy_dtls_refused AES128-SHA; }

# PSK-NEGOTIATE stays the choice whenever it is offered: openconnect's
# default list (PSK-NEGOTIATE first, then the OC-DTLS1_2 suites) and a list
# with it last.
test_dtls_legacy_psk_preferred() {
	start_server || return 1
	connect_or_fail alice secret1 || return 1
	client_wait_dtls alice || fail "no DTLS with the default cipher list" || return 1
	grep -q "^X-DTLS-CipherSuite: PSK-NEGOTIATE" "$(client_log alice)" || fail "default list: no PSK-NEGOTIATE answer" || return 1
	[ "$(legacy_client_suite alice)" = "(DTLS1.2)-(PSK)-(AES-256-GCM)" ] ||
		fail "default list: the client reports $(legacy_client_suite alice)" || return 1
	! grep -q "^X-DTLS-Session-ID" "$(client_log alice)" || fail "X-DTLS-Session-ID sent with PSK-NEGOTIATE" || return 1
	client_disconnect alice
	connect_or_fail alice secret1 --tag last -- --dtls-ciphers=OC-DTLS1_2-AES256-GCM:AES256-SHA:PSK-NEGOTIATE || return 1
	client_wait_dtls last || fail "no DTLS with PSK-NEGOTIATE last" || return 1
	echo "   default list: $(legacy_client_suite alice); PSK-NEGOTIATE last: $(legacy_client_suite last)"
	[ "$(legacy_client_suite last)" = "(DTLS1.2)-(PSK)-(AES-256-GCM)" ] ||
		fail "PSK-NEGOTIATE last: the client reports $(legacy_client_suite last)" || return 1
}

# "dtls-legacy": false (an option of the transport-dtls plugin) turns it
# off: the same client gets TLS only, at once, and the server says why.
test_dtls_legacy_off() {
	wolfguard_conf false
	local f=$RUN/conf.d/40-transport-dtls.json
	jq '.options["dtls-legacy"] = false' "$f" >"$f.new" && mv "$f.new" "$f"
	server_start_wolfguard || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
	connect_or_fail alice secret1 -- --dtls-ciphers=OC-DTLS1_2-AES256-GCM || return 1
	grep -q "offers legacy DTLS (OC-DTLS1_2-AES256-GCM) only; dtls-legacy is off" "$RUN/server.log" ||
		fail "the server did not log that legacy DTLS is off" || return 1
	grep -q "DTLS disabled" "$(client_log alice)" || fail "the client did not run without DTLS" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping over TLS" || return 1
}

# A reconnect with the session cookie (openconnect --cookie after a
# disconnect that keeps the session) brings legacy DTLS back, with a new
# master secret and a new session id, from a new UDP port.
test_dtls_legacy_reconnect() {
	start_server || return 1
	nft_setup || fail "nft setup failed" || return 1
	local out cookie id1 id2 udp0 udp1
	out=$(in_ns "$NS_CLI" timeout 20 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "https://$SRV_ADDR/" <<<secret1 2>"$RUN/authenticate.log")
	cookie=$(printf '%s\n' "$out" | sed -n "s/^COOKIE='\(.*\)'$/\1/p")
	[ -n "$cookie" ] || fail "--authenticate printed no COOKIE" || return 1
	connect_or_fail alice - --cookie "$cookie" -- --dtls-ciphers=OC-DTLS1_2-AES256-GCM || return 1
	client_wait_dtls alice || fail "no legacy DTLS on the first connect" || return 1
	id1=$(sed -n 's/^X-DTLS-Session-ID: //p' "$(client_log alice)" | tail -n 1)
	client_disconnect alice --keep-session
	connect_or_fail alice - --cookie "$cookie" --tag again -- --dtls-ciphers=OC-DTLS1_2-AES256-GCM || return 1
	client_wait_dtls again || fail "no legacy DTLS after the reconnect" || return 1
	id2=$(sed -n 's/^X-DTLS-Session-ID: //p' "$(client_log again)" | tail -n 1)
	echo "   session ids: ${id1:0:16}... then ${id2:0:16}..., client reports $(legacy_client_suite again)"
	[ -n "$id1" ] && [ -n "$id2" ] && [ "$id1" != "$id2" ] || fail "session id not renewed: '$id1' '$id2'" || return 1
	[ "$(grep -c "channel up from" "$RUN/server.log")" -ge 2 ] || fail "the server saw no second DTLS link" || return 1
	udp0=$(nft_count udp)
	in_ns "$NS_CLI" ping -c 20 -i 0.05 -W 2 "$LAN_ADDR" >/dev/null 2>&1 || fail "no ping after the reconnect" || return 1
	udp1=$(nft_count udp)
	[ $((udp1 - udp0)) -ge 20 ] || fail "the pings did not go over UDP ($((udp1 - udp0)) datagrams)" || return 1
}

# The same four client settings against Debian's ocserv in the same lab, then
# against wolfguard: what each server negotiates (printed as a table). The
# AES-GCM suites must match; for the DTLS 0.9 ones ocserv speaks DTLS 0.9
# and wolfguard answers with TLS only (wolfSSL has no DTLS 0.9).
legacy_negotiated() { # KIND CIPHERS -> the client's DTLS suite, or "none (TLS only)"
	local kind=$1 ciphers=$2 suite
	server_start "$kind" >/dev/null 2>&1 || { echo "server did not start"; return; }
	# Either outcome is a line of openconnect's: DTLS up, or the server
	# offered none ("... SSL connected and DTLS disabled").
	if client_connect alice secret1 --tag "cmp" -- --dtls-ciphers="$ciphers" &&
		wait_for 60 grep -qE "Established DTLS connection|DTLS disabled" "$RUN/client-cmp.log" &&
		grep -q "Established DTLS connection" "$RUN/client-cmp.log"; then
		suite=$(legacy_client_suite cmp)
	fi
	echo "${suite:-none (TLS only)}"
	client_disconnect cmp
	server_stop
}

test_dtls_legacy_vs_ocserv() {
	command -v ocserv >/dev/null || fail "ocserv is not installed" || return 1
	local c oc wg bad=0
	printf '   %-24s %-40s %s\n' "--dtls-ciphers" "ocserv $(ocserv --version 2>&1 | awk 'NR == 1 {print $NF}')" "wolfguard"
	for c in OC-DTLS1_2-AES256-GCM OC-DTLS1_2-AES128-GCM AES256-SHA AES128-SHA; do
		oc=$(legacy_negotiated ocserv "$c")
		wg=$(legacy_negotiated wolfguard "$c")
		printf '   %-24s %-40s %s\n' "$c" "$oc" "$wg"
		case "$c" in
		OC-DTLS1_2-*) [ "$oc" = "$wg" ] && [ "${wg#(DTLS1.2)}" != "$wg" ] || bad=1 ;;
		*) [ "${oc#(DTLS0.9)}" != "$oc" ] && [ "$wg" = "none (TLS only)" ] || bad=1 ;;
		esac
	done
	[ $bad = 0 ] || fail "the servers negotiate other than expected (table above)" || return 1
	# run.sh checks that a server is alive after the test.
	start_server || return 1
}

# The answer to what AnyConnect sends (openconnect cannot be made to send
# X-DTLS12-CipherSuite without PSK-NEGOTIATE): a CONNECT from a small client
# (dtls_legacy_connect.py) with Cisco's two lists. The DTLS 1.2 list wins
# (its best suite by the server's order, AES256-GCM-SHA384) and is answered
# in its own header; a bad master secret gets no DTLS;
# PSK-NEGOTIATE in the DTLS 1.2 list still wins. What ocserv answers to the
# first request is printed beside it.
LEGACY_CONNECT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/dtls_legacy_connect.py

legacy_connect() { # OUTFILE args...: runs dtls_legacy_connect.py as alice from the client namespace
	local out=$1
	shift
	in_ns "$NS_CLI" timeout 30 python3 "$LEGACY_CONNECT" --host "$SRV_ADDR" --user alice --password secret1 "$@" \
		>"$out" 2>&1
}

test_dtls_legacy_cisco_headers() {
	local c12="ECDHE-RSA-AES256-GCM-SHA384:AES256-GCM-SHA384:AES256-SHA:AES128-SHA"
	local c="AES256-SHA:AES128-SHA:DES-CBC3-SHA" out=$RUN/legacy-connect.out
	command -v ocserv >/dev/null && {
		server_start ocserv >/dev/null 2>&1 && legacy_connect "$RUN/ocserv-connect.out" --suites "$c" --suites12 "$c12"
		echo "   ocserv answers Cisco's lists with: $(grep -i '^x-dtls.*ciphersuite' "$RUN/ocserv-connect.out" | tr '\n' ' ')"
		server_stop
	}
	start_server || return 1
	legacy_connect "$out" --suites "$c" --suites12 "$c12" || fail "CONNECT failed: $(tail -n 2 "$out" | tr '\n' ' ')" || return 1
	echo "   wolfguard answers Cisco's lists with: $(grep -i '^x-dtls.*ciphersuite' "$out" | tr '\n' ' ')"
	grep -qx "status: 200" "$out" || fail "status: $(head -n 1 "$out")" || return 1
	grep -qx "x-dtls12-ciphersuite: AES256-GCM-SHA384" "$out" ||
		fail "no X-DTLS12-CipherSuite answer with the best DTLS 1.2 suite: $(tr '\n' ' ' <"$out")" || return 1
	! grep -q "^x-dtls-ciphersuite:" "$out" || fail "X-DTLS-CipherSuite answered too" || return 1
	grep -qE "^x-dtls-session-id: [0-9A-Fa-f]{64}$" "$out" || fail "no 64-digit X-DTLS-Session-ID" || return 1
	! grep -q "^x-dtls-app-id:" "$out" || fail "X-DTLS-App-ID in a legacy answer" || return 1
	grep -qx "x-dtls-port: 443" "$out" || fail "no X-DTLS-Port" || return 1

	legacy_connect "$out" --master 00 --suites OC-DTLS1_2-AES256-GCM || fail "CONNECT failed" || return 1
	grep -qx "status: 200" "$out" && ! grep -q "^x-dtls" "$out" ||
		fail "a bad master secret still got DTLS: $(tr '\n' ' ' <"$out")" || return 1

	legacy_connect "$out" --suites "$c" --suites12 "AES256-GCM-SHA384:PSK-NEGOTIATE" || fail "CONNECT failed" || return 1
	grep -qx "x-dtls-ciphersuite: PSK-NEGOTIATE" "$out" && ! grep -q "^x-dtls-session-id" "$out" ||
		fail "PSK-NEGOTIATE in the DTLS 1.2 list did not win: $(tr '\n' ' ' <"$out")" || return 1

	# 1500 tokens of junk (about 10 KB, under the 16 KB header cap), then a good
	# name: the list is read to its end.
	local junk
	junk=$(printf 'Z%d:' $(seq 1 1500))
	legacy_connect "$out" --suites "${junk}::OC-DTLS1_2-AES128-GCM" || fail "long list: CONNECT failed" || return 1
	grep -qx "x-dtls-ciphersuite: OC-DTLS1_2-AES128-GCM" "$out" ||
		fail "long list: not answered with the good name at its end: $(tr '\n' ' ' <"$out" | cut -c1-200)" || return 1
}

# Two worker processes ("workers": 2, tests-workers.sh): alice and bob land
# on different workers, and each worker's DTLS server resumes its own
# client's legacy session.
test_dtls_legacy_workers() {
	declare -F workers_conf >/dev/null || fail "tests-workers.sh is not loaded" || return 1
	[ "$(worker_of "$CLI_ADDR" 2)" != "$(worker_of "$CLI2_ADDR" 2)" ] || fail "test set-up: same worker" || return 1
	workers_conf 2
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	connect_or_fail alice secret1 -- --dtls-ciphers=OC-DTLS1_2-AES256-GCM || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" -- --dtls-ciphers=OC-DTLS1_2-AES128-GCM || return 1
	client_wait_dtls alice || fail "alice: no legacy DTLS" || return 1
	client_wait_dtls bob || fail "bob: no legacy DTLS" || return 1
	echo "   alice: $(legacy_client_suite alice), bob: $(legacy_client_suite bob)"
	[ "$(legacy_client_suite alice)" = "(DTLS1.2)-(RSA)-(AES-256-GCM)" ] &&
		[ "$(legacy_client_suite bob)" = "(DTLS1.2)-(RSA)-(AES-128-GCM)" ] || fail "suites not as offered" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" && ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "no ping to the LAN" || return 1
}
