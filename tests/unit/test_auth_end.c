/* The conversation_end auth hook (core/login/auth.c): every plugin of the login
 * chain whose start() ran is told exactly once when the conversation ends,
 * however it ends (auth-timeout, a later step failing, the client starting
 * over, server stop), the others never; and a plugin built before the
 * member was appended still works.
 *
 * The core is driven as the connection code drives it: wg_auth_handle()
 * with parsed requests, on a worker struct with an event loop but no
 * sockets. The fake connections are already closing, so the core's
 * replies go nowhere; the plugins below are in this file and answer
 * through the host functions of core/login/auth.h. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "net/addr_count.h"
#include "login/auth.h"
#include "net/conn.h"
#include "hashmap.h"
#include "util/hex.h"
#include "net/http_parser.h"
#include "modules/gen.h"
#include "server.h"

#define CLIENT "198.51.100.7"
#define MAX_STEPS 3
#define MAX_CONVS 8

/* What a test plugin does when the user answers its form. */
enum on_cont { CONT_SUCCEED, CONT_FAIL, CONT_HOLD };

/* One test plugin's script and what it saw. `log` gets one letter per
 * call: S start, C cont, X cancel, E conversation_end. */
struct rec {
	const char *name;
	enum on_cont on_cont;
	bool fail_in_start; /* refuse before the user typed anything */
	int starts, conts, cancels;
	char log[64];
	struct wg_auth *last;   /* the conversation of the last start/cont */
	struct wg_auth *ended[MAX_CONVS];
	int n_ended;
	bool end_saw_client;    /* `a` was still readable during conversation_end */
};

static struct wg_server *srv;
static struct wg_loaded_plugin chain[MAX_STEPS];
static struct wg_plugin desc[MAX_STEPS];
static struct rec recs[MAX_STEPS];
/* The core reads a connection as the start of conn.c's private struct,
 * whose next member (the request queue) must read as empty. */
struct test_conn {
	struct wg_conn pub;
	void *stash;
};
static struct test_conn *conns[32];
static int n_conns;

