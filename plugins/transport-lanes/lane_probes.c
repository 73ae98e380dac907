/* The PROBE ring of a lane (see lane_probes.h). */
#include "lane_probes.h"

#include <string.h>

void wg_lane_probes_reset(struct wg_lane_probes *p)
{
	const uint32_t next = p->next_seq;

	memset(p, 0, sizeof(*p));
	p->next_seq = next;
}

uint32_t wg_lane_probes_send(struct wg_lane_probes *p, uint64_t now_us, uint64_t tx_bytes)
{
	const uint32_t seq = p->next_seq++;

	p->ring[seq % WG_LANE_PROBE_RING].used = true;
	p->ring[seq % WG_LANE_PROBE_RING].seq = seq;
	p->ring[seq % WG_LANE_PROBE_RING].sent_us = now_us;
	p->ring[seq % WG_LANE_PROBE_RING].tx_bytes = tx_bytes;
	p->last_sent_us = now_us;
	if (!p->unanswered_since_us)
		p->unanswered_since_us = now_us;
	return seq;
}

bool wg_lane_probes_answer(struct wg_lane_probes *p, uint32_t seq, struct wg_lane_probe_answer *a)
{
	/* Unsigned: an answer to a PROBE not sent yet wraps to a huge count. */
	const uint32_t outstanding = p->next_seq - seq;

	if (outstanding == 0 || outstanding > WG_LANE_PROBE_RING || !p->ring[seq % WG_LANE_PROBE_RING].used ||
	    p->ring[seq % WG_LANE_PROBE_RING].seq != seq)
		return false; /* not a PROBE we remember */
	if (p->any_acked && (int32_t)(seq - p->acked) <= 0)
		return false; /* older than (or the same as) one answered */
	a->sent_us = p->ring[seq % WG_LANE_PROBE_RING].sent_us;
	a->tx_bytes = p->ring[seq % WG_LANE_PROBE_RING].tx_bytes;
	a->outstanding = outstanding;
	p->acked = seq;
	p->any_acked = true;
	/* The PROBEs after this one are still open; the oldest of them starts
	 * the window the deadline is judged on. */
	p->unanswered_since_us =
		outstanding > 1 ? p->ring[(seq + 1) % WG_LANE_PROBE_RING].sent_us : 0;
	return true;
}
