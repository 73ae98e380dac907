#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "net/http_parser.h"

static const char init_req[] =
	"POST / HTTP/1.1\r\nHost: vpn.test\r\nUser-Agent: Open AnyConnect VPN Agent v9.01\r\n"
	"Content-Type: application/x-www-form-urlencoded\r\nX-Aggregate-Auth: 1\r\n"
	"Cookie: a=b; webvpncontext=00112233; c=d\r\nContent-Length: 11\r\n\r\nhello world";

Test(http_parser, byte_by_byte)
{
	struct wg_http_parser *p = wg_http_parser_new();
	size_t used, total = sizeof(init_req) - 1;
	int r = WG_HTTP_NEED_MORE;

	for (size_t i = 0; i < total; i++) {
		r = wg_http_parser_feed(p, init_req + i, 1, &used);
		cr_assert_eq(used, 1);
		if (i + 1 < total)
			cr_assert_eq(r, WG_HTTP_NEED_MORE, "done early at %zu", i);
	}
	cr_assert_eq(r, WG_HTTP_DONE);
	const struct wg_http_request *req = wg_http_parser_request(p);
	cr_assert_str_eq(req->method, "POST");
	cr_assert_str_eq(req->url, "/");
	cr_assert_str_eq(wg_http_header(req, "user-agent"), "Open AnyConnect VPN Agent v9.01");
	cr_assert_str_eq(req->body, "hello world");
	char cookie[64];
	cr_assert_eq(wg_http_cookie(req, "webvpncontext", cookie, sizeof(cookie)), 8);
	cr_assert_str_eq(cookie, "00112233");
	cr_assert_eq(wg_http_cookie(req, "webvpn", cookie, sizeof(cookie)), -1);
	cr_assert_eq(wg_http_cookie(req, "webvpncontext", cookie, 4), -1);
	wg_http_parser_free(p);
}

Test(http_parser, connect_leaves_tunnel_bytes)
{
	const char req[] = "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nCookie: webvpn=abc\r\n\r\nSTF\x01";
	struct wg_http_parser *p = wg_http_parser_new();
	size_t used;

	cr_assert_eq(wg_http_parser_feed(p, req, sizeof(req) - 1, &used), WG_HTTP_DONE);
	cr_assert_eq(used, sizeof(req) - 1 - 4);
	cr_assert_str_eq(wg_http_parser_request(p)->method, "CONNECT");
	cr_assert_str_eq(wg_http_parser_request(p)->url, "/CSCOSSLC/tunnel");
	wg_http_parser_free(p);
}

Test(http_parser, pipelined_requests_one_at_a_time)
{
	const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
	struct wg_http_parser *p = wg_http_parser_new();
	size_t used, off;

	cr_assert_eq(wg_http_parser_feed(p, two, sizeof(two) - 1, &used), WG_HTTP_DONE);
	cr_assert_str_eq(wg_http_parser_request(p)->url, "/a");
	off = used;
	wg_http_parser_reset(p);
	cr_assert_eq(wg_http_parser_feed(p, two + off, sizeof(two) - 1 - off, &used), WG_HTTP_DONE);
	cr_assert_str_eq(wg_http_parser_request(p)->url, "/b");
	cr_assert_eq(off + used, sizeof(two) - 1);
	wg_http_parser_free(p);
}

Test(http_parser, limits_answer_with_status)
{
	struct wg_http_parser *p = wg_http_parser_new();
	char big[WG_HTTP_MAX_HEADER_BYTES + 200];
	size_t used;

	int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX-Long: ");
	memset(big + n, 'a', sizeof(big) - (size_t)n);
	cr_assert_eq(wg_http_parser_feed(p, big, sizeof(big), &used), WG_HTTP_ERROR);
	cr_assert_eq(wg_http_parser_error_status(p), 431);

	wg_http_parser_reset(p);
	const char body[] = "POST / HTTP/1.1\r\nContent-Length: 999999\r\n\r\n";
	cr_assert_eq(wg_http_parser_feed(p, body, sizeof(body) - 1, &used), WG_HTTP_ERROR);
	cr_assert_eq(wg_http_parser_error_status(p), 413);

	wg_http_parser_reset(p);
	cr_assert_eq(wg_http_parser_feed(p, "\x16\x03\x01garbage\r\n\r\n", 14, &used), WG_HTTP_ERROR);
	cr_assert_eq(wg_http_parser_error_status(p), 400);

	wg_http_parser_reset(p);
	char many[8192];
	size_t m = (size_t)snprintf(many, sizeof(many), "GET / HTTP/1.1\r\n");
	for (int i = 0; i < WG_HTTP_MAX_HEADERS + 2; i++)
		m += (size_t)snprintf(many + m, sizeof(many) - m, "H%d: v\r\n", i);
	m += (size_t)snprintf(many + m, sizeof(many) - m, "\r\n");
	cr_assert_eq(wg_http_parser_feed(p, many, m, &used), WG_HTTP_ERROR);
	cr_assert_eq(wg_http_parser_error_status(p), 431);
	wg_http_parser_free(p);
}
