/* Encoding and strict decoding of the privileged helper's messages. */
#include "confine/privsep_proto.h"

#include <string.h>

/* Per type: how many fields, and the longest each may be. */
struct shape {
	uint8_t n;
	uint16_t max[WG_PRIV_MAX_FIELDS];
};

static const struct shape *shape_of(uint8_t type)
{
	static const struct shape ping = {0, {0}};
	static const struct shape open_append = {1, {1024}};           /* path */
	static const struct shape pam = {3, {64, 256, 1024}};           /* service, user, password */

	switch (type) {
	case WG_PRIV_PING:
		return &ping;
	case WG_PRIV_OPEN_APPEND:
		return &open_append;
	case WG_PRIV_PAM_AUTH:
		return &pam;
	default:
		return NULL;
	}
}

static int field_ok(const struct shape *s, unsigned i, const char *p, size_t len)
{
	/* Every field is a non-empty string; a NUL inside would cut it short
	 * differently for the two sides. */
	return len >= 1 && len <= s->max[i] && !memchr(p, '\0', len);
}

int wg_priv_request_encode(const struct wg_priv_request *rq, uint8_t *buf, size_t cap)
{
	const struct shape *s = shape_of(rq->type);
	size_t off = 2;

	if (!s || rq->n != s->n || cap < 2)
		return -1;
	buf[0] = rq->type;
	buf[1] = rq->n;
	for (unsigned i = 0; i < rq->n; i++) {
		size_t len = rq->f[i].len;
		if (!field_ok(s, i, rq->f[i].p, len) || cap - off < 2 + len)
			return -1;
		buf[off] = (uint8_t)(len >> 8);
		buf[off + 1] = (uint8_t)len;
		memcpy(buf + off + 2, rq->f[i].p, len);
		off += 2 + len;
	}
	return (int)off;
}

int wg_priv_request_decode(const uint8_t *buf, size_t len, struct wg_priv_request *rq, const char **why)
{
	const struct shape *s;
	size_t off = 2;

	memset(rq, 0, sizeof(*rq));
	if (len < 2 || len > WG_PRIV_MSG_MAX) {
		*why = "message length out of range";
		return -1;
	}
	if (!(s = shape_of(buf[0]))) {
		*why = "unknown message type";
		return -1;
	}
	if (buf[1] != s->n) {
		*why = "wrong field count for the message type";
		return -1;
	}
	rq->type = buf[0];
	rq->n = buf[1];
	for (unsigned i = 0; i < rq->n; i++) {
		if (len - off < 2) {
			*why = "truncated field length";
			return -1;
		}
		size_t flen = ((size_t)buf[off] << 8) | buf[off + 1];
		off += 2;
		if (flen > len - off) {
			*why = "field longer than the message";
			return -1;
		}
		if (!field_ok(s, i, (const char *)buf + off, flen)) {
			*why = "field empty, too long, or holding a NUL";
			return -1;
		}
		rq->f[i].p = (const char *)buf + off;
		rq->f[i].len = flen;
		off += flen;
	}
	if (off != len) {
		*why = "bytes after the last field";
		return -1;
	}
	return 0;
}

int wg_priv_reply_encode(const struct wg_priv_reply *r, uint8_t *buf, size_t cap)
{
	size_t tlen = strnlen(r->text, WG_PRIV_TEXT_MAX);
	uint32_t st = (uint32_t)r->status;

	if (cap < 7 + tlen)
		return -1;
	buf[0] = r->type;
	buf[1] = (uint8_t)(st >> 24);
	buf[2] = (uint8_t)(st >> 16);
	buf[3] = (uint8_t)(st >> 8);
	buf[4] = (uint8_t)st;
	buf[5] = (uint8_t)(tlen >> 8);
	buf[6] = (uint8_t)tlen;
	memcpy(buf + 7, r->text, tlen);
	return (int)(7 + tlen);
}

int wg_priv_reply_decode(const uint8_t *buf, size_t len, struct wg_priv_reply *r, const char **why)
{
	memset(r, 0, sizeof(*r));
	if (len < 7 || len > 7 + WG_PRIV_TEXT_MAX) {
		*why = "reply length out of range";
		return -1;
	}
	size_t tlen = ((size_t)buf[5] << 8) | buf[6];
	if (tlen != len - 7 || memchr(buf + 7, '\0', tlen)) {
		*why = "reply text length does not match";
		return -1;
	}
	r->type = buf[0];
	r->status = (int32_t)(((uint32_t)buf[1] << 24) | ((uint32_t)buf[2] << 16) | ((uint32_t)buf[3] << 8) | buf[4]);
	memcpy(r->text, buf + 7, tlen);
	r->text[tlen] = '\0';
	return 0;
}

int wg_priv_field_copy(const struct wg_priv_field *f, char *out, size_t cap)
{
	if (f->len >= cap)
		return -1;
	memcpy(out, f->p, f->len);
	out[f->len] = '\0';
	return 0;
}
