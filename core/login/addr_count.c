/* Per-client counters (see addr_count.h) in a hash table of small entries. */
#include "login/addr_count.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

struct wg_addr_count {
	struct wg_hashmap *map; /* key -> struct entry (owned) */
};

struct entry {
	unsigned n;
};

struct wg_addr_count *wg_addr_count_new(void)
{
	struct wg_addr_count *t = calloc(1, sizeof(*t));

	if (t && !(t->map = wg_hashmap_new(WG_CLIENT_KEY_LEN))) {
		free(t);
		return NULL;
	}
	return t;
}

void wg_addr_count_free(struct wg_addr_count *t)
{
	if (!t)
		return;
	wg_hashmap_free_owned(t->map);
	free(t);
}

unsigned wg_addr_count_get(const struct wg_addr_count *t, const uint8_t key[WG_CLIENT_KEY_LEN])
{
	const struct entry *e = wg_hashmap_get(t->map, key);

	return e ? e->n : 0;
}

int wg_addr_count_add(struct wg_addr_count *t, const uint8_t key[WG_CLIENT_KEY_LEN])
{
	struct entry *e = wg_hashmap_get(t->map, key);

	if (e) {
		e->n++;
		return 0;
	}
	if (!(e = calloc(1, sizeof(*e))))
		return -ENOMEM;
	e->n = 1;
	if (wg_hashmap_put(t->map, key, e) < 0) {
		free(e);
		return -ENOMEM;
	}
	return 0;
}

void wg_addr_count_sub(struct wg_addr_count *t, const uint8_t key[WG_CLIENT_KEY_LEN])
{
	struct entry *e = wg_hashmap_get(t->map, key);

	if (!e)
		return;
	if (--e->n == 0) {
		wg_hashmap_del(t->map, key);
		free(e);
	}
}
