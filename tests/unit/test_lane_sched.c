/* The lanes scheduler (plugins/transport-lanes/lane_sched.c): flows stay on
 * one lane, shares follow liveness and measured delivery, and buckets move
 * only as far as a change needs. */
#include <criterion/criterion.h>
#include <string.h>

#include "lane_sched.h"

/* An IPv4 TCP packet from 10.8.0.2:sport to 192.0.2.1:dport. */
static size_t tcp4(uint8_t *p, uint16_t sport, uint16_t dport)
{
	memset(p, 0, 40);
	p[0] = 0x45;
	p[3] = 40;
	p[9] = 6;
	p[12] = 10, p[13] = 8, p[15] = 2;
	p[16] = 192, p[18] = 2, p[19] = 1;
	p[20] = (uint8_t)(sport >> 8), p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8), p[23] = (uint8_t)dport;
	return 40;
}

static unsigned buckets(const struct wg_sched *s, unsigned lane)
{
	return wg_sched_buckets_of(s, lane);
}

Test(lane_sched, one_flow_one_hash_whatever_the_payload)
{
	uint8_t a[64], b[64];
	size_t n = tcp4(a, 40000, 443);

	tcp4(b, 40000, 443);
	b[4] = 0x12; /* another IP id, another length: the same flow */
	b[3] = 41;
	cr_assert_eq(wg_flow_hash(a, n, 7), wg_flow_hash(b, n + 1, 7));
	tcp4(b, 40001, 443);
	cr_assert_neq(wg_flow_hash(a, n, 7), wg_flow_hash(b, n, 7), "another source port is another flow");
	cr_assert_neq(wg_flow_hash(a, n, 7), wg_flow_hash(a, n, 8), "the seed changes the hash");
}

Test(lane_sched, fragments_hash_on_addresses_only)
{
	uint8_t a[64], b[64];

	tcp4(a, 1, 2);
	tcp4(b, 3, 4);
	a[6] = b[6] = 0x20; /* more fragments: ports are not to be trusted */
	cr_assert_eq(wg_flow_hash(a, 40, 1), wg_flow_hash(b, 40, 1));
}

Test(lane_sched, ipv6_ports_count)
{
	uint8_t a[60] = {0x60}, b[60];

	a[6] = 6;
	a[23] = 1, a[39] = 2;
	a[40] = 0x9c, a[41] = 0x40, a[43] = 80;
	memcpy(b, a, sizeof(b));
	b[43] = 81;
	cr_assert_neq(wg_flow_hash(a, 60, 0), wg_flow_hash(b, 60, 0));
	b[43] = 80;
	b[1] = 0x0f; /* traffic class: not part of the flow */
	cr_assert_eq(wg_flow_hash(a, 60, 0), wg_flow_hash(b, 60, 0));
}

Test(lane_sched, nothing_alive_picks_nothing)
{
	struct wg_sched s;

	wg_sched_init(&s, 2);
	cr_assert_eq(wg_sched_pick(&s, 12345), -1);
	wg_sched_set_alive(&s, 1, true);
	cr_assert_eq(wg_sched_pick(&s, 12345), 1);
	cr_assert_eq(buckets(&s, 1), WG_SCHED_BUCKETS);
}

Test(lane_sched, equal_lanes_share_equally_and_a_dead_lane_gives_all_away)
{
	struct wg_sched s;
	uint8_t before[WG_SCHED_BUCKETS];

	wg_sched_init(&s, 2);
	wg_sched_set_alive(&s, 0, true);
	wg_sched_set_alive(&s, 1, true);
	cr_assert_eq(buckets(&s, 0), 32);
	cr_assert_eq(buckets(&s, 1), 32);
	memcpy(before, s.bucket, sizeof(before));
	wg_sched_set_alive(&s, 1, false);
	cr_assert_eq(buckets(&s, 0), WG_SCHED_BUCKETS);
	for (unsigned b = 0; b < WG_SCHED_BUCKETS; b++)
		if (before[b] == 0)
			cr_assert_eq(s.bucket[b], 0, "a flow of the surviving lane moved");
	/* It rejoins: it takes its half back, and only lane 0's extra buckets move. */
	memcpy(before, s.bucket, sizeof(before));
	wg_sched_set_alive(&s, 1, true);
	cr_assert_eq(buckets(&s, 1), 32);
	unsigned moved = 0;
	for (unsigned b = 0; b < WG_SCHED_BUCKETS; b++)
		moved += before[b] != s.bucket[b];
	cr_assert_eq(moved, 32);
}

