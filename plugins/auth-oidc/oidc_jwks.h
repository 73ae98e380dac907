/* auth-oidc: the provider's signing keys (a JWK Set, RFC 7517 5) and the
 * signature check of a token against them, with libcjose. Loop thread
 * only; the set is parsed from the bytes a worker fetched. */
#ifndef WG_OIDC_JWKS_H
#define WG_OIDC_JWKS_H

#include <stddef.h>

#include "oidc_token.h"

#define OIDC_KEYS_MAX 32

struct oidc_key;

struct oidc_keyset {
	struct oidc_key *keys;
	size_t n;
	size_t skipped; /* keys of the set that cannot verify signatures (oct, enc, unknown) */
};

/* Parses a JWK Set document. Keys that cannot verify an RS/PS/ES signature
 * are skipped; a set left with none is an error. 0, or -1 with why. */
int oidc_keyset_parse(const char *json, size_t len, struct oidc_keyset *ks, char *why, size_t whylen);
void oidc_keyset_clear(struct oidc_keyset *ks);

enum oidc_verify {
	OIDC_VERIFY_OK = 0,
	OIDC_VERIFY_BAD = -1,    /* a key was found and the signature is wrong, or the token is unusable */
	OIDC_VERIFY_NO_KEY = -2, /* no key of the set fits the token's kid and alg: refetch may help */
};

/* Verifies the compact token `compact` (already parsed into t, whose alg
 * the caller allowed) with the key named by its kid, or, for a token
 * without one, with each key of the right type. */
enum oidc_verify oidc_keyset_verify(const struct oidc_keyset *ks, const char *compact, size_t len,
				    const struct oidc_token *t, char *why, size_t whylen);

#endif
