# shellcheck shell=bash
# Packaging and migration (issue 17), sourced by run.sh:
#   migrate_same_service  the lab's ocserv, with a per-user file, serves alice and bob; its config goes
#                         through wolfguard-migrate; the migrated wolfguard gives the same openconnect
#                         client, same credentials, the same routes, DNS, split DNS and address range
#   package_install       the .debs (scripts/build-deb.sh, reused when the tree is unchanged) installed
#                         with dpkg into a fresh root (an overlay of this machine's /, so the host is
#                         untouched), the server started from the installed unit's ExecStart under a
#                         NOTIFY_SOCKET harness (READY, STATUS with the session count, RELOADING through
#                         ExecReload, STOPPING), and openconnect logs in against it
WOLFGUARD_TESTS+=(migrate_same_service package_install)

MIGRATE=$TOP/tools/migrate/wolfguard-migrate
PKG_DIR=$TOP/tests/package

# What the client got, one "VAR=value" per line, in a form both servers can be
# compared by: the routes sorted, the address replaced by whether it is in the pool.
tunnel_view() { # tag
	local f=$RUN/env-$1 n i
	echo "pool=$(address_in_pool "$(client_env "$1" INTERNAL_IP4_ADDRESS)" && echo yes || echo no)"
	echo "netmask=$(client_env "$1" INTERNAL_IP4_NETMASK)"
	echo "dns=$(client_env "$1" INTERNAL_IP4_DNS)"
	echo "split_dns=$(client_env "$1" CISCO_SPLIT_DNS)"
	n=$(client_env "$1" CISCO_SPLIT_INC)
	for ((i = 0; i < ${n:-0}; i++)); do
		echo "route=$(client_env "$1" "CISCO_SPLIT_INC_${i}_ADDR")/$(client_env "$1" "CISCO_SPLIT_INC_${i}_MASKLEN")"
	done | sort
	[ -s "$f" ] || echo "no-tunnel"
}

test_migrate_same_service() {
	[ -x "$(command -v ocserv)" ] || fail "ocserv is not installed (scripts/deps.sh installs it)" || return 1
	# alice has a per-user file: her routes and DNS replace the global ones in
	# ocserv; bob gets the global ones.
	mkdir -p "$RUN/per-user"
	printf 'route = 198.18.0.0/255.255.0.0\nroute = 192.0.2.0/24\ndns = 203.0.113.54\n' >"$RUN/per-user/alice"
	chmod -R a+rX "$RUN/per-user"
	server_start_ocserv false "config-per-user = $RUN/per-user/" || fail "ocserv did not start" || return 1
	connect_or_fail alice secret1 --tag oc-alice || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" --tag oc-bob || return 1
	tunnel_view oc-alice >"$RUN/view-ocserv-alice"
	tunnel_view oc-bob >"$RUN/view-ocserv-bob"
	client_disconnect_all
	server_stop

	rm -rf "$RUN/conf.d"
	"$MIGRATE" "$RUN/ocserv.conf" "$RUN/conf.d" >"$RUN/migrate.log" 2>&1 ||
		fail "wolfguard-migrate failed: $(tail -n 3 "$RUN/migrate.log" | tr '\n' ' ')" || return 1
	grep -q "^  socket-file: not needed" "$RUN/migrate.log" || fail "the notes do not list socket-file" || return 1
	[ -f "$RUN/conf.d/40-policy-lua.json" ] && [ -f "$RUN/conf.d/ocserv-per-user.lua" ] ||
		fail "config-per-user did not become a policy" || return 1
	# The lab's own choices, not ocserv's: the control socket in the run
	# directory (parallel runs), the lab's log level.
	jq --arg s "$RUN/control.sock" '.server["control-socket"] = $s | .server["log-level"] = "debug"' \
		"$RUN/conf.d/00-server.json" >"$RUN/00-server.json" && mv "$RUN/00-server.json" "$RUN/conf.d/"
	chmod -R a+rX "$RUN/conf.d"
	server_start_wolfguard || fail "the migrated wolfguard did not start: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
	connect_or_fail alice secret1 --tag wg-alice || return 1
	connect_or_fail bob secret2 --ns "$NS_CLI2" --tag wg-bob || return 1
	tunnel_view wg-alice >"$RUN/view-wolfguard-alice"
	tunnel_view wg-bob >"$RUN/view-wolfguard-bob"
	local who
	for who in alice bob; do
		echo "   $who: $(tr '\n' ' ' <"$RUN/view-wolfguard-$who")"
		diff -u "$RUN/view-ocserv-$who" "$RUN/view-wolfguard-$who" >"$RUN/view-$who.diff" ||
			fail "$who's tunnel differs (ocserv vs migrated wolfguard): $(grep '^[-+][a-z]' "$RUN/view-$who.diff" | tr '\n' ' ')" ||
			return 1
	done
	grep -qx "route=198.18.0.0/16" "$RUN/view-wolfguard-alice" && ! grep -q "198.18" "$RUN/view-wolfguard-bob" ||
		fail "the per-user route did not reach alice alone" || return 1
	ping_ok "$NS_CLI2" "$LAN_ADDR" || fail "no traffic through the migrated server" || return 1
}

