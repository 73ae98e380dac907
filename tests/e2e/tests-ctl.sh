# shellcheck shell=bash
# Control plane end to end: wolfguardctl list/disconnect, live reload, bans,
# Prometheus metrics and the graceful stop, with real openconnect clients.
# Sourced by run.sh (which defines ctl, fail, connect_or_fail, ...).

METRICS_PORT=9617

# ctl_server_opts JSON-OBJECT: merges keys into the server section of the
# conf.d that wolfguard_conf wrote.
ctl_server_opts() {
	local f=$RUN/conf.d/00-server.json
	jq --argjson extra "$1" '.server += $extra' "$f" >"$f.new" && mv "$f.new" "$f"
}

# ctl_json ARGS...: wolfguardctl --json, failing unless the output is one valid
# JSON object (whatever the exit status). Prints it.
ctl_json() {
	local out
	out=$(ctl --json "$@")
	jq -e 'type == "object"' >/dev/null <<<"$out" || { echo "not JSON: $out" >&2; return 1; }
	echo "$out"
}

# The id of USER's session (the first one).
ctl_session_id() { ctl_json list | jq -r --arg u "$1" '[.sessions[] | select(.user == $u)][0].id'; }

metrics() { in_ns "$NS_SRV" curl -sf --max-time 30 "http://127.0.0.1:$METRICS_PORT/metrics"; }

# metric NAME-WITH-LABELS: the value of one sample line.
metric() { metrics | awk -v k="$1" '$1 == k {print $2; exit}'; }
metric_ge() { [ "$(metric "$1")" -ge "$2" ] 2>/dev/null; } # NAME-WITH-LABELS N

# authenticate_wrong NS: one openconnect login with a wrong password (the
# client gives up at once: its password is used up).
authenticate_wrong() {
	in_ns "$1" timeout 60 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "https://$SRV_ADDR/" <<<"not-the-password" >>"$RUN/client-brute.log" 2>&1
}

# Two clients; list shows both; disconnect by session id drops exactly that
# one, and the other keeps its tunnel. Every command's --json is JSON.
test_ctl_list_disconnect() {
	start_server false || return 1
	connect_or_fail alice secret1 || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	local out id_a id_b cmd
	out=$(ctl list) || fail "wolfguardctl list failed" || return 1
	echo "$out" | grep -q "^[0-9]* *alice .*$(client_env alice INTERNAL_IP4_ADDRESS)" &&
		echo "$out" | grep -q "^[0-9]* *bob .*$(client_env bob INTERNAL_IP4_ADDRESS)" ||
		fail "list does not show both: $out" || return 1
	id_a=$(ctl_session_id alice) && id_b=$(ctl_session_id bob) || fail "list --json is not JSON" || return 1
	[[ $id_a =~ ^[0-9]+$ && $id_b =~ ^[0-9]+$ && $id_a != "$id_b" ]] || fail "ids '$id_a' '$id_b'" || return 1
	# show: address, groups, DTLS state, bytes, uptime, client version.
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice cannot ping before the disconnect" || return 1
	out=$(ctl_json show "$id_a") || fail "show --json is not JSON" || return 1
	jq -e --arg a "$(client_env alice INTERNAL_IP4_ADDRESS)" '.sessions | length == 1 and
		(.[0] | .vpn_address == $a and .groups == ["engineering"] and
		 (.dtls_state | IN("established", "offered")) and .rx_bytes > 0 and .uptime_s >= 0 and
		 (.client_version | length > 0) and .client_address == "'"$CLI_ADDR"'")' <<<"$out" >/dev/null ||
		fail "show lacks a field: $out" || return 1
	out=$(ctl show "$id_a") || fail "show failed" || return 1
	echo "$out" | grep -q "DTLS  *\(established\|offered\)" && echo "$out" | grep -q "client  *.*version" ||
		fail "human show: $out" || return 1
	for cmd in status list bans "show nobody" "disconnect 999999" "unban 192.0.2.77" "no-such-command" "ban not-an-ip"; do
		# shellcheck disable=SC2086 # the commands are word lists
		ctl_json $cmd >/dev/null || fail "wolfguardctl --json $cmd: not JSON" || return 1
	done
	ctl disconnect "$id_b" | grep -q "^1 session(s) disconnected" || fail "disconnect by id failed" || return 1
	[ "$(client_exit_code bob)" != running ] || fail "bob's client still running" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice lost her tunnel when bob was disconnected" || return 1
	[ "$(ctl_json list | jq '.sessions | length')" = 1 ] || fail "bob still listed" || return 1
	[ "$(ctl_session_id alice)" = "$id_a" ] || fail "alice's session changed" || return 1
}

