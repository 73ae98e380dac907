/* The SDK's hex and percent decoding (wolfguard/percent.h), which the
 * auth-oidc callback, the proto-client's tunnel configuration, auth-radius
 * and the core's form reader share: every refusal it promises. */
#include <criterion/criterion.h>
#include <string.h>
#include <wolfguard/percent.h>

Test(sdk_percent, hex_digits_of_either_case_and_nothing_else)
{
	cr_assert_eq(wg_hex_digit('0'), 0);
	cr_assert_eq(wg_hex_digit('9'), 9);
	cr_assert_eq(wg_hex_digit('a'), 10);
	cr_assert_eq(wg_hex_digit('F'), 15);
	cr_assert_eq(wg_hex_digit('g'), -1);
	cr_assert_eq(wg_hex_digit('G'), -1);
	cr_assert_eq(wg_hex_digit('/'), -1);
	cr_assert_eq(wg_hex_digit(':'), -1);
	cr_assert_eq(wg_hex_digit('\0'), -1);
}

Test(sdk_percent, hex_strings_decode_to_bytes)
{
	unsigned char out[4];

	cr_assert_eq(wg_hex_decode("00Ff7a10", out, 4), 0);
	cr_assert_eq(memcmp(out, "\x00\xff\x7a\x10", 4), 0);
	cr_assert_eq(wg_hex_decode("00fz", out, 2), -1, "a non-hex digit");
	cr_assert_eq(wg_hex_decode("", out, 0), 0, "nothing to decode");
}

Test(sdk_percent, escapes_and_plus_decode)
{
	char out[32];

	cr_assert_eq(wg_percent_decode("a%2Fb+c%3dd", 11, out, sizeof(out)), 7);
	cr_assert_str_eq(out, "a/b c=d");
	cr_assert_eq(wg_percent_decode("", 0, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
	/* len bounds the input: what follows is not read. */
	cr_assert_eq(wg_percent_decode("abc%zz", 3, out, sizeof(out)), 3);
	cr_assert_str_eq(out, "abc");
}

Test(sdk_percent, bad_input_is_refused)
{
	char out[8];

	cr_assert_eq(wg_percent_decode("%4", 2, out, sizeof(out)), -1, "cut escape");
	cr_assert_eq(wg_percent_decode("ab%", 3, out, sizeof(out)), -1, "cut escape at the end");
	cr_assert_eq(wg_percent_decode("%g1", 3, out, sizeof(out)), -1, "not hex");
	cr_assert_eq(wg_percent_decode("a%00b", 5, out, sizeof(out)), -1, "an escaped NUL");
	cr_assert_eq(wg_percent_decode("a\0b", 3, out, sizeof(out)), -1, "a raw NUL");
	cr_assert_eq(wg_percent_decode("1234567", 7, out, sizeof(out)), 7, "7 bytes fit in 8");
	cr_assert_eq(wg_percent_decode("12345678", 8, out, sizeof(out)), -1, "8 bytes and the NUL do not");
	cr_assert_eq(wg_percent_decode("", 0, out, 0), -1, "no room for the NUL");
}
