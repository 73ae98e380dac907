/* auth-oidc: the browser login (AnyConnect "single-sign-on-v2" with
 * openconnect's --external-browser), an OpenID Connect authorization code
 * flow with PKCE (S256), state and nonce:
 *
 *  1. start(): the client's init carries its X-AnyConnect-STRAP-DH-Pubkey.
 *     The step answers with the single sign-on form: <sso-v2-login> is the
 *     provider's authorization URL (our client ID, redirect URI, scopes, a
 *     random state, nonce and PKCE challenge), <sso-v2-browser-mode> is
 *     "external". openconnect listens on localhost:29786 and opens the URL
 *     in the user's browser.
 *  2. The user logs in at the provider, which sends the browser back to
 *     PUBLIC-URL/+wolfguard+/auth-oidc/callback?code=..&state=.. (the host
 *     routes it to http_request). The state names the login; it is good for
 *     one use and for sso-timeout seconds. The code is exchanged at the
 *     token endpoint on a worker thread (libcurl, with the PKCE verifier
 *     and the client secret), the loop never waits.
 *  3. The browser is redirected to http://localhost:29786/api/sso/<blob>
 *     where the blob seals a fresh one-time token to the client's key
 *     (oidc_seal.c); openconnect opens it and posts the token as the form's
 *     sso-token. Failures of the browser part hand over a token as well, so
 *     that the client's answer ends the login with the reason at once.
 *  4. cont(): the token must be the one handed out; the ID token is then
 *     judged exactly as a bearer token is (signature, iss, aud, exp, ...)
 *     plus its nonce, and the login goes on down the chain. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oidc_browser.h"
#include "oidc_judge.h"
#include "oidc_keys.h"
#include "oidc_plugin.h"

#define CALLBACK_PATH "/callback"
#define DONE_PATH "/done"
#define ROUTE "/+wolfguard+/auth-oidc"
#define LISTENER "http://localhost:29786/api/sso/" /* openconnect's, fixed (hpke.c) */

struct exchange_job {
	struct oidc_plugin *p;
	struct wg_http_call *call;
	char state[OIDC_SECRET_LEN + 1];
	struct oidc_fetch_request q;
	struct oidc_exchange x;
};

static bool text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

int oidc_browser_config(struct oidc_plugin *p, const struct wg_config *cfg, char *err, size_t errlen)
{
	const struct wg_host *host = p->host;
	const char *url = host->config_string(cfg, "public-url");
	const char *id = host->config_string(cfg, "client-id");
	const char *secret = host->config_string(cfg, "client-secret");
	const char *scopes = host->config_string(cfg, "scopes");
	size_t n;

	p->browser = host->config_bool(cfg, "browser-sso");
	if (!p->browser)
		return 0;
	if (!WG_HOST_HAS(host, auth_http_header) || !WG_HOST_HAS(host, auth_prompt_sso) ||
	    !WG_HOST_HAS(host, http_respond)) {
		snprintf(err, errlen, "browser-sso: this server cannot serve browser logins (too old)");
		return -1;
	}
	if (!url || strncasecmp(url, "https://", 8) != 0 || strpbrk(url, "?#\"<> \t\r\n") || !text_ok(url) ||
	    strlen(url) > 512) {
		snprintf(err, errlen, "%s: public-url: browser-sso needs the server's https:// URL as browsers reach it",
			 host->config_where(cfg, "public-url"));
		return -1;
	}
	n = strlen(url);
	while (n > 8 && url[n - 1] == '/')
		n--;
	snprintf(p->redirect_uri, sizeof(p->redirect_uri), "%.*s" ROUTE CALLBACK_PATH, (int)n, url);
	snprintf(p->final_url, sizeof(p->final_url), "%.*s" ROUTE DONE_PATH, (int)n, url);
	if (!scopes || !text_ok(scopes) || !strstr(scopes, "openid")) {
		snprintf(err, errlen, "%s: scopes: must include \"openid\"", host->config_where(cfg, "scopes"));
		return -1;
	}
	if ((id && (!*id || !text_ok(id) || strlen(id) >= OIDC_CLIENT_MAX)) ||
	    (secret && (!*secret || strlen(secret) >= OIDC_CLIENT_MAX))) {
		snprintf(err, errlen, "%s: client-id and client-secret must be 1..%d printable bytes",
			 host->config_where(cfg, id ? "client-id" : "client-secret"), OIDC_CLIENT_MAX - 1);
		return -1;
	}
	p->client_id = strdup(id ? id : p->audiences[0]);
	p->client_secret = secret ? strdup(secret) : NULL;
	p->scopes = strdup(scopes);
	if (!p->client_id || (secret && !p->client_secret) || !p->scopes) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->sso_timeout = host->config_int(cfg, "sso-timeout");
	p->fetch.want_endpoints = 1; /* the authorization and token endpoints come from discovery */
	host->log(NULL, WG_LOG_INFO, "auth-oidc: browser login on, redirect URI %s, client %s", p->redirect_uri,
		  p->client_id);
	return 0;
}

