/* The ClientHello peek that ties UDP flows to sessions. */
#include <stddef.h>
#include <stdint.h>

#include "dtls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sid[WG_DTLS_SESSION_ID_MAX];
	size_t len = 0;

	if (wg_dtls_hello_session_id(data, size, sid, &len) == 0 && len > WG_DTLS_SESSION_ID_MAX)
		__builtin_trap();
	return 0;
}
