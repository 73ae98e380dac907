/* auth-oidc's token reading, signature check and claim rules, with keys
 * made here (RSA 2048 and EC P-256 by libcjose) and tokens signed by them:
 * valid, expired, not yet valid, wrong audience, wrong issuer, tampered,
 * unsigned (alg none), HMAC, unknown kid, a key of the wrong type. */
#include <cjose/cjose.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oidc_jwks.h"
#include "oidc_token.h"

#define ISS "https://idp.test/"
#define AUD "wolfguard"

static cjose_jwk_t *rsa_key, *ec_key, *other_rsa;
static char jwks[16384];
static struct oidc_keyset ks;

static cjose_jwk_t *with_kid(cjose_jwk_t *k, const char *kid)
{
	cjose_err err;

	cr_assert(k);
	cr_assert(cjose_jwk_set_kid(k, kid, strlen(kid), &err));
	return k;
}

static void setup(void)
{
	static const uint8_t e[] = {1, 0, 1};
	cjose_err err;
	char *r, *ec;
	char why[OIDC_WHY_MAX];

	rsa_key = with_kid(cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err), "rsa1");
	ec_key = with_kid(cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err), "ec1");
	other_rsa = with_kid(cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err), "rsa-unknown");
	r = cjose_jwk_to_json(rsa_key, false, &err);
	ec = cjose_jwk_to_json(ec_key, false, &err);
	cr_assert(r && ec);
	/* An oct key in the set must never be used (HMAC with a shared secret). */
	snprintf(jwks, sizeof(jwks), "{\"keys\":[%s,%s,{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"c2VjcmV0\"}]}", r, ec);
	free(r);
	free(ec);
	cr_assert_eq(oidc_keyset_parse(jwks, strlen(jwks), &ks, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(ks.n, 2);
	cr_assert_eq(ks.skipped, 1);
}

static void teardown(void)
{
	oidc_keyset_clear(&ks);
	cjose_jwk_release(rsa_key);
	cjose_jwk_release(ec_key);
	cjose_jwk_release(other_rsa);
}

/* A compact token signed by key with alg over the given claims (JSON). */
static char *sign(cjose_jwk_t *key, const char *alg, const char *kid, const char *claims)
{
	cjose_err err;
	cjose_header_t *h = cjose_header_new(&err);
	cjose_jws_t *jws;
	const char *ser;
	char *out;

	cr_assert(cjose_header_set(h, CJOSE_HDR_ALG, alg, &err));
	if (kid)
		cr_assert(cjose_header_set(h, CJOSE_HDR_KID, kid, &err));
	jws = cjose_jws_sign(key, h, (const uint8_t *)claims, strlen(claims), &err);
	cr_assert(jws, "sign: %s", err.message);
	cr_assert(cjose_jws_export(jws, &ser, &err));
	out = strdup(ser);
	cjose_jws_release(jws);
	cjose_header_release(h);
	return out;
}

static char *claims_json(const char *iss, const char *aud, long exp_in, long nbf_in)
{
	char *s = malloc(1024);
	long now = (long)time(NULL);

	snprintf(s, 1024,
		 "{\"iss\":\"%s\",\"aud\":%s,\"sub\":\"1234\",\"preferred_username\":\"alice\","
		 "\"groups\":[\"staff\",\"admins\",7,\"staff\"],\"exp\":%ld,\"nbf\":%ld,\"iat\":%ld}",
		 iss, aud, now + exp_in, now + nbf_in, now - 5);
	return s;
}

static struct oidc_expect expect(void)
{
	static const char *const auds[] = {"other-client", AUD};
	struct oidc_expect e = {
		.issuer = ISS,
		.audiences = auds,
		.n_audiences = 2,
		.now = (int64_t)time(NULL),
		.skew = 30,
		.user_claim = "preferred_username",
		.groups_claim = "groups",
	};
	return e;
}

/* Parse, verify and check: 0 when accepted; why says why not. */
static int judge(const char *tok, struct oidc_identity *id, char *why, size_t whylen, enum oidc_verify *v)
{
	struct oidc_token t;
	struct oidc_expect e = expect();
	int rc;

	*v = OIDC_VERIFY_BAD;
	if (oidc_token_parse(tok, strlen(tok), &t, why, whylen) < 0)
		return -1;
	*v = oidc_keyset_verify(&ks, tok, strlen(tok), &t, why, whylen);
	rc = *v == OIDC_VERIFY_OK ? oidc_claims_check(&t, &e, id, why, whylen) : -1;
	oidc_token_clear(&t);
	return rc;
}

TestSuite(oidc, .init = setup, .fini = teardown);

Test(oidc, valid_rs256_gives_user_and_groups)
{
	char *c = claims_json(ISS, "\"" AUD "\"", 300, -10), *tok = sign(rsa_key, CJOSE_HDR_ALG_RS256, "rsa1", c);
	struct oidc_identity id;
	char why[OIDC_WHY_MAX] = "";
	enum oidc_verify v;

	cr_assert_eq(judge(tok, &id, why, sizeof(why), &v), 0, "%s", why);
	cr_assert_str_eq(id.user, "alice");
	cr_assert_eq(id.n_groups, 2); /* "staff" once; 7 is not a group */
	cr_assert_str_eq(id.groups[0], "staff");
	cr_assert_str_eq(id.groups[1], "admins");
	cr_assert_eq(id.dropped_groups, 1);
	free(c);
	free(tok);
}

Test(oidc, valid_es256_and_audience_array)
{
	char *c = claims_json(ISS, "[\"x\",\"" AUD "\"]", 300, 0), *tok = sign(ec_key, CJOSE_HDR_ALG_ES256, "ec1", c);
	struct oidc_identity id;
	char why[OIDC_WHY_MAX] = "";
	enum oidc_verify v;

	cr_assert_eq(judge(tok, &id, why, sizeof(why), &v), 0, "%s", why);
	free(c);
	free(tok);
}

static void refused(const char *tok, enum oidc_verify want_v, const char *want_why)
{
	struct oidc_identity id;
	char why[OIDC_WHY_MAX] = "";
	enum oidc_verify v;

	cr_assert_eq(judge(tok, &id, why, sizeof(why), &v), -1, "accepted; wanted: %s", want_why);
	cr_assert_eq(v, want_v, "verify %d, wanted %d (%s)", v, want_v, why);
	cr_assert(strstr(why, want_why), "why \"%s\" lacks \"%s\"", why, want_why);
}

Test(oidc, expired_refused)
{
	char *c = claims_json(ISS, "\"" AUD "\"", -120, -600), *tok = sign(rsa_key, CJOSE_HDR_ALG_RS256, "rsa1", c);
	refused(tok, OIDC_VERIFY_OK, "token expired");
	free(c);
	free(tok);
}

Test(oidc, expired_within_skew_accepted)
{
	char *c = claims_json(ISS, "\"" AUD "\"", -10, -600), *tok = sign(rsa_key, CJOSE_HDR_ALG_RS256, "rsa1", c);
	struct oidc_identity id;
	char why[OIDC_WHY_MAX] = "";
	enum oidc_verify v;

	cr_assert_eq(judge(tok, &id, why, sizeof(why), &v), 0, "%s", why);
	free(c);
	free(tok);
}

Test(oidc, not_yet_valid_refused)
{
	char *c = claims_json(ISS, "\"" AUD "\"", 900, 600), *tok = sign(rsa_key, CJOSE_HDR_ALG_RS256, "rsa1", c);
	refused(tok, OIDC_VERIFY_OK, "not valid before");
	free(c);
	free(tok);
}

Test(oidc, wrong_audience_refused)
{
	char *c = claims_json(ISS, "\"someone-else\"", 300, 0), *tok = sign(rsa_key, CJOSE_HDR_ALG_RS256, "rsa1", c);
	refused(tok, OIDC_VERIFY_OK, "audience \"someone-else\" is not ours");
	free(c);
	free(tok);
}

Test(oidc, wrong_issuer_refused)
{
	char *c = claims_json("https://evil.test/", "\"" AUD "\"", 300, 0),
	     *tok = sign(rsa_key, CJOSE_HDR_ALG_RS256, "rsa1", c);
	refused(tok, OIDC_VERIFY_OK, "issuer \"https://evil.test/\"");
	free(c);
	free(tok);
}

/* The payload changed after signing (alice -> mallory, same length class). */
Test(oidc, tampered_refused)
{
	char *c = claims_json(ISS, "\"" AUD "\"", 300, 0), *tok = sign(rsa_key, CJOSE_HDR_ALG_RS256, "rsa1", c);
	char *evil = claims_json(ISS, "\"" AUD "\"", 300, 0), *p;
	char *dot1 = strchr(tok, '.'), *dot2 = strchr(dot1 + 1, '.');
	size_t elen;
	uint8_t *unused = NULL;
	char *b64 = NULL;
	cjose_err err;
	char forged[8192];

	(void)unused;
	p = strstr(evil, "alice");
	memcpy(p, "admin", 5);
	cr_assert(cjose_base64url_encode((const uint8_t *)evil, strlen(evil), &b64, &elen, &err));
	snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(dot1 - tok), tok, b64, dot2);
	refused(forged, OIDC_VERIFY_BAD, "bad signature");
	cjose_get_dealloc()(b64);
	free(c);
	free(evil);
	free(tok);
}

