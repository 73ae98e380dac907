/* What a client may send into the VPN, past the source-address check:
 * restrict-user-to-routes (only the networks pushed to it) and
 * restrict-user-to-ports (ocserv's "tcp(443), udp(53), icmp()" list, or
 * "!(...)" for everything but those). Built once per session when its
 * tunnel is configured; consulted for every packet from its client. */
#ifndef WG_ROUTE_FILTER_H
#define WG_ROUTE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_tunnel_config;

#define WG_FILTER_MAX_NETS 72  /* WG_MAX_ROUTES includes + the DNS servers */
#define WG_FILTER_MAX_RULES 64

struct wg_filter_net {
	uint8_t family; /* 4 or 6 */
	uint8_t bits;
	uint8_t addr[16];
};

struct wg_port_rule {
	uint8_t proto;  /* IPPROTO_TCP, _UDP, _SCTP, _ICMP, _ICMPV6 */
	bool any_port;  /* "icmp()", or "tcp()": the whole protocol */
	uint16_t port;  /* destination port */
};

struct wg_route_filter {
	bool routes;                 /* restrict-user-to-routes */
	unsigned n_allow, n_deny;
	struct wg_filter_net allow[WG_FILTER_MAX_NETS]; /* split-include routes and DNS servers */
	struct wg_filter_net deny[WG_FILTER_MAX_NETS];  /* split-exclude routes */
	bool ports;                  /* restrict-user-to-ports */
	bool ports_negated;          /* "!(...)": the rules list what is refused */
	unsigned n_rules;
	struct wg_port_rule rules[WG_FILTER_MAX_RULES];
};

/* Parses "10.1.0.0/16", "10.1.0.0/255.255.0.0", "fd00::/64" or a bare
 * address: 0 or -1. */
int wg_filter_net_parse(const char *text, struct wg_filter_net *out);

/* Parses a restrict-user-to-ports value into f (ports, ports_negated,
 * rules): 0, or -1 with a reason in err. */
int wg_port_rules_parse(const char *spec, struct wg_route_filter *f, char *err, size_t errlen);

/* Fills the routes part of f from the tunnel the client was given. */
void wg_route_filter_set_routes(struct wg_route_filter *f, const struct wg_tunnel_config *tc);

/* pkt is a whole IPv4 or IPv6 packet that passed wg_client_packet_check. */
bool wg_route_filter_allows(const struct wg_route_filter *f, const uint8_t *pkt, size_t len);

#endif