# --- package_install ------------------------------------------------------------

PKG_ROOT=     # the fresh root the packages are installed into
PKG_NOTIFY=   # pid of the notify harness

pkg_root_down() {
	if [ -n "$PKG_NOTIFY" ]; then
		kill "$PKG_NOTIFY" 2>/dev/null
		wait "$PKG_NOTIFY" 2>/dev/null
		PKG_NOTIFY=
	fi
	[ -n "$PKG_ROOT" ] || return 0
	local m
	for m in dev/pts dev proc sys; do umount "$PKG_ROOT/root/$m" 2>/dev/null; done
	umount "$PKG_ROOT/root" 2>/dev/null || umount -l "$PKG_ROOT/root" 2>/dev/null
	rm -rf "$PKG_ROOT"
	PKG_ROOT=
}

# A throwaway root: this machine's / below an overlay, so dpkg changes only
# the upper layer. The installed system's own /run, /tmp and the lab's files
# are what the overlay shows; the server gets /dev, /proc and /sys bound in.
pkg_root_up() {
	PKG_ROOT=$RUN/pkgroot
	mkdir -p "$PKG_ROOT/upper" "$PKG_ROOT/work" "$PKG_ROOT/root"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$PKG_ROOT/upper,workdir=$PKG_ROOT/work" "$PKG_ROOT/root" ||
		return 1
	local m
	for m in dev dev/pts proc sys; do mount --bind "/$m" "$PKG_ROOT/root/$m" || return 1; done
	# No service is started by a maintainer script in this root.
	printf '#!/bin/sh\nexit 101\n' >"$PKG_ROOT/root/usr/sbin/policy-rc.d"
	chmod 755 "$PKG_ROOT/root/usr/sbin/policy-rc.d"
}

