/* Reads the session id out of a DTLS ClientHello without any handshake
 * state. Layout (RFC 6347 4.1 and 4.2.2):
 *   record header (13): type 22, version 0xfeXX, epoch (2), sequence (6),
 *                       length (2)
 *   handshake header (12): msg_type 1, length (3), message_seq (2),
 *                       fragment_offset (3), fragment_length (3)
 *   ClientHello body: client_version (2), random (32), session_id length
 *                       (1) and the id itself.
 * Every length is checked against the bytes that are really there, in an
 * order where no subtraction can wrap. */
#include "dtls_hello.h"

#include <string.h>

#define RECORD_HDR 13
#define HS_HDR 12
#define CT_HANDSHAKE 22
#define HS_CLIENT_HELLO 1
#define SID_LEN_POS (2 + 32) /* in the body: after client_version and random */

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

int wg_dtls_hello_session_id(const uint8_t *pkt, size_t len, uint8_t sid[WG_DTLS_SESSION_ID_MAX],
			     size_t *sid_len)
{
	if (!pkt || len < RECORD_HDR)
		return -1;
	if (pkt[0] != CT_HANDSHAKE || pkt[1] != 0xfe) /* DTLS versions are 0xfeXX */
		return -1;
	if (pkt[3] != 0 || pkt[4] != 0) /* epoch 0: a ClientHello is never encrypted */
		return -1;

	size_t rec_len = (size_t)pkt[11] << 8 | pkt[12];
	if (rec_len > len - RECORD_HDR || rec_len < HS_HDR)
		return -1;

	const uint8_t *hs = pkt + RECORD_HDR;
	if (hs[0] != HS_CLIENT_HELLO)
		return -1;
	size_t body_len = be24(hs + 1);
	size_t frag_off = be24(hs + 6);
	size_t frag_len = be24(hs + 9);
	if (frag_off != 0) /* only the first fragment carries the id */
		return -1;
	if (frag_len > body_len || frag_len > rec_len - HS_HDR)
		return -1;

	const uint8_t *body = hs + HS_HDR;
	if (frag_len < SID_LEN_POS + 1)
		return -1;
	size_t id_len = body[SID_LEN_POS];
	if (id_len > WG_DTLS_SESSION_ID_MAX || id_len > frag_len - (SID_LEN_POS + 1))
		return -1;

	memcpy(sid, body + SID_LEN_POS + 1, id_len);
	*sid_len = id_len;
	return 0;
}
