#include "transport_util.h"

#include <stdlib.h>

void wg_hex(const uint8_t *in, size_t n, char *out, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void wg_transport_stats_put(struct wg_transport_stats *out, uint64_t lanes_up, uint64_t handshakes, uint64_t dropped)
{
	if (out->struct_size >= offsetof(struct wg_transport_stats, dropped) + sizeof(out->dropped)) {
		out->lanes_up = lanes_up;
		out->handshakes = handshakes;
		out->dropped = dropped;
	}
}

void wg_transport_rx_burst(const struct wg_host *host, bool begin)
{
	if (begin)
		host->rx_begin();
	else
		host->rx_end();
}

void wg_hashmap_free_with(struct wg_hashmap *m, void (*free_value)(void *value))
{
	size_t n;
	void **left;

	if (!m)
		return;
	left = wg_hashmap_values(m, &n);
	for (size_t i = 0; left && i < n; i++)
		free_value(left[i]);
	free(left);
	wg_hashmap_free(m);
}
