/* transport-lanes: several DTLS 1.3 lanes per session (docs/lanes.md).
 *
 * To the host the plugin offers one lane per session, like any transport;
 * behind it are up to max-lanes DTLS 1.3 associations, each keyed from the
 * session's TLS connection (RFC 5705 exporter, lane number as context), and
 * a scheduler that puts each flow on one of the live ones (lane_set.c).
 * The host hears lane_up while any lane of the session is alive and
 * lane_down when none is; packets it sends arrive in send() and are spread
 * there. With "workers" above 1, worker i serves port + i, and the CONNECT
 * answer names the port of the worker that holds the session (docs/
 * architecture.md, "Lanes of one session on several workers").
 *
 * Everything runs on the host's loop thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wolfguard/plugin.h>

#include "dtls_log.h"
#include "hashmap.h"
#include "lane_link.h"
#include "lane_set.h"
#include "transport_util.h"

struct lanes_plugin {
	const struct wg_host *host;
	struct wg_lane_server *srv;
	int port;
	unsigned max_lanes;
	struct wg_lane_settings cfg;
	struct wg_hashmap *by_sid;    /* lane-session id -> struct wg_lane_set */
	struct wg_timer *tick;        /* every wg_lane_check_ms: all sets */
	bool sending;                 /* a send() burst is open */
	struct wg_lane_totals totals[WG_LANES_MAX];
};

/* ---- the lane server's callbacks ------------------------------------------- */

static void *cb_lookup(void *arg, const uint8_t sid[WG_LANE_SID_LEN], unsigned lane, uint8_t psk[WG_LANE_PSK_LEN])
{
	struct lanes_plugin *p = arg;
	struct wg_lane_set *ls = wg_hashmap_get(p->by_sid, sid);

	if (!ls || lane >= ls->n)
		return NULL;
	memcpy(psk, ls->psk[lane], WG_LANE_PSK_LEN);
	return ls;
}

static void cb_burst(void *arg, bool begin)
{
	struct lanes_plugin *p = arg;

	/* Answers (PROBE-ACKs) of a burst leave together, and what the burst
	 * carries reaches the TUN device together. */
	if (begin)
		wg_lane_server_batch_begin(p->srv);
	wg_transport_rx_burst(p->host, begin);
	if (!begin)
		wg_lane_server_batch_end(p->srv);
}

static const struct wg_lane_server_cb callbacks = {
	.lookup = cb_lookup,
	.on_up = wg_lane_set_cb_up,
	.on_record = wg_lane_set_cb_record,
	.on_closed = wg_lane_set_cb_closed,
	.on_burst = cb_burst,
};

/* ---- probes and deadlines: one timer for every set ------------------------------- */

static void tick_one(const void *key, void *value, void *arg)
{
	(void)key;
	wg_lane_set_tick(value, *(const uint64_t *)arg);
}

static void on_tick(void *arg)
{
	struct lanes_plugin *p = arg;
	uint64_t now = wg_lane_now_us();

	/* A tick only closes links or tells the host of liveness; neither
	 * ends a session, so the table does not change under the walk. */
	wg_lane_server_batch_begin(p->srv);
	wg_hashmap_foreach(p->by_sid, tick_one, &now);
	wg_lane_server_batch_end(p->srv);
}

/* ---- transport ops ---------------------------------------------------------------- */

static int add_uint(struct lanes_plugin *p, struct wg_lane *lane, const char *name, unsigned v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	return p->host->lane_add_header(lane, name, buf);
}

static int answer(struct lanes_plugin *p, struct wg_lane *lane, const struct wg_lane_set *ls)
{
	char sid[2 * WG_LANE_SID_LEN + 1], ports[WG_LANES_MAX * 7];
	size_t used = 0;
	int rc = 0;

	wg_hex(ls->sid, WG_LANE_SID_LEN, sid, false);
	for (unsigned i = 0; i < ls->n; i++)
		used += (size_t)snprintf(ports + used, sizeof(ports) - used, "%s%d", i ? "," : "", p->port);
	rc |= add_uint(p, lane, "X-Wolfguard-Lanes", ls->n);
	rc |= p->host->lane_add_header(lane, "X-Wolfguard-Lanes-Session", sid);
	rc |= p->host->lane_add_header(lane, "X-Wolfguard-Lanes-Ports", ports);
	rc |= add_uint(p, lane, "X-Wolfguard-Lanes-MTU", (unsigned)ls->mtu);
	rc |= add_uint(p, lane, "X-Wolfguard-Lanes-Probe-Ms", ls->cfg.probe_ms);
	rc |= add_uint(p, lane, "X-Wolfguard-Lanes-Deadline-Ms", ls->cfg.deadline_ms);
	rc |= p->host->lane_add_header(lane, "X-Wolfguard-Lanes-Cipher", "TLS13-AES128-GCM-SHA256");
	return rc ? -1 : 0;
}

