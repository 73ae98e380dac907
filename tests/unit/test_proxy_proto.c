/* The PROXY protocol header parser (core/net/proxy_proto.c): what haproxy's
 * send-proxy and send-proxy-v2 write, in one piece and in pieces, and the
 * malformed headers that must be refused. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "net/proxy_proto.h"

static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static int parse(const void *buf, size_t len, struct wg_proxy_header *h, const char **err)
{
	*err = NULL;
	return wg_proxy_parse(buf, len, h, err);
}

static void source_is(const struct wg_proxy_header *h, const char *addr, unsigned port)
{
	char text[INET6_ADDRSTRLEN];

	cr_assert(h->has_source);
	if (h->source.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&h->source;
		inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
		cr_assert_eq(ntohs(a->sin_port), port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&h->source;
		cr_assert_eq(h->source.ss_family, AF_INET6);
		inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
		cr_assert_eq(ntohs(a->sin6_port), port);
	}
	cr_assert_str_eq(text, addr);
}

static void refused(const void *buf, size_t len, const char *why_part)
{
	struct wg_proxy_header h;
	const char *err;

	cr_assert_eq(parse(buf, len, &h, &err), -1, "accepted: %.*s", (int)len, (const char *)buf);
	cr_assert(err && strstr(err, why_part), "reason \"%s\" lacks \"%s\"", err ? err : "", why_part);
}

Test(proxy_proto, v1_tcp4_and_the_bytes_after_it)
{
	const char in[] = "PROXY TCP4 198.51.100.7 192.0.2.1 51234 443\r\n\x16\x03\x01";
	struct wg_proxy_header h;
	const char *err;

	cr_assert_eq(parse(in, sizeof(in) - 1, &h, &err), (int)strlen("PROXY TCP4 198.51.100.7 192.0.2.1 51234 443\r\n"));
	source_is(&h, "198.51.100.7", 51234);
}

Test(proxy_proto, v1_tcp6)
{
	const char in[] = "PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n";
	struct wg_proxy_header h;
	const char *err;

	cr_assert_eq(parse(in, sizeof(in) - 1, &h, &err), (int)sizeof(in) - 1);
	source_is(&h, "2001:db8::7", 65535);
}

Test(proxy_proto, v1_unknown_keeps_the_socket_address)
{
	const char a[] = "PROXY UNKNOWN\r\n", b[] = "PROXY UNKNOWN whatever follows\r\n";
	struct wg_proxy_header h;
	const char *err;

	cr_assert_eq(parse(a, sizeof(a) - 1, &h, &err), (int)sizeof(a) - 1);
	cr_assert_not(h.has_source);
	cr_assert_eq(parse(b, sizeof(b) - 1, &h, &err), (int)sizeof(b) - 1);
	cr_assert_not(h.has_source);
}

Test(proxy_proto, every_prefix_asks_for_more)
{
	const char in[] = "PROXY TCP4 198.51.100.7 192.0.2.1 51234 443\r\n";
	struct wg_proxy_header h;
	const char *err;

	for (size_t k = 0; k < sizeof(in) - 1; k++)
		cr_assert_eq(parse(in, k, &h, &err), 0, "prefix of %zu bytes", k);
}

Test(proxy_proto, v1_malformed)
{
	char long_line[200];

	refused("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", 33, "is not");
	refused("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", 33, "is not");
	refused("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", 33, "port");
	refused("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", 36, "port");
	refused("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", 33, "port");
	refused("PROXY TCP4 ::1 ::1 1 2\r\n", 24, "IPv4");
	refused("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", 32, "IPv6");
	refused("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", 32, "protocol");
	refused("PROXY TCP4 1.2.3.4\n", 19, "line feed");
	refused("PROXY \r\n", 8, "without a protocol");
	memset(long_line, '1', sizeof(long_line));
	memcpy(long_line, "PROXY TCP4 ", 11);
	refused(long_line, sizeof(long_line), "107");
}

Test(proxy_proto, not_a_header_at_all)
{
	const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};

	refused(hello, sizeof(hello), "does not start with a PROXY");
	refused("GET / HTTP/1.1\r\n", 16, "does not start with a PROXY");
	cr_assert_not(wg_proxy_looks_like_header(hello, sizeof(hello)));
	cr_assert(wg_proxy_looks_like_header((const uint8_t *)"PROXY TCP4 ", 11));
	cr_assert(wg_proxy_looks_like_header(sig, sizeof(sig)));
	cr_assert_not(wg_proxy_looks_like_header(sig, 11)); /* too little to tell */
}

