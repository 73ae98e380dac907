# Hardening findings of issue 22 that only show in a running server
# (sourced by run.sh). Each test fails on the code before its fix.

WOLFGUARD_TESTS+=(helper_holds_no_key)

# The private part of a PEM key as hex: the EC private scalar ("priv:") or
# the RSA private exponent, as the DER encoding carries it (leading 00
# padding removed).
key_private_hex() {
	openssl pkey -in "$1" -noout -text 2>/dev/null | awk '
		/^(priv|privateExponent):/ {grab = 1; next}
		grab && /^ +[0-9a-f:]+$/ {gsub(/[ :]/, ""); h = h $0; next}
		grab {exit}
		END {sub(/^(00)+/, "", h); print h}'
}

# Issue 22 item 6: the root helper must not hold the TLS private key (it
# was forked after the key was loaded, so both processes held it). The
# network process holds it (it terminates TLS): that is the control that
# shows the search finds the key where it is.
test_helper_holds_no_key() {
	start_server false || return 1
	connect_or_fail alice secret1 || return 1
	local pid helper key in_server in_helper
	pid=$SERVER_PID
	helper=$(pgrep -P "$pid" -x wolfguard-priv | head -n 1)
	[ -n "$helper" ] || fail "no privileged helper process" || return 1
	key=$(key_private_hex "$RUN/server-$CERT_TYPE.key")
	[ ${#key} -ge 64 ] || fail "could not read the private scalar of the test key" || return 1
	in_server=$(python3 "$TOP/tests/e2e/mem_find.py" "$pid" "$key")
	in_helper=$(python3 "$TOP/tests/e2e/mem_find.py" "$helper" "$key")
	echo "   private key bytes found: $in_server time(s) in the server (pid $pid), $in_helper in the helper (pid $helper)"
	[ "${in_server:-0}" -ge 1 ] || fail "the key was not found in the server's memory: the search is broken" || return 1
	[ "$in_helper" = 0 ] || fail "the privileged helper holds the TLS private key" || return 1
}
