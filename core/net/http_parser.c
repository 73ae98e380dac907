/* Bounded HTTP/1.1 request parsing on llhttp.
 *
 * Header names and values may arrive split over many callbacks; they are
 * appended into one fixed buffer (WG_HTTP_MAX_HEADER_BYTES) as
 * NUL-terminated strings, and the request's pointers point into it. The body
 * goes into its own buffer, grown on demand up to WG_HTTP_MAX_BODY. */
#include "net/http_parser.h"

#include <limits.h>
#include <llhttp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct wg_http_parser {
	llhttp_t parser;
	llhttp_settings_t settings;
	struct wg_http_request req;
	char hdr[WG_HTTP_MAX_HEADER_BYTES];
	size_t hdr_len;
	size_t url_off;     /* offset of the URL in hdr */
	size_t field_off;   /* offset of the current header name */
	size_t value_off;
	int in_value;       /* the last callback was for a value */
	int have_field;
	char *body;         /* owned */
	size_t body_len, body_cap;
	int complete;
	int error_status;
	const char *error;
};

static struct wg_http_parser *of(llhttp_t *p)
{
	return (struct wg_http_parser *)((char *)p - offsetof(struct wg_http_parser, parser));
}

static int fail(struct wg_http_parser *p, int status, const char *why)
{
	p->error_status = status;
	p->error = why;
	return HPE_USER;
}

/* Appends at hdr_len; the string being built is closed by close_str(). */
static int append(struct wg_http_parser *p, const char *at, size_t len)
{
	if (p->hdr_len + len + 1 > sizeof(p->hdr))
		return fail(p, 431, "request headers too large");
	memcpy(p->hdr + p->hdr_len, at, len);
	p->hdr_len += len;
	p->hdr[p->hdr_len] = '\0';
	return 0;
}

static int close_str(struct wg_http_parser *p)
{
	if (p->hdr_len + 1 > sizeof(p->hdr))
		return fail(p, 431, "request headers too large");
	p->hdr[p->hdr_len++] = '\0';
	return 0;
}

static int on_url(llhttp_t *lp, const char *at, size_t len)
{
	return append(of(lp), at, len);
}

static int on_url_complete(llhttp_t *lp)
{
	return close_str(of(lp));
}

static int on_header_field(llhttp_t *lp, const char *at, size_t len)
{
	struct wg_http_parser *p = of(lp);

	if (!p->have_field) {
		if (p->req.n_headers >= WG_HTTP_MAX_HEADERS)
			return fail(p, 431, "too many request headers");
		p->field_off = p->hdr_len;
		p->have_field = 1;
	}
	return append(p, at, len);
}

static int on_header_field_complete(llhttp_t *lp)
{
	struct wg_http_parser *p = of(lp);
	int rc = close_str(p);

	p->value_off = p->hdr_len;
	return rc;
}

static int on_header_value(llhttp_t *lp, const char *at, size_t len)
{
	return append(of(lp), at, len);
}

static int on_header_value_complete(llhttp_t *lp)
{
	struct wg_http_parser *p = of(lp);
	int rc = close_str(p);

	if (rc)
		return rc;
	/* Pointers are resolved at the end: hdr does not move, but offsets
	 * keep this independent of that. */
	p->req.headers[p->req.n_headers].name = (const char *)(uintptr_t)p->field_off;
	p->req.headers[p->req.n_headers].value = (const char *)(uintptr_t)p->value_off;
	p->req.n_headers++;
	p->have_field = 0;
	return 0;
}

static int on_body(llhttp_t *lp, const char *at, size_t len)
{
	struct wg_http_parser *p = of(lp);

	if (p->body_len + len > WG_HTTP_MAX_BODY)
		return fail(p, 413, "request body too large");
	if (p->body_len + len + 1 > p->body_cap) {
		size_t cap = p->body_cap ? p->body_cap : 1024;
		while (cap < p->body_len + len + 1)
			cap *= 2;
		char *nb = realloc(p->body, cap);
		if (!nb)
			return fail(p, 413, "out of memory for the request body");
		p->body = nb;
		p->body_cap = cap;
	}
	memcpy(p->body + p->body_len, at, len);
	p->body_len += len;
	p->body[p->body_len] = '\0';
	return 0;
}

static int on_headers_complete(llhttp_t *lp)
{
	struct wg_http_parser *p = of(lp);

	if (llhttp_get_method(lp) == HTTP_CONNECT) {
		p->complete = 1;
		return 0; /* llhttp pauses on the upgrade: the rest is tunnel */
	}
	if (lp->content_length > WG_HTTP_MAX_BODY && lp->content_length != ULLONG_MAX)
		return fail(p, 413, "request body too large");
	return 0;
}

