/* The thread side of an auth-pam transaction: pam_start .. pam_end on a
 * dedicated thread, and the conversation function that turns PAM's prompts
 * into forms for the loop (see pam_txn.h for the hand-over protocol).
 *
 * This thread never calls the host: it only publishes events under the
 * transaction's lock. PAM modules may take seconds (pam_faildelay, network
 * lookups) and the conversation waits minutes for a human, so neither may
 * run on the loop or hold a worker of the host's shared pool. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pam_txn.h"

/* Copies PAM's text for a form: control characters become spaces (a
 * message keeps its line breaks), and trailing blanks go. */
static void copy_text(char *dst, size_t len, const char *src, bool keep_newlines)
{
	size_t n = 0;

	for (; src && *src && n + 1 < len; src++) {
		unsigned char c = (unsigned char)*src;
		dst[n++] = (c < 0x20 && !(keep_newlines && c == '\n')) || c == 0x7f ? ' ' : (char)c;
	}
	while (n && (dst[n - 1] == ' ' || dst[n - 1] == '\n'))
		n--;
	dst[n] = '\0';
}

static void append_message(struct pam_txn *t, const char *text)
{
	size_t used = strlen(t->message), room;
	char line[PAM_TXN_MESSAGE];

	copy_text(line, sizeof(line), text, true);
	if (!line[0] || used + 2 >= sizeof(t->message))
		return;
	if (used)
		t->message[used++] = '\n';
	room = sizeof(t->message) - used;
	memcpy(t->message + used, line, strnlen(line, room - 1));
	t->message[used + strnlen(line, room - 1)] = '\0';
}

static void free_responses(struct pam_response *r, int n)
{
	for (int i = 0; i < n; i++) {
		if (r[i].resp) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
}

/* Waits, lock held, until the loop answered or cancelled, or the thread's
 * own bound passed (the loop's conversation-timeout normally cancels first).
 * Returns true when answers are there. */
static bool wait_for_answers(struct pam_txn *t)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += t->answer_wait_s;
	while (!t->answered && !t->cancelled)
		if (pthread_cond_timedwait(&t->cond, &t->lock, &deadline) == ETIMEDOUT)
			break;
	return t->answered && !t->cancelled;
}

/* Linux-PAM's layout: msg is an array of n pointers. */
static int conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *appdata)
{
	struct pam_txn *t = appdata;
	struct pam_response *r;
	int asked[PAM_TXN_MAX_FIELDS];
	unsigned n_ask = 0;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	pthread_mutex_lock(&t->lock);
	if (t->cancelled)
		goto fail;
	t->n_fields = 0;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_TEXT_INFO:
		case PAM_ERROR_MSG:
			append_message(t, msg[i]->msg);
			break;
		case PAM_PROMPT_ECHO_OFF:
			if (t->has_first_password) {
				t->has_first_password = false;
				r[i].resp = strdup(t->first_password);
				explicit_bzero(t->first_password, sizeof(t->first_password));
				if (!r[i].resp)
					goto fail;
				break;
			}
			/* fall through */
		case PAM_PROMPT_ECHO_ON:
			if (n_ask == PAM_TXN_MAX_FIELDS)
				goto fail; /* more than a form carries: no module does this */
			t->fields[n_ask].echo = msg[i]->msg_style == PAM_PROMPT_ECHO_ON;
			copy_text(t->fields[n_ask].label, sizeof(t->fields[n_ask].label), msg[i]->msg, false);
			asked[n_ask++] = i;
			break;
		default: /* PAM_BINARY_PROMPT and the like: nothing a form can answer */
			goto fail;
		}
	}
	if (n_ask) {
		t->n_fields = n_ask;
		t->answered = false;
		t->event = PAM_EV_PROMPT;
		pthread_cond_broadcast(&t->cond);
		if (!wait_for_answers(t))
			goto fail;
		for (unsigned k = 0; k < n_ask; k++) {
			r[asked[k]].resp = strdup(t->answers[k]);
			explicit_bzero(t->answers[k], sizeof(t->answers[k]));
			if (!r[asked[k]].resp)
				goto fail;
		}
		t->answered = false;
	}
	pthread_mutex_unlock(&t->lock);
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (unsigned k = 0; k < PAM_TXN_MAX_FIELDS; k++)
		explicit_bzero(t->answers[k], sizeof(t->answers[k]));
	t->answered = false;
	pthread_mutex_unlock(&t->lock);
	free_responses(r, n);
	return PAM_CONV_ERR;
}