/* Its keys wiped; its links gone already (closed, or never opened). */
static void set_free(void *v)
{
	explicit_bzero(v, sizeof(struct wg_lane_set));
	free(v);
}

static int lanes_offer(void *state, struct wg_lane *lane, const struct wg_lane_offer *o, void **lane_ctx)
{
	struct lanes_plugin *p = state;
	const struct wg_session *s = p->host->lane_session(lane);
	unsigned asked = wg_lane_parse_request(p->host->lane_request_header(lane, "X-Wolfguard-Lanes"));
	struct wg_lane_set *ls;

	if (!asked || !p->srv)
		return -1; /* not asked for (openconnect, AnyConnect): nothing new */
	if (!(ls = calloc(1, sizeof(*ls))))
		return -1;
	ls->host = p->host;
	ls->host_lane = lane;
	ls->n = asked < p->max_lanes ? asked : p->max_lanes;
	ls->mtu = o->mtu;
	ls->cfg = p->cfg;
	ls->totals = p->totals;
	if (getrandom(ls->sid, sizeof(ls->sid), 0) != sizeof(ls->sid) ||
	    getrandom(&ls->hash_seed, sizeof(ls->hash_seed), 0) != sizeof(ls->hash_seed))
		goto fail;
	for (unsigned k = 0; k < ls->n; k++) {
		const uint8_t ctx[2] = {(uint8_t)(k >> 8), (uint8_t)k};
		if (p->host->lane_tls_export_context(lane, WG_LANE_EXPORTER_LABEL, ctx, sizeof(ctx), ls->psk[k],
						     WG_LANE_PSK_LEN) < 0) {
			p->host->log(s, WG_LOG_WARN, "lanes: cannot export lane keys from the TLS session; no lanes");
			goto fail;
		}
	}
	wg_lane_set_init(ls);
	if (answer(p, lane, ls) < 0 || wg_hashmap_put(p->by_sid, ls->sid, ls) < 0)
		goto fail;
	p->host->log(s, WG_LOG_INFO, "lanes: %u of %u asked offered on UDP port %d", ls->n, asked, p->port);
	*lane_ctx = ls;
	return 0;
fail:
	set_free(ls);
	return -1;
}

static void lanes_close(void *state, void *lane_ctx)
{
	struct lanes_plugin *p = state;
	struct wg_lane_set *ls = lane_ctx;

	if (!ls)
		return;
	if (wg_hashmap_get(p->by_sid, ls->sid) == ls)
		wg_hashmap_del(p->by_sid, ls->sid);
	wg_lane_set_close(ls); /* the links go without callbacks */
	set_free(ls);
}

static void lanes_send(void *state, const struct wg_lane_packet *pkts, size_t n)
{
	struct lanes_plugin *p = state;

	if (!p->srv)
		return;
	wg_lane_server_batch_begin(p->srv); /* ends in flush() */
	for (size_t i = 0; i < n; i++)
		if (pkts[i].lane_ctx && pkts[i].type == 0x00)
			wg_lane_set_send(pkts[i].lane_ctx, pkts[i].data, pkts[i].len);
}

static void lanes_flush(void *state)
{
	struct lanes_plugin *p = state;

	if (p->srv)
		wg_lane_server_batch_end(p->srv);
}

static void lanes_stats(void *state, struct wg_transport_stats *out)
{
	struct lanes_plugin *p = state;
	struct wg_lane_server_stats st = {0};

	if (p->srv)
		wg_lane_server_stats(p->srv, &st);
	wg_transport_stats_put(out, st.links_up, st.handshakes_open, st.dropped);
}

static size_t lanes_json(void *state, void *lane_ctx, char *out, size_t len)
{
	(void)state;
	return lane_ctx ? wg_lane_set_json(lane_ctx, out, len) : 0;
}

static void count_alive(const void *key, void *value, void *arg)
{
	const struct wg_lane_set *ls = value;
	uint64_t *alive = arg;

	(void)key;
	for (unsigned i = 0; i < ls->n; i++)
		alive[i] += ls->lane[i].alive;
}

