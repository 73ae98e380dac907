# shellcheck shell=bash
# TLS between the nodes and Redis (docs/cluster.md, core/cluster/redis_tls.c):
# redis-server (Debian's, built with TLS) listens on a TLS port beside its
# plain one (the test reads Redis through the plain one), with a certificate
# of a test CA, client certificates required, and an ACL user. Sourced by
# run.sh; uses tests-cluster.sh's helpers.

REDIS_TLS_PORT=6391
REDIS_TLS_NAME=redis.wg.test

# Test certificates for Redis's TLS, in DIR (openssl's complaints in
# DIR/openssl.log); tests-redis-ipsan.sh makes its own with these too.
redis_test_ca() { # dir name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=wolfguard redis $2 $LAB_ID" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		-keyout "$1/$2.key" -out "$1/$2.pem" 2>>"$1/openssl.log"
}
# NAME.key and NAME.pem, issued by DIR/ca to the common name CN, with the
# extension lines given (subjectAltName=..., extendedKeyUsage=...).
redis_test_issue() { # dir name cn extension-line...
	local d=$1 n=$2 cn=$3
	shift 3
	printf '%s\n' "$@" >"$d/$n.ext"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$n.key" 2>>"$d/openssl.log" &&
		openssl req -new -key "$d/$n.key" -subj "/CN=$cn" -out "$d/$n.csr" 2>>"$d/openssl.log" &&
		openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
			-extfile "$d/$n.ext" -out "$d/$n.pem" 2>>"$d/openssl.log" &&
		chmod 644 "$d/$n.key"
}