static const struct wg_auth_field fields[] = {
	{"username", "Username:", WG_FIELD_TEXT},
	{"password", "Password:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

static void note(struct rec *r, char what)
{
	size_t n = strlen(r->log);
	if (n + 1 < sizeof(r->log))
		r->log[n] = what;
}

static void t_start(void *state, struct wg_auth *a)
{
	struct rec *r = state;

	r->starts++;
	r->last = a;
	note(r, 'S');
	if (r->fail_in_start)
		wg_auth_host_fail(a, "No.", "test plugin refuses at once");
	else
		wg_auth_host_prompt(a, "Please log in.", fields);
}

static void t_cont(void *state, struct wg_auth *a)
{
	struct rec *r = state;

	r->conts++;
	r->last = a;
	note(r, 'C');
	if (r->on_cont == CONT_SUCCEED)
		wg_auth_host_succeed(a, "alice", NULL);
	else if (r->on_cont == CONT_FAIL)
		wg_auth_host_fail(a, "No.", "test plugin says no");
	/* CONT_HOLD: the step stays pending, as with work on a worker thread */
}

static void t_cancel(void *state, struct wg_auth *a)
{
	struct rec *r = state;

	(void)a;
	r->cancels++;
	note(r, 'X');
}

static void t_end(void *state, struct wg_auth *a)
{
	struct rec *r = state;
	const char *addr = wg_auth_host_client_addr(a);

	note(r, 'E');
	r->end_saw_client = addr && strcmp(addr, CLIENT) == 0;
	for (int i = 0; i < r->n_ended; i++)
		cr_assert_neq(r->ended[i], a, "%s: conversation_end twice for one conversation", r->name);
	if (r->n_ended < MAX_CONVS)
		r->ended[r->n_ended++] = a;
}

/* Current SDK, with the hook and no cancel(). */
static const struct wg_auth_ops ops_end = {
	.struct_size = sizeof(struct wg_auth_ops),
	.start = t_start,
	.cont = t_cont,
	.conversation_end = t_end,
};

/* Both hooks: cancel() comes first, then conversation_end. */
static const struct wg_auth_ops ops_both = {
	.struct_size = sizeof(struct wg_auth_ops),
	.start = t_start,
	.cont = t_cont,
	.cancel = t_cancel,
	.conversation_end = t_end,
};

/* Built before conversation_end was appended: the table ends before it.
 * The member is filled in only to prove the host never reads past
 * struct_size (an old plugin has other data there, or nothing). */
static const struct wg_auth_ops ops_old = {
	.struct_size = offsetof(struct wg_auth_ops, conversation_end),
	.start = t_start,
	.cont = t_cont,
	.cancel = t_cancel,
	.conversation_end = t_end,
};

/* An old plugin without cancel(): the host waits for its answer. */
static const struct wg_auth_ops ops_old_nocancel = {
	.struct_size = offsetof(struct wg_auth_ops, conversation_end),
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
	cr_assert(srv->base && srv->by_context);
	srv->auth_timeout = 30;
	srv->server_name = "test";
	srv->logins_by_addr = wg_addr_count_new();
	cr_assert_not_null(srv->logins_by_addr);
	srv->max_logins = srv->max_logins_per_addr = srv->max_logins_per_conn = 1000;
	srv->prefix6_client = 64;
	memset(recs, 0, sizeof(recs));
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

TestSuite(auth_end, .init = setup, .fini = teardown);

/* The chain: step i runs ops[i]; recs[i] is its state. */
static struct wg_gen gen0;
static struct wg_vhost vh0;

static void make_chain(unsigned n, const struct wg_auth_ops *const *ops)
{
	static const char *const names[MAX_STEPS] = {"test-a", "test-b", "test-c"};

	for (unsigned i = 0; i < n; i++) {
		desc[i] = (struct wg_plugin){WG_PLUGIN_HEADER, .name = names[i], .kind = WG_PLUGIN_AUTH, .ops = ops[i]};
		chain[i] = (struct wg_loaded_plugin){.desc = &desc[i], .state = &recs[i], .initialized = true};
		recs[i].name = names[i];
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

static struct wg_conn *conn_new(void)
{
	struct test_conn *t = calloc(1, sizeof(*t));

	cr_assert_not_null(t);
	cr_assert_lt(n_conns, 32);
	conns[n_conns++] = t;
	t->pub.srv = srv;
	t->pub.fd = -1;
	t->pub.state = WG_CONN_CLOSING; /* replies are dropped, never sent */
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

/* POSTs body on a new connection, with a's context cookie when a is set
 * (an empty body starts a conversation). Returns that connection. */
static struct wg_conn *post(struct wg_auth *a, const char *body)
{
	struct wg_conn *c = conn_new();
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
	return c;
}

/* Starts a conversation; returns it (as the first step's plugin saw it). */
static struct wg_auth *begin(void)
{
	post(NULL, "");
	cr_assert_not_null(recs[0].last);
	return recs[0].last;
}

static void answer(struct wg_auth *a)
{
	post(a, "username=alice&password=secret");
	/* the next step's start() runs from a zero-delay timer */
	event_base_loop(srv->base, EVLOOP_NONBLOCK);
}

static void run_loop_ms(long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(srv->base, &tv);
	event_base_dispatch(srv->base);
}

static size_t conversations(void)
{
	return wg_hashmap_count(srv->by_context);
}

/* Runs the loop until no conversation is left, at most 30 s (a deadline,
 * not a pause: a busy machine fires the 1 s auth-timeout late). */
static void run_loop_until_no_conversation(void)
{
	for (int i = 0; i < 300 && conversations() > 0; i++)
		run_loop_ms(100);
}

Test(auth_end, timeout_tells_each_plugin_that_took_part_once)
{
	const struct wg_auth_ops *ops[] = {&ops_end, &ops_end, &ops_end};

	make_chain(3, ops);
	srv->auth_timeout = 1;
	struct wg_auth *a = begin();
	answer(a); /* test-a says yes; test-b shows its form */
	cr_assert_eq(recs[1].starts, 1);
	cr_assert_eq(recs[0].n_ended + recs[1].n_ended, 0, "told of an end while the login goes on");
	run_loop_until_no_conversation();
	cr_assert_eq(conversations(), 0, "auth-timeout did not end the conversation");
	cr_assert_eq(recs[0].n_ended, 1);
	cr_assert_eq(recs[0].ended[0], a);
	cr_assert_eq(recs[1].n_ended, 1);
	cr_assert(recs[0].end_saw_client && recs[1].end_saw_client, "`a` was not readable in conversation_end");
	cr_assert_eq(recs[2].starts, 0);
	cr_assert_eq(recs[2].n_ended, 0, "test-c never took part, yet was told");
	cr_assert_str_eq(recs[0].log, "SCE");
	cr_assert_str_eq(recs[1].log, "SE");
}

/* A later step that refuses before the user typed anything ends the
 * conversation: the earlier step that accepted hears of it too. */
Test(auth_end, later_step_refusing_ends_it_for_all)
{
	const struct wg_auth_ops *ops[] = {&ops_end, &ops_end, &ops_end};

	make_chain(3, ops);
	recs[1].fail_in_start = true;
	struct wg_auth *a = begin();
	answer(a);
	cr_assert_eq(conversations(), 0);
	cr_assert_str_eq(recs[0].log, "SCE");
	cr_assert_str_eq(recs[1].log, "SE");
	cr_assert_eq(recs[0].ended[0], a);
	cr_assert_eq(recs[2].n_ended, 0);
}

/* A later step failing after an answer makes the chain start over (the
 * conversation goes on, nobody is told); after the third failure it ends,
 * and each plugin hears it once although it started three times. */
Test(auth_end, later_step_failing_three_times_ends_it_once)
{
	const struct wg_auth_ops *ops[] = {&ops_end, &ops_end};

	make_chain(2, ops);
	recs[1].on_cont = CONT_FAIL;
	struct wg_auth *a = begin();
	for (int attempt = 1; attempt <= 3; attempt++) {
		answer(a); /* test-a: yes */
		cr_assert_eq(recs[1].starts, attempt);
		cr_assert_eq(recs[0].n_ended + recs[1].n_ended, 0, "attempt %d: told before the end", attempt);
		answer(a); /* test-b: no; the chain starts over, or ends after the third */
	}
	cr_assert_eq(conversations(), 0);
	cr_assert_eq(recs[0].starts, 3);
	cr_assert_eq(recs[0].n_ended, 1);
	cr_assert_eq(recs[1].n_ended, 1);
	cr_assert_str_eq(recs[0].log, "SCSCSCE");
	cr_assert_str_eq(recs[1].log, "SCSCSCE");
}

/* A new "init" with the old context cookie drops the old conversation. */
Test(auth_end, client_starting_over_ends_the_old_conversation)
{
	const struct wg_auth_ops *ops[] = {&ops_end, &ops_end};

	make_chain(2, ops);
	struct wg_auth *old = begin();
	answer(old); /* test-b's form is out */
	post(old, ""); /* the client starts over on a new connection */
	cr_assert_eq(conversations(), 1, "the new conversation is the only one");
	cr_assert_eq(recs[0].n_ended, 1);
	cr_assert_eq(recs[0].ended[0], old);
	cr_assert_eq(recs[1].n_ended, 1);
	cr_assert_eq(recs[1].ended[0], old);
	cr_assert_eq(recs[0].starts, 2, "the new conversation started at step one");
	cr_assert_eq(recs[1].starts, 1);
	wg_auth_end_all(srv);
	cr_assert_eq(recs[0].n_ended, 2, "the new conversation's end was not told");
	cr_assert_eq(recs[1].n_ended, 1, "test-b never took part in the new conversation");
}

/* Server stop: one conversation with a form out, one whose step is
 * pending in a plugin with both hooks (cancel first, then the end), one
 * pending in a plugin with only conversation_end (not waited for). */
Test(auth_end, server_stop_ends_every_conversation)
{
	const struct wg_auth_ops *ops[] = {&ops_both, &ops_end};

	make_chain(2, ops);
	recs[1].on_cont = CONT_HOLD;
	struct wg_auth *form_out = begin();
	struct wg_auth *pending_b = begin();
	answer(pending_b);
	answer(pending_b); /* test-b holds the step */
	recs[0].on_cont = CONT_HOLD;
	struct wg_auth *pending_a = begin();
	post(pending_a, "username=alice&password=secret"); /* test-a holds the step */
	cr_assert_eq(conversations(), 3);
	cr_assert_eq(recs[0].cancels, 0);

	wg_auth_end_all(srv);
	cr_assert_eq(conversations(), 0);
	cr_assert_eq(recs[0].n_ended, 3, "test-a took part in all three");
	cr_assert_eq(recs[1].n_ended, 1, "test-b took part in one");
	cr_assert_eq(recs[1].ended[0], pending_b);
	cr_assert_eq(recs[0].cancels, 1, "only test-a's pending step is cancelled");
	/* test-a: S (form_out), S C (pending_b), S C (pending_a), then the
	 * ends in table order, the held one's cancel right before its end. */
	cr_assert_not_null(strstr(recs[0].log, "XE"), "cancel() must come right before conversation_end: %s",
			   recs[0].log);
	(void)form_out;
}

/* The client leaving while a plugin with the hook works: the host does not
 * wait for the answer, it ends the conversation at once. */
Test(auth_end, client_gone_while_pending_is_not_waited_for)
{
	const struct wg_auth_ops *ops[] = {&ops_end};

	make_chain(1, ops);
	recs[0].on_cont = CONT_HOLD;
	struct wg_auth *a = begin();
	struct wg_conn *c = post(a, "username=alice&password=secret");
	cr_assert_eq(c->owner, a);
	wg_auth_conn_gone(c);
	cr_assert_eq(conversations(), 0);
	cr_assert_str_eq(recs[0].log, "SCE");
}

/* A plugin built before the hook: its login still works around it, it is
 * never called through a member past its struct_size, and when its step
 * is pending it is cancelled (or waited for, without cancel) as before. */
Test(auth_end, plugin_without_the_member_still_works)
{
	const struct wg_auth_ops *ops[] = {&ops_old, &ops_end};

	make_chain(2, ops);
	srv->auth_timeout = 1;
	struct wg_auth *a = begin();
	answer(a);
	cr_assert_eq(recs[1].starts, 1, "the old plugin's yes did not lead to the next step");
	run_loop_until_no_conversation();
	cr_assert_eq(conversations(), 0);
	cr_assert_eq(recs[0].n_ended, 0, "called past the old plugin's struct_size");
	cr_assert_eq(recs[1].n_ended, 1);

	/* Pending in the old plugin, client gone: cancel(), as before. */
	srv->auth_timeout = 30;
	recs[0].on_cont = CONT_HOLD;
	a = begin();
	wg_auth_conn_gone(post(a, "username=alice&password=secret"));
	cr_assert_eq(conversations(), 0);
	cr_assert_eq(recs[0].cancels, 1);
	cr_assert_eq(recs[0].n_ended, 0);
	cr_assert_eq(recs[1].n_ended, 1, "test-b took no part in the second conversation");
}

Test(auth_end, old_plugin_without_cancel_is_waited_for)
{
	const struct wg_auth_ops *ops[] = {&ops_old_nocancel, &ops_end};

	make_chain(2, ops);
	recs[0].on_cont = CONT_HOLD;
	struct wg_auth *a = begin();
	wg_auth_conn_gone(post(a, "username=alice&password=secret"));
	cr_assert_eq(conversations(), 1, "the old plugin may still answer: the conversation must wait");
	wg_auth_host_fail(a, "No.", "late answer"); /* its answer arrives; nobody to tell */
	cr_assert_eq(conversations(), 0);
	cr_assert_eq(recs[0].n_ended, 0);
	cr_assert_eq(recs[1].n_ended, 0);
}
