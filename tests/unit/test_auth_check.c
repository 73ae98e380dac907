/* The SDK's adapter for blocking credential checks (wolfguard/auth_check.h),
 * against a fake host that records every answer and runs the worker side
 * and the loop side of run_blocking when the test says so: the form steps,
 * a challenge carried by the per-login state, a conversation that ends
 * while its check runs (the answer is dropped, nothing leaks: LeakSanitizer
 * in the asan build), the deadline, and the refusals made before any check. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <wolfguard/auth_check.h>

/* The conversation handle is opaque to plugins: any address will do. */
static int conversation;
#define A ((struct wg_auth *)&conversation)

static struct {
	void *slot; /* the one conversation's slot of the one instance */
	const char *fields[4][2]; /* the user's answers: name, value */
	char prompt[128], prompt_field[32];
	char user[64], groups[128], attrs[128];
	char fail_user[128], fail_log[160];
	int prompts, succeeds, fails;
	/* run_blocking's one job in flight */
	void (*work)(void *), (*done)(void *);
	void *arg;
	/* timer_add's one timer */
	void (*timer_cb)(void *);
	void *timer_arg;
} fake;

static void h_log(const struct wg_session *s, int level, const char *fmt, ...)
{
	(void)s, (void)level, (void)fmt;
}
static const char *h_field(const struct wg_auth *a, const char *name)
{
	(void)a;
	for (int i = 0; i < 4; i++)
		if (fake.fields[i][0] && strcmp(fake.fields[i][0], name) == 0)
			return fake.fields[i][1];
	return NULL;
}
static const char *h_addr(const struct wg_auth *a) { (void)a; return "198.51.100.1"; }
static const char *h_username(const struct wg_auth *a) { (void)a; return NULL; }
static void h_prompt(struct wg_auth *a, const char *message, const struct wg_auth_field *fields)
{
	(void)a;
	fake.prompts++;
	snprintf(fake.prompt, sizeof(fake.prompt), "%s", message);
	snprintf(fake.prompt_field, sizeof(fake.prompt_field), "%s", fields[0].name);
}
static void h_succeed(struct wg_auth *a, const char *user, const char *const *groups)
{
	(void)a;
	fake.succeeds++;
	snprintf(fake.user, sizeof(fake.user), "%s", user);
	for (int i = 0; groups && groups[i]; i++)
		snprintf(fake.groups + strlen(fake.groups), sizeof(fake.groups) - strlen(fake.groups), "%s;", groups[i]);
}
static void h_fail(struct wg_auth *a, const char *user_message, const char *log_reason)
{
	(void)a;
	fake.fails++;
	snprintf(fake.fail_user, sizeof(fake.fail_user), "%s", user_message);
	snprintf(fake.fail_log, sizeof(fake.fail_log), "%s", log_reason);
}
static void h_set_attr(struct wg_auth *a, const char *key, const char *value)
{
	(void)a;
	snprintf(fake.attrs + strlen(fake.attrs), sizeof(fake.attrs) - strlen(fake.attrs), "%s=%s;", key, value);
}
static int h_run_blocking(void (*work)(void *), void (*done)(void *), void *arg)
{
	cr_assert_null(fake.arg, "two checks in flight for one conversation");
	fake.work = work, fake.done = done, fake.arg = arg;
	return 0;
}
static struct wg_timer *h_timer_add(uint32_t ms, int repeat, void (*cb)(void *), void *arg)
{
	(void)ms;
	cr_assert_eq(repeat, 0);
	fake.timer_cb = cb, fake.timer_arg = arg;
	return (struct wg_timer *)&fake.timer_cb;
}
static void h_timer_del(struct wg_timer *t)
{
	(void)t;
	fake.timer_cb = NULL;
}
static void *h_state_get(const struct wg_auth *a, const void *self)
{
	(void)a, (void)self;
	return fake.slot;
}
static int h_state_set(struct wg_auth *a, const void *self, void *value)
{
	(void)a, (void)self;
	fake.slot = value;
	return 0;
}

static const struct wg_host host = {
	.abi_version = WG_ABI_VERSION, .struct_size = sizeof(struct wg_host), .log = h_log,
	.timer_add = h_timer_add, .timer_del = h_timer_del, .run_blocking = h_run_blocking,
	.auth_field = h_field, .auth_client_addr = h_addr, .auth_username = h_username,
	.auth_prompt = h_prompt, .auth_succeed = h_succeed, .auth_fail = h_fail, .auth_set_attr = h_set_attr,
	.auth_state_get = h_state_get, .auth_state_set = h_state_set,
};

/* The plugin: "pw" then the code "123456" for carol, the state carrying
 * the challenge's token from one check to the next. */
struct conv {
	char token[16];
	int begins;
};
struct plugin {
	struct wg_check check;
	int checks;
};
static struct plugin plugin;

static int p_begin(void *p, void *conv, const char **why)
{
	(void)p, (void)why;
	((struct conv *)conv)->begins++;
	return 0;
}
static void p_check(void *p, const struct wg_check_request *q, struct wg_check_result *r)
{
	struct conv *cv = q->conv;

	((struct plugin *)p)->checks++;
	if (!q->challenged) {
		if (strcmp(q->user, "carol") != 0 || strcmp(q->password, "pw") != 0) {
			wg_check_reject(r, "Login failed.", "wrong password for %s", q->user);
			return;
		}
		snprintf(cv->token, sizeof(cv->token), "otp-step");
		wg_check_challenge(r, "Enter the code");
		return;
	}
	if (strcmp(cv->token, "otp-step") != 0 || strcmp(q->password, "123456") != 0) {
		wg_check_reject(r, "Wrong code", "bad code");
		return;
	}
	wg_check_add_attr(r, "class", "c1");
	wg_check_add_group(r, "otp-users");
	wg_check_accept(r);
}
static const struct wg_check_ops check_ops = {
	.name = "test-check", .user_max = 16, .password_max = 32, .conv_size = sizeof(struct conv),
	.begin = p_begin, .check = p_check,
};
static const struct wg_auth_ops ops = {WG_CHECK_AUTH_OPS};

