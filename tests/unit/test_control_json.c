/* A session's control-socket record (list/show) with text a client chose:
 * user names, User-Agent, version and platform strings that are not valid
 * UTF-8 must not hide the session (issue 22 item 7: json_pack failed and
 * the session vanished from `list`). Invalid bytes become U+FFFD; valid
 * text, multi-byte included, is kept as it is. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "control/control.h"
#include "session/session.h"

#define FFFD "\xef\xbf\xbd"

static struct wg_session *session(const char *user, const char *agent)
{
	struct wg_session *s = calloc(1, sizeof(*s));
	cr_assert_not_null(s);
	snprintf(s->id_str, sizeof(s->id_str), "7");
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->user_agent, sizeof(s->user_agent), "%s", agent);
	snprintf(s->client_addr, sizeof(s->client_addr), "192.0.2.9");
	return s;
}

static void add_attr(struct wg_session *s, const char *k, const char *v)
{
	s->attrs[s->n_attrs].key = strdup(k);
	s->attrs[s->n_attrs].value = strdup(v);
	s->n_attrs++;
}

static void add_group(struct wg_session *s, const char *g)
{
	s->groups[s->n_groups++] = strdup(g);
}

static void session_free(struct wg_session *s)
{
	for (unsigned i = 0; i < s->n_attrs; i++) {
		free(s->attrs[i].key);
		free(s->attrs[i].value);
	}
	for (unsigned i = 0; i < s->n_groups; i++)
		free(s->groups[i]);
	free(s->groups_joined);
	free(s);
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_string(v), "%s is a string", key);
	return json_string_value(v);
}

Test(control_json, invalid_utf8_is_replaced_not_dropped)
{
	struct wg_session *s = session("al\xffice", "Open\xc3(AnyConnect)\xe2\x82");
	add_attr(s, "client-version", "v\x80\x80" "9");
	add_attr(s, "client-platform", "linux-\xf4\x90\x80\x80"); /* above U+10FFFF */
	add_group(s, "ops\xed\xa0\x80");                           /* a UTF-16 surrogate */
	snprintf(s->group, sizeof(s->group), "%s", s->groups[0]);

	json_t *o = wg_control_session_json(s, 0);
	cr_assert_not_null(o, "the session must still be reported");
	cr_assert_str_eq(str(o, "id"), "7");
	cr_assert_str_eq(str(o, "user"), "al" FFFD "ice");
	cr_assert_str_eq(str(o, "user_agent"), "Open" FFFD "(AnyConnect)" FFFD);
	cr_assert_str_eq(str(o, "client_version"), "v" FFFD FFFD "9");
	cr_assert_str_eq(str(o, "client_platform"), "linux-" FFFD FFFD FFFD FFFD);
	cr_assert_str_eq(str(o, "group"), "ops" FFFD FFFD FFFD);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "groups"), 0)), "ops" FFFD FFFD FFFD);
	char *text = json_dumps(o, 0);
	cr_assert_not_null(text);
	free(text);
	json_decref(o);
	session_free(s);
}

Test(control_json, valid_text_unchanged)
{
	struct wg_session *s = session("j\xc3\xbcrgen \xe6\x97\xa5\xf0\x9f\x94\x91", "AnyConnect Linux_64 4.10");
	json_t *o = wg_control_session_json(s, 0);
	cr_assert_not_null(o);
	cr_assert_str_eq(str(o, "user"), "j\xc3\xbcrgen \xe6\x97\xa5\xf0\x9f\x94\x91");
	cr_assert(json_is_null(json_object_get(o, "client_version")));
	json_decref(o);
	session_free(s);
}
