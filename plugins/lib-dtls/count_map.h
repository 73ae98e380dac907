/* Counters by key in a wg_hashmap (values are owned unsigned ints): how
 * many half-open handshakes one session, lane-session or address holds,
 * so that one of them cannot take every slot of the server's table. A
 * counter that drops to 0 leaves the map. */
#ifndef WG_COUNT_MAP_H
#define WG_COUNT_MAP_H

#include "hashmap.h"

unsigned wg_count_of(const struct wg_hashmap *m, const void *key);
/* 0, or -1 (out of memory: nothing changed). */
int wg_count_add(struct wg_hashmap *m, const void *key);
void wg_count_drop(struct wg_hashmap *m, const void *key);

#endif
