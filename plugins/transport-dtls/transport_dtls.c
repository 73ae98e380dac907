/* transport-dtls: openconnect's DTLS data channel as a transport plugin.
 *
 * At CONNECT (offer) the client's X-DTLS-CipherSuite / X-DTLS12-CipherSuite
 * say which DTLS flavours it speaks; the plugin picks one (today
 * PSK-NEGOTIATE: DTLS 1.2 keyed with 32 bytes exported from the session's
 * TLS connection), gives the lane a random App-ID and answers with the
 * X-DTLS-* headers. A ClientHello on the UDP socket is tied to its lane by
 * the session id it carries (the App-ID), before any handshake state exists
 * (dtls_server.c). Clients that offer no PSK-NEGOTIATE (Cisco's) get the
 * legacy flavour: the client's X-DTLS-Master-Secret resumed with the suite
 * chosen here, answered with X-DTLS-Session-ID (the App-ID, so the same
 * table finds its ClientHello) (dtls_legacy*.c, docs/dtls.md).
 *
 * Everything runs on the host's loop thread. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <wolfguard/plugin.h>

#include "dtls_log.h"
#include "dtls_server.h"
#include "hashmap.h"
#include "transport_util.h"

static const char psk_label[] = "EXPORTER-openconnect-psk";

enum flavour {
	FLAVOUR_NONE = 0,
	FLAVOUR_PSK_NEGOTIATE, /* openconnect's DTLS 1.2 PSK */
	FLAVOUR_LEGACY,        /* Cisco's master-secret resumption (dtls_legacy*.c) */
};

struct dtls_plugin {
	const struct wg_host *host;
	struct wg_dtls_server *srv; /* NULL: no UDP socket ("udp-port": 0) */
	int port;
	struct wg_hashmap *by_app_id; /* 32-byte App-ID -> struct lane_offer */
	bool legacy_on;               /* option dtls-legacy */
};

/* One session's lane: what its ClientHello must name and the key. */
struct lane_offer {
	struct dtls_plugin *p;
	struct wg_lane *lane;         /* the host's, until close() */
	enum flavour flavour;
	uint8_t app_id[WG_DTLS_APP_ID_LEN];
	uint8_t psk[WG_DTLS_PSK_LEN]; /* wiped on close */
	struct wg_dtls_legacy_params legacy; /* FLAVOUR_LEGACY; wiped on close */
	struct wg_dtls_link *link;    /* the up link, or NULL */
};

/* The flavour this client gets, by its CONNECT headers: PSK-NEGOTIATE
 * whenever it is offered; else, with dtls-legacy on, the best legacy suite
 * offered (dtls_legacy_hdr.c), resumed with the client's master secret,
 * which is left in offer; else none (CSTP only, and the log says why). */
static enum flavour choose_flavour(const struct dtls_plugin *p, struct wg_lane *lane,
				   struct wg_dtls_legacy_offer *offer)
{
	const struct wg_session *s = p->host->lane_session(lane);

	wg_dtls_legacy_parse(p->host->lane_request_header(lane, "X-DTLS-Master-Secret"),
			     p->host->lane_request_header(lane, "X-DTLS-CipherSuite"),
			     p->host->lane_request_header(lane, "X-DTLS12-CipherSuite"), offer);
	if (offer->psk_negotiate)
		return FLAVOUR_PSK_NEGOTIATE;
	if (offer->suite && p->legacy_on && wg_dtls_server_legacy_ok(p->srv))
		return FLAVOUR_LEGACY;
	if (offer->suite)
		p->host->log(s, WG_LOG_INFO, "client offers legacy DTLS (%s) only; %s: TLS only", offer->suite->name,
			     p->legacy_on ? "this wolfSSL cannot resume it" : "dtls-legacy is off");
	else if (offer->unsupported)
		p->host->log(s, WG_LOG_INFO,
			     "client offers only pre-standard DTLS 0.9 suites (%s...), which wolfSSL cannot speak: TLS only",
			     offer->unsupported->name);
	return FLAVOUR_NONE;
}

static void offer_free(void *v)
{
	struct lane_offer *o = v;

	explicit_bzero(o->psk, sizeof(o->psk));
	explicit_bzero(&o->legacy, sizeof(o->legacy));
	free(o);
}

/* ---- the DTLS server's callbacks --------------------------------------- */

static void *cb_lookup(void *arg, const uint8_t *app_id, size_t len, uint8_t psk[WG_DTLS_PSK_LEN])
{
	struct dtls_plugin *p = arg;
	struct lane_offer *o;

	if (len != WG_DTLS_APP_ID_LEN || !(o = wg_hashmap_get(p->by_app_id, app_id)))
		return NULL;
	memcpy(psk, o->psk, WG_DTLS_PSK_LEN);
	return o;
}