static size_t lanes_metrics(void *state, char *out, size_t len)
{
	struct lanes_plugin *p = state;
	struct wg_lane_server_stats st = {0};
	uint64_t alive[WG_LANES_MAX] = {0};
	size_t used = 0;

	if (!p->srv)
		return 0;
	wg_lane_server_stats(p->srv, &st);
	wg_hashmap_foreach(p->by_sid, count_alive, alive);
	WG_PUT("# HELP wolfguard_lanes_alive Lanes in the rotation now, by lane number.\n"
	    "# TYPE wolfguard_lanes_alive gauge\n");
	for (unsigned i = 0; i < p->max_lanes; i++)
		WG_PUT("wolfguard_lanes_alive{lane=\"%u\"} %" PRIu64 "\n", i, alive[i]);
	WG_PUT("# HELP wolfguard_lanes_tx_bytes_total IP bytes sent to clients over lanes, by lane number.\n"
	    "# TYPE wolfguard_lanes_tx_bytes_total counter\n");
	for (unsigned i = 0; i < p->max_lanes; i++)
		WG_PUT("wolfguard_lanes_tx_bytes_total{lane=\"%u\"} %" PRIu64 "\n", i, p->totals[i].tx_bytes);
	WG_PUT("# HELP wolfguard_lanes_rx_bytes_total IP bytes received from clients over lanes, by lane number.\n"
	    "# TYPE wolfguard_lanes_rx_bytes_total counter\n");
	for (unsigned i = 0; i < p->max_lanes; i++)
		WG_PUT("wolfguard_lanes_rx_bytes_total{lane=\"%u\"} %" PRIu64 "\n", i, p->totals[i].rx_bytes);
	WG_PUT("# HELP wolfguard_lanes_left_rotation_total Times a lane left the rotation (probe missed, closed).\n"
	    "# TYPE wolfguard_lanes_left_rotation_total counter\n");
	for (unsigned i = 0; i < p->max_lanes; i++)
		WG_PUT("wolfguard_lanes_left_rotation_total{lane=\"%u\"} %" PRIu64 "\n", i, p->totals[i].left_rotation);
	WG_PUT("# HELP wolfguard_lanes_handshakes_total Lane handshakes completed.\n"
	    "# TYPE wolfguard_lanes_handshakes_total counter\nwolfguard_lanes_handshakes_total %" PRIu64 "\n",
	    st.handshakes_done);
	WG_PUT("# HELP wolfguard_lanes_refused_total Lane handshakes refused (unknown identity, bad binder, timeout).\n"
	    "# TYPE wolfguard_lanes_refused_total counter\nwolfguard_lanes_refused_total %" PRIu64 "\n",
	    st.handshakes_refused);
	WG_PUT("# HELP wolfguard_lanes_moved_total Lanes that followed their client to a new address (connection ID).\n"
	    "# TYPE wolfguard_lanes_moved_total counter\nwolfguard_lanes_moved_total %" PRIu64 "\n", st.moved);
	return used;
}

/* ---- plugin ------------------------------------------------------------------------ */

