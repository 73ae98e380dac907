/* The core's lanes (core/tunnel/lane.c) with two fake transports: which lane a
 * packet takes (the first up lane in conf.d order that fits it, else CSTP),
 * the batches the transports get (one send() per 64 packets and a flush()
 * per burst, never a call per packet), and close() with packets queued. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_parser.h"
#include "tunnel/lane.h"
#include "util/log.h"
#include "control/metrics.h"
#include "server.h"
#include "session/session.h"

struct fake_transport {
	const char *answer;     /* header value offered, or NULL: no lane */
	int offers, closes, sends, flushes, add_rc;
	size_t packets;         /* over all send() calls */
	void *last_ctx;
	uint8_t first_byte;     /* of the last packet sent */
	uint8_t headroom_check; /* what was written in the headroom */
};

static struct fake_transport ft[2];

static int fake_offer(void *state, struct wg_lane *lane, const struct wg_lane_offer *o, void **ctx)
{
	struct fake_transport *t = state;

	t->offers++;
	cr_assert_eq(o->mtu, 1400);
	if (!t->answer)
		return 1;
	t->add_rc = wg_host_lane_add_header(lane, "X-Fake", t->answer);
	if (t->add_rc < 0)
		return 1;
	*ctx = t; /* any pointer names the lane */
	return 0;
}

static void fake_close(void *state, void *ctx)
{
	struct fake_transport *t = state;

	cr_assert_eq(ctx, t);
	t->closes++;
}

static void fake_send(void *state, const struct wg_lane_packet *pkts, size_t n)
{
	struct fake_transport *t = state;

	t->sends++;
	t->packets += n;
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(pkts[i].lane_ctx, t);
		cr_assert_eq(pkts[i].type, 0);
		pkts[i].data[-1] = 0xee; /* the headroom is the transport's to write */
		t->first_byte = pkts[i].data[0];
	}
}

static void fake_flush(void *state)
{
	((struct fake_transport *)state)->flushes++;
}

/* transport-one is built against the header before lane_json and
 * metrics_text were appended (its table ends before them); transport-two
 * has both. */
static const struct wg_transport_ops fake_ops_old = {
	.struct_size = offsetof(struct wg_transport_ops, lane_json),
	.offer = fake_offer,
	.close = fake_close,
	.send = fake_send,
	.flush = fake_flush,
};

static const char *json_answer = "{\"lanes\": 2}";

static size_t fake_lane_json(void *state, void *ctx, char *out, size_t len)
{
	(void)state;
	cr_assert_eq(ctx, &ft[1]);
	return (size_t)snprintf(out, len, "%s", json_answer);
}

static size_t fake_metrics_text(void *state, char *out, size_t len)
{
	(void)state;
	return (size_t)snprintf(out, len, "# TYPE wolfguard_fake_total counter\nwolfguard_fake_total 7\n");
}

static const struct wg_transport_ops fake_ops_shown = {
	.struct_size = sizeof(struct wg_transport_ops),
	.offer = fake_offer,
	.close = fake_close,
	.send = fake_send,
	.flush = fake_flush,
	.lane_json = fake_lane_json,
	.metrics_text = fake_metrics_text,
};

static const struct wg_plugin descs[2] = {
	{WG_PLUGIN_HEADER, .name = "transport-one", .kind = WG_PLUGIN_TRANSPORT, .ops = &fake_ops_old},
	{WG_PLUGIN_HEADER, .name = "transport-two", .kind = WG_PLUGIN_TRANSPORT, .ops = &fake_ops_shown},
};

static struct wg_server srv;
static struct wg_session sess;
static struct wg_loaded_plugin lps[2];
static struct wg_http_parser *parser;

