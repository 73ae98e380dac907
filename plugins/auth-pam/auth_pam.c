/* auth-pam: logins checked by a PAM service (pam_authenticate, and by
 * default pam_acct_mgmt), with every prompt of the PAM stack (a password,
 * then an OTP, say) shown to the user as a form step.
 *
 * Threads. A PAM transaction blocks, and its conversation function must
 * wait for a human between prompts, so each transaction in flight has a
 * dedicated thread (pam_conv.c; at most max-conversations of them) that
 * sleeps on a condition variable while a form is out. Host calls happen
 * only here, on the loop thread. The bridge from the PAM thread back to the
 * loop is a "waiter" job of host->run_blocking, queued by the loop whenever
 * the PAM thread has work to do (the transaction started, or answers were
 * handed to it): its work() sleeps on the transaction's condition variable
 * until the thread publishes an event (a prompt, or the end of the
 * transaction, in which case it also joins the thread), and its done()
 * delivers that event on the loop. work() waits at most WAIT_SLICE_MS and
 * done() queues a new waiter when nothing happened, so a slow PAM module
 * lends out a shared worker only in short slices, and while a form waits
 * for the user no worker is held at all. The plugin cannot be woken from a
 * foreign thread otherwise: run_blocking and timer_add work only on the
 * loop thread.
 *
 * Ending. conversation_end() (the host tells of every end of a login this
 * plugin started: client gone, auth-timeout, started over, a later step
 * failed, server stop; PAM may be working or a form may be out), the
 * conversation-timeout (a form waited too long for its answer) and fini()
 * set `cancelled`: the conversation function then answers PAM_CONV_ERR,
 * the PAM stack fails, pam_end runs and the thread exits; a waiter (or
 * fini) joins it and frees the transaction. A transaction is unlinked from
 * its conversation (entry.a = NULL) before the loop answers the host, as
 * an answer may end the conversation at once. */
#include <errno.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wolfguard/plugin.h>

#include "pam_txn.h"

#define WAIT_SLICE_MS 200
#define THREAD_WAIT_MARGIN_S 30 /* the thread's own bound beyond conversation-timeout */

struct auth_pam {
	const struct wg_host *host;
	char service[128];
	bool account_check;
	bool unix_groups;
	unsigned max_conversations;
	unsigned conversation_timeout_s;
	struct login_table txns; /* every transaction not yet freed (struct pam_txn; loop only) */
	unsigned n_txns;
	bool privileged;      /* password checks through the host's root helper */
	struct login_table priv_jobs; /* in flight on workers (struct priv_job; loop only) */
};

/* A password check run as root by the host's privileged helper, for
 * stacks that need root (pam_unix reading /etc/shadow) while the server
 * itself runs unprivileged. One step: user and password, no further
 * prompts (the helper answers every hidden prompt with the password). */
struct priv_job {
	struct login_entry entry; /* first (login_table casts); entry.a NULL once the login ended */
	struct auth_pam *p;
	char user[PAM_TXN_USER], password[PAM_TXN_ANSWER], client_addr[64];
	int rc;
	char msg[256];
	struct pam_txn *groups; /* only its group list is used */
};

