/* HTTP authentication of the login request (core/login/auth.c), what
 * auth-oidc is built on: a plugin's challenge answers the step (401 +
 * WWW-Authenticate) and keeps the conversation; the Authorization header
 * of the repeated request reaches the plugin through
 * auth_http_credentials(a, scheme) (scheme matched case-insensitively);
 * the chain starting over after a failure forgets it; a challenge that
 * would inject a header line is refused.
 *
 * Driven like test_auth_end.c: wg_auth_handle() with parsed requests on a
 * server struct with an event loop and connections that are already
 * closing (replies go nowhere). */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "hashmap.h"
#include "net/addr_count.h"
#include "login/auth.h"
#include "net/conn.h"
#include "net/http_parser.h"
#include "modules/gen.h"
#include "server.h"
#include "util/hex.h"

#define CLIENT "198.51.100.9"

struct test_conn {
	struct wg_conn pub;
	void *stash; /* the request queue conn.c keeps next: empty */
};

static struct wg_server *srv;
static struct wg_loaded_plugin step;
static struct wg_plugin desc;
static struct test_conn *conns[32];
static int n_conns;
static struct wg_gen gen0;   /* generation 0, as the server has from its start (gen.h) */
static struct wg_vhost vh0;

/* What the test plugin saw and does. */
static struct {
	char seen[8][128]; /* credentials at each start/cont ("-" for none) */
	int n_seen;
	const char *challenge; /* answered when no credentials came */
	bool fail_in_cont;
	struct wg_auth *last;
} plug;