# A CA of its own for Redis (and a second one Redis's certificate is not
# from), Redis's certificate for REDIS_TLS_NAME, a client certificate.
make_redis_certs() {
	local d=$RUN/redis-tls
	rm -rf "$d" && mkdir -p "$d" || return 1
	redis_test_ca "$d" ca && redis_test_ca "$d" other-ca &&
		redis_test_issue "$d" server server.wg.test "subjectAltName=DNS:$REDIS_TLS_NAME" "extendedKeyUsage=serverAuth" &&
		redis_test_issue "$d" client client.wg.test "extendedKeyUsage=clientAuth" &&
		chmod 644 "$d"/*.key
}

# Node b, started again with the options OPTS (JSON), must not reach Redis
# and must say why once: its "TLS handshake failed" line matches PATTERN.
# Prints that line after LABEL. Node b is left stopped.
node_b_tls_refused() { # opts pattern label
	node2_stop || return 1
	NODE2_WAIT=10 NODE2_OPTS="$1" node2_start b &&
		fail "node b connected to redis despite $3" && return 1
	wait_for 30 grep -q -- "$2" "$RUN/node-b.log" ||
		fail "no clear line for $3: $(grep cluster "$RUN/node-b.log" | tail -n 2)" || return 1
	[ "$(grep -c "TLS handshake failed" "$RUN/node-b.log")" = 1 ] || fail "the refusal ($3) is logged more than once" || return 1
	echo "   $3: $(grep -m1 "TLS handshake failed" "$RUN/node-b.log" | sed 's/.*cluster: //')"
}

redis_tls_start() {
	local d=$RUN/redis-tls
	redis_start --tls-port "$REDIS_TLS_PORT" --tls-cert-file "$d/server.pem" --tls-key-file "$d/server.key" \
		--tls-ca-cert-file "$d/ca.pem" --tls-auth-clients yes \
		--user default on nopass '~*' '+@all' --user wgnode on '>tls-s3cret' '~wg:*' '+@all' '-@dangerous'
}

# Node a's conf.d: Redis's TLS port, the CA, the client certificate, the
# name in Redis's certificate, the ACL user.
cluster_tls_conf() { # [CA file]
	local d=$RUN/redis-tls f=$RUN/conf.d/00-server.json
	cluster_conf a
	echo tls-s3cret >"$RUN/redis.pass"
	jq --arg redis "127.0.0.1:$REDIS_TLS_PORT" --arg ca "${1:-$d/ca.pem}" --arg cert "$d/client.pem" \
		--arg key "$d/client.key" --arg name "$REDIS_TLS_NAME" --arg p "$RUN/redis.pass" \
		'.server += {"cluster-redis": $redis, "cluster-redis-tls": true, "cluster-redis-tls-ca": $ca,
		  "cluster-redis-tls-cert": $cert, "cluster-redis-tls-key": $key, "cluster-redis-tls-name": $name,
		  "cluster-redis-user": "wgnode", "cluster-redis-password-file": $p}' "$f" >"$f.new" && mv "$f.new" "$f"
}

# Clients of Redis connected through its TLS port (CLIENT LIST's laddr).
tls_clients() { rcli CLIENT LIST 2>/dev/null | grep -c "laddr=127.0.0.1:$REDIS_TLS_PORT " ; }
tls_clients_ge() { [ "$(tls_clients)" -ge "$1" ]; }

# wolfguardctl --cluster through Redis's TLS port, as node a: the CA, the
# name, the client certificate, the ACL user; "$@" after them (a later option
# wins, so a test can replace one).
wgctl_tls() {
	local d=$RUN/redis-tls
	in_ns "$NS_SRV" "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" --cluster "127.0.0.1:$REDIS_TLS_PORT" \
		--cluster-tls-ca "$d/ca.pem" --cluster-tls-name "$REDIS_TLS_NAME" --cluster-tls-cert "$d/client.pem" \
		--cluster-tls-key "$d/client.key" --cluster-user wgnode --cluster-password-file "$RUN/redis.pass" "$@"
}

WOLFGUARD_TESTS+=(cluster_redis_tls)

# Nodes a (port 443) and b (8443) reach Redis only through TLS (client
# certificate, ACL user). alice logs in on a, her client goes away, she comes
# back with her cookie through b, which adopts the session from the record
# a wrote over TLS. Node b restarted with a CA that did not sign Redis's
# certificate never connects, says why in one line, and still serves logins;
# so does a node expecting another name in the certificate. wolfguardctl
# --cluster over TLS lists alice's session on node b; with the wrong CA or
# name it says why and exits 3.
test_cluster_redis_tls() { cluster_redis_tls; local rc=$?; client_disconnect_all; node2_stop || rc=1; redis_stop; return $rc; }
cluster_redis_tls() {
	make_redis_certs || fail "could not make the test certificates: $(tail -n 3 "$RUN/redis-tls/openssl.log")" || return 1
	redis_tls_start || fail "redis-server with TLS did not start: $(tail -n 3 "$RUN/redis.log")" || return 1
	cluster_tls_conf
	server_start_wolfguard false || fail "node a did not start" || return 1
	wait_for 30 grep -q "cluster: redis at 127.0.0.1:$REDIS_TLS_PORT (TLS) connected" "$RUN/server.log" ||
		fail "node a did not connect over TLS: $(grep cluster "$RUN/server.log" | tail -n 2)" || return 1
	node2_start b ||
		fail "node b did not connect over TLS: $(grep cluster "$RUN/node-b.log" | tail -n 2)" || return 1
	wait_for 30 tls_clients_ge 2 || fail "redis sees $(tls_clients) clients on its TLS port, want 2" || return 1

	local cookie a
	cookie=$(authenticate alice secret1)
	[ -n "$cookie" ] || fail "--authenticate printed no COOKIE" || return 1
	connect_or_fail alice - --cookie "$cookie" || return 1
	a=$(client_env alice INTERNAL_IP4_ADDRESS)
	wait_for 30 session_keys_are 1 || fail "no record written over TLS: $(session_keys)" || return 1
	client_disconnect alice --keep-session
	SRV_ADDR="$SRV_ADDR:8443" connect_or_fail alice - --cookie "$cookie" --no-dtls || return 1
	grep -q "adopted from node a" "$RUN/node-b.log" || fail "node b did not adopt alice's session over TLS" || return 1
	[ "$(client_env alice INTERNAL_IP4_ADDRESS)" = "$a" ] || fail "the adopted session's address is not $a" || return 1
	wait_for 30 sh -c "[ \"\$(timeout 10 ip netns exec '$NS_SRV' redis-cli -p $REDIS_PORT HGET '$(session_keys)' node)\" = b ]" ||
		fail "the record does not name node b" || return 1

	# wolfguardctl --cluster over TLS sees the session and the node.
	local out rc
	out=$(wgctl_tls --json sessions 2>&1) || fail "wolfguardctl --cluster sessions over TLS: $out" || return 1
	jq -e '.sessions | length == 1 and .[0].user == "alice" and .[0].node == "b"' <<<"$out" >/dev/null ||
		fail "wolfguardctl --cluster sessions over TLS does not list alice on node b: $out" || return 1
	out=$(wgctl_tls status 2>&1) || fail "wolfguardctl --cluster status over TLS: $out" || return 1
	grep -q "^node b  *1 sessions" <<<"$out" || fail "wolfguardctl --cluster status over TLS: $out" || return 1
	out=$(wgctl_tls --cluster-tls-ca "$RUN/redis-tls/other-ca.pem" sessions 2>&1)
	rc=$?
	[ "$rc" = 3 ] || fail "wolfguardctl with a CA that did not sign redis's certificate exited $rc: $out" || return 1
	grep -q "^wolfguardctl: redis at 127.0.0.1:$REDIS_TLS_PORT: TLS handshake failed: .*not signed by a CA of --cluster-tls-ca$" <<<"$out" ||
		fail "no clear line from wolfguardctl for the untrusted certificate: $out" || return 1
	echo "   wolfguardctl, wrong CA: $out"
	out=$(wgctl_tls --cluster-tls-name other.wg.test status 2>&1)
	rc=$?
	[ "$rc" = 3 ] || fail "wolfguardctl expecting another name exited $rc: $out" || return 1
	grep -q "TLS handshake failed: .*not issued for --cluster-tls-name$" <<<"$out" ||
		fail "no clear line from wolfguardctl for the name mismatch: $out" || return 1
	echo "   wolfguardctl, wrong name: $out"
	out=$(wgctl_tls --cluster-tls-name "" status 2>&1)
	rc=$?
	[ "$rc" = 2 ] && grep -q "needs a server name (--cluster-tls-name)" <<<"$out" ||
		fail "wolfguardctl without a name: exit $rc: $out" || return 1
	client_disconnect alice
	wait_for 30 session_keys_are 0 || fail "the record outlived the logout on node b" || return 1

	# A CA that did not sign Redis's certificate: refused, one clear line.
	node_b_tls_refused "{\"cluster-redis-tls-ca\": \"$RUN/redis-tls/other-ca.pem\"}" \
		"cluster: redis at 127.0.0.1:$REDIS_TLS_PORT (TLS) unavailable: TLS handshake failed" "wrong CA" || return 1
	local out
	out=$(in_ns "$NS_CLI" timeout 30 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$PIN" "https://$SRV_ADDR:8443/" <<<secret1 2>&1)
	grep -q "^COOKIE=" <<<"$out" || fail "node b without redis refused a password login: $(tail -n 2 <<<"$out")" || return 1

	# The right CA, but another name than the certificate's.
	node_b_tls_refused '{"cluster-redis-tls-name": "other.wg.test"}' \
		"cluster: redis at .* (TLS) unavailable: TLS handshake failed" "wrong name" || return 1
	# Node a stayed connected all along.
	grep -q "cluster: redis at .* unavailable" "$RUN/server.log" && fail "node a lost redis: $(grep -m1 unavailable "$RUN/server.log")" && return 1
	return 0
}