# As systemd runs a service: a clean environment (no WOLFGUARD_PLUGIN_DIR
# from the lab: the installed server must find its installed plugins).
in_root() { chroot "$PKG_ROOT/root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

# The command of a Exec*= line of the installed unit (systemd's "-"/"@" prefixes not used there).
unit_exec() { sed -n "s/^$1=//p" "$PKG_ROOT/root/lib/systemd/system/wolfguard.service" | head -n 1; }

test_package_install() {
	pkg_install_body
	local rc=$?
	pkg_root_down
	return $rc
}

pkg_install_body() {
	local debs start
	command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null ||
		fail "dpkg-buildpackage/debhelper missing (a prerequisite scripts/deps.sh installs): cannot build the packages" || return 1
	start=$(date +%s)
	debs=$("$TOP/scripts/build-deb.sh" 2>"$RUN/build-deb.err" | tail -n 1) ||
		fail "building the packages failed: $(tail -n 5 "$RUN/build-deb.err" | tr '\n' ' ')" || return 1
	echo "   packages ready in $(($(date +%s) - start)) s ($debs)"
	ls "$debs"/wolfguard_*.deb "$debs"/wolfguard-plugins-{pam,radius,ldap,lua}_*.deb "$debs"/wolfguard-dev_*.deb >/dev/null ||
		fail "not every package was built: $(ls "$debs")" || return 1
	pkg_root_up || fail "cannot make the overlay root (mount -t overlay)" || return 1
	mkdir -p "$PKG_ROOT/root/tmp/debs" && cp "$debs"/wolfguard*_*.deb "$PKG_ROOT/root/tmp/debs/" && rm -f "$PKG_ROOT"/root/tmp/debs/*-dbgsym_*
	in_root sh -c 'dpkg -i /tmp/debs/*.deb' >"$RUN/dpkg.log" 2>&1 ||
		fail "dpkg -i failed: $(tail -n 5 "$RUN/dpkg.log" | tr '\n' ' ')" || return 1
	in_root getent passwd wolfguard >/dev/null || fail "postinst made no wolfguard user" || return 1
	# The packaged default configuration is valid as installed.
	in_root /usr/sbin/wolfguard --check-config /etc/wolfguard/conf.d >"$RUN/check-default.log" 2>&1 ||
		fail "the packaged conf.d fails --check-config: $(tr '\n' ' ' <"$RUN/check-default.log")" || return 1
	[ -f "$PKG_ROOT/root/usr/share/man/man5/wolfguard.conf.d.5.gz" ] && in_root man -l /usr/share/man/man5/wolfguard.conf.d.5.gz 2>/dev/null |
		grep -q "max-instructions" || fail "wolfguard.conf.d(5) lacks policy-lua's options" || return 1
	# systemd's own check of the installed unit: options, executables, man pages (other units' complaints ignored).
	in_root systemd-analyze verify /lib/systemd/system/wolfguard.service >"$RUN/verify.log" 2>&1
	! grep -q "^wolfguard.service:" "$RUN/verify.log" ||
		fail "systemd-analyze verify: $(grep "^wolfguard.service:" "$RUN/verify.log" | tr '\n' ' ')" || return 1
	in_root ldd /usr/sbin/wolfguard | grep -q "libwolfssl.so.* => /usr/lib/.*/wolfguard/libwolfssl" ||
		fail "the server does not use the bundled libwolfssl: $(in_root ldd /usr/sbin/wolfguard | grep -i wolfssl)" || return 1

	# The lab's settings into the installed conf.d: address, certificate, users.
	local etc=$PKG_ROOT/root/etc/wolfguard
	cp "$RUN/server-ecdsa.pem" "$RUN/server-ecdsa.key" "$RUN/ocpasswd" "$etc/"
	in_root chgrp wolfguard /etc/wolfguard/ocpasswd
	chmod 640 "$etc/ocpasswd"
	jq --arg l "$SRV_ADDR" '.server.listen = $l | .server.certificate = "/etc/wolfguard/server-ecdsa.pem" |
		.server["private-key"] = "/etc/wolfguard/server-ecdsa.key" | .server["isolate-clients"] = false' \
		"$etc/conf.d/00-server.json" >"$RUN/00-server.json" && cp "$RUN/00-server.json" "$etc/conf.d/00-server.json"
	jq --arg n "$POOL_NET" --arg r "$PUSHED_ROUTE" --arg d "$PUSHED_DNS" \
		'.options["ipv4-network"] = $n | .options.routes = [$r] | .options.dns = [$d]' \
		"$etc/conf.d/30-routing-static.json" >"$RUN/30.json" && cp "$RUN/30.json" "$etc/conf.d/30-routing-static.json"

	# What systemd would do: RuntimeDirectory, NOTIFY_SOCKET, ExecStartPre, ExecStart.
	mkdir -p "$PKG_ROOT/root/run/wolfguard"
	local sock="@wgt-notify-$LAB_ID" pre exec reload
	pre=$(unit_exec ExecStartPre) exec=$(unit_exec ExecStart) reload=$(unit_exec ExecReload)
	[ -n "$exec" ] && [ -n "$reload" ] || fail "the installed unit has no ExecStart/ExecReload" || return 1
	grep -qx "Type=notify" "$PKG_ROOT/root/lib/systemd/system/wolfguard.service" || fail "the unit is not Type=notify" || return 1
	# shellcheck disable=SC2086 # the unit's command line, split as systemd splits it (no quotes there)
	in_root $pre >"$RUN/execstartpre.log" 2>&1 || fail "ExecStartPre failed: $(tr '\n' ' ' <"$RUN/execstartpre.log")" || return 1
	: >"$RUN/notify.log"
	ip netns exec "$NS_SRV" /usr/bin/python3 "$PKG_DIR/notify-listen.py" "$sock" "$RUN/notify.log" 2>>"$RUN/notify.err" &
	PKG_NOTIFY=$!
	wait_for 30 grep -qx listening "$RUN/notify.log" || fail "the notify harness did not start" || return 1
	# shellcheck disable=SC2086
	server_launch wolfguard chroot "$PKG_ROOT/root" env -i PATH=/usr/sbin:/usr/bin NOTIFY_SOCKET="$sock" $exec
	wait_for 30 grep -q "READY=1" "$RUN/notify.log" ||
		fail "no READY=1 from the installed server: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
	server_listening || fail "READY=1 came before the ports were bound" || return 1
	grep -q "pid=$SERVER_PID | READY=1 | STATUS=0 sessions" "$RUN/notify.log" ||
		fail "READY did not come from the main process with a STATUS: $(tr '\n' ' ' <"$RUN/notify.log")" || return 1

	connect_or_fail alice secret1 || return 1
	[ "$(client_env alice CISCO_SPLIT_INC_0_ADDR)/$(client_env alice CISCO_SPLIT_INC_0_MASKLEN)" = "$PUSHED_ROUTE" ] ||
		fail "the installed server pushed another route" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic through the installed server" || return 1
	wait_for 30 grep -q "STATUS=1 session," "$RUN/notify.log" ||
		fail "STATUS never showed the session: $(tail -n 2 "$RUN/notify.log" | tr '\n' ' ')" || return 1

	# shellcheck disable=SC2086
	in_root $reload >"$RUN/execreload.log" 2>&1 || fail "ExecReload failed: $(tr '\n' ' ' <"$RUN/execreload.log")" || return 1
	wait_for 30 grep -q "READY=1 | STATUS=1 session, .*generation 2" "$RUN/notify.log" ||
		fail "no READY after the reload: $(tail -n 3 "$RUN/notify.log" | tr '\n' ' ')" || return 1
	grep -q "RELOADING=1" "$RUN/notify.log" || fail "no RELOADING=1 during the reload" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "the session did not survive the reload" || return 1

	grep -q "plugin routing-static .* loaded from /usr/lib/.*/wolfguard/plugins/routing-static.so" "$RUN/server.log" ||
		fail "the installed server did not load the installed plugins" || return 1

	client_disconnect alice
	kill -TERM "$SERVER_PID"
	wait_for 30 sh -c "! kill -0 $SERVER_PID" || fail "the server did not stop within 30 s" || return 1
	wait "$SERVER_PID"
	local rc=$?
	[ "$rc" = 0 ] || fail "the installed server exited with $rc on SIGTERM" || return 1
	grep -q "STOPPING=1" "$RUN/notify.log" || fail "no STOPPING=1 at SIGTERM" || return 1
	echo "   notify: $(grep -c . "$RUN/notify.log") messages; $(grep -m1 'STATUS=1 session' "$RUN/notify.log" | sed 's/.*STATUS=/STATUS=/')"
	# systemctl restart: a second start after the clean stop is ready again.
	cp "$RUN/notify.log" "$RUN/notify.log.1"
	# shellcheck disable=SC2086
	server_launch wolfguard chroot "$PKG_ROOT/root" env -i PATH=/usr/sbin:/usr/bin NOTIFY_SOCKET="$sock" $exec
	wait_for 30 sh -c "[ \$(grep -c 'READY=1 | STATUS=0 sessions' '$RUN/notify.log') -ge 2 ]" ||
		fail "no READY=1 after a restart: $(tail -n 3 "$RUN/server.log" | tr '\n' ' ')" || return 1
}

# --- the unit's confinement ----------------------------------------------------------

# The two settings of wolfguard.service that could break the server's own
# privilege separation, applied as systemd applies them before exec (setpriv):
# NoNewPrivileges and the CapabilityBoundingSet, read from the unit.
#   unit_hardening_pam      PAM still works in the root helper ("privileged": true, a root-only
#                           user database), and the set-up (TUN, port 443, the drop) needs nothing more
#   unit_hardening_workers  the master of two workers starts them, and stops them on SIGTERM (signalling
#                           a worker that dropped to nobody takes CAP_KILL)
WOLFGUARD_TESTS+=(unit_hardening_pam unit_hardening_workers)

# hardened_bin: prints a wolfguard "binary" that runs the build's server under
# the unit's limits; the build's wolfguardctl sits beside it (run.sh's ctl).
hardened_bin() {
	local unit=$TOP/packaging/wolfguard.service.in real caps dir=$RUN/hardened
	real=$(wolfguard_bin)
	grep -qx "NoNewPrivileges=yes" "$unit" || { log "the unit does not set NoNewPrivileges=yes"; return 1; }
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr '[:upper:]' '[:lower:]' | sed 's/cap_/+/g; s/ /,/g')
	[ -n "$caps" ] || { log "the unit has no CapabilityBoundingSet"; return 1; }
	command -v setpriv >/dev/null || { log "setpriv (util-linux) is missing"; return 1; }
	mkdir -p "$dir/core"
	ln -sfn "$(cd "$(dirname "$real")/../tools" && pwd)" "$dir/tools"
	printf '#!/bin/sh\nexec setpriv --no-new-privs --bounding-set=-all,%s %s "$@"\n' "$caps" "$real" >"$dir/core/wolfguard"
	chmod 755 "$dir/core/wolfguard"
	echo "$dir/core/wolfguard"
}

