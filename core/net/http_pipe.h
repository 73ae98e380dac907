/* The HTTP requests of one connection, in order: the bytes a client sent
 * (decrypted) wait in a queue and come out one parsed request at a time.
 * The connection takes the next request only once it has answered the last
 * one, so pipelined requests are answered one after the other, in order,
 * with no call nesting, and what one connection may queue is bounded.
 *
 * Pure (no I/O, no event loop): core/net/conn.c feeds it and asks for requests;
 * tests/fuzz/fuzz_http_pipe.c drives it with streams cut anywhere. */
#ifndef WG_HTTP_PIPE_H
#define WG_HTTP_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_http_parser;
struct wg_http_request;

/* Bytes a connection may queue while a request of it is being answered:
 * a client may send its next request early, more is a flood. */
#define WG_HTTP_PIPE_MAX_QUEUED (64u * 1024)
/* Requests one connection may make (a login takes a handful: init, an
 * answer per step and retry, CONNECT); the next one is refused. */
#define WG_HTTP_PIPE_MAX_REQUESTS 128u

struct wg_http_pipe {
	uint8_t *buf;      /* owned; queued bytes are buf[off, len) */
	size_t off, len, cap;
	unsigned requests; /* requests taken so far */
};

enum wg_http_pipe_next {
	WG_PIPE_EMPTY,    /* no whole request queued (the parser keeps a partial one) */
	WG_PIPE_REQUEST,  /* a request: wg_http_parser_request(parser) */
	WG_PIPE_BAD,      /* a malformed request: answer the parser's error status, then close */
	WG_PIPE_TOO_MANY, /* past WG_HTTP_PIPE_MAX_REQUESTS: answer 429, then close */
};

void wg_http_pipe_init(struct wg_http_pipe *p);
void wg_http_pipe_fini(struct wg_http_pipe *p);
/* Queues bytes. busy: a request is being answered (only then is the queue
 * bounded; otherwise the parser's own caps apply as the bytes are taken).
 * Returns 0, -E2BIG past WG_HTTP_PIPE_MAX_QUEUED, -ENOMEM. */
int wg_http_pipe_add(struct wg_http_pipe *p, const void *data, size_t len, bool busy);
/* Parses queued bytes up to the end of the next request. The parser must
 * have been reset after the previous request (wg_http_parser_reset). After
 * BAD and TOO_MANY the queue is empty. */
enum wg_http_pipe_next wg_http_pipe_next(struct wg_http_pipe *p, struct wg_http_parser *parser);
/* The bytes queued after the last request (what follows a CONNECT belongs to
 * the tunnel); valid until the next call on p. */
const uint8_t *wg_http_pipe_rest(const struct wg_http_pipe *p, size_t *len);
/* Forgets every queued byte. */
void wg_http_pipe_discard(struct wg_http_pipe *p);
static inline size_t wg_http_pipe_queued(const struct wg_http_pipe *p)
{
	return p->len - p->off;
}

#endif
