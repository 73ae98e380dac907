/* Which addresses count as one client (core/login/client_key.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "login/client_key.h"

static void key_text(const char *addr, unsigned prefix6, const char *want)
{
	uint8_t key[WG_CLIENT_KEY_LEN];
	char text[WG_CLIENT_KEY_TEXT];

	cr_assert_eq(wg_client_key(addr, prefix6, key, text), 0, "%s refused", addr);
	cr_assert_str_eq(text, want);
}

Test(client_key, ipv4_is_one_client_in_either_spelling)
{
	uint8_t a[WG_CLIENT_KEY_LEN], b[WG_CLIENT_KEY_LEN];

	key_text("198.51.100.7", 64, "198.51.100.7");
	key_text("::ffff:198.51.100.7", 64, "198.51.100.7");
	cr_assert_eq(wg_client_key("198.51.100.7", 64, a, NULL), 0);
	cr_assert_eq(wg_client_key("::ffff:198.51.100.7", 64, b, NULL), 0);
	cr_assert_eq(memcmp(a, b, sizeof(a)), 0);
}

Test(client_key, ipv6_is_its_prefix)
{
	uint8_t a[WG_CLIENT_KEY_LEN], b[WG_CLIENT_KEY_LEN], c[WG_CLIENT_KEY_LEN];

	key_text("2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::/64");
	key_text("2001:db8:1:2:3:4:5:6", 56, "2001:db8:1::/56");
	key_text("2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6");
	key_text("2001:db8:1:2::/64", 64, "2001:db8:1:2::/64");
	cr_assert_eq(wg_client_key("2001:db8:1:2::1", 64, a, NULL), 0);
	cr_assert_eq(wg_client_key("2001:db8:1:2:ffff::1", 64, b, NULL), 0);
	cr_assert_eq(wg_client_key("2001:db8:1:3::1", 64, c, NULL), 0);
	cr_assert_eq(memcmp(a, b, sizeof(a)), 0, "one /64, two clients");
	cr_assert_neq(memcmp(a, c, sizeof(a)), 0, "two /64s, one client");
}

Test(client_key, bad_text_is_refused)
{
	uint8_t k[WG_CLIENT_KEY_LEN];

	cr_assert_eq(wg_client_key(NULL, 64, k, NULL), -1);
	cr_assert_eq(wg_client_key("", 64, k, NULL), -1);
	cr_assert_eq(wg_client_key("host.example", 64, k, NULL), -1);
	cr_assert_eq(wg_client_key("198.51.100.300", 64, k, NULL), -1);
	cr_assert_eq(wg_client_key("2001:db8::1/", 64, k, NULL), -1);
	cr_assert_eq(wg_client_key("2001:db8::1/6x", 64, k, NULL), -1);
	cr_assert_eq(wg_client_key("2001:db8::1/64/64", 64, k, NULL), -1);
	cr_assert_eq(wg_client_key("1111:2222:3333:4444:5555:6666:7777:8888:9999", 64, k, NULL), -1);
}
