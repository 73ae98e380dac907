/* Sending one request to the configured RADIUS servers in turn: those
 * believed alive first, a server that does not answer is skipped for
 * dead-time. Used by logins (auth_radius.c) and accounting (radius_acct.c);
 * runs on a worker thread. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "radius.h"

static void trace_add(char *trace, size_t len, const struct radius_server *srv, uint16_t port, const char *what)
{
	size_t used = strlen(trace);

	if (used < len)
		snprintf(trace + used, len - used, "%s%s%s%s:%u %s", used ? ", " : "", srv->spec.ipv6 ? "[" : "",
			 srv->spec.host, srv->spec.ipv6 ? "]" : "", port, what);
}

int radius_send(struct radius_plugin *p, rc_type type, VALUE_PAIR *send, VALUE_PAIR **received, char *msg,
		char *trace, size_t tracelen)
{
	unsigned order[RADIUS_MAX_SERVERS], n = 0;
	time_t now = time(NULL);
	int rc = TIMEOUT_RC;

	*received = NULL;
	trace[0] = '\0';
	/* Servers believed alive first, in the configured order; the others
	 * after them, so they are still a last resort. */
	pthread_mutex_lock(&p->lock);
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < p->n_servers; i++)
			if ((p->servers[i].dead_until <= now) == (pass == 0))
				order[n++] = i;
	pthread_mutex_unlock(&p->lock);

	for (unsigned k = 0; k < n; k++) {
		struct radius_server *srv = &p->servers[order[k]];
		uint16_t port = type == AUTH ? srv->spec.auth_port : srv->spec.acct_port;
		SEND_DATA data;

		memset(&data, 0, sizeof(data));
		rc_buildreq(srv->rh, &data, type == AUTH ? PW_ACCESS_REQUEST : PW_ACCOUNTING_REQUEST, srv->spec.host,
			    port, srv->spec.secret, p->timeout_s, p->retries);
		data.send_pairs = send;
		if (msg)
			msg[0] = '\0';
		char why[160] = "";
		/* Ours, with Message-Authenticator (radius_auth_send.c), for
		 * accounting too: radcli signs neither. */
		if (type == AUTH)
			rc = radius_auth_exchange(p, srv, send, &data.receive_pairs, msg, why, sizeof(why));
		else
			rc = radius_acct_exchange(p, srv, send, why, sizeof(why));
		if (rc == OK_RC || rc == REJECT_RC || rc == CHALLENGE_RC) {
			pthread_mutex_lock(&p->lock);
			srv->dead_until = 0;
			pthread_mutex_unlock(&p->lock);
			trace_add(trace, tracelen, srv, port, "answered");
			*received = data.receive_pairs;
			break;
		}
		rc_avpair_free(data.receive_pairs);
		if (rc == TIMEOUT_RC) {
			pthread_mutex_lock(&p->lock);
			srv->dead_until = time(NULL) + p->dead_time_s;
			pthread_mutex_unlock(&p->lock);
			trace_add(trace, tracelen, srv, port, "did not answer");
		} else {
			/* Unresolvable name, socket error, or a reply that failed the
			 * authenticator check (wrong secret): the next server may do. */
			char what[200];
			snprintf(what, sizeof(what), "%s%s%s", rc == BADRESP_RC ? "sent a bad reply" : "failed",
				 why[0] ? ": " : "", why);
			trace_add(trace, tracelen, srv, port, what);
		}
	}
	rc_avpair_free(send);
	return rc;
}
