/* One session's lanes (docs/lanes.md sections 4 to 6): their keys, their
 * DTLS links, liveness by PROBE and PROBE-ACK, the scheduler that maps
 * flows onto them, and their counters. The plugin (transport_lanes.c) makes
 * one per CONNECT that asked for lanes and gives it the link events; the
 * set tells the host when the session's lanes as a whole are up or down. */
#ifndef WG_LANE_SET_H
#define WG_LANE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wolfguard/plugin.h>

#include "lane_link.h"
#include "lane_msg.h"
#include "lane_probes.h"
#include "lane_rto.h"
#include "lane_sched.h"

#define WG_LANE_MEASURE_US 500000 /* a weight sample spans at least this */

struct wg_lane_settings {
	uint32_t probe_ms, deadline_ms, idle_s;
};

/* Totals per lane number over all sessions of a worker (for /metrics). */
struct wg_lane_totals {
	uint64_t tx_bytes, rx_bytes, left_rotation;
};

struct wg_lane_one {
	struct wg_lane_link *link;   /* NULL when not open */
	bool alive;                  /* in the rotation */
	struct wg_lane_probes probes; /* sent and not yet forgotten */
	struct wg_lane_rto rto;       /* its deadline, from the PROBE-ACKs' round trips */
	uint64_t last_rx_us;
	uint64_t mark_us, mark_tx, mark_rx; /* the start of the weight sample */
	/* counters */
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
	uint64_t rtt_us, probes_missed, left_rotation, handshakes, dropped;
};

struct wg_lane_set {
	const struct wg_host *host;
	struct wg_lane *host_lane;
	uint8_t sid[WG_LANE_SID_LEN];
	uint8_t psk[WG_LANES_MAX][WG_LANE_PSK_LEN];
	unsigned n;
	size_t mtu;                  /* largest IP packet per DATA */
	bool host_up;                /* told the host lane_up */
	size_t host_max;             /* the max_payload it was told */
	struct wg_lane_settings cfg;
	struct wg_lane_totals *totals; /* the worker's, WG_LANES_MAX entries */
	uint32_t hash_seed;
	struct wg_sched sched;
	struct wg_lane_one lane[WG_LANES_MAX];
	uint64_t last_tick_us;       /* a late tick means the process was not running */
	uint8_t out[WG_LANE_PROBE_LEN];
};

/* The caller fills sid, psk, n, mtu, cfg, host, host_lane, totals, then
 * calls this (scheduler empty, no link). */
void wg_lane_set_init(struct wg_lane_set *ls);
/* Closes every link (no host call). */
void wg_lane_set_close(struct wg_lane_set *ls);

/* Link events (from lane_link.c's callbacks). */
void wg_lane_set_link_up(struct wg_lane_set *ls, unsigned lane, struct wg_lane_link *link, uint64_t now_us);
void wg_lane_set_link_closed(struct wg_lane_set *ls, unsigned lane, struct wg_lane_link *link);
void wg_lane_set_record(struct wg_lane_set *ls, unsigned lane, const uint8_t *rec, size_t len, uint64_t now_us);
/* The same as lane_link.h's callbacks (wg_lane_server_cb's on_up,
 * on_record, on_closed) for a server whose owners are lane sets; they read
 * the clock themselves. */
void wg_lane_set_cb_up(void *arg, void *owner, unsigned lane, struct wg_lane_link *link);
void wg_lane_set_cb_record(void *arg, void *owner, unsigned lane, struct wg_lane_link *link, const uint8_t *rec,
			   size_t len);
void wg_lane_set_cb_closed(void *arg, void *owner, unsigned lane, struct wg_lane_link *link, const char *why);
/* CLOCK_MONOTONIC in microseconds, the time base of the set's events. */
uint64_t wg_lane_now_us(void);
/* Often (the plugin calls it every wg_lane_check_ms): deadlines (each
 * lane's adaptive one, lane_rto.h) and idle links at once, and a PROBE on
 * each open lane whose interval has passed. A tick that comes more than
 * two check intervals late judges no deadline: the process was not
 * running, and the answers that arrived meanwhile are read first. */
void wg_lane_set_tick(struct wg_lane_set *ls, uint64_t now_us);
/* One IP packet for the client, framed in place: data[-1] is writable. */
void wg_lane_set_send(struct wg_lane_set *ls, uint8_t *data, size_t len);

/* The set as JSON text into out ({"session": lane-session id, "lanes":
 * [one object per lane]}); its length, or 0 when it does not fit. */
size_t wg_lane_set_json(const struct wg_lane_set *ls, char *out, size_t len);
/* How often the plugin calls wg_lane_set_tick: a quarter of the shorter of
 * the probe interval and the deadline (at least 10 ms), so a lane leaves
 * the rotation at most that long after its deadline. */
uint32_t wg_lane_check_ms(const struct wg_lane_settings *cfg);
/* Live lanes now. */
unsigned wg_lane_set_alive(const struct wg_lane_set *ls);

#endif
