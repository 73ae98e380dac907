/* UTF-8 well-formedness (RFC 3629, Unicode table 3-7) and repair. */
#include "util/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bytes [p, ...) start a well-formed sequence of this many bytes, or 0;
 * *bad gets the length of the maximal ill-formed subpart (at least 1)
 * when it does not. */
static size_t sequence_len(const uint8_t *p, size_t *bad)
{
	uint8_t b = p[0], lo = 0x80, hi = 0xbf;
	size_t need;

	*bad = 1;
	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		need = 2;
	else if (b >= 0xe0 && b <= 0xef)
		need = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		need = 4;
	else
		return 0; /* a continuation byte, an overlong lead (C0, C1) or above U+10FFFF (F5..FF) */
	/* The second byte's range excludes overlongs, surrogates and > U+10FFFF. */
	if (b == 0xe0)
		lo = 0xa0;
	else if (b == 0xed)
		hi = 0x9f;
	else if (b == 0xf0)
		lo = 0x90;
	else if (b == 0xf4)
		hi = 0x8f;
	for (size_t k = 1; k < need; k++) {
		if (p[k] < lo || p[k] > hi) /* the NUL terminator fails here too */
			return 0;
		*bad = k + 1;
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

bool wg_utf8_valid(const char *text)
{
	const uint8_t *p = (const uint8_t *)text;
	size_t bad;

	while (*p) {
		size_t n = sequence_len(p, &bad);
		if (!n)
			return false;
		p += n;
	}
	return true;
}

char *wg_utf8_sanitize(const char *text)
{
	const uint8_t *p = (const uint8_t *)text;
	char *out = malloc(3 * strlen(text) + 1), *o = out;
	size_t bad;

	if (!out)
		return NULL;
	while (*p) {
		size_t n = sequence_len(p, &bad);
		if (n) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p += bad;
		}
	}
	*o = '\0';
	return out;
}
