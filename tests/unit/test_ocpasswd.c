#include <criterion/criterion.h>
#include <string.h>

#include "../../plugins/auth-plain/ocpasswd.h"

Test(ocpasswd, ocserv_lines)
{
	struct ocpasswd_entry e;
	const char *l1 = "alice:eng,ops:$6$salt$hash";
	const char *l2 = "bob:*:$y$j9T$abc$def";
	const char *l3 = "carol::!$6$salt$hash";

	cr_assert_eq(ocpasswd_parse_line(l1, strlen(l1), &e), OCPASSWD_OK);
	cr_assert_str_eq(e.user, "alice");
	cr_assert_eq(e.n_groups, 2);
	cr_assert_str_eq(e.groups[1], "ops");
	cr_assert_str_eq(e.hash, "$6$salt$hash");
	cr_assert_not(e.locked);
	cr_assert_eq(ocpasswd_parse_line(l2, strlen(l2), &e), OCPASSWD_OK);
	cr_assert_eq(e.n_groups, 0);
	cr_assert_eq(ocpasswd_parse_line(l3, strlen(l3), &e), OCPASSWD_OK);
	cr_assert(e.locked);
	cr_assert_eq(ocpasswd_parse_line("# comment", 9, &e), OCPASSWD_SKIP);
	cr_assert_eq(ocpasswd_parse_line("   ", 3, &e), OCPASSWD_SKIP);
	cr_assert_eq(ocpasswd_parse_line("nocolons", 8, &e), OCPASSWD_BAD);
	cr_assert_eq(ocpasswd_parse_line(":g:h", 4, &e), OCPASSWD_BAD);
	cr_assert_eq(ocpasswd_parse_line("u:g:", 4, &e), OCPASSWD_BAD);
}

Test(ocpasswd, find_in_file)
{
	const char file[] = "# users\nal:x:$1$a\nalice:eng:$6$s$h\r\nbob:*:$6$t$i";
	struct ocpasswd_entry e;
	unsigned bad;

	cr_assert_eq(ocpasswd_find(file, sizeof(file) - 1, "alice", &e, &bad), 1);
	cr_assert_str_eq(e.hash, "$6$s$h");
	cr_assert_eq(ocpasswd_find(file, sizeof(file) - 1, "bob", &e, &bad), 1);
	cr_assert_eq(ocpasswd_find(file, sizeof(file) - 1, "ali", &e, &bad), 0);
	cr_assert_eq(ocpasswd_find(file, sizeof(file) - 1, "carol", &e, &bad), 0);
}

/* Unknown users are checked against the file's own hash settings, so the
 * sample must be a real, usable crypt setting: never a locked one. */
Test(ocpasswd, sample_hash_skips_comments_and_locked_entries)
{
	const char file[] = "# users\n"
			    "locked:g:!$y$j9T$abc$def\n"
			    "bad line without colons\n"
			    "alice:eng:$y$j9T$saltsaltsalt$hashhashhash\n"
			    "bob:sales:$6$salt$hash\n";
	char out[256];

	cr_assert(ocpasswd_sample_hash(file, sizeof(file) - 1, out, sizeof(out)));
	cr_assert_str_eq(out, "$y$j9T$saltsaltsalt$hashhashhash");
	cr_assert(!ocpasswd_sample_hash("# nothing\n", 10, out, sizeof(out)));
	cr_assert(!ocpasswd_sample_hash(file, sizeof(file) - 1, out, 8), "a setting that does not fit is not cut");
}
