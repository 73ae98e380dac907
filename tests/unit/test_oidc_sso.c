/* auth-oidc's browser login, the parts without I/O: the provider's
 * redirect query, the token endpoint's answer, the URL encoding, PKCE, and
 * the envelope that carries the one-time token to openconnect's
 * external-browser listener (sealed to a P-256 key made here, opened as
 * openconnect does). The whole flow against the real openconnect and a
 * real provider is tests/e2e/tests-sso.sh. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "oidc_callback.h"
#include "oidc_seal.h"

static int parse(const char *q, struct oidc_callback *cb, char *why)
{
	return oidc_callback_parse(q, strlen(q), cb, why, 256);
}

Test(oidc_sso, callback_code_and_state)
{
	struct oidc_callback cb;
	char why[256];

	/* A space ('+') is not allowed in a code; escapes are decoded. */
	cr_assert_eq(parse("code=abc%2Fd&session_state=x%2By&state=s1&iss=https%3A%2F%2Fidp", &cb, why), 0, "%s", why);
	cr_assert_str_eq(cb.code, "abc/d");
	cr_assert_str_eq(cb.state, "s1");
	cr_assert_str_eq(cb.error, "");
	cr_assert_str_eq(cb.iss, "https://idp", "RFC 9207's iss is kept");
}

Test(oidc_sso, callback_error)
{
	struct oidc_callback cb;
	char why[256];

	cr_assert_eq(parse("error=access_denied&error_description=The+user+said+no&state=s", &cb, why), 0);
	cr_assert_str_eq(cb.error, "access_denied");
	cr_assert_str_eq(cb.error_description, "The user said no");
}

Test(oidc_sso, callback_refusals)
{
	struct oidc_callback cb;
	char why[256];

	cr_assert_eq(parse("code=a&code=b&state=s", &cb, why), -1);
	cr_assert(strstr(why, "\"code\" given twice"), "%s", why);
	cr_assert_eq(parse("code=a%2&state=s", &cb, why), -1, "cut escape");
	cr_assert_eq(parse("code=a%zz&state=s", &cb, why), -1, "bad escape");
	cr_assert_eq(parse("code=a%00b&state=s", &cb, why), -1, "NUL");
	cr_assert_eq(parse("code=a%0Ab&state=s", &cb, why), -1, "line break");
	cr_assert_eq(parse("code=a+b&state=s", &cb, why), -1, "a space in the code");
	cr_assert_eq(parse("code=a", &cb, why), -1, "no state");
	cr_assert_eq(parse("state=s", &cb, why), -1, "no code");
	cr_assert_eq(parse("", &cb, why), -1);
	cr_assert_eq(parse("=x&code=a&state=s", &cb, why), -1, "no name");
	cr_assert_eq(parse("code=a&state=s&iss=x&iss=y", &cb, why), -1, "two issuers");
	char big[OIDC_CODE_MAX + 32] = "state=s&code=";
	memset(big + strlen(big), 'a', OIDC_CODE_MAX + 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(parse(big, &cb, why), -1, "code too long");
}

Test(oidc_sso, token_response)
{
	char why[256], *tok = NULL;
	const char ok[] = "{\"access_token\":\"x\",\"id_token\":\"h.p.s\",\"token_type\":\"Bearer\"}";
	const char err[] = "{\"error\":\"invalid_grant\",\"error_description\":\"bad verifier\"}";

	cr_assert_eq(oidc_token_response_parse(ok, strlen(ok), &tok, why, sizeof(why)), 0);
	cr_assert_str_eq(tok, "h.p.s");
	free(tok);
	cr_assert_eq(oidc_token_response_parse(err, strlen(err), &tok, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "the token endpoint refused the code: invalid_grant: bad verifier");
	cr_assert_null(tok);
	cr_assert_eq(oidc_token_response_parse("{\"access_token\":\"x\"}", 20, &tok, why, sizeof(why)), -1);
	cr_assert(strstr(why, "no \"id_token\""));
	cr_assert_eq(oidc_token_response_parse("[1]", 3, &tok, why, sizeof(why)), -1);
	cr_assert_eq(oidc_token_response_parse("{\"id_token\":\"a\",\"id_token\":\"b\"}", 31, &tok, why, sizeof(why)), -1,
		     "duplicate keys");
}

Test(oidc_sso, url_encoding)
{
	char buf[256] = "";

	cr_assert_eq(oidc_url_param(buf, sizeof(buf), "redirect_uri", "https://vpn.test/+wolfguard+/a?b=c d"), 0);
	cr_assert_eq(oidc_url_param(buf, sizeof(buf), "scope", "openid email"), 0);
	cr_assert_str_eq(buf, "redirect_uri=https%3A%2F%2Fvpn.test%2F%2Bwolfguard%2B%2Fa%3Fb%3Dc%20d&scope=openid%20email");
	char small[8] = "";
	cr_assert_eq(oidc_url_param(small, sizeof(small), "a", "bcdefgh"), -1);
}

Test(oidc_sso, pkce_s256)
{
	char c[OIDC_SECRET_LEN + 1], v[OIDC_SECRET_LEN + 1], s[OIDC_SECRET_LEN + 1];

	/* Python's hashlib + base64 of the same verifier. */
	cr_assert_eq(oidc_pkce_challenge("dBjftJeZ4CVP-mJ92K9MeV4kYQnoVhn8bJrbEZ0zeYk", c), 0);
	cr_assert_str_eq(c, "6387bZadtTXZ5xO_EWV7F8XAj9KhJ_kuCsZZoguB5LE");
	cr_assert_eq(oidc_random_b64url(v), 0);
	cr_assert_eq(oidc_random_b64url(s), 0);
	cr_assert_eq(strlen(v), OIDC_SECRET_LEN);
	cr_assert_str_neq(v, s);
	cr_assert_eq(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), OIDC_SECRET_LEN);
}

Test(oidc_sso, token_alnum)
{
	char t[OIDC_SSO_TOKEN_LEN + 1];

	cr_assert_eq(oidc_random_alnum(t), 0);
	cr_assert_eq(strlen(t), OIDC_SSO_TOKEN_LEN);
	cr_assert_eq(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), OIDC_SSO_TOKEN_LEN);
}

