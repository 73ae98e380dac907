#!/usr/bin/env bash
# wolfguard-migrate on real ocserv configurations; every migrated conf.d must
# pass `wolfguard --check-config` with the built plugins, and carry what the
# source says (checked with jq and grep on the written files):
#   debian   Debian's shipped /etc/ocserv/ocserv.conf (ocserv is installed by scripts/deps.sh)
#   lab      the e2e lab's ocserv configuration (tests/e2e/lib.sh ocserv_lab_conf)
#   radius   RADIUS + accounting from a radcli configuration, per-group files, a default user
#            file, data limits, scripts and options with no equivalent (tests/package/ocserv/)
#   cert     certificate then password, per-user files (explicit-ipv4, routes, MTU), group defaults
#   pam      PAM with certificates as an alternative, no DTLS
# Usage: test_migrate.sh WOLFGUARD-BINARY   (WOLFGUARD_PLUGIN_DIR: the built plugins)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${1:?usage: test_migrate.sh WOLFGUARD-BINARY}
migrate=$top/tools/migrate/wolfguard-migrate
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

check() { # name command...: one assertion
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL $case: $name"
	fi
}

# migrate CASE CONF: wolfguard-migrate into $work/CASE, then --check-config.
migrate() {
	case=$1
	out=$work/$1
	if ! "$migrate" "$2" "$out" >"$work/$1.log" 2>&1; then
		echo "FAIL $1: wolfguard-migrate exited non-zero:"
		cat "$work/$1.log"
		failed=$((failed + 1))
		return 1
	fi
	if "$bin" --check-config "$out" >"$work/$1.check" 2>&1; then
		passed=$((passed + 1))
		echo "ok $1: $(head -n 1 "$work/$1.check")"
	else
		echo "FAIL $1: the migrated conf.d fails --check-config:"
		cat "$work/$1.check"
		failed=$((failed + 1))
		return 1
	fi
}

j() { jq -e "$2" "$out/$1"; } # FILE FILTER: true when FILTER holds
notes() { grep -q -- "$1" "$out/MIGRATION-NOTES.txt"; }
lua() { grep -qF -- "$1" "$out/ocserv-per-user.lua"; }

