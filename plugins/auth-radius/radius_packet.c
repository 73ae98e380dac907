/* RADIUS Access-Request building and reply checking (see radius_packet.h). */
#include "radius_packet.h"

#include <nettle/hmac.h>
#include <nettle/md5.h>
#include <stdio.h>
#include <string.h>

#define MA_LEN 16

/* Nettle, which radcli itself uses for MD5, so the plugin loads no other
 * crypto library (wolfSSL in the plugin as well as in the core upset
 * LeakSanitizer at exit in the sanitizer build). */
static int hmac_md5(const char *secret, const uint8_t *data, size_t len, uint8_t out[MA_LEN])
{
	struct hmac_md5_ctx h;

	hmac_md5_set_key(&h, strlen(secret), (const uint8_t *)secret);
	hmac_md5_update(&h, len, data);
	hmac_md5_digest(&h, MA_LEN, out);
	explicit_bzero(&h, sizeof(h));
	return 0;
}

static int md5_parts(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[16])
{
	struct md5_ctx m;

	md5_init(&m);
	md5_update(&m, alen, a);
	md5_update(&m, blen, b);
	md5_digest(&m, MD5_DIGEST_SIZE, out);
	return 0;
}

/* RFC 2865 5.2: c(i) = p(i) xor MD5(secret + c(i-1)), c(0) = authenticator. */
static int hide_password(uint8_t *out, const uint8_t *pw, size_t len, const char *secret, const uint8_t auth[16])
{
	size_t padded = len ? (len + 15) / 16 * 16 : 16;
	const uint8_t *prev = auth;
	uint8_t b[16];

	if (padded > 128)
		return -1;
	memset(out, 0, padded);
	memcpy(out, pw, len);
	for (size_t i = 0; i < padded; i += 16) {
		if (md5_parts((const uint8_t *)secret, strlen(secret), prev, 16, b) < 0)
			return -1;
		for (size_t k = 0; k < 16; k++)
			out[i + k] ^= b[k];
		prev = out + i;
	}
	explicit_bzero(b, sizeof(b));
	return (int)padded;
}

int radius_request_build(uint8_t *out, uint8_t id, const uint8_t authenticator[16], const struct radius_wire_attr *attrs,
			 size_t n, const char *secret)
{
	size_t at = RADIUS_HDR_LEN;

	out[0] = RADIUS_CODE_ACCESS_REQUEST;
	out[1] = id;
	memcpy(out + 4, authenticator, 16);
	/* Message-Authenticator first (as hardened servers expect), zeroed
	 * while the HMAC is computed over the whole packet. */
	out[at] = RADIUS_ATTR_MESSAGE_AUTHENTICATOR;
	out[at + 1] = 2 + MA_LEN;
	memset(out + at + 2, 0, MA_LEN);
	at += 2 + MA_LEN;
	for (size_t i = 0; i < n; i++) {
		const struct radius_wire_attr *a = &attrs[i];
		if (a->len > 253 || (a->len == 0 && a->type != RADIUS_ATTR_USER_PASSWORD) || at + 2 + 253 > RADIUS_PKT_MAX)
			return -1;
		out[at] = a->type;
		if (a->type == RADIUS_ATTR_USER_PASSWORD) {
			int hl = hide_password(out + at + 2, a->value, a->len, secret, authenticator);
			if (hl < 0)
				return -1;
			out[at + 1] = (uint8_t)(2 + hl);
			at += 2 + (size_t)hl;
		} else {
			out[at + 1] = (uint8_t)(2 + a->len);
			memcpy(out + at + 2, a->value, a->len);
			at += 2 + a->len;
		}
	}
	out[2] = (uint8_t)(at >> 8);
	out[3] = (uint8_t)at;
	if (hmac_md5(secret, out, at, out + RADIUS_HDR_LEN + 2) < 0)
		return -1;
	return (int)at;
}

