/* See lane_rto.h. */
#include "lane_rto.h"

void wg_lane_rto_init(struct wg_lane_rto *r, uint32_t floor_ms)
{
	uint64_t ceil;

	r->srtt_us = r->rttvar_us = 0;
	r->probed = false;
	r->floor_us = (uint64_t)floor_ms * 1000;
	ceil = r->floor_us * WG_LANE_RTO_CEIL_FACTOR;
	if (ceil > WG_LANE_RTO_CEIL_MAX_US)
		ceil = WG_LANE_RTO_CEIL_MAX_US;
	r->ceil_us = ceil > r->floor_us ? ceil : r->floor_us;
}

static void estimate(struct wg_lane_rto *r, uint64_t rtt_us)
{
	uint64_t dev;

	if (rtt_us == 0)
		rtt_us = 1; /* so that a sample is told from none */
	if (r->srtt_us == 0) { /* RFC 6298 2.2 */
		r->srtt_us = rtt_us;
		r->rttvar_us = rtt_us / 2;
		return;
	}
	/* 2.3: rttvar first, with the old srtt; beta 1/4, alpha 1/8. */
	dev = r->srtt_us > rtt_us ? r->srtt_us - rtt_us : rtt_us - r->srtt_us;
	r->rttvar_us = (3 * r->rttvar_us + dev) / 4;
	r->srtt_us = (7 * r->srtt_us + rtt_us) / 8;
	if (r->srtt_us == 0)
		r->srtt_us = 1;
}

void wg_lane_rto_sample(struct wg_lane_rto *r, uint64_t rtt_us)
{
	estimate(r, rtt_us);
	r->probed = true;
}

void wg_lane_rto_handshake(struct wg_lane_rto *r, uint64_t rtt_us)
{
	if (r->srtt_us == 0 && rtt_us > 0 && rtt_us < WG_LANE_RTO_INITIAL_US)
		estimate(r, rtt_us);
}

static uint64_t clamp(const struct wg_lane_rto *r, uint64_t d)
{
	if (d < r->floor_us)
		return r->floor_us;
	return d > r->ceil_us ? r->ceil_us : d;
}

uint64_t wg_lane_rto_deadline_us(const struct wg_lane_rto *r)
{
	uint64_t d = clamp(r, r->srtt_us + 4 * r->rttvar_us);

	if (!r->probed && d < clamp(r, WG_LANE_RTO_INITIAL_US))
		return clamp(r, WG_LANE_RTO_INITIAL_US);
	return d;
}
