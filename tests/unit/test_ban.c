#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/ban.h"

static const struct wg_ban_limits lim = {.failures = 3, .window_s = 60, .ban_s = 100, .max_entries = 8};

Test(ban, failures_within_the_window_ban)
{
	struct wg_ban_table *t = wg_ban_new(&lim);

	cr_assert_eq(wg_ban_failure(t, "198.51.100.2", 1000), 0);
	cr_assert_eq(wg_ban_failure(t, "198.51.100.2", 1010), 0);
	cr_assert_eq(wg_ban_remaining(t, "198.51.100.2", 1010), 0);
	cr_assert_eq(wg_ban_failure(t, "198.51.100.2", 1020), 1, "third failure bans");
	cr_assert_eq(wg_ban_remaining(t, "198.51.100.2", 1020), 100);
	cr_assert_eq(wg_ban_remaining(t, "198.51.100.2", 1119), 1);
	cr_assert_eq(wg_ban_remaining(t, "198.51.100.2", 1120), 0, "the ban ends");
	cr_assert_eq(wg_ban_remaining(t, "198.51.100.3", 1020), 0, "another address is not banned");
	struct wg_ban_stats st;
	wg_ban_stats(t, 1020, &st);
	cr_assert_eq(st.failures_total, 3);
	cr_assert_eq(st.bans_total, 1);
	cr_assert_eq(st.active, 1);
	wg_ban_free(t);
}

Test(ban, failures_outside_the_window_do_not_add_up)
{
	struct wg_ban_table *t = wg_ban_new(&lim);

	cr_assert_eq(wg_ban_failure(t, "2001:db8::1", 0), 0);
	cr_assert_eq(wg_ban_failure(t, "2001:db8::1", 30), 0);
	cr_assert_eq(wg_ban_failure(t, "2001:db8::1", 61), 0, "the window restarted at 61");
	cr_assert_eq(wg_ban_failure(t, "2001:db8::1", 70), 0);
	cr_assert_eq(wg_ban_failure(t, "2001:db8::1", 80), 1);
	wg_ban_free(t);
}

Test(ban, ipv4_and_mapped_ipv6_are_one_address)
{
	struct wg_ban_table *t = wg_ban_new(&lim);
	char canon[64];

	cr_assert_eq(wg_ban_canonical(t, "::ffff:198.51.100.9", canon, sizeof(canon)), 0);
	cr_assert_str_eq(canon, "198.51.100.9");
	cr_assert_eq(wg_ban_add(t, "::ffff:198.51.100.9", 50, 10), 0);
	cr_assert_eq(wg_ban_remaining(t, "198.51.100.9", 10), 50);
	cr_assert_eq(wg_ban_remove(t, "198.51.100.9", 10), 1);
	cr_assert_eq(wg_ban_remaining(t, "::ffff:198.51.100.9", 10), 0);
	cr_assert_eq(wg_ban_remove(t, "198.51.100.9", 10), 0, "nothing left to unban");
	wg_ban_free(t);
}

Test(ban, bad_input_is_refused)
{
	struct wg_ban_table *t = wg_ban_new(&lim);
	char canon[64];

	cr_assert_eq(wg_ban_canonical(t, "not an address", canon, sizeof(canon)), -1);
	cr_assert_eq(wg_ban_canonical(t, "198.51.100.300", canon, sizeof(canon)), -1);
	cr_assert_eq(wg_ban_canonical(t, NULL, canon, sizeof(canon)), -1);
	cr_assert_eq(wg_ban_add(t, "x", 10, 0), -EINVAL);
	cr_assert_eq(wg_ban_add(t, "198.51.100.1", 0, 0), -EINVAL, "a ban of 0 s");
	cr_assert_eq(wg_ban_failure(t, "", 0), -1);
	cr_assert_eq(wg_ban_remove(t, "x", 0), -EINVAL);
	wg_ban_free(t);
}