void oidc_browser_free(struct oidc_plugin *p)
{
	free(p->client_id);
	if (p->client_secret)
		explicit_bzero(p->client_secret, strlen(p->client_secret));
	free(p->client_secret);
	free(p->scopes);
}

void oidc_browser_forget(struct login *l)
{
	if (l->id_token) {
		explicit_bzero(l->id_token, strlen(l->id_token));
		free(l->id_token);
		l->id_token = NULL;
	}
	explicit_bzero(l->verifier, sizeof(l->verifier));
	explicit_bzero(l->token, sizeof(l->token));
}

static struct login *by_state(struct oidc_plugin *p, const char *state)
{
	if (strlen(state) != OIDC_SECRET_LEN)
		return NULL;
	for (struct login_entry *e = p->logins.head; e; e = e->next) {
		struct login *l = (struct login *)e;
		if (e->a && l->stage != OIDC_SSO_NONE && CRYPTO_memcmp(l->state, state, OIDC_SECRET_LEN) == 0)
			return l;
	}
	return NULL;
}

void oidc_browser_start(struct oidc_plugin *p, struct login *l)
{
	struct wg_auth *a = l->entry.a;
	const char *dh = p->host->auth_http_header(a, "X-AnyConnect-STRAP-DH-Pubkey");
	int64_t now = oidc_mono_now();

	if (!dh || !*dh || strlen(dh) >= sizeof(l->dh_pubkey)) {
		oidc_refuse(p, a, "Login failed: this server logs in through a browser; use openconnect --external-browser.",
			    "the client offers no external-browser login (no X-AnyConnect-STRAP-DH-Pubkey header)");
		return;
	}
	snprintf(l->dh_pubkey, sizeof(l->dh_pubkey), "%s", dh);
	if (p->authorization_endpoint[0] && p->token_endpoint[0]) {
		oidc_browser_prompt(p, l);
		return;
	}
	/* The endpoints come with the first fetch of the provider's documents. */
	if (!p->job && p->last_attempt >= 0 && now - p->last_attempt < p->refetch_interval && p->last_error[0]) {
		char why[OIDC_WHY_MAX + 64];
		snprintf(why, sizeof(why), "the provider's discovery document could not be fetched %lld s ago: %.180s",
			 (long long)(now - p->last_attempt), p->last_error);
		oidc_refuse(p, a, "Login failed: the identity provider cannot be reached. Try again later.", why);
		return;
	}
	l->wants_prompt = true;
	l->waiting = true;
	if (!p->job)
		oidc_fetch_start(p);
}

