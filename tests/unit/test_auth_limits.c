/* Login conversations under attack (core/login/auth.c): the caps on how many
 * conversations one connection, one client address and the server hold;
 * a chain that starts over forgets what the failed attempt established;
 * an answer on a new connection cannot skip the delay after a failure.
 *
 * Driven through auth_fixture.h, a test plugin answering through the host
 * functions. */
#include "auth_fixture.h"

/* What the test plugin of step i does; see t_cont. */
struct step {
	int starts, conts;
	struct wg_auth *last;
	bool fail;               /* cont() refuses */
	const char *user;        /* cont() accepts this user... */
	bool set_attrs;          /* ...setting a RADIUS-like address, class and route */
};

static struct step steps[2];

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

static void make_chain(unsigned n)
{
	static const char *const names[2] = {"test-a", "test-b"};

	for (unsigned i = 0; i < n; i++)
		auth_fixture_step(i, names[i], &ops, &steps[i]);
}

static const struct wg_ban_limits ban_lim = {.failures = 100, .window_s = 300, .ban_s = 600, .max_entries = 64,
					     .prefix6 = 64};

static void setup(void)
{
	auth_fixture_setup();
	srv->bans = wg_ban_new(&ban_lim);
	cr_assert_not_null(srv->bans);
	memset(steps, 0, sizeof(steps));
	make_chain(1);
}

TestSuite(auth_limits, .init = setup, .fini = auth_fixture_teardown);

/* POSTs body on c, with a's context cookie when a is set (an empty body
 * starts a conversation). */
static void post_on(struct wg_conn *c, struct wg_auth *a, const char *body)
{
	auth_fixture_post(c, "/auth", a, body, NULL);
}

static uint64_t failures(void)
{
	struct wg_ban_stats st;

	wg_ban_stats(srv->bans, 0, &st);
	return st.failures_total;
}

/* One connection sending init after init (a pipelined flood): it holds at
 * most max-logins-per-connection conversations; the rest are refused and
 * each refusal counts as a failed login. */
Test(auth_limits, conversations_per_connection_are_capped)
{
	struct wg_conn *c = auth_fixture_conn("198.51.100.7");

	srv->max_logins_per_conn = 4;
	for (int i = 0; i < 20; i++)
		post_on(c, NULL, "");
	cr_assert_eq(auth_fixture_conversations(), 4, "one connection holds %zu conversations", auth_fixture_conversations());
	cr_assert_eq(failures(), 16, "refusals not counted as failures");
	post_on(auth_fixture_conn("198.51.100.7"), NULL, "");
	cr_assert_eq(auth_fixture_conversations(), 5, "a new connection of that address gets its own share");
}

/* Many connections of one client: at most max-logins-per-address
 * conversations; an IPv6 client is its /64. Other clients are not held up,
 * and a finished conversation gives its place back. */
Test(auth_limits, conversations_per_address_are_capped)
{
	char peer[64];

	srv->max_logins_per_addr = 3;
	for (int i = 0; i < 10; i++)
		post_on(auth_fixture_conn("198.51.100.7"), NULL, "");
	cr_assert_eq(auth_fixture_conversations(), 3);
	cr_assert_eq(failures(), 7);
	for (int i = 0; i < 10; i++) {
		snprintf(peer, sizeof(peer), "2001:db8:1:2::%x", i + 1);
		post_on(auth_fixture_conn(peer), NULL, "");
	}
	cr_assert_eq(auth_fixture_conversations(), 6, "one /64 held more than its share");
	post_on(auth_fixture_conn("198.51.100.8"), NULL, "");
	cr_assert_eq(auth_fixture_conversations(), 7, "another address was refused");
	wg_auth_end_all(srv);
	cr_assert_eq(auth_fixture_conversations(), 0);
	post_on(auth_fixture_conn("198.51.100.7"), NULL, "");
	cr_assert_eq(auth_fixture_conversations(), 1, "ended conversations still count against the address");
}

/* The server-wide cap: refused, but not held against the client (it is
 * not its doing). */
Test(auth_limits, conversations_in_all_are_capped)
{
	char peer[64];

	srv->max_logins = 5;
	for (int i = 0; i < 8; i++) {
		snprintf(peer, sizeof(peer), "198.51.100.%d", i + 1);
		post_on(auth_fixture_conn(peer), NULL, "");
	}
	cr_assert_eq(auth_fixture_conversations(), 5);
	cr_assert_eq(failures(), 0, "the server-wide cap counted as the clients' failures");
}

/* alice passes step one (which sets her address, class and a route), fails
 * step two; the chain starts over and mallory passes step one without any
 * attributes: nothing of alice's may remain for mallory's session. What
 * the client said about itself stays. */
Test(auth_limits, a_restarted_chain_forgets_the_attributes)
{
	struct wg_conn *c = auth_fixture_conn("198.51.100.7");
	struct wg_http_request init = {.method = "POST", .url = "/", .body = "", .body_len = 0};

	make_chain(2);
	steps[0].user = "alice";
	steps[0].set_attrs = true;
	steps[1].fail = true;
	wg_auth_handle(c, &init);
	struct wg_auth *a = steps[0].last;
	cr_assert_not_null(a);
	wg_auth_host_set_attr(a, "client-version", "v9.01"); /* as the init would */
	post_on(auth_fixture_conn("198.51.100.7"), a, "username=alice&password=x");
	event_base_loop(srv->base, EVLOOP_NONBLOCK); /* step two's start() */
	cr_assert_eq(steps[1].starts, 1);
	cr_assert_str_eq(wg_auth_attr(a, WG_ATTR_FRAMED_IPV4), "10.8.0.99");
	post_on(auth_fixture_conn("198.51.100.7"), a, "password=wrong"); /* step two says no: start over */
	auth_fixture_run_loop_ms(600);                                         /* past the failure delay */
	cr_assert_eq(steps[0].starts, 2, "the chain did not start over");
	steps[0].user = "mallory";
	steps[0].set_attrs = false;
	post_on(auth_fixture_conn("198.51.100.7"), a, "username=mallory&password=y");
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
	struct wg_conn *c = auth_fixture_conn("198.51.100.7");

	steps[0].fail = true;
	post_on(c, NULL, "");
	struct wg_auth *a = steps[0].last;
	cr_assert_not_null(a);
	for (int i = 0; i < 4; i++)
		wg_ban_failure(srv->bans, "198.51.100.7", time(NULL)); /* the next delay: 4 s */
	struct wg_conn *c2 = auth_fixture_conn("198.51.100.7");
	post_on(c2, a, "username=bob&password=wrong");
	cr_assert_eq(steps[0].conts, 1);
	wg_auth_conn_gone(c2); /* the client leaves during the delay */
	steps[0].fail = false;
	steps[0].user = "bob";
	post_on(auth_fixture_conn("198.51.100.7"), a, "username=bob&password=right");
	cr_assert_eq(steps[0].conts, 1, "an answer was taken during the failure delay");
	cr_assert_eq(steps[0].starts, 1);
	auth_fixture_run_loop_ms(200);
	cr_assert_eq(steps[0].starts, 1, "the delay was cut short");
}