Test(ban, delay_grows_and_is_capped)
{
	struct wg_ban_limits many = lim;
	many.failures = 0; /* never ban: only delays */
	struct wg_ban_table *t = wg_ban_new(&many);

	cr_assert_eq(wg_ban_delay_ms(t, "198.51.100.2", 0), 0, "no failure, no delay");
	unsigned last = 0;
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(wg_ban_failure(t, "198.51.100.2", 1), 0, "ban-failures 0 never bans");
		unsigned d = wg_ban_delay_ms(t, "198.51.100.2", 1);
		cr_assert_geq(d, last);
		cr_assert_leq(d, WG_BAN_DELAY_MAX_MS);
		last = d;
	}
	cr_assert_eq(last, WG_BAN_DELAY_MAX_MS);
	cr_assert_eq(wg_ban_delay_ms(t, "198.51.100.2", 2), WG_BAN_DELAY_MAX_MS);
	cr_assert_eq(wg_ban_delay_ms(t, "198.51.100.2", 1 + 60), 0, "the window passed");
	wg_ban_free(t);
}

Test(ban, memory_is_bounded)
{
	struct wg_ban_table *t = wg_ban_new(&lim); /* 8 entries */
	char addr[64];
	struct wg_ban_stats st;

	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 250, i % 250 + 1);
		wg_ban_failure(t, addr, 100 + i);
	}
	wg_ban_stats(t, 2000, &st);
	cr_assert_leq(st.tracked, 8);
	cr_assert_eq(st.failures_total, 1000);
	/* The newest failures are the ones kept. */
	cr_assert_gt(wg_ban_delay_ms(t, "10.0.3.250", 1099), 0);
	cr_assert_eq(wg_ban_delay_ms(t, "10.0.0.1", 1099), 0);
	/* Expired entries go. */
	wg_ban_expire(t, 100000);
	wg_ban_stats(t, 100000, &st);
	cr_assert_eq(st.tracked, 0);
	wg_ban_free(t);
}

Test(ban, a_table_full_of_bans_keeps_its_bans)
{
	struct wg_ban_table *t = wg_ban_new(&lim);
	char addr[64];

	for (int i = 0; i < 8; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i + 1);
		cr_assert_eq(wg_ban_add(t, addr, 1000, 0), 0);
	}
	cr_assert_eq(wg_ban_add(t, "192.0.2.100", 1000, 0), -ENOSPC);
	cr_assert_eq(wg_ban_failure(t, "192.0.2.101", 0), 0, "not tracked, not an error");
	cr_assert_eq(wg_ban_remaining(t, "192.0.2.1", 0), 1000, "no ban was evicted");
	cr_assert_eq(wg_ban_foreach(t, 0, NULL, NULL), 8);
	wg_ban_free(t);
}

static void count_manual(const struct wg_ban_info *b, void *arg)
{
	if (b->manual)
		++*(int *)arg;
}

Test(ban, refused_connections_are_logged_sparingly)
{
	struct wg_ban_table *t = wg_ban_new(&lim);
	int manual = 0, logged = 0;

	wg_ban_add(t, "198.51.100.5", 100, 0);
	for (int i = 0; i < 50; i++)
		logged += wg_ban_note_refused(t, "198.51.100.5", i / 10);
	cr_assert_eq(logged, 1, "one log line within 10 s");
	cr_assert(wg_ban_note_refused(t, "198.51.100.5", 20));
	struct wg_ban_stats st;
	wg_ban_stats(t, 20, &st);
	cr_assert_eq(st.refused_total, 51);
	wg_ban_foreach(t, 20, count_manual, &manual);
	cr_assert_eq(manual, 1);
	wg_ban_free(t);
}

/* Bans an address automatically (lim.failures failures at `now`). */
static void auto_ban(struct wg_ban_table *t, const char *addr, time_t now)
{
	for (unsigned i = 0; i < lim.failures; i++)
		wg_ban_failure(t, addr, now);
	cr_assert_gt(wg_ban_remaining(t, addr, now), 0, "%s not banned", addr);
}

