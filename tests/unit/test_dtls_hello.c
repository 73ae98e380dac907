#include <criterion/criterion.h>
#include <string.h>

#include "dtls_hello.h"

/* Built to RFC 6347's layout, as openconnect 9.01 sends it (record version
 * DTLS 1.0, ClientHello for DTLS 1.2, 32-byte session id = the App-ID). */
static size_t hello(uint8_t *p, size_t sid_len)
{
	size_t body = 2 + 32 + 1 + sid_len + 1 + 2 + 2 + 1 + 1;
	size_t n = 0;

	p[n++] = 22, p[n++] = 0xfe, p[n++] = 0xff;
	memset(p + n, 0, 8), n += 8;             /* epoch + sequence */
	p[n++] = (uint8_t)((12 + body) >> 8), p[n++] = (uint8_t)(12 + body);
	p[n++] = 1;                              /* client_hello */
	p[n++] = 0, p[n++] = 0, p[n++] = (uint8_t)body;
	p[n++] = 0, p[n++] = 0;                  /* message_seq */
	p[n++] = 0, p[n++] = 0, p[n++] = 0;      /* fragment_offset */
	p[n++] = 0, p[n++] = 0, p[n++] = (uint8_t)body;
	p[n++] = 0xfe, p[n++] = 0xfd;
	memset(p + n, 0xaa, 32), n += 32;
	p[n++] = (uint8_t)sid_len;
	for (size_t i = 0; i < sid_len; i++)
		p[n++] = (uint8_t)i;
	p[n++] = 0;                              /* cookie */
	p[n++] = 0, p[n++] = 2, p[n++] = 0x00, p[n++] = 0xa9;
	p[n++] = 1, p[n++] = 0;
	return n;
}

Test(dtls_hello, extracts_session_id)
{
	uint8_t pkt[256], sid[32];
	size_t n = hello(pkt, 32), len = 0;

	cr_assert_eq(wg_dtls_hello_session_id(pkt, n, sid, &len), 0);
	cr_assert_eq(len, 32);
	for (size_t i = 0; i < 32; i++)
		cr_assert_eq(sid[i], i);
}

Test(dtls_hello, rejects_truncation_and_other_records)
{
	uint8_t pkt[256], sid[32];
	size_t n = hello(pkt, 32), len;

	for (size_t cut = 0; cut < 13 + 12 + 35 + 32; cut++)
		cr_assert_eq(wg_dtls_hello_session_id(pkt, cut, sid, &len), -1, "cut at %zu", cut);
	pkt[0] = 23; /* application data */
	cr_assert_eq(wg_dtls_hello_session_id(pkt, n, sid, &len), -1);
	pkt[0] = 22;
	pkt[4] = 1; /* epoch 1: encrypted */
	cr_assert_eq(wg_dtls_hello_session_id(pkt, n, sid, &len), -1);
	pkt[4] = 0;
	pkt[13 + 12 + 34] = 33; /* session id longer than allowed */
	cr_assert_eq(wg_dtls_hello_session_id(pkt, n, sid, &len), -1);
}

/* Found by fuzz_dtls_hello: a record length shorter than a handshake
 * header made the fragment bound wrap around and the copy read past the
 * datagram. */
Test(dtls_hello, short_record_length_does_not_wrap)
{
	uint8_t pkt[256], sid[32];
	size_t n = hello(pkt, 32), len;

	pkt[11] = 0, pkt[12] = 5;
	cr_assert_eq(wg_dtls_hello_session_id(pkt, n, sid, &len), -1);
}
