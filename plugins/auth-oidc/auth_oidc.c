/* auth-oidc: logins with an OpenID Connect provider's token (RFC 6750
 * bearer, as openconnect --token-mode=oidc --token-secret=TOKEN sends it).
 *
 * The first request of a login gets "401 Unauthorized" with
 * "WWW-Authenticate: Bearer"; openconnect repeats it with "Authorization:
 * Bearer TOKEN", and this step judges the token (oidc_judge.c): its
 * signature against the provider's JWK Set (discovery document -> jwks_uri,
 * fetched with libcurl on a host worker thread, cached, fetched again for an
 * unknown kid at most once per jwks-refetch-interval: oidc_keys.c), then
 * iss, aud, exp/nbf/iat with bounded skew and the required claims
 * (oidc_token.c). The user and groups come from configured claims, so groups
 * pick pools and reach policy scripts.
 *
 * The loop never waits: a login that needs the keys joins the one fetch in
 * flight and is answered from its completion.
 *
 * With browser-sso, a login without a bearer token goes through the user's
 * browser instead (oidc_browser.c); the ID token it brings back is judged
 * like a bearer token, plus its nonce. This file holds the options, the
 * configuration and the login step's entry points. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "oidc_browser.h"
#include "oidc_judge.h"
#include "oidc_plugin.h"

static const struct wg_option options[] = {
	{"issuer", WG_OPT_STRING, WG_OPT_REQUIRED, 0, 0, NULL,
	 "the provider's issuer identifier (https URL); tokens must carry it as \"iss\""},
	{"audience", WG_OPT_STRING_LIST, WG_OPT_REQUIRED, 0, 0, NULL,
	 "client IDs wolfguard is registered as; a token's \"aud\" must name one"},
	{"discovery-url", WG_OPT_STRING, 0, 0, 0, NULL,
	 "the discovery document (default: issuer + \"/.well-known/openid-configuration\")"},
	{"jwks-uri", WG_OPT_STRING, 0, 0, 0, NULL, "the JWK Set URL, skipping discovery"},
	{"ca-file", WG_OPT_STRING, 0, 0, 0, NULL,
	 "PEM file of the CA(s) of the provider's HTTPS certificate (default: the system's trust store)"},
	{"user-claim", WG_OPT_STRING, 0, 0, 0, "preferred_username", "the string claim naming the user"},
	{"groups-claim", WG_OPT_STRING, 0, 0, 0, "groups",
	 "the claim (string or array of strings) giving the user's groups; \"\" for none"},
	{"groups-allowed", WG_OPT_STRING_LIST, 0, 0, 0, NULL,
	 "when set, only these of the token's groups become the user's groups (a provider sends many)"},
	{"required-claims", WG_OPT_STRING_LIST, 0, 0, 0, NULL,
	 "claims a token must have: \"name\" (present) or \"name=value\" (a string equal to value)"},
	{"algorithms", WG_OPT_STRING_LIST, 0, 0, 0, "[\"RS256\", \"PS256\", \"ES256\"]",
	 "signature algorithms accepted: RS256/384/512, PS256/384/512, ES256/384/512 (never none or HS*)"},
	{"clock-skew", WG_OPT_INT, 0, 0, 300, "60", "seconds of clock difference tolerated for exp, nbf and iat"},
	{"max-token-age", WG_OPT_INT, 0, 0, 604800, "0", "seconds since \"iat\" a token is accepted for (0: any)"},
	{"jwks-cache-time", WG_OPT_INT, 0, 10, 604800, "3600", "seconds the fetched keys are used before a fetch"},
	{"jwks-refetch-interval", WG_OPT_INT, 0, 0, 3600, "60",
	 "at most one fetch per this many seconds (an unknown kid, a failed fetch)"},
	{"timeout", WG_OPT_INT, 0, 1, 60, "5", "seconds for each HTTPS request to the provider"},
	{"browser-sso", WG_OPT_BOOL, 0, 0, 0, "false",
	 "log in through the browser (AnyConnect single-sign-on-v2, openconnect --external-browser) when the client "
	 "brings no bearer token"},
	{"public-url", WG_OPT_STRING, 0, 0, 0, NULL,
	 "browser-sso: the server's https URL as browsers reach it (the redirect URI is this + "
	 "\"/+wolfguard+/auth-oidc/callback\")"},
	{"client-id", WG_OPT_STRING, 0, 0, 0, NULL, "browser-sso: wolfguard's client ID at the provider (default: the first audience)"},
	{"client-secret", WG_OPT_STRING, 0, 0, 0, NULL, "browser-sso: the client secret (client_secret_basic at the token endpoint)"},
	{"scopes", WG_OPT_STRING, 0, 0, 0, "openid profile email", "browser-sso: the scopes asked for"},
	{"sso-timeout", WG_OPT_INT, 0, 10, 3600, "300",
	 "browser-sso: seconds from the login form to the browser's return with the code"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/* A login that waited for the provider's documents: the browser login's
 * form, or the verdict on its token with the keys just fetched. */