Test(lane_sched, three_lanes_one_dies_its_buckets_are_split)
{
	struct wg_sched s;

	wg_sched_init(&s, 3);
	for (unsigned i = 0; i < 3; i++)
		wg_sched_set_alive(&s, i, true);
	cr_assert_eq(buckets(&s, 0) + buckets(&s, 1) + buckets(&s, 2), WG_SCHED_BUCKETS);
	for (unsigned i = 0; i < 3; i++)
		cr_assert(buckets(&s, i) >= 21 && buckets(&s, i) <= 22);
	wg_sched_set_alive(&s, 2, false);
	cr_assert_eq(buckets(&s, 2), 0);
	cr_assert_eq(buckets(&s, 0), 32);
	cr_assert_eq(buckets(&s, 1), 32);
}

Test(lane_sched, a_lane_that_delivers_less_gets_fewer_flows)
{
	struct wg_sched s;

	wg_sched_init(&s, 2);
	wg_sched_set_alive(&s, 0, true);
	wg_sched_set_alive(&s, 1, true);
	/* Lane 0 carries all it is given (12.5 MB/s over 1 s); lane 1 only
	 * delivers a quarter of the same. */
	for (int i = 0; i < 40; i++) {
		wg_sched_measure(&s, 0, 12500000, 12500000, 1000000);
		wg_sched_measure(&s, 1, 12500000, 3125000, 1000000);
	}
	cr_assert_gt(s.weight[0], 4 * s.weight[1], "weights %llu and %llu", (unsigned long long)s.weight[0],
		     (unsigned long long)s.weight[1]);
	cr_assert_gt(buckets(&s, 0), 48);
	cr_assert_geq(buckets(&s, 1), 1, "a live lane keeps a bucket to be measured through");
}

Test(lane_sched, small_changes_move_no_flow)
{
	struct wg_sched s;

	wg_sched_init(&s, 2);
	wg_sched_set_alive(&s, 0, true);
	wg_sched_set_alive(&s, 1, true);
	uint64_t moves = s.moves;
	/* 2 % more delivered on one lane: within a bucket of its share. */
	wg_sched_measure(&s, 0, 1020000, 1020000, 816000);
	wg_sched_measure(&s, 1, 1000000, 1000000, 800000);
	cr_assert_eq(s.moves, moves);
}

Test(lane_sched, idle_lanes_are_not_judged)
{
	struct wg_sched s;

	wg_sched_init(&s, 2);
	wg_sched_set_alive(&s, 0, true);
	uint64_t w = s.weight[0];
	wg_sched_measure(&s, 0, 100, 0, 1000000); /* too little sent to say anything */
	cr_assert_eq(s.weight[0], w);
}

Test(lane_sched, weights_never_fall_below_the_floor)
{
	struct wg_sched s;

	wg_sched_init(&s, 1);
	wg_sched_set_alive(&s, 0, true);
	for (int i = 0; i < 100; i++)
		wg_sched_measure(&s, 0, 1000000, 0, 1000000);
	cr_assert_eq(s.weight[0], WG_SCHED_FLOOR_BPS);
	cr_assert_eq(buckets(&s, 0), WG_SCHED_BUCKETS);
}

Test(lane_sched, sixteen_lanes_all_get_buckets)
{
	struct wg_sched s;

	wg_sched_init(&s, WG_LANES_MAX);
	for (unsigned i = 0; i < WG_LANES_MAX; i++)
		wg_sched_set_alive(&s, i, true);
	for (int k = 0; k < 50; k++)
		wg_sched_measure(&s, 0, 1ull << 30, 1ull << 30, 1000000); /* one lane very fast */
	unsigned total = 0;
	for (unsigned i = 0; i < WG_LANES_MAX; i++) {
		cr_assert_geq(buckets(&s, i), 1, "lane %u", i);
		total += buckets(&s, i);
	}
	cr_assert_eq(total, WG_SCHED_BUCKETS);
}