# Every process of the server runs with no_new_privs and without CAP_SYS_ADMIN
# (bit 21) in its bounding set: the limits really applied.
hardened_check() {
	local p
	for p in $(server_pids); do
		grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$p/status" || fail "process $p runs without no_new_privs" || return 1
		[ $((0x$(awk '/^CapBnd:/ {print $2}' "/proc/$p/status") >> 21 & 1)) = 0 ] ||
			fail "process $p still has CAP_SYS_ADMIN in its bounding set" || return 1
	done
}

test_unit_hardening_pam() { pam_run userdb _unit_hardening_pam; }

_unit_hardening_pam() {
	local bin plug
	bin=$(hardened_bin) || fail "cannot apply the unit's limits" || return 1
	plug=${WOLFGUARD_PLUGIN_DIR:-$(cd "$(dirname "$(wolfguard_bin)")/../plugins" && pwd)}
	chmod 600 "$PAM_DIR/users.db" && chown root:root "$PAM_DIR/users.db" || return 1
	WOLFGUARD_BIN=$bin WOLFGUARD_PLUGIN_DIR=$plug pam_wolfguard '"privileged": true' || return 1
	hardened_check || return 1
	[ "$(server_pids | wc -l)" -ge 2 ] || fail "no privileged helper process beside the server" || return 1
	connect_or_fail alice alice-pass || return 1
	grep -q 'authenticated by PAM service .* (privileged helper)' "$RUN/server.log" ||
		fail "the root helper did not authenticate alice under the unit's limits" || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic under the unit's limits" || return 1
	! client_connect alice wrong-pass --tag wrong || fail "a wrong password passed the helper" || return 1
}

