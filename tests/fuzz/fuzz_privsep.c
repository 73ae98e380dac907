/* The privileged helper's request and reply decoders: whatever the
 * (possibly compromised) server sends, decoding stays inside the buffer,
 * and a decoded request re-encodes to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "confine/privsep_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_priv_request rq;
	struct wg_priv_reply r;
	const char *why;
	static uint8_t again[WG_PRIV_MSG_MAX];

	if (wg_priv_request_decode(data, size, &rq, &why) == 0) {
		for (unsigned i = 0; i < rq.n; i++)
			if (rq.f[i].p < (const char *)data || rq.f[i].p + rq.f[i].len > (const char *)data + size)
				__builtin_trap();
		int n = wg_priv_request_encode(&rq, again, sizeof(again));
		if (n != (int)size || memcmp(again, data, size) != 0)
			__builtin_trap();
	}
	if (wg_priv_reply_decode(data, size, &r, &why) == 0 && strlen(r.text) > WG_PRIV_TEXT_MAX)
		__builtin_trap();
	return 0;
}