# Reload with a changed route: a new client gets it, the old one keeps its
# tunnel and its route; then a broken file is refused with the reason, the
# server stays up and the last good configuration stays in use.
test_ctl_reload() {
	wolfguard_conf false
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	connect_or_fail alice secret1 || return 1
	cat >"$RUN/conf.d/30-routing-static.json" <<JSON
{"plugin": "routing-static", "options": {"ipv4-network": "$POOL_NET",
  "routes": ["$PUSHED_ROUTE", "192.0.2.0/24"], "dns": ["$PUSHED_DNS"]}}
JSON
	local out
	out=$(ctl reload) || fail "reload of a good conf.d failed: $out" || return 1
	echo "$out" | grep -q "generation 2" || fail "reload said: $out" || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	[ "$(client_env bob CISCO_SPLIT_INC)" = 2 ] && grep -q "^CISCO_SPLIT_INC_[01]_ADDR=192.0.2.0$" "$RUN/env-bob" ||
		fail "bob did not get the new route: $(grep SPLIT_INC "$RUN/env-bob" | tr '\n' ' ')" || return 1
	[ "$(client_env bob INTERNAL_IP4_ADDRESS)" != "$(client_env alice INTERNAL_IP4_ADDRESS)" ] ||
		fail "the new configuration leased alice's address to bob" || return 1
	[ "$(client_env alice CISCO_SPLIT_INC)" = 1 ] || fail "alice's configuration changed" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice lost her tunnel in the reload" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "bob cannot ping" || return 1
	# A broken file: refused, with its name in the answer.
	echo '{"plugin": "routing-static", "options": {' >"$RUN/conf.d/30-routing-static.json"
	if out=$(ctl reload 2>&1); then fail "a broken conf.d was accepted: $out"; return 1; fi
	echo "$out" | grep -q "30-routing-static.json" || fail "the error does not name the file: $out" || return 1
	ctl_json reload | jq -e '.ok == false and (.error | length > 0)' >/dev/null || fail "reload --json error" || return 1
	server_alive || fail "the server died on a broken conf.d" || return 1
	[ "$(ctl_json status | jq .config_generation)" = 2 ] || fail "the generation changed" || return 1
	# The last good configuration still serves new logins.
	client_disconnect bob
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	[ "$(client_env bob CISCO_SPLIT_INC)" = 2 ] || fail "bob's new session lacks the reloaded route" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "alice lost her tunnel" || return 1
	# Generation 1's plugins go when its last session (alice's) ends.
	grep -q "generation 1 retired" "$RUN/server.log" && fail "generation 1 retired while alice used it" && return 1
	client_disconnect alice
	wait_for 30 grep -q "generation 1 retired" "$RUN/server.log" || fail "generation 1 was not retired" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "bob lost his tunnel when generation 1 went" || return 1
	# SIGHUP reloads too (and logs the refusal of a broken conf.d).
	kill -HUP "$SERVER_PID"
	wait_for 30 grep -q "reload of .* rejected" "$RUN/server.log" || fail "SIGHUP did not reload" || return 1
	server_alive || fail "the server died on SIGHUP" || return 1
}

# A banned address is refused at once; unban lets it in; wrong passwords
# from one address ban it while another address still logs in.
test_ctl_ban() {
	wolfguard_conf false
	ctl_server_opts '{"ban-failures": 4, "ban-window": 120, "ban-time": 120}'
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	ctl ban "$CLI_ADDR" 60 | grep -q "banned for 60s" || fail "ban failed" || return 1
	ctl bans | grep -q "^$CLI_ADDR .*administrator" || fail "bans: $(ctl bans)" || return 1
	if CONNECT_TIMEOUT=15 client_connect alice secret1; then fail "a banned address got a tunnel"; return 1; fi
	grep -q "$CLI_ADDR: connection refused: address banned" "$RUN/server.log" || fail "no log line for the refusal" || return 1
	client_disconnect alice
	ctl unban "$CLI_ADDR" | grep -q "unbanned" || fail "unban failed" || return 1
	connect_or_fail alice secret1 || return 1
	client_disconnect alice
	# Brute force from the first client's address.
	local i
	for ((i = 0; i < 8; i++)); do
		ctl_json bans | jq -e --arg a "$CLI_ADDR" '.bans | any(.addr == $a)' >/dev/null && break
		authenticate_wrong "$NS_CLI"
	done
	ctl_json bans | jq -e --arg a "$CLI_ADDR" '.bans[] | select(.addr == $a) | .reason == "failed logins"' >/dev/null ||
		fail "no ban after $i wrong passwords" || return 1
	grep -q "$CLI_ADDR: banned for 120 s after 4 failed logins" "$RUN/server.log" || fail "the ban was not logged" || return 1
	if CONNECT_TIMEOUT=15 client_connect alice secret1; then fail "the banned address logged in"; return 1; fi
	client_disconnect alice
	connect_or_fail bob secret2 --ns "$NS_CLI2" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "bob cannot ping" || return 1
	[ "$(ctl_json status | jq '.counters.bans_active')" = 1 ] || fail "status counters: $(ctl_json status)" || return 1
}

