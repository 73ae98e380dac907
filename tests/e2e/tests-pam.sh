# shellcheck shell=bash
# auth-pam end-to-end tests, sourced by tests/e2e/run.sh (wolfguard only).
#
# Each test writes a PAM service file of its own into /etc/pam.d/ (a name
# unique to this run) from a template in tests/e2e/pam/, with the user
# databases it needs under $RUN/pam: a Berkeley DB for pam_userdb (db_load)
# and an OATH users file for pam_oath (HOTP codes from oathtool). The service
# file is removed when the test ends, passed, failed or interrupted.

PAM_SERVICE=
PAM_DIR=
# A 20-byte HOTP key (hex) and alice's counter in the users file.
PAM_OATH_KEY=3132333435363738393031323334353637383930
# alice's code in the second database of the userdb-twice stack.
PAM_CODE=246810

pam_cleanup() {
	[ -z "$PAM_SERVICE" ] || rm -f "/etc/pam.d/$PAM_SERVICE"
	PAM_SERVICE=
	return 0
}

# pam_setup TEMPLATE: the service file from tests/e2e/pam/TEMPLATE, and the
# user databases: alice/alice-pass (no unix account) and daemon/daemon-pass
# (the system's daemon user, whose unix groups auth-pam reports).
pam_setup() {
	local user pass
	command -v db_load >/dev/null || { log "db_load is missing (db-util); run scripts/deps.sh"; return 1; }
	command -v oathtool >/dev/null || { log "oathtool is missing; run scripts/deps.sh"; return 1; }
	PAM_DIR=$RUN/pam
	rm -rf "$PAM_DIR" && mkdir -p "$PAM_DIR" || return 1
	# pam_userdb keys are user names, values the passwords. crypt=none (plain
	# values): with crypt=crypt pam_userdb calls crypt(3), which a sanitizer
	# build of the server cannot run (its interceptor misses libcrypt when
	# PAM loads it at run time).
	: >"$PAM_DIR/users.txt"
	for user in alice daemon; do
		pass=$user-pass
		printf '%s\n%s\n' "$user" "$pass" >>"$PAM_DIR/users.txt"
	done
	db_load -T -t hash -f "$PAM_DIR/users.txt" "$PAM_DIR/users.db" || { log "db_load failed"; return 1; }
	printf 'alice\n%s\n' "$PAM_CODE" >"$PAM_DIR/codes.txt"
	db_load -T -t hash -f "$PAM_DIR/codes.txt" "$PAM_DIR/codes.db" || { log "db_load failed"; return 1; }
	# HOTP, counter 0; pam_oath rewrites this file as the counter moves.
	echo "HOTP alice - $PAM_OATH_KEY 0" >"$PAM_DIR/users.oath"
	chmod 600 "$PAM_DIR/users.oath"
	# pam_oath runs inside the server, which serves clients as nobody once
	# set up (the sandbox): the counter file and its directory must be the
	# server user's.
	chown nobody:nogroup "$PAM_DIR" "$PAM_DIR/users.oath" # it writes a new file and renames it
	PAM_SERVICE=wolfguard-e2e-$$-$RANDOM
	sed -e "s|@DIR@|$PAM_DIR|g" "$E2E_DIR/pam/$1" >"/etc/pam.d/$PAM_SERVICE" || return 1
}

# pam_run TEMPLATE BODY...: BODY with the service in place; the service file
# goes away whatever BODY did (an interrupt included: the EXIT trap of
# run.sh is widened for the duration).
pam_run() {
	local template=$1 rc
	shift
	trap 'pam_cleanup; lab_down' EXIT
	if ! pam_setup "$template"; then
		fail "PAM test setup failed"
		pam_cleanup
		trap lab_down EXIT
		return 1
	fi
	"$@"
	rc=$?
	pam_cleanup
	trap lab_down EXIT
	return $rc
}

