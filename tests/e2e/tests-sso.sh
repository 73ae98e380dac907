# shellcheck shell=bash
# auth-oidc's browser login (AnyConnect single-sign-on-v2, openconnect
# --external-browser), sourced by tests/e2e/run.sh (wolfguard only).
#
# The provider is tests-oidc.sh's real Lemonldap::NG (oidc_run). openconnect
# runs in the client namespace with --external-browser oidc/browser.sh, which
# stands in for the user's browser: it logs in on LLNG's login page with curl
# and follows the redirects (provider -> wolfguard's callback -> openconnect's
# listener on localhost:29786). Nothing here fakes either end.

WOLFGUARD_TESTS+=(sso_browser_login sso_browser_refusals sso_provider_unreachable sso_then_cert)

SSO_CALLBACK=https://vpn.test/+wolfguard+/auth-oidc/callback
# llng-conf.py registers it for the "wolfguard" client (and requires PKCE).
export LLNG_REDIRECT_URI=$SSO_CALLBACK

# sso_conf [EXTRA-OPTIONS-JSON]: tests-oidc.sh's conf.d with the browser login on.
sso_conf() {
	oidc_wolfguard_conf "\"browser-sso\": true, \"public-url\": \"https://vpn.test\",
  \"client-secret\": \"$OIDC_SECRET\", \"groups-allowed\": [\"engineering\", \"sales\"]${1:+, $1}"
}

# sso_wolfguard [EXTRA-OPTIONS-JSON]: that conf.d, the server (re)started.
sso_wolfguard() {
	server_stop
	sso_conf "$@"
	server_start wolfguard || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"
}

# sso_browser USER MODE [LATE-SECONDS]: what the browser script does next.
sso_browser() {
	cat >"$RUN/oidc/browser.env" <<ENV
IDP_NS=$NS_SRV
CA=$RUN/ca.pem
USER_NAME=$1
USER_PASS=$1
SERVER_ADDR=$SRV_ADDR
MODE=$2
LATE_SECONDS=${3:-0}
ENV
	: >"$RUN/oidc/browser.log"
}

# sso_connect TAG [client_connect options] [-- openconnect options]: openconnect
# with the browser, trusting the lab CA for vpn.test.
sso_connect() {
	local tag=$1
	shift
	client_connect "$tag" unused --tag "$tag" --cafile "$@" -- --external-browser "$E2E_DIR/oidc/browser.sh"
}

sso_fail_detail() { # tag: the last lines of the client's and the browser's logs
	echo "client: $(tail -n 4 "$(client_log "$1")" | tr '\n' ' ') browser: $(tail -n 4 "$RUN/oidc/browser.log" | tr '\n' ' ')"
}