# /metrics: one session after a login, bytes growing with traffic.
test_ctl_metrics() {
	wolfguard_conf false
	ctl_server_opts "{\"metrics-port\": $METRICS_PORT}"
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	wait_for 30 metrics || fail "no /metrics on 127.0.0.1:$METRICS_PORT" || return 1
	[ "$(metric 'wolfguard_sessions{transport="dtls"}')" = 0 ] || fail "sessions before any login" || return 1
	connect_or_fail alice secret1 || return 1
	local dtls cstp in1 in2 out2
	dtls=$(metric 'wolfguard_sessions{transport="dtls"}') cstp=$(metric 'wolfguard_sessions{transport="cstp"}')
	[ $((dtls + cstp)) = 1 ] || fail "sessions dtls=$dtls cstp=$cstp after one login" || return 1
	[ "$(metric 'wolfguard_logins_total{backend="auth-plain",result="success"}')" = 1 ] ||
		fail "logins_total: $(metrics | grep logins_total)" || return 1
	[ "$(metric 'wolfguard_auth_latency_seconds_count{backend="auth-plain"}')" -ge 1 ] || fail "no latency sample" || return 1
	in1=$(metric 'wolfguard_bytes_total{direction="in"}')
	in_ns "$NS_CLI" ping -c 20 -i 0.05 -s 1000 -W 5 "$LAN_ADDR" >/dev/null || fail "ping through the tunnel failed" || return 1
	# The counters are the server's: wait until they show the pings.
	wait_for 30 metric_ge 'wolfguard_bytes_total{direction="in"}' $((in1 + 20000)) &&
		wait_for 30 metric_ge 'wolfguard_bytes_total{direction="out"}' 20000 ||
		fail "bytes in $in1 -> $(metric 'wolfguard_bytes_total{direction="in"}'), out $(metric 'wolfguard_bytes_total{direction="out"}')" || return 1
	in2=$(metric 'wolfguard_bytes_total{direction="in"}')
	# Bounded, plain: other paths and methods get a status, not a crash.
	[ "$(in_ns "$NS_SRV" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/other")" = 404 ] ||
		fail "an unknown path was not 404" || return 1
	[ "$(head -c 20000 /dev/zero | tr '\0' a | in_ns "$NS_SRV" curl -s -o /dev/null -w '%{http_code}' \
		-H "X-Big: $(head -c 12000 /dev/zero | tr '\0' b)" "http://127.0.0.1:$METRICS_PORT/metrics")" != 200 ] ||
		fail "an oversized request was served" || return 1
	client_disconnect alice
	wait_for 30 sh -c "[ \"\$(ip netns exec $NS_SRV curl -sf http://127.0.0.1:$METRICS_PORT/metrics |
		awk '\$1 == \"wolfguard_sessions{transport=\\\"dtls\\\"}\" || \$1 == \"wolfguard_sessions{transport=\\\"cstp\\\"}\" {n += \$2} END {print n}')\" = 0 ]" ||
		fail "the session is still counted after logout" || return 1
	[ "$(metric 'wolfguard_bytes_total{direction="in"}')" -ge "$in2" ] || fail "bytes_total went down after logout" || return 1
}

# SIGTERM: every client is told (openconnect logs the server's disconnect
# and does not reconnect), sessions end with "server shutdown", exit 0.
test_ctl_graceful_stop() {
	start_server false || return 1
	connect_or_fail alice secret1 || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" --no-dtls || return 1
	kill -TERM "$SERVER_PID"
	wait_for 60 sh -c "! kill -0 $SERVER_PID" || fail "the server did not exit within 60 s" || return 1
	local rc t
	wait "$SERVER_PID"
	rc=$?
	SERVER_PID=
	[ "$rc" = 0 ] || fail "the server exited with $rc" || return 1
	[ "$(grep -c "session ended: server shutdown" "$RUN/server.log")" = 2 ] ||
		fail "sessions did not end with 'server shutdown'" || return 1
	for t in alice bob; do
		[ "$(client_exit_code "$t")" != running ] || fail "$t's client still running" || return 1
		grep -qi "server disconnect\|server request" "$(client_log "$t")" ||
			fail "$t's client did not log the disconnect: $(tail -n 3 "$(client_log "$t")" | tr '\n' ' ')" || return 1
	done
	! grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$RUN/server.log" ||
		fail "sanitizer report at exit: $(grep -m1 -E "ERROR|runtime error" "$RUN/server.log")" || return 1
	# Started again for run.sh, which fails a test whose server is gone.
	server_start_wolfguard false || fail "wolfguard did not start again" || return 1
}

WOLFGUARD_TESTS+=(ctl_list_disconnect ctl_reload ctl_ban ctl_metrics ctl_graceful_stop)