# pam_wolfguard [MORE-OPTIONS-JSON [SERVER-KEY=JSON...]]: wolfguard with
# auth-pam in place of auth-plain, using this test's service.
pam_wolfguard() {
	local more=${1:-}
	shift || true
	rm -rf "$RUN/conf.d"
	wolfguard_conf false
	rm -f "$RUN/conf.d/20-auth-plain.json"
	cat >"$RUN/conf.d/20-auth-pam.json" <<JSON
{"plugin": "auth-pam", "options": {"service": "$PAM_SERVICE"${more:+, $more}}}
JSON
	while [ $# -gt 0 ]; do
		server_conf_set "${1%%=*}" "${1#*=}" || return 1
		shift
	done
	server_start wolfguard || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')"
}

# pam_hotp COUNTER: alice's HOTP code at that counter.
pam_hotp() { oathtool --hotp -d 6 -c "$1" "$PAM_OATH_KEY"; }

# pam_userdb alone: alice logs in with one form (the password typed there
# answers PAM's prompt) and reaches the LAN; daemon gets the unix groups of
# the system's daemon account.
_pam_password() {
	pam_wolfguard || return 1
	connect_or_fail alice alice-pass || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic through the PAM-authenticated tunnel" || return 1
	grep -q "auth-pam: $CLI_ADDR.*: user \"alice\" authenticated by PAM service \"$PAM_SERVICE\"" "$RUN/server.log" ||
		fail "no log line of alice's PAM success" || return 1
	connect_or_fail daemon daemon-pass --ns "$NS_CLI2" || return 1
	local group
	group=$(id -gn daemon)
	grep -q "session created (group $group)" "$RUN/server.log" || fail "daemon's unix group $group not applied" || return 1
}
test_pam_password() { pam_run userdb _pam_password; }

# A wrong password and an unknown user are refused; the PAM error string and
# the client's address reach the log, the user sees a generic message.
_pam_wrong_password() {
	pam_wolfguard || return 1
	if client_connect alice wrong-pass; then fail "a wrong password got a tunnel"; return 1; fi
	[ "$(client_exit_code alice)" != 0 ] || fail "openconnect exited 0 after a refused login" || return 1
	grep -q "login failed for user \"alice\": PAM service \"$PAM_SERVICE\": pam_authenticate: Authentication failure (client $CLI_ADDR" \
		"$RUN/server.log" || fail "no log line with the PAM error and the client address" || return 1
	grep -q 'Login failed' "$(client_log alice)" || fail "the user did not see the failure message" || return 1
	if client_connect mallory whatever --tag m; then fail "an unknown user got a tunnel"; return 1; fi
	grep -q "login failed for user \"mallory\": PAM service \"$PAM_SERVICE\": pam_authenticate:" "$RUN/server.log" ||
		fail "unknown user not logged" || return 1
	connect_or_fail alice alice-pass || return 1
}
test_pam_wrong_password() { pam_run userdb _pam_wrong_password; }

# pam_userdb, then pam_oath as a second PAM prompt: the form shows PAM's
# prompt text; the right HOTP code admits alice, a wrong one is refused.
_pam_two_prompts() {
	pam_wolfguard || return 1
	connect_or_fail alice alice-pass -- --form-entry "main:answer=$(pam_hotp 0)" || return 1
	grep -q 'One-time password (OATH) for' "$(client_log alice)" || fail "PAM's OTP prompt not shown" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic after the two-prompt login" || return 1
	client_disconnect alice
	# The code of counter 0 is spent: 000000 (not the next code) is refused.
	local wrong=000000
	[ "$(pam_hotp 1)" != $wrong ] && [ "$(pam_hotp 2)" != $wrong ] || wrong=999999
	if client_connect alice alice-pass --tag a2 -- --form-entry "main:answer=$wrong"; then
		fail "a wrong OTP got a tunnel"
		return 1
	fi
	grep -q "login failed for user \"alice\": PAM service \"$PAM_SERVICE\": pam_authenticate: Authentication failure (client $CLI_ADDR" \
		"$RUN/server.log" || fail "wrong OTP not logged with the PAM error" || return 1
	# A wrong password fails at the first module, before any OTP prompt.
	if client_connect alice wrong-pass --tag a3 -- --form-entry "main:answer=$(pam_hotp 1)"; then
		fail "a wrong password with a right OTP got a tunnel"
		return 1
	fi
	grep -q 'One-time password' "$(client_log a3)" && { fail "OTP asked after a wrong password (requisite)"; return 1; }
	connect_or_fail alice alice-pass --tag a4 -- --form-entry "main:answer=$(pam_hotp 1)" || return 1
}
test_pam_two_prompts() { pam_run userdb-oath _pam_two_prompts; }

# A client that leaves a PAM prompt unanswered holds one of
# max-conversations (1 here) until conversation-timeout (15 s: the second
# login must come within it, also on a busy machine) ends its transaction;
# meanwhile another login gets "Server busy", afterwards it gets in. (Second
# prompt from a second pam_userdb: see userdb-twice.)
_pam_abandoned() {
	pam_wolfguard '"max-conversations": 1, "conversation-timeout": 15' || return 1
	# openconnect without an answer for the second field gives up there.
	if client_connect alice alice-pass --tag quitter; then fail "a login without the code got a tunnel"; return 1; fi
	grep -q '^Password:' "$(client_log quitter)" || fail "PAM's second prompt not reached" || return 1
	if client_connect alice alice-pass --tag busy --ns "$NS_CLI2" -- --form-entry "main:answer=$PAM_CODE"; then
		fail "a second PAM transaction beyond max-conversations 1 got a tunnel"
		return 1
	fi
	grep -q 'max-conversations (1) PAM transactions already in flight' "$RUN/server.log" ||
		fail "no busy refusal logged" || return 1
	grep -q 'Server busy' "$(client_log busy)" || fail "the busy client was not told" || return 1
	wait_for 60 grep -q 'did not answer the PAM prompt within 15 s; transaction abandoned' "$RUN/server.log" ||
		fail "the unanswered transaction was not abandoned" || return 1
	connect_or_fail alice alice-pass --tag late -- --form-entry "main:answer=$PAM_CODE" || return 1
}
test_pam_abandoned() { pam_run userdb-twice _pam_abandoned; }

# A login that ends while PAM works (a module that waits, beyond the
# server's auth-timeout of 5 s, until the test removes a file) is cancelled:
# the server answers the client, the plugin's thread finishes the stack
# without answering and frees the only conversation slot for the next login.
_pam_cancel() {
	# Waits while the file is there (bounded: 5 min).
	printf '#!/bin/sh\ni=0\nwhile [ -e %s/slow ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done\nexit 0\n' \
		"$PAM_DIR" >"$PAM_DIR/slow.sh"
	chmod 755 "$PAM_DIR/slow.sh"
	touch "$PAM_DIR/slow"
	pam_wolfguard '"max-conversations": 1' auth-timeout=5 || return 1
	if client_connect alice alice-pass --tag slow; then fail "a login that outlived auth-timeout got a tunnel"; return 1; fi
	wait_for 60 grep -q 'auth-pam: .*login ended; PAM transaction of user "alice" cancelled' "$RUN/server.log" ||
		fail "the transaction was not cancelled" || return 1
	grep -q 'user "alice" authenticated by PAM' "$RUN/server.log" && { fail "a cancelled login was answered"; return 1; }
	rm -f "$PAM_DIR/slow"
	wait_for 60 grep -q 'auth-pam: .*PAM transaction of user "alice" ended after its login' "$RUN/server.log" ||
		fail "the cancelled transaction's thread was not collected" || return 1
	connect_or_fail alice alice-pass --tag after || return 1
}
# pam_exec runs a program, which the server's sandbox forbids (no execve):
# this test alone runs the server unconfined to have a module that sleeps.
test_pam_cancel() { WG_SANDBOX=off pam_run userdb-slow _pam_cancel; }

# After auth-cert named the user, auth-pam does not ask for the name: the
# first form is PAM's own password prompt for the certificate's user.
_pam_after_cert() {
	client_cert alice "/CN=alice/OU=engineering" || fail "cannot make a client certificate" || return 1
	rm -rf "$RUN/conf.d"
	wolfguard_conf false
	server_conf_set ca-file "\"$RUN/ca.pem\""
	rm -f "$RUN/conf.d/20-auth-plain.json"
	cat >"$RUN/conf.d/15-auth-cert.json" <<JSON
{"plugin": "auth-cert", "options": {"user-from": "cn", "group-from-ou": true}}
JSON
	cat >"$RUN/conf.d/20-auth-pam.json" <<JSON
{"plugin": "auth-pam", "options": {"service": "$PAM_SERVICE"}}
JSON
	server_start_wolfguard false || fail "wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
	# shellcheck disable=SC2046 # the two options split on purpose
	connect_or_fail alice unused -- $(cert_args alice) --form-entry main:answer=alice-pass || return 1
	grep -q 'Please enter your username' "$(client_log alice)" && { fail "auth-pam asked for the user name again"; return 1; }
	grep -q 'user "alice" passed auth-cert; next step auth-pam' "$RUN/server.log" || fail "chain step not logged" || return 1
	grep -q 'session created (group engineering)' "$RUN/server.log" || fail "the certificate's group is missing" || return 1
	# The certificate's user with a wrong PAM password is refused.
	# shellcheck disable=SC2046
	if client_connect alice unused --tag wrong -- $(cert_args alice) --form-entry main:answer=bad-pass; then
		fail "alice's certificate with a wrong PAM password got a tunnel"
		return 1
	fi
}
test_pam_after_cert() { pam_run userdb _pam_after_cert; }

WOLFGUARD_TESTS+=(pam_password pam_wrong_password pam_two_prompts pam_abandoned pam_cancel pam_after_cert)

# A PAM stack that needs root after the server dropped it: the password
# database is root's alone (0600), as /etc/shadow is. Checked in the server
# (nobody) it fails; with "privileged": true the server's root helper runs
# the transaction, over its length-checked socket, and alice gets in.
_pam_privileged() {
	chmod 600 "$PAM_DIR/users.db" && chown root:root "$PAM_DIR/users.db" || return 1
	pam_wolfguard || return 1
	! client_connect alice alice-pass --tag direct ||
		fail "a root-only database was readable by the unprivileged server" || return 1
	grep -q 'login failed for user "alice": PAM service' "$RUN/server.log" ||
		fail "the in-process failure was not logged" || return 1
	server_stop
	pam_wolfguard '"privileged": true' || return 1
	connect_or_fail alice alice-pass || return 1
	grep -q 'authenticated by PAM service .* (privileged helper)' "$RUN/server.log" ||
		fail "the helper did not authenticate alice" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping to the LAN host" || return 1
	! client_connect alice wrong-pass --tag wrong || fail "a wrong password passed the helper" || return 1
	grep -q '(privileged helper): .*client' "$RUN/server.log" || fail "the helper's refusal was not logged" || return 1
}
test_pam_privileged() { pam_run userdb _pam_privileged; }
WOLFGUARD_TESTS+=(pam_privileged)
