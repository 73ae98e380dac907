/* restrict-user-to-routes / -ports (core/tunnel/route_filter.c): the
 * ocserv port syntax, networks in both notations, and what passes. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "config/check_limits.h"
#include "config/config.h"
#include "config/server_options.h"
#include "tunnel/route_filter.h"
#include "util/err.h"

/* An IPv4 packet from 10.8.0.2 to dst with proto and a destination port. */
static size_t pkt4(uint8_t *p, const char *dst, uint8_t proto, uint16_t port, uint16_t frag_off)
{
	memset(p, 0, 48);
	p[0] = 0x45;
	p[3] = 48;
	p[6] = (uint8_t)(frag_off >> 8);
	p[7] = (uint8_t)frag_off;
	p[8] = 64;
	p[9] = proto;
	inet_pton(AF_INET, "10.8.0.2", p + 12);
	inet_pton(AF_INET, dst, p + 16);
	p[20] = 0x30;
	p[21] = 0x39;
	p[22] = (uint8_t)(port >> 8);
	p[23] = (uint8_t)port;
	return 48;
}

/* An IPv6 packet to dst, optionally behind a hop-by-hop header. */
static size_t pkt6(uint8_t *p, const char *dst, uint8_t proto, uint16_t port, bool hbh)
{
	size_t off = 40;
	memset(p, 0, 80);
	p[0] = 0x60;
	p[5] = 40;
	p[6] = hbh ? 0 : proto;
	p[7] = 64;
	inet_pton(AF_INET6, "fd00:8::2", p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	if (hbh) {
		p[40] = proto;
		p[41] = 0; /* 8 bytes */
		off = 48;
	}
	p[off + 2] = (uint8_t)(port >> 8);
	p[off + 3] = (uint8_t)port;
	return 80;
}

Test(route_filter, networks_in_both_notations)
{
	struct wg_filter_net n;

	cr_assert_eq(wg_filter_net_parse("10.1.0.0/16", &n), 0);
	cr_assert_eq(n.family, 4);
	cr_assert_eq(n.bits, 16);
	cr_assert_eq(wg_filter_net_parse("10.1.0.0/255.255.0.0", &n), 0);
	cr_assert_eq(n.bits, 16);
	cr_assert_eq(wg_filter_net_parse("10.1.0.0/255.0.255.0", &n), -1, "a mask with a hole");
	cr_assert_eq(wg_filter_net_parse("203.0.113.53", &n), 0);
	cr_assert_eq(n.bits, 32);
	cr_assert_eq(wg_filter_net_parse("fd00:1::/48", &n), 0);
	cr_assert_eq(n.family, 6);
	cr_assert_eq(n.bits, 48);
	cr_assert_eq(wg_filter_net_parse("10.1.0.0/33", &n), -1);
	cr_assert_eq(wg_filter_net_parse("fd00::/129", &n), -1);
	cr_assert_eq(wg_filter_net_parse("nonsense", &n), -1);
	cr_assert_eq(wg_filter_net_parse("/8", &n), -1);
}

Test(route_filter, ocserv_port_syntax)
{
	struct wg_route_filter f;
	char err[160];

	memset(&f, 0, sizeof(f));
	cr_assert_eq(wg_port_rules_parse("tcp(443), tcp(80), udp(443), sctp(99), tcp(583), icmp(), icmpv6()", &f, err,
					 sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(f.n_rules, 7);
	cr_assert(!f.ports_negated);
	cr_assert_eq(f.rules[0].proto, IPPROTO_TCP);
	cr_assert_eq(f.rules[0].port, 443);
	cr_assert_eq(f.rules[3].proto, IPPROTO_SCTP);
	cr_assert(f.rules[5].any_port);
	cr_assert_eq(f.rules[6].proto, IPPROTO_ICMPV6);
	cr_assert_eq(wg_port_rules_parse(" !( tcp(25) , udp(137) ) ", &f, err, sizeof(err)), 0, "%s", err);
	cr_assert(f.ports_negated);
	cr_assert_eq(f.n_rules, 2);
	cr_assert_eq(wg_port_rules_parse("tcp()", &f, err, sizeof(err)), 0, "the whole protocol");
	cr_assert(f.rules[0].any_port);

	const char *bad[] = {"tcp(0)", "tcp(65536)", "icmp(5)", "ftp(21)", "tcp(443", "!(tcp(25)", "!(tcp(25)) x",
			     "!tcp(25)", "tcp 443", "udp(-1)"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(wg_port_rules_parse(bad[i], &f, err, sizeof(err)), -1, "\"%s\" was accepted", bad[i]);
}

static void routes_filter(struct wg_route_filter *f)
{
	struct wg_tunnel_config tc;

	memset(&tc, 0, sizeof(tc));
	memset(f, 0, sizeof(*f));
	tc.n_include = 2;
	snprintf(tc.include[0].net, sizeof(tc.include[0].net), "203.0.113.0/24");
	snprintf(tc.include[1].net, sizeof(tc.include[1].net), "fd00:1::/48");
	tc.n_exclude = 1;
	snprintf(tc.exclude[0].net, sizeof(tc.exclude[0].net), "203.0.113.128/25");
	tc.n_dns = 1;
	snprintf(tc.dns[0], sizeof(tc.dns[0]), "198.18.0.53");
	wg_route_filter_set_routes(f, &tc);
}

Test(route_filter, only_the_pushed_routes)
{
	struct wg_route_filter f;
	uint8_t p[128];

	routes_filter(&f);
	cr_assert(wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_TCP, 80, 0)));
	cr_assert(!wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.200", IPPROTO_TCP, 80, 0)), "an excluded network");
	cr_assert(!wg_route_filter_allows(&f, p, pkt4(p, "192.0.2.2", IPPROTO_ICMP, 0, 0)), "outside every route");
	cr_assert(wg_route_filter_allows(&f, p, pkt4(p, "198.18.0.53", IPPROTO_UDP, 53, 0)), "its DNS server");
	cr_assert(wg_route_filter_allows(&f, p, pkt6(p, "fd00:1::7", IPPROTO_TCP, 22, false)));
	cr_assert(!wg_route_filter_allows(&f, p, pkt6(p, "fd00:2::7", IPPROTO_TCP, 22, false)));
}

Test(route_filter, no_include_route_means_everything_but_the_excluded)
{
	struct wg_route_filter f;
	struct wg_tunnel_config tc;
	uint8_t p[128];

	memset(&tc, 0, sizeof(tc));
	memset(&f, 0, sizeof(f));
	tc.n_exclude = 1;
	snprintf(tc.exclude[0].net, sizeof(tc.exclude[0].net), "192.168.0.0/255.255.0.0");
	wg_route_filter_set_routes(&f, &tc);
	cr_assert(wg_route_filter_allows(&f, p, pkt4(p, "8.8.8.8", IPPROTO_UDP, 53, 0)));
	cr_assert(!wg_route_filter_allows(&f, p, pkt4(p, "192.168.1.1", IPPROTO_UDP, 53, 0)));
}

Test(route_filter, allowed_ports)
{
	struct wg_route_filter f;
	char err[160];
	uint8_t p[128];

	memset(&f, 0, sizeof(f));
	cr_assert_eq(wg_port_rules_parse("tcp(5201), icmp()", &f, err, sizeof(err)), 0);
	cr_assert(wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_TCP, 5201, 0)));
	cr_assert(!wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_TCP, 5202, 0)));
	cr_assert(!wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_UDP, 5201, 0)), "tcp, not udp");
	cr_assert(wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_ICMP, 0, 0)));
	cr_assert(!wg_route_filter_allows(&f, p, pkt6(p, "fd00:1::7", IPPROTO_ICMPV6, 0, false)), "icmp is not icmpv6");
	/* A later fragment: its protocol is allowed, its port unknown. */
	cr_assert(wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_TCP, 1, 100)));
	cr_assert(!wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_UDP, 1, 100)));
	/* IPv6 past a hop-by-hop header. */
	cr_assert(wg_route_filter_allows(&f, p, pkt6(p, "fd00:1::7", IPPROTO_TCP, 5201, true)));
	cr_assert(!wg_route_filter_allows(&f, p, pkt6(p, "fd00:1::7", IPPROTO_TCP, 5202, true)));
}

