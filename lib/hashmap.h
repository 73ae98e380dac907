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
/* For tables that own their values: free()s every value, then the table. */
void wg_hashmap_free_owned(struct wg_hashmap *m);
/* Inserts or replaces; the key bytes are copied, the value is borrowed.
 * Returns 0, -ENOMEM, or -EINVAL for a NULL value (NULL marks a free slot). */
int wg_hashmap_put(struct wg_hashmap *m, const void *key, void *value);
void *wg_hashmap_get(const struct wg_hashmap *m, const void *key);
/* Removes and returns the value, or NULL. */
void *wg_hashmap_del(struct wg_hashmap *m, const void *key);
size_t wg_hashmap_count(const struct wg_hashmap *m);
/* Calls fn for each entry; fn must not modify the map. */
void wg_hashmap_foreach(const struct wg_hashmap *m, void (*fn)(const void *key, void *value, void *arg), void *arg);

/* Diagnostics for tests and status output: how full the table is and how far
 * entries sit from their home slot (0 = no collision). O(slots). */
struct wg_hashmap_stats {
	size_t count, slots;
	size_t bytes;       /* heap bytes held by the table */
	size_t max_probe;   /* longest distance of any entry from its home slot */
	size_t total_probe; /* sum of distances; total_probe / count = mean */
};
void wg_hashmap_stats(const struct wg_hashmap *m, struct wg_hashmap_stats *out);

/* A malloc'd copy of all values (*n of them), for callers that must change
 * the map while visiting every entry (ending all sessions, say). NULL when
 * the map is empty or memory is short; the caller frees the array. */
void **wg_hashmap_values(const struct wg_hashmap *m, size_t *n);

#endif
