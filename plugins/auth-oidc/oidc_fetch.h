/* auth-oidc: fetching the provider's keys over HTTPS with libcurl: the
 * discovery document (OpenID Connect Discovery 1.0, section 4), then the
 * JWK Set its "jwks_uri" names. Blocking: runs only on a host worker
 * thread (run_blocking), touching nothing but its own request and result. */
#ifndef WG_OIDC_FETCH_H
#define WG_OIDC_FETCH_H

#include <stddef.h>

#define OIDC_DOC_MAX (256 * 1024) /* bytes of a discovery document or a JWK Set */
#define OIDC_URL_MAX 1024

struct oidc_fetch_request {
	char issuer[OIDC_URL_MAX];        /* the discovery document must name it */
	char discovery_url[OIDC_URL_MAX]; /* "" when jwks_uri is set */
	char jwks_uri[OIDC_URL_MAX];      /* "" to learn it from discovery */
	char ca_file[OIDC_URL_MAX];       /* "" for the system's trust store */
	long timeout_s;
	int want_endpoints;               /* read discovery even with jwks_uri set (browser SSO) */
};

struct oidc_fetch_result {
	char *jwks;    /* malloc'd, NUL-terminated; NULL on failure */
	size_t jwks_len;
	char jwks_uri[OIDC_URL_MAX]; /* where the set came from */
	char authorization_endpoint[OIDC_URL_MAX]; /* from discovery, "" when none */
	char token_endpoint[OIDC_URL_MAX];
	char why[512]; /* on failure: what went wrong, for the log */
};

/* Does the whole fetch; 0, or -1 with r->why set. */
int oidc_fetch_keys(const struct oidc_fetch_request *q, struct oidc_fetch_result *r);

#define OIDC_CLIENT_MAX 256

/* The browser login's code exchanged at the token endpoint (RFC 6749
 * 4.1.3): POST form with the client's credentials. */
struct oidc_exchange {
	char token_endpoint[OIDC_URL_MAX];
	char client_id[OIDC_CLIENT_MAX];
	char client_secret[OIDC_CLIENT_MAX];
	char form[4096];   /* grant_type=authorization_code&code=...&redirect_uri=...&code_verifier=... */
	char *answer;      /* malloc'd body, whatever the status (errors are JSON too) */
	size_t answer_len;
	char why[512];     /* on failure */
};

/* Blocking, on a worker: 0 with x->answer, or -1 with x->why. */
int oidc_fetch_exchange(const struct oidc_fetch_request *q, struct oidc_exchange *x);

/* Once per process, from the loop thread (curl_global_init). */
int oidc_fetch_global_init(void);
void oidc_fetch_global_cleanup(void);

#endif
