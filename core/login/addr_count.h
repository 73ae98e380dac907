/* How many of something each client holds (pre-login connections, login
 * conversations), keyed by client key (client_key.h), so one client's share
 * of a server-wide limit can be capped. An entry exists only while its count
 * is above zero. Loop thread only. */
#ifndef WG_ADDR_COUNT_H
#define WG_ADDR_COUNT_H

#include <stdint.h>

#include "login/client_key.h"

struct wg_addr_count;

struct wg_addr_count *wg_addr_count_new(void);
void wg_addr_count_free(struct wg_addr_count *t);
unsigned wg_addr_count_get(const struct wg_addr_count *t, const uint8_t key[WG_CLIENT_KEY_LEN]);
/* One more for key: 0, or -ENOMEM. */
int wg_addr_count_add(struct wg_addr_count *t, const uint8_t key[WG_CLIENT_KEY_LEN]);
/* One less (never below zero). */
void wg_addr_count_sub(struct wg_addr_count *t, const uint8_t key[WG_CLIENT_KEY_LEN]);

#endif
