/* auth-oidc, browser SSO: the redirect's query and the token endpoint's
 * answer (see oidc_callback.h). */
#include "oidc_callback.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/percent.h>

static bool printable(const char *s, bool spaces)
{
	for (; *s; s++)
		if ((unsigned char)*s < (spaces ? 0x20 : 0x21) || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

int oidc_callback_parse(const char *query, size_t len, struct oidc_callback *out, char *why, size_t whylen)
{
	bool seen[5] = {false, false, false, false, false};
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	while (i < len) {
		size_t end = i, eq;
		while (end < len && query[end] != '&')
			end++;
		for (eq = i; eq < end && query[eq] != '='; eq++)
			;
		size_t nlen = eq - i;
		const char *val = eq < end ? query + eq + 1 : query + end;
		size_t vlen = eq < end ? end - eq - 1 : 0;
		char *dst = NULL;
		size_t cap = 0;
		int which = -1;

		if (nlen == 4 && memcmp(query + i, "code", 4) == 0)
			which = 0, dst = out->code, cap = sizeof(out->code);
		else if (nlen == 5 && memcmp(query + i, "state", 5) == 0)
			which = 1, dst = out->state, cap = sizeof(out->state);
		else if (nlen == 5 && memcmp(query + i, "error", 5) == 0)
			which = 2, dst = out->error, cap = sizeof(out->error);
		else if (nlen == 17 && memcmp(query + i, "error_description", 17) == 0)
			which = 3, dst = out->error_description, cap = sizeof(out->error_description);
		else if (nlen == 3 && memcmp(query + i, "iss", 3) == 0)
			which = 4, dst = out->iss, cap = sizeof(out->iss);
		if (which >= 0) {
			if (seen[which]) {
				snprintf(why, whylen, "parameter \"%.*s\" given twice", (int)nlen, query + i);
				return -1;
			}
			seen[which] = true;
			if (wg_percent_decode(val, vlen, dst, cap) < 0) {
				snprintf(why, whylen, "parameter \"%.*s\" is not percent-encoded text of at most %zu bytes",
					 (int)nlen, query + i, cap - 1);
				return -1;
			}
			if (!printable(dst, which == 2 || which == 3)) {
				snprintf(why, whylen, "parameter \"%.*s\" holds control or non-ASCII characters", (int)nlen,
					 query + i);
				return -1;
			}
		} else if (nlen == 0 && end > i) {
			snprintf(why, whylen, "a parameter without a name");
			return -1;
		} /* anything else (session_state, ...) is the provider's business */
		i = end + 1;
	}
	if (!out->error[0] && (!out->code[0] || !out->state[0])) {
		snprintf(why, whylen, "neither \"code\" and \"state\" nor \"error\"");
		return -1;
	}
	return 0;
}

int oidc_token_response_parse(const char *body, size_t len, char **id_token, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *tok = json_object_get(doc, "id_token");
	json_t *err = json_object_get(doc, "error"), *desc = json_object_get(doc, "error_description");
	int rc = -1;

	*id_token = NULL;
	if (!json_is_object(doc)) {
		snprintf(why, whylen, "the token endpoint's answer is not a JSON object");
	} else if (json_is_string(err)) {
		char e[64], d[OIDC_ERRTEXT_MAX + 1] = "";
		snprintf(e, sizeof(e), "%s", json_string_value(err));
		if (json_is_string(desc))
			snprintf(d, sizeof(d), "%s", json_string_value(desc));
		if (!printable(e, true))
			snprintf(e, sizeof(e), "(unprintable)");
		if (!printable(d, true))
			d[0] = '\0';
		snprintf(why, whylen, "the token endpoint refused the code: %s%s%s", e, d[0] ? ": " : "", d);
	} else if (!json_is_string(tok) || json_string_length(tok) == 0) {
		snprintf(why, whylen, "the token endpoint's answer has no \"id_token\" (is the scope \"openid\" allowed?)");
	} else if (!(*id_token = strdup(json_string_value(tok)))) {
		snprintf(why, whylen, "out of memory");
	} else {
		rc = 0;
	}
	json_decref(doc);
	return rc;
}

int oidc_url_encode(char *buf, size_t buflen, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		bool keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    *p == '-' || *p == '.' || *p == '_' || *p == '~';
		if (o + (keep ? 1 : 3) >= buflen)
			return -1;
		if (keep) {
			buf[o++] = (char)*p;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	if (o >= buflen)
		return -1;
	buf[o] = '\0';
	return 0;
}

int oidc_url_param(char *buf, size_t buflen, const char *name, const char *value)
{
	size_t used = strlen(buf);
	int n;

	n = snprintf(buf + used, buflen - used, "%s%s=", used ? "&" : "", name);
	if (n < 0 || (size_t)n >= buflen - used)
		return -1;
	used += (size_t)n;
	return oidc_url_encode(buf + used, buflen - used, value);
}
