/* One session's lanes (plugins/transport-lanes/lane_set.c) with real DTLS
 * 1.3 clients on loopback: a lane whose client stops answering PROBEs
 * leaves the rotation once its deadline passes and its flows go to the
 * other lane; it rejoins with its next PROBE-ACK; the host hears lane_up
 * while any lane lives and lane_down when none does; DATA reaches the host;
 * wolfguardctl's JSON describes it all. The host's side is a table of
 * recording functions (what the core would do is tested in test_lane.c). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "host_loop_fixture.h"
#include "test_dtls_client.h"
#include "lane_link.h"
#include "lane_set.h"

#define WAIT_MS 30000

static struct {
	struct event_base *base;
	struct wg_host host;
	struct wg_lane_server *srv;
	struct wg_lane_set ls;
	unsigned host_ups, host_downs, inputs;
	size_t input_len;
} fx;

/* ---- the host, as lane_set.c calls it ------------------------------------------ */

static void host_log(const struct wg_session *s, int level, const char *fmt, ...)
{
	(void)s;
	(void)level;
	(void)fmt;
}

static const struct wg_session *host_lane_session(const struct wg_lane *l)
{
	(void)l;
	return NULL;
}

static void host_lane_up(struct wg_lane *l, size_t max_payload, const char *peer)
{
	(void)l;
	(void)peer;
	cr_assert_gt(max_payload, 1000);
	fx.host_ups++;
}

static void host_lane_down(struct wg_lane *l, const char *why)
{
	(void)l;
	(void)why;
	fx.host_downs++;
}

static void host_lane_input(struct wg_lane *l, uint32_t type, const uint8_t *p, size_t len)
{
	(void)l;
	(void)p;
	cr_assert_eq(type, 0);
	fx.inputs++;
	fx.input_len = len;
}

/* ---- the plugin's glue (as transport_lanes.c) ------------------------------------ */

static void *cb_lookup(void *arg, const uint8_t sid[WG_LANE_SID_LEN], unsigned lane, uint8_t psk[WG_LANE_PSK_LEN])
{
	(void)arg;
	if (memcmp(sid, fx.ls.sid, WG_LANE_SID_LEN) != 0 || lane >= fx.ls.n)
		return NULL;
	memcpy(psk, fx.ls.psk[lane], WG_LANE_PSK_LEN);
	return &fx.ls;
}

static const struct wg_lane_server_cb callbacks = {
	.lookup = cb_lookup, .on_up = wg_lane_set_cb_up, .on_record = wg_lane_set_cb_record,
	.on_closed = wg_lane_set_cb_closed,
};

static void setup(void)
{
	struct wg_lane_server_limits lim = {.max_handshakes = 64, .timeout_ms = 10000};

	memset(&fx, 0, sizeof(fx));
	fx.base = host_loop_init(&fx.host);
	fx.host.log = host_log;
	fx.host.lane_session = host_lane_session;
	fx.host.lane_up = host_lane_up;
	fx.host.lane_down = host_lane_down;
	fx.host.lane_input = host_lane_input;
	fx.srv = wg_lane_server_new(&fx.host, tdc_loopback_socket(), &callbacks, NULL, &lim);
	cr_assert_not_null(fx.srv);
	fx.ls.host = &fx.host;
	fx.ls.host_lane = (struct wg_lane *)&fx; /* opaque to the set */
	fx.ls.n = 2;
	fx.ls.mtu = 1400;
	fx.ls.cfg = (struct wg_lane_settings){.probe_ms = 50, .deadline_ms = 150, .idle_s = 60};
	for (unsigned i = 0; i < WG_LANE_SID_LEN; i++)
		fx.ls.sid[i] = (uint8_t)(0x40 + i);
	for (unsigned i = 0; i < WG_LANE_PSK_LEN; i++)
		fx.ls.psk[0][i] = (uint8_t)i, fx.ls.psk[1][i] = (uint8_t)(100 + i);
	wg_lane_set_init(&fx.ls);
}

static void teardown(void)
{
	wg_lane_set_close(&fx.ls);
	wg_lane_server_free(fx.srv);
	host_loop_free();
}

TestSuite(lane_set, .init = setup, .fini = teardown);

/* ---- a client lane: answers PROBEs unless muted, counts DATA ------------------- */

struct client {
	struct tdc t; /* test_dtls_client.c */
	bool muted;
	unsigned data;
	uint64_t rx_bytes;
};

static void client_open(struct client *c, unsigned lane)
{
	char identity[WG_LANE_IDENTITY_MAX];

	memset(c, 0, sizeof(*c));
	tdc_open(&c->t, "127.0.0.1", (uint16_t)wg_lane_server_port(fx.srv), true, "TLS13-AES128-GCM-SHA256");
	wg_lane_identity_format(fx.ls.sid, lane, identity);
	tdc_psk(&c->t, identity, fx.ls.psk[lane], WG_LANE_PSK_LEN);
	tdc_start(&c->t);
	wolfSSL_dtls_cid_use(c->t.ssl);
}

