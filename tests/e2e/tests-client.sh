# shellcheck shell=bash
# shellcheck disable=SC2004,SC2034,SC2154 # CLIENT_PID and CLIENT_NS are lib.sh's associative arrays
# wolfguard-client (tools/client, docs/client.md) in the lab, against
# wolfguard and against Debian's ocserv. Sourced by run.sh (which defines
# fail, start_server, ...). The client runs in the client namespace like
# openconnect does in the common tests, with the lab's client-script.sh as
# its vpnc-script (it records the environment in env-TAG), except
# client_vpnc_script, which runs Debian's vpnc-script unchanged.

WOLFGUARD_TESTS+=(client_login client_dtls_iperf client_cstp_udp_blocked client_cookie_reconnect
	client_wrong_pin client_wrong_password client_authenticate_cookie client_vpnc_script client_ocserv
	client_ocserv_udp_blocked client_cert_login)

wgc_bin() { echo "${WOLFGUARD_CLIENT_BIN:-$(dirname "$(wolfguard_bin)")/../tools/client/wolfguard-client}"; }

# wgc_connect TAG USER PASS [client-args...]: starts wolfguard-client in
# $NS_CLI (password on stdin, the lab pin, tun-TAG, log client-TAG.log) and
# waits, at most CONNECT_TIMEOUT s, until the script configured tun-TAG with
# the address the server gave. 0 then, 1 if the client gave up (it may
# still run: client_exit_code). PASS "-" with --cookie-on-stdin reads
# $WGC_COOKIE instead.
wgc_connect() {
	local tag=$1 user=$2 pass=$3 pid addr input auth=(--passwd-on-stdin)
	shift 3
	input=$pass
	[ "$pass" = - ] && input=$WGC_COOKIE auth=()
	rm -f "$RUN/env-$tag" "$RUN/events-$tag"
	LAB_RUN_DIR=$RUN ip netns exec "$NS_CLI" "$(wgc_bin)" --non-inter -u "$user" --servercert "$PIN" \
		--interface "tun-$tag" --script "$E2E_DIR/client-script.sh" --reconnect-timeout 60 -v \
		"${auth[@]}" "$@" "$SRV_ADDR" \
		<<<"$input" >"$RUN/client-$tag.log" 2>&1 &
	pid=$!
	CLIENT_PID[$tag]=$pid
	CLIENT_NS[$tag]=$NS_CLI
	local end=$(($(now_us) + CONNECT_TIMEOUT * 1000000))
	while [ "$(now_us)" -lt "$end" ]; do
		if [ -s "$RUN/env-$tag" ]; then
			addr=$(client_env "$tag" INTERNAL_IP4_ADDRESS)
			[ -n "$addr" ] && ip -n "$NS_CLI" -4 addr show dev "tun-$tag" 2>/dev/null | grep -q "inet $addr/" && return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

wgc_connect_or_fail() { # TAG USER PASS [args...]
	wgc_connect "$@" && return 0
	fail "wolfguard-client got no tunnel: $(grep -v '^$' "$(client_log "$1")" | tail -n 3 | tr '\n' ' ')"
}

# wgc_end TAG: logs the client off and fails if it reported a sanitizer
# finding (a sanitizer build prints leaks when it exits).
wgc_end() {
	client_disconnect "$1"
	wgc_no_sanitizer "$1"
}
wgc_no_sanitizer() {
	! grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$(client_log "$1")" ||
		fail "sanitizer report from wolfguard-client: $(grep -m1 -A8 -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$(client_log "$1")")"
}

wgc_log_has() { grep -q -- "$2" "$(client_log "$1")"; } # TAG TEXT

# Moves MB MiB each way (iperf3 through the tunnel); fails unless both complete.
wgc_iperf() { # label MB
	local up down
	up=$(iperf_volume "$NS_CLI" "$2")
	down=$(iperf_volume "$NS_CLI" "$2" -R)
	echo "   $1: $2 MiB each way: client->LAN ${up:-failed} Mbit/s, LAN->client ${down:-failed} Mbit/s"
	[ -n "$up" ] && [ -n "$down" ] || fail "$1: iperf3 transfer of $2 MiB did not complete" || return 1
}

