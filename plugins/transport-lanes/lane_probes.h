/* The PROBEs one end of a lane has sent and still remembers (docs/lanes.md
 * section 5). A PROBE goes out every interval whether or not the last one
 * was answered, so one lost datagram on a full path does not take the lane
 * out: the answer to any of the last WG_LANE_PROBE_RING counts. An answer
 * older than one already taken is refused: a reordered PROBE-ACK says
 * nothing new, and taking it would reopen the unanswered window the newer
 * answer closed. Pure: shared by the server (lane_set.c) and
 * wolfguard-client (tools/client/lanes.c), so both ends judge alike. */
#ifndef WG_LANE_PROBES_H
#define WG_LANE_PROBES_H

#include <stdbool.h>
#include <stdint.h>

#define WG_LANE_PROBE_RING 16

struct wg_lane_probes {
	uint32_t next_seq;            /* of the next PROBE */
	uint32_t acked;               /* the newest PROBE answered, if any_acked */
	bool any_acked;
	struct {
		bool used;
		uint32_t seq;
		uint64_t sent_us;     /* when it left */
		uint64_t tx_bytes;    /* the lane's DATA bytes sent by then */
	} ring[WG_LANE_PROBE_RING];
	uint64_t last_sent_us;        /* when the last PROBE left; 0 none */
	uint64_t unanswered_since_us; /* the oldest PROBE not answered since; 0 none */
};

/* What an accepted PROBE-ACK answers. */
struct wg_lane_probe_answer {
	uint64_t sent_us, tx_bytes;
	uint32_t outstanding;         /* PROBEs sent since, this one included */
};

/* Forgets every PROBE (a lane opened again: answers to PROBEs of its old
 * link do not count); the sequence goes on. */
void wg_lane_probes_reset(struct wg_lane_probes *p);
/* A PROBE leaves now; returns its sequence number. */
uint32_t wg_lane_probes_send(struct wg_lane_probes *p, uint64_t now_us, uint64_t tx_bytes);
/* A PROBE-ACK for seq: true and *a filled when it answers a remembered
 * PROBE newer than any answered; false (nothing changed) otherwise. */
bool wg_lane_probes_answer(struct wg_lane_probes *p, uint32_t seq, struct wg_lane_probe_answer *a);

#endif
