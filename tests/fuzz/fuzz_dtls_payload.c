/* The payload of a decrypted DTLS record from a client: the type byte and
 * the IP packet behind it, checked against the session's addresses; and
 * the same bytes as a datagram (is it one record?). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tunnel/client_packet.h"
#include "dtls_payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The session is 10.8.0.2 and fd00:8::2. */
	struct wg_packet_owner o = {.addr4 = 0, .has_addr6 = true};
	const uint8_t a4[4] = {10, 8, 0, 2};
	const uint8_t a6[16] = {0xfd, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	const uint8_t *dst = NULL;
	int family = 0;

	memcpy(&o.addr4, a4, 4);
	memcpy(o.addr6, a6, 16);
	/* The same bytes as a datagram: one record exactly when its header's
	 * length covers the rest. */
	if (wg_dtls_single_record(data, size) != (size >= 13 && 13u + (((size_t)data[11] << 8) | data[12]) == size))
		__builtin_trap();
	if (wg_dtls_payload_kind(data, size) != WG_DTLS_DATA)
		return 0;
	const uint8_t *pkt = data + 1;
	size_t len = size - 1;
	if (wg_client_packet_check(pkt, len, &o, &family, &dst) == WG_PACKET_OK) {
		/* The destination lies inside the packet, and the source is ours. */
		size_t need = family == 4 ? 4 : 16;
		if (!dst || dst < pkt || dst + need > pkt + len)
			__builtin_trap();
		if (family == 4 ? memcmp(pkt + 12, a4, 4) != 0 : memcmp(pkt + 8, a6, 16) != 0)
			__builtin_trap();
	}
	return 0;
}
