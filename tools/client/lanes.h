/* wolfguard's multi-lane transport, the client's end (docs/lanes.md): up
 * to 16 DTLS 1.3 lanes keyed from the TLS session, each from its own UDP
 * socket (optionally bound to a local interface with --lane-bind), PROBE
 * and PROBE-ACK for liveness and delivery, and flows spread over the live
 * lanes by the same scheduler the server uses (plugins/transport-lanes/
 * lane_sched.c, compiled in). Packets go to the TUN device directly. */
#ifndef WGC_LANES_H
#define WGC_LANES_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct wgc;
struct wgc_lanes;
typedef struct WOLFSSL WOLFSSL;

/* 1 when this build carries the lanes protocol (the plugin's sources were
 * there to compile in). */
int wgc_lanes_available(void);
/* Opens the lanes the CONNECTED answer (c->tc) granted; NULL when none (or
 * on failure, logged). */
struct wgc_lanes *wgc_lanes_start(struct event_base *base, WOLFSSL *tls, const struct wgc *c);
/* Sends one IP packet on its flow's lane: 1 sent, 0 no live lane for it
 * (the caller uses DTLS or CSTP). */
int wgc_lanes_send(struct wgc_lanes *l, const uint8_t *pkt, size_t len);
/* "lanes: 2 of 2 alive, ..." for the exit summary. */
void wgc_lanes_summary(const struct wgc_lanes *l, char *out, size_t outlen);
/* Sends CLOSE on every open lane (with_close) and frees everything. */
void wgc_lanes_free(struct wgc_lanes *l, int with_close);

#endif