# The client's established TCP connections to the server, killed from the
# server's side (ss -K: the server's kernel aborts them and sends a reset).
cut_tcp() {
	in_ns "$NS_SRV" ss -K -tn state established "( sport = :443 and dst $CLI_ADDR )" >/dev/null 2>&1
}
# Bytes to port 443 (nft counters of nft_setup): packet counts depend on
# segmentation offloads, bytes do not.
nft_bytes() { in_ns "$NS_SRV" nft list counter inet lab "${1}443" 2>/dev/null | awk '/bytes/ {for (i = 1; i < NF; i++) if ($i == "bytes") {print $(i + 1); exit}}'; }
# bytes_grew PROTO FROM MIN: the counter passed FROM + MIN. The checks ask
# for half the volume iperf3 sent up: its sender ends when the data is in
# the socket buffer, and the one-shot server's exit may cut the rest.
bytes_grew() { [ "$(nft_bytes "$1")" -ge $(($2 + $3)) ]; }
tcp_conns() { in_ns "$NS_CLI" ss -Htn state established "( dport = :443 )" | wc -l; }

# Password login: the pushed configuration arrives in openconnect's
# variables, traffic flows, and SIGINT logs off (script called with
# disconnect; the server ends the session).
test_client_login() {
	start_server || return 1
	wgc_connect_or_fail alice alice secret1 || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping reply from $LAN_ADDR through the tunnel" || return 1
	local a v
	a=$(client_env alice INTERNAL_IP4_ADDRESS)
	address_in_pool "$a" || fail "address '$a' not in the pool" || return 1
	for v in "VPNGATEWAY=$SRV_ADDR" "TUNDEV=tun-alice" "INTERNAL_IP4_DNS=$PUSHED_DNS" "CISCO_SPLIT_DNS=$PUSHED_SPLIT_DNS" \
		"CISCO_SPLIT_INC=1" "CISCO_SPLIT_INC_0_ADDR=${PUSHED_ROUTE%/*}" "CISCO_SPLIT_INC_0_MASKLEN=24" \
		"CISCO_SPLIT_INC_0_MASK=255.255.255.0" "reason=connect"; do
		grep -qx -- "$v" "$RUN/env-alice" || fail "the script did not get $v: $(tr '\n' ' ' <"$RUN/env-alice")" || return 1
	done
	ping_ok "$NS_LAN" "$a" || fail "LAN host cannot reach the client at $a" || return 1
	wgc_end alice || return 1
	[ "$(tr '\n' ' ' <"$RUN/events-alice")" = "pre-init connect disconnect " ] ||
		fail "script reasons: $(tr '\n' ' ' <"$RUN/events-alice"), want pre-init connect disconnect" || return 1
	wait_for 10 grep -q "client disconnected" "$RUN/server.log" || fail "the server did not see a logoff" || return 1
}

# DTLS (PSK-NEGOTIATE) comes up and carries the data: the UDP 443 counter
# grows with the transfer while TCP 443 stays quiet.
test_client_dtls_iperf() {
	start_server || return 1
	nft_setup || fail "nft setup failed" || return 1
	wgc_connect_or_fail alice alice secret1 || return 1
	wait_for 30 wgc_log_has alice "DTLS up" || fail "no DTLS: $(grep -i dtls "$(client_log alice)" | tail -n 2 | tr '\n' ' ')" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping over DTLS" || return 1
	local tcp0 udp0 tcp1 udp1
	tcp0=$(nft_bytes tcp) udp0=$(nft_bytes udp)
	wgc_iperf "wolfguard-client DTLS iperf3" 16 || return 1
	wait_for 30 bytes_grew udp "$udp0" $((8 << 20))
	tcp1=$(nft_bytes tcp) udp1=$(nft_bytes udp)
	echo "   bytes to port 443 during the transfer: udp $((udp1 - udp0)), tcp $((tcp1 - tcp0))"
	# 16 MiB went up: over UDP; TCP carries keepalives at most.
	[ $((udp1 - udp0)) -ge $((8 << 20)) ] && [ $((tcp1 - tcp0)) -lt $((1 << 20)) ] ||
		fail "data did not go over DTLS: udp $((udp1 - udp0)) tcp $((tcp1 - tcp0)) bytes" || return 1
	grep -q "DTLS.*PSK" "$(client_log alice)" || fail "DTLS suite is not PSK" || return 1
	wgc_end alice
}