/* A client key pair as openconnect makes it: the header value (base64 DER
 * SPKI) and the private key (DER). */
static EVP_PKEY *client_key(char *header, size_t hlen, unsigned char *priv, size_t *plen)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	unsigned char *der = NULL, *pd = NULL;
	int n, m;

	cr_assert(k);
	n = i2d_PUBKEY(k, &der);
	cr_assert(n > 0 && (size_t)(n + 2) / 3 * 4 < hlen);
	EVP_EncodeBlock((unsigned char *)header, der, n);
	m = i2d_PrivateKey(k, &pd);
	cr_assert(m > 0 && (size_t)m <= *plen);
	memcpy(priv, pd, (size_t)m);
	*plen = (size_t)m;
	OPENSSL_free(der);
	OPENSSL_free(pd);
	return k;
}

Test(oidc_sso, seal_opens_with_the_client_key_only)
{
	char header[256], other_header[256], blob[OIDC_BLOB_B64_MAX], out[128], why[256];
	unsigned char priv[256], other_priv[256];
	size_t plen = sizeof(priv), oplen = sizeof(other_priv);
	EVP_PKEY *k = client_key(header, sizeof(header), priv, &plen);
	EVP_PKEY *o = client_key(other_header, sizeof(other_header), other_priv, &oplen);

	cr_assert_eq(oidc_seal_token(header, "Abc123xyz", blob, sizeof(blob), why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(oidc_unseal_token(priv, plen, blob, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "Abc123xyz");
	cr_assert_eq(oidc_unseal_token(other_priv, oplen, blob, out, sizeof(out)), -1, "another key opens it");
	/* A flipped ciphertext byte fails the tag. */
	blob[strlen(blob) - 30] ^= 1;
	cr_assert_eq(oidc_unseal_token(priv, plen, blob, out, sizeof(out)), -1);
	EVP_PKEY_free(k);
	EVP_PKEY_free(o);
}

Test(oidc_sso, seal_refuses_bad_keys)
{
	char blob[OIDC_BLOB_B64_MAX], why[256];
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	unsigned char *der = NULL;
	char header[1024];
	int n = i2d_PUBKEY(rsa, &der);

	EVP_EncodeBlock((unsigned char *)header, der, n);
	OPENSSL_free(der);
	EVP_PKEY_free(rsa);
	cr_assert_eq(oidc_seal_token("", "t", blob, sizeof(blob), why, sizeof(why)), -1);
	cr_assert_eq(oidc_seal_token("not base64!", "t", blob, sizeof(blob), why, sizeof(why)), -1);
	cr_assert_eq(oidc_seal_token("AAAA", "t", blob, sizeof(blob), why, sizeof(why)), -1);
	cr_assert_eq(oidc_seal_token(header, "t", blob, sizeof(blob), why, sizeof(why)), -1, "an RSA key");
	cr_assert(strstr(why, "not a P-256 public key"), "%s", why);
}
