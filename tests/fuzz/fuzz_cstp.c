/* CSTP frame parsing over a stream of frames. */
#include <stddef.h>
#include <stdint.h>

#include "tunnel/cstp_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct wg_cstp_frame f;
		int n = wg_cstp_parse(data + off, size - off, 16384, &f);
		if (n <= 0)
			break;
		if ((size_t)n > size - off || f.payload + f.len > data + size)
			__builtin_trap();
		off += (size_t)n;
	}
	return 0;
}
