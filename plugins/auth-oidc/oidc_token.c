/* auth-oidc: the compact token's parts and its claims (see oidc_token.h). */
#include "oidc_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Strict base64url without padding (RFC 7515 2): any other character, a
 * length of 1 mod 4, or non-zero bits left over refuse the input, so one
 * token has exactly one spelling. Returns the decoded length, or -1. */
static long b64url_decode(const char *in, size_t len, unsigned char *out, size_t outlen)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outlen)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (bits && (acc & ((1u << bits) - 1)))
		return -1;
	return (long)n;
}

bool oidc_b64url_valid(const char *s, size_t len)
{
	unsigned char *buf = malloc(len + 1);
	long n = buf ? b64url_decode(s, len, buf, len) : -1;

	free(buf);
	return n > 0;
}

/* A JSON object from one base64url part. NULL with why set. */
static json_t *decode_object(const char *part, size_t len, const char *what, char *why, size_t whylen)
{
	unsigned char *buf = malloc(len + 1);
	long n;
	json_t *j;
	json_error_t jerr;

	if (!buf) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	n = b64url_decode(part, len, buf, len);
	if (n < 0) {
		free(buf);
		snprintf(why, whylen, "token %s is not base64url", what);
		return NULL;
	}
	/* No duplicate keys: two "alg" or two "aud" would let the signer and
	 * this reader see different values. */
	j = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		snprintf(why, whylen, "token %s is not a JSON object", what);
		return NULL;
	}
	return j;
}

static int copy_string(json_t *obj, const char *key, char *out, size_t outlen, bool required, char *why,
		       size_t whylen)
{
	json_t *v = json_object_get(obj, key);

	out[0] = '\0';
	if (!v) {
		if (required)
			snprintf(why, whylen, "token header has no \"%s\"", key);
		return required ? -1 : 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= outlen ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(why, whylen, "token header \"%s\" is not a string of 1 to %zu bytes", key, outlen - 1);
		return -1;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int oidc_token_parse(const char *compact, size_t len, struct oidc_token *t, char *why, size_t whylen)
{
	const char *dot1, *dot2;
	json_t *hdr;

	memset(t, 0, sizeof(*t));
	if (len == 0 || len > OIDC_TOKEN_MAX) {
		snprintf(why, whylen, "token length %zu is not 1 to %d bytes", len, OIDC_TOKEN_MAX);
		return -1;
	}
	dot1 = memchr(compact, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - compact)) : NULL;
	if (dot1 && !dot2 && dot1 != compact) {
		/* "header.payload": an unsecured JWT as some providers write one
		 * for alg "none" (RFC 7519 6.1 keeps the last dot); name it. */
		hdr = decode_object(compact, (size_t)(dot1 - compact), "header", why, whylen);
		if (hdr && copy_string(hdr, "alg", t->alg, sizeof(t->alg), true, why, whylen) == 0)
			snprintf(why, whylen, "token is unsigned (alg \"%s\", no signature part)", t->alg);
		json_decref(hdr);
		return -1;
	}
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - compact))) {
		snprintf(why, whylen, "token is not a compact JWS (three dot-separated parts)");
		return -1;
	}
	if (dot1 == compact || dot2 == dot1 + 1) {
		snprintf(why, whylen, "token has an empty header or payload");
		return -1;
	}
	hdr = decode_object(compact, (size_t)(dot1 - compact), "header", why, whylen);
	if (!hdr)
		return -1;
	if (copy_string(hdr, "alg", t->alg, sizeof(t->alg), true, why, whylen) < 0 ||
	    copy_string(hdr, "kid", t->kid, sizeof(t->kid), false, why, whylen) < 0) {
		json_decref(hdr);
		return -1;
	}
	/* Extensions the signer marked critical (RFC 7515 4.1.11) are ones
	 * this reader does not know, so the token must be refused. */
	if (json_object_get(hdr, "crit")) {
		json_decref(hdr);
		snprintf(why, whylen, "token header has \"crit\" extensions");
		return -1;
	}
	json_decref(hdr);
	t->claims = decode_object(dot1 + 1, (size_t)(dot2 - dot1 - 1), "payload", why, whylen);
	if (!t->claims)
		return -1;
	if (dot2 + 1 == compact + len) {
		json_decref(t->claims);
		t->claims = NULL;
		snprintf(why, whylen, "token has no signature (alg \"%s\")", t->alg);
		return -1;
	}
	/* The signature is checked strictly here too: libcjose 0.6's decoder
	 * asserts (aborts the process) on a part whose length is 1 mod 4, so
	 * nothing it would choke on may reach cjose_jws_import (found by
	 * fuzz_oidc_token). */
	if (!oidc_b64url_valid(dot2 + 1, len - (size_t)(dot2 + 1 - compact))) {
		json_decref(t->claims);
		t->claims = NULL;
		snprintf(why, whylen, "token signature is not base64url");
		return -1;
	}
	return 0;
}

