/* The position scanner: exact paths and positions on good input, no crash
 * and no read past the end on any input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/json_pos.h"

static void expect_at(const struct wg_json_pos *p, const char *path, uint32_t line, uint32_t col)
{
	const struct wg_json_pos_entry *e = wg_json_pos_find(p, path);
	cr_assert_not_null(e, "no entry for \"%s\"", path);
	cr_assert_eq(e->line, line, "\"%s\": line %u, expected %u", path, e->line, line);
	cr_assert_eq(e->column, col, "\"%s\": column %u, expected %u", path, e->column, col);
}

Test(json_pos, records_members_and_elements_by_path)
{
	const char *t = "{\n"
			"  \"server\": {\"port\": 443},\n"
			"  \"options\": {\n"
			"    \"routes\": [\"a\", 7, {\"x\": [[], {}]}],\n"
			"    \"empty\": {}\n"
			"  }\n"
			"}\n";
	struct wg_json_pos p;
	cr_assert_eq(wg_json_pos_scan(t, strlen(t), &p), 0);
	expect_at(&p, "", 1, 1);
	expect_at(&p, "server", 2, 3);
	expect_at(&p, "server.port", 2, 14);
	expect_at(&p, "options", 3, 3);
	expect_at(&p, "options.routes", 4, 5);
	expect_at(&p, "options.routes[0]", 4, 16);
	expect_at(&p, "options.routes[1]", 4, 21);
	expect_at(&p, "options.routes[2]", 4, 24);
	expect_at(&p, "options.routes[2].x", 4, 25);
	expect_at(&p, "options.routes[2].x[0]", 4, 31);
	expect_at(&p, "options.routes[2].x[1]", 4, 35);
	expect_at(&p, "options.empty", 5, 5);
	cr_assert_eq(p.n, 12, "nothing else recorded: %zu", p.n);
	cr_assert_null(wg_json_pos_find(&p, "options.routes[3]"));
	wg_json_pos_free(&p);
}

Test(json_pos, nearest_falls_back_to_ancestors)
{
	const char *t = "{\"a\": {\"b\": [1, 2]}}";
	struct wg_json_pos p;
	cr_assert_eq(wg_json_pos_scan(t, strlen(t), &p), 0);
	cr_assert_str_eq(wg_json_pos_nearest(&p, "a.b[1]")->path, "a.b[1]");
	cr_assert_str_eq(wg_json_pos_nearest(&p, "a.b[7].c")->path, "a.b");
	cr_assert_str_eq(wg_json_pos_nearest(&p, "a.zz")->path, "a");
	cr_assert_str_eq(wg_json_pos_nearest(&p, "q")->path, "");
	wg_json_pos_free(&p);
	struct wg_json_pos empty = {0};
	cr_assert_null(wg_json_pos_nearest(&empty, "a"));
}

Test(json_pos, keys_are_decoded_like_jansson_does)
{
	/* \u00e9, a surrogate pair (U+1F600), and escaped quote/backslash. */
	const char *t = "{\"caf\\u00e9\": 1, \"\\ud83d\\ude00\": 2, \"q\\\"\\\\\": 3, \"t\\tx\": 4}";
	struct wg_json_pos p;
	cr_assert_eq(wg_json_pos_scan(t, strlen(t), &p), 0);
	expect_at(&p, "caf\xc3\xa9", 1, 2);
	expect_at(&p, "\xf0\x9f\x98\x80", 1, 18);
	expect_at(&p, "q\"\\", 1, 37);
	expect_at(&p, "t\tx", 1, 49);
	wg_json_pos_free(&p);
}

Test(json_pos, undecodable_keys_are_skipped_not_misrecorded)
{
	/* NUL and a lone surrogate cannot be jansson keys: no entry for them
	 * or anything below them, but the rest is still scanned. */
	const char *t = "{\"a\\u0000b\": {\"in\": 1}, \"\\udc00\": 2, \"ok\": 3}";
	struct wg_json_pos p;
	cr_assert_eq(wg_json_pos_scan(t, strlen(t), &p), 0);
	cr_assert_eq(p.n, 2, "root and \"ok\" only, got %zu", p.n);
	expect_at(&p, "ok", 1, 38);
	wg_json_pos_free(&p);
}

Test(json_pos, columns_count_utf8_characters_and_tabs_as_one)
{
	const char *t = "{\"\xc3\xa9\xe2\x82\xac\": 1,\t\"k\": 2}";
	struct wg_json_pos p;
	cr_assert_eq(wg_json_pos_scan(t, strlen(t), &p), 0);
	expect_at(&p, "k", 1, 11);
	wg_json_pos_free(&p);
}

