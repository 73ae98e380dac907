/* The hash table under the session, address and DTLS-link indexes: checked
 * against a plain array at 200K keys, through deletions inside probe runs,
 * and for the properties callers rely on (key copies, replace, seeding). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hashmap.h"

#define BIG 200000

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces (the table's own
	 * seed still varies; the checks do not depend on it). */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* A 16-byte key (the size of an IPv6 address) unique to i. */
static void make_key(uint32_t i, uint8_t key[16])
{
	uint32_t w[4] = {i, i * 0x9e3779b9u, ~i, i ^ 0x5a5a5a5au};
	memcpy(key, w, 16);
}

static uint32_t key_index(const uint8_t key[16])
{
	uint32_t i;
	memcpy(&i, key, 4);
	return i;
}

static void *val(uint64_t v)
{
	return (void *)(uintptr_t)(v | 1); /* never NULL */
}

static void check_all(struct wg_hashmap *m, const uintptr_t *ref, size_t n)
{
	uint8_t key[16];
	size_t present = 0;

	for (uint32_t i = 0; i < n; i++) {
		make_key(i, key);
		void *got = wg_hashmap_get(m, key);
		if ((uintptr_t)got != ref[i])
			cr_assert_fail("key %u: got %p, expected %p", i, got, (void *)ref[i]);
		present += ref[i] != 0;
	}
	cr_assert_eq(wg_hashmap_count(m), present);
}

struct sweep {
	const uintptr_t *ref;
	size_t seen;
	int bad;
};

