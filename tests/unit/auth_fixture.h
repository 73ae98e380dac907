/* The login conversation core (core/login/auth.c) driven as the connection
 * code drives it, for the auth unit tests (test_auth_end.c,
 * test_auth_limits.c, test_auth_bearer.c): wg_auth_handle() with parsed
 * requests, on a server struct with an event loop but no sockets, and test
 * plugins in the test file that answer through the host functions of
 * core/login/auth.h. The fake connections are already closing, so the
 * core's replies go nowhere. Header-only so each test stays one executable.
 *
 * A test file includes this, calls auth_fixture_setup/teardown from its
 * suite's init/fini, puts its plugins in the chain with auth_fixture_step
 * and talks with auth_fixture_post. */
#ifndef WG_TEST_AUTH_FIXTURE_H
#define WG_TEST_AUTH_FIXTURE_H

#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "hashmap.h"
#include "login/auth.h"
#include "modules/gen.h"
#include "net/addr_count.h"
#include "net/ban.h"
#include "net/conn.h"
#include "net/http_parser.h"
#include "server.h"
#include "util/hex.h"

#define AUTH_FIXTURE_MAX_CONNS 64
#define AUTH_FIXTURE_MAX_STEPS 3

static struct wg_server *srv;

static struct {
	/* The core reads a connection as the start of conn.c's private
	 * struct, whose next members (the request queue) must read as empty:
	 * each fake connection has zeroed room behind it. */
	struct wg_conn *conns[AUTH_FIXTURE_MAX_CONNS];
	int n_conns;
	struct wg_loaded_plugin chain[AUTH_FIXTURE_MAX_STEPS];
	struct wg_plugin desc[AUTH_FIXTURE_MAX_STEPS];
	/* Generation 0 with its default vhost, what a server has from its
	 * start on (gen.h): the chain lives there. The server's reference
	 * keeps it from ever being collected. */
	struct wg_gen gen0;
	struct wg_vhost vh0;
} auth_fixture;

static inline void auth_fixture_setup(void)
{
	srv = calloc(1, sizeof(*srv));
	cr_assert_not_null(srv);
	srv->base = event_base_new();
	srv->by_context = wg_hashmap_new(16);
	srv->logins_by_addr = wg_addr_count_new();
	cr_assert(srv->base && srv->by_context && srv->logins_by_addr);
	srv->auth_timeout = 30;
	srv->server_name = "test";
	srv->max_logins = srv->max_logins_per_addr = srv->max_logins_per_conn = 1000;
	srv->prefix6_client = 64;
	memset(&auth_fixture, 0, sizeof(auth_fixture));
	auth_fixture.vh0.server_name = "test";
	auth_fixture.vh0.gen = &auth_fixture.gen0;
	auth_fixture.gen0 = (struct wg_gen){.srv = srv, .refs = 1, .vhosts = &auth_fixture.vh0, .n_vhosts = 1};
	srv->gen = &auth_fixture.gen0;
}

static inline void auth_fixture_teardown(void)
{
	wg_auth_end_all(srv);
	for (int i = 0; i < auth_fixture.n_conns; i++)
		free(auth_fixture.conns[i]);
	wg_hashmap_free(srv->by_context);
	wg_addr_count_free(srv->logins_by_addr);
	if (srv->bans)
		wg_ban_free(srv->bans);
	event_base_free(srv->base);
	free(srv);
}

/* Step i of the chain runs ops with `state`; the chain is then i + 1 long. */
static inline void auth_fixture_step(unsigned i, const char *name, const struct wg_auth_ops *ops, void *state)
{
	cr_assert_lt(i, AUTH_FIXTURE_MAX_STEPS);
	auth_fixture.desc[i] =
		(struct wg_plugin){WG_PLUGIN_HEADER, .name = name, .kind = WG_PLUGIN_AUTH, .ops = ops};
	auth_fixture.chain[i] =
		(struct wg_loaded_plugin){.desc = &auth_fixture.desc[i], .state = state, .initialized = true};
	auth_fixture.vh0.auth_chain[i] = &auth_fixture.chain[i];
	auth_fixture.vh0.n_auth = i + 1;
}

/* A closing connection from peer. */
static inline struct wg_conn *auth_fixture_conn(const char *peer)
{
	struct wg_conn *c = calloc(1, sizeof(struct wg_conn) + 256);

	cr_assert_not_null(c);
	cr_assert_lt(auth_fixture.n_conns, AUTH_FIXTURE_MAX_CONNS);
	auth_fixture.conns[auth_fixture.n_conns++] = c;
	c->srv = srv;
	c->fd = -1;
	c->state = WG_CONN_CLOSING; /* replies are dropped, never sent */
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	return c;
}

struct auth_fixture_find {
	const struct wg_auth *a;
	char hex[33];
};

static inline void auth_fixture_find_key(const void *key, void *value, void *arg)
{
	struct auth_fixture_find *f = arg;

	if (value == f->a)
		wg_hex_encode(key, 16, f->hex);
}

/* POSTs body to url on c: with a's context cookie when a is set (an empty
 * body starts a conversation), with an Authorization header when auth is
 * set. */
static inline void auth_fixture_post(struct wg_conn *c, const char *url, struct wg_auth *a, const char *body,
			      const char *auth)
{
	struct auth_fixture_find f = {.a = a};
	char cookie[64];
	struct wg_http_request req = {.method = "POST", .url = url, .body = body, .body_len = strlen(body)};

	req.headers[req.n_headers++] = (struct wg_http_header){"Content-Type", "application/x-www-form-urlencoded"};
	if (a) {
		wg_hashmap_foreach(srv->by_context, auth_fixture_find_key, &f);
		cr_assert(f.hex[0], "conversation not in the table");
		snprintf(cookie, sizeof(cookie), "webvpncontext=%s", f.hex);
		req.headers[req.n_headers++] = (struct wg_http_header){"Cookie", cookie};
	}
	if (auth)
		req.headers[req.n_headers++] = (struct wg_http_header){"Authorization", auth};
	wg_auth_handle(c, &req);
}

static inline void auth_fixture_run_loop_ms(long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(srv->base, &tv);
	event_base_dispatch(srv->base);
}

/* Conversations the server holds. */
static inline size_t auth_fixture_conversations(void)
{
	return wg_hashmap_count(srv->by_context);
}

#endif
