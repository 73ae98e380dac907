/* Lanes: the ways a session's packets may travel beside CSTP, offered by
 * transport plugins (struct wg_transport_ops) at each CONNECT.
 *
 * CSTP is the lane that is always there: it is the session's TLS connection
 * and needs no plugin. A transport's lane carries packets once the plugin
 * says it is up (host lane_up); the data path sends each packet over the
 * session's first up lane (conf.d order) that fits it, and over CSTP when
 * there is none or the packet is larger than the lane takes.
 *
 * Sending is batched: packets for a transport are copied, behind
 * WG_LANE_HEADROOM bytes, into its batch and handed over with one send()
 * per WG_LANE_BATCH packets or at the end of the TUN burst, followed by
 * flush() (where the plugin makes its sendmmsg). Per packet the data path
 * makes no indirect call. */
#ifndef WG_LANE_H
#define WG_LANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wolfguard/plugin.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

struct wg_server;
struct wg_session;
struct wg_http_request;
struct wg_loaded_plugin;

#define WG_MAX_TRANSPORTS 4
#define WG_LANE_BATCH 64
#define WG_LANE_BATCH_BYTES (64 * (WG_LANE_HEADROOM + 2048))

/* One initialised transport plugin of a worker. */
struct wg_transport {
	const struct wg_loaded_plugin *plugin; /* borrowed from the first generation */
	const struct wg_transport_ops *ops;
	void *state;
	bool sent;                     /* send() ran in this burst: flush() is due */
	size_t n, used;                /* packets and bytes in the batch */
	struct wg_lane_packet pkts[WG_LANE_BATCH];
	uint8_t buf[WG_LANE_BATCH_BYTES];
};

struct wg_lane {
	struct wg_session *s;          /* borrowed */
	struct wg_transport *t;        /* borrowed */
	void *ctx;                     /* the plugin's name for the lane */
	bool up;
	size_t max_payload;            /* when up */
	char peer[64];
	struct wg_lane *next;          /* the session's lanes, conf.d order */
	/* Only while offer() runs. */
	const struct wg_http_request *req;
	WOLFSSL *ssl;
	char *hdr;                     /* the answer's extra headers */
	size_t hdr_len, hdr_cap;
	bool hdr_full;
};

/* The initialised transport plugins of ps (srv->transport_plugins, taken
 * from the first generation) become srv->transports. They live as long as
 * the worker: a reload keeps them (see reload.c). Returns how many. */
size_t wg_lanes_attach(struct wg_server *srv, const struct wg_loaded_plugin *ps, size_t n);

/* At CONNECT, after the old lanes were closed: asks every transport for a
 * lane for s. Headers the transports answer with are appended to out (NUL
 * terminated, at most outlen). Returns how many lanes were offered, and
 * names them in names ("dtls, ..."). */
unsigned wg_lanes_offer(struct wg_session *s, WOLFSSL *ssl, const struct wg_http_request *req, uint32_t mtu,
			char *out, size_t outlen, char *names, size_t nameslen);
/* Closes every lane of s (session end, reconnect). */
void wg_lanes_close(struct wg_session *s);
/* Queues pkt (len bytes) for lane l; false when it does not fit the lane
 * (the caller uses CSTP). */
bool wg_lane_queue(struct wg_lane *l, const uint8_t *pkt, size_t len);
/* The end of a TUN burst: the transports get what is queued, then flush(). */
void wg_lanes_flush(struct wg_server *srv);

struct wg_metrics;
/* Each transport's counters (its optional stats op) into m->transports. */
void wg_lanes_stats(struct wg_server *srv, struct wg_metrics *m);

/* What the transports show of s's lanes (their lane_json op), as
 * {"<plugin>": value, ...}; NULL when none shows anything. */
struct json_t;
struct json_t *wg_lanes_json(const struct wg_session *s);

/* The transport's name for a lane ("transport-dtls"). */
const char *wg_lane_name(const struct wg_lane *l);
/* The session a lane carries (NULL for none). */
struct wg_session *wg_lane_owner(const struct wg_lane *l);

/* The transport half of the host table (host.c points there). */
int wg_host_transport_udp_socket(void);
int wg_host_udp_socket_buffers(int fd, const char *name);
struct wg_watch *wg_host_fd_watch(int fd, void (*cb)(int fd, void *arg), void *arg);
void wg_host_fd_unwatch(struct wg_watch *w);
const char *wg_host_lane_request_header(const struct wg_lane *l, const char *name);
int wg_host_lane_add_header(struct wg_lane *l, const char *name, const char *value);
int wg_host_lane_tls_export(struct wg_lane *l, const char *label, uint8_t *out, size_t len);
int wg_host_lane_tls_export_context(struct wg_lane *l, const char *label, const uint8_t *ctx, size_t ctx_len,
				    uint8_t *out, size_t len);
const struct wg_session *wg_host_lane_session(const struct wg_lane *l);
void wg_host_lane_up(struct wg_lane *l, size_t max_payload, const char *peer);
void wg_host_lane_down(struct wg_lane *l, const char *why);
/* lane_rx.c: */
void wg_host_rx_begin(void);
void wg_host_lane_input(struct wg_lane *l, uint32_t type, const uint8_t *payload, size_t len);
void wg_host_rx_end(void);

#endif
