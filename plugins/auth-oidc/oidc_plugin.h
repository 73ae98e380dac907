/* auth-oidc: the plugin's state, shared by its login step (auth_oidc.c),
 * the verdict on tokens (oidc_judge.c), the key fetch (oidc_keys.c) and the
 * browser login (oidc_browser.c). */
#ifndef WG_OIDC_PLUGIN_H
#define WG_OIDC_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <wolfguard/plugin.h>

#include "../common/login_table.h"
#include "oidc_callback.h"
#include "oidc_fetch.h"
#include "oidc_jwks.h"
#include "oidc_seal.h"
#include "oidc_token.h"

#define OIDC_LIST_MAX 16

struct fetch_job;
struct login;

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
	/* A login that waited for the fetch, answered once it ended (set by
	 * auth_oidc.c: the browser login's form, or the token's verdict). */
	void (*fetch_ended)(struct oidc_plugin *p, struct login *l);
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


/* Seconds on the monotonic clock: key ages, the browser login's timeout. */
static inline int64_t oidc_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

#endif