void oidc_token_clear(struct oidc_token *t)
{
	json_decref(t->claims);
	memset(t, 0, sizeof(*t));
}

bool oidc_alg_asymmetric(const char *alg)
{
	static const char *const known[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
					    "PS512", "ES256", "ES384", "ES512", NULL};

	for (size_t i = 0; known[i]; i++)
		if (strcmp(alg, known[i]) == 0)
			return true;
	return false;
}

/* A NumericDate claim (RFC 7519 2): a JSON number of seconds. */
static int numeric_date(const json_t *claims, const char *key, bool required, int64_t *out, char *why,
			size_t whylen)
{
	json_t *v = json_object_get(claims, key);

	if (!v) {
		if (required)
			snprintf(why, whylen, "token has no \"%s\" claim", key);
		return required ? -1 : 1;
	}
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) > -1e15 && json_real_value(v) < 1e15) {
		*out = (int64_t)json_real_value(v);
		return 0;
	}
	snprintf(why, whylen, "token claim \"%s\" is not a number of seconds", key);
	return -1;
}

static bool text_ok(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ',')
			return false;
	return true;
}

static int check_audience(const json_t *claims, const struct oidc_expect *e, char *why, size_t whylen)
{
	json_t *aud = json_object_get(claims, "aud");
	size_t i;
	json_t *item;

	if (!aud) {
		snprintf(why, whylen, "token has no \"aud\" claim");
		return -1;
	}
	if (json_is_string(aud)) {
		for (size_t k = 0; k < e->n_audiences; k++)
			if (strcmp(json_string_value(aud), e->audiences[k]) == 0)
				return 0;
		snprintf(why, whylen, "token audience \"%.80s\" is not ours", json_string_value(aud));
		return -1;
	}
	if (!json_is_array(aud)) {
		snprintf(why, whylen, "token claim \"aud\" is neither a string nor an array");
		return -1;
	}
	json_array_foreach(aud, i, item) {
		if (!json_is_string(item))
			continue;
		for (size_t k = 0; k < e->n_audiences; k++)
			if (strcmp(json_string_value(item), e->audiences[k]) == 0)
				return 0;
	}
	snprintf(why, whylen, "token audiences (%zu) do not include ours", json_array_size(aud));
	return -1;
}

static int check_times(const json_t *claims, const struct oidc_expect *e, char *why, size_t whylen)
{
	int64_t exp, nbf, iat;
	int rc;

	if (numeric_date(claims, "exp", true, &exp, why, whylen) < 0)
		return -1;
	if (e->now >= exp + e->skew) {
		snprintf(why, whylen, "token expired %lld s ago (allowed skew %lld s)", (long long)(e->now - exp),
			 (long long)e->skew);
		return -1;
	}
	rc = numeric_date(claims, "nbf", false, &nbf, why, whylen);
	if (rc < 0)
		return -1;
	if (rc == 0 && e->now + e->skew < nbf) {
		snprintf(why, whylen, "token not valid before %lld s from now (allowed skew %lld s)",
			 (long long)(nbf - e->now), (long long)e->skew);
		return -1;
	}
	rc = numeric_date(claims, "iat", e->max_age > 0, &iat, why, whylen);
	if (rc < 0)
		return -1;
	if (rc == 0 && iat > e->now + e->skew) {
		snprintf(why, whylen, "token issued %lld s in the future (allowed skew %lld s)",
			 (long long)(iat - e->now), (long long)e->skew);
		return -1;
	}
	if (rc == 0 && e->max_age > 0 && e->now - iat > e->max_age + e->skew) {
		snprintf(why, whylen, "token issued %lld s ago, over max-token-age %lld s", (long long)(e->now - iat),
			 (long long)e->max_age);
		return -1;
	}
	return 0;
}

