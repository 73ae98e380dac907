/* RADIUS replies to an Access-Request, as auth-radius checks them before
 * reading any attribute (plugins/auth-radius/radius_packet.c): framing,
 * code, id, Response Authenticator, Message-Authenticator. The seeds are
 * signed with the secret and request authenticator below. */
#include <stddef.h>
#include <stdint.h>

#include "../../plugins/auth-radius/radius_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t auth[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	char why[200];
	size_t pos = RADIUS_HDR_LEN, vlen;
	const uint8_t *value;
	uint8_t type;

	if (radius_reply_check(data, size, 7, auth, "wg-lab-radius-secret", true, why, sizeof(why)) == 0 ||
	    radius_reply_check(data, size, 7, auth, "wg-lab-radius-secret", false, why, sizeof(why)) == 0) {
		size_t len = (size_t)data[2] << 8 | data[3];
		while (radius_attr_next(data, len, &pos, &type, &value, &vlen)) {
			size_t vpos = 4, sublen;
			const uint8_t *sub;
			uint32_t vendor;
			uint8_t vtype;
			if (type == 26) /* Vendor-Specific: WISPr and Roaring Penguin rates */
				while (radius_vsa_next(value, vlen, &vpos, &vendor, &vtype, &sub, &sublen))
					;
		}
	}
	/* The Vendor-Specific walk on its own too: behind a valid signature the
	 * fuzzer rarely reaches it. */
	{
		size_t vpos = 4, sublen;
		const uint8_t *sub;
		uint32_t vendor;
		uint8_t vtype;
		while (radius_vsa_next(data, size > 253 ? 253 : size, &vpos, &vendor, &vtype, &sub, &sublen))
			;
	}
	return 0;
}
