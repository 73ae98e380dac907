/* A connection's request queue (core/net/http_pipe.c) with the parser behind it,
 * driven as core/net/conn.c drives it: a byte stream cut at points the input
 * chooses, and answers that the input makes wait (busy) across later reads.
 *
 * Input: 8 control bytes (the seed of the cut sizes and of which answers
 * wait), then the stream. The oracle: the requests that come out, their
 * order, the final verdict and the bytes left to a tunnel after CONNECT are
 * the same as when the whole stream arrives at once and every answer is
 * immediate; only the queue bound (a flood while an answer waits) may end
 * the cut run early, and then its requests are a prefix of the whole run's.
 * Also: the queue never holds more than the bound plus one read. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_parser.h"
#include "net/http_pipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEEN 256

struct run {
	uint64_t seen[MAX_SEEN]; /* one fingerprint per request taken */
	size_t n_seen;
	int verdict;             /* last wg_http_pipe_next result that ended the run, or -1 */
	int status;              /* the parser's error status after BAD */
	bool overflow;           /* -E2BIG: the connection would close */
	bool tunnel;             /* a CONNECT: the rest is tunnel bytes */
	uint8_t *rest;           /* tunnel bytes after CONNECT (owned) */
	size_t rest_len;
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t fingerprint(const struct wg_http_request *r)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = mix(h, r->method, strlen(r->method) + 1);
	h = mix(h, r->url, strlen(r->url) + 1);
	for (size_t i = 0; i < r->n_headers; i++) {
		h = mix(h, r->headers[i].name, strlen(r->headers[i].name) + 1);
		h = mix(h, r->headers[i].value, strlen(r->headers[i].value) + 1);
	}
	h = mix(h, r->body, r->body_len);
	return mix(h, &r->keep_alive, sizeof(r->keep_alive));
}

static void rest_add(struct run *r, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	uint8_t *nb = realloc(r->rest, r->rest_len + n);
	if (!nb)
		abort();
	memcpy(nb + r->rest_len, p, n);
	r->rest = nb;
	r->rest_len += n;
}

/* Takes requests while no answer waits; `wait` says, per request, whether
 * its answer waits for the next read. Returns false once the run ended. */
static bool pump(struct run *r, struct wg_http_pipe *pipe, struct wg_http_parser *parser, bool *busy,
		 uint64_t *wait)
{
	while (!*busy) {
		enum wg_http_pipe_next n = wg_http_pipe_next(pipe, parser);
		if (n == WG_PIPE_EMPTY)
			return true;
		if (n != WG_PIPE_REQUEST) {
			if (wg_http_pipe_queued(pipe) != 0)
				__builtin_trap(); /* BAD and TOO_MANY leave nothing queued */
			r->verdict = (int)n;
			r->status = n == WG_PIPE_BAD ? wg_http_parser_error_status(parser) : 0;
			return false;
		}
		const struct wg_http_request *req = wg_http_parser_request(parser);
		if (r->n_seen < MAX_SEEN)
			r->seen[r->n_seen] = fingerprint(req);
		r->n_seen++;
		if (strcmp(req->method, "CONNECT") == 0) {
			size_t len;
			const uint8_t *rest = wg_http_pipe_rest(pipe, &len);
			rest_add(r, rest, len);
			wg_http_pipe_discard(pipe);
			r->tunnel = true;
			return false;
		}
		wg_http_parser_reset(parser);
		*busy = (*wait & 1) != 0;
		*wait = (*wait >> 1) | (*wait << 63);
	}
	return true;
}

/* cut == 0: the whole stream at once, every answer immediate. */
static void drive(struct run *r, const uint8_t *data, size_t size, uint64_t cut, uint64_t wait)
{
	struct wg_http_pipe pipe;
	struct wg_http_parser *parser = wg_http_parser_new();
	bool busy = false, going = true;
	size_t off = 0;

	if (!parser)
		abort();
	wg_http_pipe_init(&pipe);
	r->verdict = -1;
	while (off < size) {
		size_t n = cut ? (size_t)(cut % 997) + 1 : size;
		cut = cut * 6364136223846793005ull + 1442695040888963407ull;
		if (n > size - off)
			n = size - off;
		if (!going) {
			if (r->tunnel)
				rest_add(r, data + off, n); /* after CONNECT: the tunnel's */
			off += n;
			continue;
		}
		if (wg_http_pipe_add(&pipe, data + off, n, busy) < 0) {
			r->overflow = true;
			break;
		}
		if (wg_http_pipe_queued(&pipe) > WG_HTTP_PIPE_MAX_QUEUED + n)
			__builtin_trap();
		off += n;
		busy = false; /* the waiting answer went out before this read was taken */
		going = pump(r, &pipe, parser, &busy, &wait);
	}
	/* The stream ended: the answers still waiting go out one by one. */
	while (going && !r->overflow && busy) {
		busy = false;
		going = pump(r, &pipe, parser, &busy, &wait);
	}
	wg_http_pipe_fini(&pipe);
	wg_http_parser_free(parser);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole = {0}, cut = {0};
	uint64_t seed;

	if (size < 8)
		return 0;
	memcpy(&seed, data, 8);
	data += 8;
	size -= 8;
	drive(&whole, data, size, 0, 0);
	drive(&cut, data, size, seed | 1, seed * 0x9e3779b97f4a7c15ull);
	size_t n = cut.n_seen < whole.n_seen ? cut.n_seen : whole.n_seen;
	for (size_t i = 0; i < n && i < MAX_SEEN; i++)
		if (cut.seen[i] != whole.seen[i])
			__builtin_trap(); /* another request, or out of order */
	if (!cut.overflow) {
		if (cut.n_seen != whole.n_seen || cut.verdict != whole.verdict || cut.status != whole.status ||
		    cut.tunnel != whole.tunnel || cut.rest_len != whole.rest_len ||
		    (cut.rest_len && memcmp(cut.rest, whole.rest, cut.rest_len) != 0))
			__builtin_trap();
	} else if (cut.n_seen > whole.n_seen) {
		__builtin_trap();
	}
	free(whole.rest);
	free(cut.rest);
	return 0;
}
