# shellcheck shell=bash
# TLS to Redis reached by an IP address (docs/cluster.md, "TLS to Redis";
# core/cluster/redis_tls_name.c): Redis's certificate carries its addresses
# as IP SANs only, and cluster-redis-tls-name / --cluster-tls-name is the
# address. Sourced by run.sh; uses tests-cluster.sh's helpers (redis_start,
# cluster_conf, node2_start, authenticate) and tests-cluster-tls.sh's
# certificate makers and node_b_tls_refused.

REDIS_IPSAN_PORT=6392

# A CA; Redis's certificate with IP SANs 127.0.0.1 and ::1 and no DNS name
# (its CN is no address either); a second one of the same CA that carries
# 127.0.0.1 only as a dNSName and as its CN, which an address must not
# accept.
make_ipsan_certs() {
	local d=$RUN/redis-ipsan
	rm -rf "$d" && mkdir -p "$d" || return 1
	redis_test_ca "$d" ca &&
		redis_test_issue "$d" ip "redis ipsan" "subjectAltName=IP:127.0.0.1,IP:::1" "extendedKeyUsage=serverAuth" &&
		redis_test_issue "$d" dns 127.0.0.1 "subjectAltName=DNS:127.0.0.1" "extendedKeyUsage=serverAuth" &&
		chmod 644 "$d"/*.key
}

# Node a's conf.d: Redis's TLS port at ADDR, the CA, the address as the name.
ipsan_conf() { # redis-address name
	local f=$RUN/conf.d/00-server.json
	cluster_conf a
	jq --arg redis "$1" --arg ca "$RUN/redis-ipsan/ca.pem" --arg name "$2" \
		'.server += {"cluster-redis": $redis, "cluster-redis-tls": true, "cluster-redis-tls-ca": $ca,
		  "cluster-redis-tls-name": $name}' "$f" >"$f.new" && mv "$f.new" "$f"
}

# wolfguardctl --cluster ADDR over TLS with the CA; "$@" after (the name).
wgctl_ipsan() { # redis-address args...
	in_ns "$NS_SRV" "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" --cluster "$1" \
		--cluster-tls-ca "$RUN/redis-ipsan/ca.pem" "${@:2}"
}

# A node that must not start: its conf.d is node a's with NAME as
# cluster-redis-tls-name; prints its output; fails on a sanitizer report.
node_refused_start() { # name
	local c=$RUN/conf.d-refused plugdir
	plugdir=${WOLFGUARD_PLUGIN_DIR:-$(cd "$(dirname "$(wolfguard_bin)")/../plugins" && pwd)}
	rm -rf "$c" && cp -r "$RUN/conf.d" "$c" || return 1
	jq --arg name "$1" --arg ctl "$RUN/control-refused.sock" '.server += {"cluster-redis-tls-name": $name,
	  port: 8443, "udp-port": 0, "control-socket": $ctl, "tun-device": "wgrefused"}' "$c/00-server.json" >"$c/new" &&
		mv "$c/new" "$c/00-server.json"
	ip netns exec "$NS_SRV" env WOLFGUARD_PLUGIN_DIR="$plugdir" timeout 120 "$(wolfguard_bin)" -c "$c" >"$RUN/node-refused.log" 2>&1
	cat "$RUN/node-refused.log"
	# A sanitizer build's report on the way out fails the test too.
	! grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$RUN/node-refused.log" ||
		fail "sanitizer report from a node refused at start: $(grep -m1 -A12 -E "Sanitizer|runtime error:" "$RUN/node-refused.log")"
}

WOLFGUARD_TESTS+=(cluster_redis_ipsan)

# Redis's certificate names it by IP addresses only. Node a (name
# 127.0.0.1) and node b (over IPv6, name ::1) connect; alice logs in on a
# and her record is written over TLS; wolfguardctl --cluster with either
# address as the name lists her. A wrong address is refused with one line
# (node and wolfguardctl); a name in brackets or an empty one stops a node
# at start. Redis then presents a certificate that has 127.0.0.1 only as a
# dNSName and CN (which wolfSSL's own text match accepts): a node and
# wolfguardctl expecting the address refuse it, each in one line.
test_cluster_redis_ipsan() { cluster_redis_ipsan; local rc=$?; client_disconnect_all; node2_stop || rc=1; redis_stop; return $rc; }
cluster_redis_ipsan() {
	local d=$RUN/redis-ipsan out rc
	in_ns "$NS_SRV" ip -6 addr show dev lo | grep -q "inet6 ::1/128" || fail "no ::1 in the server namespace" || return 1
	make_ipsan_certs || fail "could not make the test certificates: $(tail -n 3 "$d/openssl.log")" || return 1
	redis_start --bind 127.0.0.1 ::1 --tls-port "$REDIS_IPSAN_PORT" --tls-cert-file "$d/ip.pem" \
		--tls-key-file "$d/ip.key" --tls-ca-cert-file "$d/ca.pem" --tls-auth-clients no ||
		fail "redis-server with TLS did not start: $(tail -n 3 "$RUN/redis.log")" || return 1
	ipsan_conf "127.0.0.1:$REDIS_IPSAN_PORT" 127.0.0.1
	server_start_wolfguard false || fail "node a did not start: $(tail -n 3 "$RUN/server.log")" || return 1
	wait_for 30 grep -q "cluster: redis at 127.0.0.1:$REDIS_IPSAN_PORT (TLS) connected" "$RUN/server.log" ||
		fail "node a (name 127.0.0.1) did not connect: $(grep cluster "$RUN/server.log" | tail -n 2)" || return 1
	NODE2_OPTS="{\"cluster-redis\": \"[::1]:$REDIS_IPSAN_PORT\", \"cluster-redis-tls-name\": \"::1\"}" node2_start b ||
		fail "node b (name ::1) did not connect: $(grep cluster "$RUN/node-b.log" | tail -n 2)" || return 1
	grep -q "cluster: redis at \[::1\]:$REDIS_IPSAN_PORT (TLS) connected" "$RUN/node-b.log" ||
		fail "node b is not connected to [::1]: $(grep cluster "$RUN/node-b.log" | tail -n 2)" || return 1

	# A login on node a, its record written through the TLS connection.
	local cookie
	cookie=$(authenticate alice secret1)
	[ -n "$cookie" ] || fail "--authenticate on node a printed no COOKIE" || return 1
	connect_or_fail alice - --cookie "$cookie" || return 1
	wait_for 30 session_keys_are 1 || fail "no record written over TLS: $(session_keys)" || return 1

	# wolfguardctl --cluster with the address as the name, IPv4 and IPv6.
	out=$(wgctl_ipsan "127.0.0.1:$REDIS_IPSAN_PORT" --cluster-tls-name 127.0.0.1 --json sessions 2>&1) ||
		fail "wolfguardctl --cluster-tls-name 127.0.0.1: $out" || return 1
	jq -e '.sessions | length == 1 and .[0].user == "alice" and .[0].node == "a"' <<<"$out" >/dev/null ||
		fail "wolfguardctl --cluster-tls-name 127.0.0.1 does not list alice on node a: $out" || return 1
	out=$(wgctl_ipsan "[::1]:$REDIS_IPSAN_PORT" --cluster-tls-name ::1 status 2>&1) ||
		fail "wolfguardctl --cluster-tls-name ::1: $out" || return 1
	grep -q "^node a  *1 sessions" <<<"$out" || fail "wolfguardctl --cluster-tls-name ::1 status: $out" || return 1

	# Another address than the certificate's: one line, exit 3.
	out=$(wgctl_ipsan "127.0.0.1:$REDIS_IPSAN_PORT" --cluster-tls-name 127.0.0.2 status 2>&1)
	rc=$?
	[ "$rc" = 3 ] || fail "wolfguardctl expecting 127.0.0.2 exited $rc: $out" || return 1
	[ "$(grep -c . <<<"$out")" = 1 ] &&
		grep -q "^wolfguardctl: redis at 127.0.0.1:$REDIS_IPSAN_PORT: TLS handshake failed: .*(-325): not issued for --cluster-tls-name$" <<<"$out" ||
		fail "no clear line from wolfguardctl for the wrong address: $out" || return 1
	echo "   wolfguardctl, wrong address: $out"
	# An IPv6 address in brackets is no name a certificate carries.
	out=$(wgctl_ipsan "[::1]:$REDIS_IPSAN_PORT" --cluster-tls-name "[::1]" status 2>&1)
	rc=$?
	[ "$rc" = 2 ] && grep -q -- "--cluster-tls-name \"\[::1\]\": neither a DNS name nor an IP address" <<<"$out" ||
		fail "wolfguardctl --cluster-tls-name [::1]: exit $rc: $out" || return 1

	# The line names the option.
	node_b_tls_refused '{"cluster-redis-tls-name": "127.0.0.2"}' \
		"cluster: redis at 127.0.0.1:$REDIS_IPSAN_PORT (TLS) unavailable: TLS handshake failed: .*(-325): not issued for cluster-redis-tls-name" \
		"node, wrong address" || return 1

	# Names a node refuses at start.
	out=$(node_refused_start "[::1]") || return 1
	grep -q 'cluster-redis-tls: cluster-redis-tls-name "\[::1\]": neither a DNS name nor an IP address' <<<"$out" ||
		fail "a node with cluster-redis-tls-name [::1]: $(tail -n 2 <<<"$out")" || return 1
	out=$(node_refused_start "") || return 1
	grep -q "cluster-redis-tls needs cluster-redis-tls-name, the DNS name or IP address in Redis's certificate" <<<"$out" ||
		fail "a node with an empty cluster-redis-tls-name: $(tail -n 2 <<<"$out")" || return 1

	# The address only as a dNSName and CN: refused after the handshake,
	# before any command, by wolfguardctl and by a node.
	node2_stop || return 1
	rcli CONFIG SET tls-cert-file "$d/dns.pem" tls-key-file "$d/dns.key" | grep -q OK ||
		fail "redis did not take the other certificate" || return 1
	wait_for 30 sh -c "echo | timeout 10 ip netns exec '$NS_SRV' openssl s_client -connect 127.0.0.1:$REDIS_IPSAN_PORT 2>/dev/null |
		openssl x509 -noout -ext subjectAltName | grep -q 'DNS:127.0.0.1'" ||
		fail "redis does not present the certificate with the dNSName" || return 1
	out=$(wgctl_ipsan "127.0.0.1:$REDIS_IPSAN_PORT" --cluster-tls-name 127.0.0.1 status 2>&1)
	rc=$?
	[ "$rc" = 3 ] || fail "wolfguardctl accepted 127.0.0.1 as a dNSName: exit $rc: $out" || return 1
	[ "$out" = "wolfguardctl: redis at 127.0.0.1:$REDIS_IPSAN_PORT: TLS handshake failed: certificate has no IP SAN 127.0.0.1: not issued for --cluster-tls-name" ] ||
		fail "no clear line from wolfguardctl for the dNSName: $out" || return 1
	echo "   wolfguardctl, address as a dNSName: $out"
	node_b_tls_refused '{"cluster-redis-tls-name": "127.0.0.1"}' \
		"(TLS) unavailable: TLS handshake failed: certificate has no IP SAN 127.0.0.1: not issued for cluster-redis-tls-name" \
		"node, address as a dNSName" || return 1
	# Node a kept its connection all along.
	grep -q "cluster: redis at .* unavailable" "$RUN/server.log" &&
		fail "node a lost redis: $(grep -m1 unavailable "$RUN/server.log")" && return 1
	return 0
}
