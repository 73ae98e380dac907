/* wolfguard/percent.h: hex digits and percent-encoding (RFC 3986 2.1),
 * for what reaches a plugin still encoded (host->http_request's query, a
 * form body) and for hex strings in headers and attributes. Header-only,
 * like the rest of the SDK: nothing to link. Strict: a bad escape, a
 * string of the wrong length or a decoded NUL is refused, never guessed. */
#ifndef WOLFGUARD_PERCENT_H
#define WOLFGUARD_PERCENT_H

#include <stddef.h>

/* The value of one hex digit (either case), or -1. */
static inline int wg_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly 2 * n hex digits of in[0..2n) into out[0..n). 0, or -1
 * at the first character that is no hex digit. The caller checks the
 * length. */
static inline int wg_hex_decode(const char *in, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = wg_hex_digit(in[2 * i]), lo = wg_hex_digit(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Percent-decodes in[0..len) into out (cap bytes with the NUL); '+' is a
 * space, as in a query string or a form body. Returns the length, or -1: a
 * bad or cut escape, a NUL (escaped or not), or more than cap - 1 bytes. */
static inline long wg_percent_decode(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -1;
			hi = wg_hex_digit(in[i + 1]);
			lo = wg_hex_digit(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == '\0' || o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return (long)o;
}

#endif
