/* The lanes' DTLS 1.3 server (plugins/transport-lanes/lane_link.c) against
 * real wolfSSL DTLS 1.3 clients over loopback: a lane comes up only with
 * the key of the lane its identity names, answers inside the lane reach
 * the client, a connection ID carries the lane to a new address, and
 * psk_ke without (EC)DHE is refused. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "host_loop_fixture.h"
#include "test_dtls_client.h"
#include "lane_datagram.h"
#include "lane_link.h"
#include "lane_msg.h"

#define WAIT_MS 30000 /* what must happen: generous, the machine may be busy */
#define QUIET_MS 1500 /* what must not happen: watched this long */

/* A lane-session the server knows: its id and each lane's key. */
struct owner {
	uint8_t sid[WG_LANE_SID_LEN];
	uint8_t psk[2][WG_LANE_PSK_LEN];
	struct wg_lane_link *up[2];
	unsigned ups, records;
	uint8_t last[64];
	size_t last_len;
};

static struct {
	struct event_base *base;
	struct wg_host host;
	struct wg_lane_server *srv;
	struct owner a, b;
	unsigned closed;
} fx;

/* ---- the server's callbacks ------------------------------------------------- */

static void *cb_lookup(void *arg, const uint8_t sid[WG_LANE_SID_LEN], unsigned lane, uint8_t psk[WG_LANE_PSK_LEN])
{
	struct owner *o = memcmp(sid, fx.a.sid, WG_LANE_SID_LEN) == 0   ? &fx.a
			  : memcmp(sid, fx.b.sid, WG_LANE_SID_LEN) == 0 ? &fx.b
									: NULL;

	(void)arg;
	if (!o || lane >= 2)
		return NULL;
	memcpy(psk, o->psk[lane], WG_LANE_PSK_LEN);
	return o;
}

static void cb_up(void *arg, void *owner, unsigned lane, struct wg_lane_link *link)
{
	struct owner *o = owner;

	(void)arg;
	o->up[lane] = link;
	o->ups++;
}

/* A PROBE is answered as the plugin does: PROBE-ACK on the same link. */
static void cb_record(void *arg, void *owner, unsigned lane, struct wg_lane_link *link, const uint8_t *rec,
		      size_t len)
{
	struct owner *o = owner;
	struct wg_lane_msg m;

	(void)arg;
	(void)lane;
	o->records++;
	o->last_len = len < sizeof(o->last) ? len : sizeof(o->last);
	memcpy(o->last, rec, o->last_len);
	if (wg_lane_msg_parse(rec, len, 1400, &m) == 0 && m.type == WG_LANE_MSG_PROBE) {
		uint8_t ack[WG_LANE_PROBE_LEN];
		wg_lane_probe_write(ack, WG_LANE_MSG_PROBE_ACK, m.seq, m.stamp, 1234);
		cr_assert_eq(wg_lane_link_send(link, ack, sizeof(ack)), 0);
	}
}

static void cb_closed(void *arg, void *owner, unsigned lane, struct wg_lane_link *link, const char *why)
{
	struct owner *o = owner;

	(void)arg;
	(void)why;
	if (o->up[lane] == link)
		o->up[lane] = NULL;
	fx.closed++;
}

static const struct wg_lane_server_cb callbacks = {
	.lookup = cb_lookup, .on_up = cb_up, .on_record = cb_record, .on_closed = cb_closed,
};

static void setup(void)
{
	struct wg_lane_server_limits lim = {.max_handshakes = 64, .timeout_ms = 10000};

	memset(&fx, 0, sizeof(fx));
	fx.base = host_loop_init(&fx.host);
	for (unsigned i = 0; i < WG_LANE_SID_LEN; i++) {
		fx.a.sid[i] = (uint8_t)(0xa0 + i);
		fx.b.sid[i] = (uint8_t)(0xb0 + i);
	}
	for (unsigned i = 0; i < WG_LANE_PSK_LEN; i++) {
		fx.a.psk[0][i] = (uint8_t)i, fx.a.psk[1][i] = (uint8_t)(i + 64);
		fx.b.psk[0][i] = (uint8_t)(i + 128), fx.b.psk[1][i] = (uint8_t)(i + 192);
	}
	fx.srv = wg_lane_server_new(&fx.host, tdc_loopback_socket(), &callbacks, NULL, &lim);
	cr_assert_not_null(fx.srv);
	cr_assert_gt(wg_lane_server_port(fx.srv), 0);
}

