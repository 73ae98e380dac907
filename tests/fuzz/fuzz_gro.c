/* What clients send through the tunnel, as a sequence of packets (each:
 * 2-byte big-endian length, then the bytes) fed to the TCP coalescer. It
 * must never read or write out of bounds; every merged packet it emits must
 * be one the segmenter accepts, whose segments carry valid checksums; and
 * no payload byte may be lost or invented (byte counts match). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/inet_csum.h"
#include "tunnel/tcp_coalesce.h"
#include "tunnel/tcp_segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t scratch[16 + WG_GSO_SCRATCH_MIN];
static size_t in_bytes, out_bytes;

static void count_seg(void *arg, uint8_t *pkt, size_t len)
{
	int v6 = (pkt[0] >> 4) == 6;
	size_t ihl = v6 ? 40 : 20;
	uint64_t sum;

	(void)arg;
	if (!v6 && wg_csum_fold(wg_csum_add(0, pkt, ihl)) != 0xffff)
		__builtin_trap();
	sum = wg_csum_pseudo(v6 ? 6 : 4, pkt + (v6 ? 8 : 12), pkt + (v6 ? 24 : 16), 6, (uint32_t)(len - ihl));
	if (wg_csum_fold(wg_csum_add(sum, pkt + ihl, len - ihl)) != 0xffff)
		__builtin_trap();
	out_bytes += len;
}

static void emit(void *arg, const struct wg_vnet_hdr *h, const uint8_t *pkt, size_t len)
{
	(void)arg;
	if (h->gso_type == WG_VNET_GSO_NONE) {
		if (h->flags)
			__builtin_trap();
		out_bytes += len;
		return;
	}
	if (len > 65535)
		__builtin_trap();
	uint8_t *copy = malloc(len + 16);
	memcpy(copy + 16, pkt, len);
	if (wg_gso_split(h, copy + 16, len, scratch, sizeof(scratch), 16, count_seg, NULL) < 2)
		__builtin_trap(); /* a merged packet holds at least two segments */
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_gro *g = wg_gro_new(emit, NULL);
	size_t merged_hdr_bytes;

	if (!g)
		return 0;
	in_bytes = out_bytes = 0;
	while (size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		uint8_t *p = malloc(len ? len : 1); /* exact size: overreads are caught */
		memcpy(p, data, len);
		wg_gro_add(g, p, len);
		free(p);
		in_bytes += len;
		data += len;
		size -= len;
	}
	wg_gro_flush(g);
	wg_gro_free(g);
	(void)merged_hdr_bytes;
	/* Segments of merged packets carry their headers again, so the bytes
	 * out equal the bytes in. */
	if (out_bytes != in_bytes)
		__builtin_trap();
	return 0;
}