test_unit_hardening_workers() {
	local bin plug
	bin=$(hardened_bin) || fail "cannot apply the unit's limits" || return 1
	plug=${WOLFGUARD_PLUGIN_DIR:-$(cd "$(dirname "$(wolfguard_bin)")/../plugins" && pwd)}
	workers_conf 2
	WOLFGUARD_BIN=$bin WOLFGUARD_PLUGIN_DIR=$plug server_start_wolfguard false || fail "wolfguard did not start" || return 1
	wait_for 30 grep -q "2 workers serving" "$RUN/server.log" || fail "the workers did not start under the unit's limits" || return 1
	hardened_check || return 1
	connect_or_fail alice secret1 || return 1
	ping_ok "$NS_CLI" "$LAN_ADDR" || fail "no traffic through a worker under the unit's limits" || return 1
	client_disconnect alice
	kill -TERM "$SERVER_PID"
	wait_for 30 sh -c "! kill -0 $SERVER_PID 2>/dev/null" || fail "the master did not stop its workers (CAP_KILL?)" || return 1
	wait "$SERVER_PID"
	SERVER_PID=
	grep -q "stopped (status 0)" "$RUN/server.log" || fail "the master did not stop cleanly" || return 1
	# As run.sh expects a server at the end of a test: the same, started again.
	WOLFGUARD_BIN=$bin WOLFGUARD_PLUGIN_DIR=$plug server_start_wolfguard false || fail "wolfguard did not start again" || return 1
}

