/* Session attributes as plugins read them (host->session_get): the
 * comma-joined group list must hold every group a backend may send, at its
 * full length, without writing past any buffer (issue 22 item 3: 16 groups
 * of 511 bytes from RADIUS/LDAP overflowed a fixed 2 KiB buffer). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "session/session.h"
#include "util/addr.h"

#define LONG_GROUP 511 /* the longest group name a backend hands the core */

static struct wg_session *session_with_groups(unsigned n, size_t len)
{
	struct wg_session *s = calloc(1, sizeof(*s));
	cr_assert_not_null(s);
	for (unsigned i = 0; i < n; i++) {
		s->groups[i] = malloc(len + 1);
		cr_assert_not_null(s->groups[i]);
		memset(s->groups[i], 'a' + (char)i, len);
		s->groups[i][len] = '\0';
	}
	s->n_groups = n;
	return s;
}

static void session_free(struct wg_session *s)
{
	for (unsigned i = 0; i < s->n_groups; i++)
		free(s->groups[i]);
	free(s->groups_joined);
	free(s);
}

Test(session_attr, maximal_groups_joined_whole)
{
	struct wg_session *s = session_with_groups(WG_MAX_GROUPS, LONG_GROUP);
	const char *j = wg_session_attr(s, WG_SESS_GROUPS);

	cr_assert_not_null(j);
	cr_assert_eq(strlen(j), WG_MAX_GROUPS * LONG_GROUP + (WG_MAX_GROUPS - 1));
	for (unsigned i = 0; i < WG_MAX_GROUPS; i++) {
		const char *g = j + i * (LONG_GROUP + 1);
		cr_assert_eq(g[0], 'a' + (char)i, "group %u starts where expected", i);
		cr_assert_eq(g[LONG_GROUP - 1], 'a' + (char)i);
		if (i + 1 < WG_MAX_GROUPS)
			cr_assert_eq(g[LONG_GROUP], ',');
	}
	session_free(s);
}

Test(session_attr, groups_small_and_none)
{
	struct wg_session *s = session_with_groups(3, 2);
	cr_assert_str_eq(wg_session_attr(s, WG_SESS_GROUPS), "aa,bb,cc");
	session_free(s);
	s = session_with_groups(0, 0);
	cr_assert_str_eq(wg_session_attr(s, WG_SESS_GROUPS), "");
	session_free(s);
}

/* --- the host's double-lease check (issue 22 item 8) --------------------- */

#include <arpa/inet.h>
#include <errno.h>

#include "hashmap.h"
#include "modules/gen.h"
#include "server.h"

/* A routing plugin that hands every session the same addresses: what a
 * broken plugin (or an overflowing IPv6 counter) does. */
static const char *fixed4, *fixed6;
static int releases;

static int same_lease(void *state, const struct wg_session *s, struct wg_tunnel_config *tc)
{
	(void)state;
	(void)s;
	snprintf(tc->addr4, sizeof(tc->addr4), "%s", fixed4);
	snprintf(tc->addr6, sizeof(tc->addr6), "%s", fixed6);
	tc->prefix6 = 64;
	return 0;
}

static void count_release(void *state, const struct wg_session *s, const struct wg_tunnel_config *tc)
{
	(void)state;
	(void)s;
	(void)tc;
	releases++;
}

static const struct wg_routing_ops same_ops = {sizeof(struct wg_routing_ops), NULL, same_lease, count_release};
static const struct wg_plugin same_desc = {WG_PLUGIN_HEADER, .name = "same-lease", .kind = WG_PLUGIN_ROUTING,
					   .ops = &same_ops};

/* Generation 0 with its default vhost, as a server has from its start. */
static struct wg_gen gen0;
static struct wg_vhost vh0;

static struct wg_server *lease_server(struct wg_loaded_plugin *routing)
{
	struct wg_server *srv = calloc(1, sizeof(*srv));
	cr_assert_not_null(srv);
	routing->desc = &same_desc;
	srv->routing = routing;
	vh0 = (struct wg_vhost){.gen = &gen0, .routing = routing};
	gen0 = (struct wg_gen){.srv = srv, .refs = 1, .vhosts = &vh0, .n_vhosts = 1};
	srv->gen = &gen0;
	srv->worker.count = 1;
	srv->mtu = 1400;
	srv->by_addr4 = wg_hashmap_new(4);
	srv->by_addr6 = wg_hashmap_new(16);
	return srv;
}

static struct wg_session *leasing_session(struct wg_server *srv, const char *user)
{
	struct wg_session *s = calloc(1, sizeof(*s));
	cr_assert_not_null(s);
	s->srv = srv;
	s->gen = srv->gen;
	s->vhost = &srv->gen->vhosts[0];
	snprintf(s->user, sizeof(s->user), "%s", user);
	srv->n_sessions++;
	return s;
}

static void lease_twice(const char *addr4, const char *addr6)
{
	struct wg_loaded_plugin routing = {0};
	struct wg_server *srv = lease_server(&routing);
	static struct wg_tunnel_config tc;
	struct wg_session *alice = leasing_session(srv, "alice"), *mallory = leasing_session(srv, "mallory");
	uint8_t a6[16];
	uint32_t a4;

	fixed4 = addr4;
	fixed6 = addr6;
	cr_assert_eq(wg_session_lease_begin(alice, &tc), 0);
	cr_assert_eq(wg_session_lease_begin(mallory, &tc), -EADDRINUSE, "a second lease of the same address is refused");
	/* alice's traffic still reaches alice */
	if (addr6[0]) {
		cr_assert_eq(wg_addr_parse6(addr6, a6), 0);
		cr_assert_eq(wg_hashmap_get(srv->by_addr6, a6), alice);
		cr_assert_not(mallory->has_addr6);
	}
	if (addr4[0]) {
		cr_assert_eq(inet_pton(AF_INET, addr4, &a4), 1);
		cr_assert_eq(wg_hashmap_get(srv->by_addr4, &a4), alice);
	}
	wg_hashmap_free(srv->by_addr4);
	wg_hashmap_free(srv->by_addr6);
	free(alice);
	free(mallory);
	free(srv);
}

Test(session_lease, duplicate_ipv6_refused)
{
	lease_twice("", "fd00:8::5");
}

Test(session_lease, duplicate_ipv4_refused)
{
	lease_twice("10.8.0.5", "");
}

/* Dual stack: the IPv4 address differs (a plugin whose IPv6 counter
 * wrapped), the IPv6 one collides. */
Test(session_lease, duplicate_ipv6_with_distinct_ipv4_refused)
{
	struct wg_loaded_plugin routing = {0};
	struct wg_server *srv = lease_server(&routing);
	static struct wg_tunnel_config tc;
	struct wg_session *alice = leasing_session(srv, "alice"), *mallory = leasing_session(srv, "mallory");
	uint8_t a6[16];

	fixed4 = "10.8.0.5";
	fixed6 = "fd00:8::5";
	cr_assert_eq(wg_session_lease_begin(alice, &tc), 0);
	fixed4 = "10.8.0.6";
	cr_assert_eq(wg_session_lease_begin(mallory, &tc), -EADDRINUSE);
	cr_assert_eq(wg_addr_parse6(fixed6, a6), 0);
	cr_assert_eq(wg_hashmap_get(srv->by_addr6, a6), alice);
	wg_hashmap_free(srv->by_addr4);
	wg_hashmap_free(srv->by_addr6);
	free(alice);
	free(mallory);
	free(srv);
}
