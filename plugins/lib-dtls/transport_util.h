/* Small pieces both DTLS transport plugins need around their servers. */
#ifndef WG_TRANSPORT_UTIL_H
#define WG_TRANSPORT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <wolfguard/plugin.h>

#include "hashmap.h"

/* n bytes as 2n hex digits and a NUL (upper: "AB", else "ab"); openconnect
 * reads X-DTLS-App-ID in either case, the lanes' session id is lower. */
void wg_hex(const uint8_t *in, size_t n, char *out, bool upper);
/* The transport's counters into out, as far as the host's struct has them. */
void wg_transport_stats_put(struct wg_transport_stats *out, uint64_t lanes_up, uint64_t handshakes, uint64_t dropped);
/* A burst of received datagrams begins (true) or ends: the host gathers
 * what it carries for the TUN device. */
void wg_transport_rx_burst(const struct wg_host *host, bool begin);
/* Frees a map and, with free_value, every value left in it. */
void wg_hashmap_free_with(struct wg_hashmap *m, void (*free_value)(void *value));

/* In a metrics callback (char *out, size_t len, size_t used): appends
 * printf-formatted text, and returns 0 (nothing written, as the host expects
 * of text that does not fit) once it would not fit. */
#define WG_PUT(...)                                                               \
	do {                                                                      \
		int k_ = snprintf(out + used, len - used, __VA_ARGS__);           \
		if (k_ < 0 || used + (size_t)k_ >= len)                           \
			return 0;                                                 \
		used += (size_t)k_;                                               \
	} while (0)

#endif
