/* See radius_attrs.h. Pure text handling; no I/O, no RADIUS library. */
#include "radius_attrs.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wolfguard/percent.h>

static int parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int radius_parse_server(const char *spec, struct radius_server_spec *out, char *err, size_t errlen)
{
	const char *p = spec, *host, *end;
	size_t host_len;

	memset(out, 0, sizeof(*out));
	if (!spec || !*spec) {
		snprintf(err, errlen, "empty server entry");
		return -1;
	}
	if (*p == '[') {
		host = p + 1;
		end = strchr(host, ']');
		if (!end) {
			snprintf(err, errlen, "\"%s\": '[' without ']'", spec);
			return -1;
		}
		host_len = (size_t)(end - host);
		p = end + 1;
		if (*p && *p != ':') {
			snprintf(err, errlen, "\"%s\": expected ':' after ']'", spec);
			return -1;
		}
		out->ipv6 = 1;
	} else {
		host = p;
		end = strchr(p, ':');
		host_len = end ? (size_t)(end - p) : strlen(p);
		p += host_len;
	}
	if (host_len == 0 || host_len >= sizeof(out->host)) {
		snprintf(err, errlen, "\"%s\": host is empty or too long", spec);
		return -1;
	}
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	for (size_t i = 0; i < host_len; i++) {
		unsigned char c = (unsigned char)out->host[i];
		if (!isalnum(c) && c != '.' && c != '-' && c != '_' && !(out->ipv6 && c == ':')) {
			snprintf(err, errlen, "\"%s\": host contains '%c'", spec, c);
			return -1;
		}
	}
	if (out->ipv6) {
		struct in6_addr a6;
		if (inet_pton(AF_INET6, out->host, &a6) != 1) {
			snprintf(err, errlen, "\"%s\": [%s] is not an IPv6 address", spec, out->host);
			return -1;
		}
	}
	out->auth_port = 1812;
	out->acct_port = 0;
	/* p is at "" or ":AUTH[:ACCT[:SECRET]]" */
	if (*p == ':') {
		const char *f = p + 1, *colon = strchr(f, ':');
		size_t len = colon ? (size_t)(colon - f) : strlen(f);
		if (len && parse_port(f, len, &out->auth_port) < 0) {
			snprintf(err, errlen, "\"%s\": auth port \"%.*s\" is not a port number", spec, (int)len, f);
			return -1;
		}
		if (colon) {
			f = colon + 1;
			colon = strchr(f, ':');
			len = colon ? (size_t)(colon - f) : strlen(f);
			if (len && parse_port(f, len, &out->acct_port) < 0) {
				snprintf(err, errlen, "\"%s\": accounting port \"%.*s\" is not a port number", spec,
					 (int)len, f);
				return -1;
			}
			if (colon) {
				const char *secret = colon + 1;
				if (strlen(secret) > RADIUS_SECRET_MAX) {
					snprintf(err, errlen, "\"%s...\": secret longer than %d bytes", out->host,
						 RADIUS_SECRET_MAX);
					return -1;
				}
				snprintf(out->secret, sizeof(out->secret), "%s", secret);
			}
		}
	}
	if (out->acct_port == 0) {
		if (out->auth_port == 65535) {
			snprintf(err, errlen, "\"%s\": no accounting port after 65535; give one", out->host);
			return -1;
		}
		out->acct_port = (uint16_t)(out->auth_port + 1);
	}
	return 0;
}

const char *radius_secret_problem(const char *secret)
{
	if (!secret || !*secret)
		return "no secret (give one in the server entry or in \"secret\")";
	if (strlen(secret) > RADIUS_SECRET_MAX)
		return "secret longer than 96 bytes";
	for (const char *c = secret; *c; c++)
		if (!isgraph((unsigned char)*c) || *c == ',')
			return "secret contains a blank, a comma or a control character";
	return NULL;
}

/* The destination of a Framed-Route ("DEST[/BITS] [GATEWAY [METRICS]]",
 * RFC 2865 5.22): its first word, leading spaces skipped, into dest (cap
 * bytes with the NUL). 0, or -1 when there is none or it does not fit. */
static int route_destination(const char *framed_route, char *dest, size_t cap)
{
	const char *p = framed_route;
	size_t n = 0;

	if (!framed_route)
		return -1;
	while (*p == ' ')
		p++;
	while (p[n] && p[n] != ' ' && n < cap - 1)
		n++;
	if (n == 0 || (p[n] && p[n] != ' '))
		return -1;
	memcpy(dest, p, n);
	dest[n] = '\0';
	return 0;
}