static void fetch_ended(struct oidc_plugin *p, struct login *l)
{
	if (l->wants_prompt)
		oidc_browser_prompt(p, l);
	else
		oidc_judge(p, l, true);
}

static void start(void *state, struct wg_auth *a)
{
	struct oidc_plugin *p = state;
	struct login *l = (struct login *)login_table_find(&p->logins, a);

	if (l) /* the chain began again: begin() zeroes it, after this */
		oidc_browser_forget(l);
	l = (struct login *)login_table_begin(&p->logins, a, sizeof(struct login));
	if (!l) {
		p->host->auth_fail(a, "Server busy, try again.", "out of memory");
		return;
	}
	if (p->browser && !p->host->auth_http_credentials(a, "Bearer")) {
		oidc_browser_start(p, l);
		return;
	}
	if (!p->host->auth_http_credentials(a, "Bearer")) {
		/* openconnect --token-mode=oidc answers this with the token. */
		p->host->auth_http_challenge(a, "Bearer realm=\"wolfguard\"",
					     "Please log in with a token of your identity provider.");
		return;
	}
	oidc_judge(p, l, false);
}

/* Only a repeated request reaches here (a form answer after the
 * challenge): judge whatever token it carries. */
static void cont(void *state, struct wg_auth *a)
{
	struct oidc_plugin *p = state;
	struct login *l = (struct login *)login_table_find(&p->logins, a);

	if (l && l->stage != OIDC_SSO_NONE) {
		oidc_browser_answer(p, l);
		return;
	}
	start(state, a);
}

static void conversation_end(void *state, struct wg_auth *a)
{
	struct oidc_plugin *p = state;
	struct login_entry *e = login_table_take(&p->logins, a);

	if (e)
		oidc_browser_forget((struct login *)e);
	free(e);
}

/* --- configuration --------------------------------------------------------- */

static int copy_list(const struct wg_host *host, const struct wg_config *cfg, const char *key, char **out,
		     size_t *n, char *err, size_t errlen)
{
	size_t count = host->config_list_size(cfg, key);

	if (count > OIDC_LIST_MAX) {
		snprintf(err, errlen, "%s: %s: at most %d items", host->config_where(cfg, key), key, OIDC_LIST_MAX);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		const char *v = host->config_list_item(cfg, key, i);
		if (!*v) {
			snprintf(err, errlen, "%s: %s[%zu]: must not be empty", host->config_where(cfg, key), key, i);
			return -1;
		}
		if (!(out[i] = strdup(v))) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		(*n)++;
	}
	return 0;
}

static int copy_url(const struct wg_host *host, const struct wg_config *cfg, const char *key, char *out,
		    size_t outlen, char *err, size_t errlen)
{
	const char *v = host->config_string(cfg, key);

	out[0] = '\0';
	if (!v)
		return 0;
	if (strncasecmp(v, "https://", 8) != 0 || strlen(v) >= outlen || strpbrk(v, " \t\r\n")) {
		snprintf(err, errlen, "%s: %s: \"%s\" is not an https:// URL", host->config_where(cfg, key), key, v);
		return -1;
	}
	snprintf(out, outlen, "%s", v);
	return 0;
}

static void plugin_free(struct oidc_plugin *p)
{
	if (!p)
		return;
	free(p->issuer);
	free(p->user_claim);
	free(p->groups_claim);
	for (size_t i = 0; i < p->n_audiences; i++)
		free(p->audiences[i]);
	for (size_t i = 0; i < p->n_required; i++)
		free(p->required[i]);
	for (size_t i = 0; i < p->n_groups_allowed; i++)
		free(p->groups_allowed[i]);
	for (size_t i = 0; i < p->n_algorithms; i++)
		free(p->algorithms[i]);
	oidc_keyset_clear(&p->keys);
	oidc_browser_free(p);
	free(p);
}

