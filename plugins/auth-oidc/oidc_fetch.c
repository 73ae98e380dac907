/* auth-oidc: the provider's documents over HTTPS (see oidc_fetch.h). */
#include "oidc_fetch.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct body {
	char *data;
	size_t len;
	int too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;
	char *grown;

	if (b->len + n > OIDC_DOC_MAX) {
		b->too_big = 1;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	grown = realloc(b->data, b->len + n + 1);
	if (!grown)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* GET url (or POST form, with HTTP basic credentials userpwd) into b;
 * with any_status, an answer other than 200 is kept too (an OAuth error's
 * JSON). 0, or -1 with why. */
static int http(const struct oidc_fetch_request *q, const char *url, const char *form, const char *userpwd,
		bool any_status, struct body *b, char *why, size_t whylen)
{
	CURL *h = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;

	memset(b, 0, sizeof(*b));
	if (!h) {
		snprintf(why, whylen, "curl_easy_init failed");
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* HTTPS only: the keys are what every token is believed on. */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (q->ca_file[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, q->ca_file);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, q->timeout_s);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, q->timeout_s);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* a worker thread: no SIGALRM for name look-ups */
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)OIDC_DOC_MAX);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "wolfguard-auth-oidc");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (form)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
	if (userpwd) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK || (status != 200 && !any_status) || !b->data) {
		if (b->too_big)
			snprintf(why, whylen, "%.200s: larger than %d bytes", url, OIDC_DOC_MAX);
		else if (rc != CURLE_OK)
			snprintf(why, whylen, "%.200s: %.250s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		else
			snprintf(why, whylen, "%.200s: HTTP status %ld", url, status);
		free(b->data);
		memset(b, 0, sizeof(*b));
		return -1;
	}
	return 0;
}

/* The jwks_uri of a discovery document that names our issuer. */
static int read_discovery(const struct oidc_fetch_request *q, const struct body *b, struct oidc_fetch_result *r)
{
	json_error_t jerr;
	json_t *doc = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *iss = json_object_get(doc, "issuer"), *uri = json_object_get(doc, "jwks_uri");
	int rc = -1;

	if (!json_is_object(doc))
		snprintf(r->why, sizeof(r->why), "%.200s: not a JSON object (%.100s)", q->discovery_url, jerr.text);
	/* Discovery 4.3: the issuer in the document is the one asked for, so
	 * a document cannot hand us another provider's keys. */
	else if (!json_is_string(iss) || strcmp(json_string_value(iss), q->issuer) != 0)
		snprintf(r->why, sizeof(r->why), "%.200s: \"issuer\" is not \"%.200s\"", q->discovery_url, q->issuer);
	else if (!json_is_string(uri) || strncasecmp(json_string_value(uri), "https://", 8) != 0 ||
		 json_string_length(uri) >= sizeof(r->jwks_uri))
		snprintf(r->why, sizeof(r->why), "%.200s: \"jwks_uri\" is not an https URL", q->discovery_url);
	else {
		json_t *az = json_object_get(doc, "authorization_endpoint"), *te = json_object_get(doc, "token_endpoint");
		memcpy(r->jwks_uri, json_string_value(uri), json_string_length(uri) + 1);
		/* The browser login's endpoints, https only (the token endpoint
		 * receives the client secret). */
		if (json_is_string(az) && json_string_length(az) < sizeof(r->authorization_endpoint) &&
		    strncasecmp(json_string_value(az), "https://", 8) == 0 && !strpbrk(json_string_value(az), " \r\n"))
			memcpy(r->authorization_endpoint, json_string_value(az), json_string_length(az) + 1);
		if (json_is_string(te) && json_string_length(te) < sizeof(r->token_endpoint) &&
		    strncasecmp(json_string_value(te), "https://", 8) == 0)
			memcpy(r->token_endpoint, json_string_value(te), json_string_length(te) + 1);
		rc = 0;
	}
	json_decref(doc);
	return rc;
}

int oidc_fetch_keys(const struct oidc_fetch_request *q, struct oidc_fetch_result *r)
{
	struct body b;

	memset(r, 0, sizeof(*r));
	if (!q->jwks_uri[0] || q->want_endpoints) {
		if (http(q, q->discovery_url, NULL, NULL, false, &b, r->why, sizeof(r->why)) < 0)
			return -1;
		int rc = read_discovery(q, &b, r);
		free(b.data);
		if (rc < 0)
			return -1;
	}
	if (q->jwks_uri[0])
		snprintf(r->jwks_uri, sizeof(r->jwks_uri), "%s", q->jwks_uri);
	if (http(q, r->jwks_uri, NULL, NULL, false, &b, r->why, sizeof(r->why)) < 0)
		return -1;
	r->jwks = b.data;
	r->jwks_len = b.len;
	return 0;
}

int oidc_fetch_exchange(const struct oidc_fetch_request *q, struct oidc_exchange *x)
{
	struct body b;
	char userpwd[2 * OIDC_CLIENT_MAX + 2];

	x->answer = NULL;
	x->answer_len = 0;
	x->why[0] = '\0';
	/* client_secret_basic (RFC 6749 2.3.1): id and secret form-encoded,
	 * which leaves them as they are for the usual characters. */
	snprintf(userpwd, sizeof(userpwd), "%s:%s", x->client_id, x->client_secret);
	int rc = http(q, x->token_endpoint, x->form, x->client_secret[0] ? userpwd : NULL, true, &b, x->why,
		      sizeof(x->why));
	explicit_bzero(userpwd, sizeof(userpwd));
	if (rc < 0)
		return -1;
	x->answer = b.data;
	x->answer_len = b.len;
	return 0;
}

int oidc_fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void oidc_fetch_global_cleanup(void)
{
	curl_global_cleanup();
}
