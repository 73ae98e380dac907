/* routing-static's IPv6 leases (issue 22 item 8): every leased address is
 * inside ipv6-network (the host number never spills into the network
 * bits), no two live leases share an address, a released host number is
 * leased again, and when the IPv6 host space is used up a lease is refused
 * rather than wrapped. The plugin's source is compiled into this test so
 * its lease/release are called directly, with a small host table. */
#include <criterion/criterion.h>
#include <arpa/inet.h>

#include "../../plugins/routing-static/routing_static.c"

#include "config/config.h"
#include "conf_fixture.h"

static const char *no_session_attr(const struct wg_session *s, const char *attr)
{
	(void)s;
	(void)attr;
	return NULL;
}

static struct wg_host host;
static struct wg_config *cfg;

static struct routing *start(const char *net4, const char *net6)
{
	char json[256], err[256];
	struct wg_err e;
	void *state = NULL;

	host = fixture_host();
	host.session_get = no_session_attr;
	snprintf(json, sizeof(json), "{\"ipv4-network\": \"%s\", \"ipv6-network\": \"%s\"}", net4, net6);
	wg_err_init(&e);
	cfg = wg_config_from_string("test", json, &e);
	cr_assert_not_null(cfg, "%s", e.text);
	cr_assert_eq(wg_config_validate(cfg, options, &e), 0, "%s", e.text);
	cr_assert_eq(init(&host, cfg, &state, err, sizeof(err)), 0, "%s", err);
	return state;
}

static void stop(struct routing *r)
{
	fini(r);
	wg_config_free(cfg);
}

static int lease_one(struct routing *r, struct wg_tunnel_config *tc)
{
	memset(tc, 0, sizeof(*tc));
	tc->struct_size = sizeof(*tc);
	return lease(r, NULL, tc);
}

/* The 16 bytes of a lease's IPv6 address, checked to lie in net/prefix and
 * not to be the network (::0) or the server (::1). */
static void addr6_in(const struct wg_tunnel_config *tc, const char *net, unsigned prefix, uint8_t out[16])
{
	uint8_t n[16];
	cr_assert_eq(inet_pton(AF_INET6, tc->addr6, out), 1, "\"%s\"", tc->addr6);
	cr_assert_eq(inet_pton(AF_INET6, net, n), 1);
	for (unsigned bit = 0; bit < prefix; bit++)
		cr_assert_eq(out[bit / 8] >> (7 - bit % 8) & 1, n[bit / 8] >> (7 - bit % 8) & 1,
			     "%s is outside %s/%u (bit %u)", tc->addr6, net, prefix, bit);
	uint8_t host_or = 0;
	for (unsigned i = 0; i < 15; i++)
		host_or |= (uint8_t)(out[i] & ~n[i]);
	cr_assert(host_or || out[15] > 1, "%s is the network or the server's address", tc->addr6);
	cr_assert_eq(tc->prefix6, prefix);
}

/* Release all, lease all again, three times over: the host numbers are
 * reused, so the addresses stay inside a /120 (the old counter went on
 * past ::ff into the network bits on the second round). */
Test(routing_static_ipv6, reuse_stays_inside_the_prefix)
{
	struct routing *r = start("10.8.0.0/24", "fd00:8::/120");
	static struct wg_tunnel_config tc[253];
	uint8_t a[16];

	for (int round = 0; round < 3; round++) {
		static bool seen[256];
		memset(seen, 0, sizeof(seen));
		for (int i = 0; i < 253; i++) {
			cr_assert_eq(lease_one(r, &tc[i]), 0, "round %d lease %d", round, i);
			addr6_in(&tc[i], "fd00:8::", 120, a);
			cr_assert_not(seen[a[15]], "round %d: %s leased twice", round, tc[i].addr6);
			seen[a[15]] = true;
		}
		for (int i = 0; i < 253; i++)
			release(r, NULL, &tc[i]);
	}
	stop(r);
}

/* One released in the middle comes back; the others stay taken. */
Test(routing_static_ipv6, released_host_number_is_leased_again)
{
	struct routing *r = start("10.8.0.0/24", "fd00:8::/64");
	struct wg_tunnel_config tc[3], again;

	for (int i = 0; i < 3; i++)
		cr_assert_eq(lease_one(r, &tc[i]), 0);
	release(r, NULL, &tc[1]);
	/* the pool's cursor moves on: lease the rest of the /24 first */
	static struct wg_tunnel_config rest[250];
	for (int i = 0; i < 250; i++)
		cr_assert_eq(lease_one(r, &rest[i]), 0, "lease %d", i);
	cr_assert_eq(lease_one(r, &again), 0);
	cr_assert_str_eq(again.addr6, tc[1].addr6);
	cr_assert_str_eq(again.addr4, tc[1].addr4);
	stop(r);
}

/* An IPv4 pool larger than the IPv6 host space: the leases that fit are
 * given, all inside the prefix; the next is refused, not wrapped. */
Test(routing_static_ipv6, exhausted_ipv6_refuses)
{
	struct routing *r = start("10.8.0.0/22", "fd00:8::/120");
	static struct wg_tunnel_config tc[1024];
	uint8_t a[16];
	int ok = 0, rc = 0;

	for (int i = 0; i < 1021; i++) {
		rc = lease_one(r, &tc[i]);
		if (rc < 0)
			break;
		addr6_in(&tc[i], "fd00:8::", 120, a);
		ok++;
	}
	cr_assert_eq(rc, -EADDRNOTAVAIL, "a lease beyond the IPv6 space is refused");
	cr_assert_eq(ok, 254, "host numbers ::2 to ::ff are all used first (got %d)", ok);
	stop(r);
}
