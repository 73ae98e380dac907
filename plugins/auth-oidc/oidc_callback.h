/* auth-oidc, browser SSO: what comes back over the network, read without
 * I/O so that the fuzz target and the unit tests run it as the plugin does:
 * the query string of the provider's redirect to the server (RFC 6749
 * 4.1.2: code and state, or error), and the token endpoint's JSON answer
 * (RFC 6749 5.1 / 5.2). Also the percent-encoding of the URLs the plugin
 * builds. */
#ifndef WG_OIDC_CALLBACK_H
#define WG_OIDC_CALLBACK_H

#include <stdbool.h>
#include <stddef.h>

#define OIDC_CODE_MAX 2048  /* bytes of an authorization code */
#define OIDC_STATE_MAX 128  /* bytes of a state (ours are 43) */
#define OIDC_ERRTEXT_MAX 200
#define OIDC_ISS_MAX 512

struct oidc_callback {
	char code[OIDC_CODE_MAX + 1];   /* "" when absent */
	char state[OIDC_STATE_MAX + 1]; /* "" when absent */
	char error[OIDC_ERRTEXT_MAX + 1];             /* the provider's error code, "" when none */
	char error_description[OIDC_ERRTEXT_MAX + 1]; /* printable ASCII only (it goes to the log) */
	char iss[OIDC_ISS_MAX + 1]; /* RFC 9207's issuer of the answer, "" when the provider sends none */
};

/* Reads "a=b&c=d" (the part after '?', percent-encoded, '+' a space).
 * Parameters other than code, state, error, error_description and iss are
 * ignored (session_state, ...); each of the five may appear once; code and
 * state must be printable ASCII without spaces. 0, or -1 with why. */
int oidc_callback_parse(const char *query, size_t len, struct oidc_callback *out, char *why, size_t whylen);

/* The token endpoint's answer: the "id_token" of a JSON object (malloc'd
 * into *id_token), or -1 with why (the provider's "error" and
 * "error_description" when it gave them). */
int oidc_token_response_parse(const char *body, size_t len, char **id_token, char *why, size_t whylen);

/* Appends "&name=value" (no '&' when *buf is empty) with value
 * percent-encoded (RFC 3986 unreserved kept). 0, or -1 when it does not
 * fit. */
int oidc_url_param(char *buf, size_t buflen, const char *name, const char *value);
/* Percent-encodes all but the unreserved characters. 0 or -1. */
int oidc_url_encode(char *buf, size_t buflen, const char *value);

#endif