/* RFC 7519 6.1's unsecured JWT: header {"alg":"none"}, empty signature. */
Test(oidc, alg_none_refused)
{
	char *c = claims_json(ISS, "\"" AUD "\"", 300, 0), *b64 = NULL, tok[4096];
	size_t elen;
	cjose_err err;

	cr_assert(cjose_base64url_encode((const uint8_t *)c, strlen(c), &b64, &elen, &err));
	/* eyJhbGciOiJub25lIn0 is {"alg":"none"} */
	snprintf(tok, sizeof(tok), "eyJhbGciOiJub25lIn0.%s.", b64);
	refused(tok, OIDC_VERIFY_BAD, "no signature");
	/* The same with a signature part that is not empty. */
	snprintf(tok, sizeof(tok), "eyJhbGciOiJub25lIn0.%s.AAAA", b64);
	refused(tok, OIDC_VERIFY_BAD, "not a public-key signature");
	cr_assert_not(oidc_alg_asymmetric("none"));
	cjose_get_dealloc()(b64);
	free(c);
}

/* HS256 "signed" with the RSA key's public modulus as the secret: the
 * classic algorithm confusion. Refused on the algorithm alone. */
Test(oidc, hmac_refused)
{
	cjose_err err;
	cjose_jwk_t *oct = cjose_jwk_create_oct_spec((const uint8_t *)"public-key-bytes-as-secret", 26, &err);
	char *c = claims_json(ISS, "\"" AUD "\"", 300, 0), *tok = sign(oct, CJOSE_HDR_ALG_HS256, "rsa1", c);

	refused(tok, OIDC_VERIFY_BAD, "not a public-key signature");
	cr_assert_not(oidc_alg_asymmetric("HS256"));
	cjose_jwk_release(oct);
	free(c);
	free(tok);
}

