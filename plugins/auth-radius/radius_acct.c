/* auth-radius accounting (RFC 2866): Start when a session's tunnel first
 * comes up, Interim-Update on a repeating loop timer, Stop with the final
 * counters when it ends. Each request is a run_blocking job holding copies
 * of everything it sends, so it never reads a session from the worker. A
 * server that does not answer costs a worker thread at most
 * servers x timeout x (retries + 1); the record is then logged and dropped
 * (no spool). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radius.h"

/* A session this plugin sent a Start for. */
struct acct_session {
	struct radius_plugin *p;
	const struct wg_session *s; /* valid from session_start until session_stop returns */
	struct acct_session *next;
	struct wg_timer *interim;   /* repeating, or NULL */
	char id[128];
	char user[RADIUS_STRING_MAX + 1];
	char client[64];
	char addr4[INET_ADDRSTRLEN];
	char class_text[2 * RADIUS_STRING_MAX + 3];
};

struct acct_job {
	struct radius_plugin *p;
	uint32_t status; /* PW_STATUS_START / PW_STATUS_ALIVE / PW_STATUS_STOP */
	time_t event;    /* when it happened: Event-Timestamp, Acct-Delay-Time */
	char id[128];
	char user[RADIUS_STRING_MAX + 1];
	char client[64];
	char addr4[INET_ADDRSTRLEN];
	char class_text[2 * RADIUS_STRING_MAX + 3];
	bool have_stats;
	struct wg_session_stats st;
	uint32_t cause;
	char reason[128];
	/* results */
	int rc;
	char trace[512];
};

static const char *status_name(uint32_t status)
{
	return status == PW_STATUS_START ? "Start" : status == PW_STATUS_STOP ? "Stop" : "Interim-Update";
}

static bool add_u32(rc_handle *rh, VALUE_PAIR **l, int attr, uint32_t v)
{
	return rc_avpair_add(rh, l, attr, &v, 0, 0) != NULL;
}

static void acct_work(void *arg)
{
	struct acct_job *j = arg;
	struct radius_plugin *p = j->p;
	rc_handle *rh = radius_dict(p);
	VALUE_PAIR *send = NULL, *received = NULL;
	uint8_t cls[RADIUS_STRING_MAX];
	int cls_len = j->class_text[0] ? radius_class_decode(j->class_text, cls, sizeof(cls)) : -1;
	struct in_addr a4;
	time_t now = time(NULL);
	bool ok = add_u32(rh, &send, PW_ACCT_STATUS_TYPE, j->status) &&
		  rc_avpair_add(rh, &send, PW_ACCT_SESSION_ID, j->id, -1, 0) &&
		  rc_avpair_add(rh, &send, PW_USER_NAME, j->user, -1, 0) &&
		  rc_avpair_add(rh, &send, PW_NAS_IDENTIFIER, p->nas_identifier, -1, 0) &&
		  add_u32(rh, &send, PW_NAS_PORT_TYPE, PW_VIRTUAL) && add_u32(rh, &send, PW_SERVICE_TYPE, PW_FRAMED) &&
		  add_u32(rh, &send, PW_ACCT_AUTHENTIC, PW_RADIUS) &&
		  add_u32(rh, &send, PW_EVENT_TIMESTAMP, (uint32_t)j->event) &&
		  add_u32(rh, &send, PW_ACCT_DELAY_TIME, now > j->event ? (uint32_t)(now - j->event) : 0) &&
		  (!j->client[0] || rc_avpair_add(rh, &send, PW_CALLING_STATION_ID, j->client, -1, 0)) &&
		  (cls_len <= 0 || rc_avpair_add(rh, &send, PW_CLASS, cls, cls_len, 0));

	if (ok && j->addr4[0] && inet_pton(AF_INET, j->addr4, &a4) == 1)
		ok = add_u32(rh, &send, PW_FRAMED_IP_ADDRESS, ntohl(a4.s_addr));
	if (ok && j->have_stats) {
		/* RFC 2869 5.1/5.2: the octet counters wrap at 2^32, the
		 * Gigawords attributes count the wraps. */
		ok = add_u32(rh, &send, PW_ACCT_INPUT_OCTETS, (uint32_t)j->st.bytes_in) &&
		     add_u32(rh, &send, PW_ACCT_OUTPUT_OCTETS, (uint32_t)j->st.bytes_out) &&
		     add_u32(rh, &send, PW_ACCT_INPUT_GIGAWORDS, (uint32_t)(j->st.bytes_in >> 32)) &&
		     add_u32(rh, &send, PW_ACCT_OUTPUT_GIGAWORDS, (uint32_t)(j->st.bytes_out >> 32)) &&
		     add_u32(rh, &send, PW_ACCT_INPUT_PACKETS, (uint32_t)j->st.pkts_in) &&
		     add_u32(rh, &send, PW_ACCT_OUTPUT_PACKETS, (uint32_t)j->st.pkts_out) &&
		     add_u32(rh, &send, PW_ACCT_SESSION_TIME, (uint32_t)j->st.duration_s);
	}
	if (ok && j->status == PW_STATUS_STOP)
		ok = add_u32(rh, &send, PW_ACCT_TERMINATE_CAUSE, j->cause);
	if (!ok) {
		rc_avpair_free(send);
		j->rc = ERROR_RC;
		snprintf(j->trace, sizeof(j->trace), "could not build the Accounting-Request");
		return;
	}
	j->rc = radius_send(p, ACCT, send, &received, NULL, j->trace, sizeof(j->trace));
	rc_avpair_free(received);
}

