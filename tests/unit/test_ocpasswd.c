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
