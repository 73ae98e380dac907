/* The core's own configuration keys, declared as data like a plugin's. */
#include "server_options.h"

#include "config.h"

#include <stddef.h>

const struct wg_option wg_server_options[] = {
	{"listen", WG_OPT_STRING, 0, 0, 0, "0.0.0.0", "address to listen on for TLS (TCP) and DTLS (UDP)"},
	{"port", WG_OPT_INT, 0, 1, 65535, "443", "TCP port of the TLS listener"},
	{"udp-port", WG_OPT_INT, 0, 0, 65535, "443", "UDP port for DTLS; 0 disables DTLS"},
	{"certificate", WG_OPT_STRING, WG_OPT_REQUIRED, 0, 0, NULL, "server certificate chain, PEM"},
	{"private-key", WG_OPT_STRING, WG_OPT_REQUIRED, 0, 0, NULL, "private key of the certificate, PEM (RSA or ECDSA)"},
	{"tls-ciphers", WG_OPT_STRING, 0, 0, 0, NULL, "TLS 1.2 cipher list in OpenSSL syntax; default: wolfSSL's secure AEAD set"},
	{"tls-min-version", WG_OPT_STRING, 0, 0, 0, "1.2", "\"1.2\" or \"1.3\""},
	{"ca-file", WG_OPT_STRING, 0, 0, 0, NULL, "CA certificates (PEM) that client certificates must chain to; turns on client certificates"},
	{"crl-file", WG_OPT_STRING, 0, 0, 0, NULL, "certificate revocation list (PEM) checked for every client certificate"},
	{"client-certificate", WG_OPT_STRING, 0, 0, 0, NULL, "\"optional\" (default with a ca-file) or \"required\" (handshakes without one fail)"},
	{"cookie-lifetime", WG_OPT_INT, 0, 10, 86400 * 7, "300", "seconds a disconnected session's cookie stays valid for reconnect"},
	{"auth-timeout", WG_OPT_INT, 0, 5, 3600, "120", "seconds a login conversation may take"},
	{"idle-timeout", WG_OPT_INT, 0, 0, 86400 * 30, "1200", "seconds without traffic before a session is closed; 0: never"},
	{"session-timeout", WG_OPT_INT, 0, 0, 86400 * 30, "0", "maximum session length in seconds; 0: unlimited"},
	{"dpd", WG_OPT_INT, 0, 0, 3600, "90", "dead-peer-detection interval pushed to clients, seconds"},
	{"keepalive", WG_OPT_INT, 0, 0, 3600, "32", "keepalive interval pushed to clients, seconds"},
	{"mtu", WG_OPT_INT, 0, 576, 9000, "1400", "tunnel MTU"},
	{"tun-device", WG_OPT_STRING, 0, 0, 0, "wolfguard0", "name of the one TUN device all sessions share"},
	{"workers", WG_OPT_INT, 0, 1, 64, "1", "server processes sharing the ports and the TUN device (multi-queue); each holds its own sessions and file descriptors"},
	{"max-clients", WG_OPT_INT, 0, 0, 10000000, "0", "maximum concurrent sessions; 0: unlimited"},
	{"max-unauthenticated", WG_OPT_INT, 0, 1, 1000000, "1024", "cap on connections that have not logged in yet"},
	{"max-unauthenticated-per-address", WG_OPT_INT, 0, 1, 1000000, "64", "of those, at most this many from one client address (an IPv6 client: its ipv6-client-prefix)"},
	{"max-logins", WG_OPT_INT, 0, 1, 1000000, "4096", "cap on login conversations in progress (each lives until it ends or auth-timeout)"},
	{"max-logins-per-address", WG_OPT_INT, 0, 1, 1000000, "64", "of those, at most this many started from one client address; more count as failed logins"},
	{"max-logins-per-connection", WG_OPT_INT, 0, 1, 1000, "4", "login conversations one TLS connection may start; more count as failed logins"},
	{"ipv6-client-prefix", WG_OPT_INT, 0, 32, 128, "64", "IPv6 addresses within a prefix of this length count as one client (bans, per-address limits)"},
	{"banner", WG_OPT_STRING, 0, 0, 0, NULL, "text shown by clients after login"},
	{"default-domain", WG_OPT_STRING, 0, 0, 0, NULL, "DNS search domain pushed to clients"},
	{"plugin-dir", WG_OPT_STRING, 0, 0, 0, NULL, "where plugins are found by name; default: the installed plugin directory"},
	{"isolate-clients", WG_OPT_BOOL, 0, 0, 0, "true", "drop packets from one VPN client to another"},
	{"control-socket", WG_OPT_STRING, 0, 0, 0, "/run/wolfguard/control.sock", "Unix socket for wolfguardctl; \"\" turns it off"},
	{"control-socket-mode", WG_OPT_STRING, 0, 0, 0, "0600", "permissions of the control socket (octal)"},
	{"log-level", WG_OPT_STRING, 0, 0, 0, "info", "lines above this level (error, warn, notice, info, debug) are not produced at all"},
	{"ban-failures", WG_OPT_INT, 0, 0, 100000, "10", "failed logins from one address within ban-window that ban it; 0: never ban"},
	{"ban-window", WG_OPT_INT, 0, 1, 86400, "300", "seconds in which ban-failures failures ban an address"},
	{"ban-time", WG_OPT_INT, 0, 1, 86400 * 30, "600", "seconds an address stays banned after too many failed logins"},
	{"ban-max-entries", WG_OPT_INT, 0, 16, 10000000, "16384", "client addresses the ban table tracks at most (memory bound)"},
	{"metrics-listen", WG_OPT_STRING, 0, 0, 0, "127.0.0.1", "address of the Prometheus /metrics listener (plain HTTP)"},
	{"metrics-port", WG_OPT_INT, 0, 0, 65535, "0", "TCP port of the /metrics listener; 0: off"},
	{"server-name", WG_OPT_STRING, 0, 0, 0, "wolfguard", "name shown in the login form"},
	{"allow-roaming", WG_OPT_BOOL, 0, 0, 0, "true", "a session cookie may be used from another client address (openconnect reconnects after an address change)"},
	{"user", WG_OPT_STRING, 0, 0, 0, "nobody", "unprivileged user the server runs as once set up (started as root)"},
	{"group", WG_OPT_STRING, 0, 0, 0, "nogroup", "its group"},
	{"sandbox", WG_OPT_STRING, 0, 0, 0, "on", "\"on\": drop to user/group and confine system calls with seccomp after set-up; \"log\": the same, but calls outside the list are only recorded by the kernel; \"off\": stay root, unconfined"},
	{"max-same-clients", WG_OPT_INT, 0, 0, 1000000, "0", "sessions one user may hold at once, on all workers together; 0: unlimited. \"groups\" and \"users\" may set it per group and per user"},
	{"groups", WG_OPT_ACCOUNTS, 0, 0, 0, NULL, "settings per group: {\"name\": {\"max-same-clients\": N}}"},
	{"users", WG_OPT_ACCOUNTS, 0, 0, 0, NULL, "settings per user, over those of the group: {\"name\": {\"max-same-clients\": N}}"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

const struct wg_option wg_account_options[] = {
	{"max-same-clients", WG_OPT_INT, 0, 0, 1000000, NULL, "sessions at once; 0: unlimited"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};
