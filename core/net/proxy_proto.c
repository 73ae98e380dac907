/* PROXY protocol header parser (see proxy_proto.h). Strict: a header that
 * deviates from haproxy's specification is refused rather than guessed at,
 * because its addresses decide bans and per-address limits. */
#include "net/proxy_proto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define V1_MAX 107 /* "PROXY TCP6 " + two full IPv6 addresses + two ports + CRLF */
#define V2_FIXED 16

static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
static const char v1_sig[] = "PROXY ";

/* buf is a prefix of sig (as far as it goes). */
static bool prefix_of(const uint8_t *buf, size_t len, const void *sig, size_t siglen)
{
	return memcmp(buf, sig, len < siglen ? len : siglen) == 0;
}

bool wg_proxy_looks_like_header(const uint8_t *buf, size_t len)
{
	return (len >= 6 && prefix_of(buf, len, v1_sig, 6)) || (len >= sizeof(v2_sig) && prefix_of(buf, len, v2_sig, sizeof(v2_sig)));
}

/* One space-separated field of a v1 line: [*p, end) up to the next space
 * (or the end), copied into out (NUL-terminated). */
static int v1_field(const char **p, const char *end, char *out, size_t outlen)
{
	const char *s = *p, *e = memchr(s, ' ', (size_t)(end - s));
	size_t n;

	if (!e)
		e = end;
	n = (size_t)(e - s);
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = e < end ? e + 1 : e;
	return 0;
}

/* A decimal port as the specification writes it: 1 to 5 digits, no sign,
 * no leading zero (but "0" itself), at most 65535. */
static int v1_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int parse_v1(const uint8_t *buf, size_t len, struct wg_proxy_header *out, const char **err)
{
	const uint8_t *crlf = NULL;
	size_t scan = len < V1_MAX ? len : V1_MAX;

	for (size_t i = 0; i + 1 < scan; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n') {
			crlf = buf + i;
			break;
		}
	/* Decided on the bytes before the line's end, so that a line read in
	 * pieces gets the same verdict as one read whole. */
	size_t body = crlf ? (size_t)(crlf - buf) : scan;
	if (memchr(buf, '\n', body) || memchr(buf, '\0', body)) {
		*err = "PROXY v1 line with a stray line feed or NUL";
		return -1;
	}
	if (!crlf) {
		if (len < V1_MAX)
			return 0;
		*err = "PROXY v1 line longer than 107 bytes";
		return -1;
	}
	const char *p = (const char *)buf + 6, *end = (const char *)crlf;
	char proto[8], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], sport[8], dport[8];
	uint16_t sp, dp;

	if (v1_field(&p, end, proto, sizeof(proto)) < 0) {
		*err = "PROXY v1 line without a protocol";
		return -1;
	}
	out->has_source = false;
	if (strcmp(proto, "UNKNOWN") == 0) /* the rest of the line is ignored, as specified */
		return (int)(crlf - buf) + 2;
	bool v6 = strcmp(proto, "TCP6") == 0;
	if (!v6 && strcmp(proto, "TCP4") != 0) {
		*err = "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN";
		return -1;
	}
	if (v1_field(&p, end, src, sizeof(src)) < 0 || v1_field(&p, end, dst, sizeof(dst)) < 0 ||
	    v1_field(&p, end, sport, sizeof(sport)) < 0 || v1_field(&p, end, dport, sizeof(dport)) < 0 || p != end ||
	    end[-1] == ' ') {
		*err = "PROXY v1 line is not \"PROXY TCPx SRC DST SPORT DPORT\"";
		return -1;
	}
	if (v1_port(sport, &sp) < 0 || v1_port(dport, &dp) < 0) {
		*err = "PROXY v1 port is not a number from 0 to 65535";
		return -1;
	}
	memset(&out->source, 0, sizeof(out->source));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->source;
		struct in6_addr d;
		if (inet_pton(AF_INET6, src, &a->sin6_addr) != 1 || inet_pton(AF_INET6, dst, &d) != 1) {
			*err = "PROXY v1 TCP6 address is not an IPv6 address";
			return -1;
		}
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(sp);
		out->source_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&out->source;
		struct in_addr d;
		if (inet_pton(AF_INET, src, &a->sin_addr) != 1 || inet_pton(AF_INET, dst, &d) != 1) {
			*err = "PROXY v1 TCP4 address is not an IPv4 address";
			return -1;
		}
		a->sin_family = AF_INET;
		a->sin_port = htons(sp);
		out->source_len = sizeof(*a);
	}
	out->has_source = true;
	return (int)(crlf - buf) + 2;
}

static int parse_v2(const uint8_t *buf, size_t len, struct wg_proxy_header *out, const char **err)
{
	if (len < V2_FIXED)
		return 0;
	uint8_t ver_cmd = buf[12], fam = buf[13];
	size_t body = (size_t)buf[14] << 8 | buf[15];

	if (ver_cmd >> 4 != 2) {
		*err = "PROXY v2 header with a version other than 2";
		return -1;
	}
	if ((ver_cmd & 0xF) > 1) {
		*err = "PROXY v2 command is neither LOCAL nor PROXY";
		return -1;
	}
	if (V2_FIXED + body > WG_PROXY_MAX_HEADER) {
		*err = "PROXY v2 header longer than 1024 bytes";
		return -1;
	}
	if (len < V2_FIXED + body)
		return 0;
	out->has_source = false;
	memset(&out->source, 0, sizeof(out->source));
	/* LOCAL: the relay's own connection (a health check); an unspecified
	 * or Unix family: no address the server could use. Both keep the
	 * socket's address, as the specification asks. */
	if ((ver_cmd & 0xF) == 0 || (fam >> 4) == 0 || (fam >> 4) == 3)
		return (int)(V2_FIXED + body);
	if ((fam & 0xF) != 1) {
		*err = "PROXY v2 transport is not a stream (TCP)";
		return -1;
	}
	const uint8_t *a = buf + V2_FIXED;
	if ((fam >> 4) == 1) {
		struct sockaddr_in *s = (struct sockaddr_in *)&out->source;
		if (body < 12) {
			*err = "PROXY v2 IPv4 header shorter than its addresses";
			return -1;
		}
		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&s->sin_port, a + 8, 2);
		out->source_len = sizeof(*s);
	} else if ((fam >> 4) == 2) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->source;
		if (body < 36) {
			*err = "PROXY v2 IPv6 header shorter than its addresses";
			return -1;
		}
		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		out->source_len = sizeof(*s);
	} else {
		*err = "PROXY v2 address family is not one of UNSPEC, INET, INET6, UNIX";
		return -1;
	}
	out->has_source = true;
	return (int)(V2_FIXED + body);
}

int wg_proxy_parse(const uint8_t *buf, size_t len, struct wg_proxy_header *out, const char **err)
{
	if (len == 0)
		return 0;
	if (prefix_of(buf, len, v2_sig, sizeof(v2_sig)))
		return len < sizeof(v2_sig) ? 0 : parse_v2(buf, len, out, err);
	if (prefix_of(buf, len, v1_sig, 6))
		return len < 6 ? 0 : parse_v1(buf, len, out, err);
	*err = "the connection does not start with a PROXY protocol header (listen-proxy-proto is on)";
	return -1;
}