bool radius_vsa_next(const uint8_t *vsa, size_t vlen, size_t *pos, uint32_t *vendor, uint8_t *type,
		     const uint8_t **value, size_t *sublen)
{
	if (vlen < 4 || *pos < 4 || *pos + 2 > vlen || vsa[*pos + 1] < 2 || *pos + vsa[*pos + 1] > vlen)
		return false;
	*vendor = (uint32_t)vsa[0] << 24 | (uint32_t)vsa[1] << 16 | (uint32_t)vsa[2] << 8 | vsa[3];
	*type = vsa[*pos];
	*value = vsa + *pos + 2;
	*sublen = (size_t)vsa[*pos + 1] - 2;
	*pos += vsa[*pos + 1];
	return true;
}

bool radius_attr_next(const uint8_t *pkt, size_t len, size_t *pos, uint8_t *type, const uint8_t **value,
		      size_t *vlen)
{
	if (*pos + 2 > len || pkt[*pos + 1] < 2 || *pos + pkt[*pos + 1] > len)
		return false;
	*type = pkt[*pos];
	*value = pkt + *pos + 2;
	*vlen = (size_t)pkt[*pos + 1] - 2;
	*pos += pkt[*pos + 1];
	return true;
}

/* Constant time, so a forger learns nothing from how long a check took. */
static bool same16(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;
	for (int i = 0; i < 16; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

int radius_reply_check(const uint8_t *pkt, size_t len, uint8_t id, const uint8_t authenticator[16], const char *secret,
		       bool require_ma, char *why, size_t whylen)
{
	uint8_t copy[RADIUS_PKT_MAX], digest[16];
	size_t plen, pos = RADIUS_HDR_LEN, ma_at = 0, vlen;
	const uint8_t *value;
	uint8_t type;
	unsigned n_ma = 0;

	if (len < RADIUS_HDR_LEN || len > RADIUS_PKT_MAX) {
		snprintf(why, whylen, "a reply of %zu bytes", len);
		return -1;
	}
	plen = (size_t)pkt[2] << 8 | pkt[3];
	if (plen < RADIUS_HDR_LEN || plen > len) {
		snprintf(why, whylen, "a reply whose length field (%zu) does not fit its %zu bytes", plen, len);
		return -1;
	}
	len = plen; /* RFC 2865 3: octets past Length are padding, ignored */
	if (pkt[0] != RADIUS_CODE_ACCESS_ACCEPT && pkt[0] != RADIUS_CODE_ACCESS_REJECT &&
	    pkt[0] != RADIUS_CODE_ACCESS_CHALLENGE) {
		snprintf(why, whylen, "a reply with code %u", pkt[0]);
		return -1;
	}
	if (pkt[1] != id) {
		snprintf(why, whylen, "a reply to another request (id %u, not %u)", pkt[1], id);
		return -1;
	}
	while (radius_attr_next(pkt, len, &pos, &type, &value, &vlen))
		if (type == RADIUS_ATTR_MESSAGE_AUTHENTICATOR) {
			n_ma++;
			ma_at = (size_t)(value - pkt);
			if (vlen != MA_LEN) {
				snprintf(why, whylen, "a Message-Authenticator of %zu bytes", vlen);
				return -1;
			}
		}
	if (pos != len) {
		snprintf(why, whylen, "a reply with a malformed attribute at byte %zu", pos);
		return -1;
	}
	/* Response Authenticator: MD5(code id length RequestAuth attributes secret). */
	memcpy(copy, pkt, len);
	memcpy(copy + 4, authenticator, 16);
	if (md5_parts(copy, len, (const uint8_t *)secret, strlen(secret), digest) < 0 || !same16(digest, pkt + 4)) {
		snprintf(why, whylen, "a reply whose Response Authenticator is wrong (another secret?)");
		return -1;
	}
	if (n_ma == 0) {
		if (!require_ma)
			return 0;
		snprintf(why, whylen, "a reply without Message-Authenticator (refused: CVE-2024-3596)");
		return -1;
	}
	if (n_ma > 1) {
		snprintf(why, whylen, "a reply with %u Message-Authenticators", n_ma);
		return -1;
	}
	/* HMAC-MD5 over the reply with the Request Authenticator in place of
	 * the Response Authenticator and the Message-Authenticator zeroed. */
	memset(copy + ma_at, 0, MA_LEN);
	if (hmac_md5(secret, copy, len, digest) < 0 || !same16(digest, pkt + ma_at)) {
		snprintf(why, whylen, "a reply whose Message-Authenticator is wrong");
		return -1;
	}
	return 0;
}
