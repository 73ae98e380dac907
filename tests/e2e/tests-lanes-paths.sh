# shellcheck shell=bash
# transport-lanes over two network paths (docs/lanes.md): the client
# namespace gets a second link to the server (path B, 192.0.2.0/24, the
# client's eth1 and the server's pathb, beside the lab's path A: eth0 and
# cli1), and wolfguard-client puts one lane on each with --lane-bind. Sourced
# by run.sh; the lanes helpers (lanes_conf, lanes_connect, lanes_of, ...)
# come from tests-lanes.sh. bench/lanes.sh builds its path B with the
# functions here too.
#
# lanes_two_paths  --lanes 2 --lane-bind eth0 --lane-bind eth1: each lane's packets
#                  go over its own path (the links' packet counters); path B dies
#                  (nft drops all on both ends) in the middle of a download: lane 1
#                  leaves the rotation, the download completes over path A, the
#                  session stays; path B comes back: lane 1 rejoins and carries
#                  packets over path B again

WOLFGUARD_TESTS+=(lanes_two_paths)

PATHB_CLI=192.0.2.2 PATHB_SRV=192.0.2.1

# Path B: a second veth between the client and the server namespaces. Both
# paths reach the server's address SRV_ADDR: a socket bound to eth1
# (SO_BINDTODEVICE) finds it on that link (the server answers ARP for any of
# its addresses), and the server answers 192.0.2.2 over pathb, from SRV_ADDR.
lanes_path_b_up() {
	lanes_path_b_down
	ip -n "$NS_CLI" link add eth1 type veth peer name pathb netns "$NS_SRV" &&
		ip -n "$NS_CLI" addr add "$PATHB_CLI/24" dev eth1 && ip -n "$NS_SRV" addr add "$PATHB_SRV/24" dev pathb &&
		ip -n "$NS_CLI" link set eth1 up && ip -n "$NS_SRV" link set pathb up &&
		# The server has two addresses (SRV_ADDR, and pathb's own) and
		# its lanes socket is bound to "::": the route back over pathb
		# leaves from 192.0.2.1, but the client's connected lane socket
		# sent to SRV_ADDR, and the answers come from there because the
		# server sends from the address each lane's datagrams arrive on
		# (IP_PKTINFO, plugins/lib-dtls/udp_local.c); no "src" route.
		ip -n "$NS_CLI" route add "$SRV_ADDR/32" dev eth1 table 100 &&
		ip -n "$NS_CLI" rule add from "$PATHB_CLI" table 100
}

# Idempotent: the lab is shared by the tests of a run.
lanes_path_b_down() {
	ip -n "$NS_CLI" rule del from "$PATHB_CLI" table 100 2>/dev/null
	ip -n "$NS_CLI" route flush table 100 2>/dev/null
	ip -n "$NS_CLI" link del eth1 2>/dev/null
	return 0
}

# Both directions of both paths through a token bucket of RATE Mbit/s
# with QUEUE ms of queue (default 2), so a transfer lasts long enough to be
# cut, and each path's share can be seen.
lanes_paths_shape() { # RATE [QUEUE]
	local dev
	for dev in "$NS_CLI:eth0" "$NS_CLI:eth1" "$NS_SRV:cli1" "$NS_SRV:pathb"; do
		ip -n "${dev%%:*}" link show "${dev#*:}" >/dev/null 2>&1 || continue
		ip netns exec "${dev%%:*}" tc qdisc replace dev "${dev#*:}" root tbf rate "${1}mbit" burst 64kb latency "${2:-2}ms" ||
			return 1
	done
}
lanes_paths_unshape() {
	local dev
	for dev in "$NS_CLI:eth0" "$NS_CLI:eth1" "$NS_SRV:cli1" "$NS_SRV:pathb"; do
		ip netns exec "${dev%%:*}" tc qdisc del dev "${dev#*:}" root 2>/dev/null
	done
	return 0
}

