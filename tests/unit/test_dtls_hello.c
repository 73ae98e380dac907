/* The ClientHello parser on real bytes: the first datagram GnuTLS 3.7.9
 * (openconnect 9.01's TLS library) sends with openconnect's DTLS-PSK
 * settings (priority "...:-VERS-TLS-ALL:+VERS-DTLS-ALL:-KX-ALL:+PSK", the
 * App-ID set with gnutls_session_set_id, here a0 a1 .. bf), captured on
 * loopback; then every truncation and each length field lying. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_hello.h"

static const uint8_t gnutls_hello[] = {
	0x16, 0xfe, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x9b, 0x01, 0x00, 0x00, 0x8f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x8f, 0xfe, 0xfd, 0x74, 0x86, 0x33, 0xc2, 0x9c, 0x2b, 0x00, 0x7b, 0xdb,
	0x5e, 0x8b, 0xaa, 0x1a, 0xa1, 0x08, 0x06, 0x8f, 0x40, 0x79, 0xa4, 0xff,
	0x36, 0xef, 0x68, 0x34, 0xdc, 0x11, 0xdc, 0xb9, 0x3b, 0x54, 0xa2, 0x20,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
	0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0x00, 0x00, 0x10, 0x00,
	0xa9, 0xcc, 0xab, 0xc0, 0xa5, 0x00, 0x8d, 0x00, 0xa8, 0xc0, 0xa4, 0x00,
	0x8c, 0x00, 0xae, 0x01, 0x00, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x22, 0x00,
	0x20, 0x04, 0x01, 0x08, 0x09, 0x08, 0x04, 0x04, 0x03, 0x08, 0x07, 0x05,
	0x01, 0x08, 0x0a, 0x08, 0x05, 0x05, 0x03, 0x08, 0x08, 0x06, 0x01, 0x08,
	0x0b, 0x08, 0x06, 0x06, 0x03, 0x02, 0x01, 0x02, 0x03, 0x00, 0x23, 0x00,
	0x00, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x40, 0x00,
};

#define HS 13                /* handshake header offset */
#define BODY (13 + 12)       /* ClientHello body offset */
#define SID_LEN (BODY + 34)  /* session id length byte */

/* Parses an exact-size heap copy, so AddressSanitizer sees any over-read. */
static int parse(const uint8_t *pkt, size_t len, uint8_t sid[32], size_t *sid_len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	cr_assert_not_null(copy);
	memcpy(copy, pkt, len);
	r = wg_dtls_hello_session_id(copy, len, sid, sid_len);
	free(copy);
	return r;
}

static void put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16), p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)v;
}

Test(dtls_hello, real_gnutls_hello)
{
	uint8_t sid[32];
	size_t len = 0;

	cr_assert_eq(parse(gnutls_hello, sizeof(gnutls_hello), sid, &len), 0);
	cr_assert_eq(len, 32);
	for (size_t i = 0; i < 32; i++)
		cr_assert_eq(sid[i], 0xa0 + i);
}

Test(dtls_hello, trailing_records_are_fine)
{
	uint8_t pkt[sizeof(gnutls_hello) + 40], sid[32];
	size_t len;

	memcpy(pkt, gnutls_hello, sizeof(gnutls_hello));
	memset(pkt + sizeof(gnutls_hello), 0x17, 40);
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), 0);
	cr_assert_eq(len, 32);
}

Test(dtls_hello, every_truncation_is_refused)
{
	uint8_t sid[32];
	size_t len;

	/* The record length (155) covers the whole datagram, so any cut
	 * leaves it claiming more than is there. */
	for (size_t cut = 0; cut < sizeof(gnutls_hello); cut++)
		cr_assert_eq(parse(gnutls_hello, cut, sid, &len), -1, "cut at %zu", cut);
}