static void setup(void)
{
	const char req[] = "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: vpn\r\n\r\n";
	size_t used;

	wg_log_set_level(WG_LOG_WARN);
	memset(&srv, 0, sizeof(srv));
	memset(&sess, 0, sizeof(sess));
	memset(ft, 0, sizeof(ft));
	for (int i = 0; i < 2; i++)
		lps[i] = (struct wg_loaded_plugin){.desc = &descs[i], .state = &ft[i], .initialized = true};
	cr_assert_eq(wg_lanes_attach(&srv, lps, 2), 2);
	sess.srv = &srv;
	sess.cstp = (struct wg_conn *)&sess; /* any non-NULL: the TLS connection is there */
	sess.tc.mtu = 1400;
	parser = wg_http_parser_new();
	cr_assert_eq(wg_http_parser_feed(parser, req, strlen(req), &used), WG_HTTP_DONE);
}

static void teardown(void)
{
	wg_lanes_close(&sess);
	for (size_t i = 0; i < srv.n_transports; i++)
		free(srv.transports[i]);
	wg_http_parser_free(parser);
}

TestSuite(lane, .init = setup, .fini = teardown);

static unsigned offer_both(char *hdrs, size_t len)
{
	char names[128];

	ft[0].answer = "one";
	ft[1].answer = "two";
	return wg_lanes_offer(&sess, NULL, wg_http_parser_request(parser), 1400, hdrs, len, names, sizeof(names));
}

static struct wg_lane *lane_of(int i)
{
	struct wg_lane *l = sess.lanes;

	while (i-- > 0 && l)
		l = l->next;
	cr_assert_not_null(l);
	return l;
}

Test(lane, cstp_until_a_lane_is_up_then_the_first_up_lane_in_order)
{
	char hdrs[512];
	uint8_t pkt[1500] = {0x45};

	cr_assert_eq(offer_both(hdrs, sizeof(hdrs)), 2);
	cr_assert_str_eq(hdrs, "X-Fake: one\r\nX-Fake: two\r\n");
	cr_assert_null(sess.active, "offered is not up: CSTP");

	wg_host_lane_up(lane_of(1), 1400, "198.51.100.2:1");
	cr_assert_eq(sess.active, lane_of(1));
	wg_host_lane_up(lane_of(0), 1000, "198.51.100.2:2");
	cr_assert_eq(sess.active, lane_of(0), "conf.d order picks the first up lane");

	/* Too large for the active lane: the caller sends it over CSTP. */
	cr_assert_not(wg_lane_queue(sess.active, pkt, 1200));
	cr_assert(wg_lane_queue(sess.active, pkt, 1000));
	wg_lanes_flush(&srv);
	cr_assert_eq(ft[0].sends, 1);
	cr_assert_eq(ft[0].packets, 1);
	cr_assert_eq(ft[0].flushes, 1);
	cr_assert_eq(ft[0].first_byte, 0x45, "the packet's bytes reached the transport");
	cr_assert_eq(ft[1].sends + ft[1].flushes, 0, "nothing for the lane that is not active");

	wg_host_lane_down(lane_of(0), "test");
	cr_assert_eq(sess.active, lane_of(1), "the other up lane takes over");
	wg_host_lane_down(lane_of(1), "test");
	cr_assert_null(sess.active, "none up: back to CSTP");
	wg_lanes_flush(&srv);
	cr_assert_eq(ft[0].flushes, 1, "no flush without a send");
}

Test(lane, packets_reach_a_transport_in_batches)
{
	char hdrs[512];
	uint8_t pkt[100];

	offer_both(hdrs, sizeof(hdrs));
	wg_host_lane_up(lane_of(0), 1400, "peer");
	for (int i = 0; i < 2 * WG_LANE_BATCH + 1; i++) {
		pkt[0] = (uint8_t)i;
		cr_assert(wg_lane_queue(sess.active, pkt, sizeof(pkt)));
	}
	cr_assert_eq(ft[0].sends, 2, "a full batch leaves at once");
	cr_assert_eq(ft[0].flushes, 0, "flush only at the end of the burst");
	wg_lanes_flush(&srv);
	cr_assert_eq(ft[0].sends, 3);
	cr_assert_eq(ft[0].packets, 2 * WG_LANE_BATCH + 1);
	cr_assert_eq(ft[0].flushes, 1);
	cr_assert_eq(ft[0].first_byte, (uint8_t)(2 * WG_LANE_BATCH));
}