static void cb_up(void *arg, void *session, struct wg_dtls_link *link)
{
	struct dtls_plugin *p = arg;
	struct lane_offer *o = session;

	if (o->link && o->link != link)
		wg_dtls_link_close(o->link); /* the client moved to a new address */
	o->link = link;
	p->host->lane_up(o->lane, wg_dtls_link_max_payload(link), wg_dtls_link_peer(link));
}

static void cb_packet(void *arg, void *session, uint8_t type, const uint8_t *payload, size_t len)
{
	struct dtls_plugin *p = arg;
	struct lane_offer *o = session;

	/* May end the session, and so close() this lane, inside the call. */
	p->host->lane_input(o->lane, type, payload, len);
}

static void cb_closed(void *arg, void *session, struct wg_dtls_link *link)
{
	struct dtls_plugin *p = arg;
	struct lane_offer *o = session;

	if (o->link != link)
		return;
	o->link = NULL;
	p->host->lane_down(o->lane, "DTLS link closed");
}

static void cb_burst(void *arg, bool begin)
{
	struct dtls_plugin *p = arg;

	wg_transport_rx_burst(p->host, begin);
}

/* legacy DTLS: the lane resumes its client's master secret */
static bool cb_legacy(void *arg, void *session, struct wg_dtls_legacy_params *out)
{
	struct lane_offer *o = session;

	(void)arg;
	if (o->flavour != FLAVOUR_LEGACY)
		return false;
	*out = o->legacy;
	return true;
}

static const struct wg_dtls_callbacks callbacks = {
	.legacy = cb_legacy,
	.lookup = cb_lookup,
	.on_up = cb_up,
	.on_packet = cb_packet,
	.on_closed = cb_closed,
	.on_burst = cb_burst,
};

/* ---- transport ops ------------------------------------------------------- */

static int add_header_fmt(struct dtls_plugin *p, struct wg_lane *lane, const char *name, const char *fmt, unsigned v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), fmt, v);
	return p->host->lane_add_header(lane, name, buf);
}

static int dtls_offer(void *state, struct wg_lane *lane, const struct wg_lane_offer *lo, void **lane_ctx)
{
	struct dtls_plugin *p = state;
	const struct wg_session *s = p->host->lane_session(lane);
	struct lane_offer *o;
	char id[2 * WG_DTLS_APP_ID_LEN + 1];
	struct wg_dtls_legacy_offer offer;
	enum flavour f;
	int rc = 0;

	if (!p->srv)
		return 1; /* the client goes on over CSTP */
	f = choose_flavour(p, lane, &offer);
	if (f == FLAVOUR_NONE || !(o = calloc(1, sizeof(*o)))) {
		explicit_bzero(&offer, sizeof(offer));
		return f == FLAVOUR_NONE ? 1 : -ENOMEM;
	}
	o->p = p;
	o->lane = lane;
	o->flavour = f;
	if (f == FLAVOUR_LEGACY) {
		o->legacy.suite = offer.suite;
		memcpy(o->legacy.master, offer.master, sizeof(o->legacy.master));
	}
	explicit_bzero(&offer, sizeof(offer));
	if (f == FLAVOUR_PSK_NEGOTIATE && p->host->lane_tls_export(lane, psk_label, o->psk, sizeof(o->psk)) < 0) {
		p->host->log(s, WG_LOG_WARN, "cannot export the DTLS key from the TLS session; DTLS off for this session");
		offer_free(o);
		return -EIO;
	}
	/* A fresh App-ID per CONNECT; a collision (2^-256) is retried. */
	do {
		if (getrandom(o->app_id, sizeof(o->app_id), 0) != sizeof(o->app_id)) {
			offer_free(o);
			return -EIO;
		}
	} while (wg_hashmap_get(p->by_app_id, o->app_id));
	if (wg_hashmap_put(p->by_app_id, o->app_id, o) < 0) {
		offer_free(o);
		return -ENOMEM;
	}
	wg_hex(o->app_id, sizeof(o->app_id), id, true);
	if (f == FLAVOUR_PSK_NEGOTIATE) {
		rc |= p->host->lane_add_header(lane, "X-DTLS-App-ID", id);
		rc |= p->host->lane_add_header(lane, "X-DTLS-CipherSuite", "PSK-NEGOTIATE");
	} else {
		/* The session id the client resumes is the App-ID, so its
		 * ClientHello finds the lane exactly as with PSK. */
		memcpy(o->legacy.session_id, o->app_id, sizeof(o->legacy.session_id));
		rc |= p->host->lane_add_header(lane, "X-DTLS-Session-ID", id);
		rc |= p->host->lane_add_header(lane, o->legacy.suite->dtls12_header ? "X-DTLS12-CipherSuite"
										 : "X-DTLS-CipherSuite",
					       o->legacy.suite->name);
		p->host->log(s, WG_LOG_INFO, "legacy DTLS offered: %s", o->legacy.suite->name);
	}
	rc |= add_header_fmt(p, lane, "X-DTLS-Port", "%u", (unsigned)p->port);
	rc |= add_header_fmt(p, lane, "X-DTLS-DPD", "%u", lo->dpd_s);
	rc |= add_header_fmt(p, lane, "X-DTLS-Keepalive", "%u", lo->keepalive_s);
	rc |= p->host->lane_add_header(lane, "X-DTLS-Rekey-Method", "none");
	rc |= add_header_fmt(p, lane, "X-DTLS-MTU", "%u", lo->mtu);
	if (rc != 0) {
		wg_hashmap_del(p->by_app_id, o->app_id);
		offer_free(o);
		return -ENOSPC;
	}
	*lane_ctx = o;
	return 0;
}

