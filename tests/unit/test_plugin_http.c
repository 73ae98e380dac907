/* Browsers' requests to auth plugins (core/login/plugin_http.c), what
 * auth-oidc's browser login is built on: GET /+wolfguard+/<name>/<path>
 * reaches the chain's plugin of that name with its path and query; other
 * names, methods, plugins without http_request and oversized queries do
 * not; the connection waits until the plugin answers, and an answer after
 * the browser left touches nothing. Also the login request headers the
 * server keeps for plugins (auth_http_header) and the refusal of a
 * single sign-on form without its URL.
 *
 * Driven like test_auth_bearer.c: a server struct with an event loop and
 * connections that are already closing (replies go nowhere). */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "hashmap.h"
#include "login/auth.h"
#include "login/plugin_http.h"
#include "net/addr_count.h"
#include "net/conn.h"
#include "net/http_parser.h"
#include "modules/gen.h"
#include "server.h"

struct test_conn {
	struct wg_conn pub;
	void *stash;
};

static struct wg_server *srv;
static struct wg_loaded_plugin steps[2];
static struct wg_plugin descs[2];
static struct test_conn *conns[8];
static int n_conns;

static struct {
	int calls;
	char path[300], query[5000];
	struct wg_http_call *call;
	bool answer_now;
	const char *dh; /* auth_http_header seen at start */
	bool sso_short;
} plug;

static void t_http(void *state, struct wg_http_call *call, const char *path, const char *query)
{
	(void)state;
	plug.calls++;
	snprintf(plug.path, sizeof(plug.path), "%s", path);
	snprintf(plug.query, sizeof(plug.query), "%s", query);
	plug.call = call;
	if (plug.answer_now) {
		wg_plugin_http_respond(call, "200 OK", "text/plain", NULL, "ok", 2);
		plug.call = NULL;
	}
}

static void t_start(void *state, struct wg_auth *a)
{
	(void)state;
	plug.dh = wg_auth_host_http_header(a, "x-anyconnect-strap-dh-pubkey");
	struct {
		uint32_t struct_size;
	} shorter = {sizeof(shorter)};
	struct wg_auth_sso sso = {.struct_size = sizeof(sso), .login_url = "https://idp.test/a", .field_name = "sso-token"};
	wg_auth_host_prompt_sso(a, "Browser.", plug.sso_short ? (const struct wg_auth_sso *)&shorter : &sso);
}

static void t_cont(void *state, struct wg_auth *a)
{
	(void)state;
	wg_auth_host_fail(a, "No.", "test");
}

static const struct wg_auth_ops with_http = {
	.struct_size = sizeof(struct wg_auth_ops), .start = t_start, .cont = t_cont, .http_request = t_http};
/* A plugin built before http_request was appended: its table ends earlier. */
static const struct wg_auth_ops without_http = {
	.struct_size = offsetof(struct wg_auth_ops, http_request), .start = t_start, .cont = t_cont};

static struct wg_gen gen0;
static struct wg_vhost vh0;