void oidc_browser_prompt(struct oidc_plugin *p, struct login *l)
{
	struct wg_auth *a = l->entry.a;
	char url[4096], challenge[OIDC_SECRET_LEN + 1], params[3072] = "";

	l->wants_prompt = false;
	if (!p->authorization_endpoint[0] || !p->token_endpoint[0]) {
		char why[OIDC_WHY_MAX + 64];
		if (p->last_error[0])
			snprintf(why, sizeof(why), "the provider's discovery document could not be fetched: %.200s",
				 p->last_error);
		else
			snprintf(why, sizeof(why), "the provider's discovery document gives no https "
				 "authorization_endpoint and token_endpoint");
		oidc_refuse(p, a, "Login failed: the identity provider cannot be reached. Try again later.", why);
		return;
	}
	if (oidc_random_b64url(l->state) < 0 || oidc_random_b64url(l->nonce) < 0 ||
	    oidc_random_b64url(l->verifier) < 0 || oidc_pkce_challenge(l->verifier, challenge) < 0) {
		oidc_refuse(p, a, "Server busy, try again.", "no random bytes for the browser login");
		return;
	}
	if (oidc_url_param(params, sizeof(params), "response_type", "code") < 0 ||
	    oidc_url_param(params, sizeof(params), "client_id", p->client_id) < 0 ||
	    oidc_url_param(params, sizeof(params), "redirect_uri", p->redirect_uri) < 0 ||
	    oidc_url_param(params, sizeof(params), "scope", p->scopes) < 0 ||
	    oidc_url_param(params, sizeof(params), "state", l->state) < 0 ||
	    oidc_url_param(params, sizeof(params), "nonce", l->nonce) < 0 ||
	    oidc_url_param(params, sizeof(params), "code_challenge", challenge) < 0 ||
	    oidc_url_param(params, sizeof(params), "code_challenge_method", "S256") < 0 ||
	    snprintf(url, sizeof(url), "%s%c%s", p->authorization_endpoint,
		     strchr(p->authorization_endpoint, '?') ? '&' : '?', params) >= (int)sizeof(url)) {
		oidc_refuse(p, a, "Login failed.", "the authorization URL does not fit");
		return;
	}
	l->stage = OIDC_SSO_PROMPTED;
	l->prompted_at = oidc_mono_now();
	p->host->log(NULL, WG_LOG_INFO, "auth-oidc: browser login for %s: sent to %s (state %.8s...)",
		     p->host->auth_client_addr(a), p->authorization_endpoint, l->state);
	struct wg_auth_sso sso = {
		.struct_size = sizeof(sso),
		.login_url = url,
		.login_final_url = p->final_url,
		.token_cookie_name = "acSamlv2Token",
		.error_cookie_name = "acSamlv2Error",
		.browser_mode = "external",
		.field_name = "sso-token",
	};
	p->host->auth_prompt_sso(a, "Please complete the login in your browser.", &sso);
}

/* --- the browser's return --------------------------------------------- */

static void page(struct oidc_plugin *p, struct wg_http_call *call, const char *status, const char *text)
{
	char body[512];
	int n = snprintf(body, sizeof(body),
			 "<!DOCTYPE html><html><head><title>VPN login</title></head><body><p>%s</p></body></html>\n", text);

	p->host->http_respond(call, status, "text/html; charset=utf-8", NULL, body, (size_t)n);
}

/* The browser goes to openconnect's listener with a new one-time token
 * sealed to the client's key; the login's stage says what the token will
 * be worth. */
static void hand_over(struct oidc_plugin *p, struct wg_http_call *call, struct login *l)
{
	char blob[OIDC_BLOB_B64_MAX], enc_blob[3 * OIDC_BLOB_B64_MAX], enc_ret[3 * OIDC_URL_MAX];
	char headers[4 * OIDC_BLOB_B64_MAX + 3 * OIDC_URL_MAX + 64], why[OIDC_WHY_MAX] = "";

	if (oidc_random_alnum(l->token) < 0 ||
	    oidc_seal_token(l->dh_pubkey, l->token, blob, sizeof(blob), why, sizeof(why)) < 0 ||
	    oidc_url_encode(enc_blob, sizeof(enc_blob), blob) < 0 ||
	    oidc_url_encode(enc_ret, sizeof(enc_ret), p->final_url) < 0) {
		if (!why[0] || !strstr(why, "P-256"))
			snprintf(why, sizeof(why), "the token for the client could not be sealed");
		p->host->log(NULL, WG_LOG_WARN, "auth-oidc: browser login for %s: %s", p->host->auth_client_addr(l->entry.a),
			     why);
		l->token[0] = '\0';
		l->stage = OIDC_SSO_FAILED;
		snprintf(l->failure, sizeof(l->failure), "%s", why);
		page(p, call, "400 Bad Request", "The VPN client's key is unusable; the login failed.");
		return;
	}
	snprintf(headers, sizeof(headers), "Location: " LISTENER "%s?return=%s\r\n", enc_blob, enc_ret);
	static const char body[] = "<!DOCTYPE html><html><body><p>Back to the VPN client...</p></body></html>\n";
	p->host->http_respond(call, "302 Found", "text/html; charset=utf-8", headers, body, sizeof(body) - 1);
}