static void dtls_close(void *state, void *lane_ctx)
{
	struct dtls_plugin *p = state;
	struct lane_offer *o = lane_ctx;

	if (!o)
		return;
	if (wg_hashmap_get(p->by_app_id, o->app_id) == o)
		wg_hashmap_del(p->by_app_id, o->app_id);
	if (o->link)
		wg_dtls_link_close(o->link); /* no callback: on_closed is not called */
	offer_free(o);
}

static void dtls_send(void *state, const struct wg_lane_packet *pkts, size_t n)
{
	struct dtls_plugin *p = state;

	if (!p->srv)
		return;
	/* Records leave together at flush(): one sendmmsg, UDP GSO. */
	wg_dtls_server_batch_begin(p->srv);
	for (size_t i = 0; i < n; i++) {
		struct lane_offer *o = pkts[i].lane_ctx;
		if (!o || !o->link)
			continue; /* down since it was queued: dropped */
		/* The type byte goes into the headroom: no copy. */
		pkts[i].data[-1] = (uint8_t)pkts[i].type;
		wg_dtls_send_record(o->link, pkts[i].data - 1, (size_t)pkts[i].len + 1);
	}
}

static void dtls_flush(void *state)
{
	struct dtls_plugin *p = state;

	if (p->srv)
		wg_dtls_server_batch_end(p->srv);
}

static void dtls_stats(void *state, struct wg_transport_stats *out)
{
	struct dtls_plugin *p = state;
	struct wg_dtls_stats st = {0};

	if (p->srv)
		wg_dtls_server_stats(p->srv, &st);
	wg_transport_stats_put(out, st.links_up, st.handshakes, st.dropped);
}

/* What UDP GRO does on the socket: whether the kernel hands over trains at
 * all (it needs GRO on the receiving interface), and how long they are. */
static size_t dtls_metrics(void *state, char *out, size_t len)
{
	struct dtls_plugin *p = state;
	struct wg_dtls_stats st = {0};
	size_t used = 0;

	if (!p->srv)
		return 0;
	wg_dtls_server_stats(p->srv, &st);
	WG_PUT("# HELP wolfguard_dtls_udp_gro UDP GRO on the DTLS socket (1 on, 0 off).\n"
	    "# TYPE wolfguard_dtls_udp_gro gauge\nwolfguard_dtls_udp_gro %d\n",
	    st.gro ? 1 : 0);
	WG_PUT("# HELP wolfguard_dtls_gro_trains_total Receives on the DTLS socket that held more than one datagram (UDP GRO).\n"
	    "# TYPE wolfguard_dtls_gro_trains_total counter\nwolfguard_dtls_gro_trains_total %" PRIu64 "\n",
	    st.gro_trains);
	WG_PUT("# HELP wolfguard_dtls_gro_train_datagrams_total The datagrams those receives held.\n"
	    "# TYPE wolfguard_dtls_gro_train_datagrams_total counter\nwolfguard_dtls_gro_train_datagrams_total %" PRIu64
	    "\n",
	    st.gro_train_datagrams);
	WG_PUT("# HELP wolfguard_dtls_rx_refused_total Receives or datagrams dropped unread: cut by the receive buffer, empty, or larger than DTLS reads.\n"
	    "# TYPE wolfguard_dtls_rx_refused_total counter\nwolfguard_dtls_rx_refused_total %" PRIu64 "\n",
	    st.rx_refused);
	return used;
}

/* ---- plugin ---------------------------------------------------------------- */