static void client_close(struct client *c)
{
	tdc_close(&c->t);
}

static void client_pump(struct client *c)
{
	uint8_t buf[2048];
	struct wg_lane_msg m;
	int n;

	if (!c->t.done) {
		tdc_step(&c->t);
		return;
	}
	while ((n = wolfSSL_read(c->t.ssl, buf, sizeof(buf))) > 0) {
		if (c->muted || wg_lane_msg_parse(buf, (size_t)n, 1400, &m) < 0)
			continue; /* a muted lane's path has died: nothing comes back */
		if (m.type == WG_LANE_MSG_PROBE) {
			uint8_t ack[WG_LANE_PROBE_LEN];
			wg_lane_probe_write(ack, WG_LANE_MSG_PROBE_ACK, m.seq, m.stamp, c->rx_bytes);
			wolfSSL_write(c->t.ssl, ack, sizeof(ack));
		} else if (m.type == WG_LANE_MSG_DATA) {
			c->data++;
			c->rx_bytes += m.len;
		}
	}
}

static struct client cl[2];

/* Runs the loop, the probe timer's work (every probe_ms) and the clients
 * until cond holds or ms pass. */
static bool run_until(bool (*cond)(void), int ms)
{
	uint64_t t0 = wg_lane_now_us(), next_tick = t0;

	for (;;) {
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
		if (wg_lane_now_us() >= next_tick) {
			wg_lane_set_tick(&fx.ls, wg_lane_now_us());
			next_tick = wg_lane_now_us() + wg_lane_check_ms(&fx.ls.cfg) * 1000;
		}
		client_pump(&cl[0]);
		client_pump(&cl[1]);
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
		if (cond())
			return true;
		if (wg_lane_now_us() - t0 >= (uint64_t)ms * 1000)
			return false;
		usleep(1000);
	}
}

static bool both_alive(void)
{
	return fx.ls.lane[0].alive && fx.ls.lane[1].alive && cl[0].t.done && cl[1].t.done;
}

static bool lane1_dead(void)
{
	return !fx.ls.lane[1].alive;
}

static bool none_alive(void)
{
	return !fx.ls.lane[0].alive && !fx.ls.lane[1].alive;
}

static bool rtt_known(void)
{
	return fx.ls.lane[0].rtt_us > 0 && fx.ls.lane[1].rtt_us > 0;
}

/* n TCP packets of distinct flows through the scheduler. */
static void send_flows(unsigned n)
{
	uint8_t pkt[WG_LANE_HEADROOM + 100];

	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = pkt + WG_LANE_HEADROOM;
		memset(p, 0, 100);
		p[0] = 0x45, p[3] = 100, p[9] = 6;
		p[12] = 10, p[15] = 2, p[16] = 192, p[19] = 1;
		p[20] = (uint8_t)(i >> 8), p[21] = (uint8_t)i, p[23] = 80;
		wg_lane_set_send(&fx.ls, p, 100);
	}
}

static unsigned seen;
static bool all_seen(void)
{
	return cl[0].data + cl[1].data >= seen;
}

Test(lane_set, a_silent_lane_leaves_the_rotation_and_rejoins_when_it_answers)
{
	client_open(&cl[0], 0);
	client_open(&cl[1], 1);
	cr_assert(run_until(both_alive, WAIT_MS), "both lanes up");
	cr_assert_eq(fx.host_ups, 1, "the host hears lane_up once");
	/* The handshake's round trip seeded each lane's deadline (lane_rto.h). */
	for (unsigned k = 0; k < 2; k++) {
		uint64_t hs = wg_lane_link_handshake_rtt_us(fx.ls.lane[k].link);
		cr_assert(hs > 0 && hs < WG_LANE_RTO_INITIAL_US, "lane %u: handshake round trip %lu us", k, (unsigned long)hs);
		cr_assert_gt(fx.ls.lane[k].rto.srtt_us, 0);
	}
	cr_assert(run_until(rtt_known, WAIT_MS), "PROBE-ACKs measure both lanes");
	cr_assert_eq(wg_sched_buckets_of(&fx.ls.sched, 0) + wg_sched_buckets_of(&fx.ls.sched, 1), WG_SCHED_BUCKETS);

	/* 256 flows over both lanes. */
	seen = 256;
	send_flows(256);
	cr_assert(run_until(all_seen, WAIT_MS));
	cr_assert_gt(cl[0].data, 0);
	cr_assert_gt(cl[1].data, 0);

	/* Lane 1's path dies: no more answers. */
	cl[1].muted = true;
	cr_assert(run_until(lane1_dead, WAIT_MS), "lane 1 should miss its deadline");
	cr_assert(fx.ls.lane[0].alive);
	cr_assert_eq(fx.ls.lane[1].probes_missed, 1);
	cr_assert_eq(fx.ls.lane[1].left_rotation, 1);
	cr_assert_eq(wg_sched_buckets_of(&fx.ls.sched, 1), 0, "its flows moved");
	cr_assert_eq(fx.host_downs, 0, "lane 0 still carries the session");
	unsigned before0 = cl[0].data, before1 = cl[1].data;
	seen = before0 + before1 + 256;
	send_flows(256);
	cr_assert(run_until(all_seen, WAIT_MS));
	cr_assert_eq(cl[0].data, before0 + 256, "every flow went over lane 0");
	cr_assert_eq(cl[1].data, before1);

	/* The path comes back: the next PROBE-ACK puts it back. */
	cl[1].muted = false;
	cr_assert(run_until(both_alive, WAIT_MS), "lane 1 should rejoin");
	cr_assert_gt(wg_sched_buckets_of(&fx.ls.sched, 1), 0);

	/* Both die: the host goes back to CSTP. */
	cl[0].muted = cl[1].muted = true;
	cr_assert(run_until(none_alive, WAIT_MS));
	cr_assert_eq(fx.host_downs, 1);
	cl[0].muted = cl[1].muted = false;
	cr_assert(run_until(both_alive, WAIT_MS));
	cr_assert_eq(fx.host_ups, 2);
	client_close(&cl[0]);
	client_close(&cl[1]);
}

