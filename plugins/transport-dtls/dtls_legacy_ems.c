/* The extended_master_secret look-up in a DTLS ClientHello (see the header).
 * Layout after the record (13) and handshake (12) headers, RFC 6347 4.2.1:
 * client_version (2), random (32), session_id (1 + n), cookie (1 + n),
 * cipher_suites (2 + n), compression_methods (1 + n), extensions (2 + n),
 * each extension type (2), length (2), data. Every step checks the bytes
 * left before it moves, so nothing reads past the fragment. */
#include "dtls_legacy_ems.h"

#define RECORD_HDR 13
#define HS_HDR 12
#define CT_HANDSHAKE 22
#define HS_CLIENT_HELLO 1
#define EXT_EMS 23

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Skips a vector with a 1- or 2-byte length; false if it does not fit. */
static bool skip_vec(const uint8_t *b, size_t len, size_t *off, unsigned len_bytes)
{
	size_t n;

	if (len - *off < len_bytes)
		return false;
	n = len_bytes == 1 ? b[*off] : (size_t)b[*off] << 8 | b[*off + 1];
	*off += len_bytes;
	if (len - *off < n)
		return false;
	*off += n;
	return true;
}

bool wg_dtls_legacy_hello_ems(const uint8_t *pkt, size_t len)
{
	if (!pkt || len < RECORD_HDR + HS_HDR)
		return false;
	if (pkt[0] != CT_HANDSHAKE || pkt[1] != 0xfe || pkt[3] != 0 || pkt[4] != 0)
		return false;
	size_t rec_len = (size_t)pkt[11] << 8 | pkt[12];
	if (rec_len > len - RECORD_HDR || rec_len < HS_HDR)
		return false;
	const uint8_t *hs = pkt + RECORD_HDR;
	if (hs[0] != HS_CLIENT_HELLO)
		return false;
	size_t body_len = be24(hs + 1), frag_off = be24(hs + 6), frag_len = be24(hs + 9);
	/* The whole hello in this record: extensions come last. */
	if (frag_off != 0 || frag_len != body_len || frag_len > rec_len - HS_HDR)
		return false;

	const uint8_t *b = hs + HS_HDR;
	size_t off = 2 + 32; /* client_version, random */
	if (frag_len < off)
		return false;
	if (!skip_vec(b, frag_len, &off, 1) || /* session_id */
	    !skip_vec(b, frag_len, &off, 1) || /* cookie */
	    !skip_vec(b, frag_len, &off, 2) || /* cipher_suites */
	    !skip_vec(b, frag_len, &off, 1))   /* compression_methods */
		return false;
	if (frag_len - off < 2)
		return false; /* no extensions at all */
	size_t ext_end = (size_t)b[off] << 8 | b[off + 1];
	off += 2;
	if (frag_len - off < ext_end)
		return false;
	ext_end += off;
	while (ext_end - off >= 4) {
		unsigned type = (unsigned)b[off] << 8 | b[off + 1];
		size_t n = (size_t)b[off + 2] << 8 | b[off + 3];
		off += 4;
		if (ext_end - off < n)
			return false;
		if (type == EXT_EMS)
			return true;
		off += n;
	}
	return false;
}
