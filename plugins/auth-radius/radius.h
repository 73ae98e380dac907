/* auth-radius internals shared by the login check (auth_radius.c) and
 * accounting (radius_acct.c). */
#ifndef WG_AUTH_RADIUS_H
#define WG_AUTH_RADIUS_H

#include <pthread.h>
#include <radcli/radcli.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <wolfguard/auth_check.h>
#include <wolfguard/plugin.h>

#include "radius_attrs.h"

#define RADIUS_MAX_SERVERS 8

/* One configured server. Each has its own radcli handle: radcli looks a
 * request's secret up by host name in the handle's server list, so two
 * servers on one host with different secrets need separate handles. */
struct radius_server {
	struct radius_server_spec spec;
	rc_handle *rh;     /* owned; read-only after init, shared by worker threads */
	time_t dead_until; /* guarded by radius_plugin.lock; 0: believed alive */
};

struct acct_session;

struct radius_plugin {
	struct wg_check check; /* first: the login conversation (wolfguard/auth_check.h) */
	const struct wg_host *host;
	struct radius_server servers[RADIUS_MAX_SERVERS];
	unsigned n_servers;
	pthread_mutex_t lock; /* the servers' dead_until, from worker threads */
	int timeout_s;        /* per try, per server */
	int retries;          /* further tries of one server before the next */
	int dead_time_s;      /* a server that timed out is tried last for this long */
	char nas_identifier[RADIUS_STRING_MAX + 1];
	int group_attr; /* enum radius_group_attr */
	bool accounting;
	bool require_ma; /* replies to Access-Requests must carry a valid Message-Authenticator */
	uint32_t interim_s; /* 0: no Interim-Update unless the server asks */
	/* loop thread only */
	struct acct_session *sessions;
};

/* Sends one request with failover, on a worker thread: the servers in
 * order, those that recently timed out last; each gets timeout_s x
 * (retries + 1). `send` is consumed. On an answer returns OK_RC,
 * REJECT_RC or CHALLENGE_RC, sets *received (caller frees with
 * rc_avpair_free) and the concatenated Reply-Messages in msg
 * (PW_MAX_MSG_SIZE). Returns TIMEOUT_RC when no server answered, or
 * ERROR_RC/BADRESP_RC. `who` gets "host:port" of the server that answered
 * last or was tried last. */
int radius_send(struct radius_plugin *p, rc_type type, VALUE_PAIR *send, VALUE_PAIR **received, char *msg,
		char *who, size_t wholen);

/* One Access-Request to one server (radius_auth_send.c): with
 * Message-Authenticator, the reply checked (its Message-Authenticator
 * required when require_ma), timeout_s x (retries + 1). Returns like
 * rc_send_server; a reason for BADRESP_RC/ERROR_RC in why. */
int radius_auth_exchange(struct radius_plugin *p, const struct radius_server *srv, VALUE_PAIR *send,
			 VALUE_PAIR **received, char *msg, char *why, size_t whylen);
/* An Accounting-Request, with Message-Authenticator, to one server; OK_RC
 * when a valid Accounting-Response came (radius_auth_send.c). */
int radius_acct_exchange(struct radius_plugin *p, const struct radius_server *srv, VALUE_PAIR *send, char *why,
			 size_t whylen);

/* A handle for building attribute lists (its dictionary); any server's. */
static inline rc_handle *radius_dict(const struct radius_plugin *p)
{
	return p->servers[0].rh;
}

/* Accounting (radius_acct.c), called on the loop thread. */
void radius_acct_session_start(void *state, const struct wg_session *s);
void radius_acct_session_stop(void *state, const struct wg_session *s, const struct wg_session_stats *st,
			      const char *reason);
/* Forgets every session still tracked (timers included); at fini. */
void radius_acct_fini(struct radius_plugin *p);

/* Session attribute (auth_set_attr) that carries the Acct-Interim-Interval
 * an Access-Accept gave, from the login to accounting. */
#define RADIUS_ATTR_INTERIM "radius-interim-interval"
#define RADIUS_ATTR_CLASS "class"
/* The Acct-Session-Id the Access-Requests of the login carried, reused in
 * the session's accounting. */
#define RADIUS_ATTR_ACCT_SESSION_ID "radius-acct-session-id"

#endif