Test(route_filter, refused_ports)
{
	struct wg_route_filter f;
	char err[160];
	uint8_t p[128];

	memset(&f, 0, sizeof(f));
	cr_assert_eq(wg_port_rules_parse("!(tcp(25), icmp())", &f, err, sizeof(err)), 0);
	cr_assert(!wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_TCP, 25, 0)));
	cr_assert(!wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_ICMP, 0, 0)));
	cr_assert(wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_TCP, 587, 0)));
	cr_assert(wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_UDP, 25, 0)));
	/* Both restrictions at once: the route check comes first. */
	routes_filter(&f);
	cr_assert_eq(wg_port_rules_parse("!(tcp(25))", &f, err, sizeof(err)), 0);
	cr_assert(!wg_route_filter_allows(&f, p, pkt4(p, "192.0.2.2", IPPROTO_TCP, 587, 0)));
	cr_assert(wg_route_filter_allows(&f, p, pkt4(p, "203.0.113.2", IPPROTO_TCP, 587, 0)));
}

/* --check-config, start and reload refuse what a session could not apply. */
Test(route_filter, config_values_checked)
{
	static struct wg_err err;
	struct wg_config *c;

	wg_err_init(&err);
	c = wg_config_from_string("t.json", "{\"certificate\": \"/c\", \"private-key\": \"/k\", \"data-quota-action\": \"nap\", "
					    "\"restrict-user-to-ports\": \"tcp(443), udp(53)\", \"users\": {\"a\": {\"iroute\": "
					    "[\"10.9.0.0/16\", \"fd00:9::/48\"], \"restrict-user-to-ports\": \"!(icmp())\"}}}",
				  &err);
	cr_assert_not_null(c, "%s", err.text);
	cr_assert_eq(wg_config_validate(c, wg_server_options, &err), 0, "%s", err.text);
	wg_check_limits(c, &err);
	cr_assert_eq(err.count, 1, "%s", err.text);
	cr_assert(strstr(err.text, "data-quota-action"), "%s", err.text);
	wg_config_free(c);

	wg_err_init(&err);
	c = wg_config_from_string("t.json", "{\"certificate\": \"/c\", \"private-key\": \"/k\", \"workers\": 2, \"groups\": "
					    "{\"g\": {\"restrict-user-to-ports\": \"tcp(1\"}}, \"users\": {\"a\": {\"iroute\": "
					    "[\"10.9.0.0/16\"]}}}",
				  &err);
	cr_assert_not_null(c, "%s", err.text);
	cr_assert_eq(wg_config_validate(c, wg_server_options, &err), 0, "%s", err.text);
	wg_check_limits(c, &err);
	cr_assert_eq(err.count, 2, "%s", err.text);
	cr_assert(strstr(err.text, "groups.g: restrict-user-to-ports"), "%s", err.text);
	cr_assert(strstr(err.text, "iroute needs \"workers\": 1"), "%s", err.text);
	wg_config_free(c);
}
