#include "count_map.h"

#include <stdlib.h>

unsigned wg_count_of(const struct wg_hashmap *m, const void *key)
{
	const unsigned *n = wg_hashmap_get(m, key);

	return n ? *n : 0;
}

int wg_count_add(struct wg_hashmap *m, const void *key)
{
	unsigned *n = wg_hashmap_get(m, key);

	if (!n) {
		if (!(n = calloc(1, sizeof(*n))))
			return -1;
		if (wg_hashmap_put(m, key, n) < 0) {
			free(n);
			return -1;
		}
	}
	++*n;
	return 0;
}

void wg_count_drop(struct wg_hashmap *m, const void *key)
{
	unsigned *n = wg_hashmap_get(m, key);

	if (n && --*n == 0)
		free(wg_hashmap_del(m, key));
}