int radius_route_to_cidr(const char *framed_route, char *out, size_t outlen)
{
	char dest[64];
	unsigned long bits = 32;
	struct in_addr a;
	char *slash, *endp;

	if (route_destination(framed_route, dest, sizeof(dest)) < 0)
		return -1;
	slash = strchr(dest, '/');
	if (slash) {
		*slash = '\0';
		errno = 0;
		bits = strtoul(slash + 1, &endp, 10);
		if (slash[1] == '\0' || *endp || errno || bits > 32)
			return -1;
	}
	if (inet_pton(AF_INET, dest, &a) != 1)
		return -1;
	uint32_t mask = bits == 0 ? 0 : htonl(0xffffffffu << (32 - bits));
	a.s_addr &= mask;
	char txt[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, txt, sizeof(txt));
	if ((size_t)snprintf(out, outlen, "%s/%lu", txt, bits) >= outlen)
		return -1;
	return 0;
}

int radius_route6_to_cidr(const char *framed_route, char *out, size_t outlen)
{
	char dest[INET6_ADDRSTRLEN + 5], *slash, *endp;
	unsigned long bits;
	struct in6_addr a;

	if (route_destination(framed_route, dest, sizeof(dest)) < 0)
		return -1;
	slash = strchr(dest, '/');
	if (!slash || slash[1] == '\0')
		return -1;
	*slash = '\0';
	errno = 0;
	bits = strtoul(slash + 1, &endp, 10);
	if (*endp || errno || bits > 128 || inet_pton(AF_INET6, dest, &a) != 1)
		return -1;
	for (unsigned i = 0; i < 16; i++) {
		long keep = (long)bits - 8 * (long)i;
		a.s6_addr[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
	char txt[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &a, txt, sizeof(txt));
	return (size_t)snprintf(out, outlen, "%s/%lu", txt, bits) < outlen ? 0 : -1;
}

int radius_prefix6_address(const uint8_t *v, size_t len, char *out, size_t outlen)
{
	struct in6_addr a = {0};

	/* RFC 3162: reserved, length, then the prefix (at most 16 bytes). */
	if (len < 2 || len > 18 || v[1] != 128 || len != 18)
		return -1;
	memcpy(&a, v + 2, 16);
	return inet_ntop(AF_INET6, &a, out, (socklen_t)outlen) ? 0 : -1;
}

void radius_class_encode(const uint8_t *buf, size_t len, char *out, size_t outlen)
{
	int printable = len > 0 && !(len >= 2 && buf[0] == '0' && buf[1] == 'x');
	size_t o = 0;

	for (size_t i = 0; i < len && printable; i++)
		printable = buf[i] >= 0x20 && buf[i] < 0x7f;
	if (outlen == 0)
		return;
	if (printable && len < outlen) {
		memcpy(out, buf, len);
		out[len] = '\0';
		return;
	}
	if (outlen < 3) {
		out[0] = '\0';
		return;
	}
	out[o++] = '0';
	out[o++] = 'x';
	for (size_t i = 0; i < len && o + 2 < outlen; i++) {
		static const char hex[] = "0123456789abcdef";
		out[o++] = hex[buf[i] >> 4];
		out[o++] = hex[buf[i] & 15];
	}
	out[o] = '\0';
}

int radius_class_decode(const char *text, uint8_t *out, size_t outlen)
{
	size_t len;

	if (!text)
		return -1;
	len = strlen(text);
	if (len >= 2 && text[0] == '0' && text[1] == 'x') {
		size_t n = (len - 2) / 2;
		if ((len - 2) % 2 || n == 0 || n > outlen)
			return -1;
		if (wg_hex_decode(text + 2, out, n) < 0)
			return -1;
		return (int)n;
	}
	if (len == 0 || len > outlen)
		return -1;
	memcpy(out, text, len);
	return (int)len;
}

int radius_group_attr_parse(const char *name)
{
	if (!name || strcasecmp(name, "filter-id") == 0)
		return RADIUS_GROUP_FILTER_ID;
	if (strcasecmp(name, "class") == 0)
		return RADIUS_GROUP_CLASS;
	if (strcasecmp(name, "none") == 0)
		return RADIUS_GROUP_NONE;
	return -1;
}

uint32_t radius_terminate_cause(const char *reason)
{
	static const struct {
		const char *word;
		uint32_t cause;
	} map[] = {
		/* the host's reasons (core/session/session.c, tunnel.c, control.c,
		 * server.c), then common wordings of other hosts */
		{"idle", 4},            /* Idle-Timeout */
		{"session timeout", 5}, /* Session-Timeout */
		{"session-timeout", 5},
		{"administrator", 6}, /* Admin-Reset */
		{"admin", 6},
		{"shutting down", 11}, /* NAS-Reboot */
		{"server stop", 11},
		{"shutdown", 11},
		{"cookie expired", 2}, /* Lost-Carrier: gone without a word, never came back */
		{"dead peer", 2},
		{"dpd", 2},
		{"lost", 2},
		{"left", 2},
		{"client disconnected", 1}, /* User-Request */
		{"client terminated", 1},
		{"logout", 1},
		{"logged out", 1},
		{"user request", 1},
	};

	if (!reason)
		return 10;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasestr(reason, map[i].word))
			return map[i].cause;
	return 10; /* NAS-Request */
}
