/* A hash table from fixed-length byte keys to pointers, growing by doubling,
 * with a per-table random seed so hostile keys cannot force collisions.
 * Used for sessions by cookie, by VPN address and by DTLS App-ID, and for
 * DTLS links by peer address: lookups are O(1) at 100K entries. */
#ifndef WG_HASHMAP_H
#define WG_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

struct wg_hashmap;

struct wg_hashmap *wg_hashmap_new(size_t key_len);
void wg_hashmap_free(struct wg_hashmap *m); /* does not free values */
/* Inserts or replaces. Returns 0 or -ENOMEM. */
int wg_hashmap_put(struct wg_hashmap *m, const void *key, void *value);
void *wg_hashmap_get(const struct wg_hashmap *m, const void *key);
/* Removes and returns the value, or NULL. */
void *wg_hashmap_del(struct wg_hashmap *m, const void *key);
size_t wg_hashmap_count(const struct wg_hashmap *m);
/* Calls fn for each entry; fn must not modify the map. */
void wg_hashmap_foreach(const struct wg_hashmap *m, void (*fn)(const void *key, void *value, void *arg), void *arg);

#endif
