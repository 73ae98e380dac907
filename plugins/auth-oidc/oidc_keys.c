/* auth-oidc: the provider's keys (and, from discovery, its endpoints),
 * fetched with libcurl on a host worker thread (oidc_fetch.c), kept in the
 * plugin's state for jwks-cache-time, at most one fetch in flight and at
 * most one per jwks-refetch-interval (the caller checks that). The logins
 * that waited for a fetch are handed back to the plugin's fetch_ended
 * (auth_oidc.c), which knows whether each wants its token judged or the
 * browser login's form. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "oidc_keys.h"

static void fetch_work(void *arg)
{
	struct fetch_job *j = arg;

	oidc_fetch_keys(&j->q, &j->r);
}

/* Every login waiting for the fetch is answered with what it brought. */
static void wake_waiters(struct oidc_plugin *p)
{
	bool again = true;

	/* Answering may end a conversation (and unlink its entry) inside the
	 * call: walk from the head again after each answer. */
	while (again) {
		again = false;
		for (struct login_entry *e = p->logins.head; e; e = e->next) {
			struct login *l = (struct login *)e;
			if (!l->waiting || !e->a)
				continue;
			l->waiting = false;
			p->fetch_ended(p, l);
			again = true;
			break;
		}
	}
}

static void fetch_done(void *arg)
{
	struct fetch_job *j = arg;
	struct oidc_plugin *p = j->p;
	const struct wg_host *host = p->host;
	struct oidc_keyset ks;
	char why[256];

	p->job = NULL;
	if (j->r.jwks && oidc_keyset_parse(j->r.jwks, j->r.jwks_len, &ks, why, sizeof(why)) == 0) {
		oidc_keyset_clear(&p->keys);
		p->keys = ks;
		p->have_keys = true;
		p->keys_at = oidc_mono_now();
		p->last_error[0] = '\0';
		if (j->r.authorization_endpoint[0])
			memcpy(p->authorization_endpoint, j->r.authorization_endpoint, sizeof(p->authorization_endpoint));
		if (j->r.token_endpoint[0])
			memcpy(p->token_endpoint, j->r.token_endpoint, sizeof(p->token_endpoint));
		host->log(NULL, WG_LOG_INFO, "auth-oidc: %zu signing key(s) from %s (%zu skipped)", ks.n, j->r.jwks_uri,
			  ks.skipped);
	} else {
		if (j->r.jwks)
			snprintf(p->last_error, sizeof(p->last_error), "%.120s: %.120s", j->r.jwks_uri, why);
		else
			snprintf(p->last_error, sizeof(p->last_error), "%.250s", j->r.why);
		host->log(NULL, WG_LOG_WARN, "auth-oidc: fetching the provider's keys failed: %s", p->last_error);
		/* Keys past jwks-cache-time are not believed any longer. */
		if (p->have_keys && oidc_mono_now() - p->keys_at >= p->cache_time) {
			oidc_keyset_clear(&p->keys);
			p->have_keys = false;
		}
	}
	free(j->r.jwks);
	free(j);
	wake_waiters(p);
}

void oidc_fetch_start(struct oidc_plugin *p)
{
	struct fetch_job *j = calloc(1, sizeof(*j));

	p->last_attempt = oidc_mono_now();
	if (!j) {
		snprintf(p->last_error, sizeof(p->last_error), "out of memory");
		wake_waiters(p);
		return;
	}
	j->p = p;
	j->q = p->fetch;
	p->job = j;
	p->host->log(NULL, WG_LOG_INFO, "auth-oidc: fetching the provider's keys from %s",
		     j->q.jwks_uri[0] ? j->q.jwks_uri : j->q.discovery_url);
	if (p->host->run_blocking(fetch_work, fetch_done, j) < 0) {
		p->job = NULL;
		free(j);
		snprintf(p->last_error, sizeof(p->last_error), "the server's worker queue is full");
		wake_waiters(p);
	}
}