# UDP 443 dropped: the DTLS handshake gets no answer, the client says so
# and the data goes over CSTP.
test_client_cstp_udp_blocked() {
	start_server || return 1
	nft_setup block-udp || fail "nft setup failed" || return 1
	wgc_connect_or_fail alice alice secret1 || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping over CSTP" || return 1
	wait_for 60 wgc_log_has alice "DTLS failed" || fail "the client did not give up on DTLS" || return 1
	local tcp0 tcp1
	tcp0=$(nft_bytes tcp)
	wgc_iperf "wolfguard-client CSTP (UDP blocked) iperf3" 8 || return 1
	wait_for 30 bytes_grew tcp "$tcp0" $((4 << 20))
	tcp1=$(nft_bytes tcp)
	[ $((tcp1 - tcp0)) -ge $((4 << 20)) ] || fail "only $((tcp1 - tcp0)) TCP bytes for 8 MiB up" || return 1
	[ "$(nft_count udp)" -ge 1 ] || fail "the client never tried DTLS, so the test proves nothing" || return 1
	! wgc_log_has alice "DTLS up" || fail "DTLS came up although UDP is blocked" || return 1
	wgc_end alice
}

# The TLS connection is cut (reset from the server's side): the client
# resumes the session with its cookie on a new connection, keeps its
# address and TUN device, and traffic flows again.
test_client_cookie_reconnect() {
	start_server || return 1
	wgc_connect_or_fail alice alice secret1 || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping before the cut" || return 1
	local a1 a2
	a1=$(client_env alice INTERNAL_IP4_ADDRESS)
	cut_tcp || fail "ss -K could not cut the connection (kernel without INET_DIAG_DESTROY?)" || return 1
	# The reset reaches the client at once, or with its next keepalive.
	wait_for 60 wgc_log_has alice "reconnected: address" ||
		fail "no reconnect: $(tail -n 3 "$(client_log alice)" | tr '\n' ' ')" || return 1
	a2=$(sed -n 's/.*reconnected: address \([0-9.]*\).*/\1/p' "$(client_log alice)" | tail -n 1)
	[ "$a1" = "$a2" ] || fail "address changed on reconnect: $a1 -> $a2" || return 1
	grep -qx attempt-reconnect "$RUN/events-alice" && grep -qx reconnect "$RUN/events-alice" ||
		fail "script reasons: $(tr '\n' ' ' <"$RUN/events-alice")" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic after the reconnect" || return 1
	ip -n "$NS_CLI" link show tun-alice >/dev/null 2>&1 || fail "tun-alice is gone" || return 1
	[ "$(tcp_conns)" = 1 ] || fail "$(tcp_conns) TCP connections to the server after the reconnect" || return 1
	wgc_end alice
}

# A pin that is not the server's: refused with a message naming both pins,
# non-zero exit, no device, nothing sent to the login.
test_client_wrong_pin() {
	start_server || return 1
	local right=$PIN
	PIN=$(pin_of "$RUN/server-rsa.key")
	if wgc_connect pin alice secret1; then PIN=$right; fail "a wrong pin was accepted"; return 1; fi
	PIN=$right
	[ "$(client_exit_code pin)" != 0 ] || fail "exit status 0 with a wrong pin" || return 1
	wgc_no_sanitizer pin || return 1
	wgc_log_has pin "does not match --servercert: the server's key is $right" ||
		fail "no clear refusal: $(tail -n 2 "$(client_log pin)" | tr '\n' ' ')" || return 1
	! ip -n "$NS_CLI" link show tun-pin >/dev/null 2>&1 || fail "tun-pin exists" || return 1
	! grep -q 'alice' "$RUN/server.log" || fail "the client logged in anyway" || return 1
}

