/* One client connection's state, shared by conn.c (set-up, CSTP) and
 * traffic.c (--traffic: DTLS and the data packets). */
#ifndef WGB_CONN_H
#define WGB_CONN_H

#include "auth_flow.h"
#include "bench.h"
#include "cstp.h"
#include "dtls.h" /* tools/client's PSK-NEGOTIATE client, compiled in */

#include <stdint.h>

struct wgb_conn {
	struct wgb_run *run;
	unsigned idx;
	int fd;
	WOLFSSL *ssl;
	struct event *io, *timer;
	short io_what;
	enum wgb_stage stage;
	int tunnel; /* CONNECTED: the TLS stream carries CSTP frames */
	uint64_t t_start;
	/* set-up only (freed once the tunnel is up) */
	char *rbuf;
	size_t rlen, rcap;
	char *context; /* webvpncontext= of the login conversation */
	struct wgp_login_state ls;
	/* a request or frame wolfSSL_write has not taken yet: it must be
	 * retried with the same bytes */
	uint8_t *wbuf;
	size_t wlen;
	/* --traffic over CSTP: frames gathered while wbuf is pending */
	uint8_t *sbuf;
	size_t slen;
	/* tunnel */
	struct wgp_cstp_rx rx;
	unsigned period_s;
	uint32_t tun_addr; /* network order */
	uint16_t seq;
	/* --traffic */
	unsigned dtls_port, mtu;
	uint8_t app_id[64];
	unsigned app_id_len;
	struct wgc_dtls d;
	int dtls_up;
	struct event *dtls_io, *dtls_timer;
	uint64_t sent, inflight, last_rx_us;
	/* Closed loop: sequence numbers below `acked` are answered or given up
	 * (an echo of a later one, or a window timeout): their late echoes
	 * count as received but refill nothing, so a stall does not grow the
	 * number in flight. */
	uint64_t acked;
};

/* CONNECTED and, with --traffic over DTLS, the DTLS channel up: the
 * session counts as established and held from now on. */
void wgb_conn_held(struct wgb_conn *c);
/* Ends a connection, counting the failure at its stage (printf format). */
void wgb_conn_fail(struct wgb_conn *c, int timeout, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Queues one CSTP frame of a data packet behind what is pending; 1 taken,
 * 0 the connection's queue is full (the packet is not sent). */
int wgb_conn_cstp_data(struct wgb_conn *c, const uint8_t *pkt, size_t len);

/* The tunnel's data side, which conn.c calls through run->tunnel (traffic.c
 * fills it: wgb_traffic_tunnel), so that the connection knows nothing of
 * --traffic but these four moments. */
struct wgb_tunnel_ops {
	/* Starts the DTLS handshake after CONNECTED; 0, or -1 when it failed
	 * at once (the set-up is counted as failed and c is freed). */
	int (*dtls_start)(struct wgb_conn *c);
	/* A data packet out of the tunnel (CSTP or DTLS). */
	void (*rx)(struct wgb_conn *c, const uint8_t *pkt, size_t len);
	/* The DTLS keepalive, from the connection's keepalive timer. */
	void (*keepalive)(struct wgb_conn *c);
	/* Frees the DTLS side. */
	void (*conn_free)(struct wgb_conn *c);
};

#endif
