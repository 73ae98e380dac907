# shellcheck shell=bash
# auth-oidc end-to-end tests, sourced by tests/e2e/run.sh (wolfguard only).
#
# The identity provider is real: Lemonldap::NG's portal (Debian 12's
# liblemonldap-ng-portal-perl), started by each test inside the server
# namespace on 127.0.0.1 under Plack's own HTTPS server (plackup, no Apache
# or FastCGI needed), with a configuration tests/e2e/oidc/llng-conf.py
# writes under $RUN: its signing key is made here, its users are LLNG's demo
# directory (dwho in group "engineering", rtyler in "sales"). The test gets
# ID tokens from it the way a token-fetching helper would (the OAuth2
# password grant, with curl) and hands them to openconnect
# --token-mode=oidc --token-secret=@FILE in the client namespace.

WOLFGUARD_TESTS+=(oidc_login_pool oidc_refusals oidc_provider_unreachable oidc_key_rotation oidc_cert_chain)

OIDC_PORT=18443
OIDC_ISSUER="https://127.0.0.1:$OIDC_PORT"
OIDC_PORT2=18444 # the second provider (another issuer, the same signing key)
OIDC_SECRET=wg-lab-oidc-secret
declare -A OIDC_PID=()

# A certificate for 127.0.0.1 signed by the lab CA (wolfguard's ca-file).
oidc_cert() {
	local d=$1
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/tls.key" 2>>"$d/openssl.log" &&
		openssl req -new -key "$d/tls.key" -subj /CN=127.0.0.1 -out "$d/tls.csr" 2>>"$d/openssl.log" &&
		printf '%s\n' "subjectAltName=IP:127.0.0.1" "extendedKeyUsage=serverAuth" "basicConstraints=CA:FALSE" \
			>"$d/tls.ext" &&
		openssl x509 -req -in "$d/tls.csr" -CA "$RUN/ca.pem" -CAkey "$RUN/ca.key" -CAcreateserial -days 2 \
			-extfile "$d/tls.ext" -out "$d/tls.pem" 2>>"$d/openssl.log"
}