static const struct wg_option lanes_options[] = {
	{"port", WG_OPT_INT, 0, 1, 65535, "4443",
	 "UDP port of the lanes; with \"workers\": N, worker i binds port + i"},
	{"listen", WG_OPT_STRING, 0, 0, 0, "::", "address the lanes' UDP socket binds (\"::\" takes IPv4 too)"},
	{"max-lanes", WG_OPT_INT, 0, 1, WG_LANES_MAX, "4", "most lanes one session may open"},
	{"probe-interval-ms", WG_OPT_INT, 0, 20, 5000, "200", "how often each lane is probed (PROBE)"},
	{"probe-deadline-ms", WG_OPT_INT, 0, 20, 10000, "400",
	 "a PROBE unanswered this long takes its lane out of the rotation"},
	{"lane-idle-s", WG_OPT_INT, 0, 1, 86400, "30", "a lane silent this long is forgotten"},
	{"max-handshakes", WG_OPT_INT, 0, 1, 1000000, "1024", "half-open lane handshakes held at once"},
	{"handshake-timeout-ms", WG_OPT_INT, 0, 100, 600000, "10000", "how long a lane handshake may take"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/* The worker's own UDP socket: port + worker index, so that every lane of a
 * session reaches the worker that keyed it. */
static int bind_socket(const struct wg_host *host, const char *listen, int port, char *err, size_t errlen)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	bool v6 = inet_pton(AF_INET6, listen, &a6.sin6_addr) == 1;
	int one = 1, off = 0, fd;

	if (!v6 && inet_pton(AF_INET, listen, &a4.sin_addr) != 1) {
		snprintf(err, errlen, "listen: \"%s\" is not an IP address", listen);
		return -EINVAL;
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && v6 && errno == EAFNOSUPPORT && strcmp(listen, "::") == 0) {
		/* A kernel without IPv6: the default "any" is IPv4's. */
		v6 = false;
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The buffers of the DTLS socket ("udp-buffer-bytes"): with the
	 * kernel's default (about 200 KB) one TCP flow's datagrams overflowed
	 * it while the server was off CPU, and the flow ran at 0.6 of its
	 * speed over DTLS (docs/benchmarks.md, lanes D). */
	if (WG_HOST_HAS(host, udp_socket_buffers))
		host->udp_socket_buffers(fd, "lanes");
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6)) : bind(fd, (struct sockaddr *)&a4, sizeof(a4))) {
		int e = errno;
		snprintf(err, errlen, "cannot bind UDP %s port %d: %s", listen, port, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static int lanes_init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err, size_t errlen)
{
	struct lanes_plugin *p;
	unsigned index = 0, count = 1;
	const char *listen;
	int fd;

	if (!WG_HOST_HAS(host, lane_tls_export_context)) {
		snprintf(err, errlen, "this server cannot export keys with a context (too old for transport-lanes)");
		return -ENOTSUP;
	}
	if (!(p = calloc(1, sizeof(*p))) || !(p->by_sid = wg_hashmap_new(WG_LANE_SID_LEN))) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->host = host;
	dtls_log_set_host(host);
	p->max_lanes = (unsigned)host->config_int(cfg, "max-lanes");
	p->cfg.probe_ms = (uint32_t)host->config_int(cfg, "probe-interval-ms");
	p->cfg.deadline_ms = (uint32_t)host->config_int(cfg, "probe-deadline-ms");
	p->cfg.idle_s = (uint32_t)host->config_int(cfg, "lane-idle-s");
	host->worker_slot(&index, &count);
	p->port = (int)host->config_int(cfg, "port") + (int)index;
	listen = host->config_string(cfg, "listen");
	if (p->port > 65535) {
		snprintf(err, errlen, "port + worker index %u is above 65535", index);
		goto fail;
	}
	fd = bind_socket(host, listen ? listen : "::", p->port, err, errlen);
	if (fd < 0)
		goto fail;
	struct wg_lane_server_limits lim = {.max_handshakes = (unsigned)host->config_int(cfg, "max-handshakes"),
					    .timeout_ms = (unsigned)host->config_int(cfg, "handshake-timeout-ms")};
	p->srv = wg_lane_server_new(host, fd, &callbacks, p, &lim);
	if (!p->srv) {
		snprintf(err, errlen, "cannot serve DTLS 1.3 lanes on UDP port %d", p->port);
		goto fail;
	}
	p->tick = host->timer_add(wg_lane_check_ms(&p->cfg), 1, on_tick, p);
	if (!p->tick) {
		snprintf(err, errlen, "cannot start the probe timer");
		goto fail;
	}
	host->log(NULL, WG_LOG_INFO, "lanes: DTLS 1.3 on UDP port %d, up to %u lanes per session, probes every %u ms",
		  p->port, p->max_lanes, p->cfg.probe_ms);
	*state = p;
	return 0;
fail:
	wg_lane_server_free(p->srv);
	wg_hashmap_free(p->by_sid);
	dtls_log_set_host(NULL);
	free(p);
	return -EINVAL;
}

static void lanes_fini(void *state)
{
	struct lanes_plugin *p = state;

	if (!p)
		return;
	if (p->tick)
		p->host->timer_del(p->tick);
	/* The host closed every lane before; whatever is left goes quietly
	 * (the links first: the sets name them). */
	wg_lane_server_free(p->srv);
	wg_hashmap_free_with(p->by_sid, set_free);
	dtls_log_set_host(NULL);
	free(p);
}

static const struct wg_transport_ops lanes_ops = {
	.struct_size = sizeof(struct wg_transport_ops),
	.offer = lanes_offer,
	.close = lanes_close,
	.send = lanes_send,
	.flush = lanes_flush,
	.stats = lanes_stats,
	.lane_json = lanes_json,
	.metrics_text = lanes_metrics,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "transport-lanes",
	.version = "1.0.0",
	.description = "several DTLS 1.3 lanes per session for clients that ask (X-Wolfguard-Lanes), keyed from the TLS session",
	.kind = WG_PLUGIN_TRANSPORT,
	.options = lanes_options,
	.init = lanes_init,
	.fini = lanes_fini,
	.ops = &lanes_ops,
};
