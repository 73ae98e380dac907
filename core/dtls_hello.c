/* Reads the session id out of a DTLS ClientHello without any handshake
 * state. Layout (RFC 6347): record header of 13 bytes (type 22, version,
 * epoch, sequence, length), handshake header of 12 bytes (type 1, length,
 * message_seq, fragment_offset, fragment_length), then client_version (2),
 * random (32), session_id length (1) and the id. */
#include "dtls_hello.h"

#include <string.h>

#define RECORD_HDR 13
#define HS_HDR 12

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

int wg_dtls_hello_session_id(const uint8_t *pkt, size_t len, uint8_t sid[WG_DTLS_SESSION_ID_MAX], size_t *sid_len)
{
	size_t rec_len, body, frag_len, id_len;

	if (len < RECORD_HDR + HS_HDR + 2 + 32 + 1)
		return -1;
	if (pkt[0] != 22 || pkt[1] != 0xfe) /* handshake; DTLS versions are 0xfeXX */
		return -1;
	if (pkt[3] != 0 || pkt[4] != 0) /* epoch 0: not yet encrypted */
		return -1;
	rec_len = (size_t)pkt[11] << 8 | pkt[12];
	if (rec_len > len - RECORD_HDR || rec_len < HS_HDR) /* the second check keeps rec_len - HS_HDR from wrapping */
		return -1;
	const uint8_t *hs = pkt + RECORD_HDR;
	if (hs[0] != 1) /* client_hello */
		return -1;
	body = be24(hs + 1);
	if (be24(hs + 6) != 0) /* only the first fragment carries the id */
		return -1;
	frag_len = be24(hs + 9);
	if (frag_len > body || frag_len > rec_len - HS_HDR || frag_len < 2 + 32 + 1)
		return -1;
	const uint8_t *ch = hs + HS_HDR;
	id_len = ch[34];
	if (id_len > WG_DTLS_SESSION_ID_MAX || 35 + id_len > frag_len)
		return -1;
	memcpy(sid, ch + 35, id_len);
	*sid_len = id_len;
	return 0;
}
