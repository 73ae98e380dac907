/* Merging the workers' control answers (see control_merge.h). */
#include "control/control_merge.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "control/control_proto.h"

static bool is_ok(const json_t *a)
{
	return json_is_true(json_object_get(a, "ok"));
}

/* dst[key] += src[key] for an integer field. */
static void add_int(json_t *dst, const json_t *src, const char *key)
{
	json_t *d = json_object_get(dst, key), *s = json_object_get(src, key);

	if (json_is_integer(d) && json_is_integer(s))
		json_integer_set(d, json_integer_value(d) + json_integer_value(s));
}

static void concat(json_t *dst, const json_t *src, const char *key)
{
	json_t *d = json_object_get(dst, key), *s = json_object_get(src, key);

	if (json_is_array(d) && json_is_array(s))
		json_array_extend(d, (json_t *)s);
}

static json_t *merge_status(json_t *const *answers, unsigned n)
{
	json_t *out = json_deep_copy(answers[0]);
	json_t *counters = json_object_get(out, "counters");

	for (unsigned i = 1; i < n; i++) {
		add_int(out, answers[i], "sessions");
		add_int(out, answers[i], "unauthenticated_connections");
		const json_t *c = json_object_get(answers[i], "counters");
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)c, key, v) {
			(void)v;
			add_int(counters, c, key);
		}
	}
	json_object_set_new(out, "workers", json_integer(n));
	return out;
}

/* An address banned in several workers (by the administrator, in all) is
 * listed once, with the latest end. */
static json_t *merge_bans(json_t *const *answers, unsigned n)
{
	json_t *out = json_deep_copy(answers[0]), *list = json_object_get(out, "bans");

	for (unsigned i = 1; i < n; i++) {
		size_t k;
		json_t *b;
		json_array_foreach(json_object_get(answers[i], "bans"), k, b) {
			const char *addr = json_string_value(json_object_get(b, "addr"));
			size_t j;
			json_t *have, *same = NULL;
			json_array_foreach(list, j, have) {
				const char *a2 = json_string_value(json_object_get(have, "addr"));
				if (addr && a2 && strcmp(addr, a2) == 0)
					same = have;
			}
			if (!same)
				json_array_append(list, b);
			else if (json_integer_value(json_object_get(b, "until")) >
				 json_integer_value(json_object_get(same, "until")))
				json_object_update(same, b);
		}
	}
	return out;
}

static json_t *merge_reload(json_t *const *answers, unsigned n)
{
	char why[4096] = "";
	size_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		if (is_ok(answers[i]))
			continue;
		const char *e = json_string_value(json_object_get(answers[i], "error"));
		len += (size_t)snprintf(why + len, len < sizeof(why) ? sizeof(why) - len : 0, "%sworker %u: %s",
					len ? "; " : "", i, e ? e : "failed");
		if (len >= sizeof(why))
			len = sizeof(why) - 1;
	}
	if (!why[0])
		return json_deep_copy(answers[0]);
	return json_pack("{s:b, s:s}", "ok", 0, "error", why);
}

json_t *wg_control_merge(int cmd, json_t *const *answers, unsigned n)
{
	if (n == 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "no workers");
	if (cmd == WG_CTL_RELOAD)
		return merge_reload(answers, n);
	for (unsigned i = 0; i < n; i++)
		if (!is_ok(answers[i]))
			return json_deep_copy(answers[i]); /* a request error is the same in every worker */
	switch (cmd) {
	case WG_CTL_STATUS:
		return merge_status(answers, n);
	case WG_CTL_BANS:
		return merge_bans(answers, n);
	case WG_CTL_LIST:
	case WG_CTL_SHOW:
	case WG_CTL_DISCONNECT: {
		json_t *out = json_deep_copy(answers[0]);
		for (unsigned i = 1; i < n; i++) {
			concat(out, answers[i], "sessions");
			concat(out, answers[i], "ids");
			add_int(out, answers[i], "disconnected");
		}
		return out;
	}
	case WG_CTL_UNBAN: {
		json_t *out = json_deep_copy(answers[0]);
		bool was = false;
		for (unsigned i = 0; i < n; i++)
			was = was || json_is_true(json_object_get(answers[i], "was_banned"));
		json_object_set_new(out, "was_banned", json_boolean(was));
		return out;
	}
	default: /* ban: the same answer from every worker */
		return json_deep_copy(answers[0]);
	}
}
