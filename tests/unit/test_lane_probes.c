/* The PROBE ring both ends of a lane keep (lane_probes.h). */
#include <criterion/criterion.h>

#include "lane_probes.h"

/* An answer to an older PROBE than the last one sent still counts (one
 * lost PROBE-ACK does not take the lane out), and leaves the newer ones
 * open: the window starts at the oldest of them. */
Test(lane_probes, an_answer_to_any_recent_probe_counts)
{
	struct wg_lane_probes p = {0};
	struct wg_lane_probe_answer a;

	cr_assert_eq(wg_lane_probes_send(&p, 1000, 10), 0);
	cr_assert_eq(wg_lane_probes_send(&p, 2000, 20), 1);
	cr_assert_eq(wg_lane_probes_send(&p, 3000, 30), 2);
	cr_assert_eq(p.unanswered_since_us, 1000);
	cr_assert_eq(p.last_sent_us, 3000);

	cr_assert(wg_lane_probes_answer(&p, 1, &a));
	cr_assert_eq(a.sent_us, 2000);
	cr_assert_eq(a.tx_bytes, 20);
	cr_assert_eq(a.outstanding, 2);
	cr_assert_eq(p.unanswered_since_us, 3000, "PROBE 2 is still open");

	cr_assert(wg_lane_probes_answer(&p, 2, &a));
	cr_assert_eq(p.unanswered_since_us, 0, "everything answered");
}

/* A reordered, older PROBE-ACK after a newer one changes nothing: taking
 * it would reopen the window the newer answer closed, and a lane could
 * leave the rotation with every PROBE answered. */
Test(lane_probes, a_stale_answer_is_refused)
{
	struct wg_lane_probes p = {0};
	struct wg_lane_probe_answer a;

	for (uint64_t t = 1; t <= 3; t++)
		wg_lane_probes_send(&p, t * 1000, 0);
	cr_assert(wg_lane_probes_answer(&p, 2, &a));
	cr_assert_eq(p.unanswered_since_us, 0);
	cr_assert_not(wg_lane_probes_answer(&p, 1, &a), "older than the one answered");
	cr_assert_not(wg_lane_probes_answer(&p, 2, &a), "answered twice");
	cr_assert_eq(p.unanswered_since_us, 0);
}

/* Answers to PROBEs never sent, or sent so long ago that the ring forgot
 * them, are not ours to believe. */
Test(lane_probes, unknown_and_forgotten_probes)
{
	struct wg_lane_probes p = {0};
	struct wg_lane_probe_answer a;

	cr_assert_not(wg_lane_probes_answer(&p, 0, &a), "nothing sent yet");
	for (uint64_t i = 0; i < WG_LANE_PROBE_RING + 4; i++)
		wg_lane_probes_send(&p, 1000 + i, i);
	cr_assert_not(wg_lane_probes_answer(&p, WG_LANE_PROBE_RING + 4, &a), "not sent yet");
	cr_assert_not(wg_lane_probes_answer(&p, 3, &a), "forgotten: the ring holds the last 16");
	cr_assert_not(wg_lane_probes_answer(&p, UINT32_MAX, &a), "before the first");
	cr_assert(wg_lane_probes_answer(&p, 4, &a), "the oldest remembered");
	cr_assert_eq(a.tx_bytes, 4);
	cr_assert_eq(a.outstanding, WG_LANE_PROBE_RING);
}

/* A lane opened again forgets its old link's PROBEs, but the sequence goes
 * on, so a late answer on the old link cannot pass for a new one. */
Test(lane_probes, reset_forgets_but_keeps_counting)
{
	struct wg_lane_probes p = {0};
	struct wg_lane_probe_answer a;

	wg_lane_probes_send(&p, 1000, 0);
	wg_lane_probes_send(&p, 2000, 0);
	wg_lane_probes_reset(&p);
	cr_assert_eq(p.unanswered_since_us, 0);
	cr_assert_not(wg_lane_probes_answer(&p, 1, &a), "a PROBE of the old link");
	cr_assert_eq(wg_lane_probes_send(&p, 5000, 0), 2);
	cr_assert(wg_lane_probes_answer(&p, 2, &a));
	cr_assert_eq(a.sent_us, 5000);
}

/* The sequence wraps at 2^32 without losing track. */
Test(lane_probes, sequence_wraps)
{
	struct wg_lane_probes p = {.next_seq = UINT32_MAX - 1};
	struct wg_lane_probe_answer a;

	cr_assert_eq(wg_lane_probes_send(&p, 1000, 0), UINT32_MAX - 1);
	cr_assert_eq(wg_lane_probes_send(&p, 2000, 0), UINT32_MAX);
	cr_assert_eq(wg_lane_probes_send(&p, 3000, 0), 0);
	cr_assert(wg_lane_probes_answer(&p, UINT32_MAX, &a));
	cr_assert_eq(a.sent_us, 2000);
	cr_assert_eq(p.unanswered_since_us, 3000);
	cr_assert_not(wg_lane_probes_answer(&p, UINT32_MAX - 1, &a), "older than the one answered");
	cr_assert(wg_lane_probes_answer(&p, 0, &a));
}
