/* transport-lanes: what the server reads of a datagram before any key is
 * known (plugins/transport-lanes/lane_datagram.c): a DTLS 1.3 record's
 * connection ID, a ClientHello's PSK identity, and whether the datagram
 * is one record. */
#include <stddef.h>
#include <stdint.h>

#include "lane_datagram.h"
#include "lane_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t cid[WG_LANE_CID_LEN], sid[WG_LANE_SID_LEN];
	const uint8_t *id;
	size_t id_len;
	unsigned lane;

	if (wg_lane_datagram_cid(data, size, cid) == 0 && size < 1 + WG_LANE_CID_LEN)
		__builtin_trap();
	/* Read only within the datagram (ASan says otherwise); a length field
	 * can claim one record only of a datagram at least as long. */
	if (wg_lane_datagram_single_record(data, size) && size == 0)
		__builtin_trap();
	if (wg_lane_datagram_psk_identity(data, size, &id, &id_len) == 0) {
		if (id < data || id_len == 0 || id + id_len > data + size)
			__builtin_trap(); /* the identity must lie inside the datagram */
		if (wg_lane_identity_parse(id, id_len, sid, &lane) == 0 && lane >= WG_LANES_MAX)
			__builtin_trap();
	}
	return 0;
}
