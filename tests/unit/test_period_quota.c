/* Data quota per user and period (core/session/period_quota.c): period
 * numbers, counts that start again in a new period, one count shared by
 * processes (as workers share it), and the state file read back. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf_fixture.h"
#include "session/period_quota.h"

Test(period_quota, periods_begin_at_midnight_utc_monday_and_the_first)
{
	/* 2026-12-04 (a Friday) 12:00:00 UTC */
	time_t fri = 1796385600;
	cr_assert_eq(wg_period_parse("day"), WG_PERIOD_DAY);
	cr_assert_eq(wg_period_parse("week"), WG_PERIOD_WEEK);
	cr_assert_eq(wg_period_parse("month"), WG_PERIOD_MONTH);
	cr_assert_eq(wg_period_parse("year"), -1);
	cr_assert_eq(wg_period_id(WG_PERIOD_DAY, fri), wg_period_id(WG_PERIOD_DAY, fri - 12 * 3600));
	cr_assert_neq(wg_period_id(WG_PERIOD_DAY, fri), wg_period_id(WG_PERIOD_DAY, fri - 12 * 3600 - 1));
	/* The week began on Monday 2026-11-30 00:00 UTC, four days and 12 h before. */
	time_t monday = fri - 4 * 86400 - 12 * 3600;
	cr_assert_eq(wg_period_id(WG_PERIOD_WEEK, fri), wg_period_id(WG_PERIOD_WEEK, monday));
	cr_assert_eq(wg_period_id(WG_PERIOD_WEEK, monday - 1) + 1, wg_period_id(WG_PERIOD_WEEK, monday));
	/* December began on the 1st, 00:00 UTC. */
	time_t first = fri - 3 * 86400 - 12 * 3600;
	cr_assert_eq(wg_period_id(WG_PERIOD_MONTH, fri), wg_period_id(WG_PERIOD_MONTH, first));
	cr_assert_eq(wg_period_id(WG_PERIOD_MONTH, first - 1) + 1, wg_period_id(WG_PERIOD_MONTH, first));
	cr_assert_eq(wg_period_id(WG_PERIOD_MONTH, fri), 2026 * 12 + 11);
}

Test(period_quota, counts_add_up_and_start_again_in_a_new_period)
{
	char err[256];
	struct wg_period_quota *t = wg_period_quota_new(64, NULL, err, sizeof(err));

	cr_assert_not_null(t, "%s", err);
	cr_assert_eq(wg_period_quota_add(t, "alice", 7, 0), 0);
	cr_assert_eq(wg_period_quota_add(t, "alice", 7, 1000), 1000);
	cr_assert_eq(wg_period_quota_add(t, "alice", 7, 500), 1500);
	cr_assert_eq(wg_period_quota_add(t, "bob", 7, 10), 10);
	cr_assert_eq(wg_period_quota_add(t, "alice", 8, 1), 1, "the next period starts from 0");
	cr_assert_eq(wg_period_quota_add(t, "bob", 7, 0), 10);
	wg_period_quota_free(t);
}

Test(period_quota, a_full_table_counts_nobody_new)
{
	char err[256], name[32];
	struct wg_period_quota *t = wg_period_quota_new(16, NULL, err, sizeof(err));

	cr_assert_not_null(t, "%s", err);
	for (int i = 0; i < 15; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		cr_assert_eq(wg_period_quota_add(t, name, 1, 5), 5);
	}
	cr_assert_eq(wg_period_quota_add(t, "one-too-many", 1, 5), UINT64_MAX);
	cr_assert_eq(wg_period_quota_add(t, "user3", 1, 5), 10, "the ones in it still count");
	wg_period_quota_free(t);
}

Test(period_quota, processes_share_one_count)
{
	char err[256];
	struct wg_period_quota *t = wg_period_quota_new(64, NULL, err, sizeof(err));

	cr_assert_not_null(t, "%s", err);
	pid_t kids[4];
	for (int k = 0; k < 4; k++) {
		kids[k] = fork();
		cr_assert_geq(kids[k], 0);
		if (kids[k] == 0) {
			for (int i = 0; i < 1000; i++)
				wg_period_quota_add(t, "alice", 3, 3);
			_exit(0);
		}
	}
	for (int k = 0; k < 4; k++) {
		int st;
		cr_assert_eq(waitpid(kids[k], &st, 0), kids[k]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	cr_assert_eq(wg_period_quota_add(t, "alice", 3, 0), 12000, "every process's bytes, none lost");
	wg_period_quota_free(t);
}

Test(period_quota, the_state_file_is_read_back)
{
	char *dir = fixture_tmpdir(), path[4200], err[256];
	snprintf(path, sizeof(path), "%s/quota.state", dir);
	struct wg_period_quota *t = wg_period_quota_new(64, path, err, sizeof(err));

	cr_assert_not_null(t, "%s", err);
	wg_period_quota_add(t, "alice", 9, 123456);
	wg_period_quota_add(t, "name with spaces", 9, 7);
	cr_assert_eq(wg_period_quota_save(t), 0);
	wg_period_quota_free(t);

	t = wg_period_quota_new(64, path, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_assert_eq(wg_period_quota_add(t, "alice", 9, 0), 123456);
	cr_assert_eq(wg_period_quota_add(t, "name with spaces", 9, 1), 8);
	cr_assert_eq(wg_period_quota_add(t, "alice", 10, 0), 0, "a later period starts from 0");
	cr_assert_eq(wg_period_quota_save(t), 0);
	wg_period_quota_free(t);
	/* A file that is not one of ours is ignored, not misread. */
	fixture_write(dir, "quota.state", "alice 1 2\n9 999 alice\n");
	t = wg_period_quota_new(64, path, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_assert_eq(wg_period_quota_add(t, "alice", 9, 0), 0);
	wg_period_quota_free(t);
	/* A state file that cannot be opened is an error at start. */
	cr_assert_null(wg_period_quota_new(64, "/nonexistent/dir/q.state", err, sizeof(err)));
	cr_assert(strstr(err, "data-quota-state-file: cannot open /nonexistent/dir/q.state"), "%s", err);
	fixture_rmrf(dir); /* frees dir */
}
