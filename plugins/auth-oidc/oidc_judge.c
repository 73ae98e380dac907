/* auth-oidc: the verdict on a login's token, a bearer token or the
 * browser login's ID token: its algorithm, its signature against the
 * provider's keys (a fetch when it names a key not at hand), then iss, aud,
 * exp/nbf/iat with bounded skew and the required claims (oidc_token.c); the
 * user and groups come from the configured claims. A refusal carries a
 * message for the user and the reason for the log. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wolfguard/plugin.h>

#include "oidc_judge.h"
#include "oidc_keys.h"

static bool alg_allowed(const struct oidc_plugin *p, const char *alg)
{
	for (size_t i = 0; i < p->n_algorithms; i++)
		if (strcmp(p->algorithms[i], alg) == 0)
			return true;
	return false;
}

void oidc_refuse(struct oidc_plugin *p, struct wg_auth *a, const char *user_message, const char *why)
{
	char reason[512];


	snprintf(reason, sizeof(reason), "auth-oidc: %.480s", why);
	p->host->auth_fail(a, user_message, reason);
}

/* Keeps the groups named in groups-allowed (all when it is empty). */
static void filter_groups(const struct oidc_plugin *p, struct oidc_identity *id)
{
	size_t kept = 0;

	if (p->n_groups_allowed == 0)
		return;
	for (size_t i = 0; i < id->n_groups; i++) {
		bool allowed = false;
		for (size_t k = 0; k < p->n_groups_allowed && !allowed; k++)
			allowed = strcmp(id->groups[i], p->groups_allowed[k]) == 0;
		if (allowed && kept != i)
			memcpy(id->groups[kept], id->groups[i], sizeof(id->groups[i]));
		kept += allowed;
	}
	id->n_groups = kept;
}

/* Claims of a verified token: the login succeeds or is refused. */
static void accept_claims(struct oidc_plugin *p, struct wg_auth *a, const struct oidc_token *t, const char *nonce)
{
	const struct wg_host *host = p->host;
	struct oidc_expect e = {
		.issuer = p->issuer,
		.audiences = (const char *const *)p->audiences,
		.n_audiences = p->n_audiences,
		.now = (int64_t)time(NULL),
		.skew = p->skew,
		.max_age = p->max_age,
		.required = (const char *const *)p->required,
		.n_required = p->n_required,
		.user_claim = p->user_claim,
		.groups_claim = p->groups_claim[0] ? p->groups_claim : NULL,
	};
	struct oidc_identity id;
	char why[OIDC_WHY_MAX], list[512] = "";
	const char *groups[OIDC_GROUPS_MAX + 1];
	json_t *sub = json_object_get(t->claims, "sub");

	if (oidc_claims_check(t, &e, &id, why, sizeof(why)) < 0) {
		oidc_refuse(p, a, "Login failed: the token was refused.", why);
		return;
	}
	if (nonce) {
		/* The ID token of this browser login, not one replayed from
		 * another (OpenID Connect Core 3.1.3.7, 11). */
		json_t *n = json_object_get(t->claims, "nonce");
		if (!json_is_string(n) || strcmp(json_string_value(n), nonce) != 0) {
			oidc_refuse(p, a, "Login failed: the token was refused.",
				    "the ID token's \"nonce\" is not the one of this login");
			return;
		}
	}
	filter_groups(p, &id);
	for (size_t i = 0; i < id.n_groups; i++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s%s", i ? "," : "", id.groups[i]);
		groups[i] = id.groups[i];
	}
	groups[id.n_groups] = NULL;
	if (id.dropped_groups)
		host->log(NULL, WG_LOG_WARN, "auth-oidc: user \"%s\": ignored %zu group value(s) of claim \"%s\"",
			  id.user, id.dropped_groups, p->groups_claim);
	host->log(NULL, WG_LOG_INFO, "auth-oidc: user \"%s\" accepted (alg %s, kid %s, groups: %s)", id.user, t->alg,
		  t->kid[0] ? t->kid : "none", id.n_groups ? list : "none");
	if (json_is_string(sub))
		host->auth_set_attr(a, "oidc-sub", json_string_value(sub));
	host->auth_set_attr(a, "oidc-issuer", p->issuer);
	host->auth_succeed(a, id.user, groups);
}