# Path B dies both ways (nft drops every packet on its two ends; the links
# stay up, as when a radio path fades), or lives again.
lanes_path_b_cut() { # on|off
	local ns dev
	for ns in "$NS_CLI:eth1" "$NS_SRV:pathb"; do
		dev=${ns#*:} ns=${ns%%:*}
		if [ "$1" = on ]; then
			in_ns "$ns" nft add table inet pathbcut &&
				in_ns "$ns" nft add chain inet pathbcut in '{ type filter hook input priority -10; }' &&
				in_ns "$ns" nft add chain inet pathbcut out '{ type filter hook output priority -10; }' &&
				in_ns "$ns" nft add chain inet pathbcut forw '{ type filter hook forward priority -10; }' &&
				in_ns "$ns" nft add rule inet pathbcut in iifname "$dev" drop &&
				in_ns "$ns" nft add rule inet pathbcut out oifname "$dev" drop &&
				in_ns "$ns" nft add rule inet pathbcut forw iifname "$dev" drop &&
				in_ns "$ns" nft add rule inet pathbcut forw oifname "$dev" drop || return 1
		else
			in_ns "$ns" nft delete table inet pathbcut 2>/dev/null
		fi
	done
	return 0
}

# Packets the client namespace's DEV received and sent.
lanes_link_packets() { # DEV
	ip -n "$NS_CLI" -s -j link show dev "$1" | jq '.[0].stats64.rx.packets + .[0].stats64.tx.packets'
}

# The number of packets DEV moved since BASE is at least MIN.
lanes_link_moved() { # DEV BASE MIN
	[ "$(($(lanes_link_packets "$1") - $2))" -ge "$3" ]
}

# Ends process PID and everything it started (by id: a failed test may leave
# the background download running).
lanes_kill_tree() { # PID
	local child
	for child in $(pgrep -P "$1"); do lanes_kill_tree "$child"; done
	kill "$1" 2>/dev/null
}

LANES_PATHS_JOB=
# alice's lane K comes from IPv4 address ADDR ("[::ffff:ADDR]:port" on the
# dual-stack socket, "ADDR:port" on an IPv4 one).
lane_peer_is() { # K ADDR
	local peer
	peer=$(lane_field alice "$1" peer)
	[[ $peer == "[::ffff:$2]:"* || $peer == "$2:"* ]]
}

test_lanes_two_paths() {
	LANES_PATHS_JOB=
	lanes_two_paths_run
	local rc=$?
	if [ -n "$LANES_PATHS_JOB" ]; then
		lanes_kill_tree "$LANES_PATHS_JOB"
		wait "$LANES_PATHS_JOB" 2>/dev/null
	fi
	lanes_path_b_cut off
	lanes_paths_unshape
	lanes_path_b_down
	return $rc
}

lanes_two_paths_run() {
	lanes_need_client || return 1
	lanes_path_b_up || fail "path B could not be built" || return 1
	wait_for 30 in_ns "$NS_CLI" ping -c1 -W1 -I eth1 "$SRV_ADDR" || fail "no ping to the server over path B" || return 1
	# What makes this lab multi-homed: the route back over path B leaves
	# from another address than the one the client sends to.
	[ "$(ip -n "$NS_SRV" -j route get "$PATHB_CLI" | jq -r '.[0].prefsrc')" = "$PATHB_SRV" ] ||
		fail "the server's route over path B does not leave from $PATHB_SRV" || return 1
	lanes_conf
	server_start_wolfguard false || fail "wolfguard did not start" || return 1
	lanes_connect alice alice secret1 "$NS_CLI" 2 --lane-bind eth0 --lane-bind eth1 ||
		fail "wolfguard-client --lanes 2 --lane-bind eth0 --lane-bind eth1 did not connect" || return 1
	wait_for 30 lanes_alive_is alice 2 || fail "not 2 lanes alive: $(lanes_of alice)" || return 1
	# The server sees each lane from its path's address.
	lane_peer_is 0 "$CLI_ADDR" || fail "lane 0 not over path A: $(lanes_of alice)" || return 1
	lane_peer_is 1 "$PATHB_CLI" || fail "lane 1 not over path B: $(lanes_of alice)" || return 1
	local id a0 b0 cut_at iperf_pid
	id=$(ctl_session_id alice)

	# Traffic flows on both paths: 16 flows each way (all on one lane has
	# odds 2^-15), and both links count thousands of packets.
	a0=$(lanes_link_packets eth0) b0=$(lanes_link_packets eth1)
	lanes_iperf "$NS_CLI" 16 32 || fail "upload over two paths failed: $(tail -3 "$RUN/iperf-lanes.log")" || return 1
	lanes_iperf "$NS_CLI" 16 32 -R || fail "download over two paths failed: $(tail -3 "$RUN/iperf-lanes.log")" || return 1
	lanes_link_moved eth0 "$a0" 2000 || fail "path A moved $(($(lanes_link_packets eth0) - a0)) packets" || return 1
	lanes_link_moved eth1 "$b0" 2000 || fail "path B moved $(($(lanes_link_packets eth1) - b0)) packets" || return 1

	# For the record (a starved machine may still delay an answer past the
	# deadline's ceiling): rotation exits without any cut.
	log "   before the cut, lanes left the rotation (lane 0/1): $(lane_field alice 0 left_rotation)/$(lane_field alice 1 left_rotation)"

	# Path B dies in the middle of a download: at 40 Mbit/s a path, 48 MB
	# lasts seconds, and it must complete over path A alone.
	lanes_paths_shape 40 50 || fail "tc tbf failed" || return 1
	b0=$(lanes_link_packets eth1)
	lanes_iperf "$NS_CLI" 8 48 -R &
	iperf_pid=$! LANES_PATHS_JOB=$!
	wait_for 30 lanes_link_moved eth1 "$b0" 300 || fail "the download does not use path B" || return 1
	lanes_path_b_cut on || fail "nft failed" || return 1
	cut_at=$(date +%s)
	wait_for 30 lane_alive_is alice 1 false || fail "lane 1 did not leave the rotation: $(lanes_of alice)" || return 1
	lane_alive_is alice 0 true || fail "lane 0 left too: $(lanes_of alice)" || return 1
	a0=$(lanes_link_packets eth0)
	wait_for 30 lanes_link_moved eth0 "$a0" 200 || fail "nothing moves over path A after the cut" || return 1
	wait "$iperf_pid" || fail "the download did not complete after path B died: $(tail -3 "$RUN/iperf-lanes.log")" || return 1
	LANES_PATHS_JOB=
	log "   download completed $(($(date +%s) - cut_at)) s after path B died"
	[ "$(ctl_session_id alice)" = "$id" ] || fail "the session changed while path B was dead" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping with path B dead" || return 1

	# Path B comes back: lane 1 rejoins and carries packets over it again.
	lanes_path_b_cut off
	lanes_paths_unshape
	wait_for 60 lane_alive_is alice 1 true || fail "lane 1 did not rejoin: $(lanes_of alice)" || return 1
	lane_peer_is 1 "$PATHB_CLI" || fail "lane 1 came back elsewhere: $(lanes_of alice)" || return 1
	b0=$(lanes_link_packets eth1)
	lanes_iperf "$NS_CLI" 16 32 -R || fail "download after path B came back failed" || return 1
	lanes_link_moved eth1 "$b0" 2000 || fail "path B moved $(($(lanes_link_packets eth1) - b0)) packets after it came back" ||
		return 1
	[ "$(ctl_session_id alice)" = "$id" ] || fail "the session changed" || return 1
	log "   lanes left the rotation (lane 0/1): $(lane_field alice 0 left_rotation)/$(lane_field alice 1 left_rotation)"
	# A sanitizer build of the client prints its findings as it exits.
	client_disconnect alice
	wgc_no_sanitizer alice
}
