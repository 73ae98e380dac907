/* RADIUS Access-Request and reply checks (plugins/auth-radius/radius_packet.c):
 * the request's Message-Authenticator and hidden password, and replies
 * crafted here, signed right, wrong or not at all (BlastRADIUS hardening). */
#include <criterion/criterion.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/md5.h>

#include "../../plugins/auth-radius/radius_packet.h"

static const char secret[] = "wg-lab-radius-secret";
static const uint8_t req_auth[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void hmac_md5(const uint8_t *data, size_t len, uint8_t out[16])
{
	Hmac h;
	cr_assert_eq(wc_HmacInit(&h, NULL, INVALID_DEVID), 0);
	cr_assert_eq(wc_HmacSetKey(&h, WC_MD5, (const byte *)secret, sizeof(secret) - 1), 0);
	cr_assert_eq(wc_HmacUpdate(&h, data, (word32)len), 0);
	cr_assert_eq(wc_HmacFinal(&h, out), 0);
	wc_HmacFree(&h);
}

/* A reply: code, id, a Reply-Message, and a Message-Authenticator unless
 * ma is false; signed as a server with `secret` would. Returns its length. */
static size_t craft(uint8_t *p, uint8_t code, uint8_t id, bool ma)
{
	size_t at = 20, ma_at = 0;
	p[0] = code;
	p[1] = id;
	memcpy(p + 4, req_auth, 16);
	if (ma) {
		p[at] = 80;
		p[at + 1] = 18;
		memset(p + at + 2, 0, 16);
		ma_at = at + 2;
		at += 18;
	}
	p[at] = 18;
	p[at + 1] = 2 + 5;
	memcpy(p + at + 2, "hello", 5);
	at += 7;
	p[2] = (uint8_t)(at >> 8);
	p[3] = (uint8_t)at;
	if (ma)
		hmac_md5(p, at, p + ma_at);
	wc_Md5 m;
	wc_InitMd5(&m);
	wc_Md5Update(&m, p, (word32)at);
	wc_Md5Update(&m, (const byte *)secret, sizeof(secret) - 1);
	wc_Md5Final(&m, p + 4);
	wc_Md5Free(&m);
	return at;
}

static int check(const uint8_t *p, size_t len, bool require, char *why)
{
	return radius_reply_check(p, len, 7, req_auth, secret, require, why, 200);
}

Test(radius_packet, request_has_a_valid_message_authenticator_first)
{
	uint8_t pkt[RADIUS_PKT_MAX], copy[RADIUS_PKT_MAX], mac[16];
	const struct radius_wire_attr attrs[] = {
		{1, (const uint8_t *)"alice", 5},
		{2, (const uint8_t *)"secret1", 7},
		{44, (const uint8_t *)"0123456789abcdef", 16},
	};
	int len = radius_request_build(pkt, 9, req_auth, attrs, 3, secret);
	cr_assert_eq(len, 20 + 18 + 7 + 18 + 18);
	cr_assert_eq(pkt[0], 1);
	cr_assert_eq(pkt[1], 9);
	cr_assert_eq(pkt[2] << 8 | pkt[3], len);
	cr_assert_eq(pkt[20], 80, "Message-Authenticator is the first attribute");
	cr_assert_eq(pkt[21], 18);
	memcpy(copy, pkt, (size_t)len);
	memset(copy + 22, 0, 16);
	hmac_md5(copy, (size_t)len, mac);
	cr_assert_arr_eq(mac, pkt + 22, 16);
	/* The password is hidden: MD5(secret + authenticator) xor the padded text. */
	cr_assert_eq(pkt[45], 2);
	cr_assert_eq(pkt[46], 18);
	cr_assert_neq(memcmp(pkt + 47, "secret1", 7), 0);
	uint8_t b[16];
	wc_Md5 m;
	wc_InitMd5(&m);
	wc_Md5Update(&m, (const byte *)secret, sizeof(secret) - 1);
	wc_Md5Update(&m, req_auth, 16);
	wc_Md5Final(&m, b);
	for (int i = 0; i < 16; i++)
		b[i] ^= pkt[47 + i];
	cr_assert_eq(memcmp(b, "secret1\0\0\0\0\0\0\0\0\0", 16), 0);
	cr_assert_eq(pkt[63], 44);
	cr_assert_eq(memcmp(pkt + 65, "0123456789abcdef", 16), 0);
}

Test(radius_packet, signed_replies_pass)
{
	uint8_t p[256];
	char why[200];
	for (int code = 2; code <= 11; code += (code == 3 ? 8 : 1)) {
		size_t len = craft(p, (uint8_t)code, 7, true);
		cr_assert_eq(check(p, len, true, why), 0, "code %d: %s", code, why);
	}
	size_t len = craft(p, 2, 7, false);
	cr_assert_eq(check(p, len, false, why), 0, "without Message-Authenticator when not required: %s", why);
}

Test(radius_packet, reply_without_message_authenticator_is_refused)
{
	uint8_t p[256];
	char why[200];
	size_t len = craft(p, 2, 7, false);
	cr_assert_eq(check(p, len, true, why), -1);
	cr_assert_str_eq(why, "a reply without Message-Authenticator (refused: CVE-2024-3596)");
}

Test(radius_packet, wrong_message_authenticator_is_refused)
{
	uint8_t p[256];
	char why[200];
	size_t len = craft(p, 2, 7, true);
	p[22] ^= 1;
	/* Re-sign the Response Authenticator so only the MAC is wrong. */
	memcpy(p + 4, req_auth, 16);
	wc_Md5 m;
	wc_InitMd5(&m);
	wc_Md5Update(&m, p, (word32)len);
	wc_Md5Update(&m, (const byte *)secret, sizeof(secret) - 1);
	wc_Md5Final(&m, p + 4);
	cr_assert_eq(check(p, len, true, why), -1);
	cr_assert_str_eq(why, "a reply whose Message-Authenticator is wrong");
	cr_assert_eq(check(p, len, false, why), -1, "a present one is checked even when not required");
}

Test(radius_packet, other_bad_replies)
{
	uint8_t p[256];
	char why[200];
	size_t len = craft(p, 2, 7, true);
	p[4] ^= 0x80;
	cr_assert_eq(check(p, len, true, why), -1);
	cr_assert_str_eq(why, "a reply whose Response Authenticator is wrong (another secret?)");
	len = craft(p, 2, 8, true);
	cr_assert_eq(check(p, len, true, why), -1);
	cr_assert_str_eq(why, "a reply to another request (id 8, not 7)");
	len = craft(p, 4, 7, true);
	cr_assert_eq(check(p, len, true, why), -1);
	cr_assert_str_eq(why, "a reply with code 4");
	len = craft(p, 2, 7, true);
	cr_assert_eq(check(p, len - 1, true, why), -1, "cut short");
	p[39] = 1; /* the Reply-Message's length below 2 */
	cr_assert_eq(check(p, len, true, why), -1);
	cr_assert_str_eq(why, "a reply with a malformed attribute at byte 38");
	cr_assert_eq(check(p, 19, true, why), -1);
}

/* Accounting-Request: Message-Authenticator over the packet with a zero
 * Request Authenticator, then the Request Authenticator of RFC 2866 over
 * the signed packet; checked with wolfCrypt. */
Test(radius_packet, accounting_request_is_signed_both_ways)
{
	uint8_t pkt[RADIUS_PKT_MAX], copy[RADIUS_PKT_MAX], mac[16], digest[16];
	const struct radius_wire_attr attrs[] = {
		{40, (const uint8_t *)"\0\0\0\1", 4},
		{44, (const uint8_t *)"0123456789abcdef", 16},
	};
	int len = radius_acct_request_build(pkt, 3, attrs, 2, secret);
	cr_assert_eq(len, 20 + 18 + 6 + 18);
	cr_assert_eq(pkt[0], 4);
	cr_assert_eq(pkt[20], 80, "Message-Authenticator is the first attribute");
	memcpy(copy, pkt, (size_t)len);
	memset(copy + 4, 0, 16);
	wc_Md5 m;
	wc_InitMd5(&m);
	wc_Md5Update(&m, copy, (word32)len);
	wc_Md5Update(&m, (const byte *)secret, sizeof(secret) - 1);
	wc_Md5Final(&m, digest);
	wc_Md5Free(&m);
	cr_assert_arr_eq(digest, pkt + 4, 16, "Request Authenticator");
	memset(copy + 22, 0, 16);
	hmac_md5(copy, (size_t)len, mac);
	cr_assert_arr_eq(mac, pkt + 22, 16, "Message-Authenticator");
	const struct radius_wire_attr pw[] = {{2, (const uint8_t *)"x", 1}};
	cr_assert_eq(radius_acct_request_build(pkt, 3, pw, 1, secret), -1, "no password in accounting");
}

Test(radius_packet, accounting_response_checked)
{
	uint8_t p[256];
	char why[200];
	size_t n = craft(p, 5, 7, false);

	cr_assert_eq(radius_acct_reply_check(p, n, 7, req_auth, secret, why, sizeof(why)), 0, "%s", why);
	n = craft(p, 5, 7, true);
	cr_assert_eq(radius_acct_reply_check(p, n, 7, req_auth, secret, why, sizeof(why)), 0, "%s", why);
	p[30] ^= 1; /* inside the Message-Authenticator */
	cr_assert_eq(radius_acct_reply_check(p, n, 7, req_auth, secret, why, sizeof(why)), -1);
	n = craft(p, 2, 7, true);
	cr_assert_eq(radius_acct_reply_check(p, n, 7, req_auth, secret, why, sizeof(why)), -1, "an Access-Accept");
	n = craft(p, 5, 7, true);
	cr_assert_eq(check(p, n, false, why), -1, "an Accounting-Response is no answer to an Access-Request");
}
