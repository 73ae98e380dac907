/* One PAM transaction of auth-pam, shared between the event loop (auth_pam.c)
 * and the transaction's own thread (pam_conv.c).
 *
 * The thread runs pam_start .. pam_end. Whenever PAM needs the user, the
 * conversation function publishes a PAM_EV_PROMPT and sleeps on `cond` until
 * the loop stores the answers (or cancels); at the end the thread publishes
 * PAM_EV_DONE and returns. Everything under "shared" is read and written with
 * `lock` held; "loop only" fields are never touched by the thread. */
#ifndef AUTH_PAM_TXN_H
#define AUTH_PAM_TXN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../common/login_table.h"

#define PAM_TXN_MAX_FIELDS 4    /* prompts PAM may ask in one conversation call */
#define PAM_TXN_LABEL 256
#define PAM_TXN_MESSAGE 1024
#define PAM_TXN_ANSWER 512
#define PAM_TXN_USER 256
#define PAM_TXN_REASON 512
#define PAM_TXN_MAX_GROUPS 32
#define PAM_TXN_GROUP 64

enum pam_txn_event {
	PAM_EV_NONE = 0,   /* nothing for the loop yet */
	PAM_EV_PROMPT = 1, /* fields/message describe a form; waiting for answers */
	PAM_EV_DONE = 2,   /* the transaction is over; result below; the thread is exiting */
};

struct pam_txn_field {
	bool echo; /* PAM_PROMPT_ECHO_ON: a text field; else a password field */
	char label[PAM_TXN_LABEL];
};

struct auth_pam;
struct wg_auth;
struct wg_timer;

struct pam_txn {
	/* Loop only, first (login_table casts): the plugin's list of
	 * transactions; entry.a is the conversation, NULL once it is gone
	 * (the thread may still be finishing). */
	struct login_entry entry;

	/* Set by the loop before the thread starts; read-only afterwards. */
	char service[128];
	char user[PAM_TXN_USER];
	char client_addr[64];
	bool account_check;
	bool unix_groups;
	int answer_wait_s; /* the thread's own bound on waiting for one answer */

	pthread_mutex_t lock;
	pthread_cond_t cond; /* broadcast on every change of the shared part */
	/* --- shared (lock) --- */
	enum pam_txn_event event;
	bool cancelled;      /* the client is gone: the conversation answers PAM_CONV_ERR */
	/* The password typed in the first form answers PAM's first echo-off
	 * prompt, so a plain password stack needs a single form. */
	bool has_first_password;
	char first_password[PAM_TXN_ANSWER];
	char message[PAM_TXN_MESSAGE]; /* PAM_TEXT_INFO/ERROR_MSG lines for the next form */
	unsigned n_fields;
	struct pam_txn_field fields[PAM_TXN_MAX_FIELDS];
	bool answered;
	char answers[PAM_TXN_MAX_FIELDS][PAM_TXN_ANSWER];
	/* result, valid with PAM_EV_DONE */
	int rc;                     /* PAM_SUCCESS or the failing call's code */
	char reason[PAM_TXN_REASON]; /* what failed, for the log */
	char final_user[PAM_TXN_USER]; /* PAM_USER at the end (a module may map it) */
	unsigned n_groups;
	char groups[PAM_TXN_MAX_GROUPS][PAM_TXN_GROUP];

	/* --- loop only --- */
	struct auth_pam *p;
	pthread_t thread;
	bool thread_started;
	bool joined;             /* the waiter saw PAM_EV_DONE and joined the thread */
	bool waiting;           /* a waiter job is queued or running */
	struct wg_timer *timer; /* conversation-timeout while a form is shown */
};

/* Starts the transaction's thread. Returns 0 or an errno value. */
int pam_txn_spawn(struct pam_txn *t);

/* Fills t->groups with the user's unix groups (getgrouplist). */
void pam_txn_unix_groups(struct pam_txn *t, const char *user);

#endif