# --- sd_notify from the build's server (also run under the sanitizers) ----------------------

# notify_start SOCKET: the harness in the server namespace (abstract sockets
# belong to a network namespace), logging to $RUN/notify.log.
notify_start() {
	: >"$RUN/notify.log"
	ip netns exec "$NS_SRV" /usr/bin/python3 "$PKG_DIR/notify-listen.py" "$1" "$RUN/notify.log" 2>>"$RUN/notify.err" &
	PKG_NOTIFY=$!
	wait_for 30 grep -qx listening "$RUN/notify.log" || fail "the notify harness did not start"
}

notify_stop() {
	[ -n "$PKG_NOTIFY" ] || return 0
	kill "$PKG_NOTIFY" 2>/dev/null
	wait "$PKG_NOTIFY" 2>/dev/null
	PKG_NOTIFY=
}

WOLFGUARD_TESTS+=(sd_notify_single sd_notify_workers)

# One process: READY after the ports, STATUS follows the sessions, a refused
# reload (what `systemctl reload` runs) fails and still ends with READY on
# the running generation, an accepted one moves to generation 2, SIGTERM
# gives STOPPING.
test_sd_notify_single() {
	_sd_notify_single
	local rc=$?
	notify_stop
	return $rc
}

_sd_notify_single() {
	local sock="@wgt-notify-$LAB_ID-single"
	notify_start "$sock" || return 1
	wolfguard_conf false # one process, whatever the test before left
	NOTIFY_SOCKET=$sock server_start_wolfguard false || fail "wolfguard did not start" || return 1
	wait_for 30 grep -q "pid=$SERVER_PID | READY=1 | STATUS=0 sessions" "$RUN/notify.log" ||
		fail "no READY=1 with a STATUS from the server's pid: $(tr '\n' ' ' <"$RUN/notify.log")" || return 1
	connect_or_fail alice secret1 || return 1
	wait_for 30 grep -q "STATUS=1 session," "$RUN/notify.log" || fail "STATUS never showed alice's session" || return 1
	echo '{"plugin": "routing-static", "options": {"ipv4-network": "not a network"' >"$RUN/conf.d/35-broken.json"
	! ctl reload >"$RUN/reload.out" 2>&1 || fail "a broken conf.d was accepted by the reload" || return 1
	wait_for 30 sh -c "grep -A1 RELOADING=1 '$RUN/notify.log' | grep -q 'READY=1 | STATUS=1 session, .*generation 1'" ||
		fail "no READY on the running generation after a refused reload: $(tail -n 3 "$RUN/notify.log" | tr '\n' ' ')" || return 1
	rm -f "$RUN/conf.d/35-broken.json"
	ctl reload >"$RUN/reload.out" 2>&1 || fail "the reload of a good conf.d failed: $(cat "$RUN/reload.out")" || return 1
	wait_for 30 grep -q "READY=1 | STATUS=1 session, .*generation 2" "$RUN/notify.log" ||
		fail "no READY on generation 2 after the reload" || return 1
	client_disconnect alice
	wait_for 30 grep -q "STATUS=0 sessions, .*generation 2" "$RUN/notify.log" || fail "STATUS did not follow alice's logout" || return 1
	kill -TERM "$SERVER_PID"
	wait_for 30 grep -q "STOPPING=1" "$RUN/notify.log" || fail "no STOPPING=1 at SIGTERM" || return 1
	wait_for 30 sh -c "! kill -0 $SERVER_PID" || fail "the server did not stop" || return 1
	wait "$SERVER_PID"
	SERVER_PID=
	! grep -qv "^listening$\|^pid=[0-9]* | " "$RUN/notify.log" || fail "a malformed notify line: $(cat "$RUN/notify.log")" || return 1
	NOTIFY_SOCKET=$sock server_start_wolfguard false || fail "wolfguard did not start again" || return 1
}