/* Attackers with many addresses fill the table with automatic bans: a new
 * address must still be tracked (and banned), or it could guess for ever.
 * The automatic ban that ends soonest makes room; manual bans stay. */
Test(ban, a_table_full_of_automatic_bans_still_tracks_failures)
{
	struct wg_ban_table *t = wg_ban_new(&lim); /* 8 entries */
	char addr[64];

	cr_assert_eq(wg_ban_add(t, "192.0.2.200", 1000, 0), 0); /* an administrator's */
	for (int i = 0; i < 7; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i + 1);
		auto_ban(t, addr, 10 + i); /* 192.0.2.1's ban ends first */
	}
	cr_assert_eq(wg_ban_foreach(t, 20, NULL, NULL), 8, "the table is full of bans");
	for (unsigned i = 0; i + 1 < lim.failures; i++)
		cr_assert_eq(wg_ban_failure(t, "198.51.100.50", 20), 0);
	cr_assert_gt(wg_ban_delay_ms(t, "198.51.100.50", 20), 0, "the new address's failures are not tracked");
	cr_assert_eq(wg_ban_failure(t, "198.51.100.50", 20), 1, "the new address is not banned");
	cr_assert_eq(wg_ban_remaining(t, "192.0.2.200", 20), 980, "the manual ban was evicted");
	cr_assert_eq(wg_ban_remaining(t, "192.0.2.1", 20), 0, "the ban ending soonest was kept");
	cr_assert_gt(wg_ban_remaining(t, "192.0.2.7", 20), 0);
	struct wg_ban_stats st;
	wg_ban_stats(t, 20, &st);
	cr_assert_leq(st.tracked, 8);
	wg_ban_free(t);
}

/* IPv6: a host picks new addresses in its /64 at will, so failures and bans
 * count per /64 (ban-ipv6-prefix); the listing names the prefix. */
static void first_addr(const struct wg_ban_info *b, void *arg)
{
	snprintf(arg, 64, "%s", b->addr);
}

Test(ban, ipv6_counts_per_prefix)
{
	struct wg_ban_limits l64 = lim;
	l64.prefix6 = 64;
	struct wg_ban_table *t = wg_ban_new(&l64);
	char listed[64] = "";

	cr_assert_eq(wg_ban_failure(t, "2001:db8:1:2::1", 0), 0);
	cr_assert_eq(wg_ban_failure(t, "2001:db8:1:2:aaaa::7", 0), 0);
	cr_assert_eq(wg_ban_failure(t, "2001:db8:1:2:ffff:ffff:ffff:ffff", 0), 1, "three hosts of one /64: one client");
	cr_assert_gt(wg_ban_remaining(t, "2001:db8:1:2:1234::1", 0), 0, "another host of the /64 is not banned");
	cr_assert_eq(wg_ban_remaining(t, "2001:db8:1:3::1", 0), 0, "the next /64 is banned");
	wg_ban_foreach(t, 0, first_addr, listed);
	cr_assert_str_eq(listed, "2001:db8:1:2::/64");
	cr_assert_eq(wg_ban_remove(t, "2001:db8:1:2::/64", 0), 1, "the listed name does not unban");
	cr_assert_eq(wg_ban_remaining(t, "2001:db8:1:2::1", 0), 0);
	/* IPv4 is unchanged. */
	cr_assert_eq(wg_ban_add(t, "198.51.100.1", 10, 0), 0);
	cr_assert_eq(wg_ban_remaining(t, "198.51.100.2", 0), 0);
	/* 128: one address, as before. */
	struct wg_ban_limits l128 = lim;
	l128.prefix6 = 128;
	struct wg_ban_table *t2 = wg_ban_new(&l128);
	wg_ban_add(t2, "2001:db8::1", 10, 0);
	cr_assert_eq(wg_ban_remaining(t2, "2001:db8::2", 0), 0);
	cr_assert_eq(wg_ban_remaining(t2, "2001:db8::1", 0), 10);
	wg_ban_free(t2);
	wg_ban_free(t);
}