test_client_wrong_password() {
	start_server || return 1
	if wgc_connect alice alice wrong-password; then fail "a wrong password got a tunnel"; return 1; fi
	[ "$(client_exit_code alice)" != 0 ] || fail "exit status 0 after a wrong password" || return 1
	wgc_no_sanitizer alice || return 1
	wgc_log_has alice "login failed" || fail "no login failure message: $(tail -n 2 "$(client_log alice)" | tr '\n' ' ')" || return 1
	[ ! -e "$RUN/env-alice" ] || fail "the script was called for connect" || return 1
}

# --authenticate prints the cookie (as openconnect does); a client started
# with it on stdin gets the session without a password; after a SIGHUP
# (disconnect, session kept) the cookie works again.
test_client_authenticate_cookie() {
	start_server || return 1
	local out
	out=$(in_ns "$NS_CLI" timeout 60 "$(wgc_bin)" --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "$SRV_ADDR" <<<secret1 2>"$RUN/authenticate.log")
	WGC_COOKIE=$(printf '%s\n' "$out" | sed -n "s/^COOKIE='\(.*\)'$/\1/p")
	[ -n "$WGC_COOKIE" ] || fail "--authenticate printed no COOKIE: $(tail -n 2 "$RUN/authenticate.log" | tr '\n' ' ')" || return 1
	printf '%s\n' "$out" | grep -qx "FINGERPRINT='$PIN'" || fail "FINGERPRINT is not the pin: $out" || return 1
	wgc_connect_or_fail alice alice - --cookie-on-stdin || return 1
	local a1
	a1=$(client_env alice INTERNAL_IP4_ADDRESS)
	client_disconnect alice --keep-session
	wgc_connect_or_fail alice alice - --cookie-on-stdin || return 1
	[ "$(client_env alice INTERNAL_IP4_ADDRESS)" = "$a1" ] || fail "address changed with the same cookie" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic with the cookie" || return 1
	wgc_end alice
}

# Debian's vpnc-script, unchanged, configures the device, the pushed route
# and DNS, and restores resolv.conf on disconnect. It runs in a private
# mount namespace where /etc/resolv.conf is a lab file and /run a tmpfs, so
# nothing outside the lab changes.
test_client_vpnc_script() {
	local script=/usr/share/vpnc-scripts/vpnc-script
	[ -x "$script" ] || fail "$script missing (Debian package vpnc-scripts; scripts/deps.sh installs it)" || return 1
	start_server || return 1
	printf 'nameserver 192.0.2.53\n' >"$RUN/resolv.conf"
	cp "$RUN/resolv.conf" "$RUN/resolv.conf.orig"
	# shellcheck disable=SC2016 # the inner shell expands $1 and $@
	ip netns exec "$NS_CLI" unshare -m --propagation private sh -c '
		mount --bind "$1" /etc/resolv.conf && mount -t tmpfs lab /run || exit 1
		shift
		exec "$@"' sh "$RUN/resolv.conf" "$(wgc_bin)" --non-inter -u alice --passwd-on-stdin --servercert "$PIN" \
		--interface tun-vs --script "$script" -v "$SRV_ADDR" <<<secret1 >"$RUN/client-vs.log" 2>&1 &
	CLIENT_PID[vs]=$!
	CLIENT_NS[vs]=$NS_CLI
	wait_for "$CONNECT_TIMEOUT" sh -c "ip -n $NS_CLI -4 addr show dev tun-vs 2>/dev/null | grep -q 'inet 10\.8\.0\.'" ||
		fail "no address on tun-vs: $(tail -n 3 "$RUN/client-vs.log" | tr '\n' ' ')" || return 1
	wait_for 20 sh -c "ip -n $NS_CLI route show $PUSHED_ROUTE | grep -q 'dev tun-vs'" ||
		fail "no route to $PUSHED_ROUTE via tun-vs: $(ip -n "$NS_CLI" route | tr '\n' ';')" || return 1
	wait_for 20 grep -q "nameserver $PUSHED_DNS" "$RUN/resolv.conf" ||
		fail "resolv.conf not updated: $(tr '\n' ' ' <"$RUN/resolv.conf")" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping through the tunnel" || return 1
	wgc_end vs || return 1
	cmp -s "$RUN/resolv.conf" "$RUN/resolv.conf.orig" || fail "resolv.conf not restored: $(tr '\n' ' ' <"$RUN/resolv.conf")" || return 1
}

