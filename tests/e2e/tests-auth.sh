# Client-certificate login and the login chain (sourced by run.sh).
# The lab CA issues client certificates: alice (CN=alice, OU=engineering),
# bob (revoked in the CRL of cert_revoked) and one from a CA the server
# does not trust.

WOLFGUARD_TESTS+=(cert_login cert_missing cert_untrusted cert_revoked cert_then_password)

# server_conf_set KEY JSON: sets one key of the server section.
server_conf_set() {
	python3 - "$RUN/conf.d/00-server.json" "$1" "$2" <<'PY'
import json, sys
path, key, value = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path) as f:
    conf = json.load(f)
conf["server"][key] = json.loads(value)
with open(path, "w") as f:
    json.dump(conf, f, indent=1)
PY
}

# client_cert NAME SUBJECT [CA-PREFIX]: a client key and certificate
# $RUN/client-NAME.{key,crt} signed by the lab CA (or by CA-PREFIX.{pem,key}).
client_cert() {
	local name=$1 subj=$2 ca=${3:-$RUN/ca}
	[ -s "$RUN/client-$name.crt" ] && return 0
	printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature" "basicConstraints=CA:FALSE" \
		"subjectAltName=email:$name@example.test" >"$RUN/client.ext"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$RUN/client-$name.key" 2>>"$RUN/openssl.log" &&
		openssl req -new -key "$RUN/client-$name.key" -subj "$subj" -out "$RUN/client-$name.csr" 2>>"$RUN/openssl.log" &&
		openssl x509 -req -in "$RUN/client-$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -days 7 \
			-extfile "$RUN/client.ext" -out "$RUN/client-$name.crt" 2>>"$RUN/openssl.log"
}

# The server trusts the lab CA for client certificates; auth-cert is the
# first login step, followed by auth-plain only when $1 is "chain".
start_cert_server() { # [chain] [extra server key=json...]
	local chain=${1:-}
	shift || true
	wolfguard_conf false
	server_conf_set ca-file "\"$RUN/ca.pem\""
	while [ $# -gt 0 ]; do
		server_conf_set "${1%%=*}" "${1#*=}"
		shift
	done
	cat >"$RUN/conf.d/15-auth-cert.json" <<JSON
{"plugin": "auth-cert", "options": {"user-from": "cn", "group-from-ou": true}}
JSON
	[ "$chain" = chain ] || rm -f "$RUN/conf.d/20-auth-plain.json"
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"
}

cert_args() { echo "-c $RUN/client-$1.crt -k $RUN/client-$1.key"; }

test_cert_login() {
	client_cert alice "/CN=alice/OU=engineering" || fail "cannot make a client certificate" || return 1
	start_cert_server || return 1
	# shellcheck disable=SC2046 # the two options split on purpose
	connect_or_fail alice unused -- $(cert_args alice) || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping to the LAN host" || return 1
	grep -q 'user "alice"\|session created (group engineering)' "$RUN/server.log" ||
		fail "the server did not log alice's session with the OU's group" || return 1
	grep -q "session created (group engineering)" "$RUN/server.log" ||
		fail "the OU did not become the group: $(grep 'session created' "$RUN/server.log" | tail -n 1)" || return 1
}

test_cert_missing() {
	start_cert_server || return 1
	! client_connect alice secret1 || fail "a login without a certificate got a tunnel" || return 1
	grep -q "no client certificate presented" "$RUN/server.log" ||
		fail "the refusal's reason was not logged" || return 1
	grep -q "A valid client certificate is required" "$(client_log alice)" ||
		fail "the client was not told why: $(tail -n 2 "$(client_log alice)" | tr '\n' ' ')" || return 1
}

test_cert_untrusted() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 -subj "/CN=rogue CA" \
		-addext basicConstraints=critical,CA:TRUE -keyout "$RUN/rogue.key" -out "$RUN/rogue.pem" 2>>"$RUN/openssl.log" ||
		fail "cannot make the rogue CA" || return 1
	client_cert mallory "/CN=alice" "$RUN/rogue" || fail "cannot make the rogue certificate" || return 1
	start_cert_server || return 1
	# shellcheck disable=SC2046
	! client_connect mallory unused -- $(cert_args mallory) ||
		fail "a certificate from an untrusted CA claiming CN=alice got a tunnel" || return 1
	server_alive || fail "the server died on an untrusted certificate" || return 1
}

test_cert_revoked() {
	client_cert alice "/CN=alice/OU=engineering" && client_cert bob "/CN=bob/OU=sales" ||
		fail "cannot make client certificates" || return 1
	# A minimal CA database for `openssl ca -gencrl` that revokes bob.
	local db=$RUN/cadb
	mkdir -p "$db" && : >"$db/index.txt" && echo 01 >"$db/crlnumber"
	cat >"$db/ca.cnf" <<CNF
[ca]
default_ca = lab
[lab]
database = $db/index.txt
crlnumber = $db/crlnumber
default_md = sha256
default_crl_days = 7
CNF
	openssl ca -config "$db/ca.cnf" -cert "$RUN/ca.pem" -keyfile "$RUN/ca.key" -revoke "$RUN/client-bob.crt" \
		>>"$RUN/openssl.log" 2>&1 &&
		openssl ca -config "$db/ca.cnf" -cert "$RUN/ca.pem" -keyfile "$RUN/ca.key" -gencrl -out "$RUN/crl.pem" \
			>>"$RUN/openssl.log" 2>&1 || fail "cannot make the CRL: $(tail -n 2 "$RUN/openssl.log")" || return 1
	start_cert_server "" "crl-file=\"$RUN/crl.pem\"" || return 1
	# shellcheck disable=SC2046
	! client_connect bob unused -- $(cert_args bob) || fail "a revoked certificate got a tunnel" || return 1
	# shellcheck disable=SC2046
	connect_or_fail alice unused -- $(cert_args alice) || return 1
}

# Certificate first, then the password of the user the certificate names.
test_cert_then_password() {
	client_cert alice "/CN=alice/OU=engineering" || fail "cannot make a client certificate" || return 1
	start_cert_server chain || return 1
	grep -q "login chain: auth-cert -> auth-plain" "$RUN/server.log" || fail "the chain was not announced" || return 1
	# bob's password with alice's certificate: the second step checks alice.
	# shellcheck disable=SC2046
	! client_connect alice secret2 --tag wrong -- $(cert_args alice) ||
		fail "alice's certificate with bob's password got a tunnel" || return 1
	# shellcheck disable=SC2046
	! client_connect alice secret1 --tag nocert ||
		fail "the right password without a certificate got a tunnel" || return 1
	# shellcheck disable=SC2046
	connect_or_fail alice secret1 -- $(cert_args alice) || return 1
	grep -q 'user "alice" passed auth-cert; next step auth-plain' "$RUN/server.log" ||
		fail "the server did not log the chain's steps" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping to the LAN host" || return 1
}