Test(dtls_hello, other_records_are_refused)
{
	uint8_t pkt[sizeof(gnutls_hello)], sid[32];
	size_t len;

	memcpy(pkt, gnutls_hello, sizeof(pkt));
	pkt[0] = 23; /* application data */
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), -1);
	pkt[0] = 22;
	pkt[1] = 0x03; /* TLS, not DTLS */
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), -1);
	pkt[1] = 0xfe;
	pkt[4] = 1; /* epoch 1: encrypted */
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), -1);
	pkt[4] = 0;
	pkt[HS] = 2; /* ServerHello */
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), -1);
	pkt[HS] = 1;
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), 0);
}

Test(dtls_hello, lying_lengths_are_refused)
{
	uint8_t pkt[sizeof(gnutls_hello)], sid[32];
	size_t len;

	/* record length shorter than a handshake header (must not wrap) */
	for (unsigned rl = 0; rl < 12; rl++) {
		memcpy(pkt, gnutls_hello, sizeof(pkt));
		pkt[11] = 0, pkt[12] = (uint8_t)rl;
		cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), -1, "record length %u", rl);
	}
	/* record length too short for the fragment it claims */
	memcpy(pkt, gnutls_hello, sizeof(pkt));
	pkt[12] = 12 + 60;
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), -1);
	/* fragment longer than the message */
	memcpy(pkt, gnutls_hello, sizeof(pkt));
	put24(pkt + HS + 1, 40);
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), -1);
	/* a later fragment: the id is not in it */
	memcpy(pkt, gnutls_hello, sizeof(pkt));
	put24(pkt + HS + 6, 16);
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), -1);
	/* a first fragment too short to hold the id */
	memcpy(pkt, gnutls_hello, sizeof(pkt));
	put24(pkt + HS + 9, 34 + 1 + 31);
	pkt[12] = 12 + 34 + 1 + 31;
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), -1);
	put24(pkt + HS + 9, 34 + 1 + 32); /* exactly enough */
	pkt[12] = 12 + 34 + 1 + 32;
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), 0);
	cr_assert_eq(len, 32);
	/* session id longer than TLS allows */
	memcpy(pkt, gnutls_hello, sizeof(pkt));
	pkt[SID_LEN] = 33;
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), -1);
	pkt[SID_LEN] = 255;
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), -1);
}

Test(dtls_hello, empty_session_id)
{
	uint8_t pkt[sizeof(gnutls_hello)], sid[32];
	size_t len = 99;

	memcpy(pkt, gnutls_hello, sizeof(pkt));
	pkt[SID_LEN] = 0;
	cr_assert_eq(parse(pkt, sizeof(pkt), sid, &len), 0);
	cr_assert_eq(len, 0);
	cr_assert_eq(wg_dtls_hello_session_id(NULL, 0, sid, &len), -1);
}

/* Random mutations of the real hello: never a crash or over-read, and an
 * accepted id always lies inside the datagram. */
Test(dtls_hello, mutations_stay_in_bounds)
{
	uint8_t pkt[sizeof(gnutls_hello)], sid[32];
	unsigned seed = 7;
	int accepted = 0;

	for (int i = 0; i < 200000; i++) {
		size_t len = sizeof(pkt) - (size_t)(rand_r(&seed) % 8 == 0 ? rand_r(&seed) % (int)sizeof(pkt) : 0);
		size_t sid_len = 0;
		memcpy(pkt, gnutls_hello, sizeof(pkt));
		for (int k = rand_r(&seed) % 4; k >= 0; k--) {
			size_t at = (size_t)(rand_r(&seed) % 64); /* the headers and the id */
			pkt[at] = (uint8_t)rand_r(&seed);
		}
		if (parse(pkt, len, sid, &sid_len) == 0) {
			accepted++;
			cr_assert_leq(sid_len, 32);
			cr_assert_leq(SID_LEN + 1 + sid_len, len);
		}
	}
	cr_assert_gt(accepted, 0, "some mutations leave a valid hello");
}