static void fail_browser(struct oidc_plugin *p, struct wg_http_call *call, struct login *l, const char *why)
{
	l->stage = OIDC_SSO_FAILED;
	snprintf(l->failure, sizeof(l->failure), "%s", why);
	p->host->log(NULL, WG_LOG_WARN, "auth-oidc: browser login for %s refused: %s", p->host->auth_client_addr(l->entry.a),
		     why);
	hand_over(p, call, l);
}

static void exchange_work(void *arg)
{
	struct exchange_job *j = arg;

	oidc_fetch_exchange(&j->q, &j->x);
}

static void exchange_done(void *arg)
{
	struct exchange_job *j = arg;
	struct oidc_plugin *p = j->p;
	struct login *l = by_state(p, j->state);
	char why[OIDC_WHY_MAX] = "";
	char *id_token = NULL;

	if (!l || l->stage != OIDC_SSO_EXCHANGING) {
		p->host->log(NULL, WG_LOG_NOTICE, "auth-oidc: browser callback from %s: its login ended during the code "
			     "exchange", p->host->http_client_addr(j->call));
		page(p, j->call, "400 Bad Request", "This VPN login has ended; start again from the VPN client.");
	} else if (!j->x.answer) {
		snprintf(why, sizeof(why), "the token endpoint could not be reached: %.200s", j->x.why);
		fail_browser(p, j->call, l, why);
	} else if (oidc_token_response_parse(j->x.answer, j->x.answer_len, &id_token, why, sizeof(why)) < 0) {
		fail_browser(p, j->call, l, why);
	} else {
		l->id_token = id_token;
		l->stage = OIDC_SSO_DONE;
		p->host->log(NULL, WG_LOG_INFO, "auth-oidc: browser login for %s: code exchanged for an ID token",
			     p->host->auth_client_addr(l->entry.a));
		hand_over(p, j->call, l);
	}
	if (j->x.answer) {
		explicit_bzero(j->x.answer, j->x.answer_len);
		free(j->x.answer);
	}
	explicit_bzero(&j->x, sizeof(j->x));
	free(j);
}

static void exchange_start(struct oidc_plugin *p, struct wg_http_call *call, struct login *l, const char *code)
{
	struct exchange_job *j = calloc(1, sizeof(*j));
	char *f;

	if (!j) {
		fail_browser(p, call, l, "out of memory");
		return;
	}
	j->p = p;
	j->call = call;
	memcpy(j->state, l->state, sizeof(j->state));
	j->q = p->fetch;
	f = j->x.form;
	snprintf(j->x.token_endpoint, sizeof(j->x.token_endpoint), "%s", p->token_endpoint);
	snprintf(j->x.client_id, sizeof(j->x.client_id), "%s", p->client_id);
	if (p->client_secret)
		snprintf(j->x.client_secret, sizeof(j->x.client_secret), "%s", p->client_secret);
	if (oidc_url_param(f, sizeof(j->x.form), "grant_type", "authorization_code") < 0 ||
	    oidc_url_param(f, sizeof(j->x.form), "code", code) < 0 ||
	    oidc_url_param(f, sizeof(j->x.form), "redirect_uri", p->redirect_uri) < 0 ||
	    oidc_url_param(f, sizeof(j->x.form), "code_verifier", l->verifier) < 0 ||
	    (!p->client_secret && oidc_url_param(f, sizeof(j->x.form), "client_id", p->client_id) < 0)) {
		free(j);
		fail_browser(p, call, l, "the token request does not fit");
		return;
	}
	l->stage = OIDC_SSO_EXCHANGING;
	if (p->host->run_blocking(exchange_work, exchange_done, j) < 0) {
		explicit_bzero(j, sizeof(*j));
		free(j);
		fail_browser(p, call, l, "the server's worker queue is full");
	}
}

