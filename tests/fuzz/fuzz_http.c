/* HTTP request parsing, fed in pieces whose sizes the input chooses. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/http_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_http_parser *p = wg_http_parser_new();
	size_t off = 0;
	char cookie[128];

	if (!p || size < 1)
		goto out;
	size_t step = (size_t)data[0] % 64 + 1;
	data++, size--;
	while (off < size) {
		size_t n = size - off < step ? size - off : step, used = 0;
		int r = wg_http_parser_feed(p, (const char *)data + off, n, &used);
		if (used > n)
			__builtin_trap();
		off += used;
		if (r == WG_HTTP_ERROR)
			break;
		if (r == WG_HTTP_DONE) {
			const struct wg_http_request *req = wg_http_parser_request(p);
			(void)wg_http_header(req, "Cookie");
			(void)wg_http_cookie(req, "webvpn", cookie, sizeof(cookie));
			if (strlen(req->body) > req->body_len)
				__builtin_trap();
			wg_http_parser_reset(p);
		}
	}
out:
	wg_http_parser_free(p);
	return 0;
}
