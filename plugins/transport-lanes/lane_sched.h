/* Which lane carries a packet (docs/lanes.md section 6): flows are hashed
 * into 64 buckets, each bucket belongs to one live lane, and a lane's share
 * of buckets follows its weight (what it delivers). Pure: no clock, no
 * I/O; the caller feeds it liveness and measurements. Used by the server
 * plugin and, through the same rules, by the client. */
#ifndef WG_LANE_SCHED_H
#define WG_LANE_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lane_msg.h"

#define WG_SCHED_BUCKETS 64
#define WG_SCHED_NONE 0xff
#define WG_SCHED_FLOOR_BPS 125000ull     /* 1 Mbit/s: every live lane keeps a bucket */
#define WG_SCHED_START_BPS 1250000ull    /* 10 Mbit/s: equal shares until measured */
#define WG_SCHED_MIN_SAMPLE_BYTES 16384u /* less sent in an interval says nothing */

struct wg_sched {
	unsigned n;                        /* lanes 0..n-1 */
	bool alive[WG_LANES_MAX];
	uint64_t weight[WG_LANES_MAX];     /* bytes per second, smoothed */
	uint8_t bucket[WG_SCHED_BUCKETS];  /* lane, or WG_SCHED_NONE */
	uint64_t moves;                    /* buckets given to another lane, ever */
};

/* The flow hash of an IP packet (docs/lanes.md 6.1), or of its first bytes
 * when it is not a well-formed IPv4/IPv6 header (still deterministic). */
uint32_t wg_flow_hash(const uint8_t *pkt, size_t len, uint32_t seed);

/* n lanes (1..WG_LANES_MAX), none alive yet, equal weights. */
void wg_sched_init(struct wg_sched *s, unsigned n);
/* A lane joins or leaves the rotation; buckets move at once. */
void wg_sched_set_alive(struct wg_sched *s, unsigned lane, bool alive);
/* One measurement of a lane over an interval of us microseconds: it was
 * given sent bytes and delivered delivered bytes of them. Updates its weight
 * and the buckets. */
void wg_sched_measure(struct wg_sched *s, unsigned lane, uint64_t sent, uint64_t delivered, uint64_t us);
/* The lane for a flow hash, or -1 when no lane is alive. */
static inline int wg_sched_pick(const struct wg_sched *s, uint32_t hash)
{
	uint8_t l = s->bucket[hash % WG_SCHED_BUCKETS];
	return l == WG_SCHED_NONE ? -1 : (int)l;
}
/* How many buckets a lane holds. */
unsigned wg_sched_buckets_of(const struct wg_sched *s, unsigned lane);
/* Recomputes the buckets from liveness and weights (the calls above do). */
void wg_sched_rebalance(struct wg_sched *s);

#endif