static void setup(void)
{
	char err[128];

	memset(&fake, 0, sizeof(fake));
	memset(&plugin, 0, sizeof(plugin));
	cr_assert_eq(wg_check_init(&plugin.check, &host, &check_ops, &plugin, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	ops.conversation_end(&plugin, A);
	cr_assert_null(fake.slot, "the record outlived its conversation");
	cr_assert_null(fake.arg, "a check was left in flight");
}

TestSuite(auth_check, .init = setup, .fini = teardown);

static void answer(const char *name, const char *value, const char *name2, const char *value2)
{
	memset(fake.fields, 0, sizeof(fake.fields));
	fake.fields[0][0] = name, fake.fields[0][1] = value;
	fake.fields[1][0] = name2, fake.fields[1][1] = value2;
	ops.cont(&plugin, A);
}

static void run_check(void)
{
	cr_assert_not_null(fake.arg, "no check was started");
	void *arg = fake.arg;
	fake.arg = NULL;
	fake.work(arg);
	fake.done(arg);
}

Test(auth_check, challenge_answer_reaches_the_check_with_its_state)
{
	ops.start(&plugin, A);
	cr_assert_str_eq(fake.prompt_field, "username");
	answer("username", "carol", "password", "pw");
	cr_assert_eq(fake.prompts, 1, "answered before the check ran");
	run_check();
	cr_assert_str_eq(fake.prompt, "Enter the code");
	cr_assert_str_eq(fake.prompt_field, "answer");
	answer("answer", "123456", NULL, NULL);
	run_check();
	cr_assert_eq(fake.succeeds, 1, "failed: %s", fake.fail_log);
	cr_assert_str_eq(fake.user, "carol");
	cr_assert_str_eq(fake.groups, "otp-users;");
	cr_assert_str_eq(fake.attrs, "class=c1;");
	cr_assert_eq(plugin.checks, 2);
}

Test(auth_check, a_reject_carries_both_texts)
{
	ops.start(&plugin, A);
	answer("username", "mallory", "password", "x");
	run_check();
	cr_assert_eq(fake.fails, 1);
	cr_assert_str_eq(fake.fail_user, "Login failed.");
	cr_assert_str_eq(fake.fail_log, "wrong password for mallory");
}

Test(auth_check, restart_begins_the_state_afresh)
{
	ops.start(&plugin, A);
	answer("username", "carol", "password", "pw");
	run_check();
	ops.start(&plugin, A); /* the chain started over */
	struct conv *cv = ((struct wg_check__conv *)fake.slot)->conv;
	cr_assert_eq(cv->begins, 1, "begin() did not see a zeroed state");
	cr_assert_str_empty(cv->token, "the challenge's state survived a restart");
	answer("answer", "123456", "password", "123456");
	cr_assert_eq(fake.prompts, 4, "an answer without a user name was not asked again");
	cr_assert_null(fake.arg);
}

Test(auth_check, end_while_the_check_runs_drops_its_answer)
{
	ops.start(&plugin, A);
	answer("username", "carol", "password", "pw");
	void *arg = fake.arg;
	fake.arg = NULL;
	fake.work(arg);
	ops.conversation_end(&plugin, A); /* the client left */
	cr_assert_null(fake.slot);
	fake.done(arg); /* frees the record and the job */
	cr_assert_eq(fake.prompts + fake.succeeds + fake.fails, 1, "an ended conversation was answered");
}

Test(auth_check, deadline_fails_the_step_and_drops_the_late_answer)
{
	plugin.check.check_deadline_ms = 1000;
	ops.start(&plugin, A);
	answer("username", "carol", "password", "pw");
	cr_assert_not_null(fake.timer_cb, "no deadline armed");
	fake.timer_cb(fake.timer_arg);
	cr_assert_eq(fake.fails, 1);
	cr_assert_str_eq(fake.fail_user, "The authentication service did not answer. Try again later.");
	cr_assert_null(fake.slot, "the conversation kept the record its late check still writes");
	run_check();
	cr_assert_eq(fake.prompts, 1, "the late answer was given");
	cr_assert_eq(fake.fails, 1);
}

Test(auth_check, bad_user_names_and_long_passwords_never_reach_the_check)
{
	ops.start(&plugin, A);
	answer("username", "a-very-long-user-name", "password", "pw");
	cr_assert_eq(fake.fails, 1);
	cr_assert_str_eq(fake.fail_log, "user name too long or with control characters");
	answer("username", "car\tol", "password", "pw");
	cr_assert_eq(fake.fails, 2);
	answer("username", "carol", "password", "0123456789012345678901234567890123456789");
	cr_assert_eq(fake.fails, 3);
	cr_assert_str_eq(fake.fail_log, "password longer than test-check takes (32 bytes)");
	answer("username", "carol", NULL, NULL);
	cr_assert_eq(fake.prompts, 2, "a missing password was not asked again");
	cr_assert_eq(plugin.checks, 0);
	cr_assert_null(fake.arg);
}
