#!/bin/sh
# openconnect's --script for the lab: records the configuration the client
# received (for the tests to check) and sets address and routes with `ip`.
# Unlike vpnc-script it never touches /etc/resolv.conf or the host.
# It writes $LAB_RUN_DIR/env-TAG for the tun device tun-TAG (LAB_RUN_DIR is
# inherited from openconnect's environment).
case "$reason" in
connect)
	ip link set dev "$TUNDEV" up mtu "${INTERNAL_IP4_MTU:-1300}"
	ip addr add "$INTERNAL_IP4_ADDRESS/32" dev "$TUNDEV"
	ip route add "${INTERNAL_IP4_NETADDR:-10.8.0.0}/${INTERNAL_IP4_NETMASKLEN:-24}" dev "$TUNDEV" 2>/dev/null
	i=0
	while [ "$i" -lt "${CISCO_SPLIT_INC:-0}" ]; do
		eval a=\$CISCO_SPLIT_INC_${i}_ADDR
		eval m=\$CISCO_SPLIT_INC_${i}_MASKLEN
		ip route add "$a/$m" dev "$TUNDEV" 2>/dev/null
		i=$((i + 1))
	done
	# openconnect gives the IPv6 address with its prefix in INTERNAL_IP6_NETMASK.
	if [ -n "$INTERNAL_IP6_NETMASK" ]; then
		ip -6 addr add "$INTERNAL_IP6_NETMASK" dev "$TUNDEV" nodad 2>/dev/null
	elif [ -n "$INTERNAL_IP6_ADDRESS" ]; then
		ip -6 addr add "$INTERNAL_IP6_ADDRESS/128" dev "$TUNDEV" nodad 2>/dev/null
	fi
	tag=${TUNDEV#tun-}
	env | grep -E '^(INTERNAL_|CISCO_)' | sort >"$LAB_RUN_DIR/env-$tag.tmp" &&
		mv "$LAB_RUN_DIR/env-$tag.tmp" "$LAB_RUN_DIR/env-$tag"
	;;
esac
exit 0