static void acct_done(void *arg)
{
	struct acct_job *j = arg;
	const struct wg_host *host = j->p->host;

	if (j->rc == OK_RC)
		host->log(NULL, WG_LOG_DEBUG, "auth-radius: accounting %s for session %s of \"%s\" sent (%s)",
			  status_name(j->status), j->id, j->user, j->trace);
	else
		host->log(NULL, WG_LOG_WARN, "auth-radius: accounting %s for session %s of \"%s\" lost: %s (%s)",
			  status_name(j->status), j->id, j->user,
			  j->rc == TIMEOUT_RC ? "no server answered" : "error", j->trace);
	free(j);
}

static void acct_submit(struct acct_session *as, uint32_t status, const struct wg_session_stats *st,
			const char *reason)
{
	struct radius_plugin *p = as->p;
	struct acct_job *j = calloc(1, sizeof(*j));

	if (!j) {
		p->host->log(as->s, WG_LOG_ERROR, "auth-radius: accounting %s dropped: out of memory",
			     status_name(status));
		return;
	}
	j->p = p;
	j->status = status;
	j->event = time(NULL);
	memcpy(j->id, as->id, sizeof(j->id));
	memcpy(j->user, as->user, sizeof(j->user));
	memcpy(j->client, as->client, sizeof(j->client));
	memcpy(j->addr4, as->addr4, sizeof(j->addr4));
	memcpy(j->class_text, as->class_text, sizeof(j->class_text));
	if (st) {
		j->have_stats = true;
		j->st = *st;
	}
	j->cause = radius_terminate_cause(reason);
	snprintf(j->reason, sizeof(j->reason), "%s", reason ? reason : "");
	if (p->host->run_blocking(acct_work, acct_done, j) < 0) {
		p->host->log(as->s, WG_LOG_WARN, "auth-radius: accounting %s dropped: worker queue full",
			     status_name(status));
		free(j);
	}
}

static void interim_cb(void *arg)
{
	struct acct_session *as = arg;
	const struct wg_host *host = as->p->host;
	struct wg_session_stats st = {.struct_size = sizeof(st)};

	if (!WG_HOST_HAS(host, session_stats) || host->session_stats(as->s, &st) < 0)
		return; /* the session is ending; its Stop follows */
	acct_submit(as, PW_STATUS_ALIVE, &st, NULL);
}

static void copy_attr(const struct wg_host *host, const struct wg_session *s, const char *key, char *out, size_t len)
{
	const char *v = host->session_get(s, key);

	snprintf(out, len, "%s", v ? v : "");
}

static struct acct_session *acct_find(struct radius_plugin *p, const struct wg_session *s, struct acct_session ***link)
{
	for (struct acct_session **pp = &p->sessions; *pp; pp = &(*pp)->next) {
		if ((*pp)->s == s) {
			if (link)
				*link = pp;
			return *pp;
		}
	}
	return NULL;
}

void radius_acct_session_start(void *state, const struct wg_session *s)
{
	struct radius_plugin *p = state;
	const struct wg_host *host = p->host;
	struct acct_session *as;
	const char *interim_text;
	uint32_t interval = p->interim_s;

	if (!p->accounting || acct_find(p, s, NULL))
		return;
	as = calloc(1, sizeof(*as));
	if (!as) {
		host->log(s, WG_LOG_ERROR, "auth-radius: accounting Start dropped: out of memory");
		return;
	}
	as->p = p;
	as->s = s;
	copy_attr(host, s, WG_SESS_ATTR_PREFIX RADIUS_ATTR_ACCT_SESSION_ID, as->id, sizeof(as->id));
	if (!as->id[0]) /* logged in by another plugin of the chain */
		copy_attr(host, s, WG_SESS_ID, as->id, sizeof(as->id));
	copy_attr(host, s, WG_SESS_USER, as->user, sizeof(as->user));
	copy_attr(host, s, WG_SESS_CLIENT_ADDR, as->client, sizeof(as->client));
	copy_attr(host, s, WG_SESS_ADDR4, as->addr4, sizeof(as->addr4));
	copy_attr(host, s, WG_SESS_ATTR_PREFIX RADIUS_ATTR_CLASS, as->class_text, sizeof(as->class_text));
	interim_text = host->session_get(s, WG_SESS_ATTR_PREFIX RADIUS_ATTR_INTERIM);
	if (interim_text && *interim_text) {
		char *end;
		unsigned long v = strtoul(interim_text, &end, 10);
		/* RFC 2869 5.16: not less than 60 s, whatever a server says. */
		if (!*end && v > 0)
			interval = v < 60 ? 60 : v > 86400 ? 86400 : (uint32_t)v;
	}
	as->next = p->sessions;
	p->sessions = as;
	acct_submit(as, PW_STATUS_START, NULL, NULL);
	if (interval && WG_HOST_HAS(host, session_stats)) {
		as->interim = host->timer_add(interval * 1000u, 1, interim_cb, as);
		if (!as->interim)
			host->log(s, WG_LOG_WARN, "auth-radius: no Interim-Update timer for this session");
	}
}

void radius_acct_session_stop(void *state, const struct wg_session *s, const struct wg_session_stats *st,
			      const char *reason)
{
	struct radius_plugin *p = state;
	struct acct_session **link, *as = acct_find(p, s, &link);

	if (!as)
		return; /* no Start was sent for it: no Stop either */
	*link = as->next;
	if (as->interim)
		p->host->timer_del(as->interim);
	acct_submit(as, PW_STATUS_STOP, st, reason);
	free(as);
}

void radius_acct_fini(struct radius_plugin *p)
{
	while (p->sessions) {
		struct acct_session *as = p->sessions;
		p->sessions = as->next;
		if (as->interim)
			p->host->timer_del(as->interim);
		free(as);
	}
}
