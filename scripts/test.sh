#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what it
# needs, then runs
#   1. unit tests (Criterion) on the release build,
#   2. the same unit tests under AddressSanitizer + UBSan (+ LeakSanitizer),
#   3. end-to-end tests: the real openconnect client against wolfguard in
#      network namespaces (needs root),
#   4. every fuzz target for a bounded time plus its regression inputs,
# and checks that the commands README.md and docs/ show still work
# (tests/docs/check-commands.py). Each stage's line gives its duration.
# Ends with one line "N passed, M failed" and a non-zero exit on failure.
#
# The end-to-end stages run their tests in E2E_JOBS labs at once (default 2,
# tests/e2e/run.sh: E2E_JOBS), the fuzz stage FUZZ_JOBS targets at once
# (default: one per core); E2E_JOBS=1 runs them one after another.
#
# WOLFGUARD_STRESS=1 runs all of it under a CPU hog: stress-ng keeps every
# core busy throughout (the tests wait for conditions, never for a speed).
#
# Usage: scripts/test.sh [--quick]   (--quick: skips fuzzing)
#   from a root shell; a user with sudo may type `sudo scripts/test.sh`, or
#   just scripts/test.sh, which then runs itself again with sudo.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# shellcheck source=scripts/root.sh
. "$top/scripts/root.sh"
quick=0
case "${1:-}" in
-h | --help) wg_usage; exit 0 ;;
--quick) quick=1 ;;
esac
fuzz_seconds=${WOLFGUARD_FUZZ_SECONDS:-20}
export E2E_JOBS=${E2E_JOBS:-2}

passed=0
failed=0
failures=()
stage_start=$SECONDS
record() { # name status: also the time since the previous record
	local took="($((SECONDS - stage_start)) s)"
	stage_start=$SECONDS
	if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "test.sh: PASS $1 $took"
	else failed=$((failed + 1)); failures+=("$1"); echo "test.sh: FAIL $1 $took"; fi
}

wg_need_root test.sh "packages, network namespaces, TUN" "$@"
"$top/scripts/deps.sh" || exit 1

# --- stress mode ---------------------------------------------------------------
if [ "${WOLFGUARD_STRESS:-0}" = 1 ]; then
	command -v stress-ng >/dev/null || { echo "test.sh: WOLFGUARD_STRESS=1 needs stress-ng (scripts/deps.sh installs it)" >&2; exit 1; }
	# --timeout: never outlives a suite that was killed without its trap.
	stress-ng --cpu "$(nproc)" --timeout 3h --quiet &
	stress_pid=$!
	trap 'kill "$stress_pid" 2>/dev/null; wait "$stress_pid" 2>/dev/null' EXIT
	echo "test.sh: stress mode: stress-ng --cpu $(nproc) (pid $stress_pid) keeps every core busy"
fi
# -------------------------------------------------------------------------------
stage_start=$SECONDS

unit_tests() { # builddir label
	local log="$1/meson-logs/unit-summary.txt" ok fail
	meson test -C "$1" --suite unit --print-errorlogs --num-processes 2 >"$log" 2>&1
	local rc=$?
	cat "$log" | grep -E "^ *[0-9]+/[0-9]+ |^Ok:|^Fail:|^Expected|^Unexpected|^Skipped|^Timeout" || true
	[ $rc -ne 0 ] && tail -n 60 "$log"
	# Criterion runs each test in a child whose sanitizer report does not
	# always fail the test: any report in the log fails the run.
	if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$1/meson-logs/testlog.txt"; then
		grep -E -A15 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$1/meson-logs/testlog.txt" | head -60
		echo "test.sh: sanitizer report in $2 unit tests"
		rc=1
	fi
	ok=$(awk '/^Ok:/ {print $2}' "$log"); fail=$(awk '/^Fail:/ {print $2}' "$log")
	echo "test.sh: $2 unit tests: ${ok:-0} ok, ${fail:-?} failed"
	return $rc
}

echo "== release build"
if "$top/scripts/build.sh" release; then
	record build-release 0
	unit_tests "$top/build" release; record unit-release $?
	echo "== documented commands (README.md, docs/*.md: tests/docs/check-commands.py)"
	"$top/tests/docs/check-commands.py" --build "$top/build"; record docs $?
else
	record build-release 1
fi

echo "== sanitizer build (ASan + UBSan + LSan)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if "$top/scripts/build.sh" asan; then
	record build-asan 0
	unit_tests "$top/build-asan" asan; record unit-asan $?
else
	record build-asan 1
fi