void oidc_browser_http(void *state, struct wg_http_call *call, const char *path, const char *query)
{
	struct oidc_plugin *p = state;
	const char *from = p->host->http_client_addr(call);
	struct oidc_callback cb;
	struct login *l;
	char why[OIDC_WHY_MAX];
	int64_t age;

	if (!p->browser) {
		page(p, call, "404 Not Found", "Not found.");
		return;
	}
	if (strcmp(path, DONE_PATH) == 0) {
		page(p, call, "200 OK", "The VPN login went back to the VPN client. You may close this window.");
		return;
	}
	if (strcmp(path, CALLBACK_PATH) != 0) {
		page(p, call, "404 Not Found", "Not found.");
		return;
	}
	if (oidc_callback_parse(query, strlen(query), &cb, why, sizeof(why)) < 0) {
		p->host->log(NULL, WG_LOG_NOTICE, "auth-oidc: browser callback from %s refused: %s", from, why);
		page(p, call, "400 Bad Request", "This is not a login answer of the identity provider.");
		return;
	}
	l = by_state(p, cb.state);
	if (!l) {
		p->host->log(NULL, WG_LOG_WARN, "auth-oidc: browser callback from %s refused: unknown state \"%.8s...\" "
			     "(forged, or its login ended)", from, cb.state);
		page(p, call, "400 Bad Request", "This VPN login is unknown or has ended; start again from the VPN client.");
		return;
	}
	if (l->stage != OIDC_SSO_PROMPTED) {
		p->host->log(NULL, WG_LOG_WARN, "auth-oidc: browser callback from %s refused: state \"%.8s...\" was "
			     "already used (a replayed redirect)", from, cb.state);
		page(p, call, "400 Bad Request", "This login answer was already used.");
		return;
	}
	age = oidc_mono_now() - l->prompted_at;
	if (age > p->sso_timeout) {
		snprintf(why, sizeof(why), "the browser came back %lld s after the login form, over sso-timeout (%lld s)",
			 (long long)age, (long long)p->sso_timeout);
		fail_browser(p, call, l, why);
		return;
	}
	if (cb.iss[0] && strcmp(cb.iss, p->issuer) != 0) {
		/* RFC 9207: the answer names who gave it; another provider's
		 * answer (a mix-up) is not ours to exchange. */
		snprintf(why, sizeof(why), "the redirect comes from issuer \"%.80s\", not \"%.80s\"", cb.iss, p->issuer);
		fail_browser(p, call, l, why);
		return;
	}
	if (cb.error[0]) {
		snprintf(why, sizeof(why), "the provider refused the login: %.60s%s%.150s", cb.error,
			 cb.error_description[0] ? ": " : "", cb.error_description);
		fail_browser(p, call, l, why);
		return;
	}
	exchange_start(p, call, l, cb.code);
}

/* --- the client's answer -------------------------------------------------- */

void oidc_browser_answer(struct oidc_plugin *p, struct login *l)
{
	struct wg_auth *a = l->entry.a;
	const char *got = p->host->auth_field(a, "sso-token");
	bool same = got && l->token[0] && strlen(got) == OIDC_SSO_TOKEN_LEN &&
		    CRYPTO_memcmp(got, l->token, OIDC_SSO_TOKEN_LEN) == 0;

	if (l->stage == OIDC_SSO_PROMPTED || l->stage == OIDC_SSO_EXCHANGING) {
		oidc_refuse(p, a, "Login failed: the browser login did not finish.",
			    "the client answered the single sign-on form before the browser came back");
		return;
	}
	if (!same) {
		oidc_refuse(p, a, "Login failed.", "the client's sso-token is not the one this login handed out");
		return;
	}
	explicit_bzero(l->token, sizeof(l->token)); /* one use */
	if (l->stage == OIDC_SSO_FAILED) {
		oidc_refuse(p, a, "Login failed: the identity provider's login did not succeed.", l->failure);
		return;
	}
	oidc_judge(p, l, false);
}