static void teardown(void)
{
	wg_lane_server_free(fx.srv);
	host_loop_free();
}

TestSuite(lane_link, .init = setup, .fini = teardown);

/* ---- a DTLS 1.3 client (test_dtls_client.c) --------------------------------------- */

/* Another UDP socket to the server: a new source port, as after a NAT rebinding. */
static int udp_to_server(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				.sin_port = htons((uint16_t)wg_lane_server_port(fx.srv))};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* A client naming lane `lane` of sid, holding key psk. */
static struct tdc *client_new(const uint8_t *sid, unsigned lane, const uint8_t *psk, bool dhe)
{
	struct tdc *c = calloc(1, sizeof(*c));
	char identity[WG_LANE_IDENTITY_MAX];

	cr_assert_not_null(c);
	tdc_open(c, "127.0.0.1", (uint16_t)wg_lane_server_port(fx.srv), true, "TLS13-AES128-GCM-SHA256");
	wg_lane_identity_format(sid, lane, identity);
	tdc_psk(c, identity, psk, WG_LANE_PSK_LEN);
	tdc_start(c);
	cr_assert_eq(wolfSSL_dtls_cid_use(c->ssl), WOLFSSL_SUCCESS);
	if (!dhe)
		cr_assert_eq(wolfSSL_no_dhe_psk(c->ssl), 0);
	return c;
}

static void client_free(struct tdc *c)
{
	tdc_close(c);
	free(c);
}

/* Runs the server's loop and steps c until cond holds or ms pass. */
static bool run_until(struct tdc *c, bool (*cond)(void *), int ms)
{
	return tdc_run_until(fx.base, &c, 1, cond, c, ms);
}

static bool both_done(void *arg)
{
	struct tdc *c = arg;

	return c->done && fx.a.ups > 0;
}

static bool ended(void *arg)
{
	struct tdc *c = arg;

	return c->failed || c->done;
}

/* Reads one record on the client, running the server meanwhile. */
static int client_read(struct tdc *c, uint8_t *buf, size_t size, int ms)
{
	return tdc_read(fx.base, c, buf, size, ms);
}

static void probe(struct tdc *c, uint32_t seq)
{
	uint8_t p[WG_LANE_PROBE_LEN], ack[64];
	struct wg_lane_msg m;
	int n;

	wg_lane_probe_write(p, WG_LANE_MSG_PROBE, seq, 77, 0);
	cr_assert_eq(wolfSSL_write(c->ssl, p, sizeof(p)), (int)sizeof(p));
	n = client_read(c, ack, sizeof(ack), WAIT_MS);
	cr_assert_gt(n, 0, "no PROBE-ACK came back");
	cr_assert_eq(wg_lane_msg_parse(ack, (size_t)n, 1400, &m), 0);
	cr_assert_eq(m.type, WG_LANE_MSG_PROBE_ACK);
	cr_assert_eq(m.seq, seq);
	cr_assert_eq(m.rx_bytes, 1234);
}

