/* wolfguard/auth_check.h: the login conversation of an auth plugin whose
 * only question to its backend is a blocking "is this user name and
 * password (or this answer to my challenge) good?" (RADIUS, LDAP, PAM, a
 * database...). Header-only, like the rest of the SDK: nothing to link.
 *
 * The plugin supplies one function, ops.check, that runs on a host worker
 * thread and answers accept (with groups and session attributes), reject
 * (with the user's message and the log's reason) or challenge (with a
 * prompt: the user's answer comes back to check as the next password). This
 * adapter owns everything else:
 *   - the form steps: username and password, or only the password when an
 *     earlier step of the chain established the user; the challenge prompt;
 *     asking again when a field is missing; refusing a user name that is
 *     too long or holds control characters, and a password longer than
 *     the backend takes;
 *   - the offload: check runs through host->run_blocking, so the event loop
 *     never waits for the backend;
 *   - the per-conversation state, kept in the host's slot for it
 *     (host->auth_state_get/set), with ops.conv_size bytes of the plugin's
 *     own that check may read and write (a RADIUS State, a session id);
 *   - the deadline (check_deadline_ms): a check that has not answered by
 *     then fails the step, and its late answer is dropped;
 *   - the end: when the conversation ends (the client left, auth-timeout,
 *     server stop) while a check runs, the answer is dropped and the
 *     conversation's memory is freed when the check returns.
 *
 * Use:
 *   struct my_plugin { struct wg_check check; ...the plugin's own... };
 *     (FIRST member: the host's state pointer is then the adapter's)
 *   static void my_check(void *plugin, const struct wg_check_request *q,
 *                        struct wg_check_result *r) { ... wg_check_accept(r); ... }
 *   static const struct wg_check_ops my_check_ops = {
 *           .name = "auth-my", .user_max = 256, .check = my_check };
 *   init():  wg_check_init(&p->check, host, &my_check_ops, p, err, errlen)
 *   ops:     static const struct wg_auth_ops ops = { WG_CHECK_AUTH_OPS, ... };
 * Include this header in one source file of the plugin. See docs/plugins.md. */
#ifndef WOLFGUARD_AUTH_CHECK_H
#define WOLFGUARD_AUTH_CHECK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

enum wg_check_verdict {
	WG_CHECK_NONE = 0,      /* check set nothing: the step fails */
	WG_CHECK_ACCEPT = 1,
	WG_CHECK_REJECT = 2,
	WG_CHECK_CHALLENGE = 3,
};

/* What the adapter asks check, on a worker thread. Valid during the call. */
struct wg_check_request {
	const char *user;        /* the user name (checked: 1..user_max bytes, no control characters) */
	const char *password;    /* the password, or the answer to the last challenge; may be empty */
	const char *client_addr; /* the client's address as text, "" when unknown */
	int challenged;          /* password answers this conversation's last challenge */
	/* ops.conv_size bytes of the plugin's own per-conversation state
	 * (NULL when conv_size is 0): check may read and write it; nothing
	 * else touches it while check runs. */
	void *conv;
};

/* What check answers, through the setters below (worker thread). */
struct wg_check_result {
	int verdict;        /* enum wg_check_verdict */
	char *message;      /* reject: shown to the user; challenge: the prompt (owned) */
	char *log_reason;   /* reject: why, for the log (owned) */
	char **groups;      /* accept: the user's groups (owned) */
	size_t n_groups;
	char **attr_keys, **attr_values; /* accept: host->auth_set_attr pairs, in order (owned) */
	size_t n_attrs;
	int out_of_memory;  /* a setter failed: the step fails */
};

/* Compiled into the plugin with this header, never passed across the ABI:
 * no struct_size. */
struct wg_check_ops {
	const char *name;     /* the plugin's name, for log lines: "auth-radius" */
	size_t user_max;      /* longest user name accepted, in bytes */
	size_t password_max;  /* longest password (or answer) sent to check; 0: any */
	size_t conv_size;     /* bytes of per-conversation state for check (0: none) */
	/* Loop thread, optional: a conversation (re)starts (every start(): the
	 * chain begins again after a failure), conv freshly zeroed. Returns 0,
	 * or -1 to fail the step with `why` for the log. */
	int (*begin)(void *plugin, void *conv, const char **why);
	/* Worker thread: the blocking check. Must set a verdict. */
	void (*check)(void *plugin, const struct wg_check_request *q, struct wg_check_result *r);
};

