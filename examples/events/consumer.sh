#!/bin/sh
# An example consumer of `wolfguardctl events` (one JSON object per line):
# prints one line per session that ends, with its traffic, and adds every
# banned address to an nftables set, so no connect-script is needed.
#
#   examples/events/consumer.sh [SOCKET]
#
# Needs jq. The nft command is printed, not run, unless NFT=1 (then the set
# `inet filter wolfguard_banned` must exist, type ipv4_addr, flags timeout).
# Restart it when the server restarts: the stream ends with the server.
sock=${1:-/run/wolfguard/control.sock}
wolfguardctl -s "$sock" events | while IFS= read -r line; do
	ev=$(printf '%s\n' "$line" | jq -r '.event')
	case "$ev" in
	disconnect)
		printf '%s\n' "$line" | jq -r '"\(.user) session \(.session_id) ended (\(.reason)): \(.rx_bytes) bytes in, \(.tx_bytes) bytes out, \(.duration_s) s"'
		;;
	ban)
		addr=$(printf '%s\n' "$line" | jq -r '.client_address')
		secs=$(printf '%s\n' "$line" | jq -r '.seconds')
		cmd="nft add element inet filter wolfguard_banned { $addr timeout ${secs}s }"
		if [ "${NFT:-0}" = 1 ]; then $cmd; else echo "would run: $cmd"; fi
		;;
	esac
done