Test(lane_link, a_lane_with_its_key_comes_up_and_carries_messages_both_ways)
{
	struct tdc *c = client_new(fx.a.sid, 1, fx.a.psk[1], true);
	const uint8_t *id;
	size_t id_len;
	struct wg_lane_server_stats st;

	cr_assert(run_until(c, both_done, WAIT_MS), "handshake: client done %d failed %d, server ups %u", c->done,
		  c->failed, fx.a.ups);
	cr_assert_not_null(fx.a.up[1]);
	cr_assert_null(fx.a.up[0]);
	cr_assert_str_eq(wolfSSL_get_version(c->ssl), "DTLSv1.3");
	/* The server found the lane by the identity in the real ClientHello. */
	cr_assert_eq(wg_lane_datagram_psk_identity(c->first, c->first_len, &id, &id_len), 0);
	cr_assert_eq(id_len, strlen(c->identity));
	cr_assert_arr_eq(id, c->identity, id_len);
	probe(c, 5);
	probe(c, 6);
	wg_lane_server_stats(fx.srv, &st);
	cr_assert_eq(st.links_up, 1);
	cr_assert_eq(st.handshakes_done, 1);
	cr_assert_eq(st.handshakes_open, 0);
	client_free(c);
}

Test(lane_link, another_sessions_key_is_refused)
{
	/* Session a's identity, session b's key: the binder check fails. */
	struct tdc *c = client_new(fx.a.sid, 0, fx.b.psk[0], true);
	struct wg_lane_server_stats st;

	run_until(c, ended, QUIET_MS * 4);
	cr_assert_not(c->done, "a lane came up with another session's key");
	cr_assert_eq(fx.a.ups + fx.b.ups, 0);
	wg_lane_server_stats(fx.srv, &st);
	cr_assert_geq(st.handshakes_refused, 1);
	cr_assert_eq(st.links_up, 0);
	client_free(c);
}

Test(lane_link, another_lanes_key_is_refused)
{
	/* Lane 0's name with lane 1's key: the lane number is in the key. */
	struct tdc *c = client_new(fx.a.sid, 0, fx.a.psk[1], true);

	run_until(c, ended, QUIET_MS * 4);
	cr_assert_not(c->done);
	cr_assert_eq(fx.a.ups, 0);
	client_free(c);
}

Test(lane_link, an_unknown_lane_session_gets_no_answer_and_no_state)
{
	uint8_t nobody[WG_LANE_SID_LEN] = {1, 2, 3};
	struct tdc *c = client_new(nobody, 0, fx.a.psk[0], true);
	struct wg_lane_server_stats st;

	run_until(c, ended, QUIET_MS);
	cr_assert_eq(c->datagrams_in, 0, "the server answered a stranger");
	wg_lane_server_stats(fx.srv, &st);
	cr_assert_eq(st.handshakes_open, 0);
	client_free(c);
}

Test(lane_link, psk_without_dhe_is_refused)
{
	struct tdc *c = client_new(fx.a.sid, 0, fx.a.psk[0], false);

	run_until(c, ended, QUIET_MS * 4);
	cr_assert_not(c->done, "a lane came up without (EC)DHE");
	cr_assert_eq(fx.a.ups, 0);
	client_free(c);
}

Test(lane_link, a_connection_id_carries_the_lane_to_a_new_address)
{
	struct tdc *c = client_new(fx.a.sid, 0, fx.a.psk[0], true);
	struct wg_lane_server_stats st;
	int old;

	cr_assert(run_until(c, both_done, WAIT_MS));
	probe(c, 1);
	/* The client's NAT rebinds: same association, another source port. */
	old = c->fd;
	c->fd = udp_to_server();
	close(old);
	probe(c, 2); /* the answer reaches the new address */
	wg_lane_server_stats(fx.srv, &st);
	cr_assert_eq(st.moved, 1);
	cr_assert_eq(fx.a.ups, 1, "no new handshake was needed");
	cr_assert_eq(fx.closed, 0);
	client_free(c);
}