static void sweep_one(const void *key, void *value, void *arg)
{
	struct sweep *s = arg;
	uint32_t i = key_index(key);
	uint8_t expect[16];

	make_key(i, expect);
	if (i >= BIG || memcmp(expect, key, 16) != 0 || s->ref[i] != (uintptr_t)value)
		s->bad++;
	s->seen++;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

Test(hashmap, big_table_matches_reference)
{
	struct wg_hashmap *m = wg_hashmap_new(16);
	uintptr_t *ref = calloc(BIG, sizeof(*ref));
	uint8_t key[16];
	struct wg_hashmap_stats st;

	cr_assert(m && ref);
	/* Fill: the table doubles from 16 slots to 2^19 on the way. */
	double t0 = now_s();
	for (uint32_t i = 0; i < BIG; i++) {
		make_key(i, key);
		ref[i] = (uintptr_t)val(rng());
		cr_assert_eq(wg_hashmap_put(m, key, (void *)ref[i]), 0);
	}
	double t1 = now_s();
	check_all(m, ref, BIG);
	double t2 = now_s();
	cr_log_info("200K puts %.0f ns each, 200K gets %.0f ns each", (t1 - t0) / BIG * 1e9, (t2 - t1) / BIG * 1e9);

	/* Fast and small at this size: short probe runs, few bytes per entry
	 * (a 16-byte key + 8-byte pointer is 24 bytes; load 0.38..0.7 -> <= 64). */
	wg_hashmap_stats(m, &st);
	cr_log_info("slots %zu, %.1f bytes/entry, mean probe %.2f, max probe %zu", st.slots,
		    (double)st.bytes / BIG, (double)st.total_probe / BIG, st.max_probe);
	cr_assert_eq(st.count, BIG);
	cr_assert_leq(st.bytes / BIG, 64);
	cr_assert_lt((double)st.total_probe / BIG, 2.0, "mean probe %.2f", (double)st.total_probe / BIG);
	cr_assert_lt(st.max_probe, 200);

	/* Delete every even key: each delete returns the stored value once. */
	for (uint32_t i = 0; i < BIG; i += 2) {
		make_key(i, key);
		cr_assert_eq((uintptr_t)wg_hashmap_del(m, key), ref[i]);
		cr_assert_null(wg_hashmap_del(m, key));
		ref[i] = 0;
	}
	check_all(m, ref, BIG);

	/* A random mix of put / replace / delete / get, checked as it goes. */
	for (int op = 0; op < 1000000; op++) {
		uint64_t r = rng();
		uint32_t i = (uint32_t)((r >> 8) % BIG);
		make_key(i, key);
		switch (r & 3) {
		case 0:
		case 1: {
			void *v = val(rng());
			size_t before = wg_hashmap_count(m);
			cr_assert_eq(wg_hashmap_put(m, key, v), 0);
			cr_assert_eq(wg_hashmap_count(m), before + (ref[i] == 0));
			ref[i] = (uintptr_t)v;
			break;
		}
		case 2:
			if ((uintptr_t)wg_hashmap_del(m, key) != ref[i])
				cr_assert_fail("op %d: delete of key %u returned the wrong value", op, i);
			ref[i] = 0;
			break;
		default:
			if ((uintptr_t)wg_hashmap_get(m, key) != ref[i])
				cr_assert_fail("op %d: get of key %u returned the wrong value", op, i);
		}
	}
	check_all(m, ref, BIG);

	struct sweep s = {ref, 0, 0};
	wg_hashmap_foreach(m, sweep_one, &s);
	cr_assert_eq(s.seen, wg_hashmap_count(m));
	cr_assert_eq(s.bad, 0);

	/* Emptied completely, nothing is left behind. */
	for (uint32_t i = 0; i < BIG; i++) {
		make_key(i, key);
		wg_hashmap_del(m, key);
		ref[i] = 0;
	}
	cr_assert_eq(wg_hashmap_count(m), 0);
	s = (struct sweep){ref, 0, 0};
	wg_hashmap_foreach(m, sweep_one, &s);
	cr_assert_eq(s.seen, 0);
	wg_hashmap_free(m);
	free(ref);
}

/* 11 keys in the initial 16 slots (load 0.69, just under the growth point)
 * make collisions and runs that wrap from the last slot to the first. Every
 * deletion order must leave every other key reachable. */
Test(hashmap, delete_inside_probe_runs)
{
	enum { TRIALS = 2000, KEYS = 11 };
	int collided = 0;

	for (int t = 0; t < TRIALS; t++) {
		struct wg_hashmap *m = wg_hashmap_new(4);
		uint32_t keys[KEYS];
		int order[KEYS], live[KEYS];
		struct wg_hashmap_stats st;

		cr_assert(m);
		for (int k = 0; k < KEYS; k++) {
			int dup;
			do { /* distinct keys, so each has its own entry */
				keys[k] = (uint32_t)rng();
				dup = 0;
				for (int j = 0; j < k; j++)
					dup |= keys[j] == keys[k];
			} while (dup);
			cr_assert_eq(wg_hashmap_put(m, &keys[k], val((uint64_t)k << 4)), 0);
			order[k] = k;
			live[k] = 1;
		}
		wg_hashmap_stats(m, &st);
		cr_assert_eq(st.slots, 16, "11 keys must not trigger growth");
		collided += st.max_probe > 0;
		for (int k = KEYS - 1; k > 0; k--) { /* Fisher-Yates */
			int j = (int)(rng() % (uint64_t)(k + 1));
			int tmp = order[k];
			order[k] = order[j];
			order[j] = tmp;
		}
		for (int d = 0; d < KEYS; d++) {
			int victim = order[d];
			cr_assert_eq(wg_hashmap_del(m, &keys[victim]), val((uint64_t)victim << 4));
			live[victim] = 0;
			for (int k = 0; k < KEYS; k++) {
				void *got = wg_hashmap_get(m, &keys[k]);
				if (got != (live[k] ? val((uint64_t)k << 4) : NULL))
					cr_assert_fail("trial %d: after deleting %d keys, key %d is %s", t, d + 1, k,
						 live[k] ? "lost" : "still present");
			}
			cr_assert_eq(wg_hashmap_count(m), (size_t)(KEYS - d - 1));
		}
		wg_hashmap_free(m);
	}
	/* Proves the loop above really deleted inside runs (no collisions has
	 * probability ~1% per trial). */
	cr_assert_gt(collided, TRIALS * 9 / 10, "only %d of %d tables had a collision", collided, TRIALS);
}

static void count_one(const void *key, void *value, void *arg)
{
	(void)key;
	(void)value;
	++*(size_t *)arg;
}

Test(hashmap, foreach_visits_each_entry_once)
{
	struct wg_hashmap *m = wg_hashmap_new(32);
	uint8_t key[32] = {0};
	size_t n = 0;

	cr_assert(m);
	wg_hashmap_foreach(m, count_one, &n);
	cr_assert_eq(n, 0);
	for (uint32_t i = 0; i < 1000; i++) {
		memcpy(key + 28, &i, 4); /* keys differing only in their last bytes */
		cr_assert_eq(wg_hashmap_put(m, key, val(i << 1)), 0);
	}
	for (uint32_t i = 0; i < 1000; i += 3) {
		memcpy(key + 28, &i, 4);
		cr_assert_not_null(wg_hashmap_del(m, key));
	}
	wg_hashmap_foreach(m, count_one, &n);
	cr_assert_eq(n, 1000 - 334);
	cr_assert_eq(wg_hashmap_count(m), 1000 - 334);
	wg_hashmap_free(m);
}

Test(hashmap, keys_are_copied_and_values_replaced)
{
	struct wg_hashmap *m = wg_hashmap_new(6);
	uint8_t key[6] = {1, 2, 3, 4, 5, 6}, same[6] = {1, 2, 3, 4, 5, 6};
	int a, b;

	cr_assert(m);
	cr_assert_eq(wg_hashmap_put(m, key, &a), 0);
	memset(key, 0xee, sizeof(key)); /* the caller's buffer is reused */
	cr_assert_eq(wg_hashmap_get(m, same), &a);
	cr_assert_null(wg_hashmap_get(m, key));
	cr_assert_eq(wg_hashmap_put(m, same, &b), 0);
	cr_assert_eq(wg_hashmap_count(m), 1);
	cr_assert_eq(wg_hashmap_get(m, same), &b);
	cr_assert_eq(wg_hashmap_put(m, same, NULL), -EINVAL);
	cr_assert_eq(wg_hashmap_get(m, same), &b);
	cr_assert_eq(wg_hashmap_del(m, same), &b);
	cr_assert_null(wg_hashmap_get(m, same));
	cr_assert_eq(wg_hashmap_count(m), 0);
	wg_hashmap_free(m);
	wg_hashmap_free(NULL);
	cr_assert_null(wg_hashmap_new(0));
}

struct order {
	uint32_t keys[64];
	size_t n;
};

static void record_order(const void *key, void *value, void *arg)
{
	struct order *o = arg;
	(void)value;
	if (o->n < 64)
		memcpy(&o->keys[o->n++], key, 4);
}

/* Two tables with the same keys place them differently: the seed is per
 * table, so a client cannot precompute colliding keys. */
Test(hashmap, seed_differs_per_table)
{
	struct order o1 = {{0}, 0}, o2 = {{0}, 0};
	struct wg_hashmap *m1 = wg_hashmap_new(4), *m2 = wg_hashmap_new(4);

	cr_assert(m1 && m2);
	for (uint32_t i = 0; i < 40; i++) {
		cr_assert_eq(wg_hashmap_put(m1, &i, val(1)), 0);
		cr_assert_eq(wg_hashmap_put(m2, &i, val(1)), 0);
	}
	wg_hashmap_foreach(m1, record_order, &o1);
	wg_hashmap_foreach(m2, record_order, &o2);
	cr_assert_eq(o1.n, 40);
	cr_assert_eq(o2.n, 40);
	cr_assert_neq(memcmp(o1.keys, o2.keys, sizeof(o1.keys)), 0, "same slot order in two tables (1 in 40!)");
	wg_hashmap_free(m1);
	wg_hashmap_free(m2);
}