static int read_config(struct oidc_plugin *p, const struct wg_config *cfg, char *err, size_t errlen)
{
	const struct wg_host *host = p->host;
	const char *issuer = host->config_string(cfg, "issuer");

	if (copy_url(host, cfg, "issuer", p->fetch.issuer, sizeof(p->fetch.issuer), err, errlen) < 0 ||
	    copy_url(host, cfg, "discovery-url", p->fetch.discovery_url, sizeof(p->fetch.discovery_url), err, errlen) < 0 ||
	    copy_url(host, cfg, "jwks-uri", p->fetch.jwks_uri, sizeof(p->fetch.jwks_uri), err, errlen) < 0)
		return -1;
	if (!p->fetch.discovery_url[0]) {
		/* Discovery 4: the issuer without a trailing slash, then the path. */
		size_t n = strlen(issuer);
		while (n > 8 && issuer[n - 1] == '/')
			n--;
		if (snprintf(p->fetch.discovery_url, sizeof(p->fetch.discovery_url), "%.*s/.well-known/openid-configuration",
			     (int)n, issuer) >= (int)sizeof(p->fetch.discovery_url)) {
			snprintf(err, errlen, "%s: issuer: too long", host->config_where(cfg, "issuer"));
			return -1;
		}
	}
	const char *ca = host->config_string(cfg, "ca-file");
	if (ca && snprintf(p->fetch.ca_file, sizeof(p->fetch.ca_file), "%s", ca) >= (int)sizeof(p->fetch.ca_file)) {
		snprintf(err, errlen, "%s: ca-file: too long", host->config_where(cfg, "ca-file"));
		return -1;
	}
	p->fetch.timeout_s = (long)host->config_int(cfg, "timeout");
	p->issuer = strdup(issuer);
	p->user_claim = strdup(host->config_string(cfg, "user-claim"));
	p->groups_claim = strdup(host->config_string(cfg, "groups-claim"));
	if (!p->issuer || !p->user_claim || !p->groups_claim) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!p->user_claim[0]) {
		snprintf(err, errlen, "%s: user-claim: must not be empty", host->config_where(cfg, "user-claim"));
		return -1;
	}
	if (copy_list(host, cfg, "audience", p->audiences, &p->n_audiences, err, errlen) < 0 ||
	    copy_list(host, cfg, "required-claims", p->required, &p->n_required, err, errlen) < 0 ||
	    copy_list(host, cfg, "groups-allowed", p->groups_allowed, &p->n_groups_allowed, err, errlen) < 0)
		return -1;
	if (p->n_audiences == 0) {
		snprintf(err, errlen, "%s: audience: name at least one client ID", host->config_where(cfg, "audience"));
		return -1;
	}
	if (host->config_list_size(cfg, "algorithms") == 0) {
		static const char *const dflt[] = {"RS256", "PS256", "ES256"};
		for (size_t i = 0; i < 3; i++)
			if (!(p->algorithms[p->n_algorithms++] = strdup(dflt[i]))) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
	} else if (copy_list(host, cfg, "algorithms", p->algorithms, &p->n_algorithms, err, errlen) < 0) {
		return -1;
	}
	for (size_t i = 0; i < p->n_algorithms; i++) {
		if (!oidc_alg_asymmetric(p->algorithms[i])) {
			snprintf(err, errlen, "%s: algorithms[%zu]: \"%s\" is not one of RS256/384/512, PS256/384/512, "
				 "ES256/384/512 (\"none\" and HMAC are never accepted)",
				 host->config_where(cfg, "algorithms"), i, p->algorithms[i]);
			return -1;
		}
	}
	p->skew = host->config_int(cfg, "clock-skew");
	p->max_age = host->config_int(cfg, "max-token-age");
	p->cache_time = host->config_int(cfg, "jwks-cache-time");
	p->refetch_interval = host->config_int(cfg, "jwks-refetch-interval");
	return oidc_browser_config(p, cfg, err, errlen);
}

static int init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err, size_t errlen)
{
	struct oidc_plugin *p;

	if (!WG_HOST_HAS(host, auth_http_credentials) || !WG_HOST_HAS(host, auth_http_challenge)) {
		snprintf(err, errlen, "this server does not pass HTTP Authorization headers to plugins (too old)");
		return -ENOTSUP;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->host = host;
	p->last_attempt = -1;
	p->fetch_ended = fetch_ended;
	if (read_config(p, cfg, err, errlen) < 0) {
		plugin_free(p);
		return -EINVAL;
	}
	if (oidc_fetch_global_init() < 0) {
		snprintf(err, errlen, "curl_global_init failed");
		plugin_free(p);
		return -EIO;
	}
	host->log(NULL, WG_LOG_INFO, "auth-oidc: issuer %s, keys from %s", p->issuer,
		  p->fetch.jwks_uri[0] ? p->fetch.jwks_uri : p->fetch.discovery_url);
	*state = p;
	return 0;
}

static void fini(void *state)
{
	struct oidc_plugin *p = state;

	/* The host finishes queued work (and its done()) before fini: no
	 * fetch is in flight here, and every conversation has ended. */
	while (p->logins.head) {
		struct login_entry *e = p->logins.head;
		login_table_remove(&p->logins, e);
		oidc_browser_forget((struct login *)e);
		free(e);
	}
	plugin_free(p);
	oidc_fetch_global_cleanup();
}

static const struct wg_auth_ops ops = {
	.struct_size = sizeof(struct wg_auth_ops),
	.start = start,
	.cont = cont,
	.conversation_end = conversation_end,
	.http_request = oidc_browser_http,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "auth-oidc",
	.version = "1.0",
	.description = "OpenID Connect bearer tokens (openconnect --token-mode=oidc), checked against the provider's keys",
	.kind = WG_PLUGIN_AUTH,
	.options = options,
	.init = init,
	.fini = fini,
	.ops = &ops,
};