Test(lane_link, a_forged_record_from_elsewhere_moves_nothing)
{
	struct tdc *c = client_new(fx.a.sid, 0, fx.a.psk[0], true);
	struct wg_lane_server_stats st;
	uint8_t forged[64];
	int spoof = udp_to_server();

	cr_assert(run_until(c, both_done, WAIT_MS));
	probe(c, 1);
	/* A record with the lane's CID (seen on the wire) but garbage inside. */
	cr_assert_eq(wolfSSL_dtls_cid_get_tx(c->ssl, forged + 1, WG_LANE_CID_LEN), WOLFSSL_SUCCESS);
	forged[0] = 0x3c;
	memset(forged + 1 + WG_LANE_CID_LEN, 0x55, sizeof(forged) - 1 - WG_LANE_CID_LEN);
	cr_assert_eq(send(spoof, forged, sizeof(forged), 0), (ssize_t)sizeof(forged));
	for (int i = 0; i < 50; i++) {
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
		usleep(2000);
	}
	wg_lane_server_stats(fx.srv, &st);
	cr_assert_eq(st.moved, 0);
	probe(c, 2); /* still answered at the real address */
	close(spoof);
	client_free(c);
}

Test(lane_link, closing_a_link_from_the_owner_side_needs_no_callback)
{
	struct tdc *c = client_new(fx.a.sid, 0, fx.a.psk[0], true);
	struct wg_lane_server_stats st;

	cr_assert(run_until(c, both_done, WAIT_MS));
	wg_lane_link_close(fx.a.up[0]);
	wg_lane_server_stats(fx.srv, &st);
	cr_assert_eq(st.links_up, 0);
	cr_assert_eq(fx.closed, 0);
	client_free(c);
}


static bool b_up(void *arg)
{
	struct tdc *c = arg;

	return c->done && fx.b.ups > 0;
}

Test(lane_link, one_session_cannot_hold_every_handshake_slot)
{
	struct tdc *cs[WG_LANE_HALF_OPEN_PER_SESSION + 4];
	const unsigned n = sizeof(cs) / sizeof(cs[0]);
	struct wg_lane_server_stats st;

	/* Session a's client starts more handshakes than its share and never
	 * finishes them. */
	for (unsigned i = 0; i < n; i++) {
		cs[i] = client_new(fx.a.sid, 0, fx.a.psk[0], true);
		tdc_step(cs[i]); /* its ClientHello */
	}
	for (int i = 0; i < 20; i++) {
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
		usleep(2000);
	}
	wg_lane_server_stats(fx.srv, &st);
	cr_assert_eq(st.handshakes_open, WG_LANE_HALF_OPEN_PER_SESSION, "half-open: %llu",
		     (unsigned long long)st.handshakes_open);
	cr_assert_geq(st.handshakes_refused, n - WG_LANE_HALF_OPEN_PER_SESSION);
	/* Session b still gets its lane. */
	struct tdc *b = client_new(fx.b.sid, 1, fx.b.psk[1], true);
	cr_assert(run_until(b, b_up, WAIT_MS));
	client_free(b);
	for (unsigned i = 0; i < n; i++)
		client_free(cs[i]);
}

static bool a_two_up(void *arg)
{
	struct tdc *c = arg;

	return c->done && fx.a.ups >= 2;
}

Test(lane_link, a_second_lane_from_the_same_address_leaves_the_first_alone)
{
	struct tdc *c0 = client_new(fx.a.sid, 0, fx.a.psk[0], true);
	struct tdc *c1 = client_new(fx.a.sid, 1, fx.a.psk[1], true);
	struct wg_lane_server_stats st;

	cr_assert(run_until(c0, both_done, WAIT_MS));
	/* Lane 1 from lane 0's very socket (one source address and port). */
	close(c1->fd);
	c1->fd = dup(c0->fd);
	cr_assert(run_until(c1, a_two_up, WAIT_MS));
	cr_assert_not_null(fx.a.up[0]);
	cr_assert_not_null(fx.a.up[1]);
	cr_assert_eq(fx.closed, 0, "lane 0 was dropped for lane 1");
	probe(c0, 3);
	probe(c1, 4);
	wg_lane_server_stats(fx.srv, &st);
	cr_assert_eq(st.links_up, 2);
	client_free(c1);
	client_free(c0);
}