# oidc_idp_start [PORT]: a provider whose issuer is https://127.0.0.1:PORT,
# signing with $RUN/oidc/sig.pem (made once per test) under kid "key1".
oidc_idp_start() {
	local port=${1:-$OIDC_PORT} d
	d=$RUN/oidc/idp-$port
	rm -rf "$d"
	mkdir -p "$d" || return 1
	command -v plackup >/dev/null || { log "plackup is missing; run scripts/deps.sh"; return 1; }
	[ -f "$RUN/oidc/sig.pem" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$RUN/oidc/sig.pem" 2>>"$RUN/oidc/openssl.log" || return 1
	[ -f "$RUN/oidc/tls.pem" ] || oidc_cert "$RUN/oidc" || { log "no TLS certificate for the provider"; return 1; }
	python3 "$E2E_DIR/oidc/llng-conf.py" "$d" "https://127.0.0.1:$port" "$RUN/oidc/sig.pem" key1 ||
		return 1
	# ip netns exec execs env, which execs plackup: $! is the provider itself.
	ip netns exec "$NS_SRV" env LLNG_DEFAULTCONFFILE="$d/lemonldap-ng.ini" plackup -s HTTP::Server::PSGI \
		--host 127.0.0.1 --port "$port" --ssl 1 --ssl-key-file "$RUN/oidc/tls.key" \
		--ssl-cert-file "$RUN/oidc/tls.pem" -a /usr/share/lemonldap-ng/portal/htdocs/index.psgi \
		>"$RUN/oidc/idp-$port.log" 2>&1 &
	OIDC_PID[$port]=$!
	wait_for 90 oidc_discovery_ok "$port" || {
		log "the provider did not start: $(grep -m3 '\[error\]' "$RUN/oidc/idp-$port.log" | cut -c1-300 | tr '\n' ' ')"
		return 1
	}
}

oidc_discovery_ok() { # port: the provider serves its discovery document
	in_ns "$NS_SRV" curl -sf --max-time 10 --cacert "$RUN/ca.pem" \
		"https://127.0.0.1:$1/.well-known/openid-configuration" 2>/dev/null | grep -q '"jwks_uri"'
}

oidc_idp_stop() {
	local port
	for port in "${!OIDC_PID[@]}"; do
		kill -TERM "${OIDC_PID[$port]}" 2>/dev/null
		wait_for 30 sh -c "! kill -0 ${OIDC_PID[$port]}" || kill -KILL "${OIDC_PID[$port]}" 2>/dev/null
		wait "${OIDC_PID[$port]}" 2>/dev/null
	done
	OIDC_PID=()
	oidc_provider_back 2>/dev/null
	return 0
}

# oidc_provider_gone / oidc_provider_back: the provider's port drops every
# SYN in the server namespace (each fetch waits out the plugin's timeout),
# then answers again.
oidc_provider_gone() {
	in_ns "$NS_SRV" nft -f - <<NFT
table inet oidclab {
	chain in {
		type filter hook input priority 0;
		tcp dport $OIDC_PORT drop
	}
}
NFT
}
oidc_provider_back() { in_ns "$NS_SRV" nft delete table inet oidclab; }

# oidc_fetch_hangs N [CHECK...]: the N-th fetch of the provider's keys has
# started while the provider is gone; the control socket answers and CHECK
# (when given) passes during it: only then may the fetch have failed, or
# the checks did not run while it hung.
oidc_fetch_hangs() {
	local n=$1
	shift
	wait_for 60 server_log_count_ge "fetching the provider's keys" "$n" || fail "no fetch started" || return 1
	# The fetch hangs on a worker now; the loop serves everyone else.
	oidc_ctl_json list >/dev/null || fail "the control socket did not answer during the fetch" || return 1
	if [ $# -gt 0 ]; then
		"$@" || return 1
	fi
	if grep -q "fetching the provider's keys failed" "$RUN/server.log"; then
		fail "the fetch ended before the checks: they did not run during it"
		return 1
	fi
}

# oidc_token CLIENT-ID USER [PORT]: an ID token from the provider (password
# grant), written to $RUN/oidc/token-CLIENT-USER; prints the file name.
oidc_token() {
	local client=$1 user=$2 port=${3:-$OIDC_PORT} f
	f=$RUN/oidc/token-$client-$user-$port
	in_ns "$NS_SRV" curl -sf --max-time 30 --cacert "$RUN/ca.pem" -u "$client:$OIDC_SECRET" \
		-d grant_type=password -d "username=$user" -d "password=$user" -d "scope=openid profile email" \
		"https://127.0.0.1:$port/oauth2/token" | jq -j .id_token >"$f" 2>/dev/null
	[ -s "$f" ] && [ "$(cat "$f")" != null ] || { log "no token for $client/$user from port $port"; return 1; }
	echo "$f"
}

# oidc_wolfguard_conf [EXTRA-OPTIONS-JSON]: a conf.d with auth-oidc in
# place of auth-plain and pools by group (engineering gets 10.8.0.128/26).
oidc_wolfguard_conf() {
	rm -rf "$RUN/conf.d"
	wolfguard_conf false
	rm -f "$RUN/conf.d/20-auth-plain.json"
	cat >"$RUN/conf.d/20-auth-oidc.json" <<JSON
{"plugin": "auth-oidc", "options": {"issuer": "$OIDC_ISSUER", "audience": ["wolfguard"],
  "ca-file": "$RUN/ca.pem", "timeout": 5${1:+, $1}}}
JSON
	cat >"$RUN/conf.d/30-routing-static.json" <<JSON
{"plugin": "routing-static", "options": {"ipv4-network": "$POOL_NET", "routes": ["$PUSHED_ROUTE"],
  "pools": ["engineering=10.8.0.128/26"]}}
JSON
}

# oidc_wolfguard [EXTRA-OPTIONS-JSON]: that conf.d, the server (re)started.
oidc_wolfguard() {
	server_stop
	oidc_wolfguard_conf "$@"
	server_start wolfguard || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"
}

# oidc_connect TAG TOKEN-FILE [client_connect options]: openconnect with the token.
oidc_connect() {
	local tag=$1 file=$2
	shift 2
	client_connect "$tag" unused --tag "$tag" "$@" -- --token-mode=oidc "--token-secret=@$file"
}

# oidc_run BODY: the provider up, BODY, the provider down whatever BODY did.
oidc_run() {
	local rc
	mkdir -p "$RUN/oidc"
	chmod 755 "$RUN/oidc"
	if ! oidc_idp_start; then
		fail "the OpenID provider did not start: $(grep -m2 '\[error\]' "$RUN/oidc/idp-$OIDC_PORT.log" 2>/dev/null | cut -c1-200 | tr '\n' ' ')"
		oidc_idp_stop
		return 1
	fi
	"$@"
	rc=$?
	oidc_idp_stop
	return $rc
}

oidc_ctl_json() { "$(dirname "$(wolfguard_bin)")/../tools/wolfguardctl" -s "$RUN/control.sock" --json "$@"; }

last_octet_between() { # address lo hi: 10.8.0.x with lo <= x < hi
	local o=${1##*.}
	[[ $1 == 10.8.0.* ]] && [ "$o" -ge "$2" ] && [ "$o" -lt "$3" ]
}

# dwho's token (groups users, timelords, engineering; groups-allowed keeps
# engineering and sales) gets an address of the engineering pool, rtyler's
# (sales) one outside it; msmith's token carries no allowed group, and the
# Lua policy, which sees the groups, refuses him with its own message.
_oidc_login_pool() {
	local tok_d tok_r tok_m a b
	cat >"$RUN/oidc/policy.lua" <<'LUA'
function after_auth(session)
  if #session.groups == 0 then return false, "No VPN group in your token." end
  if session.attr("oidc-sub") ~= session.user then return false, "oidc-sub missing" end
  return true
end
LUA
	server_stop
	oidc_wolfguard_conf '"groups-allowed": ["engineering", "sales"]'
	echo "{\"plugin\": \"policy-lua\", \"options\": {\"script\": \"$RUN/oidc/policy.lua\"}}" >"$RUN/conf.d/50-policy-lua.json"
	server_start wolfguard || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
	tok_d=$(oidc_token wolfguard dwho) || fail "the provider gave no token for dwho" || return 1
	tok_r=$(oidc_token wolfguard rtyler) || fail "the provider gave no token for rtyler" || return 1
	tok_m=$(oidc_token wolfguard msmith) || fail "the provider gave no token for msmith" || return 1
	oidc_connect dwho "$tok_d" || fail "dwho's token: no tunnel: $(tail -n 3 "$(client_log dwho)" | tr '\n' ' ')" || return 1
	oidc_connect rtyler "$tok_r" --ns "$NS_CLI2" ||
		fail "rtyler's token: no tunnel: $(tail -n 3 "$(client_log rtyler)" | tr '\n' ' ')" || return 1
	a=$(client_env dwho INTERNAL_IP4_ADDRESS)
	b=$(client_env rtyler INTERNAL_IP4_ADDRESS)
	last_octet_between "$a" 128 192 || fail "dwho (engineering) got $a, not from 10.8.0.128/26" || return 1
	! last_octet_between "$b" 128 192 && address_in_pool "$b" ||
		fail "rtyler (sales) got $b: inside the engineering pool or outside the network" || return 1
	grep -q 'auth-oidc: user "dwho" accepted (alg RS256, kid key1, groups: engineering)' "$RUN/server.log" ||
		fail "no accept line for dwho with his groups" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "dwho cannot reach the LAN" || return 1
	client_disconnect rtyler
	! oidc_connect msmith "$tok_m" --ns "$NS_CLI2" || fail "msmith got a tunnel without a VPN group" || return 1
	grep -q "No VPN group in your token" "$RUN/server.log" "$(client_log msmith)" ||
		fail "the Lua policy's refusal of msmith is not seen" || return 1
}
test_oidc_login_pool() { oidc_run _oidc_login_pool; }

# refused TAG TOKEN-FILE LOG-TEXT: openconnect gets no tunnel, and the
# server says why.
oidc_refused() {
	local tag=$1 file=$2 want=$3 n
	n=$(grep -c 'login failed' "$RUN/server.log")
	! oidc_connect "$tag" "$file" || fail "$tag: a tunnel with a token that must be refused" || return 1
	wait_for 30 server_log_count_ge 'login failed' $((n + 1)) || fail "$tag: no 'login failed' line" || return 1
	grep -F "login failed" "$RUN/server.log" | tail -n 1 | grep -qF -- "$want" ||
		fail "$tag: the refusal does not say \"$want\": $(grep 'login failed' "$RUN/server.log" | tail -n 1)" || return 1
	server_alive || fail "the server died on $tag's token" || return 1
}

# Tokens the provider really issued, each refused with its own log line:
# expired (a client whose tokens live 1 s, clock-skew 0), another
# application's (wrong aud), another issuer's signed with the same key (a
# second provider), tampered (payload edited after signing), unsigned (the
# provider's alg "none"), HMAC (the provider's HS256 with the client
# secret), a made-up kid (no fetch within jwks-refetch-interval); then a
# valid one still logs in.
_oidc_refusals() {
	local t tampered none
	oidc_idp_start "$OIDC_PORT2" || fail "the second provider did not start" || return 1
	oidc_wolfguard '"clock-skew": 0, "jwks-refetch-interval": 3600' || return 1

	t=$(oidc_token wolfguard-short dwho) || fail "no short-lived token" || return 1
	local exp
	exp=$(cut -d. -f2 "$t" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .exp 2>/dev/null)
	[ -n "$exp" ] || exp=$(( $(date +%s) + 2 ))
	wait_for 30 sh -c "[ \$(date +%s) -gt $exp ]" || fail "the short token does not expire" || return 1
	oidc_refused expired "$t" "auth-oidc: token expired" || return 1

	t=$(oidc_token other-app dwho) || fail "no token for other-app" || return 1
	oidc_refused wrong_aud "$t" 'auth-oidc: token audiences (1) do not include ours' || return 1

	t=$(oidc_token wolfguard dwho "$OIDC_PORT2") || fail "no token from the second provider" || return 1
	oidc_refused wrong_iss "$t" "auth-oidc: token issuer \"https://127.0.0.1:$OIDC_PORT2\" is not \"$OIDC_ISSUER\"" || return 1

	# dwho's token with rtyler's name in it, the signature left as it was.
	t=$(oidc_token wolfguard dwho) || fail "no token for dwho" || return 1
	tampered=$RUN/oidc/token-tampered
	python3 - "$t" "$tampered" <<'PY'
import base64, json, sys
h, p, s = open(sys.argv[1]).read().strip().split(".")
claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
claims["preferred_username"] = "rtyler"
p = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
open(sys.argv[2], "w").write(".".join([h, p, s]))
PY
	oidc_refused tampered "$tampered" "auth-oidc: bad signature (RS256, key key1)" || return 1

	none=$(oidc_token wolfguard-none dwho) || fail "no alg none token" || return 1
	oidc_refused alg_none "$none" 'auth-oidc: token is unsigned (alg "none"' || return 1
	t=$(oidc_token wolfguard-hs dwho) || fail "no HS256 token" || return 1
	oidc_refused alg_hs256 "$t" 'auth-oidc: token algorithm "HS256" is not allowed' || return 1

	# A made-up kid (header edited): the keys were fetched less than
	# jwks-refetch-interval (3600 s here) ago, so no fetch is made for it.
	local fetches forged
	fetches=$(grep -c "fetching the provider's keys" "$RUN/server.log")
	forged=$RUN/oidc/token-made-up-kid
	python3 - "$none" "$forged" <<'PY'
import base64, sys
h, p = open(sys.argv[1]).read().strip().split(".")[:2]
hdr = base64.urlsafe_b64encode(b'{"typ":"JWT","alg":"RS256","kid":"made-up"}').rstrip(b"=").decode()
open(sys.argv[2], "w").write(".".join([hdr, p, "c2lnbmF0dXJl"]))
PY
	oidc_refused made_up_kid "$forged" 'auth-oidc: no key "made-up" in the provider' || return 1
	grep 'login failed' "$RUN/server.log" | tail -n 1 | grep -q "jwks-refetch-interval 3600 s" ||
		fail "the refusal does not say the fetch was rate-limited" || return 1
	[ "$(grep -c "fetching the provider's keys" "$RUN/server.log")" = "$fetches" ] ||
		fail "a made-up kid made the server fetch the keys again within jwks-refetch-interval" || return 1

	t=$(oidc_token wolfguard dwho) || fail "no token for dwho" || return 1
	oidc_connect dwho "$t" || fail "after the refusals a valid token gets no tunnel" || return 1
}
test_oidc_refusals() { oidc_run _oidc_refusals; }

# rtyler_pings: his tunnel (made below) still carries pings.
rtyler_pings() { ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "rtyler's tunnel stopped during the fetch"; }

# The provider cannot be reached (its port drops every SYN, so each fetch
# waits out the plugin's 5 s timeout): a login that needs its keys fails
# with the reason logged, while a user already connected keeps pinging and
# the control socket answers during the fetch; once the provider is back,
# the same login works.
_oidc_provider_unreachable() {
	local t_r t_d
	oidc_wolfguard '"jwks-refetch-interval": 0' || return 1
	t_r=$(oidc_token wolfguard rtyler) || fail "no token for rtyler" || return 1
	oidc_connect rtyler "$t_r" --ns "$NS_CLI2" || fail "rtyler: no tunnel" || return 1
	# A new signing key at the provider: dwho's token names a kid the
	# server does not have, so his login must fetch.
	LLNG_DEFAULTCONFFILE="$RUN/oidc/idp-$OIDC_PORT/lemonldap-ng.ini" /usr/share/lemonldap-ng/bin/rotateOidcKeys ||
		fail "rotateOidcKeys failed" || return 1
	wait_for 60 oidc_new_kid || fail "the provider still signs with key1 after the rotation" || return 1
	t_d=$(oidc_token wolfguard dwho) || fail "no token for dwho" || return 1
	oidc_provider_gone || fail "nft" || return 1
	local n
	n=$(grep -c "fetching the provider's keys" "$RUN/server.log")
	oidc_connect dwho "$t_d" &
	local bg=$!
	oidc_fetch_hangs $((n + 1)) rtyler_pings || return 1
	if wait "$bg"; then
		fail "dwho got a tunnel although the provider is unreachable"
		return 1
	fi
	grep 'login failed for user' "$RUN/server.log" | tail -n 1 |
		grep -q "auth-oidc: the provider's keys could not be fetched (no key \"[^\"]*\" in the provider's JWK Set): .*timed out" ||
		fail "no clear refusal: $(grep 'login failed' "$RUN/server.log" | tail -n 1)" || return 1
	grep -q "auth-oidc: fetching the provider's keys failed: .*127.0.0.1:$OIDC_PORT" "$RUN/server.log" ||
		fail "the failed fetch was not logged" || return 1
	server_alive || fail "the server died" || return 1
	oidc_provider_back
	oidc_connect dwho "$t_d" || fail "dwho: no tunnel once the provider is back: $(tail -n 2 "$(client_log dwho)" | tr '\n' ' ')" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "rtyler's tunnel broke" || return 1
}
oidc_new_kid() {
	in_ns "$NS_SRV" curl -sf --max-time 10 --cacert "$RUN/ca.pem" "$OIDC_ISSUER/oauth2/jwks" | jq -e '.keys[0].kid != "key1"' >/dev/null
}
test_oidc_provider_unreachable() { oidc_run _oidc_provider_unreachable; }

# The provider rotates its key (LLNG's own rotateOidcKeys): a token signed
# with the new key logs in (the server fetches the keys again for the
# unknown kid), and a token of the old key is refused once the old key is
# gone from the provider's set.
_oidc_key_rotation() {
	local old new
	oidc_wolfguard '"jwks-refetch-interval": 0' || return 1
	old=$(oidc_token wolfguard dwho) || fail "no token for dwho" || return 1
	oidc_connect dwho "$old" || fail "dwho: no tunnel before the rotation" || return 1
	client_disconnect dwho
	LLNG_DEFAULTCONFFILE="$RUN/oidc/idp-$OIDC_PORT/lemonldap-ng.ini" /usr/share/lemonldap-ng/bin/rotateOidcKeys ||
		fail "rotateOidcKeys failed" || return 1
	wait_for 60 oidc_new_kid || fail "the provider still signs with key1 after the rotation" || return 1
	new=$(oidc_token wolfguard rtyler) || fail "no token for rtyler" || return 1
	local kid
	kid=$(cut -d. -f1 "$new" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .kid 2>/dev/null)
	[ -n "$kid" ] && [ "$kid" != key1 ] || fail "the new token's kid is '$kid'" || return 1
	oidc_connect rtyler "$new" --ns "$NS_CLI2" || fail "a token of the new key got no tunnel" || return 1
	grep -q "auth-oidc: user \"rtyler\" accepted (alg RS256, kid $kid" "$RUN/server.log" ||
		fail "no accept line with the new kid $kid" || return 1
	[ "$(grep -c "signing key(s) from" "$RUN/server.log")" -ge 2 ] || fail "the keys were not fetched again" || return 1
	# The old key is gone from the provider's set: the old token makes the
	# server fetch once more (jwks-refetch-interval 0) and is refused.
	oidc_refused old_key "$old" 'auth-oidc: no key "key1" in the provider' || return 1
}
test_oidc_key_rotation() { oidc_run _oidc_key_rotation; }

# A chain: client certificate first (auth-cert, user from the CN), then
# the token. dwho's certificate with dwho's token logs in; with rtyler's
# token the second step vouches for another user and the login fails; the
# token without a certificate is refused by the first step.
# (client_cert, server_conf_set and cert_args are tests-auth.sh's.)
_oidc_cert_chain() {
	local tok_d tok_r
	client_cert dwho "/CN=dwho/OU=engineering" || fail "cannot make a client certificate" || return 1
	server_stop
	oidc_wolfguard_conf
	server_conf_set ca-file "\"$RUN/ca.pem\""
	echo '{"plugin": "auth-cert", "options": {"user-from": "cn"}}' >"$RUN/conf.d/15-auth-cert.json"
	server_start wolfguard || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
	grep -q "login chain: auth-cert -> auth-oidc" "$RUN/server.log" || fail "the chain was not announced" || return 1
	tok_d=$(oidc_token wolfguard dwho) || fail "no token for dwho" || return 1
	tok_r=$(oidc_token wolfguard rtyler) || fail "no token for rtyler" || return 1
	# shellcheck disable=SC2046
	! client_connect wrong unused --tag wrong -- $(cert_args dwho) --token-mode=oidc "--token-secret=@$tok_r" ||
		fail "dwho's certificate with rtyler's token got a tunnel" || return 1
	grep -q 'auth-oidc accepted "rtyler", but the login is for "dwho"' "$RUN/server.log" ||
		fail "the mismatch was not logged" || return 1
	# shellcheck disable=SC2046
	! oidc_connect nocert "$tok_d" || fail "dwho's token without a certificate got a tunnel" || return 1
	# shellcheck disable=SC2046
	client_connect dwho unused --tag dwho -- $(cert_args dwho) --token-mode=oidc "--token-secret=@$tok_d" ||
		fail "dwho with certificate and token: no tunnel: $(tail -n 3 "$(client_log dwho)" | tr '\n' ' ')" || return 1
	grep -q 'user "dwho" passed auth-cert; next step auth-oidc' "$RUN/server.log" ||
		fail "the server did not log the chain's steps" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping to the LAN host" || return 1
}
test_oidc_cert_chain() { oidc_run _oidc_cert_chain; }
