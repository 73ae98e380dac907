/* A build without plugins/transport-lanes (whose lane_msg.c and
 * lane_sched.c the client compiles in): --lanes is refused at start. */
#include "lanes.h"

#include <stddef.h>

int wgc_lanes_available(void)
{
	return 0;
}

struct wgc_lanes *wgc_lanes_start(struct event_base *base, WOLFSSL *tls, const struct wgc *c)
{
	(void)base;
	(void)tls;
	(void)c;
	return NULL;
}

int wgc_lanes_send(struct wgc_lanes *l, const uint8_t *pkt, size_t len)
{
	(void)l;
	(void)pkt;
	(void)len;
	return 0;
}

void wgc_lanes_summary(const struct wgc_lanes *l, char *out, size_t outlen)
{
	(void)l;
	if (outlen)
		out[0] = '\0';
}

void wgc_lanes_free(struct wgc_lanes *l, int with_close)
{
	(void)l;
	(void)with_close;
}