Test(lane, a_closed_lane_gets_nothing_more)
{
	char hdrs[512];
	uint8_t pkt[100] = {0};

	offer_both(hdrs, sizeof(hdrs));
	wg_host_lane_up(lane_of(0), 1400, "peer");
	cr_assert(wg_lane_queue(sess.active, pkt, sizeof(pkt)));
	/* A reconnect (or the session's end) closes its lanes mid-burst. */
	wg_lanes_close(&sess);
	cr_assert_eq(ft[0].closes, 1);
	cr_assert_eq(ft[1].closes, 1);
	cr_assert_null(sess.lanes);
	cr_assert_null(sess.active);
	wg_lanes_flush(&srv);
	cr_assert_eq(ft[0].packets, 0, "a packet queued for a closed lane was handed over");
	/* Host calls naming nothing are harmless. */
	wg_host_lane_down(NULL, "x");
	wg_host_lane_input(NULL, 0, pkt, 1);
}

Test(lane, a_transport_may_decline)
{
	char hdrs[512], names[128];

	ft[0].answer = NULL; /* the client did not ask for it */
	ft[1].answer = "two";
	cr_assert_eq(wg_lanes_offer(&sess, NULL, wg_http_parser_request(parser), 1400, hdrs, sizeof(hdrs), names,
				    sizeof(names)),
		     1);
	cr_assert_str_eq(names, "transport-two");
	cr_assert_str_eq(hdrs, "X-Fake: two\r\n");
	cr_assert_eq(ft[0].offers, 1);
	cr_assert_eq(ft[0].closes, 0, "a declined offer is not closed");
	cr_assert_eq(wg_host_lane_add_header(lane_of(0), "X-Late", "1"), -1, "headers only during offer()");
}

Test(lane, a_header_that_would_split_the_answer_is_refused)
{
	char hdrs[512], names[128];

	ft[0].answer = "a\r\nInjected: 1";
	ft[1].answer = NULL;
	cr_assert_eq(wg_lanes_offer(&sess, NULL, wg_http_parser_request(parser), 1400, hdrs, sizeof(hdrs), names,
				    sizeof(names)),
		     0);
	cr_assert_eq(ft[0].add_rc, -1);
	cr_assert_str_eq(hdrs, "");
	cr_assert_null(sess.lanes);
}

Test(lane, what_a_transport_shows_of_its_lane_goes_into_the_session_json)
{
	char hdrs[512];
	json_t *j;

	cr_assert_null(wg_lanes_json(&sess), "no lane yet: nothing shown");
	cr_assert_eq(offer_both(hdrs, sizeof(hdrs)), 2);
	j = wg_lanes_json(&sess);
	cr_assert_not_null(j);
	cr_assert_null(json_object_get(j, "transport-one"), "an old plugin's table has no lane_json");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "transport-two"), "lanes")), 2);
	json_decref(j);
	json_answer = "{not json";
	cr_assert_null(wg_lanes_json(&sess), "text that is not JSON is left out");
	json_answer = "{\"lanes\": 2}";
}

Test(lane, a_transports_metrics_lines_are_served)
{
	static struct wg_metrics m;

	wg_lanes_stats(&srv, &m);
	cr_assert_eq(m.n_transports, 2);
	cr_assert_not_null(strstr(m.transport_text, "wolfguard_fake_total 7\n"));
	cr_assert_eq(strlen(m.transport_text), m.transport_text_len);
	size_t len;
	char *text = wg_metrics_format(&m, &len);
	cr_assert_not_null(text);
	cr_assert_not_null(strstr(text, "wolfguard_fake_total 7\n"));
	free(text);
}
