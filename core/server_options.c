/* The core's own configuration keys, declared as data like a plugin's. */
#include "server_options.h"

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
	{"max-clients", WG_OPT_INT, 0, 0, 10000000, "0", "maximum concurrent sessions; 0: unlimited"},
	{"max-unauthenticated", WG_OPT_INT, 0, 1, 1000000, "1024", "cap on connections that have not logged in yet"},
	{"banner", WG_OPT_STRING, 0, 0, 0, NULL, "text shown by clients after login"},
	{"default-domain", WG_OPT_STRING, 0, 0, 0, NULL, "DNS search domain pushed to clients"},
	{"plugin-dir", WG_OPT_STRING, 0, 0, 0, NULL, "where plugins are found by name; default: the installed plugin directory"},
	{"isolate-clients", WG_OPT_BOOL, 0, 0, 0, "true", "drop packets from one VPN client to another"},
	{"control-socket", WG_OPT_STRING, 0, 0, 0, "/run/wolfguard/control.sock", "Unix socket for wolfguardctl; \"\" turns it off"},
	{"control-socket-mode", WG_OPT_STRING, 0, 0, 0, "0600", "permissions of the control socket (octal)"},
	{"log-level", WG_OPT_STRING, 0, 0, 0, "info", "lines above this level (error, warn, notice, info, debug) are not produced at all"},
	{"server-name", WG_OPT_STRING, 0, 0, 0, "wolfguard", "name shown in the login form"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};
