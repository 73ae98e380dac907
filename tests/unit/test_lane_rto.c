/* The lanes' adaptive PROBE deadline (lane_rto.h): RFC 6298's estimator
 * between the configured floor and the ceiling. */
#include <criterion/criterion.h>

#include "lane_rto.h"

Test(lane_rto, no_sample_is_the_configured_deadline)
{
	struct wg_lane_rto r;

	wg_lane_rto_init(&r, 300);
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 300000);
	cr_assert_eq(r.ceil_us, 1200000);
}

Test(lane_rto, quiet_lane_keeps_the_floor)
{
	struct wg_lane_rto r;

	wg_lane_rto_init(&r, 300);
	for (int i = 0; i < 50; i++)
		wg_lane_rto_sample(&r, 400 + (unsigned)(i % 3) * 50); /* sub-ms round trips */
	cr_assert_lt(r.srtt_us, 600);
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 300000, "a dead quiet lane still leaves at the floor");
}

Test(lane_rto, first_sample_and_rfc6298_updates)
{
	struct wg_lane_rto r;

	wg_lane_rto_init(&r, 100); /* ceiling 400 ms */
	wg_lane_rto_sample(&r, 100000);
	cr_assert_eq(r.srtt_us, 100000);
	cr_assert_eq(r.rttvar_us, 50000);
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 300000); /* 100 + 4 * 50 ms */
	wg_lane_rto_sample(&r, 20000);
	cr_assert_eq(r.rttvar_us, (3 * 50000 + 80000) / 4); /* with the old srtt */
	cr_assert_eq(r.srtt_us, (7 * 100000 + 20000) / 8);
}

Test(lane_rto, slow_answers_stretch_the_deadline_past_their_delay)
{
	struct wg_lane_rto r;

	wg_lane_rto_init(&r, 300);
	for (int i = 0; i < 20; i++)
		wg_lane_rto_sample(&r, 1000);
	/* A starved end: answers come 150 to 350 ms late. */
	for (int i = 0; i < 8; i++)
		wg_lane_rto_sample(&r, i % 2 ? 350000 : 150000);
	cr_assert_gt(wg_lane_rto_deadline_us(&r), 350000, "the late answers would be judged dead: %lu",
		     (unsigned long)wg_lane_rto_deadline_us(&r));
	cr_assert_leq(wg_lane_rto_deadline_us(&r), r.ceil_us);
	/* Quiet again: back down to the floor. */
	for (int i = 0; i < 60; i++)
		wg_lane_rto_sample(&r, 1000);
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 300000);
}

Test(lane_rto, ceiling_bounds_a_dead_lanes_exit)
{
	struct wg_lane_rto r;

	wg_lane_rto_init(&r, 300);
	for (int i = 0; i < 10; i++)
		wg_lane_rto_sample(&r, 5000000); /* 5 s answers */
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 1200000);
	wg_lane_rto_init(&r, 1000);
	cr_assert_eq(r.ceil_us, 2000000); /* 4 floors, but at most 2 s */
	wg_lane_rto_init(&r, 5000);
	cr_assert_eq(r.ceil_us, 5000000); /* a floor above 2 s is its own ceiling */
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 5000000);
}

Test(lane_rto, zero_round_trip_counts_as_a_sample)
{
	struct wg_lane_rto r;

	wg_lane_rto_init(&r, 100);
	wg_lane_rto_sample(&r, 0);
	cr_assert_gt(r.srtt_us, 0);
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 100000);
}
