/* Sessions per user in the shared table (core/session/user_count.c): the limit,
 * release, names that collide on their home slot, a full table, and a
 * count seen by a forked process (as the workers see it). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session/user_count.h"

Test(user_count, limit_and_release)
{
	struct wg_user_count *t = wg_user_count_new(64);
	unsigned n = 99;
	cr_assert_not_null(t);
	cr_assert_eq(wg_user_count_take(t, "alice", 2, &n), WG_USER_COUNT_TAKEN);
	cr_assert_eq(n, 0);
	cr_assert_eq(wg_user_count_take(t, "alice", 2, &n), WG_USER_COUNT_TAKEN);
	cr_assert_eq(wg_user_count_take(t, "alice", 2, &n), WG_USER_COUNT_LIMIT);
	cr_assert_eq(n, 2);
	cr_assert_eq(wg_user_count_take(t, "bob", 2, &n), WG_USER_COUNT_TAKEN, "another user has his own count");
	wg_user_count_release(t, "alice");
	cr_assert_eq(wg_user_count_get(t, "alice"), 1);
	cr_assert_eq(wg_user_count_take(t, "alice", 2, &n), WG_USER_COUNT_TAKEN);
	cr_assert_eq(wg_user_count_take(t, "carol", 0, &n), WG_USER_COUNT_TAKEN, "0: no limit");
	wg_user_count_free(t);
}

/* Many names in a small table: every deletion keeps the others reachable
 * (backward shift), and a table with one free slot left refuses new names. */
Test(user_count, probing_and_full)
{
	struct wg_user_count *t = wg_user_count_new(16);
	char name[32];
	unsigned n, i;
	for (i = 0; i < 15; i++) {
		snprintf(name, sizeof(name), "user%u", i);
		cr_assert_eq(wg_user_count_take(t, name, 0, &n), WG_USER_COUNT_TAKEN, "%s", name);
	}
	cr_assert_eq(wg_user_count_take(t, "one-too-many", 0, &n), WG_USER_COUNT_FULL);
	cr_assert_eq(wg_user_count_take(t, "user3", 0, &n), WG_USER_COUNT_TAKEN, "a known name still counts");
	for (i = 0; i < 15; i += 2) {
		snprintf(name, sizeof(name), "user%u", i);
		wg_user_count_release(t, name);
	}
	for (i = 0; i < 15; i++) {
		snprintf(name, sizeof(name), "user%u", i);
		cr_assert_eq(wg_user_count_get(t, name), i == 3 ? 2u : (i % 2 ? 1u : 0u), "%s", name);
	}
	wg_user_count_free(t);
}

Test(user_count, shared_with_a_forked_process)
{
	struct wg_user_count *t = wg_user_count_new(64);
	unsigned n;
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(wg_user_count_take(t, "alice", 1, &n) == WG_USER_COUNT_TAKEN ? 0 : 1);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_assert_eq(wg_user_count_take(t, "alice", 1, &n), WG_USER_COUNT_LIMIT, "the other process's session counts");
	wg_user_count_free(t);
}
