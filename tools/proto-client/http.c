/* Minimal HTTP/1.1 response reading for the load generator. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADER_BYTES 16384
#define MAX_BODY_BYTES 65536

static const char *find_crlfcrlf(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return buf + i + 1;
	return NULL;
}

int wgp_http_parse(const char *buf, size_t len, int with_body, struct wgp_http_resp *r, char *err, size_t errlen)
{
	const char *end = find_crlfcrlf(buf, len < MAX_HEADER_BYTES ? len : MAX_HEADER_BYTES);
	char v[32];

	if (!end) {
		if (len >= MAX_HEADER_BYTES) {
			snprintf(err, errlen, "HTTP headers longer than %d bytes", MAX_HEADER_BYTES);
			return -1;
		}
		return 0;
	}
	memset(r, 0, sizeof(*r));
	r->header_len = (size_t)(end - buf);
	if (r->header_len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ') {
		/* buf is not NUL-terminated: print only bytes that are there. */
		snprintf(err, errlen, "not an HTTP response: \"%.*s\"", (int)(r->header_len < 20 ? r->header_len : 20), buf);
		return -1;
	}
	/* Three digits, read by hand: buf is not a C string. */
	r->status = 0;
	for (int i = 9; i < 12; i++)
		r->status = buf[i] >= '0' && buf[i] <= '9' ? r->status * 10 + (buf[i] - '0') : -1000;
	if (r->status < 100 || r->status > 599) {
		snprintf(err, errlen, "bad HTTP status line \"%.*s\"", (int)(r->header_len < 30 ? r->header_len : 30), buf);
		return -1;
	}
	if (wgp_http_header(buf, r->header_len, "Content-Length", 0, v, sizeof(v)) >= 0) {
		char *e;
		unsigned long n = strtoul(v, &e, 10);
		if (e == v || *e || n > MAX_BODY_BYTES) {
			snprintf(err, errlen, "bad Content-Length \"%s\"", v);
			return -1;
		}
		r->body_len = n;
	}
	if (with_body && len < r->header_len + r->body_len)
		return 0;
	return 1;
}

int wgp_http_header(const char *hdrs, size_t hlen, const char *name, unsigned nth, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	const char *p = memchr(hdrs, '\n', hlen); /* skip the status line */
	const char *end = hdrs + hlen;

	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		if ((size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0 && nth-- == 0) {
			const char *v = p + nl + 1, *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
				ve--;
			if ((size_t)(ve - v) >= outlen)
				return -1;
			memcpy(out, v, (size_t)(ve - v));
			out[ve - v] = '\0';
			return (int)(ve - v);
		}
		p = eol;
	}
	return -1;
}

int wgp_http_set_cookie(const char *hdrs, size_t hlen, const char *name, char *out, size_t outlen)
{
	char line[4096];
	size_t nl = strlen(name);
	int found = -1;

	for (unsigned i = 0; wgp_http_header(hdrs, hlen, "Set-Cookie", i, line, sizeof(line)) >= 0; i++) {
		if (strncmp(line, name, nl) != 0 || line[nl] != '=')
			continue;
		const char *v = line + nl + 1;
		size_t vl = strcspn(v, ";");
		if (vl >= outlen)
			return -1;
		memcpy(out, v, vl);
		out[vl] = '\0';
		found = (int)vl;
	}
	return found;
}
