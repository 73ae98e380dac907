/* Merging the workers' control answers into one (core/control/control_merge.c). */
#include <criterion/criterion.h>
#include <jansson.h>

#include "control/control_merge.h"
#include "control/control_proto.h"

static json_t *j(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	cr_assert_not_null(v, "bad test JSON: %s", e.text);
	return v;
}

static json_t *merge(int cmd, const char *a, const char *b)
{
	json_t *in[2] = {j(a), j(b)};
	json_t *out = wg_control_merge(cmd, in, 2);
	json_decref(in[0]);
	json_decref(in[1]);
	cr_assert_not_null(out);
	return out;
}

Test(control_merge, list_concatenates_sessions)
{
	json_t *out = merge(WG_CTL_LIST, "{\"ok\":true,\"sessions\":[{\"id\":\"2\"}]}",
			    "{\"ok\":true,\"sessions\":[{\"id\":\"1\"},{\"id\":\"3\"}]}");
	cr_assert(json_is_true(json_object_get(out, "ok")));
	cr_assert_eq(json_array_size(json_object_get(out, "sessions")), 3);
	json_decref(out);
}

Test(control_merge, status_sums_counts_and_counters)
{
	json_t *out = merge(WG_CTL_STATUS,
			    "{\"ok\":true,\"sessions\":5,\"unauthenticated_connections\":1,\"version\":\"x\","
			    "\"counters\":{\"logins_ok\":7,\"rx_bytes\":100}}",
			    "{\"ok\":true,\"sessions\":3,\"unauthenticated_connections\":2,\"version\":\"x\","
			    "\"counters\":{\"logins_ok\":1,\"rx_bytes\":50}}");
	cr_assert_eq(json_integer_value(json_object_get(out, "sessions")), 8);
	cr_assert_eq(json_integer_value(json_object_get(out, "unauthenticated_connections")), 3);
	json_t *c = json_object_get(out, "counters");
	cr_assert_eq(json_integer_value(json_object_get(c, "logins_ok")), 8);
	cr_assert_eq(json_integer_value(json_object_get(c, "rx_bytes")), 150);
	cr_assert_eq(json_integer_value(json_object_get(out, "workers")), 2);
	json_decref(out);
}

Test(control_merge, disconnect_sums_and_lists_ids)
{
	json_t *out = merge(WG_CTL_DISCONNECT, "{\"ok\":true,\"disconnected\":0,\"ids\":[]}",
			    "{\"ok\":true,\"disconnected\":2,\"ids\":[\"3\",\"5\"]}");
	cr_assert_eq(json_integer_value(json_object_get(out, "disconnected")), 2);
	cr_assert_eq(json_array_size(json_object_get(out, "ids")), 2);
	json_decref(out);
}

Test(control_merge, bans_listed_once_with_the_latest_end)
{
	json_t *out = merge(WG_CTL_BANS,
			    "{\"ok\":true,\"bans\":[{\"addr\":\"192.0.2.1\",\"until\":100},{\"addr\":\"192.0.2.9\",\"until\":5}]}",
			    "{\"ok\":true,\"bans\":[{\"addr\":\"192.0.2.1\",\"until\":300},{\"addr\":\"192.0.2.2\",\"until\":7}]}");
	json_t *bans = json_object_get(out, "bans");
	cr_assert_eq(json_array_size(bans), 3);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(bans, 0), "until")), 300);
	json_decref(out);
}

Test(control_merge, unban_was_banned_anywhere)
{
	json_t *out = merge(WG_CTL_UNBAN, "{\"ok\":true,\"addr\":\"192.0.2.1\",\"was_banned\":false}",
			    "{\"ok\":true,\"addr\":\"192.0.2.1\",\"was_banned\":true}");
	cr_assert(json_is_true(json_object_get(out, "was_banned")));
	json_decref(out);
}

Test(control_merge, reload_fails_when_one_worker_fails)
{
	json_t *out = merge(WG_CTL_RELOAD, "{\"ok\":true,\"message\":\"reloaded\",\"config_generation\":2}",
			    "{\"ok\":false,\"error\":\"conf.d/30.json:1:2: bad\"}");
	cr_assert(json_is_false(json_object_get(out, "ok")));
	cr_assert_str_eq(json_string_value(json_object_get(out, "error")), "worker 1: conf.d/30.json:1:2: bad");
	json_decref(out);
	out = merge(WG_CTL_RELOAD, "{\"ok\":true,\"message\":\"reloaded\"}", "{\"ok\":true,\"message\":\"reloaded\"}");
	cr_assert(json_is_true(json_object_get(out, "ok")));
	json_decref(out);
}

Test(control_merge, a_request_error_is_passed_on)
{
	json_t *out = merge(WG_CTL_BAN, "{\"ok\":false,\"error\":\"the ban table is full\"}",
			    "{\"ok\":true,\"addr\":\"192.0.2.1\",\"seconds\":60}");
	cr_assert(json_is_false(json_object_get(out, "ok")));
	json_decref(out);
}

Test(control_merge, malformed_answers_do_not_crash)
{
	/* Missing or mistyped fields: the merge keeps what it can. */
	json_t *out = merge(WG_CTL_STATUS, "{\"ok\":true}", "{\"ok\":true,\"sessions\":\"many\",\"counters\":3}");
	cr_assert(json_is_true(json_object_get(out, "ok")));
	json_decref(out);
	out = merge(WG_CTL_LIST, "{\"ok\":true,\"sessions\":{}}", "{\"ok\":true,\"sessions\":[1]}");
	json_decref(out);
	out = wg_control_merge(WG_CTL_LIST, NULL, 0);
	cr_assert(json_is_false(json_object_get(out, "ok")));
	json_decref(out);
}
