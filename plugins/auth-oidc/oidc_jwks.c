/* auth-oidc: JWK Set parsing and signature verification (see oidc_jwks.h).
 * libcjose does the cryptography; this file decides which key may check
 * which token: the key's type must be the one the algorithm needs (RSA for
 * RS and PS, EC on the matching curve for ES), a key that names its "alg"
 * or "use" must agree, and a token naming a kid is checked with that key
 * only. So a token cannot pick HMAC with an RSA public key as secret. */
#include "oidc_jwks.h"

#include <cjose/cjose.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct oidc_key {
	char kid[OIDC_KID_MAX + 1];
	char alg[OIDC_ALG_MAX + 1]; /* "" when the key does not say */
	char crv[16];               /* EC keys */
	cjose_jwk_kty_t kty;
	cjose_jwk_t *jwk;
};

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool b64_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) && oidc_b64url_valid(json_string_value(v), json_string_length(v));
}

/* One key of the set, or false when it is not for verifying signatures. */
static bool key_import(json_t *o, struct oidc_key *k)
{
	const char *kty = jstr(o, "kty"), *use = jstr(o, "use"), *kid = jstr(o, "kid"), *alg = jstr(o, "alg");
	const char *crv = jstr(o, "crv");
	cjose_err err;

	memset(k, 0, sizeof(*k));
	if (!kty || (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0))
		return false; /* "oct" (a shared secret) never verifies a token here */
	if (use && strcmp(use, "sig") != 0)
		return false;
	if (alg && !oidc_alg_asymmetric(alg))
		return false;
	if ((kid && strlen(kid) > OIDC_KID_MAX) || (crv && strlen(crv) >= sizeof(k->crv)))
		return false;
	/* A published set holds public keys only; and libcjose 0.6 aborts on
	 * some malformed base64url, so each value it decodes is checked first
	 * (found by fuzz_oidc_token). */
	if (json_object_get(o, "d"))
		return false;
	if (strcmp(kty, "RSA") == 0 ? !b64_member(o, "n") || !b64_member(o, "e")
				    : !crv || !b64_member(o, "x") || !b64_member(o, "y"))
		return false;
	k->jwk = cjose_jwk_import_json((cjose_header_t *)o, &err);
	if (!k->jwk)
		return false;
	k->kty = cjose_jwk_get_kty(k->jwk, &err);
	snprintf(k->kid, sizeof(k->kid), "%s", kid ? kid : "");
	snprintf(k->alg, sizeof(k->alg), "%s", alg ? alg : "");
	snprintf(k->crv, sizeof(k->crv), "%s", crv ? crv : "");
	return true;
}

int oidc_keyset_parse(const char *json, size_t len, struct oidc_keyset *ks, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr), *keys, *o;
	size_t i;

	memset(ks, 0, sizeof(*ks));
	if (!doc || !json_is_object(doc)) {
		json_decref(doc);
		snprintf(why, whylen, "the JWK Set is not a JSON object");
		return -1;
	}
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys)) {
		json_decref(doc);
		snprintf(why, whylen, "the JWK Set has no \"keys\" array");
		return -1;
	}
	ks->keys = calloc(OIDC_KEYS_MAX, sizeof(*ks->keys));
	if (!ks->keys) {
		json_decref(doc);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	json_array_foreach(keys, i, o) {
		if (ks->n < OIDC_KEYS_MAX && json_is_object(o) && key_import(o, &ks->keys[ks->n]))
			ks->n++;
		else
			ks->skipped++;
	}
	json_decref(doc);
	if (ks->n == 0) {
		snprintf(why, whylen, "the JWK Set has no RSA or EC signing key (%zu skipped)", ks->skipped);
		oidc_keyset_clear(ks);
		return -1;
	}
	return 0;
}

void oidc_keyset_clear(struct oidc_keyset *ks)
{
	for (size_t i = 0; ks->keys && i < ks->n; i++)
		cjose_jwk_release(ks->keys[i].jwk);
	free(ks->keys);
	memset(ks, 0, sizeof(*ks));
}

/* The key may check a token signed with alg. */
static bool key_fits(const struct oidc_key *k, const char *alg)
{
	if (k->alg[0] && strcmp(k->alg, alg) != 0)
		return false;
	if (alg[0] == 'R' || alg[0] == 'P')
		return k->kty == CJOSE_JWK_KTY_RSA;
	if (alg[0] != 'E' || k->kty != CJOSE_JWK_KTY_EC)
		return false;
	/* RFC 7518 3.4: each ES algorithm has its own curve. */
	return (strcmp(alg, "ES256") == 0 && strcmp(k->crv, "P-256") == 0) ||
	       (strcmp(alg, "ES384") == 0 && strcmp(k->crv, "P-384") == 0) ||
	       (strcmp(alg, "ES512") == 0 && strcmp(k->crv, "P-521") == 0);
}

enum oidc_verify oidc_keyset_verify(const struct oidc_keyset *ks, const char *compact, size_t len,
				    const struct oidc_token *t, char *why, size_t whylen)
{
	cjose_err err;
	cjose_jws_t *jws;
	size_t tried = 0;
	bool ok = false;

	if (!oidc_alg_asymmetric(t->alg)) {
		snprintf(why, whylen, "token algorithm \"%s\" is not a public-key signature", t->alg);
		return OIDC_VERIFY_BAD;
	}
	jws = cjose_jws_import(compact, len, &err);
	if (!jws) {
		snprintf(why, whylen, "token is not a JWS libcjose can read (%s)", err.message ? err.message : "?");
		return OIDC_VERIFY_BAD;
	}
	for (size_t i = 0; i < ks->n && !ok; i++) {
		const struct oidc_key *k = &ks->keys[i];
		if (t->kid[0] ? strcmp(k->kid, t->kid) != 0 : false)
			continue;
		if (!key_fits(k, t->alg)) {
			if (t->kid[0]) {
				cjose_jws_release(jws);
				snprintf(why, whylen, "key \"%s\" is not a key for %s", t->kid, t->alg);
				return OIDC_VERIFY_BAD;
			}
			continue;
		}
		tried++;
		ok = cjose_jws_verify(jws, k->jwk, &err);
	}
	cjose_jws_release(jws);
	if (ok)
		return OIDC_VERIFY_OK;
	if (!tried) {
		if (t->kid[0])
			snprintf(why, whylen, "no key \"%s\" in the provider's JWK Set", t->kid);
		else
			snprintf(why, whylen, "no %s key in the provider's JWK Set", t->alg);
		return OIDC_VERIFY_NO_KEY;
	}
	snprintf(why, whylen, "bad signature (%s, key %s)", t->alg, t->kid[0] ? t->kid : "without kid");
	return OIDC_VERIFY_BAD;
}
