/* One connection's queue of request bytes (see http_pipe.h). A flat buffer:
 * bounded, so it stays small, and contiguous, so the parser reads it in
 * place. Consumed bytes are dropped by moving the rest to the front only
 * when new bytes need the room. */
#include "net/http_pipe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_parser.h"

void wg_http_pipe_init(struct wg_http_pipe *p)
{
	memset(p, 0, sizeof(*p));
}

void wg_http_pipe_fini(struct wg_http_pipe *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

void wg_http_pipe_discard(struct wg_http_pipe *p)
{
	p->off = p->len = 0;
}

int wg_http_pipe_add(struct wg_http_pipe *p, const void *data, size_t len, bool busy)
{
	size_t queued = wg_http_pipe_queued(p);

	if (len == 0)
		return 0;
	if (busy && queued + len > WG_HTTP_PIPE_MAX_QUEUED)
		return -E2BIG;
	if (p->off > 0 && p->len + len > p->cap) {
		memmove(p->buf, p->buf + p->off, queued);
		p->off = 0;
		p->len = queued;
	}
	if (p->len + len > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;
		while (cap < p->len + len)
			cap *= 2;
		uint8_t *nb = realloc(p->buf, cap);
		if (!nb)
			return -ENOMEM;
		p->buf = nb;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, data, len);
	p->len += len;
	return 0;
}

enum wg_http_pipe_next wg_http_pipe_next(struct wg_http_pipe *p, struct wg_http_parser *parser)
{
	size_t used = 0;
	int r;

	if (wg_http_pipe_queued(p) == 0)
		return WG_PIPE_EMPTY;
	r = wg_http_parser_feed(parser, (const char *)p->buf + p->off, wg_http_pipe_queued(p), &used);
	p->off += used;
	if (p->off == p->len)
		p->off = p->len = 0; /* empty: the next bytes start at the front */
	if (r == WG_HTTP_NEED_MORE)
		return WG_PIPE_EMPTY;
	if (r == WG_HTTP_ERROR) {
		wg_http_pipe_discard(p);
		return WG_PIPE_BAD;
	}
	if (++p->requests > WG_HTTP_PIPE_MAX_REQUESTS) {
		wg_http_pipe_discard(p);
		return WG_PIPE_TOO_MANY;
	}
	return WG_PIPE_REQUEST;
}

const uint8_t *wg_http_pipe_rest(const struct wg_http_pipe *p, size_t *len)
{
	*len = wg_http_pipe_queued(p);
	return p->buf ? p->buf + p->off : NULL;
}
