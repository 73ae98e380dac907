/* Session attributes as plugins read them (host->session_get): the
 * comma-joined group list must hold every group a backend may send, at its
 * full length, without writing past any buffer (issue 22 item 3: 16 groups
 * of 511 bytes from RADIUS/LDAP overflowed a fixed 2 KiB buffer). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define LONG_GROUP 511 /* the longest group name a backend hands the core */

static struct wg_session *session_with_groups(unsigned n, size_t len)
{
	struct wg_session *s = calloc(1, sizeof(*s));
	cr_assert_not_null(s);
	for (unsigned i = 0; i < n; i++) {
		s->groups[i] = malloc(len + 1);
		cr_assert_not_null(s->groups[i]);
		memset(s->groups[i], 'a' + (char)i, len);
		s->groups[i][len] = '\0';
	}
	s->n_groups = n;
	return s;
}

static void session_free(struct wg_session *s)
{
	for (unsigned i = 0; i < s->n_groups; i++)
		free(s->groups[i]);
	free(s->groups_joined);
	free(s);
}

Test(session_attr, maximal_groups_joined_whole)
{
	struct wg_session *s = session_with_groups(WG_MAX_GROUPS, LONG_GROUP);
	const char *j = wg_session_attr(s, WG_SESS_GROUPS);

	cr_assert_not_null(j);
	cr_assert_eq(strlen(j), WG_MAX_GROUPS * LONG_GROUP + (WG_MAX_GROUPS - 1));
	for (unsigned i = 0; i < WG_MAX_GROUPS; i++) {
		const char *g = j + i * (LONG_GROUP + 1);
		cr_assert_eq(g[0], 'a' + (char)i, "group %u starts where expected", i);
		cr_assert_eq(g[LONG_GROUP - 1], 'a' + (char)i);
		if (i + 1 < WG_MAX_GROUPS)
			cr_assert_eq(g[LONG_GROUP], ',');
	}
	session_free(s);
}

Test(session_attr, groups_small_and_none)
{
	struct wg_session *s = session_with_groups(3, 2);
	cr_assert_str_eq(wg_session_attr(s, WG_SESS_GROUPS), "aa,bb,cc");
	session_free(s);
	s = session_with_groups(0, 0);
	cr_assert_str_eq(wg_session_attr(s, WG_SESS_GROUPS), "");
	session_free(s);
}