/* The user's unix groups (getgrouplist), primary group first. A user PAM
 * knows but the system does not (pam_userdb) simply has none. */
void pam_txn_unix_groups(struct pam_txn *t, const char *user)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	gid_t gids[PAM_TXN_MAX_GROUPS];
	int ng = PAM_TXN_MAX_GROUPS;

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &found) != 0 || !found)
		return;
	if (getgrouplist(user, pw.pw_gid, gids, &ng) < 0 || ng > PAM_TXN_MAX_GROUPS)
		ng = PAM_TXN_MAX_GROUPS; /* more than we keep: the first ones */
	for (int i = 0; i < ng; i++) {
		struct group gr, *g = NULL;
		char gbuf[4096];
		if (getgrgid_r(gids[i], &gr, gbuf, sizeof(gbuf), &g) != 0 || !g || strlen(g->gr_name) >= PAM_TXN_GROUP)
			continue;
		snprintf(t->groups[t->n_groups++], PAM_TXN_GROUP, "%s", g->gr_name);
	}
}

static void *txn_main(void *arg)
{
	struct pam_txn *t = arg;
	struct pam_conv conv = {.conv = conversation, .appdata_ptr = t};
	pam_handle_t *ph = NULL;
	const char *step = "pam_start";
	const void *item = NULL;
	char reason[PAM_TXN_REASON] = "";
	char user[PAM_TXN_USER];
	int rc;

	snprintf(user, sizeof(user), "%s", t->user);
	rc = pam_start(t->service, user, &conv, &ph);
	if (rc == PAM_SUCCESS) {
		step = "pam_set_item(PAM_RHOST)";
		rc = pam_set_item(ph, PAM_RHOST, t->client_addr);
	}
	if (rc == PAM_SUCCESS) {
		step = "pam_authenticate";
		rc = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
	}
	if (rc == PAM_SUCCESS && t->account_check) {
		step = "pam_acct_mgmt";
		rc = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK);
		/* An expired password cannot be changed through a VPN login form. */
	}
	if (rc == PAM_SUCCESS && pam_get_item(ph, PAM_USER, &item) == PAM_SUCCESS && item &&
	    strlen(item) < sizeof(user))
		snprintf(user, sizeof(user), "%s", (const char *)item);
	if (rc != PAM_SUCCESS)
		snprintf(reason, sizeof(reason), "%s: %s", step, pam_strerror(ph, rc));
	if (ph)
		pam_end(ph, rc);

	/* The groups are written before DONE is published under the lock, and
	 * the loop reads them only after seeing DONE. */
	if (rc == PAM_SUCCESS && t->unix_groups)
		pam_txn_unix_groups(t, user);
	pthread_mutex_lock(&t->lock);
	t->rc = rc;
	snprintf(t->reason, sizeof(t->reason), "%s", reason);
	snprintf(t->final_user, sizeof(t->final_user), "%s", user);
	explicit_bzero(t->first_password, sizeof(t->first_password));
	t->has_first_password = false;
	t->event = PAM_EV_DONE;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int pam_txn_spawn(struct pam_txn *t)
{
	pthread_attr_t attr;
	int rc = pthread_attr_init(&attr);

	if (rc)
		return rc;
	/* PAM modules are ordinary C code; 1 MiB (only touched pages cost
	 * memory) leaves room for sanitizer builds and keeps many waiting
	 * conversations cheap. */
	pthread_attr_setstacksize(&attr, 1024u * 1024u);
	rc = pthread_create(&t->thread, &attr, txn_main, t);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		t->thread_started = true;
	return rc;
}
