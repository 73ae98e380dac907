/* Data quota per user and period (period-data-quota, data-quota-period):
 * bytes each user moved this day, week or month, counted across the user's
 * sessions and across worker processes, and kept across restarts in a
 * state file. The table lives in one anonymous shared mapping made before
 * the workers are forked (as user_count.h), under a process-shared mutex;
 * sessions add what they moved every few seconds and when they end, so
 * between two sessions of a user the count lags by at most that much.
 * Periods begin at 00:00 UTC: a day, a week from Monday, a month from the
 * 1st. */
#ifndef WG_PERIOD_QUOTA_H
#define WG_PERIOD_QUOTA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct wg_period_quota;
struct wg_server;
struct wg_session;

enum wg_period { WG_PERIOD_DAY, WG_PERIOD_WEEK, WG_PERIOD_MONTH };

/* Users the table counts at once (a user stays in it until the slot is
 * needed, so this bounds the distinct users of all periods kept). */
#define WG_PERIOD_QUOTA_SLOTS 16384

/* "day", "week", "month" -> the period, or -1. */
int wg_period_parse(const char *name);
const char *wg_period_name(int period);
/* The number of the period that holds `now` (days, weeks or months since
 * 1970, UTC). */
uint32_t wg_period_id(int period, time_t now);

/* A table for at most `slots` users (rounded up to a power of two). With
 * state_path, the file is opened (made, mode 0600) now, while still root,
 * and what it holds is loaded; it is written again by
 * wg_period_quota_save. NULL with the reason in err. */
struct wg_period_quota *wg_period_quota_new(size_t slots, const char *state_path, char *err, size_t errlen);
void wg_period_quota_free(struct wg_period_quota *t);

/* Adds delta bytes to user's count in period pid (a count of an earlier
 * period starts again from 0) and returns the count. UINT64_MAX when the
 * table has no room for the user (not counted). */
uint64_t wg_period_quota_add(struct wg_period_quota *t, const char *user, uint32_t pid, uint64_t delta);
/* Writes the table to its state file if it changed since the last save.
 * 0, or -errno. */
int wg_period_quota_save(struct wg_period_quota *t);


#endif
