#!/usr/bin/env bash
# Captures the HTTP exchange between openconnect and Debian's ocserv in the
# lab, as a reference for wolfguard's answers:
#   1. a password login up to the CONNECT response and DTLS;
#   2. a login with a wrong password (what the server answers on failure);
# and ocserv's log of both. Session cookies and the DTLS master secret are
# redacted.
#
# Usage (root): tests/e2e/capture-http.sh [OUTPUT]
#   default OUTPUT: tests/e2e/reference/ocserv-http-exchange.txt
set -uo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
OUT=${1:-$E2E_DIR/reference/ocserv-http-exchange.txt}
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 1; }
trap lab_down EXIT
trap 'exit 130' INT TERM HUP

redact() {
	sed -e 's/\(webvpn\(context\)\{0,1\}=\)[^;[:space:]]\{1,\}/\1<redacted-cookie>/g' \
		-e 's/^\(> X-DTLS-Master-Secret: \).*/\1<redacted: 96 hex digits>/'
}

# capture TAG PASSWORD: one openconnect run with the HTTP dump; the client
# is stopped (SIGINT) once it is configured and DTLS is up, or has given up.
capture() {
	client_connect alice "$2" --tag "$1" -- -vvv --dump-http-traffic || true
	client_wait_dtls "$1" || true
	client_disconnect "$1"
}

lab_up || exit 1
server_start_ocserv || exit 1
capture ok secret1
capture bad wrong-password
server_stop # flushes ocserv's log
ocserv_version=$(ocserv --version 2>&1 | awk 'NR == 1 {print $2}')
oc_version=$(openconnect --version 2>&1 | awk 'NR == 1 {print $NF}')
mkdir -p "$(dirname "$OUT")"
{
	cat <<EOF
# openconnect $oc_version <-> ocserv $ocserv_version: the complete HTTP exchange, captured in the
# tests/e2e lab with tests/e2e/capture-http.sh (ECDSA P-256 server certificate for
# CN=vpn.test, plain auth from an ocpasswd file, pool 10.8.0.0/24, route 203.0.113.0/24,
# DNS 203.0.113.53, split DNS example.test; ocserv.conf as written by
# server_start_ocserv in tests/e2e/lib.sh; user alice, throwaway password secret1).
# Client command: openconnect -vvv --dump-http-traffic --non-inter --passwd-on-stdin -u alice
#                 --servercert pin-sha256:... https://198.51.100.1/
# Lines "> " are what the client sent; "Got HTTP response:" / "Got CONNECT response:"
# are followed by the server's status line and headers; "< " lines are XML bodies
# the server sent. Other lines are openconnect's own messages.
# Redacted: session cookie values (webvpn=, webvpncontext=) and X-DTLS-Master-Secret.

######## 1. successful password login, CONNECT, DTLS ########
EOF
	# Up to where the tunnel is configured; the rest is data-path chatter.
	redact <"$RUN/client-ok.log" | sed -n '1,/^Configured as /p'
	cat <<EOF

######## 2. wrong password: the server's answer to a failed login ########
EOF
	redact <"$RUN/client-bad.log"
	cat <<EOF

######## ocserv's log of both (log-level = 2) ########
EOF
	redact <"$RUN/server.log"
} >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
# The redaction must have caught every cookie value and the master secret.
if grep -Eq 'webvpn(context)?=[A-Za-z0-9+/]{20,}|Master-Secret: [0-9A-Fa-f]{16,}' "$OUT"; then
	echo "$0: a secret escaped redaction in $OUT" >&2
	exit 1
fi
echo "wrote $OUT ($(wc -l <"$OUT") lines)"
