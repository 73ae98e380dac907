/* The adaptive PROBE deadline of a lane (docs/lanes.md section 5), as TCP
 * computes its retransmission timeout (RFC 6298): a smoothed round-trip
 * time and its mean deviation from PROBE-ACKs, and a deadline of
 * srtt + 4 * rttvar, never under the configured deadline (the floor: a
 * quiet lane leaves as fast as configured) and never over a ceiling (a
 * dead lane still leaves in bounded time). A lane whose answers come late
 * because its path or an end is slow, a starved process for one, gets a
 * longer deadline and stays; a silent one leaves once the deadline passes.
 *
 * Before its first PROBE is answered a lane knows little: as TCP before
 * its first sample (RFC 6298 2.1), the deadline is then at least an
 * initial one of 1 s (within the floor and the ceiling). The lane's DTLS
 * handshake is its first round trip, as a SYN is TCP's: it seeds the
 * estimator (so a slow start is remembered), unless it took 1 s or more,
 * when a flight may have been retransmitted and it measures nothing
 * (Karn's rule; DTLS's first retransmission comes after 1 s).
 * Pure: shared by the server (lane_set.c) and wolfguard-client. */
#ifndef WG_LANE_RTO_H
#define WG_LANE_RTO_H

#include <stdbool.h>
#include <stdint.h>

#define WG_LANE_RTO_CEIL_FACTOR 4     /* the ceiling: this many floors ... */
#define WG_LANE_RTO_CEIL_MAX_US 2000000 /* ... but not over 2 s, unless the floor is */
#define WG_LANE_RTO_INITIAL_US 1000000  /* until the first PROBE-ACK (RFC 6298 2.1) */

struct wg_lane_rto {
	uint64_t srtt_us, rttvar_us; /* 0 and 0: no sample yet */
	uint64_t floor_us, ceil_us;
	bool probed;                 /* a PROBE-ACK has been measured */
};

/* floor_ms: the configured deadline. */
void wg_lane_rto_init(struct wg_lane_rto *r, uint32_t floor_ms);
/* One PROBE round trip measured. */
void wg_lane_rto_sample(struct wg_lane_rto *r, uint64_t rtt_us);
/* The lane's handshake took rtt_us for its last round trip (0: not known);
 * taken as the first sample when there is none yet and it is under
 * WG_LANE_RTO_INITIAL_US. */
void wg_lane_rto_handshake(struct wg_lane_rto *r, uint64_t rtt_us);
/* How long a PROBE may go unanswered now. */
uint64_t wg_lane_rto_deadline_us(const struct wg_lane_rto *r);

#endif
