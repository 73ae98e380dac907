/* auth-oidc: the plugin's state, shared by its login step for bearer
 * tokens (auth_oidc.c) and its browser login (oidc_browser.c). */
#ifndef WG_OIDC_PLUGIN_H
#define WG_OIDC_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>
#include <wolfguard/plugin.h>

#include "../common/login_table.h"
#include "oidc_callback.h"
#include "oidc_fetch.h"
#include "oidc_jwks.h"
#include "oidc_seal.h"
#include "oidc_token.h"

#define OIDC_LIST_MAX 16

struct fetch_job;

struct oidc_plugin {
	const struct wg_host *host;
	char *issuer;
	char *audiences[OIDC_LIST_MAX];
	size_t n_audiences;
	char *required[OIDC_LIST_MAX];
	size_t n_required;
	char *groups_allowed[OIDC_LIST_MAX];
	size_t n_groups_allowed; /* 0: every group of the token */
	char *algorithms[OIDC_LIST_MAX];
	size_t n_algorithms;
	char *user_claim, *groups_claim;
	int64_t skew, max_age, cache_time, refetch_interval;
	struct oidc_fetch_request fetch; /* the template each fetch copies */

	struct oidc_keyset keys;
	bool have_keys;
	int64_t keys_at;        /* monotonic seconds of the last successful fetch */
	int64_t last_attempt;   /* monotonic seconds a fetch last started; -1: never */
	char last_error[256];   /* the last failed fetch's reason, "" after a success */
	struct fetch_job *job;  /* in flight, or NULL */
	struct login_table logins;

	/* Browser SSO (browser-sso: true); see oidc_browser.c. */
	bool browser;
	char *client_id, *client_secret, *scopes;
	char redirect_uri[OIDC_URL_MAX], final_url[OIDC_URL_MAX];
	char authorization_endpoint[OIDC_URL_MAX], token_endpoint[OIDC_URL_MAX]; /* from discovery */
	int64_t sso_timeout;
};

enum oidc_sso_stage {
	OIDC_SSO_NONE = 0,   /* a bearer login */
	OIDC_SSO_PROMPTED,   /* the form is out; the browser has not come back */
	OIDC_SSO_EXCHANGING, /* the code is at the token endpoint */
	OIDC_SSO_DONE,       /* id_token is here, the client's token may come */
	OIDC_SSO_FAILED,     /* the browser part failed: failure says why */
};

struct login {
	struct login_entry entry; /* first: the table's link */
	bool waiting;             /* for the fetch in flight */
	/* Browser SSO. */
	bool wants_prompt;        /* waiting for the provider's endpoints, then the form */
	enum oidc_sso_stage stage;
	char state[OIDC_SECRET_LEN + 1], nonce[OIDC_SECRET_LEN + 1], verifier[OIDC_SECRET_LEN + 1];
	char token[OIDC_SSO_TOKEN_LEN + 1]; /* what the client must send back; "" once used */
	char dh_pubkey[512];      /* the client's X-AnyConnect-STRAP-DH-Pubkey */
	int64_t prompted_at;      /* monotonic seconds */
	char *id_token;           /* owned: from the token endpoint */
	char failure[OIDC_WHY_MAX];
};

struct fetch_job {
	struct oidc_plugin *p;
	struct oidc_fetch_request q;
	struct oidc_fetch_result r;
};


int64_t oidc_mono_now(void);
void oidc_refuse(struct oidc_plugin *p, struct wg_auth *a, const char *user_message, const char *why);
/* Judges the login's token (its id_token, else the request's bearer
 * token); see auth_oidc.c. */
bool oidc_judge(struct oidc_plugin *p, struct login *l, bool fetched);
/* Starts a fetch of the provider's documents unless one is in flight. */
void oidc_fetch_start(struct oidc_plugin *p);

/* oidc_browser.c */
int oidc_browser_config(struct oidc_plugin *p, const struct wg_config *cfg, char *err, size_t errlen);
void oidc_browser_free(struct oidc_plugin *p);
/* start() of a login without a bearer token: the single sign-on form, or
 * a wait for the provider's endpoints. */
void oidc_browser_start(struct oidc_plugin *p, struct login *l);
/* The fetch ended: a login that waited for the endpoints gets its form. */
void oidc_browser_prompt(struct oidc_plugin *p, struct login *l);
/* cont(): the client's answer to the form (its sso-token). */
void oidc_browser_answer(struct oidc_plugin *p, struct login *l);
void oidc_browser_http(void *state, struct wg_http_call *call, const char *path, const char *query);
/* The login's end: forgets its secrets. */
void oidc_browser_forget(struct login *l);

#endif
