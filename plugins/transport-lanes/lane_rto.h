/* The adaptive PROBE deadline of a lane (docs/lanes.md section 5), as TCP
 * computes its retransmission timeout (RFC 6298): a smoothed round-trip
 * time and its mean deviation from PROBE-ACKs, and a deadline of
 * srtt + 4 * rttvar, never under the configured deadline (the floor: a
 * quiet lane leaves as fast as configured) and never over a ceiling (a
 * dead lane still leaves in bounded time). A lane whose answers come late
 * because its path or an end is slow, a starved process for one, gets a
 * longer deadline and stays; a silent one leaves once the deadline passes.
 * Pure: shared by the server (lane_set.c) and wolfguard-client. */
#ifndef WG_LANE_RTO_H
#define WG_LANE_RTO_H

#include <stdint.h>

#define WG_LANE_RTO_CEIL_FACTOR 4     /* the ceiling: this many floors ... */
#define WG_LANE_RTO_CEIL_MAX_US 2000000 /* ... but not over 2 s, unless the floor is */

struct wg_lane_rto {
	uint64_t srtt_us, rttvar_us; /* 0 and 0: no sample yet */
	uint64_t floor_us, ceil_us;
};

/* floor_ms: the configured deadline. */
void wg_lane_rto_init(struct wg_lane_rto *r, uint32_t floor_ms);
/* One round-trip time measured. */
void wg_lane_rto_sample(struct wg_lane_rto *r, uint64_t rtt_us);
/* How long a PROBE may go unanswered now. */
uint64_t wg_lane_rto_deadline_us(const struct wg_lane_rto *r);

#endif
