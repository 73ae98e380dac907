/* The lanes' adaptive PROBE deadline (lane_rto.h): RFC 6298's estimator
 * between the configured floor and the ceiling. */
#include <criterion/criterion.h>

#include "lane_rto.h"

/* Before the first PROBE-ACK: TCP's initial 1 s (RFC 6298 2.1), within
 * the floor and the ceiling; the first answer brings it down to what the
 * round trips say. The lanes_two_paths flake: the first PROBE of a lane,
 * sent as its handshake ends, had only the 300 ms floor on a starved
 * machine. */
Test(lane_rto, before_the_first_answer_the_initial_deadline)
{
	struct wg_lane_rto r;

	wg_lane_rto_init(&r, 300);
	cr_assert_eq(r.ceil_us, 1200000);
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 1000000);
	wg_lane_rto_sample(&r, 2000); /* answered in 2 ms */
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 300000, "sub-second once a PROBE is answered");

	wg_lane_rto_init(&r, 100); /* ceiling 400 ms: the initial deadline is capped too */
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 400000);
	wg_lane_rto_init(&r, 1500); /* a floor above 1 s wins */
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 1500000);
}

/* The handshake's round trip is the first sample (as a SYN's is TCP's). */
Test(lane_rto, handshake_seeds_the_estimate)
{
	struct wg_lane_rto r;

	wg_lane_rto_init(&r, 300);
	wg_lane_rto_handshake(&r, 200000); /* a slow start: 200 ms */
	cr_assert_eq(r.srtt_us, 200000);
	cr_assert_eq(r.rttvar_us, 100000);
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 1000000, "still the initial deadline: no PROBE answered yet");
	wg_lane_rto_sample(&r, 5000);
	/* rttvar (3 * 100 + 195) / 4 = 123.75 ms, srtt (7 * 200 + 5) / 8 = 175.6 ms */
	cr_assert_eq(r.srtt_us, (7 * 200000 + 5000) / 8);
	cr_assert_eq(wg_lane_rto_deadline_us(&r), (7 * 200000 + 5000) / 8 + 4 * ((3 * 100000 + 195000) / 4),
		     "the slow start is remembered: %lu", (unsigned long)wg_lane_rto_deadline_us(&r));
	/* Quiet answers bring it back to the floor. */
	for (int i = 0; i < 60; i++)
		wg_lane_rto_sample(&r, 1000);
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 300000);
}

Test(lane_rto, handshake_sample_only_when_it_measures_something)
{
	struct wg_lane_rto r;

	wg_lane_rto_init(&r, 300);
	wg_lane_rto_handshake(&r, 0); /* not known */
	cr_assert_eq(r.srtt_us, 0);
	wg_lane_rto_handshake(&r, 1000000); /* 1 s: a flight may have been retransmitted */
	cr_assert_eq(r.srtt_us, 0);
	wg_lane_rto_handshake(&r, 3000000);
	cr_assert_eq(r.srtt_us, 0);
	wg_lane_rto_sample(&r, 1000);
	wg_lane_rto_handshake(&r, 500000); /* after a PROBE sample: ignored */
	cr_assert_eq(r.srtt_us, 1000);
	cr_assert_eq(wg_lane_rto_deadline_us(&r), 300000);
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
