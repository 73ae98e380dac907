/* A connection's request queue (core/net/http_pipe.c): requests come out one
 * at a time and in order, however the bytes were cut; what may wait behind
 * a request being answered and how many requests one connection may make
 * are bounded; after CONNECT the rest is handed over untouched. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/http_parser.h"
#include "net/http_pipe.h"

static struct wg_http_pipe pipe_;
static struct wg_http_parser *parser;

static void setup(void)
{
	wg_http_pipe_init(&pipe_);
	parser = wg_http_parser_new();
	cr_assert_not_null(parser);
}

static void teardown(void)
{
	wg_http_pipe_fini(&pipe_);
	wg_http_parser_free(parser);
}

TestSuite(http_pipe, .init = setup, .fini = teardown);

static void add(const char *s, bool busy)
{
	cr_assert_eq(wg_http_pipe_add(&pipe_, s, strlen(s), busy), 0);
}

/* The next request's URL, or NULL when none is whole yet. */
static const char *next_url(void)
{
	enum wg_http_pipe_next n = wg_http_pipe_next(&pipe_, parser);

	if (n == WG_PIPE_EMPTY)
		return NULL;
	cr_assert_eq(n, WG_PIPE_REQUEST);
	static char url[64];
	snprintf(url, sizeof(url), "%s", wg_http_parser_request(parser)->url);
	wg_http_parser_reset(parser);
	return url;
}

Test(http_pipe, requests_come_out_in_order_across_cuts)
{
	add("GET /1 HTTP/1.1\r\n\r\nGET /2 HT", false);
	cr_assert_str_eq(next_url(), "/1");
	cr_assert_null(next_url(), "half a request came out");
	add("TP/1.1\r\n\r\nPOST /3 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /4 HTTP/1.1\r\n\r\n", true);
	cr_assert_str_eq(next_url(), "/2");
	cr_assert_str_eq(next_url(), "/3");
	cr_assert_str_eq(next_url(), "/4");
	cr_assert_null(next_url());
	cr_assert_eq(wg_http_pipe_queued(&pipe_), 0);
}

Test(http_pipe, what_waits_behind_an_answer_is_bounded)
{
	static char big[WG_HTTP_PIPE_MAX_QUEUED];

	memset(big, 'x', sizeof(big));
	cr_assert_eq(wg_http_pipe_add(&pipe_, big, sizeof(big), true), 0, "exactly the bound is allowed");
	cr_assert_eq(wg_http_pipe_add(&pipe_, "y", 1, true), -E2BIG);
	cr_assert_eq(wg_http_pipe_queued(&pipe_), sizeof(big));
}

Test(http_pipe, requests_per_connection_are_bounded)
{
	for (unsigned i = 0; i < WG_HTTP_PIPE_MAX_REQUESTS + 10; i++)
		add("GET / HTTP/1.1\r\n\r\n", false);
	for (unsigned i = 0; i < WG_HTTP_PIPE_MAX_REQUESTS; i++)
		cr_assert_str_eq(next_url(), "/");
	cr_assert_eq(wg_http_pipe_next(&pipe_, parser), WG_PIPE_TOO_MANY);
	cr_assert_eq(wg_http_pipe_queued(&pipe_), 0, "the rest was kept");
}

Test(http_pipe, a_bad_request_empties_the_queue)
{
	add("GET / HTTP/1.1\r\n\r\nNOT HTTP AT ALL\r\n\r\nGET / HTTP/1.1\r\n\r\n", false);
	cr_assert_str_eq(next_url(), "/");
	cr_assert_eq(wg_http_pipe_next(&pipe_, parser), WG_PIPE_BAD);
	cr_assert_eq(wg_http_parser_error_status(parser), 400);
	cr_assert_eq(wg_http_pipe_queued(&pipe_), 0);
}

Test(http_pipe, after_connect_the_rest_is_the_tunnels)
{
	size_t n;

	add("CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\n\r\nSTF\x01", false);
	cr_assert_eq(wg_http_pipe_next(&pipe_, parser), WG_PIPE_REQUEST);
	cr_assert_str_eq(wg_http_parser_request(parser)->method, "CONNECT");
	const uint8_t *rest = wg_http_pipe_rest(&pipe_, &n);
	cr_assert_eq(n, 4);
	cr_assert_eq(memcmp(rest, "STF\x01", 4), 0);
}