static int check_required(const json_t *claims, const struct oidc_expect *e, char *why, size_t whylen)
{
	for (size_t i = 0; i < e->n_required; i++) {
		const char *req = e->required[i], *eq = strchr(req, '=');
		size_t klen = eq ? (size_t)(eq - req) : strlen(req);
		char key[128];
		json_t *v;

		snprintf(key, sizeof(key), "%.*s", (int)(klen < sizeof(key) ? klen : sizeof(key) - 1), req);
		v = json_object_get(claims, key);
		if (!v || json_is_null(v)) {
			snprintf(why, whylen, "token lacks the required claim \"%s\"", key);
			return -1;
		}
		if (eq && (!json_is_string(v) || strcmp(json_string_value(v), eq + 1) != 0)) {
			snprintf(why, whylen, "token claim \"%s\" is not \"%.80s\"", key, eq + 1);
			return -1;
		}
	}
	return 0;
}

static void add_group(struct oidc_identity *id, const json_t *v)
{
	if (!json_is_string(v) || !text_ok(json_string_value(v), json_string_length(v), OIDC_GROUP_MAX) ||
	    id->n_groups >= OIDC_GROUPS_MAX) {
		id->dropped_groups++;
		return;
	}
	for (size_t i = 0; i < id->n_groups; i++)
		if (strcmp(id->groups[i], json_string_value(v)) == 0)
			return;
	memcpy(id->groups[id->n_groups++], json_string_value(v), json_string_length(v) + 1);
}

int oidc_claims_check(const struct oidc_token *t, const struct oidc_expect *e, struct oidc_identity *id,
		      char *why, size_t whylen)
{
	const json_t *claims = t->claims;
	json_t *iss, *user, *groups;

	memset(id, 0, sizeof(*id));
	if (!claims) {
		snprintf(why, whylen, "token has no claims");
		return -1;
	}
	iss = json_object_get(claims, "iss");
	if (!json_is_string(iss)) {
		snprintf(why, whylen, "token has no \"iss\" claim");
		return -1;
	}
	if (strcmp(json_string_value(iss), e->issuer) != 0) {
		snprintf(why, whylen, "token issuer \"%.80s\" is not \"%.80s\"", json_string_value(iss), e->issuer);
		return -1;
	}
	if (check_audience(claims, e, why, whylen) < 0 || check_times(claims, e, why, whylen) < 0 ||
	    check_required(claims, e, why, whylen) < 0)
		return -1;
	user = json_object_get(claims, e->user_claim);
	if (!json_is_string(user)) {
		snprintf(why, whylen, "token has no string claim \"%s\" to name the user", e->user_claim);
		return -1;
	}
	if (!text_ok(json_string_value(user), json_string_length(user), OIDC_USER_MAX)) {
		snprintf(why, whylen, "token claim \"%s\" is not a user name (1 to %d bytes, no control characters)",
			 e->user_claim, OIDC_USER_MAX);
		return -1;
	}
	memcpy(id->user, json_string_value(user), json_string_length(user) + 1);
	groups = e->groups_claim ? json_object_get(claims, e->groups_claim) : NULL;
	if (json_is_array(groups)) {
		size_t i;
		json_t *g;
		json_array_foreach(groups, i, g)
			add_group(id, g);
	} else if (groups) {
		add_group(id, groups);
	}
	return 0;
}
