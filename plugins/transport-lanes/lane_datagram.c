/* Reading a datagram before decryption (see lane_datagram.h). Every length
 * is checked against what remains before it is used. */
#include "lane_datagram.h"

#include <string.h>

#define REC_HANDSHAKE 22
#define HS_CLIENT_HELLO 1
#define EXT_PRE_SHARED_KEY 41
#define DTLS_RECORD_HDR 13
#define DTLS_HS_HDR 12

int wg_lane_datagram_cid(const uint8_t *d, size_t len, uint8_t cid[WG_LANE_CID_LEN])
{
	/* 001CSLEE: the fixed bits, then C (0x10). */
	if (!d || len < 1 + WG_LANE_CID_LEN || (d[0] & 0xe0) != 0x20 || !(d[0] & 0x10))
		return -1;
	memcpy(cid, d + 1, WG_LANE_CID_LEN);
	return 0;
}

bool wg_lane_datagram_single_record(const uint8_t *d, size_t len)
{
	size_t hdr;

	if (!d || len == 0)
		return false;
	if ((d[0] & 0xe0) != 0x20) /* DTLSPlaintext, or a 1.2-style ciphertext */
		return len >= DTLS_RECORD_HDR && DTLS_RECORD_HDR + ((size_t)d[11] << 8 | d[12]) == len;
	/* 001CSLEE (RFC 9147 4): C a CID, S a 16-bit sequence, L a length. */
	if (!(d[0] & 0x04))
		return true; /* no length: the record is the rest of the datagram */
	hdr = 1 + (d[0] & 0x10 ? WG_LANE_CID_LEN : 0) + (d[0] & 0x08 ? 2 : 1);
	return len >= hdr + 2 && hdr + 2 + ((size_t)d[hdr] << 8 | d[hdr + 1]) == len;
}

/* A cursor over bytes that never reads past its end. */
struct cur {
	const uint8_t *p;
	size_t left;
};

static int take(struct cur *c, size_t n, const uint8_t **out)
{
	if (c->left < n)
		return -1;
	if (out)
		*out = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

static int take_num(struct cur *c, size_t n, size_t *v)
{
	const uint8_t *b;

	if (take(c, n, &b) < 0)
		return -1;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v << 8 | b[i];
	return 0;
}

/* A vector with an n-byte length in front: its body as a new cursor. */
static int take_vec(struct cur *c, size_t n, struct cur *body)
{
	size_t len;

	if (take_num(c, n, &len) < 0 || take(c, len, &body->p) < 0)
		return -1;
	body->left = len;
	return 0;
}

static int psk_identity_of(struct cur ext, const uint8_t **id, size_t *id_len)
{
	struct cur ids, first;

	if (take_vec(&ext, 2, &ids) < 0 || take_vec(&ids, 2, &first) < 0 || first.left == 0)
		return -1;
	*id = first.p;
	*id_len = first.left;
	return 0;
}

int wg_lane_datagram_psk_identity(const uint8_t *d, size_t len, const uint8_t **id, size_t *id_len)
{
	struct cur c = {d, len}, rec, body, v, exts;
	size_t hs_len, frag_off, frag_len;
	const uint8_t *hdr;

	if (!d || take(&c, DTLS_RECORD_HDR - 2, &hdr) < 0 || hdr[0] != REC_HANDSHAKE || take_vec(&c, 2, &rec) < 0)
		return -1;
	if (take(&rec, 1, &hdr) < 0 || hdr[0] != HS_CLIENT_HELLO || take_num(&rec, 3, &hs_len) < 0 ||
	    take(&rec, 2, NULL) < 0 || take_num(&rec, 3, &frag_off) < 0 || take_num(&rec, 3, &frag_len) < 0)
		return -1;
	if (frag_off != 0 || frag_len != hs_len || take(&rec, frag_len, &body.p) < 0)
		return -1;
	body.left = frag_len;
	/* legacy_version, random, legacy_session_id, legacy_cookie,
	 * cipher_suites, legacy_compression_methods, then extensions. */
	if (take(&body, 2 + 32, NULL) < 0 || take_vec(&body, 1, &v) < 0 || take_vec(&body, 1, &v) < 0 ||
	    take_vec(&body, 2, &v) < 0 || take_vec(&body, 1, &v) < 0 || take_vec(&body, 2, &exts) < 0)
		return -1;
	while (exts.left) {
		size_t type;
		struct cur ext;
		if (take_num(&exts, 2, &type) < 0 || take_vec(&exts, 2, &ext) < 0)
			return -1;
		if (type == EXT_PRE_SHARED_KEY)
			return psk_identity_of(ext, id, id_len);
	}
	return -1;
}