# Two workers: only the master (systemd's main process) speaks: READY once
# both workers serve, STATUS with the sessions of all workers, RELOADING and
# READY around a reload the master forwards, STOPPING.
test_sd_notify_workers() {
	_sd_notify_workers
	local rc=$?
	notify_stop
	return $rc
}

_sd_notify_workers() {
	local sock="@wgt-notify-$LAB_ID-workers"
	notify_start "$sock" || return 1
	workers_conf 2
	NOTIFY_SOCKET=$sock server_start_wolfguard false || fail "wolfguard did not start" || return 1
	wait_for 30 grep -q "pid=$SERVER_PID | READY=1 | STATUS=2 workers serving" "$RUN/notify.log" ||
		fail "no READY=1 from the master: $(tr '\n' ' ' <"$RUN/notify.log")" || return 1
	connect_or_fail alice secret1 || return 1
	wait_for 30 grep -q "pid=$SERVER_PID | STATUS=1 session, 0 connections not logged in, 2 workers" "$RUN/notify.log" ||
		fail "STATUS did not count alice's session across workers: $(tail -n 2 "$RUN/notify.log" | tr '\n' ' ')" || return 1
	ctl reload >"$RUN/reload.out" 2>&1 || fail "reload failed: $(cat "$RUN/reload.out")" || return 1
	grep -A1 "RELOADING=1" "$RUN/notify.log" | grep -q "READY=1" || fail "no RELOADING/READY around the reload" || return 1
	! grep -v "^listening$" "$RUN/notify.log" | grep -qv "^pid=$SERVER_PID | " ||
		fail "a message from another process than the master: $(grep -v "pid=$SERVER_PID" "$RUN/notify.log" | head -n 2 | tr '\n' ' ')" || return 1
	client_disconnect alice
	kill -TERM "$SERVER_PID"
	wait_for 30 sh -c "! kill -0 $SERVER_PID" || fail "the master did not stop" || return 1
	wait "$SERVER_PID"
	SERVER_PID=
	grep -q "pid=[0-9]* | STOPPING=1" "$RUN/notify.log" || fail "no STOPPING=1" || return 1
	NOTIFY_SOCKET=$sock server_start_wolfguard false || fail "wolfguard did not start again" || return 1
}
