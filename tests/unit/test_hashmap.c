#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

#define N 200000

static void count_cb(const void *key, void *value, void *arg)
{
	(void)key;
	(void)value;
	(*(size_t *)arg)++;
}

Test(hashmap, insert_get_delete_against_reference)
{
	struct wg_hashmap *m = wg_hashmap_new(8);
	uint8_t *present = calloc(N, 1);

	cr_assert_not_null(m);
	for (uint64_t i = 0; i < N; i++) {
		uint64_t k = i * 2654435761u;
		cr_assert_eq(wg_hashmap_put(m, &k, (void *)(uintptr_t)(i + 1)), 0);
		present[i] = 1;
	}
	cr_assert_eq(wg_hashmap_count(m), N);
	/* Delete every third key: exercises backward shifting inside probe runs. */
	for (uint64_t i = 0; i < N; i += 3) {
		uint64_t k = i * 2654435761u;
		cr_assert_eq((uintptr_t)wg_hashmap_del(m, &k), i + 1);
		present[i] = 0;
	}
	for (uint64_t i = 0; i < N; i++) {
		uint64_t k = i * 2654435761u;
		void *v = wg_hashmap_get(m, &k);
		if (present[i])
			cr_assert_eq((uintptr_t)v, i + 1, "key %lu lost", (unsigned long)i);
		else
			cr_assert_null(v, "deleted key %lu still found", (unsigned long)i);
	}
	size_t seen = 0;
	wg_hashmap_foreach(m, count_cb, &seen);
	cr_assert_eq(seen, wg_hashmap_count(m));
	cr_assert_eq(seen, N - (N + 2) / 3);
	wg_hashmap_free(m);
	free(present);
}

Test(hashmap, replace_and_odd_key_length)
{
	struct wg_hashmap *m = wg_hashmap_new(18);
	uint8_t k[18] = {1, 2, 3};
	int a, b;

	cr_assert_eq(wg_hashmap_put(m, k, &a), 0);
	cr_assert_eq(wg_hashmap_put(m, k, &b), 0);
	cr_assert_eq(wg_hashmap_count(m), 1);
	cr_assert_eq(wg_hashmap_get(m, k), &b);
	k[17] = 9;
	cr_assert_null(wg_hashmap_get(m, k));
	cr_assert_null(wg_hashmap_del(m, k));
	cr_assert_eq(wg_hashmap_put(m, k, NULL), -EINVAL);
	wg_hashmap_free(m);
}
