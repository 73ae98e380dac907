/* The DTLS socket's GRO train splitter (plugins/lib-dtls/udp_gro.c), fed
 * what a receive could report: the input is a 2-byte segment size (big
 * endian), a flags byte (bit 0: MSG_TRUNC; bit 1: the length claims one
 * byte more than the buffer holds), then the received bytes, in a buffer
 * of exactly their size (so ASan sees any read past it). It must never
 * read outside the buffer; every datagram it gives is non-empty, lies in
 * the received bytes, follows the one before, and all but the last are
 * the segment size; an uncut train is given whole, a cut one only in whole
 * segments. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "udp_gro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_udp_train t;
	enum wg_udp_train_verdict v;
	size_t seg, len, cap, n, sum = 0, count = 0, last = 0;
	uint8_t *buf, *d, *expect;
	bool cut, overlong;
	unsigned x = 0;

	if (size < 3)
		return 0;
	seg = (size_t)data[0] << 8 | data[1];
	cut = data[2] & 1;
	overlong = data[2] & 2;
	cap = size - 3;
	len = cap + (overlong ? 1 : 0);
	buf = malloc(cap ? cap : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 3, cap);
	v = wg_udp_train_start(&t, buf, cap, len, seg, cut);
	expect = buf;
	while (wg_udp_train_next(&t, &d, &n)) {
		if (n == 0 || d != expect || d < buf || d + n > buf + cap)
			__builtin_trap();
		if (count > 0 && seg && last != seg)
			__builtin_trap(); /* only the last may differ */
		for (size_t i = 0; i < n; i++)
			x += d[i];
		expect = d + n;
		last = n;
		sum += n;
		count++;
	}
	if (v == WG_UDP_TRAIN_BAD && count != 0)
		__builtin_trap();
	if ((overlong || cap == 0) && v != WG_UDP_TRAIN_BAD)
		__builtin_trap();
	if (v == WG_UDP_TRAIN_WHOLE && sum != len)
		__builtin_trap();
	if (v == WG_UDP_TRAIN_CUT && (!cut || seg == 0 || sum % seg != 0 || sum == 0))
		__builtin_trap();
	if (!cut && !overlong && cap > 0 && v != WG_UDP_TRAIN_WHOLE)
		__builtin_trap();
	free(buf);
	return (int)(x & 0);
}