static bool got_input(void)
{
	return fx.inputs > 0;
}

Test(lane_set, data_from_the_client_reaches_the_host_and_the_json_tells)
{
	uint8_t rec[1 + 60] = {WG_LANE_MSG_DATA, 0x45};
	char json[4096];
	json_t *j, *lanes;

	client_open(&cl[0], 0);
	client_open(&cl[1], 1);
	cr_assert(run_until(both_alive, WAIT_MS));
	cr_assert_eq(wolfSSL_write(cl[1].t.ssl, rec, sizeof(rec)), (int)sizeof(rec));
	cr_assert(run_until(got_input, WAIT_MS));
	cr_assert_eq(fx.input_len, 60);
	cr_assert_eq(fx.ls.lane[1].rx_bytes, 60);
	cr_assert_eq(fx.ls.lane[1].rx_packets, 1);
	cr_assert_gt(wg_lane_set_json(&fx.ls, json, sizeof(json)), 0);
	j = json_loads(json, 0, NULL);
	cr_assert_not_null(j, "not JSON: %s", json);
	cr_assert_str_eq(json_string_value(json_object_get(j, "session")), "404142434445464748494a4b4c4d4e4f");
	lanes = json_object_get(j, "lanes");
	cr_assert_eq(json_array_size(lanes), 2);
	cr_assert(json_is_true(json_object_get(json_array_get(lanes, 1), "alive")));
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(lanes, 1), "rx_bytes")), 60);
	cr_assert_eq(wg_lane_set_json(&fx.ls, json, 100), 0, "too small: nothing rather than a cut text");
	json_decref(j);
	client_close(&cl[0]);
	client_close(&cl[1]);
}

Test(lane_set, a_malformed_or_unknown_message_is_counted_and_dropped)
{
	uint8_t shortprobe[5] = {WG_LANE_MSG_PROBE}, unknown[3] = {0x7e, 1, 2};

	client_open(&cl[0], 0);
	client_open(&cl[1], 1);
	cr_assert(run_until(both_alive, WAIT_MS));
	wolfSSL_write(cl[0].t.ssl, shortprobe, sizeof(shortprobe));
	wolfSSL_write(cl[0].t.ssl, unknown, sizeof(unknown));
	for (int i = 0; i < 200 && fx.ls.lane[0].dropped < 2; i++)
		run_until(got_input, 5);
	cr_assert_eq(fx.ls.lane[0].dropped, 2);
	cr_assert(fx.ls.lane[0].alive, "bad messages do not end a lane");
	client_close(&cl[0]);
	client_close(&cl[1]);
}

/* A starved server: its tick comes seconds late, when PROBE-ACKs may wait
 * unread in the socket. That tick judges no deadline; the next timely one
 * does (and a lane that really is silent leaves then). */
Test(lane_set, a_late_tick_judges_no_deadline)
{
	uint64_t t;

	client_open(&cl[0], 0);
	client_open(&cl[1], 1);
	cr_assert(run_until(both_alive, WAIT_MS), "both lanes up");
	cl[1].muted = true;
	t = wg_lane_now_us();
	wg_lane_set_tick(&fx.ls, t);                    /* a PROBE goes out unanswered */
	cr_assert_neq(fx.ls.lane[1].probes.unanswered_since_us, 0);
	wg_lane_set_tick(&fx.ls, t + 5000000);          /* 5 s late */
	cr_assert(fx.ls.lane[1].alive, "a late tick took a lane out");
	cr_assert_eq(fx.ls.lane[1].probes_missed, 0);
	wg_lane_set_tick(&fx.ls, t + 5000000 + 10000);  /* on time again */
	cr_assert_not(fx.ls.lane[1].alive, "the silent lane stays in");
	cr_assert_eq(fx.ls.lane[1].probes_missed, 1);
	client_close(&cl[0]);
	client_close(&cl[1]);
}