echo "== end-to-end (real openconnect client, network namespaces)"
if [ -x "$top/build/core/wolfguard" ] && [ -x "$top/tests/e2e/run.sh" ]; then
	WOLFGUARD_BIN="$top/build/core/wolfguard" WOLFGUARD_PLUGIN_DIR="$top/build/plugins" \
		"$top/tests/e2e/run.sh" wolfguard
	record e2e $?
else
	record e2e 1
fi

# The same lab with the sanitizer build of the server and its plugins, for
# the paths with the most intricate lifetimes (login chain, asynchronous
# policies, reload, accounting, reconnects, shutdown); run.sh fails a test
# whose server exit shows an ASan/LSan/UBSan report.
E2E_ASAN_TESTS=(login_pool wrong_password cookie_reconnect two_clients policy_lua policy_off_loop pool_by_policy
	cert_missing cert_then_password control ctl_reload ctl_graceful_stop ctl_ban radius_challenge radius_accounting
	pam_password pam_abandoned pam_after_cert ldap_search_bind workers_steering
	hostile_pipelined hostile_pipelined_logins hostile_conversation_flood hostile_unauth_share hostile_context_reuse
	hostile_logout_cookie helper_holds_no_key lua_hostile_policy ctl_invalid_utf8 sd_notify_single sd_notify_workers
	admin_same_clients admin_same_clients_lua admin_radius_message_authenticator admin_camouflage admin_events
	admin_events_workers
	transport_reload_keeps_dtls)
# vhosts: the ClientHello read ahead of TLS, per-vhost TLS contexts and chains across a reload;
# the shared per-period quota table.
E2E_ASAN_TESTS+=(vhost_sni vhost_reload vhost_proxy quota_period)
# Legacy DTLS: the resumed session built per handshake, and its reconnect.
E2E_ASAN_TESTS+=(dtls_legacy_aes256_gcm dtls_legacy_reconnect)
# The cluster store: adoption on another node, Redis faults (tests-cluster.sh).
E2E_ASAN_TESTS+=(cluster_failover cluster_redis_faults cluster_live_old_node cluster_shared_pool cluster_ctl_across_nodes cluster_redis_tls)
# Cluster nodes with two workers each: moves between workers, steering take-overs (tests-cluster-workers.sh).
E2E_ASAN_TESTS+=(cluster_workers)
# TLS to Redis by IP address: the handshake run ahead of the first command, the IP SAN check.
E2E_ASAN_TESTS+=(cluster_redis_ipsan)
# wolfguard-client built with the sanitizers too: its login, DTLS and cookie reconnect.
E2E_ASAN_TESTS+=(client_login client_dtls_iperf client_cookie_reconnect)
# transport-lanes: the whole server path with lane-peer, and refused forged lanes; two paths with
# the sanitizer wolfguard-client (a path dies mid-download and comes back)
E2E_ASAN_TESTS+=(lanes_peer_path lanes_peer_other_keys lanes_peer_kill_restore lanes_two_paths)
# per-session limits: the filter, the quota's end from the data path, iroute, a rekey
E2E_ASAN_TESTS+=(limits_restrict_ports limits_quota_disconnect limits_iroute limits_rekey_ssl)
# auth-oidc: logins waiting on a key fetch that fails, then succeeds (worker jobs, the waiting list).
E2E_ASAN_TESTS+=(oidc_provider_unreachable oidc_key_rotation)
# auth-oidc's browser login: the plugin URL route, the code exchange job, the sealed token.
E2E_ASAN_TESTS+=(sso_browser_login sso_browser_refusals sso_provider_unreachable)
echo "== end-to-end with the sanitizer build (${#E2E_ASAN_TESTS[@]} tests)"
if [ -x "$top/build-asan/core/wolfguard" ]; then
	# Only the tests this tree has (areas arrive in their own files).
	mapfile -t have < <(grep -hoE '^test_[a-z0-9_]+\(\)' "$top/tests/e2e/run.sh" "$top"/tests/e2e/tests-*.sh |
		sed 's/^test_//; s/()$//')
	asan_tests=()
	for t in "${E2E_ASAN_TESTS[@]}"; do
		printf '%s\n' "${have[@]}" | grep -qx "$t" && asan_tests+=("$t")
	done
	WOLFGUARD_BIN="$top/build-asan/core/wolfguard" WOLFGUARD_PLUGIN_DIR="$top/build-asan/plugins" \
		"$top/tests/e2e/run.sh" wolfguard "${asan_tests[@]}"
	record e2e-asan $?
else
	record e2e-asan 1
fi

if [ $quick = 0 ]; then
	echo "== fuzzing (${fuzz_seconds}s per target + regression inputs)"
	"$top/scripts/fuzz.sh" "$fuzz_seconds"
	record fuzz $?
fi

echo
[ ${#failures[@]} -gt 0 ] && echo "test.sh: failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
