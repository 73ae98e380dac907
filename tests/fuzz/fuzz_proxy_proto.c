/* The PROXY protocol header parser (core/net/proxy_proto.c), fed what a
 * client or a relay sends first. Besides not crashing: a header's length
 * never exceeds the bytes given, a decided answer does not change when more
 * bytes follow, and every shorter prefix of a valid header asks for more
 * (the connection reads headers in pieces). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/proxy_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_proxy_header h, h2;
	const char *err = NULL;
	int r = wg_proxy_parse(data, size, &h, &err);

	if (r < 0 && !err)
		__builtin_trap();
	if (r > 0) {
		if ((size_t)r > size || (size_t)r > WG_PROXY_MAX_HEADER)
			__builtin_trap();
		if (h.has_source && h.source.ss_family != AF_INET && h.source.ss_family != AF_INET6)
			__builtin_trap();
		for (size_t k = 0; k < (size_t)r; k++)
			if (wg_proxy_parse(data, k, &h2, &err) != 0)
				__builtin_trap();
		if (!wg_proxy_looks_like_header(data, size) && r >= 12)
			__builtin_trap();
	}
	/* Trailing bytes are the client's: they never change the verdict. */
	uint8_t *more = malloc(size + 16);
	if (!more)
		return 0;
	memcpy(more, data, size);
	memset(more + size, 0x16, 16);
	if (r != 0) {
		int r2 = wg_proxy_parse(more, size + 16, &h2, &err);
		if ((r > 0 && r2 != r) || (r < 0 && r2 >= 0))
			__builtin_trap();
		if (r > 0 && (h2.has_source != h.has_source ||
			      (h.has_source && memcmp(&h.source, &h2.source, h.source_len) != 0)))
			__builtin_trap();
	}
	free(more);
	return 0;
}