/* Judges the login's token with the keys at hand. `fetched`: the keys
 * were just fetched for this login, so a missing key is final. Returns
 * true when answered, false when the login waits for a fetch. */
bool oidc_judge(struct oidc_plugin *p, struct login *l, bool fetched)
{
	struct wg_auth *a = l->entry.a;
	/* The browser login's ID token, else the request's bearer token. */
	const char *token = l->id_token ? l->id_token : p->host->auth_http_credentials(a, "Bearer");
	struct oidc_token t;
	char why[OIDC_WHY_MAX];
	int64_t now = oidc_mono_now();
	bool fresh = p->have_keys && now - p->keys_at < p->cache_time;
	enum oidc_verify v;

	if (!token) {
		oidc_refuse(p, a, "Login failed.", "the bearer token is gone");
		return true;
	}
	if (oidc_token_parse(token, strlen(token), &t, why, sizeof(why)) < 0) {
		oidc_refuse(p, a, "Login failed: the token was refused.", why);
		return true;
	}
	if (!alg_allowed(p, t.alg)) {
		snprintf(why, sizeof(why), "token algorithm \"%.8s\" is not allowed (algorithms)", t.alg);
		oidc_token_clear(&t);
		oidc_refuse(p, a, "Login failed: the token was refused.", why);
		return true;
	}
	v = fresh || fetched ? (p->have_keys ? oidc_keyset_verify(&p->keys, token, strlen(token), &t, why, sizeof(why))
					     : OIDC_VERIFY_NO_KEY)
			     : OIDC_VERIFY_NO_KEY;
	if (v == OIDC_VERIFY_OK) {
		accept_claims(p, a, &t, l->id_token ? l->nonce : NULL);
		oidc_token_clear(&t);
		return true;
	}
	oidc_token_clear(&t);
	if (v == OIDC_VERIFY_BAD) {
		oidc_refuse(p, a, "Login failed: the token was refused.", why);
		return true;
	}
	/* No key for it: fetch, unless one was just done or is too recent. */
	if (fetched) {
		if (p->last_error[0]) {
			char known[OIDC_WHY_MAX];
			snprintf(known, sizeof(known), "%s", why);
			snprintf(why, sizeof(why), "the provider's keys could not be fetched (%.60s): %.140s",
				 p->have_keys ? known : "no keys yet", p->last_error);
			oidc_refuse(p, a, "Login failed: the identity provider cannot be reached. Try again later.", why);
		} else {
			oidc_refuse(p, a, "Login failed: the token was refused.", why);
		}
		return true;
	}
	if (!p->job && p->last_attempt >= 0 && now - p->last_attempt < p->refetch_interval) {
		char msg[OIDC_WHY_MAX + 128];
		if (p->last_error[0] && !fresh)
			snprintf(msg, sizeof(msg), "the provider's keys could not be fetched %lld s ago (%.160s); "
				 "next try after jwks-refetch-interval", (long long)(now - p->last_attempt), p->last_error);
		else
			snprintf(msg, sizeof(msg), "%s (keys fetched %lld s ago; jwks-refetch-interval %lld s)",
				 fresh ? why : "no fresh keys", (long long)(now - p->last_attempt),
				 (long long)p->refetch_interval);
		oidc_refuse(p, a, p->last_error[0] && !fresh ? "Login failed: the identity provider cannot be reached." :
			"Login failed: the token was refused.", msg);
		return true;
	}
	l->waiting = true;
	if (!p->job)
		oidc_fetch_start(p);
	if (!p->job) { /* could not start: fetch_start answered the waiting logins */
		return true;
	}
	return false;
}