static int on_message_complete(llhttp_t *lp)
{
	of(lp)->complete = 1;
	return HPE_PAUSED; /* one request at a time: pipelined bytes wait */
}

struct wg_http_parser *wg_http_parser_new(void)
{
	struct wg_http_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	llhttp_settings_init(&p->settings);
	p->settings.on_url = on_url;
	p->settings.on_url_complete = on_url_complete;
	p->settings.on_header_field = on_header_field;
	p->settings.on_header_field_complete = on_header_field_complete;
	p->settings.on_header_value = on_header_value;
	p->settings.on_header_value_complete = on_header_value_complete;
	p->settings.on_headers_complete = on_headers_complete;
	p->settings.on_body = on_body;
	p->settings.on_message_complete = on_message_complete;
	wg_http_parser_reset(p);
	return p;
}

void wg_http_parser_free(struct wg_http_parser *p)
{
	if (!p)
		return;
	free(p->body);
	free(p);
}

void wg_http_parser_reset(struct wg_http_parser *p)
{
	llhttp_init(&p->parser, HTTP_REQUEST, &p->settings);
	memset(&p->req, 0, sizeof(p->req));
	p->hdr_len = 0;
	p->url_off = 0;
	p->have_field = 0;
	p->body_len = 0;
	if (p->body)
		p->body[0] = '\0';
	p->complete = 0;
	p->error_status = 0;
	p->error = NULL;
}

static void finish_request(struct wg_http_parser *p)
{
	struct wg_http_request *r = &p->req;

	r->method = llhttp_method_name((llhttp_method_t)llhttp_get_method(&p->parser));
	r->url = p->hdr + p->url_off;
	for (size_t i = 0; i < r->n_headers; i++) {
		r->headers[i].name = p->hdr + (uintptr_t)r->headers[i].name;
		r->headers[i].value = p->hdr + (uintptr_t)r->headers[i].value;
	}
	r->body = p->body ? p->body : "";
	r->body_len = p->body_len;
	r->keep_alive = llhttp_should_keep_alive(&p->parser);
	if (llhttp_get_method(&p->parser) == HTTP_CONNECT)
		r->keep_alive = 1;
	r->http_minor = llhttp_get_http_minor(&p->parser);
}

int wg_http_parser_feed(struct wg_http_parser *p, const char *data, size_t len, size_t *consumed)
{
	enum llhttp_errno e;

	*consumed = 0;
	if (p->error_status)
		return WG_HTTP_ERROR;
	if (p->complete)
		return WG_HTTP_DONE; /* the caller must reset first */
	e = llhttp_execute(&p->parser, data, len);
	if (e == HPE_OK) {
		*consumed = len;
		return WG_HTTP_NEED_MORE;
	}
	if ((e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) && p->complete) {
		*consumed = (size_t)(llhttp_get_error_pos(&p->parser) - data);
		finish_request(p);
		return WG_HTTP_DONE;
	}
	if (!p->error_status) {
		p->error_status = 400;
		p->error = llhttp_get_error_reason(&p->parser);
		if (!p->error)
			p->error = llhttp_errno_name(e);
	}
	return WG_HTTP_ERROR;
}

const struct wg_http_request *wg_http_parser_request(const struct wg_http_parser *p)
{
	return &p->req;
}

const char *wg_http_parser_error(const struct wg_http_parser *p)
{
	return p->error ? p->error : "no error";
}

int wg_http_parser_error_status(const struct wg_http_parser *p)
{
	return p->error_status ? p->error_status : 400;
}

const char *wg_http_header(const struct wg_http_request *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

int wg_http_cookie(const struct wg_http_request *r, const char *name, char *buf, size_t buflen)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < r->n_headers; i++) {
		if (strcasecmp(r->headers[i].name, "Cookie") != 0)
			continue;
		const char *s = r->headers[i].value;
		while (*s) {
			while (*s == ' ' || *s == ';')
				s++;
			const char *end = strchr(s, ';');
			size_t len = end ? (size_t)(end - s) : strlen(s);
			if (len > nlen && strncmp(s, name, nlen) == 0 && s[nlen] == '=') {
				size_t vlen = len - nlen - 1;
				while (vlen && s[nlen + 1 + vlen - 1] == ' ')
					vlen--;
				if (vlen + 1 > buflen)
					return -1;
				memcpy(buf, s + nlen + 1, vlen);
				buf[vlen] = '\0';
				return (int)vlen;
			}
			s += len;
		}
	}
	return -1;
}