render() { sed "s|@DIR@|$work/fixtures|g" "$1" >"$2"; }
cp -r "$here/ocserv" "$work/fixtures"
for f in "$work"/fixtures/*.conf "$work"/fixtures/radius-servers; do render "$f" "$f.tmp" && mv "$f.tmp" "$f"; done

# --- Debian's shipped configuration ---------------------------------------------
if [ -f /etc/ocserv/ocserv.conf ]; then
	if migrate debian /etc/ocserv/ocserv.conf; then
		check "plain auth" j 20-auth-plain.json '.options["password-file"] == "/etc/ocserv/passwd"'
		check "pool from network + netmask" j 30-routing-static.json '.options["ipv4-network"] == "192.168.1.0/24"'
		check "routes" j 30-routing-static.json '.options.routes == ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]'
		check "dns" j 30-routing-static.json '.options.dns == ["192.168.1.1"]'
		check "max-clients" j 00-server.json '.server["max-clients"] == 16'
		check "bans: 80 points / 10 per failure" j 00-server.json '.server["ban-failures"] == 8 and .server["ban-window"] == 1200'
		check "keepalive clamped, and said so" notes "keepalive: 32400 is outside"
		check "max-same-clients carried" j 00-server.json '.server["max-same-clients"] == 2'
		check "no certificate: snakeoil, and said so" notes "server-cert: none given"
	fi
else
	echo "FAIL debian: /etc/ocserv/ocserv.conf missing (scripts/deps.sh installs ocserv)"
	failed=$((failed + 1))
fi

# --- the lab's configuration -------------------------------------------------------
(
	# shellcheck source=tests/e2e/lib.sh
	. "$top/tests/e2e/lib.sh"
	RUN=$work/lab
	mkdir -p "$RUN"
	ocserv_lab_conf "$RUN/ocserv.conf"
) && if migrate lab "$work/lab/ocserv.conf"; then
	check "listen address" j 00-server.json '.server.listen == "198.51.100.1"'
	check "split dns" j 30-routing-static.json '.options["split-dns"] == ["example.test"]'
	check "route" j 30-routing-static.json '.options.routes == ["203.0.113.0/24"]'
	check "cookie-timeout" j 00-server.json '.server["cookie-lifetime"] == 120'
	check "user" j 00-server.json '.server.user == "nobody" and .server.group == "nogroup"'
	check "device name" j 00-server.json '.server["tun-device"] == "vpns0"'
	check "no policy without per-user data" test ! -e "$out/40-policy-lua.json"
fi

# --- RADIUS, groups, limits, scripts -------------------------------------------------
if migrate radius "$work/fixtures/radius.conf"; then
	check "servers and secrets from radcli" j 20-auth-radius.json \
		'.options.servers == ["radius1.example.org:1645:1646:s3cret-one", "radius2.example.org:1812:1813:s3cret-two"]'
	check "accounting" j 20-auth-radius.json '.options.accounting == true and .options["nas-identifier"] == "vpn1"'
	check "secret file not world-readable" test "$(stat -c %a "$out/20-auth-radius.json")" = 640
	check "ports" j 00-server.json '.server.port == 4443 and .server["udp-port"] == 4443'
	check "DTLS: the transport plugin" j 40-transport-dtls.json '.plugin == "transport-dtls"'
	check "TLS 1.3 only" j 00-server.json '.server["tls-min-version"] == "1.3"'
	check "host name listen reported" notes "listen-host: 'vpn.example.org' is a host name"
	check "roaming denied" j 00-server.json '.server["allow-roaming"] == false'
	check "bans: 50 points / 20 per failure" j 00-server.json '.server["ban-failures"] == 3 and .server["ban-time"] == 600'
	check "timeouts" j 00-server.json '.server["idle-timeout"] == 900 and .server["session-timeout"] == 86400 and .server["auth-timeout"] == 30'
	check "ipv4 /22" j 30-routing-static.json '.options["ipv4-network"] == "10.20.0.0/22"'
	check "ipv6 pool" j 30-routing-static.json '.options["ipv6-network"] == "fd00:20::/64"'
	check "routes with masks, ipv6 route" j 30-routing-static.json '.options.routes == ["10.0.0.0/8", "192.168.100.0/24", "fd00:1::/48"]'
	check "no-route" j 30-routing-static.json '.options["no-routes"] == ["10.99.0.0/16"]'
	check "4 DNS servers, the fifth reported" j 30-routing-static.json '.options.dns | length == 4'
	check "fifth DNS reported" notes "10.20.0.5 dropped"
	check "policy for groups" j 40-policy-lua.json '.options.script | endswith("/ocserv-per-user.lua")'
	check "group routes in the policy" lua '["engineering"] = {["default_domain"] = "eng.example", ["routes"] = {"10.50.0.0/16"}, ["split_dns"] = {"eng.example"}}'
	check "default user file in the policy" lua '[""] = {["idle_timeout"] = 600}'
	check "global rates per direction" j 00-server.json '.server["rx-data-per-sec"] == 2000000 and .server["tx-data-per-sec"] == 1000000'
	check "connect-script: what replaces it" notes "connect-script: /usr/local/bin/vpn-connect is not run"
	check "disconnect-script reported" notes "disconnect-script:"
	check "restrict-user-to-routes of a group" j 00-server.json '.server.groups.engineering["restrict-user-to-routes"] == true'
	check "rekey carried" j 00-server.json '.server["rekey-time"] == 3600 and .server["rekey-method"] == "new-tunnel"'
	check "camouflage carried" j 00-server.json '.server["camouflage-secret"] == "mysecret"'
	check "PROXY protocol carried" j 00-server.json '.server["listen-proxy-proto"] == true'
fi

# --- certificate then password, per-user files ------------------------------------------
if migrate cert "$work/fixtures/cert.conf"; then
	check "cert step first" j 15-auth-cert.json '.options["user-from"] == "email" and .options["group-from-ou"] == true'
	check "then the password" j 20-auth-plain.json '.options["password-file"] == "/etc/ocserv/ocpasswd"'
	check "client certificates asked for" j 00-server.json '.server["ca-file"] != null and .server["client-certificate"] == "optional"'
	check "route = default: everything through the tunnel" j 30-routing-static.json '.options.routes == []'
	check "alice's address, routes, dns, mtu" lua '["alice"] = {["address"] = "192.168.50.10", ["dns"] = {"10.1.0.53"}, ["idle_timeout"] = 300, ["mtu"] = 1280, ["routes"] = {"10.1.0.0/16", "10.2.0.0/16"}}'
	check "bob: full tunnel, session limit" lua '["bob"] = {["routes"] = {}, ["session_timeout"] = 3600}'
	check "bob: his rate" j 00-server.json '.server.users.bob["rx-data-per-sec"] == 125000'
	check "default group file" lua '[""] = {["routes"] = {"10.60.0.0/16"}}'
	check "alice's iroute" j 00-server.json '.server.users.alice.iroute == ["192.168.77.0/24"]'
	check "no DTLS keys lost" j 00-server.json '.server["udp-port"] == 443'
fi

# --- PAM with certificate as an alternative --------------------------------------------------
if migrate pam "$work/fixtures/pam.conf"; then
	check "PAM service ocserv" j 20-auth-pam.json '.options.service == "ocserv"'
	check "no DTLS without udp-port" j 00-server.json '.server["udp-port"] == 0'
	check "no DTLS transport without udp-port" test ! -e "$out/40-transport-dtls.json"
	check "enable-auth explained" notes "enable-auth: ocserv lets a client in with a certificate alone"
	check "no cert step" test ! -e "$out/15-auth-cert.json"
	check "gid-min reported" notes "gid-min=1000"
fi

# --- [vhost:NAME] sections ------------------------------------------------------------------
if migrate vhost "$work/fixtures/vhost.conf"; then
	check "global pool unchanged" j 30-routing-static.json '.options["ipv4-network"] == "10.70.0.0/24" and (has("vhost") | not)'
	check "vhost entry: certificate, banner, CA" j 00-server.json '.server.vhosts["vpn2.example.com"] | .certificate == "'"$work"'/fixtures/radiusclient.conf" and .banner == "Second name" and .["ca-file"] != null'
	check "vhost without a certificate of its own... has one" j 00-server.json '.server.vhosts["plain.example.com"]["private-key"] | endswith("radiusclient.conf")'
	check "vhost's cert step" j 15-auth-cert-vpn2.example.com.json '.vhost == "vpn2.example.com" and .options["user-from"] == "cn"'
	check "vhost's pool, global routes" j 30-routing-static-vpn2.example.com.json '.vhost == "vpn2.example.com" and .options["ipv4-network"] == "192.168.2.0/24" and .options.routes == ["10.1.0.0/16"]'
	check "vhost without auth: the default's chain" test ! -e "$out/20-auth-plain-plain.example.com.json"
	check "per-vhost option not carried, said so" notes "\\[vhost:VPN2.example.com\\] max-clients: not carried over per vhost"
	check "the vhost's cert-user-oid noted" notes "\\[vhost:VPN2.example.com\\] cert-user-oid"
fi

# --- refusals ---------------------------------------------------------------------------------
case=refusals
printf 'tcp-port = 443\nipv4-network = 10.0.0.0/24\n' >"$work/noauth.conf"
check "no auth method: exit 1" sh -c "'$migrate' '$work/noauth.conf' '$work/noauth'; [ \$? = 1 ]"
check "missing file: exit 1" sh -c "'$migrate' '$work/nonexistent.conf' '$work/none'; [ \$? = 1 ]"
check "usage: exit 2" sh -c "'$migrate' only-one-arg; [ \$? = 2 ]"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