/* The adapter's part of a plugin instance: the FIRST member of the
 * plugin's state (the host names an instance by that pointer). */
struct wg_check {
	const struct wg_host *host;
	const struct wg_check_ops *ops;
	void *plugin;                /* passed to ops' calls */
	uint32_t check_deadline_ms;  /* 0: none; set after wg_check_init */
};

/* ---- setters, for check (worker thread) ------------------------------ */

static inline char *wg_check__vfmt(const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	char *s = n < 0 ? NULL : (char *)malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static inline void wg_check_accept(struct wg_check_result *r)
{
	r->verdict = WG_CHECK_ACCEPT;
}

/* Adds a group (a copy) to an accept. */
static inline void wg_check_add_group(struct wg_check_result *r, const char *group)
{
	char **g = (char **)realloc(r->groups, (r->n_groups + 1) * sizeof(*g));
	if (!g || !(g[r->n_groups] = strdup(group))) {
		if (g)
			r->groups = g;
		r->out_of_memory = 1;
		return;
	}
	r->groups = g;
	r->n_groups++;
}

/* Adds a session attribute (copies), set with host->auth_set_attr in this
 * order just before the accept is answered. */
static inline void wg_check_add_attr(struct wg_check_result *r, const char *key, const char *value)
{
	char **k = (char **)realloc(r->attr_keys, (r->n_attrs + 1) * sizeof(*k));
	if (k)
		r->attr_keys = k;
	char **v = k ? (char **)realloc(r->attr_values, (r->n_attrs + 1) * sizeof(*v)) : NULL;
	if (v)
		r->attr_values = v;
	if (!k || !v) {
		r->out_of_memory = 1;
		return;
	}
	k[r->n_attrs] = strdup(key);
	v[r->n_attrs] = strdup(value);
	if (!k[r->n_attrs] || !v[r->n_attrs]) {
		free(k[r->n_attrs]);
		free(v[r->n_attrs]);
		r->out_of_memory = 1;
		return;
	}
	r->n_attrs++;
}

/* A refusal: user_message is shown to the user, the rest (printf) is the
 * reason the host logs ("login failed for user ...: <reason>"). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static inline void wg_check_reject(struct wg_check_result *r, const char *user_message, const char *fmt, ...)
{
	va_list ap;

	r->verdict = WG_CHECK_REJECT;
	free(r->message);
	free(r->log_reason);
	r->message = strdup(user_message);
	va_start(ap, fmt);
	r->log_reason = wg_check__vfmt(fmt, ap);
	va_end(ap);
	if (!r->message || !r->log_reason)
		r->out_of_memory = 1;
}

/* A further question (an OTP, a token code): the prompt is shown above one
 * password-type field; its answer comes to check as q->password with
 * q->challenged set. NULL or "" prompts with a generic text. */
static inline void wg_check_challenge(struct wg_check_result *r, const char *prompt)
{
	r->verdict = WG_CHECK_CHALLENGE;
	free(r->message);
	r->message = strdup(prompt && *prompt ? prompt : "The server asks for a further response.");
	if (!r->message)
		r->out_of_memory = 1;
}

/* ---- the conversation (loop thread) ---------------------------------- */

/* One conversation of one plugin instance: in the host's slot from the
 * first start() until conversation_end; or, while a check is in flight
 * for a conversation that ended or moved on (deadline), owned by that
 * check, which frees it on return. */
struct wg_check__conv {
	struct wg_check *ck;
	struct wg_auth *a;       /* NULL: abandoned, freed when the check returns */
	char *user;              /* owned; NULL until known */
	int user_given;          /* by an earlier step of the chain */
	int challenged;          /* the next answer goes back to check as such */
	char *prompt;            /* owned: the last challenge's prompt */
	struct wg_check__job *job;    /* in flight, or NULL */
	struct wg_timer *deadline;    /* the job's, or NULL */
	void *conv;              /* ck->ops->conv_size bytes, owned, or NULL */
};

struct wg_check__job {
	struct wg_check__conv *cv;
	struct wg_check_request q;
	char *user, *password, *client_addr; /* owned copies behind q */
	struct wg_check_result r;
};

static const struct wg_auth_field wg_check__login_fields[] = {
	{"username", "Username:", WG_FIELD_TEXT},
	{"password", "Password:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

static const struct wg_auth_field wg_check__password_fields[] = {
	{"password", "Password:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

static const struct wg_auth_field wg_check__answer_fields[] = {
	{"answer", "Response:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

static inline void wg_check__wipe_free(char *s)
{
	if (s) {
		volatile char *p = s;
		while (*p)
			*p++ = '\0';
		free(s);
	}
}

static inline void wg_check__result_free(struct wg_check_result *r)
{
	free(r->message);
	free(r->log_reason);
	for (size_t i = 0; i < r->n_groups; i++)
		free(r->groups[i]);
	free(r->groups);
	for (size_t i = 0; i < r->n_attrs; i++) {
		free(r->attr_keys[i]);
		free(r->attr_values[i]);
	}
	free(r->attr_keys);
	free(r->attr_values);
}

static inline void wg_check__job_free(struct wg_check__job *j)
{
	free(j->user);
	wg_check__wipe_free(j->password);
	free(j->client_addr);
	wg_check__result_free(&j->r);
	free(j);
}

static inline void wg_check__conv_free(struct wg_check__conv *cv)
{
	size_t n = cv->ck->ops->conv_size;

	if (cv->conv) {
		volatile unsigned char *p = (volatile unsigned char *)cv->conv;
		for (size_t i = 0; i < n; i++)
			p[i] = 0; /* it may hold a RADIUS State or the like */
		free(cv->conv);
	}
	free(cv->user);
	free(cv->prompt);
	free(cv);
}

/* Gives the conversation's record up: out of the host's slot and, with a
 * check in flight, to that check (freed when it returns); else freed. */
static inline void wg_check__abandon(struct wg_check__conv *cv)
{
	struct wg_check *ck = cv->ck;

	if (cv->a)
		ck->host->auth_state_set(cv->a, ck, NULL);
	cv->a = NULL;
	if (cv->deadline) {
		ck->host->timer_del(cv->deadline);
		cv->deadline = NULL;
	}
	if (!cv->job)
		wg_check__conv_free(cv);
}

static inline int wg_check__user_ok(const struct wg_check *ck, const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > ck->ops->user_max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f)
			return 0;
	return 1;
}

static inline void wg_check__ask(struct wg_check__conv *cv)
{
	const struct wg_host *host = cv->ck->host;

	host->auth_prompt(cv->a, cv->user_given ? "Please enter your password." :
					"Please enter your username and password.",
			  cv->user_given ? wg_check__password_fields : wg_check__login_fields);
}

/* The record of conversation a, fresh for a start(): the slot's, reset in
 * place, or a new one. NULL when out of memory. */
static inline struct wg_check__conv *wg_check__begin(struct wg_check *ck, struct wg_auth *a)
{
	struct wg_check__conv *cv = (struct wg_check__conv *)ck->host->auth_state_get(a, ck);

	if (cv && cv->job) {
		/* Cannot happen (the host sends one step at a time), but never
		 * reset what a running check reads. */
		wg_check__abandon(cv);
		cv = NULL;
	}
	if (cv) {
		free(cv->user);
		free(cv->prompt);
		cv->user = cv->prompt = NULL;
		cv->user_given = cv->challenged = 0;
		if (cv->conv)
			memset(cv->conv, 0, ck->ops->conv_size);
		return cv;
	}
	cv = (struct wg_check__conv *)calloc(1, sizeof(*cv));
	if (!cv)
		return NULL;
	cv->ck = ck;
	cv->a = a;
	if ((ck->ops->conv_size && !(cv->conv = calloc(1, ck->ops->conv_size))) ||
	    ck->host->auth_state_set(a, ck, cv) < 0) {
		cv->a = NULL;
		wg_check__conv_free(cv);
		return NULL;
	}
	return cv;
}

static inline void wg_check_start(void *state, struct wg_auth *a)
{
	struct wg_check *ck = (struct wg_check *)state;
	const struct wg_host *host = ck->host;
	struct wg_check__conv *cv = wg_check__begin(ck, a);
	const char *why = NULL, *known;

	if (!cv) {
		host->auth_fail(a, "Server busy, try again.", "out of memory");
		return;
	}
	if (ck->ops->begin && ck->ops->begin(ck->plugin, cv->conv, &why) < 0) {
		host->auth_fail(a, "Server busy, try again.", why ? why : "could not begin the login");
		return;
	}
	/* In a chain, an earlier step may have established who this is. */
	known = host->auth_username(a);
	if (known && wg_check__user_ok(ck, known)) {
		if (!(cv->user = strdup(known))) {
			host->auth_fail(a, "Server busy, try again.", "out of memory");
			return;
		}
		cv->user_given = 1;
	}
	wg_check__ask(cv);
}

/* Back on the loop: the answer of a check, unless nobody waits for it. */
static inline void wg_check__done(void *arg)
{
	struct wg_check__job *j = (struct wg_check__job *)arg;
	struct wg_check__conv *cv = j->cv;
	struct wg_check *ck = cv->ck;
	const struct wg_host *host = ck->host;
	struct wg_check_result *r = &j->r;
	struct wg_auth *a = cv->a;

	cv->job = NULL;
	if (!a) { /* the conversation ended, or the deadline passed */
		wg_check__conv_free(cv);
		wg_check__job_free(j);
		return;
	}
	if (cv->deadline) {
		host->timer_del(cv->deadline);
		cv->deadline = NULL;
	}
	/* Answering may end the conversation (and free cv) before it returns:
	 * every use of cv comes first. */
	if (r->out_of_memory) {
		host->auth_fail(a, "Server busy, try again.", "out of memory");
	} else if (r->verdict == WG_CHECK_ACCEPT) {
		const char **groups = (const char **)calloc(r->n_groups + 1, sizeof(*groups));
		char *user = strdup(cv->user);
		if (!groups || !user) {
			host->auth_fail(a, "Server busy, try again.", "out of memory");
		} else {
			for (size_t i = 0; i < r->n_attrs; i++)
				host->auth_set_attr(a, r->attr_keys[i], r->attr_values[i]);
			for (size_t i = 0; i < r->n_groups; i++)
				groups[i] = r->groups[i];
			host->auth_succeed(a, user, groups);
		}
		free(groups);
		free(user);
	} else if (r->verdict == WG_CHECK_CHALLENGE) {
		free(cv->prompt);
		cv->prompt = r->message;
		r->message = NULL;
		cv->challenged = 1;
		host->auth_prompt(a, cv->prompt, wg_check__answer_fields);
	} else if (r->verdict == WG_CHECK_REJECT) {
		host->auth_fail(a, r->message, r->log_reason);
	} else {
		host->auth_fail(a, "Login failed.", "the check gave no verdict");
	}
	wg_check__job_free(j);
}

static inline void wg_check__work(void *arg)
{
	struct wg_check__job *j = (struct wg_check__job *)arg;
	struct wg_check *ck = j->cv->ck;

	ck->ops->check(ck->plugin, &j->q, &j->r);
	/* The password is not needed past the check. */
	if (j->password) {
		volatile char *p = j->password;
		while (*p)
			*p++ = '\0';
	}
}

/* The check did not answer in time: the step fails now, and the record
 * goes with the check (its answer is dropped); the conversation gets a
 * fresh record at its next start(). */
static inline void wg_check__expired(void *arg)
{
	struct wg_check__conv *cv = (struct wg_check__conv *)arg;
	struct wg_check *ck = cv->ck;
	struct wg_auth *a = cv->a;
	char why[96];

	cv->deadline = NULL; /* a one-shot timer is freed by the host after this */
	snprintf(why, sizeof(why), "%s: no answer from the check within %u ms", ck->ops->name,
		 (unsigned)ck->check_deadline_ms);
	wg_check__abandon(cv);
	ck->host->auth_fail(a, "The authentication service did not answer. Try again later.", why);
}

static inline void wg_check_cont(void *state, struct wg_auth *a)
{
	struct wg_check *ck = (struct wg_check *)state;
	const struct wg_host *host = ck->host;
	struct wg_check__conv *cv = (struct wg_check__conv *)host->auth_state_get(a, ck);
	const char *user, *secret, *addr;
	struct wg_check__job *j;

	if (!cv || cv->job) {
		/* No start() seen for this conversation (or a step in flight):
		 * begin again rather than guess. */
		wg_check_start(state, a);
		return;
	}
	if (cv->challenged) {
		/* AnyConnect clients post every password-type field as
		 * <password>, whatever the form named it. */
		secret = host->auth_field(a, "answer");
		if (!secret)
			secret = host->auth_field(a, "password");
		if (!secret) {
			host->auth_prompt(a, cv->prompt, wg_check__answer_fields);
			return;
		}
	} else {
		user = cv->user_given ? cv->user : host->auth_field(a, "username");
		secret = host->auth_field(a, "password");
		if (!user || !*user || !secret) {
			wg_check__ask(cv);
			return;
		}
		if (!wg_check__user_ok(ck, user)) {
			host->auth_fail(a, "Login failed.", "user name too long or with control characters");
			return;
		}
		if (!cv->user_given) {
			free(cv->user);
			if (!(cv->user = strdup(user))) {
				host->auth_fail(a, "Server busy, try again.", "out of memory");
				return;
			}
		}
	}
	if (ck->ops->password_max && strlen(secret) > ck->ops->password_max) {
		char why[96];
		snprintf(why, sizeof(why), "password longer than %s takes (%zu bytes)", ck->ops->name,
			 ck->ops->password_max);
		host->auth_fail(a, "Login failed.", why);
		return;
	}
	addr = host->auth_client_addr(a);
	j = (struct wg_check__job *)calloc(1, sizeof(*j));
	if (!j || !(j->user = strdup(cv->user)) || !(j->password = strdup(secret)) ||
	    !(j->client_addr = strdup(addr ? addr : ""))) {
		if (j)
			wg_check__job_free(j);
		host->auth_fail(a, "Server busy, try again.", "out of memory");
		return;
	}
	j->cv = cv;
	j->q.user = j->user;
	j->q.password = j->password;
	j->q.client_addr = j->client_addr;
	j->q.challenged = cv->challenged;
	j->q.conv = cv->conv;
	/* One answer per challenge: a reject restarts the conversation. */
	cv->challenged = 0;
	cv->job = j;
	if (host->run_blocking(wg_check__work, wg_check__done, j) < 0) {
		cv->job = NULL;
		wg_check__job_free(j);
		host->auth_fail(a, "Server busy, try again.", "worker queue full");
		return;
	}
	if (ck->check_deadline_ms)
		cv->deadline = host->timer_add(ck->check_deadline_ms, 0, wg_check__expired, cv);
}

/* The host tells of every end of a conversation this instance started,
 * including one whose check still runs (the host does not wait for it). */
static inline void wg_check_conversation_end(void *state, struct wg_auth *a)
{
	struct wg_check *ck = (struct wg_check *)state;
	struct wg_check__conv *cv = (struct wg_check__conv *)ck->host->auth_state_get(a, ck);

	if (cv)
		wg_check__abandon(cv);
}

/* The wg_auth_ops members the adapter provides. */
#define WG_CHECK_AUTH_OPS                                                                  \
	.struct_size = sizeof(struct wg_auth_ops), .start = wg_check_start, .cont = wg_check_cont, \
	.conversation_end = wg_check_conversation_end

/* In init(): ties the adapter to the host and the plugin. Returns 0, or -1
 * with the reason in err when the host lacks what the adapter needs (a
 * server older than the per-conversation state slot). */
static inline int wg_check_init(struct wg_check *ck, const struct wg_host *host, const struct wg_check_ops *ops,
				void *plugin, char *err, size_t errlen)
{
	if (!WG_HOST_HAS(host, auth_state_get) || !WG_HOST_HAS(host, auth_state_set)) {
		snprintf(err, errlen, "%s: this server has no per-login state slot (auth_state_get/set); "
			 "it needs a newer wolfguard", ops->name);
		return -1;
	}
	ck->host = host;
	ck->ops = ops;
	ck->plugin = plugin;
	ck->check_deadline_ms = 0;
	return 0;
}

#ifdef __cplusplus
}
#endif
#endif /* WOLFGUARD_AUTH_CHECK_H */