static void setup(void)
{
	srv = calloc(1, sizeof(*srv));
	cr_assert_not_null(srv);
	srv->base = event_base_new();
	srv->by_context = wg_hashmap_new(16);
	srv->logins_by_addr = wg_addr_count_new();
	srv->auth_timeout = 30;
	srv->server_name = "test";
	srv->max_logins = srv->max_logins_per_addr = srv->max_logins_per_conn = 1000;
	srv->prefix6_client = 64;
	descs[0] = (struct wg_plugin){WG_PLUGIN_HEADER, .name = "test-sso", .kind = WG_PLUGIN_AUTH, .ops = &with_http};
	descs[1] = (struct wg_plugin){WG_PLUGIN_HEADER, .name = "test-old", .kind = WG_PLUGIN_AUTH, .ops = &without_http};
	for (int i = 0; i < 2; i++) {
		steps[i] = (struct wg_loaded_plugin){.desc = &descs[i], .initialized = true};
		vh0.auth_chain[i] = &steps[i];
	}
	/* Generation 0 with its default vhost, as a server has from its start. */
	vh0.n_auth = 2;
	vh0.server_name = "test";
	gen0 = (struct wg_gen){.srv = srv, .refs = 1, .vhosts = &vh0, .n_vhosts = 1};
	vh0.gen = &gen0;
	srv->gen = &gen0;
	memset(&plug, 0, sizeof(plug));
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

TestSuite(plugin_http, .init = setup, .fini = teardown);

static struct wg_conn *conn_new(void)
{
	struct test_conn *t = calloc(1, sizeof(*t));

	cr_assert_not_null(t);
	conns[n_conns++] = t;
	t->pub.srv = srv;
	t->pub.fd = -1;
	t->pub.state = WG_CONN_CLOSING;
	snprintf(t->pub.peer, sizeof(t->pub.peer), "198.51.100.9");
	return &t->pub;
}

static struct wg_conn *get(const char *method, const char *url)
{
	struct wg_conn *c = conn_new();
	struct wg_http_request req = {.method = method, .url = url, .body = ""};

	wg_plugin_http_handle(c, &req);
	return c;
}

Test(plugin_http, reaches_the_named_plugin_with_path_and_query)
{
	struct wg_conn *c = get("GET", "/+wolfguard+/test-sso/callback?code=a%2Fb&state=s");

	cr_assert_eq(plug.calls, 1);
	cr_assert_str_eq(plug.path, "/callback");
	cr_assert_str_eq(plug.query, "code=a%2Fb&state=s", "the query as sent");
	cr_assert(c->busy, "the connection waits for the answer");
	cr_assert_str_eq(wg_plugin_http_client_addr(plug.call), "198.51.100.9");
	wg_plugin_http_respond(plug.call, "302 Found", "text/html", "Location: http://localhost:29786/\r\n", "", 0);
	cr_assert_not(c->busy);
	cr_assert_null(c->http_call);
	get("GET", "/+wolfguard+/test-sso/done");
	cr_assert_eq(plug.calls, 2);
	cr_assert_str_eq(plug.query, "");
	wg_plugin_http_respond(plug.call, "200 OK", "text/html", NULL, "x", 1);
}

Test(plugin_http, others_are_not_handed_over)
{
	plug.answer_now = true;
	get("GET", "/+wolfguard+/auth-nothing/callback");
	get("GET", "/+wolfguard+/test-old/callback");  /* no http_request in its table */
	get("POST", "/+wolfguard+/test-sso/callback");
	get("GET", "/+wolfguard+/test-sso");           /* no path */
	get("GET", "/+wolfguard+/");
	char url[5200] = "/+wolfguard+/test-sso/callback?";
	memset(url + strlen(url), 'q', 4097);
	get("GET", url);
	cr_assert_eq(plug.calls, 0);
	get("GET", "/+wolfguard+/test-sso/x?");
	cr_assert_eq(plug.calls, 1, "a synchronous answer works");
}

Test(plugin_http, an_answer_after_the_browser_left_touches_nothing)
{
	struct wg_conn *c = get("GET", "/+wolfguard+/test-sso/callback?state=s");

	cr_assert_not_null(plug.call);
	wg_plugin_http_conn_gone(c);
	cr_assert_null(c->http_call);
	/* The connection's memory goes; the call must not reach it (ASan). */
	free(conns[--n_conns]);
	wg_plugin_http_respond(plug.call, "302 Found", NULL, NULL, NULL, 0);
}

static void post_init(const char *dh)
{
	struct wg_conn *c = conn_new();
	struct wg_http_request req = {.method = "POST", .url = "/", .body = "", .body_len = 0};

	req.headers[req.n_headers++] = (struct wg_http_header){"X-AnyConnect-STRAP-DH-Pubkey", dh};
	wg_auth_handle(c, &req);
}

Test(plugin_http, strap_key_is_kept_for_the_plugin)
{
	post_init("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE");
	cr_assert_not_null(plug.dh);
	cr_assert_str_eq(plug.dh, "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE");
	cr_assert_eq(wg_hashmap_count(srv->by_context), 1, "the form keeps the conversation");
}

Test(plugin_http, sso_form_without_its_fields_fails_the_login)
{
	plug.sso_short = true;
	post_init("x");
	/* Refused before the user answered anything: the login ends at once. */
	cr_assert_eq(wg_hashmap_count(srv->by_context), 0);
}
