/* The conversation_end auth hook (core/login/auth.c): every plugin of the login
 * chain whose start() ran is told exactly once when the conversation ends,
 * however it ends (auth-timeout, a later step failing, the client starting
 * over, server stop), the others never; and a plugin built before the
 * member was appended still works.
 *
 * The core is driven through auth_fixture.h; the plugins below answer
 * through the host functions of core/login/auth.h. */
#include <stddef.h>

#include "auth_fixture.h"

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
	void *slot_at_end;      /* its auth_state_get slot during conversation_end */
};

static struct rec recs[MAX_STEPS];

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
	r->slot_at_end = wg_auth_host_state_get(a, r);
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
	auth_fixture_setup();
	memset(recs, 0, sizeof(recs));
}

TestSuite(auth_end, .init = setup, .fini = auth_fixture_teardown);

/* The chain: step i runs ops[i]; recs[i] is its state. */
static void make_chain(unsigned n, const struct wg_auth_ops *const *ops)
{
	static const char *const names[MAX_STEPS] = {"test-a", "test-b", "test-c"};

	for (unsigned i = 0; i < n; i++) {
		recs[i].name = names[i];
		auth_fixture_step(i, names[i], ops[i], &recs[i]);
	}
}

/* POSTs body on a new connection, with a's context cookie when a is set
 * (an empty body starts a conversation). Returns that connection. */
static struct wg_conn *post(struct wg_auth *a, const char *body)
{
	struct wg_conn *c = auth_fixture_conn(CLIENT);

	auth_fixture_post(c, "/auth", a, body, NULL);
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

/* Runs the loop until no conversation is left, at most 30 s (a deadline,
 * not a pause: a busy machine fires the 1 s auth-timeout late). */
static void run_loop_until_no_conversation(void)
{
	for (int i = 0; i < 300 && auth_fixture_conversations() > 0; i++)
		auth_fixture_run_loop_ms(100);
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
	cr_assert_eq(auth_fixture_conversations(), 0, "auth-timeout did not end the conversation");
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
	cr_assert_eq(auth_fixture_conversations(), 0);
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
	cr_assert_eq(auth_fixture_conversations(), 0);
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
	cr_assert_eq(auth_fixture_conversations(), 1, "the new conversation is the only one");
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
	cr_assert_eq(auth_fixture_conversations(), 3);
	cr_assert_eq(recs[0].cancels, 0);

	wg_auth_end_all(srv);
	cr_assert_eq(auth_fixture_conversations(), 0);
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
	cr_assert_eq(auth_fixture_conversations(), 0);
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
	cr_assert_eq(auth_fixture_conversations(), 0);
	cr_assert_eq(recs[0].n_ended, 0, "called past the old plugin's struct_size");
	cr_assert_eq(recs[1].n_ended, 1);

	/* Pending in the old plugin, client gone: cancel(), as before. */
	srv->auth_timeout = 30;
	recs[0].on_cont = CONT_HOLD;
	a = begin();
	wg_auth_conn_gone(post(a, "username=alice&password=secret"));
	cr_assert_eq(auth_fixture_conversations(), 0);
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
	cr_assert_eq(auth_fixture_conversations(), 1, "the old plugin may still answer: the conversation must wait");
	wg_auth_host_fail(a, "No.", "late answer"); /* its answer arrives; nobody to tell */
	cr_assert_eq(auth_fixture_conversations(), 0);
	cr_assert_eq(recs[0].n_ended, 0);
	cr_assert_eq(recs[1].n_ended, 0);
}

/* The per-login state slot (host->auth_state_get/set): one per step of
 * the chain, named by the plugin instance's state pointer, readable until
 * the instance's conversation_end; an instance that is no step has none. */
Test(auth_end, each_step_has_its_own_state_slot_until_its_end)
{
	const struct wg_auth_ops *ops[] = {&ops_end, &ops_end};
	int mark0, mark1, stranger;

	make_chain(2, ops);
	struct wg_auth *a = begin();
	cr_assert_null(wg_auth_host_state_get(a, &recs[0]), "a slot is not empty at first");
	cr_assert_eq(wg_auth_host_state_set(a, &recs[0], &mark0), 0);
	cr_assert_eq(wg_auth_host_state_set(a, &recs[1], &mark1), 0);
	cr_assert_eq(wg_auth_host_state_get(a, &recs[0]), &mark0);
	cr_assert_eq(wg_auth_host_state_get(a, &recs[1]), &mark1, "two steps share a slot");
	cr_assert_eq(wg_auth_host_state_set(a, &stranger, &mark0), -1, "an instance outside the chain got a slot");
	cr_assert_null(wg_auth_host_state_get(a, &stranger));
	answer(a); /* test-a says yes; test-b shows its form */
	cr_assert_eq(wg_auth_host_state_get(a, &recs[0]), &mark0, "a finished step lost its slot");
	wg_auth_end_all(srv);
	cr_assert_eq(recs[0].n_ended, 1);
	cr_assert_eq(recs[1].n_ended, 1);
	cr_assert_eq(recs[0].slot_at_end, &mark0, "the slot was gone in conversation_end");
	cr_assert_eq(recs[1].slot_at_end, &mark1);
}
