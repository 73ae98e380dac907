/* Brute-force protection: failed logins counted per client address. After
 * `failures` failures within `window_s` seconds the address is banned for
 * `ban_s` seconds; every failure also makes the next answer to that address
 * wait a little longer (exponential, capped). The table is bounded: at most
 * max_entries addresses are tracked, expired entries are dropped, and when
 * it is full the oldest unbanned entry makes room, or, when every entry is
 * an active ban, the automatic ban that ends soonest (administrators' bans
 * are never evicted): new failures are always counted.
 *
 * Addresses are IPv4 or IPv6 text, counted per client key (client_key.h):
 * IPv4 and IPv4-mapped IPv6 are the same key, and an IPv6 address counts
 * as its prefix6-bit prefix. Loop thread only (no locking). */
#ifndef WG_BAN_H
#define WG_BAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct wg_ban_table;

struct wg_ban_limits {
	unsigned failures;    /* failures that ban; 0: never ban automatically */
	unsigned window_s;    /* the failures must fall within this many seconds */
	unsigned ban_s;       /* how long an automatic ban lasts */
	unsigned max_entries; /* addresses tracked at most (>= 1) */
	unsigned prefix6;     /* IPv6 addresses count per prefix of this length; 0: 128 */
};

/* The delay before the next answer after n failures: 0 for none, then
 * WG_BAN_DELAY_BASE_MS doubling per failure up to WG_BAN_DELAY_MAX_MS. */
#define WG_BAN_DELAY_BASE_MS 250u
#define WG_BAN_DELAY_MAX_MS 4000u

struct wg_ban_stats {
	uint64_t failures_total; /* failed logins recorded */
	uint64_t bans_total;     /* bans imposed (automatic and manual) */
	uint64_t refused_total;  /* connections refused because of a ban */
	size_t active;           /* addresses banned now */
	size_t tracked;          /* addresses in the table */
};

struct wg_ban_info {
	const char *addr;      /* canonical text */
	time_t until;          /* ban end (unix seconds) */
	unsigned failures;     /* failures in the current window */
	bool manual;           /* set by an administrator */
};

struct wg_ban_table *wg_ban_new(const struct wg_ban_limits *lim);
void wg_ban_free(struct wg_ban_table *t);
/* New limits (a reload); entries are kept, a smaller cap applies as they
 * expire. */
void wg_ban_set_limits(struct wg_ban_table *t, const struct wg_ban_limits *lim);

/* Canonical text of what the table counts for an address
 * ("::ffff:1.2.3.4" -> "1.2.3.4", "2001:db8::5" -> "2001:db8::/64" with a
 * /64 prefix); -1 when text is not an IP address or out is too short. */
int wg_ban_canonical(const struct wg_ban_table *t, const char *text, char *out, size_t outlen);

/* A failed login from addr at now. Returns 1 when this failure banned the
 * address, 0 otherwise, -1 for an unparsable address. */
int wg_ban_failure(struct wg_ban_table *t, const char *addr, time_t now);
/* Seconds the address stays banned (0: not banned). */
unsigned wg_ban_remaining(struct wg_ban_table *t, const char *addr, time_t now);
/* Counts a connection refused because of a ban; true when it is worth a log
 * line (at most one per address every 10 s, so a flood cannot flood logs). */
bool wg_ban_note_refused(struct wg_ban_table *t, const char *addr, time_t now);
/* How long to wait before answering addr's next login step (ms). */
unsigned wg_ban_delay_ms(struct wg_ban_table *t, const char *addr, time_t now);

/* Administrator's ban (seconds > 0) and unban. 0, or -EINVAL (bad address
 * or seconds), -ENOSPC (table full of bans); unban returns 1 if the address
 * was banned, 0 if not. Unban also forgets the address's failures. */
int wg_ban_add(struct wg_ban_table *t, const char *addr, unsigned seconds, time_t now);
int wg_ban_remove(struct wg_ban_table *t, const char *addr, time_t now);

/* Drops entries that are neither banned nor within their failure window. */
void wg_ban_expire(struct wg_ban_table *t, time_t now);
/* Calls fn for every address banned at now, soonest end first not
 * guaranteed. Returns how many. */
size_t wg_ban_foreach(struct wg_ban_table *t, time_t now, void (*fn)(const struct wg_ban_info *b, void *arg),
		      void *arg);
void wg_ban_stats(struct wg_ban_table *t, time_t now, struct wg_ban_stats *out);

#endif
