/* restrict-user-to-routes and restrict-user-to-ports (route_filter.h). */
#include "tunnel/route_filter.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wolfguard/plugin.h>

int wg_filter_net_parse(const char *text, struct wg_filter_net *out)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	long bits;
	char *end;

	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = 4;
		out->bits = 32;
		if (!slash)
			return 0;
		struct in_addr mask;
		if (strchr(slash + 1, '.')) { /* a netmask, as RADIUS and ocserv write it */
			if (inet_pton(AF_INET, slash + 1, &mask) != 1)
				return -1;
			uint32_t m = ntohl(mask.s_addr);
			out->bits = 0;
			while (m & 0x80000000u) {
				out->bits++;
				m <<= 1;
			}
			return m == 0 ? 0 : -1; /* a mask with holes is no network */
		}
		bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || bits < 0 || bits > 32)
			return -1;
		out->bits = (uint8_t)bits;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = 6;
		out->bits = 128;
		if (!slash)
			return 0;
		bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || bits < 0 || bits > 128)
			return -1;
		out->bits = (uint8_t)bits;
		return 0;
	}
	return -1;
}

static bool net_contains(const struct wg_filter_net *n, int family, const uint8_t *addr)
{
	unsigned full = n->bits / 8, rest = n->bits % 8;

	if (n->family != family)
		return false;
	if (memcmp(n->addr, addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((n->addr[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

static void add_net(struct wg_filter_net *list, unsigned *n, const char *text)
{
	if (*n < WG_FILTER_MAX_NETS && wg_filter_net_parse(text, &list[*n]) == 0)
		(*n)++;
}

void wg_route_filter_set_routes(struct wg_route_filter *f, const struct wg_tunnel_config *tc)
{
	f->routes = true;
	f->n_allow = f->n_deny = 0;
	for (unsigned i = 0; i < tc->n_include && i < WG_MAX_ROUTES; i++)
		add_net(f->allow, &f->n_allow, tc->include[i].net);
	/* No include route: the client tunnels everything, so everything is
	 * "its routes"; only the excluded networks are refused. */
	if (f->n_allow)
		for (unsigned i = 0; i < tc->n_dns && i < WG_MAX_DNS; i++)
			add_net(f->allow, &f->n_allow, tc->dns[i]); /* the DNS servers it was told to use */
	for (unsigned i = 0; i < tc->n_exclude && i < WG_MAX_ROUTES; i++)
		add_net(f->deny, &f->n_deny, tc->exclude[i].net);
}

static const struct {
	const char *name;
	uint8_t proto;
} protos[] = {
	{"tcp", IPPROTO_TCP}, {"udp", IPPROTO_UDP}, {"sctp", IPPROTO_SCTP},
	{"icmpv6", IPPROTO_ICMPV6}, {"icmp", IPPROTO_ICMP},
};

int wg_port_rules_parse(const char *spec, struct wg_route_filter *f, char *err, size_t errlen)
{
	const char *p = spec;

	f->ports = true;
	f->ports_negated = false;
	f->n_rules = 0;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '!') {
		f->ports_negated = true;
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '(') {
			snprintf(err, errlen, "\"!\" must be followed by \"(\"");
			return -1;
		}
		p++;
	}
	for (;;) {
		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (!*p || (f->ports_negated && *p == ')'))
			break;
		size_t i, nlen = 0;
		for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
			nlen = strlen(protos[i].name);
			if (strncasecmp(p, protos[i].name, nlen) == 0 && p[nlen] == '(')
				break;
		}
		if (i == sizeof(protos) / sizeof(protos[0])) {
			snprintf(err, errlen, "expected tcp(PORT), udp(PORT), sctp(PORT), icmp() or icmpv6() "
				 "at \"%.20s\"", p);
			return -1;
		}
		if (f->n_rules >= WG_FILTER_MAX_RULES) {
			snprintf(err, errlen, "more than %d entries", WG_FILTER_MAX_RULES);
			return -1;
		}
		struct wg_port_rule *r = &f->rules[f->n_rules];
		p += nlen + 1;
		r->proto = protos[i].proto;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == ')') {
			r->any_port = true;
			r->port = 0;
		} else {
			char *end;
			long port = strtol(p, &end, 10);
			bool icmp = r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6;
			if (end == p || port < 1 || port > 65535 || icmp) {
				snprintf(err, errlen, "%s takes %s", protos[i].name,
					 icmp ? "no port" : "a port 1..65535");
				return -1;
			}
			r->any_port = false;
			r->port = (uint16_t)port;
			p = end;
			while (isspace((unsigned char)*p))
				p++;
		}
		if (*p != ')') {
			snprintf(err, errlen, "missing \")\" after %s(", protos[i].name);
			return -1;
		}
		p++;
		f->n_rules++;
	}
	if (f->ports_negated) {
		if (*p != ')') {
			snprintf(err, errlen, "missing the closing \")\" of \"!(\"");
			return -1;
		}
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p) {
			snprintf(err, errlen, "text after the closing \")\": \"%.20s\"", p);
			return -1;
		}
	}
	return 0;
}

/* The transport protocol and, for TCP/UDP/SCTP, the destination port of a
 * packet. has_port is false for ICMP, for a fragment after the first
 * (no transport header) and for a header cut short. */
static void transport_of(const uint8_t *pkt, size_t len, uint8_t *proto, bool *has_port, uint16_t *port)
{
	size_t off;

	*has_port = false;
	if ((pkt[0] >> 4) == 4) {
		off = (size_t)(pkt[0] & 0x0f) * 4;
		*proto = pkt[9];
		if (((pkt[6] & 0x1f) << 8 | pkt[7]) != 0)
			return; /* not the first fragment */
	} else {
		uint8_t next = pkt[6];
		off = 40;
		/* Past the extension headers a client may send (at most 8). */
		for (int hops = 0; hops < 8; hops++) {
			if (next == 0 || next == 43 || next == 60) { /* hop-by-hop, routing, destination options */
				if (off + 8 > len)
					break;
				next = pkt[off];
				off += ((size_t)pkt[off + 1] + 1) * 8;
			} else if (next == 44) { /* fragment */
				if (off + 8 > len)
					break;
				bool first = ((pkt[off + 2] << 8 | pkt[off + 3]) & 0xfff8) == 0;
				next = pkt[off];
				off += 8;
				if (!first) {
					*proto = next;
					return;
				}
			} else {
				break;
			}
		}
		*proto = next;
	}
	if ((*proto == IPPROTO_TCP || *proto == IPPROTO_UDP || *proto == IPPROTO_SCTP) && off + 4 <= len) {
		*port = (uint16_t)(pkt[off + 2] << 8 | pkt[off + 3]);
		*has_port = true;
	}
}

static bool ports_allow(const struct wg_route_filter *f, const uint8_t *pkt, size_t len)
{
	uint8_t proto;
	bool has_port, match = false;
	uint16_t port = 0;

	transport_of(pkt, len, &proto, &has_port, &port);
	for (unsigned i = 0; i < f->n_rules && !match; i++) {
		const struct wg_port_rule *r = &f->rules[i];
		if (r->proto != proto)
			continue;
		/* A packet without a port (a later fragment) matches a rule with
		 * one only in an allow list: its first fragment was checked, and
		 * without it the kernel cannot reassemble the rest. */
		match = r->any_port || (has_port ? r->port == port : !f->ports_negated);
	}
	return f->ports_negated ? !match : match;
}

bool wg_route_filter_allows(const struct wg_route_filter *f, const uint8_t *pkt, size_t len)
{
	int family = (pkt[0] >> 4) == 4 ? 4 : 6;
	const uint8_t *dst = family == 4 ? pkt + 16 : pkt + 24;

	if (f->routes) {
		bool in = f->n_allow == 0;
		for (unsigned i = 0; i < f->n_allow && !in; i++)
			in = net_contains(&f->allow[i], family, dst);
		for (unsigned i = 0; i < f->n_deny && in; i++)
			in = !net_contains(&f->deny[i], family, dst);
		if (!in)
			return false;
	}
	return !f->ports || ports_allow(f, pkt, len);
}
