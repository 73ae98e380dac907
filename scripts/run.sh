#!/usr/bin/env bash
# Installs what is needed, builds, and starts wolfguard with the shipped
# configuration in conf.d/. On first start it creates, under
# /var/lib/wolfguard: a self-signed ECDSA certificate (its pin is printed, for
# `openconnect --servercert`) and a password file with one user, `vpnuser`,
# whose generated password is printed once.
#
# Usage: scripts/run.sh [extra wolfguard arguments]
#   from a root shell; a user with sudo may type `sudo scripts/run.sh`, or
#   just scripts/run.sh, which then runs itself again with sudo.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
state=${WOLFGUARD_STATE:-/var/lib/wolfguard}

# shellcheck source=scripts/root.sh
. "$top/scripts/root.sh"
case "${1:-}" in -h | --help) wg_usage; exit 0 ;; esac
wg_need_root run.sh "TUN device, port 443" "$@"
"$top/scripts/deps.sh"
"$top/scripts/build.sh" release

# After set-up the server drops root and runs as this system user (see
# docs/security.md); it reads the password file at every login, so that file
# is group-readable by it. The private key is read before the drop and stays
# root's alone.
id -u wolfguard >/dev/null 2>&1 ||
	useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin wolfguard
install -d -m 0750 -o root -g wolfguard "$state"
if [ ! -f "$state/server-cert.pem" ]; then
	echo "run.sh: first start: creating a self-signed certificate in $state"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
		-subj "/CN=$(hostname -f 2>/dev/null || hostname)" \
		-keyout "$state/server-key.pem" -out "$state/server-cert.pem" 2>/dev/null
	chmod 0600 "$state/server-key.pem"
fi
if [ ! -f "$state/ocpasswd" ]; then
	pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 16)
	hash=$(openssl passwd -6 "$pw")
	printf 'vpnuser:*:%s\n' "$hash" >"$state/ocpasswd"
	chown root:wolfguard "$state/ocpasswd"
	chmod 0640 "$state/ocpasswd"
	echo "run.sh: first start: created user 'vpnuser' with password: $pw"
	echo "run.sh: (add users with ocpasswd -c $state/ocpasswd NAME; the format is ocserv's)"
fi
# (Also for a password file made before the server dropped root.)
chgrp wolfguard "$state" "$state/ocpasswd" && chmod g+rx "$state" && chmod g+r,o-rwx "$state/ocpasswd"
pin=$("$top/build/core/wolfguard" --print-pin "$state/server-cert.pem")
echo "run.sh: server certificate $pin"
echo "run.sh: connect with: openconnect --servercert $pin <this host>"
export WOLFGUARD_PLUGIN_DIR="$top/build/plugins"
exec "$top/build/core/wolfguard" -c "$top/conf.d" "$@"
