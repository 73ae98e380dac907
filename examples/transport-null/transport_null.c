/* transport-null: the smallest wolfguard transport, built out of tree
 * against the installed SDK. It offers a lane to clients whose CONNECT
 * request carries the configured header (default "X-Null-Lane"), answers
 * with that header, and counts what the server hands it: packets given to
 * send() are counted and dropped, as a transport with no network would.
 * Its lanes never come up (it never calls lane_up), so the server keeps
 * sending over CSTP: an example of the rules, not a way to move packets.
 *
 * What a real transport adds: a socket (host->transport_udp_socket or its
 * own) watched with host->fd_watch, a handshake that ends in
 * host->lane_up(lane, max_payload, peer), received records given to
 * host->lane_input between host->rx_begin/rx_end, and host->lane_down when
 * its link goes. See docs/plugins.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

struct null_transport {
	const struct wg_host *host; /* valid for the plugin's lifetime */
	char header[64];            /* the request header that asks for a lane */
	uint64_t lanes, dropped;
};

/* One offered lane; the server names it by this pointer until close(). */
struct null_lane {
	struct wg_lane *lane;
};

static int null_offer(void *state, struct wg_lane *lane, const struct wg_lane_offer *o, void **lane_ctx)
{
	struct null_transport *t = state;
	struct null_lane *l;
	char mtu[16];

	/* Only during offer(): the client's request and our answer. */
	if (!t->host->lane_request_header(lane, t->header))
		return 1; /* not asked for: no lane, the client keeps CSTP */
	if (!(l = calloc(1, sizeof(*l))))
		return -ENOMEM;
	l->lane = lane;
	snprintf(mtu, sizeof(mtu), "%u", o->mtu);
	if (t->host->lane_add_header(lane, t->header, mtu) < 0) {
		free(l);
		return -ENOSPC;
	}
	t->lanes++;
	*lane_ctx = l;
	return 0;
}

static void null_close(void *state, void *lane_ctx)
{
	struct null_transport *t = state;

	/* After this, neither the lane nor lane_ctx may be used. */
	t->lanes--;
	free(lane_ctx);
}

static void null_send(void *state, const struct wg_lane_packet *pkts, size_t n)
{
	struct null_transport *t = state;

	/* pkts[i].data is valid only now; a real transport encrypts it here
	 * (its framing may go into the WG_LANE_HEADROOM bytes before data)
	 * and keeps the result for flush(). */
	for (size_t i = 0; i < n; i++)
		if (pkts[i].len > 0)
			t->dropped++;
}

static void null_flush(void *state)
{
	(void)state; /* a real transport sends what send() prepared, here */
}

static void null_stats(void *state, struct wg_transport_stats *out)
{
	struct null_transport *t = state;

	if (out->struct_size >= offsetof(struct wg_transport_stats, dropped) + sizeof(out->dropped)) {
		out->lanes_up = 0;
		out->handshakes = 0;
		out->dropped = t->dropped;
	}
}

static int null_init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err,
		     size_t errlen)
{
	struct null_transport *t;

	/* The transport functions were appended to the host table: an older
	 * server has none, and says so here rather than crashing later. */
	if (!WG_HOST_HAS(host, rx_end)) {
		snprintf(err, errlen, "this server cannot host transports");
		return -ENOTSUP;
	}
	if (!(t = calloc(1, sizeof(*t)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->host = host;
	snprintf(t->header, sizeof(t->header), "%s", host->config_string(cfg, "header"));
	*state = t;
	return 0;
}

static void null_fini(void *state)
{
	free(state);
}

static const struct wg_option null_options[] = {
	{"header", WG_OPT_STRING, 0, 0, 0, "X-Null-Lane", "the CONNECT request header that asks for a lane"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct wg_transport_ops null_ops = {
	.struct_size = sizeof(struct wg_transport_ops),
	.offer = null_offer,
	.close = null_close,
	.send = null_send,
	.flush = null_flush,
	.stats = null_stats,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "transport-null",
	.version = "0.1.0",
	.description = "example transport: offers a lane on request, counts and drops its packets",
	.kind = WG_PLUGIN_TRANSPORT,
	.options = null_options,
	.init = null_init,
	.fini = null_fini,
	.ops = &null_ops,
};