static const struct wg_option options[] = {
	{"service", WG_OPT_STRING, 0, 0, 0, "wolfguard", "PAM service name: the stack in /etc/pam.d/<service>"},
	{"account-check", WG_OPT_BOOL, 0, 0, 0, "true", "also run pam_acct_mgmt (expired or locked accounts)"},
	{"groups-from", WG_OPT_STRING, 0, 0, 0, "unix",
	 "\"unix\": the user's unix groups (getgrouplist), \"none\": no groups"},
	{"max-conversations", WG_OPT_INT, 0, 1, 4096, "64",
	 "PAM transactions in flight at once (one thread each); further logins get \"Server busy\""},
	{"privileged", WG_OPT_BOOL, 0, 0, 0, "false",
	 "run the check as root in the server's privileged helper (for pam_unix and /etc/shadow): one password step, no further prompts"},
	{"conversation-timeout", WG_OPT_INT, 0, 5, 3600, "120",
	 "seconds a PAM prompt waits for the user's answer before the transaction is abandoned"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct wg_auth_field login_fields[] = {
	{"username", "Username:", WG_FIELD_TEXT},
	{"password", "Password:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

/* Form field names of PAM's prompts: "answer", then "answer2".. when one
 * conversation call asks several things at once. */
static const char *const answer_names[PAM_TXN_MAX_FIELDS] = {"answer", "answer2", "answer3", "answer4"};

static void waiter_work(void *arg);
static void waiter_done(void *arg);

/* --- transactions ----------------------------------------------------------- */

static struct pam_txn *txn_find(struct auth_pam *p, const struct wg_auth *a)
{
	return (struct pam_txn *)login_table_find(&p->txns, a);
}

static void txn_free(struct pam_txn *t)
{
	struct auth_pam *p = t->p;

	login_table_remove(&p->txns, &t->entry);
	p->n_txns--;
	if (t->timer)
		p->host->timer_del(t->timer);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

static int waiter_queue(struct pam_txn *t)
{
	if (t->waiting)
		return 0;
	if (t->p->host->run_blocking(waiter_work, waiter_done, t) < 0)
		return -1;
	t->waiting = true;
	return 0;
}

/* Ends a transaction whose conversation is gone or given up: the PAM
 * thread is told, and a waiter collects it. Never touches the host's
 * conversation (the caller answers it, if at all, afterwards). When no
 * waiter can be queued the transaction stays listed; the next waiter that
 * can be queued (reap_stragglers) or fini() collects it. */
static void txn_abandon(struct pam_txn *t)
{
	t->entry.a = NULL;
	if (t->timer) {
		t->p->host->timer_del(t->timer);
		t->timer = NULL;
	}
	pthread_mutex_lock(&t->lock);
	t->cancelled = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (waiter_queue(t) < 0)
		t->p->host->log(NULL, WG_LOG_WARN, "auth-pam: worker queue full; an abandoned PAM transaction "
				"is collected later");
}

static void reap_stragglers(struct auth_pam *p)
{
	for (struct login_entry *e = p->txns.head; e; e = e->next)
		if (!e->a && !((struct pam_txn *)e)->waiting)
			waiter_queue((struct pam_txn *)e);
}

static void conversation_timeout(void *arg)
{
	struct pam_txn *t = arg;

	t->timer = NULL; /* a one-shot timer is freed by the host after this */
	t->p->host->log(NULL, WG_LOG_NOTICE, "auth-pam: %s: user \"%s\" did not answer the PAM prompt within %u s; "
			"transaction abandoned", t->client_addr, t->user, t->p->conversation_timeout_s);
	/* The conversation goes on (it ends at the host's auth-timeout, or
	 * when the client comes back and fails the step): only the PAM side,
	 * and its slot of max-conversations, is given up now. */
	txn_abandon(t);
}

/* --- the bridge: waiting for the PAM thread off the loop ------------------- */

static void waiter_work(void *arg)
{
	struct pam_txn *t = arg;
	struct timespec deadline;
	enum pam_txn_event ev;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += (long)WAIT_SLICE_MS * 1000000L;
	deadline.tv_sec += deadline.tv_nsec / 1000000000L;
	deadline.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&t->lock);
	while (t->event == PAM_EV_NONE)
		if (pthread_cond_timedwait(&t->cond, &t->lock, &deadline) == ETIMEDOUT)
			break;
	ev = t->event;
	pthread_mutex_unlock(&t->lock);
	/* DONE is the thread's last act: the join returns at once. */
	if (ev == PAM_EV_DONE && !t->joined) {
		pthread_join(t->thread, NULL);
		t->joined = true;
	}
}

static void deliver_prompt(struct pam_txn *t)
{
	const struct wg_host *host = t->p->host;
	struct wg_auth *a = t->entry.a;
	struct wg_auth_field fields[PAM_TXN_MAX_FIELDS + 1];
	char message[PAM_TXN_MESSAGE];
	char labels[PAM_TXN_MAX_FIELDS][PAM_TXN_LABEL];
	unsigned n;

	pthread_mutex_lock(&t->lock);
	n = t->n_fields;
	for (unsigned i = 0; i < n; i++) {
		snprintf(labels[i], sizeof(labels[i]), "%s", t->fields[i].label[0] ? t->fields[i].label : "Response:");
		fields[i].name = answer_names[i];
		fields[i].label = labels[i];
		fields[i].type = t->fields[i].echo ? WG_FIELD_TEXT : WG_FIELD_PASSWORD;
	}
	snprintf(message, sizeof(message), "%s", t->message);
	t->message[0] = '\0';
	t->event = PAM_EV_NONE;
	pthread_mutex_unlock(&t->lock);
	fields[n] = (struct wg_auth_field){NULL, NULL, 0};
	/* The form is out: no worker waits for this transaction now, only the
	 * timer that gives up on a user who never answers. */
	t->timer = host->timer_add(t->p->conversation_timeout_s * 1000u, 0, conversation_timeout, t);
	if (!t->timer) {
		txn_abandon(t);
		host->auth_fail(a, "Server busy, try again.", "auth-pam: cannot arm the conversation timer");
		return;
	}
	/* Clients show the form's message, not always the labels of fields
	 * they fill from their command line: without PAM info lines, PAM's
	 * (first) prompt text is the message. */
	host->auth_prompt(a, message[0] ? message : labels[0], fields);
}

static void deliver_result(struct pam_txn *t, struct wg_auth *a)
{
	const struct wg_host *host = t->p->host;
	const char *groups[PAM_TXN_MAX_GROUPS + 1];
	char why[PAM_TXN_REASON + PAM_TXN_MESSAGE + 256];

	/* The thread has been joined: no lock needed any more. */
	if (t->rc == PAM_SUCCESS) {
		for (unsigned i = 0; i < t->n_groups; i++)
			groups[i] = t->groups[i];
		groups[t->n_groups] = NULL;
		host->log(NULL, WG_LOG_INFO, "auth-pam: %s: user \"%s\" authenticated by PAM service \"%s\" (%u group(s))",
			  t->client_addr, t->final_user, t->service, t->n_groups);
		host->auth_succeed(a, t->final_user, groups);
		return;
	}
	snprintf(why, sizeof(why), "PAM service \"%s\": %s (client %s)%s%s", t->service, t->reason, t->client_addr,
		 t->message[0] ? "; PAM said: " : "", t->message);
	for (char *c = why; *c; c++)
		if (*c == '\n')
			*c = ' ';
	host->auth_fail(a, "Login failed.", why);
}

static void waiter_done(void *arg)
{
	struct pam_txn *t = arg;
	enum pam_txn_event ev;

	t->waiting = false;
	if (t->joined) {
		struct wg_auth *a = t->entry.a;
		/* Unlinked before answering: the answer may end the conversation,
		 * whose conversation_end must not find this transaction, freed
		 * right below. */
		t->entry.a = NULL;
		if (a)
			deliver_result(t, a);
		else
			t->p->host->log(NULL, WG_LOG_INFO, "auth-pam: %s: PAM transaction of user \"%s\" ended after its "
					"login was cancelled", t->client_addr, t->user);
		txn_free(t);
		return;
	}
	pthread_mutex_lock(&t->lock);
	ev = t->event;
	if (ev == PAM_EV_PROMPT && !t->entry.a)
		t->event = PAM_EV_NONE; /* nobody to ask; the thread sees `cancelled` */
	pthread_mutex_unlock(&t->lock);
	if (ev == PAM_EV_PROMPT && t->entry.a) {
		deliver_prompt(t);
		return;
	}
	/* Still working (or finishing after a cancel): wait another slice. */
	if (waiter_queue(t) < 0) {
		struct wg_auth *a = t->entry.a;
		txn_abandon(t);
		if (a)
			t->p->host->auth_fail(a, "Server busy, try again.", "auth-pam: worker queue full");
	}
}

/* --- the login steps ----------------------------------------------------------- */

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Starts a PAM transaction for `user`; `password` (may be NULL) answers
 * the stack's first echo-off prompt. */
static void txn_begin(struct auth_pam *p, struct wg_auth *a, const char *user, const char *password)
{
	const struct wg_host *host = p->host;
	const char *addr = host->auth_client_addr(a);
	struct pam_txn *t;
	char why[256];
	int rc;

	if (strlen(user) >= PAM_TXN_USER || !printable(user) || (password && strlen(password) >= PAM_TXN_ANSWER)) {
		host->auth_fail(a, "Login failed.", "auth-pam: user name or password too long or with control characters");
		return;
	}
	if (p->n_txns >= p->max_conversations) {
		snprintf(why, sizeof(why), "auth-pam: max-conversations (%u) PAM transactions already in flight",
			 p->max_conversations);
		host->auth_fail(a, "Server busy, try again.", why);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		host->auth_fail(a, "Server busy, try again.", "auth-pam: out of memory");
		return;
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	t->p = p;
	snprintf(t->service, sizeof(t->service), "%s", p->service);
	snprintf(t->user, sizeof(t->user), "%s", user);
	snprintf(t->client_addr, sizeof(t->client_addr), "%s", addr ? addr : "?");
	t->account_check = p->account_check;
	t->unix_groups = p->unix_groups;
	t->answer_wait_s = (int)p->conversation_timeout_s + THREAD_WAIT_MARGIN_S;
	if (password) {
		t->has_first_password = true;
		snprintf(t->first_password, sizeof(t->first_password), "%s", password);
	}
	login_table_add(&p->txns, &t->entry, a);
	p->n_txns++;
	rc = pam_txn_spawn(t);
	if (rc != 0) {
		snprintf(why, sizeof(why), "auth-pam: cannot start a PAM thread: %s", strerror(rc));
		txn_free(t);
		host->auth_fail(a, "Server busy, try again.", why);
		return;
	}
	if (waiter_queue(t) < 0) {
		txn_abandon(t);
		host->auth_fail(a, "Server busy, try again.", "auth-pam: worker queue full");
	}
}

static void priv_work(void *arg)
{
	struct priv_job *j = arg;

	j->rc = j->p->host->pam_authenticate(j->p->service, j->user, j->password, j->msg, sizeof(j->msg));
	explicit_bzero(j->password, sizeof(j->password));
	if (j->rc == 0 && j->p->unix_groups)
		pam_txn_unix_groups(j->groups, j->user);
}

static void priv_done(void *arg)
{
	struct priv_job *j = arg;
	const struct wg_host *host = j->p->host;
	struct wg_auth *a = j->entry.a;

	login_table_remove(&j->p->priv_jobs, &j->entry);
	if (a && j->rc == 0) {
		const char *groups[PAM_TXN_MAX_GROUPS + 1];
		for (unsigned i = 0; i < j->groups->n_groups; i++)
			groups[i] = j->groups->groups[i];
		groups[j->groups->n_groups] = NULL;
		host->log(NULL, WG_LOG_INFO, "auth-pam: %s: user \"%s\" authenticated by PAM service \"%s\" (privileged helper)",
			  j->client_addr, j->user, j->p->service);
		host->auth_succeed(a, j->user, groups);
	} else if (a) {
		char why[512];
		snprintf(why, sizeof(why), "PAM service \"%s\" (privileged helper): %s (client %s)", j->p->service,
			 j->rc > 0 ? (j->msg[0] ? j->msg : "denied") : strerror(-j->rc), j->client_addr);
		host->auth_fail(a, "Login failed.", why);
	}
	free(j->groups);
	free(j);
}

static void priv_begin(struct auth_pam *p, struct wg_auth *a, const char *user, const char *password)
{
	struct priv_job *j;

	if (strlen(user) >= PAM_TXN_USER || !printable(user) || strlen(password) >= PAM_TXN_ANSWER) {
		p->host->auth_fail(a, "Login failed.", "auth-pam: user name or password too long or with control characters");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j || !(j->groups = calloc(1, sizeof(*j->groups)))) {
		free(j);
		p->host->auth_fail(a, "Server busy, try again.", "auth-pam: out of memory");
		return;
	}
	j->p = p;
	snprintf(j->user, sizeof(j->user), "%s", user);
	snprintf(j->password, sizeof(j->password), "%s", password);
	snprintf(j->client_addr, sizeof(j->client_addr), "%s", p->host->auth_client_addr(a));
	login_table_add(&p->priv_jobs, &j->entry, a);
	if (p->host->run_blocking(priv_work, priv_done, j) < 0) {
		login_table_remove(&p->priv_jobs, &j->entry);
		explicit_bzero(j->password, sizeof(j->password));
		free(j->groups);
		free(j);
		p->host->auth_fail(a, "Server busy, try again.", "auth-pam: worker queue full");
	}
}

static void start(void *state, struct wg_auth *a)
{
	struct auth_pam *p = state;
	struct pam_txn *old = txn_find(p, a);
	const char *known = p->host->auth_username(a);

	reap_stragglers(p);
	if (old)
		txn_abandon(old); /* start() again: the chain began anew after a failure */
	/* In a chain, an earlier step may have established who this is: PAM
	 * then asks only what its stack needs. */
	if (known && *known && !p->privileged) {
		txn_begin(p, a, known, NULL);
		return;
	}
	p->host->auth_prompt(a, known && *known ? "Please enter your password." : "Please enter your username and password.",
			     known && *known ? login_fields + 1 : login_fields);
}

/* Hands the user's answers to the waiting PAM thread. */
static void answer_prompt(struct auth_pam *p, struct pam_txn *t, struct wg_auth *a)
{
	const struct wg_host *host = p->host;
	const char *values[PAM_TXN_MAX_FIELDS];
	unsigned n;

	pthread_mutex_lock(&t->lock);
	n = t->n_fields;
	pthread_mutex_unlock(&t->lock);
	for (unsigned i = 0; i < n; i++) {
		values[i] = host->auth_field(a, answer_names[i]);
		/* AnyConnect clients post a lone password-type field as <password>. */
		if (!values[i] && i == 0)
			values[i] = host->auth_field(a, "password");
		if (!values[i] || strlen(values[i]) >= PAM_TXN_ANSWER) {
			txn_abandon(t);
			host->auth_fail(a, "Login failed.", "auth-pam: answer to the PAM prompt missing or too long");
			return;
		}
	}
	if (t->timer) {
		host->timer_del(t->timer);
		t->timer = NULL;
	}
	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < n; i++)
		snprintf(t->answers[i], sizeof(t->answers[i]), "%s", values[i]);
	t->answered = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (waiter_queue(t) < 0) {
		txn_abandon(t);
		host->auth_fail(a, "Server busy, try again.", "auth-pam: worker queue full");
	}
}

static void cont(void *state, struct wg_auth *a)
{
	struct auth_pam *p = state;
	struct pam_txn *t = txn_find(p, a);
	const char *user, *password;

	if (t && !t->waiting) {
		answer_prompt(p, t, a);
		return;
	}
	if (t) {
		/* The host sends one step at a time: this cannot happen. */
		txn_abandon(t);
		p->host->auth_fail(a, "Login failed.", "auth-pam: answer while PAM was still working");
		return;
	}
	user = p->host->auth_username(a);
	if (!user || !*user)
		user = p->host->auth_field(a, "username");
	password = p->host->auth_field(a, "password");
	if (!user || !*user || !password) {
		start(state, a);
		return;
	}
	if (p->privileged)
		priv_begin(p, a, user, password);
	else
		txn_begin(p, a, user, password);
}

/* The host tells of every end of a conversation this plugin started,
 * whether PAM is working (the host does not wait for its answer) or a form
 * is out: the transaction is given up now, not at conversation-timeout. */
static void conversation_end(void *state, struct wg_auth *a)
{
	struct auth_pam *p = state;
	struct pam_txn *t = txn_find(p, a);
	struct login_entry *e;

	while ((e = login_table_find(&p->priv_jobs, a)))
		e->a = NULL; /* its answer, when it comes, goes nowhere */
	if (!t)
		return;
	p->host->log(NULL, WG_LOG_NOTICE, "auth-pam: %s: login ended; PAM transaction of user \"%s\" cancelled",
		     t->client_addr, t->user);
	txn_abandon(t);
}

/* --- configuration ----------------------------------------------------------- */

static int init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err, size_t errlen)
{
	const char *service = host->config_string(cfg, "service");
	const char *groups = host->config_string(cfg, "groups-from");
	struct auth_pam *p;
	char path[256];
	int rc;

	if (!service || !*service || strlen(service) >= sizeof(p->service) || strchr(service, '/') ||
	    !printable(service) || strcmp(service, ".") == 0 || strcmp(service, "..") == 0) {
		snprintf(err, errlen, "%s: service: must be 1 to %zu characters, no '/' or control characters",
			 host->config_where(cfg, "service"), sizeof(p->service) - 1);
		return -EINVAL;
	}
	if (!groups || (strcmp(groups, "unix") != 0 && strcmp(groups, "none") != 0)) {
		snprintf(err, errlen, "%s: groups-from: \"%s\" is not \"unix\" or \"none\"",
			 host->config_where(cfg, "groups-from"), groups ? groups : "");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->host = host;
	snprintf(p->service, sizeof(p->service), "%s", service);
	p->account_check = host->config_bool(cfg, "account-check");
	p->unix_groups = strcmp(groups, "unix") == 0;
	p->max_conversations = (unsigned)host->config_int(cfg, "max-conversations");
	p->conversation_timeout_s = (unsigned)host->config_int(cfg, "conversation-timeout");
	p->privileged = host->config_bool(cfg, "privileged");
	if (p->privileged && !WG_HOST_HAS(host, pam_authenticate)) {
		free(p);
		snprintf(err, errlen, "%s: privileged: this server has no privileged PAM helper (too old)",
			 host->config_where(cfg, "privileged"));
		return -ENOTSUP;
	}
	/* The root helper runs only the services named before it started. */
	if (p->privileged && WG_HOST_HAS(host, pam_service_pin) && (rc = host->pam_service_pin(p->service)) < 0) {
		free(p);
		snprintf(err, errlen, "%s: PAM service \"%s\" cannot be used by the privileged helper: %s",
			 host->config_where(cfg, "service"), service,
			 rc == -EPERM ? "it was not configured when the server started (restart to use it)" : strerror(-rc));
		return rc;
	}
	/* Without its own file PAM uses /etc/pam.d/other (usually deny-all). */
	snprintf(path, sizeof(path), "/etc/pam.d/%s", service);
	if (access(path, R_OK) < 0 && access("/etc/pam.conf", R_OK) < 0)
		host->log(NULL, WG_LOG_WARN, "auth-pam: %s: no %s: PAM will use the \"other\" stack",
			  host->config_where(cfg, "service"), path);
	host->log(NULL, WG_LOG_INFO, "auth-pam: service \"%s\", account check %s, groups from %s, "
		  "at most %u conversations, %u s per prompt", p->service, p->account_check ? "on" : "off",
		  groups, p->max_conversations, p->conversation_timeout_s);
	*state = p;
	return 0;
}

static void fini(void *state)
{
	struct auth_pam *p = state;

	/* The host finished every run_blocking job before fini, so no waiter
	 * refers to a transaction; the ones left wait for a user or were
	 * abandoned without a waiter. Cancel and join them all. */
	while (p->txns.head) {
		struct pam_txn *t = (struct pam_txn *)p->txns.head;
		pthread_mutex_lock(&t->lock);
		t->cancelled = true;
		pthread_cond_broadcast(&t->cond);
		pthread_mutex_unlock(&t->lock);
		if (t->thread_started && !t->joined)
			pthread_join(t->thread, NULL);
		txn_free(t);
	}
	free(p);
}

static const struct wg_auth_ops ops = {
	.struct_size = sizeof(struct wg_auth_ops),
	.start = start,
	.cont = cont,
	.conversation_end = conversation_end,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "auth-pam",
	.version = "0.1.0",
	.description = "logins checked by a PAM service; every PAM prompt is a form step",
	.kind = WG_PLUGIN_AUTH,
	.options = options,
	.init = init,
	.fini = fini,
	.ops = &ops,
};
