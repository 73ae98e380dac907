/* Login conversations under attack (core/login/auth.c): the caps on how many
 * conversations one connection, one client address and the server hold;
 * a chain that starts over forgets what the failed attempt established;
 * an answer on a new connection cannot skip the delay after a failure.
 *
 * Driven as test_auth_end.c drives the core: wg_auth_handle() with parsed
 * requests on fake connections that are already closing (replies go
 * nowhere), a test plugin answering through the host functions. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "net/addr_count.h"
#include "login/auth.h"
#include "net/ban.h"
#include "net/conn.h"
#include "hashmap.h"
#include "util/hex.h"
#include "net/http_parser.h"
#include "modules/gen.h"
#include "server.h"

#define MAX_CONNS 64

/* What the test plugin of step i does; see t_cont. */
struct step {
	int starts, conts;
	struct wg_auth *last;
	bool fail;               /* cont() refuses */
	const char *user;        /* cont() accepts this user... */
	bool set_attrs;          /* ...setting a RADIUS-like address, class and route */
};

static struct wg_server *srv;
static struct wg_loaded_plugin chain[2];
static struct wg_plugin desc[2];
static struct step steps[2];
static struct wg_conn *conns[MAX_CONNS];
static int n_conns;

static const struct wg_auth_field fields[] = {
	{"username", "Username:", WG_FIELD_TEXT},
	{"password", "Password:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

static void t_start(void *state, struct wg_auth *a)
{
	struct step *s = state;

	s->starts++;
	s->last = a;
	wg_auth_host_prompt(a, "Log in.", fields);
}

static void t_cont(void *state, struct wg_auth *a)
{
	struct step *s = state;

	s->conts++;
	s->last = a;
	if (s->fail) {
		wg_auth_host_fail(a, "No.", "test plugin says no");
		return;
	}
	if (s->set_attrs) {
		wg_auth_host_set_attr(a, WG_ATTR_FRAMED_IPV4, "10.8.0.99");
		wg_auth_host_set_attr(a, "class", "alice-class");
		wg_auth_host_set_attr(a, WG_ATTR_ROUTE, "10.99.0.0/16");
	}
	wg_auth_host_succeed(a, s->user, NULL);
}

static const struct wg_auth_ops ops = {
	.struct_size = sizeof(struct wg_auth_ops),
	.start = t_start,
	.cont = t_cont,
};

static struct wg_gen gen0;
static struct wg_vhost vh0;

static void make_chain(unsigned n)
{
	static const char *const names[2] = {"test-a", "test-b"};

	for (unsigned i = 0; i < n; i++) {
		desc[i] = (struct wg_plugin){WG_PLUGIN_HEADER, .name = names[i], .kind = WG_PLUGIN_AUTH, .ops = &ops};
		chain[i] = (struct wg_loaded_plugin){.desc = &desc[i], .state = &steps[i], .initialized = true};
		vh0.auth_chain[i] = &chain[i];
	}
	vh0.n_auth = n;
	vh0.server_name = "test";
	/* Generation 0: what a server has from its start on (gen.h). The
	 * server's reference keeps it from ever being collected. */
	gen0 = (struct wg_gen){.srv = srv, .refs = 1, .vhosts = &vh0, .n_vhosts = 1};
	vh0.gen = &gen0;
	srv->gen = &gen0;
}

static const struct wg_ban_limits ban_lim = {.failures = 100, .window_s = 300, .ban_s = 600, .max_entries = 64,
					     .prefix6 = 64};

static void setup(void)
{
	srv = calloc(1, sizeof(*srv));
	cr_assert_not_null(srv);
	srv->base = event_base_new();
	srv->by_context = wg_hashmap_new(16);
	srv->logins_by_addr = wg_addr_count_new();
	srv->bans = wg_ban_new(&ban_lim);
	cr_assert(srv->base && srv->by_context && srv->logins_by_addr && srv->bans);
	srv->auth_timeout = 30;
	srv->server_name = "test";
	srv->max_logins = srv->max_logins_per_addr = srv->max_logins_per_conn = 1000;
	srv->prefix6_client = 64;
	memset(steps, 0, sizeof(steps));
	n_conns = 0;
	make_chain(1);
}

static void teardown(void)
{
	wg_auth_end_all(srv);
	for (int i = 0; i < n_conns; i++)
		free(conns[i]);
	wg_hashmap_free(srv->by_context);
	wg_addr_count_free(srv->logins_by_addr);
	wg_ban_free(srv->bans);
	event_base_free(srv->base);
	free(srv);
}

TestSuite(auth_limits, .init = setup, .fini = teardown);

/* A connection as conn.c lays it out (its private part zeroed), already
 * closing so that replies are dropped. */
static struct wg_conn *conn_from(const char *peer)
{
	struct wg_conn *c = calloc(1, 512);

	cr_assert_not_null(c);
	cr_assert_lt(n_conns, MAX_CONNS);
	conns[n_conns++] = c;
	c->srv = srv;
	c->fd = -1;
	c->state = WG_CONN_CLOSING;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	return c;
}

struct find_ctx {
	const struct wg_auth *a;
	char hex[33];
};

static void find_key(const void *key, void *value, void *arg)
{
	struct find_ctx *f = arg;

	if (value == f->a)
		wg_hex_encode(key, 16, f->hex);
}

/* POSTs body on c, with a's context cookie when a is set (an empty body
 * starts a conversation). */
static void post_on(struct wg_conn *c, struct wg_auth *a, const char *body)
{
	struct find_ctx f = {.a = a};
	char cookie[64];
	struct wg_http_request req = {.method = "POST", .url = "/auth", .body = body, .body_len = strlen(body)};

	req.headers[req.n_headers++] = (struct wg_http_header){"Content-Type", "application/x-www-form-urlencoded"};
	if (a) {
		wg_hashmap_foreach(srv->by_context, find_key, &f);
		cr_assert(f.hex[0], "conversation not in the table");
		snprintf(cookie, sizeof(cookie), "webvpncontext=%s", f.hex);
		req.headers[req.n_headers++] = (struct wg_http_header){"Cookie", cookie};
	}
	wg_auth_handle(c, &req);
}

static size_t conversations(void)
{
	return wg_hashmap_count(srv->by_context);
}

static uint64_t failures(void)
{
	struct wg_ban_stats st;

	wg_ban_stats(srv->bans, 0, &st);
	return st.failures_total;
}

static void run_loop_ms(long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(srv->base, &tv);
	event_base_dispatch(srv->base);
}

/* One connection sending init after init (a pipelined flood): it holds at
 * most max-logins-per-connection conversations; the rest are refused and
 * each refusal counts as a failed login. */
Test(auth_limits, conversations_per_connection_are_capped)
{
	struct wg_conn *c = conn_from("198.51.100.7");

	srv->max_logins_per_conn = 4;
	for (int i = 0; i < 20; i++)
		post_on(c, NULL, "");
	cr_assert_eq(conversations(), 4, "one connection holds %zu conversations", conversations());
	cr_assert_eq(failures(), 16, "refusals not counted as failures");
	post_on(conn_from("198.51.100.7"), NULL, "");
	cr_assert_eq(conversations(), 5, "a new connection of that address gets its own share");
}

/* Many connections of one client: at most max-logins-per-address
 * conversations; an IPv6 client is its /64. Other clients are not held up,
 * and a finished conversation gives its place back. */
Test(auth_limits, conversations_per_address_are_capped)
{
	char peer[64];

	srv->max_logins_per_addr = 3;
	for (int i = 0; i < 10; i++)
		post_on(conn_from("198.51.100.7"), NULL, "");
	cr_assert_eq(conversations(), 3);
	cr_assert_eq(failures(), 7);
	for (int i = 0; i < 10; i++) {
		snprintf(peer, sizeof(peer), "2001:db8:1:2::%x", i + 1);
		post_on(conn_from(peer), NULL, "");
	}
	cr_assert_eq(conversations(), 6, "one /64 held more than its share");
	post_on(conn_from("198.51.100.8"), NULL, "");
	cr_assert_eq(conversations(), 7, "another address was refused");
	wg_auth_end_all(srv);
	cr_assert_eq(conversations(), 0);
	post_on(conn_from("198.51.100.7"), NULL, "");
	cr_assert_eq(conversations(), 1, "ended conversations still count against the address");
}

/* The server-wide cap: refused, but not held against the client (it is
 * not its doing). */
Test(auth_limits, conversations_in_all_are_capped)
{
	char peer[64];

	srv->max_logins = 5;
	for (int i = 0; i < 8; i++) {
		snprintf(peer, sizeof(peer), "198.51.100.%d", i + 1);
		post_on(conn_from(peer), NULL, "");
	}
	cr_assert_eq(conversations(), 5);
	cr_assert_eq(failures(), 0, "the server-wide cap counted as the clients' failures");
}

/* alice passes step one (which sets her address, class and a route), fails
 * step two; the chain starts over and mallory passes step one without any
 * attributes: nothing of alice's may remain for mallory's session. What
 * the client said about itself stays. */
Test(auth_limits, a_restarted_chain_forgets_the_attributes)
{
	struct wg_conn *c = conn_from("198.51.100.7");
	struct wg_http_request init = {.method = "POST", .url = "/", .body = "", .body_len = 0};

	make_chain(2);
	steps[0].user = "alice";
	steps[0].set_attrs = true;
	steps[1].fail = true;
	wg_auth_handle(c, &init);
	struct wg_auth *a = steps[0].last;
	cr_assert_not_null(a);
	wg_auth_host_set_attr(a, "client-version", "v9.01"); /* as the init would */
	post_on(conn_from("198.51.100.7"), a, "username=alice&password=x");
	event_base_loop(srv->base, EVLOOP_NONBLOCK); /* step two's start() */
	cr_assert_eq(steps[1].starts, 1);
	cr_assert_str_eq(wg_auth_attr(a, WG_ATTR_FRAMED_IPV4), "10.8.0.99");
	post_on(conn_from("198.51.100.7"), a, "password=wrong"); /* step two says no: start over */
	run_loop_ms(600);                                         /* past the failure delay */
	cr_assert_eq(steps[0].starts, 2, "the chain did not start over");
	steps[0].user = "mallory";
	steps[0].set_attrs = false;
	post_on(conn_from("198.51.100.7"), a, "username=mallory&password=y");
	event_base_loop(srv->base, EVLOOP_NONBLOCK);
	cr_assert_eq(steps[1].starts, 2);
	cr_assert_null(wg_auth_attr(a, WG_ATTR_FRAMED_IPV4), "mallory inherits alice's address");
	cr_assert_null(wg_auth_attr(a, "class"), "mallory inherits alice's class");
	cr_assert_null(wg_auth_attr(a, WG_ATTR_ROUTE), "mallory inherits alice's route");
	cr_assert_str_eq(wg_auth_host_username(a), "mallory");
}

/* After a failure the next start() waits for a delay. A client that leaves
 * and answers the same context from a new connection meanwhile is told
 * 409: its answer never reaches cont() before start() ran again. */
Test(auth_limits, the_failure_delay_cannot_be_skipped_by_a_new_connection)
{
	struct wg_conn *c = conn_from("198.51.100.7");

	steps[0].fail = true;
	post_on(c, NULL, "");
	struct wg_auth *a = steps[0].last;
	cr_assert_not_null(a);
	for (int i = 0; i < 4; i++)
		wg_ban_failure(srv->bans, "198.51.100.7", time(NULL)); /* the next delay: 4 s */
	struct wg_conn *c2 = conn_from("198.51.100.7");
	post_on(c2, a, "username=bob&password=wrong");
	cr_assert_eq(steps[0].conts, 1);
	wg_auth_conn_gone(c2); /* the client leaves during the delay */
	steps[0].fail = false;
	steps[0].user = "bob";
	post_on(conn_from("198.51.100.7"), a, "username=bob&password=right");
	cr_assert_eq(steps[0].conts, 1, "an answer was taken during the failure delay");
	cr_assert_eq(steps[0].starts, 1);
	run_loop_ms(200);
	cr_assert_eq(steps[0].starts, 1, "the delay was cut short");
}
