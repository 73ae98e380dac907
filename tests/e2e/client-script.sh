#!/bin/sh
# shellcheck disable=SC2154,SC2153 # the variables come from openconnect
# openconnect's --script for the lab, in place of vpnc-script.
#
# It records what the client received from the server and configures the
# tunnel with `ip` so traffic flows, and nothing else: it never touches
# /etc/resolv.conf or anything outside the client's network namespace.
#
# For the tun device tun-TAG it writes, under $LAB_RUN_DIR (inherited from
# openconnect's environment):
#   env-TAG     the variables of the last "connect" call, one VAR=value a line
#               (reason, TUNDEV, VPNGATEWAY, INTERNAL_IP4_*, INTERNAL_IP6_*,
#               CISCO_*, IDLE_TIMEOUT), written atomically after the address
#               and routes are in place, so its presence means "tunnel up";
#   events-TAG  one line per call: the reason (pre-init, connect,
#               disconnect, reconnect, attempt-reconnect).
dir=${LAB_RUN_DIR:-/tmp}
tag=${TUNDEV#tun-}
echo "$reason" >>"$dir/events-$tag"

record() {
	env | grep -E '^(reason|TUNDEV|VPNGATEWAY|INTERNAL_IP4_|INTERNAL_IP6_|CISCO_|IDLE_TIMEOUT)' | sort >"$dir/env-$tag.tmp" &&
		mv "$dir/env-$tag.tmp" "$dir/env-$tag"
}

case "$reason" in
connect)
	ip link set dev "$TUNDEV" up mtu "${INTERNAL_IP4_MTU:-1300}" || exit 1
	ip addr add "$INTERNAL_IP4_ADDRESS/32" dev "$TUNDEV" || exit 1
	# The rest of the VPN pool (the other clients) is reached through the tunnel.
	if [ -n "$INTERNAL_IP4_NETADDR" ] && [ -n "$INTERNAL_IP4_NETMASKLEN" ]; then
		ip route replace "$INTERNAL_IP4_NETADDR/$INTERNAL_IP4_NETMASKLEN" dev "$TUNDEV"
	fi
	# openconnect gives the IPv6 address with its prefix in INTERNAL_IP6_NETMASK.
	if [ -n "$INTERNAL_IP6_NETMASK" ]; then
		ip -6 addr add "$INTERNAL_IP6_NETMASK" dev "$TUNDEV" nodad 2>/dev/null
	elif [ -n "$INTERNAL_IP6_ADDRESS" ]; then
		ip -6 addr add "$INTERNAL_IP6_ADDRESS/128" dev "$TUNDEV" nodad 2>/dev/null
	fi
	i=0
	while [ "$i" -lt "${CISCO_SPLIT_INC:-0}" ] && [ "$i" -lt 256 ]; do
		eval "a=\$CISCO_SPLIT_INC_${i}_ADDR m=\$CISCO_SPLIT_INC_${i}_MASKLEN"
		ip route replace "$a/$m" dev "$TUNDEV" || exit 1
		i=$((i + 1))
	done
	# IPv6 routes (X-CSTP-Split-Include-IP6, or -Include with an IPv6 prefix).
	i=0
	while [ "$i" -lt "${CISCO_IPV6_SPLIT_INC:-0}" ] && [ "$i" -lt 256 ]; do
		eval "a=\$CISCO_IPV6_SPLIT_INC_${i}_ADDR m=\$CISCO_IPV6_SPLIT_INC_${i}_MASKLEN"
		ip -6 route replace "$a/$m" dev "$TUNDEV" || exit 1
		i=$((i + 1))
	done
	record
	;;
disconnect)
	# The kernel drops the routes with the device; nothing else to undo.
	;;
esac
exit 0
