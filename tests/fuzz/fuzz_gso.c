/* What a TUN device with offloads hands the server: a 10-byte virtio-net
 * header, then a packet (maybe a TCP/UDP super-packet). The segmenter must
 * never read or write out of bounds, and every segment it produces from a
 * GSO packet must be a well-formed packet with valid checksums. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/inet_csum.h"
#include "tunnel/tcp_segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADROOM 16

static uint8_t scratch[HEADROOM + WG_GSO_SCRATCH_MIN];

struct ctx {
	bool gso;
	const uint8_t *in;
	size_t in_len;
	size_t total;
};

static bool l4_ok(const uint8_t *p, size_t len)
{
	int v6 = (p[0] >> 4) == 6;
	size_t ihl = v6 ? 40 : (size_t)(p[0] & 15) * 4;
	uint8_t proto = v6 ? p[6] : p[9];
	uint64_t sum;

	if (!v6 && wg_csum_fold(wg_csum_add(0, p, ihl)) != 0xffff)
		return false;
	sum = wg_csum_pseudo(v6 ? 6 : 4, p + (v6 ? 8 : 12), p + (v6 ? 24 : 16), proto, (uint32_t)(len - ihl));
	return wg_csum_fold(wg_csum_add(sum, p + ihl, len - ihl)) == 0xffff;
}

static void seg(void *arg, uint8_t *pkt, size_t len)
{
	struct ctx *c = arg;

	/* Headroom and the whole packet are writable and readable. */
	memset(pkt - HEADROOM, 0, HEADROOM);
	volatile uint8_t x = 0;
	for (size_t i = 0; i < len; i++)
		x ^= pkt[i];
	(void)x;
	if (c->gso) {
		if (len > 65535 || !l4_ok(pkt, len))
			__builtin_trap();
	} else if (pkt != c->in || len != c->in_len) {
		__builtin_trap();
	}
	c->total += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_vnet_hdr h;
	struct ctx c = {0};
	uint8_t *pkt;
	int r;

	if (size < WG_VNET_HDR_LEN || size > WG_VNET_HDR_LEN + 65536)
		return 0;
	wg_vnet_hdr_parse(data, &h);
	size -= WG_VNET_HDR_LEN;
	/* An exact-size copy (behind the headroom the caller of a plain
	 * packet provides), so any overread is caught. */
	uint8_t *mem = malloc(HEADROOM + size);
	pkt = mem + HEADROOM;
	memcpy(pkt, data + WG_VNET_HDR_LEN, size);
	c.gso = (h.gso_type & 0x7f) != WG_VNET_GSO_NONE;
	c.in = pkt;
	c.in_len = size;
	r = wg_gso_split(&h, pkt, size, scratch, sizeof(scratch), HEADROOM, seg, &c);
	if (r == 0 || (r < 0 && c.total != 0))
		__builtin_trap(); /* an error emits nothing; success emits something */
	free(mem);
	return 0;
}
