/* The SNI of a ClientHello (sni.h). Every read is bounds-checked against
 * the end of the enclosing structure; nothing is trusted. */
#include "net/sni.h"

#include <string.h>

#define REC_HANDSHAKE 22
#define HS_CLIENT_HELLO 1
#define EXT_SERVER_NAME 0
#define NAME_HOST 0

struct rd {
	const uint8_t *p;
	size_t left;
};

static int take(struct rd *r, size_t n, const uint8_t **out)
{
	if (r->left < n)
		return -1;
	if (out)
		*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static int u8(struct rd *r, size_t *v)
{
	const uint8_t *b;

	if (take(r, 1, &b) < 0)
		return -1;
	*v = b[0];
	return 0;
}

static int u16(struct rd *r, size_t *v)
{
	const uint8_t *b;

	if (take(r, 2, &b) < 0)
		return -1;
	*v = (size_t)b[0] << 8 | b[1];
	return 0;
}

/* A sub-reader over the next n bytes (n from a length field). */
static int sub(struct rd *r, size_t n, struct rd *out)
{
	const uint8_t *b;

	if (take(r, n, &b) < 0)
		return -1;
	out->p = b;
	out->left = n;
	return 0;
}

/* server_name extension body: a list of (type, name); the host_name. */
static int host_name(struct rd *ext, char *name, size_t namelen)
{
	struct rd list;
	size_t n, type, len;
	const uint8_t *b;

	if (u16(ext, &n) < 0 || sub(ext, n, &list) < 0)
		return 0;
	while (list.left) {
		if (u8(&list, &type) < 0 || u16(&list, &len) < 0 || take(&list, len, &b) < 0)
			return 0;
		if (type != NAME_HOST)
			continue;
		if (len == 0 || len > WG_SNI_NAME_MAX || len >= namelen)
			return 0;
		for (size_t i = 0; i < len; i++) {
			uint8_t c = b[i];
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			/* Only what a host name may hold: no NUL, no control bytes.
			 * A refused name leaves nothing behind (fuzz_sni found a
			 * partial one left in name). */
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')) {
				name[0] = '\0';
				return 0;
			}
			name[i] = (char)c;
		}
		name[len] = '\0';
		return 1;
	}
	return 0;
}

int wg_sni_parse(const uint8_t *buf, size_t len, char *name, size_t namelen)
{
	struct rd rec = {buf, len}, hs, body, exts;
	const uint8_t *hdr;
	size_t n, type, ext_len;

	if (namelen)
		name[0] = '\0';
	if (len < 5)
		return -1;
	if (buf[0] != REC_HANDSHAKE || buf[1] != 3)
		return 0;
	n = (size_t)buf[3] << 8 | buf[4];
	if (n > WG_SNI_MAX_RECORD - 5)
		return 0;
	if (len < 5 + n)
		return -1;
	take(&rec, 5, NULL);
	rec.left = n;
	/* Handshake header: type, 24-bit length (may run past this record). */
	if (take(&rec, 4, &hdr) < 0 || hdr[0] != HS_CLIENT_HELLO)
		return 0;
	n = (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	hs.p = rec.p;
	hs.left = n < rec.left ? n : rec.left;
	/* version, random, session id, cipher suites, compression methods */
	if (take(&hs, 2 + 32, NULL) < 0 || u8(&hs, &n) < 0 || take(&hs, n, NULL) < 0 || u16(&hs, &n) < 0 ||
	    take(&hs, n, NULL) < 0 || u8(&hs, &n) < 0 || take(&hs, n, NULL) < 0)
		return 0;
	if (u16(&hs, &n) < 0)
		return 0; /* no extensions */
	exts.p = hs.p;
	exts.left = n < hs.left ? n : hs.left;
	while (exts.left) {
		if (u16(&exts, &type) < 0 || u16(&exts, &ext_len) < 0 || sub(&exts, ext_len, &body) < 0)
			return 0;
		if (type == EXT_SERVER_NAME)
			return host_name(&body, name, namelen);
	}
	return 0;
}