static const struct wg_auth_field fields[] = {
	{"password", "Password:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

static void record(struct wg_auth *a)
{
	const char *cred = wg_auth_host_http_credentials(a, "Bearer");

	plug.last = a;
	if (plug.n_seen < 8)
		snprintf(plug.seen[plug.n_seen++], sizeof(plug.seen[0]), "%s", cred ? cred : "-");
}

static void t_start(void *state, struct wg_auth *a)
{
	(void)state;
	record(a);
	if (!wg_auth_host_http_credentials(a, "Bearer"))
		wg_auth_host_http_challenge(a, plug.challenge, "Log in with a token.");
	else
		wg_auth_host_prompt(a, "And a password.", fields);
}

static void t_cont(void *state, struct wg_auth *a)
{
	(void)state;
	record(a);
	if (plug.fail_in_cont)
		wg_auth_host_fail(a, "No.", "test plugin says no");
	else
		wg_auth_host_prompt(a, "Again.", fields);
}

static void t_end(void *state, struct wg_auth *a)
{
	(void)state;
	(void)a;
}

static const struct wg_auth_ops ops = {
	.struct_size = sizeof(struct wg_auth_ops),
	.start = t_start,
	.cont = t_cont,
	.conversation_end = t_end,
};

static void setup(void)
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
	desc = (struct wg_plugin){WG_PLUGIN_HEADER, .name = "test-bearer", .kind = WG_PLUGIN_AUTH, .ops = &ops};
	step = (struct wg_loaded_plugin){.desc = &desc, .state = NULL, .initialized = true};
	vh0 = (struct wg_vhost){.gen = &gen0, .auth_chain = {&step}, .n_auth = 1, .server_name = "test"};
	gen0 = (struct wg_gen){.srv = srv, .refs = 1, .vhosts = &vh0, .n_vhosts = 1};
	srv->gen = &gen0;
	memset(&plug, 0, sizeof(plug));
	plug.challenge = "Bearer realm=\"test\"";
	n_conns = 0;
}

static void teardown(void)
{
	wg_auth_end_all(srv);
	for (int i = 0; i < n_conns; i++)
		free(conns[i]);
	wg_hashmap_free(srv->by_context);
	wg_addr_count_free(srv->logins_by_addr);
	event_base_free(srv->base);
	free(srv);
}

TestSuite(auth_bearer, .init = setup, .fini = teardown);

static struct wg_conn *conn_new(void)
{
	struct test_conn *t = calloc(1, sizeof(*t));

	cr_assert_not_null(t);
	cr_assert_lt(n_conns, 32);
	conns[n_conns++] = t;
	t->pub.srv = srv;
	t->pub.fd = -1;
	t->pub.state = WG_CONN_CLOSING;
	snprintf(t->pub.peer, sizeof(t->pub.peer), "%s", CLIENT);
	return &t->pub;
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

/* POSTs body (with a's context cookie when a is set, and an Authorization
 * header when auth is set) on a new connection. */
static void post(struct wg_auth *a, const char *body, const char *auth)
{
	struct wg_conn *c = conn_new();
	struct find_ctx f = {.a = a};
	char cookie[64];
	struct wg_http_request req = {.method = "POST", .url = "/", .body = body, .body_len = strlen(body)};

	req.headers[req.n_headers++] = (struct wg_http_header){"Content-Type", "application/x-www-form-urlencoded"};
	if (a) {
		wg_hashmap_foreach(srv->by_context, find_key, &f);
		cr_assert(f.hex[0], "conversation not in the table");
		snprintf(cookie, sizeof(cookie), "webvpncontext=%s", f.hex);
		req.headers[req.n_headers++] = (struct wg_http_header){"Cookie", cookie};
	}
	if (auth)
		req.headers[req.n_headers++] = (struct wg_http_header){"Authorization", auth};
	wg_auth_handle(c, &req);
}

static void run_loop_ms(long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(srv->base, &tv);
	event_base_dispatch(srv->base);
}

Test(auth_bearer, challenge_keeps_the_conversation_and_the_retry_carries_the_token)
{
	post(NULL, "", NULL);
	cr_assert_eq(plug.n_seen, 1);
	cr_assert_str_eq(plug.seen[0], "-");
	cr_assert_eq(wg_hashmap_count(srv->by_context), 1, "the challenge ended the conversation");
	/* openconnect repeats its init with the header: a new conversation. */
	post(NULL, "", "Bearer eyJ.abc.def");
	cr_assert_eq(plug.n_seen, 2);
	cr_assert_str_eq(plug.seen[1], "eyJ.abc.def");
	/* An answer on the same conversation still sees the token. */
	post(plug.last, "password=x", NULL);
	cr_assert_eq(plug.n_seen, 3);
	cr_assert_str_eq(plug.seen[2], "eyJ.abc.def");
}

Test(auth_bearer, scheme_is_matched_case_insensitively_and_exactly)
{
	post(NULL, "", "bearer   tok1");
	cr_assert_str_eq(plug.seen[0], "tok1");
	post(NULL, "", "Basic dXNlcjpwdw==");
	cr_assert_str_eq(plug.seen[1], "-", "a Basic header is not a bearer token");
	post(NULL, "", "BearerX tok2");
	cr_assert_str_eq(plug.seen[2], "-");
	post(NULL, "", "Bearer ");
	cr_assert_str_eq(plug.seen[3], "-", "an empty token is none");
}

Test(auth_bearer, failure_forgets_the_token)
{
	plug.fail_in_cont = true;
	post(NULL, "", "Bearer tok1");
	cr_assert_str_eq(plug.seen[0], "tok1");
	post(plug.last, "password=x", NULL);
	cr_assert_eq(plug.n_seen, 2);
	/* The chain starts over after a delay (slowing guessing). */
	for (int i = 0; i < 100 && plug.n_seen < 3; i++)
		run_loop_ms(100);
	cr_assert_eq(plug.n_seen, 3, "the chain did not start over");
	cr_assert_str_eq(plug.seen[2], "-", "a refused token was offered to the next attempt");
}

Test(auth_bearer, challenge_with_a_line_break_is_refused)
{
	plug.challenge = "Bearer\r\nSet-Cookie: webvpn=forged";
	post(NULL, "", NULL);
	cr_assert_eq(plug.n_seen, 1);
	cr_assert_eq(wg_hashmap_count(srv->by_context), 0, "the conversation survived a bad challenge");
}