# Against Debian's ocserv (a plain OpenConnect server): login, DTLS up,
# ping and iperf3 over it, and a reconnect with the cookie after the TCP
# connection is cut.
test_client_ocserv() {
	command -v ocserv >/dev/null || fail "ocserv is not installed" || return 1
	server_start ocserv || fail "ocserv did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
	nft_setup || fail "nft setup failed" || return 1
	wgc_connect_or_fail alice alice secret1 || return 1
	wait_for 30 wgc_log_has alice "DTLS up" || fail "no DTLS with ocserv: $(grep -i dtls "$(client_log alice)" | tail -n 2 | tr '\n' ' ')" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping through ocserv" || return 1
	local udp0 udp1 a1
	udp0=$(nft_bytes udp)
	wgc_iperf "wolfguard-client vs ocserv (DTLS) iperf3" 8 || return 1
	wait_for 30 bytes_grew udp "$udp0" $((4 << 20))
	udp1=$(nft_bytes udp)
	[ $((udp1 - udp0)) -ge $((4 << 20)) ] || fail "only $((udp1 - udp0)) UDP bytes for 8 MiB up: not over DTLS" || return 1
	a1=$(client_env alice INTERNAL_IP4_ADDRESS)
	cut_tcp || fail "ss -K could not cut the connection" || return 1
	wait_for 60 wgc_log_has alice "reconnected: address" ||
		fail "no reconnect to ocserv: $(tail -n 3 "$(client_log alice)" | tr '\n' ' ')" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic after the reconnect" || return 1
	[ "$(sed -n 's/.*reconnected: address \([0-9.]*\).*/\1/p' "$(client_log alice)" | tail -n 1)" = "$a1" ] ||
		fail "ocserv gave another address on reconnect" || return 1
	wgc_end alice
}

# ocserv with UDP 443 dropped: the client gives up on DTLS and carries the
# data over CSTP (ocserv's MTU, pushed for DTLS, must fit CSTP too).
test_client_ocserv_udp_blocked() {
	command -v ocserv >/dev/null || fail "ocserv is not installed" || return 1
	server_start ocserv || fail "ocserv did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
	nft_setup block-udp || fail "nft setup failed" || return 1
	wgc_connect_or_fail alice alice secret1 || return 1
	wait_for 60 wgc_log_has alice "DTLS failed" || fail "the client did not give up on DTLS" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping over CSTP through ocserv" || return 1
	local tcp0 tcp1
	tcp0=$(nft_bytes tcp)
	wgc_iperf "wolfguard-client vs ocserv (UDP blocked) iperf3" 8 || return 1
	wait_for 30 bytes_grew tcp "$tcp0" $((4 << 20))
	tcp1=$(nft_bytes tcp)
	[ $((tcp1 - tcp0)) -ge $((4 << 20)) ] || fail "only $((tcp1 - tcp0)) TCP bytes for 8 MiB up" || return 1
	wgc_end alice
}

# Client certificate login (tests-auth.sh's lab CA and helpers): the
# certificate alone, then the chain certificate + password.
test_client_cert_login() {
	client_cert alice "/CN=alice/OU=engineering" || fail "cannot make a client certificate" || return 1
	start_cert_server || return 1
	wgc_connect_or_fail alice alice unused -c "$RUN/client-alice.crt" -k "$RUN/client-alice.key" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping with a certificate login" || return 1
	grep -q 'session created (group engineering)' "$RUN/server.log" || fail "the server did not log alice's certificate session" || return 1
	wgc_end alice || return 1
	server_stop
	start_cert_server chain || return 1
	if wgc_connect nocert alice secret1; then fail "the chain let a client without a certificate in"; return 1; fi
	wgc_connect_or_fail chain alice secret1 -c "$RUN/client-alice.crt" -k "$RUN/client-alice.key" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping after certificate + password" || return 1
	wgc_end chain
}
