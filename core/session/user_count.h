/* Sessions per user name, counted across worker processes, for
 * max-same-clients. The table lives in one anonymous shared mapping made
 * before the workers are forked (by the master, or by a single-process
 * server for itself), so every worker sees the same counts; a process-shared
 * mutex makes "count below the limit, then add one" a single step, so two
 * logins of one user on two workers cannot both take the last place. */
#ifndef WG_USER_COUNT_H
#define WG_USER_COUNT_H

#include <stddef.h>

struct wg_user_count;

/* A table for at most `slots` distinct users with sessions at a time
 * (rounded up to a power of two). NULL when the mapping fails. */
struct wg_user_count *wg_user_count_new(size_t slots);
struct wg_config;
/* The table size for a server section: room for every session that
 * max-clients allows (twice, for short probes), else for 65536 users. */
size_t wg_user_count_slots(const struct wg_config *server);
/* Unmaps this process's view (the others keep theirs). */
void wg_user_count_free(struct wg_user_count *t);

enum wg_user_count_result {
	WG_USER_COUNT_TAKEN = 0, /* counted: release it when the session ends */
	WG_USER_COUNT_LIMIT,     /* the user already has `limit` sessions */
	WG_USER_COUNT_FULL,      /* no room for another user name */
};

/* Counts one more session of `user` unless it has `limit` already (limit 0:
 * no limit, only counted). *count gets the user's sessions before the call. */
enum wg_user_count_result wg_user_count_take(struct wg_user_count *t, const char *user, unsigned limit,
					     unsigned *count);
/* One session of `user` ended (the name is forgotten at zero). */
void wg_user_count_release(struct wg_user_count *t, const char *user);
/* Sessions `user` holds now, on all workers. */
unsigned wg_user_count_get(struct wg_user_count *t, const char *user);

#endif
