#include <criterion/criterion.h>
#include <string.h>

#include "control/control_proto.h"

Test(control_proto, commands_and_selectors)
{
	struct wg_control_req r;
	char err[256];
	const char *ok = "{\"cmd\": \"disconnect\", \"user\": \"alice\"}";

	cr_assert_eq(wg_control_parse(ok, strlen(ok), &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.cmd, WG_CTL_DISCONNECT);
	cr_assert_str_eq(r.user, "alice");
	cr_assert_str_eq(r.id, "");
	cr_assert_eq(wg_control_parse("{\"cmd\":\"list\"}\n", 15, &r, err, sizeof(err)), 0);
	cr_assert_eq(r.cmd, WG_CTL_LIST);
}

Test(control_proto, refusals_say_why)
{
	struct wg_control_req r;
	char err[256];
	static const char *bad[] = {
		"", "[]", "{\"cmd\": 1}", "{\"cmd\": \"format-disk\"}", "{\"cmd\": \"show\"}",
		"{\"cmd\": \"show\", \"user\": 5}", "{\"cmd\": \"show\", \"user\": \"\"}",
		"{\"cmd\": \"list\", \"cmd\": \"list\"}", "{\"cmd\": \"show\", \"id\": \"a\\u0000b\"}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(wg_control_parse(bad[i], strlen(bad[i]), &r, err, sizeof(err)), -1, "accepted %s", bad[i]);
		cr_assert_neq(err[0], '\0', "no reason for %s", bad[i]);
	}
	char big[WG_CONTROL_MAX_REQUEST + 10];
	memset(big, ' ', sizeof(big));
	cr_assert_eq(wg_control_parse(big, sizeof(big), &r, err, sizeof(err)), -1);
	cr_assert(strstr(err, "larger"));
}

Test(control_proto, ban_requests)
{
	struct wg_control_req r;
	char err[256];
	const char *ban = "{\"cmd\": \"ban\", \"addr\": \"198.51.100.7\", \"seconds\": 3600}";

	cr_assert_eq(wg_control_parse(ban, strlen(ban), &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.cmd, WG_CTL_BAN);
	cr_assert_str_eq(r.addr, "198.51.100.7");
	cr_assert_eq(r.seconds, 3600);
	const char *unban = "{\"cmd\": \"unban\", \"addr\": \"2001:db8::1\"}";
	cr_assert_eq(wg_control_parse(unban, strlen(unban), &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.cmd, WG_CTL_UNBAN);
	cr_assert_eq(r.seconds, 0);
	cr_assert_eq(wg_control_parse("{\"cmd\":\"bans\"}", 14, &r, err, sizeof(err)), 0);
	cr_assert_eq(r.cmd, WG_CTL_BANS);
	static const char *bad[] = {
		"{\"cmd\": \"ban\"}", "{\"cmd\": \"unban\", \"addr\": 7}", "{\"cmd\": \"ban\", \"addr\": \"x\", \"seconds\": 0}",
		"{\"cmd\": \"ban\", \"addr\": \"x\", \"seconds\": -5}", "{\"cmd\": \"ban\", \"addr\": \"x\", \"seconds\": 1.5}",
		"{\"cmd\": \"ban\", \"addr\": \"x\", \"seconds\": 99999999999}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(wg_control_parse(bad[i], strlen(bad[i]), &r, err, sizeof(err)), -1, "accepted %s", bad[i]);
		cr_assert_neq(err[0], '\0');
	}
}