# dwho logs in through the browser: the server's form names LLNG's
# authorization URL with state, nonce and an S256 challenge; the browser logs
# in there; the code comes back to wolfguard, which exchanges it (LLNG
# refuses a token request without the right PKCE verifier), seals a token to
# openconnect's key; openconnect submits it and gets its tunnel, in the
# engineering pool (the ID token's group claim). The browser calls the
# callback twice: the second is refused as already used; after the login,
# the same redirect is refused as unknown.
_sso_browser_login() {
	local a
	sso_wolfguard || return 1
	grep -q "auth-oidc: browser login on, redirect URI $SSO_CALLBACK" "$RUN/server.log" ||
		fail "the browser login was not announced" || return 1
	sso_browser dwho replay
	sso_connect dwho || fail "dwho: no tunnel through the browser: $(sso_fail_detail dwho)" || return 1
	grep -q "browser: openconnect's listener: HTTP/1.1 302 Found https://vpn.test/+wolfguard+/auth-oidc/done" \
		"$RUN/oidc/browser.log" || fail "openconnect's listener did not take the token: $(sso_fail_detail dwho)" || return 1
	grep -q "Got encrypted SSO token" "$(client_log dwho)" || fail "openconnect did not report the sealed token" || return 1
	grep -q 'auth-oidc: browser login for .*: code exchanged for an ID token' "$RUN/server.log" ||
		fail "no exchange line" || return 1
	grep -q 'auth-oidc: user "dwho" accepted (alg RS256, kid key1, groups: engineering)' "$RUN/server.log" ||
		fail "no accept line for dwho" || return 1
	grep -q "browser: replayed callback: HTTP/1.1 400" "$RUN/oidc/browser.log" ||
		fail "the replayed callback was not refused: $(sso_fail_detail dwho)" || return 1
	grep -q 'auth-oidc: browser callback from .* refused: state ".*" was already used (a replayed redirect)' \
		"$RUN/server.log" || fail "no log line for the replayed callback" || return 1
	a=$(client_env dwho INTERNAL_IP4_ADDRESS)
	last_octet_between "$a" 128 192 || fail "dwho (engineering) got $a, not from 10.8.0.128/26" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "dwho cannot reach the LAN" || return 1
	# The login is over: its redirect is not known any more.
	local code
	code=$(in_ns "$NS_CLI" curl -s -o /dev/null -w '%{http_code}' --max-time 30 --cacert "$RUN/ca.pem" \
		--resolve "vpn.test:443:$SRV_ADDR" "$(cat "$RUN/oidc/callback-url")")
	[ "$code" = 400 ] || fail "a replay after the login got $code" || return 1
	grep -q 'auth-oidc: browser callback from .* refused: unknown state ".*" (forged, or its login ended)' \
		"$RUN/server.log" || fail "no log line for the replay after the login" || return 1
	server_alive || fail "the server died" || return 1
}
test_sso_browser_login() { oidc_run _sso_browser_login; }

# A forged state is refused (and the real one still works afterwards); a
# browser that comes back after sso-timeout gets the login refused with the
# reason, at the client's next step; so does a code the provider never gave
# (refused by the provider at the exchange); a callback with two codes, and
# a URL of no plugin, get 400/404.
_sso_browser_refusals() {
	local n code
	sso_wolfguard '"sso-timeout": 10' || return 1

	sso_browser rtyler wrong_state
	sso_connect rtyler || fail "rtyler: no tunnel after the forged state: $(sso_fail_detail rtyler)" || return 1
	grep -q "browser: forged state: HTTP/1.1 400" "$RUN/oidc/browser.log" ||
		fail "the forged state was not refused: $(sso_fail_detail rtyler)" || return 1
	grep -q 'auth-oidc: browser callback from .* refused: unknown state "AAAAAAAA..." (forged, or its login ended)' \
		"$RUN/server.log" || fail "no log line for the forged state" || return 1
	client_disconnect rtyler

	n=$(grep -c 'login failed' "$RUN/server.log")
	sso_browser dwho late 12
	! sso_connect late || fail "a browser 12 s late (sso-timeout 10) got a tunnel" || return 1
	wait_for 30 server_log_count_ge 'login failed' $((n + 1)) || fail "no 'login failed' line for the late browser" || return 1
	grep 'login failed' "$RUN/server.log" | tail -n 1 |
		grep -q 'auth-oidc: the browser came back 1[0-9] s after the login form, over sso-timeout (10 s)' ||
		fail "the late browser's refusal does not say why: $(grep 'login failed' "$RUN/server.log" | tail -n 1)" || return 1

	n=$(grep -c 'login failed' "$RUN/server.log")
	sso_browser dwho bad_code
	! sso_connect badcode || fail "a code the provider never gave got a tunnel" || return 1
	wait_for 30 server_log_count_ge 'login failed' $((n + 1)) || fail "no 'login failed' line for the bad code" || return 1
	grep 'login failed' "$RUN/server.log" | tail -n 1 | grep -q 'auth-oidc: the token endpoint refused the code: invalid_grant' ||
		fail "the bad code's refusal does not say why: $(grep 'login failed' "$RUN/server.log" | tail -n 1)" || return 1

	code=$(in_ns "$NS_CLI" curl -s -o /dev/null -w '%{http_code}' --max-time 30 --cacert "$RUN/ca.pem" \
		--resolve "vpn.test:443:$SRV_ADDR" "https://vpn.test/+wolfguard+/auth-oidc/callback?code=x&code=y")
	[ "$code" = 400 ] || fail "a callback with two codes got $code" || return 1
	grep -q 'auth-oidc: browser callback from .* refused: parameter "code" given twice' "$RUN/server.log" ||
		fail "no log line for the malformed callback" || return 1
	code=$(in_ns "$NS_CLI" curl -s -o /dev/null -w '%{http_code}' --max-time 30 --cacert "$RUN/ca.pem" \
		--resolve "vpn.test:443:$SRV_ADDR" "https://vpn.test/+wolfguard+/auth-nothing/callback")
	[ "$code" = 404 ] || fail "a URL of no plugin got $code" || return 1
	server_alive || fail "the server died" || return 1
}
test_sso_browser_refusals() { oidc_run _sso_browser_refusals; }

