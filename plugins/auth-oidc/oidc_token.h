/* auth-oidc: reading a compact JWS (a JWT) and judging its claims. Pure
 * functions over bytes the client sent: no I/O, no keys, no clock of their
 * own (the caller passes `now`), so the fuzz target and the unit tests run
 * them as the plugin does. The signature is checked elsewhere (oidc_jwks.c)
 * before any claim is believed. */
#ifndef WG_OIDC_TOKEN_H
#define WG_OIDC_TOKEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OIDC_TOKEN_MAX 12288 /* bytes of a compact token; HTTP headers are 16 KiB in all */
#define OIDC_ALG_MAX 8
#define OIDC_KID_MAX 128
#define OIDC_USER_MAX 127
#define OIDC_GROUPS_MAX 32
#define OIDC_GROUP_MAX 127
#define OIDC_WHY_MAX 256

/* The token's header and claims, decoded but not yet verified. */
struct oidc_token {
	char alg[OIDC_ALG_MAX + 1];
	char kid[OIDC_KID_MAX + 1]; /* "" when the header names none */
	json_t *claims;             /* owned: the payload's JSON object */
};

/* Splits and decodes a compact JWS ("h.p.s", base64url, RFC 7515 7.1):
 * the header must be a JSON object with a string "alg" (any: the caller
 * judges it), an optional string "kid" and no "crit"; the payload a JSON
 * object. 0, or -1 with the reason in why. */
int oidc_token_parse(const char *compact, size_t len, struct oidc_token *t, char *why, size_t whylen);
void oidc_token_clear(struct oidc_token *t);

/* True for non-empty strict base64url (no padding, no stray bits): what
 * may be handed to libcjose, whose decoder aborts on some bad input. */
bool oidc_b64url_valid(const char *s, size_t len);

/* True for an algorithm name the plugin can ever verify with a public key
 * (RS*, PS*, ES*): never "none", never HS* (a shared secret). */
bool oidc_alg_asymmetric(const char *alg);

/* What the claims must say. */
struct oidc_expect {
	const char *issuer;                /* "iss", exactly */
	const char *const *audiences;      /* "aud" (string or array) holds one of these */
	size_t n_audiences;
	int64_t now;                       /* unix seconds */
	int64_t skew;                      /* seconds of clock difference tolerated */
	int64_t max_age;                   /* 0, or "iat" no older than this */
	const char *const *required;       /* "claim" present, or "claim=value" (a string claim equal) */
	size_t n_required;
	const char *user_claim;            /* string claim naming the user */
	const char *groups_claim;          /* string or array of strings; NULL: none */
};

/* What the claims gave. */
struct oidc_identity {
	char user[OIDC_USER_MAX + 1];
	char groups[OIDC_GROUPS_MAX][OIDC_GROUP_MAX + 1];
	size_t n_groups;
	size_t dropped_groups; /* not text, too long, or past the limit */
};

/* Judges the claims of a token whose signature verified. 0, or -1 with
 * the reason (naming the claim) in why. */
int oidc_claims_check(const struct oidc_token *t, const struct oidc_expect *e, struct oidc_identity *id,
		      char *why, size_t whylen);

#endif
