/* HTTP/1.1 request parsing for the login and CONNECT phase, on llhttp.
 * Bounded: header count, header bytes and body size are capped; going past a
 * cap is an error with the HTTP status to answer (413/431/400), never a
 * crash or an unbounded allocation. */
#ifndef WG_HTTP_PARSER_H
#define WG_HTTP_PARSER_H

#include <stddef.h>

#define WG_HTTP_MAX_HEADERS 48
#define WG_HTTP_MAX_HEADER_BYTES 16384 /* request line + all headers */
#define WG_HTTP_MAX_BODY 65536

struct wg_http_header {
	const char *name;  /* NUL-terminated, points into the parser's buffer */
	const char *value;
};

struct wg_http_request {
	const char *method; /* "GET", "POST", "CONNECT", ... */
	const char *url;    /* "/", "/auth", "/CSCOSSLC/tunnel" */
	struct wg_http_header headers[WG_HTTP_MAX_HEADERS];
	size_t n_headers;
	const char *body;   /* NUL-terminated; "" when none */
	size_t body_len;
	int keep_alive;     /* the client wants the connection kept open */
	int http_minor;     /* 0 or 1 */
};

enum wg_http_status {
	WG_HTTP_NEED_MORE = 0, /* everything consumed, no complete request yet */
	WG_HTTP_DONE = 1,      /* a whole request: see wg_http_parser_request() */
	WG_HTTP_ERROR = -1,    /* see wg_http_parser_error() and _error_status() */
};

struct wg_http_parser; /* opaque */

struct wg_http_parser *wg_http_parser_new(void);
void wg_http_parser_free(struct wg_http_parser *p);

/* Feeds bytes. On WG_HTTP_DONE, *consumed tells how many bytes of data were
 * used: the rest belongs to the next request, or, after CONNECT, to the
 * tunnel. On NEED_MORE *consumed == len. */
int wg_http_parser_feed(struct wg_http_parser *p, const char *data, size_t len, size_t *consumed);
/* Valid after WG_HTTP_DONE until the next reset/feed. */
const struct wg_http_request *wg_http_parser_request(const struct wg_http_parser *p);
/* Ready for the next request on the same connection. */
void wg_http_parser_reset(struct wg_http_parser *p);
const char *wg_http_parser_error(const struct wg_http_parser *p);
int wg_http_parser_error_status(const struct wg_http_parser *p); /* 400, 413, 431 */

/* First header of that name (case-insensitive), or NULL. */
const char *wg_http_header(const struct wg_http_request *r, const char *name);
/* The value of cookie `name` from any Cookie header, copied into buf.
 * Returns the value's length, or -1 if absent or longer than buflen-1. */
int wg_http_cookie(const struct wg_http_request *r, const char *name, char *buf, size_t buflen);

#endif