Test(oidc, unknown_kid_asks_for_a_refetch)
{
	char *c = claims_json(ISS, "\"" AUD "\"", 300, 0), *tok = sign(other_rsa, CJOSE_HDR_ALG_RS256, "rsa-unknown", c);
	refused(tok, OIDC_VERIFY_NO_KEY, "no key \"rsa-unknown\"");
	free(c);
	free(tok);
}

/* A token naming the EC key's kid but signed as RS256. */
Test(oidc, key_of_wrong_type_refused)
{
	char *c = claims_json(ISS, "\"" AUD "\"", 300, 0), *tok = sign(rsa_key, CJOSE_HDR_ALG_RS256, "ec1", c);
	refused(tok, OIDC_VERIFY_BAD, "not a key for RS256");
	free(c);
	free(tok);
}

Test(oidc, required_claims)
{
	char *c = claims_json(ISS, "\"" AUD "\"", 300, 0), *tok = sign(rsa_key, CJOSE_HDR_ALG_RS256, "rsa1", c);
	struct oidc_token t;
	struct oidc_expect e = expect();
	struct oidc_identity id;
	char why[OIDC_WHY_MAX];
	const char *ok[] = {"sub", "sub=1234"}, *missing[] = {"email"}, *wrong[] = {"sub=999"};

	cr_assert_eq(oidc_token_parse(tok, strlen(tok), &t, why, sizeof(why)), 0);
	e.required = ok;
	e.n_required = 2;
	cr_assert_eq(oidc_claims_check(&t, &e, &id, why, sizeof(why)), 0, "%s", why);
	e.required = missing;
	e.n_required = 1;
	cr_assert_eq(oidc_claims_check(&t, &e, &id, why, sizeof(why)), -1);
	cr_assert(strstr(why, "lacks the required claim \"email\""), "%s", why);
	e.required = wrong;
	cr_assert_eq(oidc_claims_check(&t, &e, &id, why, sizeof(why)), -1);
	cr_assert(strstr(why, "\"sub\" is not \"999\""), "%s", why);
	oidc_token_clear(&t);
	free(c);
	free(tok);
}

