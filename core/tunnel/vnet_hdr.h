/* The header a TUN device opened with IFF_VNET_HDR puts before every packet
 * (struct virtio_net_hdr, 10 bytes, the legacy layout in host byte order,
 * which is what TUN uses unless TUNSETVNETLE/BE is set). It says whether the
 * packet is a GSO super-packet (TCP or UDP payload to cut into gso_size
 * pieces) and whether its L4 checksum is still to be completed
 * (NEEDS_CSUM: sum from csum_start to the end, store at
 * csum_start + csum_offset). See the Linux virtio-net documentation and
 * include/linux/virtio_net.h. */
#ifndef WG_VNET_HDR_H
#define WG_VNET_HDR_H

#include <stdint.h>
#include <string.h>

#define WG_VNET_HDR_LEN 10

/* Flags and GSO types, as in linux/virtio_net.h (the UDP_L4 type is newer
 * than some installed headers). */
#define WG_VNET_F_NEEDS_CSUM 1
#define WG_VNET_F_DATA_VALID 2
#define WG_VNET_GSO_NONE 0
#define WG_VNET_GSO_TCPV4 1
#define WG_VNET_GSO_UDP 3 /* UFO: fragmentation; never enabled here */
#define WG_VNET_GSO_TCPV6 4
#define WG_VNET_GSO_UDP_L4 5
#define WG_VNET_GSO_ECN 0x80

struct wg_vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

static inline void wg_vnet_hdr_parse(const uint8_t *raw, struct wg_vnet_hdr *h)
{
	h->flags = raw[0];
	h->gso_type = raw[1];
	memcpy(&h->hdr_len, raw + 2, 2);
	memcpy(&h->gso_size, raw + 4, 2);
	memcpy(&h->csum_start, raw + 6, 2);
	memcpy(&h->csum_offset, raw + 8, 2);
}

static inline void wg_vnet_hdr_write(uint8_t *raw, const struct wg_vnet_hdr *h)
{
	raw[0] = h->flags;
	raw[1] = h->gso_type;
	memcpy(raw + 2, &h->hdr_len, 2);
	memcpy(raw + 4, &h->gso_size, 2);
	memcpy(raw + 6, &h->csum_start, 2);
	memcpy(raw + 8, &h->csum_offset, 2);
}

#endif
