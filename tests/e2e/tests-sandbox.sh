# The server's confinement (sourced by run.sh): once set up, the process
# that serves clients is not root, cannot gain privileges, and runs under a
# seccomp filter; and it still serves.

WOLFGUARD_TESTS+=(sandbox_confined sandbox_off)

# status_field PID NAME: a field of /proc/PID/status.
status_field() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# The server's main process: the launcher execs into it (lib.sh).
wolfguard_pid() { echo "$SERVER_PID"; }

test_sandbox_confined() {
	start_server false || return 1
	connect_or_fail alice secret1 || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no ping to the LAN host" || return 1
	local pid uid nnp sc caps
	pid=$(wolfguard_pid)
	[ -n "$pid" ] || fail "no wolfguard process found" || return 1
	uid=$(status_field "$pid" Uid) nnp=$(status_field "$pid" NoNewPrivs) sc=$(status_field "$pid" Seccomp)
	caps=$(status_field "$pid" CapEff)
	echo "   pid $pid: uid $uid, NoNewPrivs $nnp, Seccomp $sc, CapEff $caps"
	[ "$uid" = "$(id -u nobody)" ] || fail "the server runs as uid $uid, not nobody" || return 1
	[ "$nnp" = 1 ] || fail "no_new_privs is not set" || return 1
	[ "$sc" = 2 ] || fail "no seccomp filter (Seccomp: $sc)" || return 1
	[ "$caps" = 0000000000000000 ] || fail "capabilities left: $caps" || return 1
	# Every thread, the worker pool's too, carries the filter.
	local t bad=0
	for t in /proc/"$pid"/task/*; do
		[ "$(awk '$1 == "Seccomp:" {print $2}' "$t/status")" = 2 ] || bad=$((bad + 1))
	done
	[ "$bad" = 0 ] || fail "$bad threads without the seccomp filter" || return 1
	grep -q "sandbox: running as nobody:nogroup" "$RUN/server.log" || fail "the drop was not logged" || return 1
	# Its privileged helper, a child, is the one process that stays root.
	local helper
	helper=$(pgrep -P "$pid" | head -n 1)
	[ -n "$helper" ] && [ "$(status_field "$helper" Uid)" = 0 ] || fail "no root helper process" || return 1
	echo "   privileged helper: pid $helper, uid 0"
}

# "off" keeps root, says so, and still works (for debugging).
test_sandbox_off() {
	WG_SANDBOX=off start_server false || return 1
	connect_or_fail alice secret1 || return 1
	[ "$(status_field "$(wolfguard_pid)" Uid)" = 0 ] || fail "sandbox off did not keep root" || return 1
	grep -q "sandbox off: the server keeps root" "$RUN/server.log" || fail "no warning for sandbox off" || return 1
}
