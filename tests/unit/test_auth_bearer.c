/* HTTP authentication of the login request (core/login/auth.c), what
 * auth-oidc is built on: a plugin's challenge answers the step (401 +
 * WWW-Authenticate) and keeps the conversation; the Authorization header
 * of the repeated request reaches the plugin through
 * auth_http_credentials(a, scheme) (scheme matched case-insensitively);
 * the chain starting over after a failure forgets it; a challenge that
 * would inject a header line is refused.
 *
 * Driven through auth_fixture.h. */
#include "auth_fixture.h"

#define CLIENT "198.51.100.9"

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
	auth_fixture_setup();
	auth_fixture_step(0, "test-bearer", &ops, NULL);
	memset(&plug, 0, sizeof(plug));
	plug.challenge = "Bearer realm=\"test\"";
}

TestSuite(auth_bearer, .init = setup, .fini = auth_fixture_teardown);

/* POSTs body (with a's context cookie when a is set, and an Authorization
 * header when auth is set) on a new connection. */
static void post(struct wg_auth *a, const char *body, const char *auth)
{
	auth_fixture_post(auth_fixture_conn(CLIENT), "/", a, body, auth);
}

Test(auth_bearer, challenge_keeps_the_conversation_and_the_retry_carries_the_token)
{
	post(NULL, "", NULL);
	cr_assert_eq(plug.n_seen, 1);
	cr_assert_str_eq(plug.seen[0], "-");
	cr_assert_eq(auth_fixture_conversations(), 1, "the challenge ended the conversation");
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
		auth_fixture_run_loop_ms(100);
	cr_assert_eq(plug.n_seen, 3, "the chain did not start over");
	cr_assert_str_eq(plug.seen[2], "-", "a refused token was offered to the next attempt");
}

Test(auth_bearer, challenge_with_a_line_break_is_refused)
{
	plug.challenge = "Bearer\r\nSet-Cookie: webvpn=forged";
	post(NULL, "", NULL);
	cr_assert_eq(plug.n_seen, 1);
	cr_assert_eq(auth_fixture_conversations(), 0, "the conversation survived a bad challenge");
}