# The provider cannot be reached when the first browser login needs its
# discovery document (its port drops SYNs): that login fails with the
# reason once the fetch times out, the control socket answers meanwhile;
# once the provider is back, the next login works.
_sso_provider_unreachable() {
	local n
	sso_wolfguard '"jwks-refetch-interval": 0' || return 1
	oidc_provider_gone || fail "nft" || return 1
	n=$(grep -c 'login failed' "$RUN/server.log")
	sso_browser dwho normal
	sso_connect down &
	local bg=$!
	oidc_fetch_hangs 1 || return 1
	if wait "$bg"; then
		fail "a browser login got a tunnel while the provider is unreachable"
		return 1
	fi
	wait_for 30 server_log_count_ge 'login failed' $((n + 1)) || fail "no 'login failed' line" || return 1
	grep 'login failed' "$RUN/server.log" | tail -n 1 |
		grep -q "auth-oidc: the provider's discovery document could not be fetched: .*timed out" ||
		fail "no clear refusal: $(grep 'login failed' "$RUN/server.log" | tail -n 1)" || return 1
	oidc_provider_back
	sso_browser dwho normal
	sso_connect dwho || fail "dwho: no tunnel once the provider is back: $(sso_fail_detail dwho)" || return 1
	server_alive || fail "the server died" || return 1
}
test_sso_provider_unreachable() { oidc_run _sso_provider_unreachable; }

# A chain: the browser login first, then the client certificate (auth-cert,
# user from the CN). dwho's browser login with dwho's certificate logs in;
# with rtyler's certificate the second step names another user and the
# login fails.
_sso_then_cert() {
	client_cert dwho "/CN=dwho/OU=engineering" || fail "cannot make a client certificate" || return 1
	client_cert rtyler "/CN=rtyler/OU=sales" || fail "cannot make a client certificate" || return 1
	server_stop
	sso_conf
	server_conf_set ca-file "\"$RUN/ca.pem\""
	echo '{"plugin": "auth-cert", "options": {"user-from": "cn"}}' >"$RUN/conf.d/25-auth-cert.json"
	server_start wolfguard || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
	grep -q "login chain: auth-oidc -> auth-cert" "$RUN/server.log" || fail "the chain was not announced" || return 1

	sso_browser dwho normal
	# shellcheck disable=SC2046 # the two options split on purpose
	! client_connect wrong unused --tag wrong --cafile -- --external-browser "$E2E_DIR/oidc/browser.sh" \
		$(cert_args rtyler) || fail "dwho's browser login with rtyler's certificate got a tunnel" || return 1
	grep -q 'login failed for user "dwho"' "$RUN/server.log" ||
		fail "the certificate of another user was not refused: $(grep 'login failed' "$RUN/server.log" | tail -n 1)" ||
		return 1

	sso_browser dwho normal
	# shellcheck disable=SC2046
	client_connect dwho unused --tag dwho --cafile -- --external-browser "$E2E_DIR/oidc/browser.sh" \
		$(cert_args dwho) || fail "dwho with browser and certificate: no tunnel: $(sso_fail_detail dwho)" || return 1
	grep -q 'user "dwho" passed auth-oidc; next step auth-cert' "$RUN/server.log" ||
		fail "the server did not log the chain's steps" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping to the LAN host" || return 1
}
test_sso_then_cert() { oidc_run _sso_then_cert; }
