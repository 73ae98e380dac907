# Hostile clients (sourced by run.sh; wolfguard only). Each attack runs from
# the second client namespace with tests/hostile/attack.py while alice's real
# openconnect tunnel pings the LAN host; the test checks that the server is
# still alive, answered the attack as it should, and that alice's traffic
# kept flowing. Measured numbers are printed ("   ..." lines).
#
# Knobs: HOSTILE_LOGINS (failed logins, default 1000), SOAK_SECONDS (default 45),
# SOAK_FD_GROWTH (default 4), SOAK_RSS_KB (default 8192; not applied to
# sanitizer builds, whose allocator keeps freed memory in quarantine).

ATTACK=${ATTACK:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../hostile" && pwd)/attack.py}

attack() { # ns subcommand args...: runs the tool; its RESULT line goes to $RUN/attack.out and stdout
	local ns=$1
	shift
	in_ns "$ns" timeout 180 python3 "$ATTACK" --host "$SRV_ADDR" "$@" >"$RUN/attack.out" 2>"$RUN/attack.err"
	local rc=$?
	grep '^RESULT' "$RUN/attack.out" | sed 's/^RESULT/   result:/'
	return $rc
}

# server_opts '"key": value, ...': adds keys to the server section of a fresh conf.d.
server_opts() {
	wolfguard_conf false
	sed -i "s/{\"server\": {/{\"server\": {$1, /" "$RUN/conf.d/00-server.json"
}

# Background pings from alice's namespace through her tunnel; traffic_check
# waits for them and fails if fewer than 80% got an answer.
traffic_start() { # count
	in_ns "$NS_CLI" ping -n -i 0.2 -W 2 -c "$1" "$LAN_ADDR" >"$RUN/traffic.out" 2>&1 &
	TRAFFIC_PID=$!
}
traffic_check() {
	wait "$TRAFFIC_PID"
	local tx rx
	tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$RUN/traffic.out")
	rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$RUN/traffic.out")
	echo "   legitimate client during the attack: ${rx:-0}/${tx:-0} pings answered"
	[ -n "$tx" ] && [ "${rx:-0}" -ge $((tx * 8 / 10)) ] || fail "legitimate traffic disrupted: ${rx:-0}/${tx:-0} pings"
}

hostile_setup() { # server options
	server_opts "$1"
	server_start "$KIND" false || fail "server did not start: $(tail -n 3 "$RUN/server.log" | tr "\n" " ")" || return 1
	connect_or_fail alice secret1 || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic before the attack"
}

alive_or_fail() {
	server_alive || fail "server died: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
	! grep -q "seccomp: blocked" "$RUN/server.log" || fail "seccomp violation: $(grep -m1 'seccomp: blocked' "$RUN/server.log")"
}

# Slow headers: every connection is cut once its auth-timeout (5 s) passes.
test_hostile_slowloris() {
	hostile_setup '"auth-timeout": 5, "max-unauthenticated": 100' || return 1
	traffic_start 50
	attack "$NS_CLI2" slowloris --n 40 --interval 0.5 --limit 60 || fail "slow connections were not all cut" || return 1
	# Counted from before the 40 connections were opened, so a busy machine
	# adds their set-up time; without auth-timeout they would never be cut.
	local t
	t=$(sed -n 's/.*max_seconds_to_cut=\([0-9.]*\).*/\1/p' "$RUN/attack.out")
	awk -v t="$t" 'BEGIN { exit !(t <= 20) }' || fail "slowloris cut after ${t}s, auth-timeout is 5 s" || return 1
	traffic_check || return 1
	alive_or_fail
}

# Idle TCP connections: beyond max-unauthenticated they are refused at once;
# the rest are cut at auth-timeout.
test_hostile_idle() {
	hostile_setup '"auth-timeout": 5, "max-unauthenticated": 20' || return 1
	traffic_start 50
	# A connection that never starts TLS is cut by the 20 s handshake
	# timeout; one that did, by auth-timeout.
	attack "$NS_CLI2" idle --n 120 --limit 30 --expect-refused 90 ||
		fail "idle connections not bounded: $(cat "$RUN/attack.out")" || return 1
	traffic_check || return 1
	grep -q "max-unauthenticated" "$RUN/server.log" || fail "no refusal logged" || return 1
	alive_or_fail
}

# 431 for oversized headers, 413 for an oversized body.
test_hostile_oversized() {
	hostile_setup '"auth-timeout": 10' || return 1
	traffic_start 20
	attack "$NS_CLI2" big || fail "wrong answers to oversized requests: $(cat "$RUN/attack.out")" || return 1
	traffic_check || return 1
	alive_or_fail
}

# Invalid CSTP frames after a real login and CONNECT (bob's session): bad
# framing (magic, a length past the data) must end the connection; a frame
# whose content is wrong (unknown type, not an IP packet of the session) is
# dropped and the connection may stay.
test_hostile_cstp() {
	hostile_setup '"auth-timeout": 10' || return 1
	traffic_start 40
	attack "$NS_CLI2" cstp --user bob --password secret2 || fail "CSTP attack: $(cat "$RUN/attack.out" "$RUN/attack.err" | tail -n 3)" || return 1
	grep -q "bad_magic=closed" "$RUN/attack.out" && grep -q "huge_length=closed" "$RUN/attack.out" || fail "a malformed frame was not refused: $(cat "$RUN/attack.out")" || return 1
	traffic_check || return 1
	alive_or_fail
}

# CONNECT without a valid cookie.
test_hostile_noauth() {
	hostile_setup '"auth-timeout": 10' || return 1
	attack "$NS_CLI2" noauth || fail "CONNECT without auth not refused: $(cat "$RUN/attack.out")" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice lost traffic" || return 1
	alive_or_fail
}

# Garbage and replayed datagrams to UDP 443 while alice uses DTLS.
test_hostile_dtls() {
	hostile_setup '"auth-timeout": 10' || return 1
	nft_setup || return 1
	traffic_start 75
	attack "$NS_CLI2" dtls-garbage --n 20000 || fail "garbage sender failed" || return 1
	# Capture alice's own DTLS datagrams while she pings, then replay them
	# byte for byte from her address and port.
	attack "$NS_CLI" dtls-replay --iface eth0 --n 40 --times 5 --limit 10 ||
		fail "no DTLS datagram captured to replay: $(cat "$RUN/attack.err" | tail -n 2)" || return 1
	traffic_check || return 1
	local u1 u2
	u1=$(nft_count udp)
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic after the replay" || return 1
	u2=$(nft_count udp)
	echo "   UDP 443 packets for alice's pings after the attack: $((u2 - u1))"
	[ $((u2 - u1)) -gt 0 ] || fail "alice no longer uses DTLS" || return 1
	grep -c "replay\|duplicate" "$RUN/server.log" | sed 's/^/   server log lines about replays: /'
	alive_or_fail
}

# allow-roaming false: a cookie from another client address is refused;
# true (default): accepted.
test_hostile_roaming() {
	local cookie
	server_opts '"allow-roaming": false'
	server_start "$KIND" false || fail "server did not start: $(tail -n 3 "$RUN/server.log" | tr "\n" " ")" || return 1
	cookie=$(in_ns "$NS_CLI2" timeout 60 python3 "$ATTACK" --host "$SRV_ADDR" login-cookie --user bob --password secret2) ||
		fail "login for a cookie failed" || return 1
	attack "$NS_CLI" connect-cookie --cookie "$cookie" --expect 401 || fail "stolen cookie accepted from another address" || return 1
	grep -q "allow-roaming is false" "$RUN/server.log" || fail "refusal not logged" || return 1
	attack "$NS_CLI2" connect-cookie --cookie "$cookie" --expect 200 || fail "cookie refused from its own address" || return 1
	server_stop
	server_opts '"allow-roaming": true'
	server_start "$KIND" false || fail "server did not start: $(tail -n 3 "$RUN/server.log" | tr "\n" " ")" || return 1
	cookie=$(in_ns "$NS_CLI2" timeout 60 python3 "$ATTACK" --host "$SRV_ADDR" login-cookie --user bob --password secret2) ||
		fail "login for a cookie failed" || return 1
	attack "$NS_CLI" connect-cookie --cookie "$cookie" --expect 200 || fail "roaming refused with allow-roaming true" || return 1
	alive_or_fail
}

# Thousands of wrong passwords. With a "ban-failures" server option (the ban
# table), the attacker's address must end up banned while alice's login
# from another address still works.
test_hostile_failed_logins() {
	local n=${HOSTILE_LOGINS:-1000} ban=''
	wolfguard_conf false
	sed -i 's/{"server": {/{"server": {"ban-failures": 20, /' "$RUN/conf.d/00-server.json"
	if WOLFGUARD_PLUGIN_DIR=$(dirname "$(wolfguard_bin)")/../plugins "$(wolfguard_bin)" --check-config "$RUN/conf.d" >/dev/null 2>&1; then
		ban=1
		echo "   server has ban-failures: the ban is asserted"
	fi
	[ -n "$ban" ] || wolfguard_conf false
	server_start "$KIND" false || fail "server did not start: $(tail -n 3 "$RUN/server.log" | tr "\n" " ")" || return 1
	connect_or_fail alice secret1 || return 1
	traffic_start 100
	attack "$NS_CLI2" failed-logins --user bob --password x --n "$n" --threads 8 ||
		fail "a wrong password was accepted: $(cat "$RUN/attack.out")" || return 1
	traffic_check || return 1
	alive_or_fail || return 1
	in_ns "$NS_CLI" timeout 60 python3 "$ATTACK" --host "$SRV_ADDR" login-cookie --user alice --password secret1 >/dev/null ||
		fail "a legitimate login failed after the storm" || return 1
	if [ -n "$ban" ]; then
		! in_ns "$NS_CLI2" timeout 60 python3 "$ATTACK" --host "$SRV_ADDR" login-cookie --user bob --password secret2 >/dev/null 2>&1 ||
			fail "the attacking address was not banned" || return 1
	fi
	return 0
}

# Sessions connecting and disconnecting for SOAK_SECONDS; the server's RSS
# and open descriptors must not grow beyond a small bound.
proc_rss_kb() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$SERVER_PID/status"; }
proc_fds() { ls "/proc/$SERVER_PID/fd" | wc -l; }
soak_settled() { [ "$(ctl --json list | jq '.sessions | length')" = 1 ]; } # only alice's session is left

test_soak() {
	local secs=${SOAK_SECONDS:-45} rss0 fd0 rss1 fd1 asan=''
	server_opts '"auth-timeout": 10'
	server_start "$KIND" false || fail "server did not start: $(tail -n 3 "$RUN/server.log" | tr "\n" " ")" || return 1
	connect_or_fail alice secret1 || return 1
	grep -qa __asan_init "$(wolfguard_bin)" && asan=1
	# Warm-up: first sessions allocate tables and wolfSSL caches.
	attack "$NS_CLI2" soak --user bob --password secret2 --seconds 3 >/dev/null || fail "soak warm-up failed" || return 1
	# The baseline once the warm-up's sessions are gone (alice's is left).
	wait_for 60 soak_settled || fail "the warm-up's sessions did not end: $(ctl --json list)" || return 1
	rss0=$(proc_rss_kb) fd0=$(proc_fds)
	traffic_start $((secs * 5))
	attack "$NS_CLI2" soak --user bob --password secret2 --seconds "$secs" || fail "soak sessions failed: $(cat "$RUN/attack.out")" || return 1
	traffic_check || return 1
	wait_for 60 soak_settled || fail "the soak's sessions did not end: $(ctl --json list)" || return 1
	# Closed connections may still be on their way out: wait (bounded) for
	# the descriptors to come back within the bound before measuring.
	wait_for 60 sh -c "[ \$(ls /proc/$SERVER_PID/fd | wc -l) -le $((fd0 + ${SOAK_FD_GROWTH:-4})) ]"
	rss1=$(proc_rss_kb) fd1=$(proc_fds)
	echo "   server RSS ${rss0} kB -> ${rss1} kB, open fds ${fd0} -> ${fd1}"
	[ $((fd1 - fd0)) -le "${SOAK_FD_GROWTH:-4}" ] || fail "fd count grew from $fd0 to $fd1" || return 1
	if [ -z "$asan" ]; then
		[ $((rss1 - rss0)) -le "${SOAK_RSS_KB:-8192}" ] || fail "RSS grew from $rss0 to $rss1 kB" || return 1
	else
		echo "   (sanitizer build: RSS bound not applied; LeakSanitizer checks at exit)"
	fi
	alive_or_fail
}

WOLFGUARD_TESTS+=(hostile_slowloris hostile_idle hostile_oversized hostile_cstp hostile_noauth hostile_dtls
	hostile_roaming hostile_failed_logins soak)