Test(oidc, malformed_tokens_refused_by_the_parser)
{
	static const char *const bad[] = {
		"", "abc", "a.b", "a.b.c.d", ".eyJ9.sig", "eyJhbGciOiJSUzI1NiJ9..sig",
		"eyJhbGciOiJSUzI1NiJ9.e30=.sig",              /* padding is not base64url */
		"e30.e30.sig",                                  /* header without alg */
		"eyJhbGciOjF9.e30.sig",                          /* alg not a string */
		"eyJhbGciOiJSUzI1NiIsImFsZyI6Im5vbmUifQ.e30.sig", /* two "alg" */
		"eyJhbGciOiJSUzI1NiIsImNyaXQiOlsiYiJdfQ.e30.sig", /* crit */
		"eyJhbGciOiJSUzI1NiJ9.WzFd.sig",                 /* payload an array */
		"eyJhbGciOiJSUzI1NiJ9.e30.abcde",                /* signature 1 mod 4: libcjose would abort */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct oidc_token t;
		char why[OIDC_WHY_MAX] = "";
		cr_assert_eq(oidc_token_parse(bad[i], strlen(bad[i]), &t, why, sizeof(why)), -1, "accepted \"%s\"", bad[i]);
		cr_assert(why[0]);
		cr_assert_null(t.claims);
	}
}

Test(oidc, keyset_errors)
{
	struct oidc_keyset k;
	char why[OIDC_WHY_MAX];

	cr_assert_eq(oidc_keyset_parse("[]", 2, &k, why, sizeof(why)), -1);
	cr_assert_eq(oidc_keyset_parse("{\"keys\":[]}", 11, &k, why, sizeof(why)), -1);
	cr_assert(strstr(why, "no RSA or EC signing key"), "%s", why);
	const char *enc = "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}";
	cr_assert_eq(oidc_keyset_parse(enc, strlen(enc), &k, why, sizeof(why)), -1);
}

/* The "header.payload" form a provider writes for alg none is named. */
Test(oidc, two_part_unsigned_token_named)
{
	struct oidc_token t;
	char why[OIDC_WHY_MAX] = "";
	const char *tok = "eyJhbGciOiJub25lIn0.e30";

	cr_assert_eq(oidc_token_parse(tok, strlen(tok), &t, why, sizeof(why)), -1);
	cr_assert(strstr(why, "unsigned (alg \"none\""), "%s", why);
}

/* Values libcjose would abort on are refused before it sees them. */
Test(oidc, malformed_jwk_values_skipped)
{
	struct oidc_keyset k;
	char why[OIDC_WHY_MAX];
	const char *bad_n = "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"abcde\",\"e\":\"AQAB\"}]}";
	const char *priv = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAB\",\"y\":\"AQAB\",\"d\":\"AQAB\"}]}";

	cr_assert_eq(oidc_keyset_parse(bad_n, strlen(bad_n), &k, why, sizeof(why)), -1);
	cr_assert_eq(oidc_keyset_parse(priv, strlen(priv), &k, why, sizeof(why)), -1);
	cr_assert(oidc_b64url_valid("AQAB", 4));
	cr_assert_not(oidc_b64url_valid("AQA=", 4));
	cr_assert_not(oidc_b64url_valid("abcde", 5));
}
