/* The little HTTP/1.1 the client needs: is a response complete in the
 * buffer, its status, a header's value, a cookie out of Set-Cookie. Pure
 * functions over a byte buffer; nothing here does I/O. */
#ifndef WGP_HTTP_H
#define WGP_HTTP_H

#include <stddef.h>

struct wgp_http_resp {
	int status;
	size_t header_len; /* status line + headers + the blank line */
	size_t body_len;   /* Content-Length (0 when absent) */
};

/* 1: a complete response (headers, and the body when with_body) is at the
 * start of buf, *r filled; 0: need more bytes; -1: malformed (the reason in
 * err). with_body is 0 for the CONNECT answer, whose "body" is the tunnel. */
int wgp_http_parse(const char *buf, size_t len, int with_body, struct wgp_http_resp *r, char *err, size_t errlen);

/* Copies the value of the nth (0-based) header called name (case
 * insensitive) into out; returns its length, or -1 if absent or too long. */
int wgp_http_header(const char *hdrs, size_t hlen, const char *name, unsigned nth, char *out, size_t outlen);

/* The value of cookie `name` from the Set-Cookie headers (the last one
 * wins, as in a browser); -1 if none sets it, else its length (0: the
 * server cleared it). */
int wgp_http_set_cookie(const char *hdrs, size_t hlen, const char *name, char *out, size_t outlen);

#endif