/* A v2 header: signature, version/command, family, length, body. */
static size_t v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const void *body, size_t body_len)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(body_len >> 8);
	out[15] = (uint8_t)body_len;
	memcpy(out + 16, body, body_len);
	return 16 + body_len;
}

Test(proxy_proto, v2_ipv4_with_tlvs)
{
	uint8_t body[12 + 7], buf[64];
	struct wg_proxy_header h;
	const char *err;

	inet_pton(AF_INET, "198.51.100.7", body);
	inet_pton(AF_INET, "192.0.2.1", body + 4);
	body[8] = 0xC8, body[9] = 0x22; /* 51234 */
	body[10] = 0x01, body[11] = 0xBB;
	memcpy(body + 12, "\x01\x00\x02h2\x04\x00", 7); /* ALPN TLV, then a NOOP TLV start: skipped */
	size_t n = v2(buf, 0x21, 0x11, body, sizeof(body));
	buf[n] = 0x16;
	cr_assert_eq(parse(buf, n + 1, &h, &err), (int)n);
	source_is(&h, "198.51.100.7", 51234);
	for (size_t k = 0; k < n; k++)
		cr_assert_eq(parse(buf, k, &h, &err), 0, "prefix of %zu bytes", k);
}

Test(proxy_proto, v2_ipv6)
{
	uint8_t body[36] = {0}, buf[64];
	struct wg_proxy_header h;
	const char *err;

	inet_pton(AF_INET6, "2001:db8::7", body);
	inet_pton(AF_INET6, "2001:db8::1", body + 16);
	body[32] = 0x01, body[33] = 0x00;
	size_t n = v2(buf, 0x21, 0x21, body, sizeof(body));
	cr_assert_eq(parse(buf, n, &h, &err), (int)n);
	source_is(&h, "2001:db8::7", 256);
}

Test(proxy_proto, v2_local_and_unix_keep_the_socket_address)
{
	uint8_t body[216] = {0}, buf[300];
	struct wg_proxy_header h;
	const char *err;
	size_t n = v2(buf, 0x20, 0x00, body, 0);

	cr_assert_eq(parse(buf, n, &h, &err), 16);
	cr_assert_not(h.has_source);
	n = v2(buf, 0x21, 0x31, body, sizeof(body));
	cr_assert_eq(parse(buf, n, &h, &err), (int)n);
	cr_assert_not(h.has_source);
}

Test(proxy_proto, v2_malformed)
{
	uint8_t body[40] = {0}, buf[80];

	refused(buf, v2(buf, 0x11, 0x11, body, 12), "version");
	refused(buf, v2(buf, 0x22, 0x11, body, 12), "command");
	refused(buf, v2(buf, 0x21, 0x12, body, 12), "stream");
	refused(buf, v2(buf, 0x21, 0x11, body, 11), "shorter");
	refused(buf, v2(buf, 0x21, 0x21, body, 35), "shorter");
	refused(buf, v2(buf, 0x21, 0x41, body, 12), "family");
	/* A length past the cap is refused at once, not waited for. */
	v2(buf, 0x21, 0x11, body, 0);
	buf[14] = 0xFF, buf[15] = 0xFF;
	refused(buf, 16, "1024");
}

/* Found by fuzz_proxy_proto: a NUL inside an UNKNOWN line was refused while
 * the line was incomplete but accepted once whole. Refused both ways. */
Test(proxy_proto, nul_in_a_line_is_refused_read_whole_or_in_pieces)
{
	const char in[] = "PROXY UNKNOWN a\0b\r\n";

	refused(in, sizeof(in) - 1, "NUL");
	refused(in, 16, "NUL");
}