Test(json_pos, scalar_root_and_root_array)
{
	struct wg_json_pos p;
	cr_assert_eq(wg_json_pos_scan("  42 ", 5, &p), 0);
	expect_at(&p, "", 1, 3);
	wg_json_pos_free(&p);
	cr_assert_eq(wg_json_pos_scan("[true,\n null]", 13, &p), 0);
	expect_at(&p, "[1]", 2, 2);
	wg_json_pos_free(&p);
}

Test(json_pos, every_truncation_of_a_document_is_safe)
{
	const char *t = "{\"a\": [1, {\"b\\u00e9\": \"x\\\"y\"}, -2.5e3], \"c\": {\"d\": null}}";
	size_t len = strlen(t);
	for (size_t n = 0; n < len; n++) {
		/* An exact-size heap copy: ASan catches any read past n. */
		char *copy = malloc(n ? n : 1);
		memcpy(copy, t, n);
		struct wg_json_pos p;
		cr_assert_eq(wg_json_pos_scan(copy, n, &p), -EINVAL, "prefix of %zu bytes", n);
		wg_json_pos_free(&p);
		free(copy);
	}
	struct wg_json_pos p;
	cr_assert_eq(wg_json_pos_scan(t, len, &p), 0);
	wg_json_pos_free(&p);
}

Test(json_pos, malformed_inputs_stop_cleanly)
{
	const char *bad[] = {"", "}", "]", "{,}", "{\"a\" 1}", "{\"a\":}", "[1 2]", "{\"a\":1,}",
			     "\"unterminated", "{\"\\x\": 1}", "{\"\\u12\": 1}", "{\"a\":1}}", "{1: 2}",
			     "{\"\\ud800\\u\": 1}", "{\"\\ud800\\uzzzz\": 1}", "\x80\xff", "[1] x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wg_json_pos p;
		cr_assert_eq(wg_json_pos_scan(bad[i], strlen(bad[i]), &p), -EINVAL, "input %zu", i);
		wg_json_pos_free(&p);
	}
	struct wg_json_pos p;
	cr_assert_eq(wg_json_pos_scan(NULL, 10, &p), -EINVAL);
	wg_json_pos_free(&p);
}

Test(json_pos, depth_and_path_limits_hold)
{
	size_t depth = WG_JSON_POS_MAX_DEPTH + 10;
	char *deep = malloc(2 * depth);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	struct wg_json_pos p;
	cr_assert_eq(wg_json_pos_scan(deep, 2 * depth, &p), -EINVAL, "beyond the depth limit");
	wg_json_pos_free(&p);
	cr_assert_eq(wg_json_pos_scan(deep + 10, 2 * (depth - 10), &p), 0, "at the limit");
	cr_assert_eq(p.n, WG_JSON_POS_MAX_DEPTH);
	wg_json_pos_free(&p);
	free(deep);

	/* A key longer than a path can hold: not recorded, the rest is. */
	size_t klen = WG_JSON_POS_MAX_PATH + 50;
	char *t = malloc(klen + 32);
	size_t at = 0;
	t[at++] = '{';
	t[at++] = '"';
	memset(t + at, 'k', klen);
	at += klen;
	at += (size_t)sprintf(t + at, "\": {\"x\": 1}, \"y\": 2}");
	cr_assert_eq(wg_json_pos_scan(t, at, &p), 0);
	cr_assert_eq(p.n, 2);
	cr_assert_not_null(wg_json_pos_find(&p, "y"));
	wg_json_pos_free(&p);
	free(t);
}

Test(json_pos, random_bytes_never_crash)
{
	/* A deterministic stand-in for the fuzz target, run under ASan. */
	static const char alphabet[] = "{}[]\",:\\u0123456789abcdefABCDEF \n\t-+.etrunl\x80\xc3\xbf";
	uint32_t x = 12345;
	for (int iter = 0; iter < 20000; iter++) {
		char buf[64];
		size_t n = (size_t)(iter % 64);
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
		}
		char *copy = malloc(n ? n : 1);
		memcpy(copy, buf, n);
		struct wg_json_pos p;
		int rc = wg_json_pos_scan(copy, n, &p);
		cr_assert(rc == 0 || rc == -EINVAL);
		for (size_t i = 0; i < p.n; i++)
			cr_assert(p.v[i].line >= 1 && p.v[i].column >= 1);
		wg_json_pos_free(&p);
		free(copy);
	}
}
