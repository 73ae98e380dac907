/* auth-oidc's readers of outside input (plugins/auth-oidc): the bearer
 * token a client sends (oidc_token.c: base64url parts, header, claims and
 * their rules) and the JWK Set a provider serves (oidc_jwks.c), then the
 * signature check of the one against the other. Input: the token, a
 * newline, the JWK Set. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../plugins/auth-oidc/oidc_jwks.h"
#include "../../plugins/auth-oidc/oidc_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const auds[] = {"wolfguard"};
	static const char *const required[] = {"sub", "email_verified", "acr=mfa"};
	const char *text = (const char *)data;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl ? (size_t)(nl - data) : size;
	struct oidc_token t;
	struct oidc_keyset ks;
	struct oidc_identity id;
	char why[OIDC_WHY_MAX];
	bool have_token = oidc_token_parse(text, tlen, &t, why, sizeof(why)) == 0;
	bool have_keys = nl && oidc_keyset_parse((const char *)nl + 1, size - tlen - 1, &ks, why, sizeof(why)) == 0;

	if (have_token) {
		struct oidc_expect e = {
			.issuer = "https://idp.test/",
			.audiences = auds,
			.n_audiences = 1,
			.now = 1700000000,
			.skew = 60,
			.max_age = 3600,
			.required = required,
			.n_required = 3,
			.user_claim = "preferred_username",
			.groups_claim = "groups",
		};
		oidc_claims_check(&t, &e, &id, why, sizeof(why));
		e.required = NULL;
		e.n_required = 0;
		e.max_age = 0;
		oidc_claims_check(&t, &e, &id, why, sizeof(why));
		if (have_keys)
			oidc_keyset_verify(&ks, text, tlen, &t, why, sizeof(why));
		oidc_token_clear(&t);
	}
	if (have_keys)
		oidc_keyset_clear(&ks);
	return 0;
}