static const struct wg_option dtls_options[] = {
	{"max-handshakes", WG_OPT_INT, 0, 1, 1000000, "1024",
	 "half-open DTLS handshakes held at once (after the cookie exchange); more ClientHellos are dropped"},
	{"handshakes-per-session", WG_OPT_INT, 0, 1, 1000, "4",
	 "half-open handshakes one session (App-ID) may hold, so one user cannot take every slot"},
	{"handshakes-per-address", WG_OPT_INT, 0, 1, 1000000, "64",
	 "half-open handshakes one client IP address may hold (users behind one NAT share it)"},
	{"handshake-timeout-ms", WG_OPT_INT, 0, 100, 600000, "10000", "how long a half-open handshake may take"},
	{"dtls-legacy", WG_OPT_BOOL, 0, 0, 0, "true",
	 "answer clients that offer no PSK-NEGOTIATE (Cisco AnyConnect, openconnect --dtls-ciphers) with a legacy "
	 "DTLS 1.2 suite and session resumption; false: they get TLS only"},
	{"udp-gro", WG_OPT_BOOL, 0, 0, 0, "true",
	 "UDP GRO on the DTLS socket: the kernel hands over a train of one client's datagrams in one receive "
	 "(where the receiving interface does GRO; kernels before 5.0 have none); false: one datagram per receive"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static int dtls_init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err, size_t errlen)
{
	struct dtls_plugin *p;
	int fd;

	if (!WG_HOST_HAS(host, rx_end)) {
		snprintf(err, errlen, "this server has no transport functions (too old for transport plugins)");
		return -ENOTSUP;
	}
	if (!(p = calloc(1, sizeof(*p))) || !(p->by_app_id = wg_hashmap_new(WG_DTLS_APP_ID_LEN))) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->host = host;
	p->legacy_on = host->config_bool(cfg, "dtls-legacy");
	dtls_log_set_host(host);
	fd = host->transport_udp_socket();
	if (fd < 0) {
		host->log(NULL, WG_LOG_NOTICE, "DTLS off: no UDP socket (udp-port is 0, or another transport has it)");
	} else {
		p->srv = wg_dtls_server_new_on(host, fd, &callbacks, p);
		if (!p->srv) {
			wg_hashmap_free(p->by_app_id);
			free(p);
			snprintf(err, errlen, "cannot serve DTLS on the UDP socket");
			return -EIO;
		}
		wg_dtls_server_set_limits(p->srv, (unsigned)host->config_int(cfg, "max-handshakes"),
					  (unsigned)host->config_int(cfg, "handshake-timeout-ms"));
		wg_dtls_server_set_shares(p->srv, (unsigned)host->config_int(cfg, "handshakes-per-session"),
					  (unsigned)host->config_int(cfg, "handshakes-per-address"));
		if (!host->config_bool(cfg, "udp-gro"))
			wg_dtls_server_set_gro(p->srv, false);
		p->port = wg_dtls_server_port(p->srv);
		struct wg_dtls_stats st = {0};
		wg_dtls_server_stats(p->srv, &st);
		host->log(NULL, WG_LOG_INFO, "DTLS on UDP port %d (PSK-NEGOTIATE%s; UDP GRO %s)", p->port,
			  !p->legacy_on ? "" : wg_dtls_server_legacy_ok(p->srv) ? ", legacy resumption" : ", legacy unavailable",
			  st.gro ? "on" : "off");
	}
	*state = p;
	return 0;
}

static void dtls_fini(void *state)
{
	struct dtls_plugin *p = state;

	if (!p)
		return;
	if (p->srv) {
		struct wg_dtls_stats st = {0};
		wg_dtls_server_stats(p->srv, &st);
		p->host->log(NULL, WG_LOG_INFO,
			     "DTLS: UDP GRO %s: %" PRIu64 " trains held %" PRIu64 " datagrams; %" PRIu64 " receives refused",
			     st.gro ? "on" : "off", st.gro_trains, st.gro_train_datagrams, st.rx_refused);
	}
	/* The host closed every lane before; whatever is left goes quietly
	 * (the links first: they name the offers). */
	wg_dtls_server_free(p->srv);
	wg_hashmap_free_with(p->by_app_id, offer_free);
	dtls_log_set_host(NULL);
	free(p);
}

static const struct wg_transport_ops dtls_ops = {
	.struct_size = sizeof(struct wg_transport_ops),
	.offer = dtls_offer,
	.close = dtls_close,
	.send = dtls_send,
	.flush = dtls_flush,
	.stats = dtls_stats,
	.metrics_text = dtls_metrics,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "transport-dtls",
	.version = "1.0.0",
	.description = "openconnect DTLS 1.2 (PSK-NEGOTIATE, and Cisco's legacy resumption) data channel beside CSTP",
	.kind = WG_PLUGIN_TRANSPORT,
	.options = dtls_options,
	.init = dtls_init,
	.fini = dtls_fini,
	.ops = &dtls_ops,
};
