/* The DTLS channel against real wolfSSL DTLS 1.2 PSK clients on loopback.
 *
 * Each client puts its App-ID in the ClientHello's session id as openconnect
 * does (gnutls_session_set_id). wolfSSL clients send a session id only when
 * resuming, so the test first gets a real client session from a throwaway
 * in-memory handshake, overwrites its id with the App-ID and "resumes" it:
 * our server has no session cache, so it runs a full PSK handshake, and the
 * id reaches wg_dtls_hello_session_id and the lookup callback for real. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "dtls_app_id.h"
#include "dtls_server.h"
#include "host_loop_fixture.h"
#include "udp_sockopt.h"
#include "test_dtls_client.h"
#include "net/listen_socket.h"
#include "util/log.h"

/* ---- the fake core ----------------------------------------------------- */

#define MAX_SESS 4
#define MAX_EVENTS 32

struct fake_session {
	uint8_t app_id[WG_DTLS_APP_ID_LEN];
	uint8_t psk[WG_DTLS_PSK_LEN];
	bool alive;
	struct wg_dtls_link *link;
	int ups, closes, packets;
	uint8_t last_type;
	uint8_t last[2048];
	size_t last_len;
	bool close_on_packet; /* calls wg_dtls_link_close from on_packet */
};

struct fixture {
	struct event_base *base;
	struct wg_host host; /* timers and the socket watch on base, as the server's loop */
	struct wg_dtls_server *srv;
	struct fake_session sess[MAX_SESS];
	int lookups;
	char events[MAX_EVENTS]; /* 'u' up, 'c' closed, in order */
	int nevents;
	struct wg_dtls_link *closed_link;
};

static struct fixture fx;

static void *cb_lookup(void *arg, const uint8_t *app_id, size_t len, uint8_t psk[WG_DTLS_PSK_LEN])
{
	struct fixture *f = arg;

	f->lookups++;
	for (int i = 0; i < MAX_SESS; i++) {
		struct fake_session *s = &f->sess[i];
		if (s->alive && len == sizeof(s->app_id) && memcmp(app_id, s->app_id, len) == 0) {
			memcpy(psk, s->psk, WG_DTLS_PSK_LEN);
			return s;
		}
	}
	return NULL;
}

static void note(struct fixture *f, char c)
{
	if (f->nevents < MAX_EVENTS - 1)
		f->events[f->nevents++] = c;
}

static void cb_up(void *arg, void *session, struct wg_dtls_link *link)
{
	struct fake_session *s = session;

	note(arg, 'u');
	s->ups++;
	s->link = link;
}

static void cb_packet(void *arg, void *session, uint8_t type, const uint8_t *payload, size_t len)
{
	struct fake_session *s = session;

	(void)arg;
	s->packets++;
	s->last_type = type;
	s->last_len = len < sizeof(s->last) ? len : sizeof(s->last);
	memcpy(s->last, payload, s->last_len);
	if (s->close_on_packet && s->link) {
		wg_dtls_link_close(s->link);
		s->link = NULL;
	}
}

static void cb_closed(void *arg, void *session, struct wg_dtls_link *link)
{
	struct fake_session *s = session;
	struct fixture *f = arg;

	note(f, 'c');
	s->closes++;
	f->closed_link = link;
	if (s->link == link)
		s->link = NULL;
}

static const struct wg_dtls_callbacks callbacks = {
	.lookup = cb_lookup, .on_up = cb_up, .on_packet = cb_packet, .on_closed = cb_closed,
};

static struct fake_session *add_session(int i, uint8_t seed)
{
	struct fake_session *s = &fx.sess[i];

	for (int k = 0; k < 32; k++) {
		s->app_id[k] = (uint8_t)(seed * 7 + k);
		s->psk[k] = (uint8_t)(seed * 13 + 3 * k + 1);
	}
	s->alive = true;
	return s;
}

static void start_server(const char *ip)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;

	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &a->sin_addr);
		len = sizeof(*a);
	}
	int fd = wg_listen_socket((struct sockaddr *)&ss, len, SOCK_DGRAM, false);
	cr_assert_geq(fd, 0);
	fx.srv = wg_dtls_server_new_on(&fx.host, fd, &callbacks, &fx);
	cr_assert_not_null(fx.srv);
	cr_assert_gt(wg_dtls_server_port(fx.srv), 0);
}

static void setup(void)
{
	memset(&fx, 0, sizeof(fx));
	wg_log_set_level(WG_LOG_WARN);
	fx.base = host_loop_init(&fx.host);
	wolfSSL_Init();
}

static void teardown(void)
{
	wg_dtls_server_free(fx.srv);
	host_loop_free();
	wolfSSL_Cleanup();
}

TestSuite(dtls, .init = setup, .fini = teardown, .timeout = 60);

/* ---- test clients on UDP (test_dtls_client.c) ------------------------------ */

/* A PSK-NEGOTIATE client as openconnect: identity "psk", the App-ID as the
 * ClientHello's session id (tools/proto-client/dtls_app_id.c). */
static struct tdc *client_new(const char *ip, const uint8_t *app_id, const uint8_t *psk)
{
	static const char suites[] = "PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256";
	struct tdc *c = calloc(1, sizeof(*c));
	WOLFSSL_SESSION *sess;
	char err[128];

	cr_assert_not_null(c);
	tdc_open(c, ip, (uint16_t)wg_dtls_server_port(fx.srv), false, suites);
	tdc_psk(c, "psk", psk, WG_DTLS_PSK_LEN);
	tdc_start(c);
	sess = wg_dtls_session_with_app_id(app_id, WG_DTLS_APP_ID_LEN, suites, err, sizeof(err));
	cr_assert_not_null(sess, "%s", err);
	cr_assert_eq(wolfSSL_set_session(c->ssl, sess), WOLFSSL_SUCCESS);
	wolfSSL_SESSION_free(sess);
	return c;
}

static void client_free(struct tdc *c)
{
	if (!c)
		return;
	tdc_close(c);
	free(c);
}

/* The deadline for what must happen (a handshake, a packet, a close): long,
 * because the machine may be busy (a sanitizer build, other work); a test
 * that passes returns as soon as the condition holds. Waits that check
 * that something does NOT happen keep their short windows. */
#define WAIT_MS 30000

/* Runs the server loop and steps the clients until cond holds or ms pass. */
static bool run_until(bool (*cond)(void *), void *arg, struct tdc **cs, int n, int ms)
{
	return tdc_run_until(fx.base, cs, n, cond, arg, ms);
}

static bool client_done(void *arg)
{
	return ((struct tdc *)arg)->done;
}

static bool both_done(void *arg)
{
	struct tdc **cs = arg;
	return cs[0]->done && cs[1]->done;
}

static bool handshake_pending(void *arg)
{
	struct wg_dtls_stats st;

	(void)arg;
	wg_dtls_server_stats(fx.srv, &st);
	return st.handshakes > 0;
}

static bool got_packets(void *arg)
{
	struct fake_session *s = arg;
	return s->packets > 0;
}

static bool got_closed(void *arg)
{
	struct fake_session *s = arg;
	return s->closes > 0;
}

static bool session_up(void *arg)
{
	return ((struct fake_session *)arg)->ups > 0;
}

static bool both_up(void *arg)
{
	struct fake_session **ss = arg;
	return ss[0]->ups > 0 && ss[1]->ups > 0;
}

static bool no_handshake(void *arg)
{
	struct wg_dtls_stats st;

	(void)arg;
	wg_dtls_server_stats(fx.srv, &st);
	return st.handshakes == 0;
}

static struct tdc *connect_client(struct fake_session *s, const char *ip)
{
	struct tdc *c = client_new(ip, s->app_id, s->psk);

	cr_assert(run_until(client_done, c, &c, 1, WAIT_MS), "handshake did not complete");
	/* The server's side may still be finishing: wait for its link. */
	cr_assert(run_until(session_up, s, NULL, 0, WAIT_MS), "the server did not bring the link up");
	return c;
}

static void client_write(struct tdc *c, uint8_t type, const void *payload, size_t len)
{
	uint8_t buf[2048];

	buf[0] = type;
	memcpy(buf + 1, payload, len);
	cr_assert_eq(wolfSSL_write(c->ssl, buf, (int)len + 1), (int)len + 1);
}

/* One record from the server, or -1 after ms; returns the plaintext size. */
static int client_read(struct tdc *c, uint8_t *buf, size_t size, int ms)
{
	return tdc_read(fx.base, c, buf, size, ms);
}

static void raw_send(struct tdc *c, const void *buf, size_t len)
{
	cr_assert_geq(send(c->fd, buf, len, 0), 0);
}

/* ---- tests --------------------------------------------------------------- */

Test(dtls, handshake_data_both_ways)
{
	struct fake_session *s = add_session(0, 1);
	struct wg_dtls_stats st;
	uint8_t big[1300], buf[2048];
	char peer[64];
	struct tdc *c;

	start_server("127.0.0.1");
	c = connect_client(s, "127.0.0.1");
	cr_assert_eq(s->ups, 1);
	cr_assert_not_null(s->link);
	cr_assert_geq(fx.lookups, 2, "lookup at the hello and again at the end");
	cr_assert_str_eq(wolfSSL_get_cipher_name(c->ssl), "PSK-AES256-GCM-SHA384");
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", c->port);
	cr_assert_str_eq(wg_dtls_link_peer(s->link), peer);
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.links_up, 1);
	cr_assert_eq(st.handshakes, 0);

	/* client -> server */
	client_write(c, 0x00, "\x45\x00hello", 7);
	cr_assert(run_until(got_packets, s, NULL, 0, WAIT_MS));
	cr_assert_eq(s->last_type, 0x00);
	cr_assert_eq(s->last_len, 7);
	cr_assert_eq(memcmp(s->last, "\x45\x00hello", 7), 0);

	/* server -> client, a full-size packet */
	cr_assert_geq(wg_dtls_link_max_payload(s->link), sizeof(big));
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	cr_assert_eq(wg_dtls_send(s->link, 0x00, big, sizeof(big)), 0);
	cr_assert_eq(client_read(c, buf, sizeof(buf), WAIT_MS), (int)sizeof(big) + 1);
	cr_assert_eq(buf[0], 0x00);
	cr_assert_eq(memcmp(buf + 1, big, sizeof(big)), 0);

	/* too large for one record: refused, the caller uses CSTP */
	static uint8_t huge[20000];
	cr_assert_eq(wg_dtls_send(s->link, 0x00, huge, wg_dtls_link_max_payload(s->link) + 1), -1);
	cr_assert_eq(wg_dtls_send(s->link, 0x00, huge, sizeof(huge)), -1);
	client_free(c);
}

Test(dtls, dpd_keepalive_disconnect)
{
	struct fake_session *s = add_session(0, 2);
	uint8_t buf[2048];
	struct tdc *c;

	start_server("127.0.0.1");
	c = connect_client(s, "127.0.0.1");
	client_write(c, 0x03, "dpd-42", 6);
	cr_assert_eq(client_read(c, buf, sizeof(buf), WAIT_MS), 7);
	cr_assert_eq(buf[0], 0x04, "DPD-RESP");
	cr_assert_eq(memcmp(buf + 1, "dpd-42", 6), 0);

	client_write(c, 0x07, "", 0); /* keepalive: absorbed */
	client_write(c, 0x04, "x", 1); /* stray DPD-RESP: absorbed */
	client_write(c, 0x05, "\xb0", 1);
	cr_assert(run_until(got_packets, s, NULL, 0, WAIT_MS));
	cr_assert_eq(s->packets, 1);
	cr_assert_eq(s->last_type, 0x05);
	cr_assert_eq(s->last_len, 1);
	client_free(c);
}

Test(dtls, wrong_psk_never_comes_up)
{
	struct fake_session *s = add_session(0, 3);
	uint8_t bad[WG_DTLS_PSK_LEN];
	struct wg_dtls_stats st;
	struct tdc *c, *good;

	start_server("127.0.0.1");
	wg_dtls_server_set_limits(fx.srv, 0, 400);
	memcpy(bad, s->psk, sizeof(bad));
	bad[0] ^= 1;
	c = client_new("127.0.0.1", s->app_id, bad);
	cr_assert_not(run_until(client_done, c, &c, 1, 1000));
	cr_assert_eq(s->ups, 0);
	cr_assert_eq(s->link, NULL);
	/* whatever state the failed handshake held goes */
	cr_assert(run_until(no_handshake, NULL, NULL, 0, WAIT_MS), "the failed handshake's state stayed");
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.handshakes, 0);
	cr_assert_eq(st.links_up, 0);
	client_free(c);

	good = connect_client(s, "127.0.0.1");
	cr_assert_eq(s->ups, 1);
	client_free(good);
}

Test(dtls, unknown_app_id_gets_no_answer)
{
	struct fake_session *s = add_session(0, 4);
	uint8_t other[WG_DTLS_APP_ID_LEN];
	struct wg_dtls_stats st;
	struct tdc *c;

	start_server("127.0.0.1");
	memset(other, 0x77, sizeof(other));
	c = client_new("127.0.0.1", other, s->psk);
	cr_assert_not(run_until(client_done, c, &c, 1, 500));
	cr_assert_geq(fx.lookups, 1, "the hello reached the lookup");
	cr_assert_eq(c->datagrams_in, 0, "not even a HelloVerifyRequest");
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.handshakes, 0);
	cr_assert_eq(s->ups, 0);
	client_free(c);
}

Test(dtls, garbage_is_dropped_and_links_survive)
{
	struct fake_session *s = add_session(0, 5);
	uint8_t junk[1600], buf[2048];
	struct tdc *c, *noise;
	unsigned seed = 12345;

	start_server("127.0.0.1");
	c = connect_client(s, "127.0.0.1");
	noise = client_new("127.0.0.1", s->app_id, s->psk); /* its socket only */
	for (int i = 0; i < 400; i++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(junk));
		for (size_t k = 0; k < len; k++)
			junk[k] = (uint8_t)rand_r(&seed);
		if (i % 4 == 0) /* looks like a handshake record at first sight */
			junk[0] = 22, junk[1] = 0xfe, junk[2] = 0xfd;
		if (i % 8 == 0 && len > 13) /* and epoch 0 */
			junk[3] = junk[4] = 0;
		raw_send(noise, junk, len);
		raw_send(c, junk, len); /* from the up peer's own address too */
		if (i % 32 == 0)
			event_base_loop(fx.base, EVLOOP_NONBLOCK);
	}
	raw_send(noise, "", 0);
	run_until(NULL, NULL, NULL, 0, 100);
	cr_assert_eq(s->closes, 0, "spoofable junk must not end a link");
	cr_assert_not_null(s->link);
	cr_assert_eq(s->packets, 0);

	client_write(c, 0x00, "still", 5);
	cr_assert(run_until(got_packets, s, NULL, 0, WAIT_MS));
	cr_assert_eq(wg_dtls_send(s->link, 0x00, (const uint8_t *)"here", 4), 0);
	cr_assert_eq(client_read(c, buf, sizeof(buf), WAIT_MS), 5);
	client_free(noise);
	client_free(c);
}

Test(dtls, two_clients_at_once)
{
	struct fake_session *a = add_session(0, 6), *b = add_session(1, 7);
	struct tdc *cs[2];
	uint8_t buf[2048];
	struct wg_dtls_stats st;

	start_server("127.0.0.1");
	cs[0] = client_new("127.0.0.1", a->app_id, a->psk);
	cs[1] = client_new("127.0.0.1", b->app_id, b->psk);
	cr_assert(run_until(both_done, cs, cs, 2, WAIT_MS));
	struct fake_session *both[2] = {a, b};
	cr_assert(run_until(both_up, both, NULL, 0, WAIT_MS));
	cr_assert_eq(a->ups, 1);
	cr_assert_eq(b->ups, 1);
	cr_assert_neq(a->link, b->link);
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.links_up, 2);

	client_write(cs[1], 0x00, "from-b", 6);
	client_write(cs[0], 0x00, "from-a", 6);
	cr_assert(run_until(got_packets, a, NULL, 0, WAIT_MS));
	cr_assert(run_until(got_packets, b, NULL, 0, WAIT_MS));
	cr_assert_eq(memcmp(a->last, "from-a", 6), 0);
	cr_assert_eq(memcmp(b->last, "from-b", 6), 0);
	cr_assert_eq(wg_dtls_send(a->link, 0x00, (const uint8_t *)"to-a", 4), 0);
	cr_assert_eq(wg_dtls_send(b->link, 0x00, (const uint8_t *)"to-b", 4), 0);
	cr_assert_eq(client_read(cs[0], buf, sizeof(buf), WAIT_MS), 5);
	cr_assert_eq(memcmp(buf + 1, "to-a", 4), 0);
	cr_assert_eq(client_read(cs[1], buf, sizeof(buf), WAIT_MS), 5);
	cr_assert_eq(memcmp(buf + 1, "to-b", 4), 0);
	client_free(cs[0]);
	client_free(cs[1]);
}

Test(dtls, roaming_replaces_the_old_link)
{
	struct fake_session *s = add_session(0, 8);
	struct tdc *c1, *c2;
	struct wg_dtls_link *old;
	struct wg_dtls_stats st;

	start_server("127.0.0.1");
	c1 = connect_client(s, "127.0.0.1");
	old = s->link;
	c2 = connect_client(s, "127.0.0.1"); /* new source port */
	cr_assert_eq(s->ups, 2);
	cr_assert_eq(s->closes, 1);
	cr_assert_eq(fx.closed_link, old);
	cr_assert_str_eq(fx.events, "ucu", "closed before the new link is up");
	cr_assert_neq(s->link, old);
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.links_up, 1);

	client_write(c1, 0x00, "old", 3); /* the old address has no link now */
	client_write(c2, 0x00, "new", 3);
	cr_assert(run_until(got_packets, s, NULL, 0, WAIT_MS));
	run_until(NULL, NULL, NULL, 0, 50);
	cr_assert_eq(s->packets, 1);
	cr_assert_eq(memcmp(s->last, "new", 3), 0);
	client_free(c1);
	client_free(c2);
}

Test(dtls, close_notify_from_peer)
{
	struct fake_session *s = add_session(0, 9);
	struct wg_dtls_stats st;
	struct tdc *c;

	start_server("127.0.0.1");
	c = connect_client(s, "127.0.0.1");
	wolfSSL_shutdown(c->ssl);
	cr_assert(run_until(got_closed, s, NULL, 0, WAIT_MS));
	cr_assert_eq(s->link, NULL);
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.links_up, 0);
	client_free(c);
}

Test(dtls, closed_by_the_session_even_from_a_callback)
{
	struct fake_session *s = add_session(0, 10);
	uint8_t buf[64];
	struct wg_dtls_stats st;
	struct tdc *c;

	start_server("127.0.0.1");
	c = connect_client(s, "127.0.0.1");
	s->close_on_packet = true;
	client_write(c, 0x00, "bye", 3);
	client_write(c, 0x00, "late", 4); /* reaches no link */
	cr_assert(run_until(got_packets, s, NULL, 0, WAIT_MS));
	run_until(NULL, NULL, NULL, 0, 50);
	cr_assert_eq(s->packets, 1);
	cr_assert_eq(s->closes, 0, "no on_closed for a close the session asked for");
	cr_assert_eq(client_read(c, buf, sizeof(buf), WAIT_MS), 0, "close_notify reached the client");
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.links_up, 0);
	client_free(c);
}

Test(dtls, half_open_handshakes_are_bounded_and_time_out)
{
	struct fake_session *s = add_session(0, 11);
	struct wg_dtls_stats st;
	struct tdc *stuck, *next;

	start_server("127.0.0.1");
	wg_dtls_server_set_limits(fx.srv, 1, 300);
	/* A client that passes the cookie check and then goes silent. */
	stuck = client_new("127.0.0.1", s->app_id, s->psk);
	cr_assert(run_until(handshake_pending, NULL, &stuck, 1, WAIT_MS));
	s->alive = true;

	next = client_new("127.0.0.1", s->app_id, s->psk);
	tdc_step(next); /* its ClientHello meets a full table */
	run_until(NULL, NULL, NULL, 0, 100);
	cr_assert_eq(next->datagrams_in, 0);
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.handshakes, 1);

	run_until(NULL, NULL, NULL, 0, 400); /* the stuck one times out */
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.handshakes, 0);
	cr_assert_eq(s->ups, 0);

	wolfSSL_dtls_got_timeout(next->ssl); /* its retransmission now gets in */
	cr_assert(run_until(client_done, next, &next, 1, WAIT_MS));
	run_until(NULL, NULL, NULL, 0, 20);
	cr_assert_eq(s->ups, 1);
	client_free(stuck);
	client_free(next);
}

Test(dtls, session_gone_during_handshake)
{
	struct fake_session *s = add_session(0, 12);
	struct wg_dtls_stats st;
	struct tdc *c;

	start_server("127.0.0.1");
	c = client_new("127.0.0.1", s->app_id, s->psk);
	cr_assert(run_until(handshake_pending, NULL, &c, 1, WAIT_MS));
	s->alive = false; /* the session ends before the handshake does */
	run_until(NULL, NULL, &c, 1, 500);
	cr_assert_eq(s->ups, 0);
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.handshakes, 0);
	cr_assert_eq(st.links_up, 0);
	client_free(c);
}

Test(dtls, ipv6_loopback)
{
	struct fake_session *s = add_session(0, 13);
	struct tdc *c;
	char peer[64];
	int probe = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 lo = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};

	if (probe < 0 || bind(probe, (struct sockaddr *)&lo, sizeof(lo)) < 0) {
		if (probe >= 0)
			close(probe);
		cr_skip_test("no IPv6 loopback here");
	}
	close(probe);
	start_server("::1");
	c = connect_client(s, "::1");
	cr_assert_eq(s->ups, 1);
	snprintf(peer, sizeof(peer), "[::1]:%u", c->port);
	cr_assert_str_eq(wg_dtls_link_peer(s->link), peer);
	client_write(c, 0x00, "v6", 2);
	cr_assert(run_until(got_packets, s, NULL, 0, WAIT_MS));
	client_free(c);
}

Test(dtls, bad_arguments)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct wg_dtls_callbacks none = {0};
	int fd = wg_listen_socket((struct sockaddr *)&a, sizeof(a), SOCK_DGRAM, false);

	cr_assert_geq(fd, 0);
	/* No lookup callback: refused, and the socket is closed. */
	cr_assert_null(wg_dtls_server_new_on(&fx.host, fd, &none, NULL));
	cr_assert_eq(fcntl(fd, F_GETFD), -1);
	cr_assert_eq(wg_dtls_send(NULL, 0, NULL, 0), -1);
	cr_assert_eq(wg_dtls_link_max_payload(NULL), 0);
}

/* A client that sends its ClientHello, answers the HelloVerifyRequest with
 * the cookie (the server may then keep state for it) and goes silent. A
 * server at its limit gives no HelloVerifyRequest: the client then stays
 * silent after its first hello. */
static struct tdc *half_open_client(struct fake_session *s)
{
	struct tdc *c = client_new("127.0.0.1", s->app_id, s->psk);
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	tdc_step(c); /* the first ClientHello */
	while (c->datagrams_in == 0) {
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
		tdc_step(c); /* reads the HelloVerifyRequest, sends the cookie */
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > 300)
			return c; /* refused before any answer */
		usleep(1000);
	}
	run_until(NULL, NULL, NULL, 0, 30); /* the server takes the second hello in */
	return c;
}

/* Issue 22 item 5: one logged-in user (one App-ID) could fill the whole
 * half-open table from as many source ports as it liked. */
Test(dtls, one_session_holds_at_most_its_share_of_half_open_handshakes)
{
	struct fake_session *a = add_session(0, 12), *b = add_session(1, 13);
	struct tdc *held[8], *other;
	struct wg_dtls_stats st;

	start_server("127.0.0.1");
	wg_dtls_server_set_shares(fx.srv, 3, 100);
	for (int i = 0; i < 8; i++)
		held[i] = half_open_client(a);
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.handshakes, 3, "one session holds %zu half-open handshakes", st.handshakes);
	cr_assert_eq(a->ups, 0);

	/* Another user still gets in, and the table has room for it. */
	other = connect_client(b, "127.0.0.1");
	cr_assert_eq(b->ups, 1);
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.links_up, 1);
	cr_assert_eq(st.handshakes, 3);
	client_free(other);
	for (int i = 0; i < 8; i++)
		client_free(held[i]);
}

Test(dtls, one_address_holds_at_most_its_share_of_half_open_handshakes)
{
	struct fake_session *a = add_session(0, 14), *b = add_session(1, 15);
	struct tdc *held[4];
	struct wg_dtls_stats st;

	start_server("127.0.0.1");
	wg_dtls_server_set_shares(fx.srv, 100, 3);
	held[0] = half_open_client(a);
	held[1] = half_open_client(b);
	held[2] = half_open_client(a);
	held[3] = half_open_client(b);
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.handshakes, 3, "one address holds %zu half-open handshakes", st.handshakes);
	for (int i = 0; i < 4; i++)
		client_free(held[i]);
	/* Shares are given back when the handshakes go. */
	run_until(NULL, NULL, NULL, 0, 20);
}

Test(dtls, default_shares_bound_one_session)
{
	struct fake_session *a = add_session(0, 16);
	struct tdc *held[6];
	struct wg_dtls_stats st;

	start_server("127.0.0.1");
	for (int i = 0; i < 6; i++)
		held[i] = half_open_client(a);
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.handshakes, 4, "default per-session share is 4, got %zu", st.handshakes);
	for (int i = 0; i < 6; i++)
		client_free(held[i]);
}

/* ---- the record path: several records per datagram, explicit nonces ---- */

/* Client output gathered instead of sent, to send as one datagram. */
static uint8_t gathered[4096];
static size_t gathered_len;

static int gather_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	(void)ssl;
	(void)ctx;
	cr_assert_leq(gathered_len + (size_t)sz, sizeof(gathered));
	memcpy(gathered + gathered_len, buf, (size_t)sz);
	gathered_len += (size_t)sz;
	return sz;
}

static bool got_two_packets(void *arg)
{
	return ((struct fake_session *)arg)->packets >= 2;
}

static bool got_packets_3(void *arg)
{
	return ((struct fake_session *)arg)->packets >= 3;
}

/* The server skips the read after a one-record datagram's data; a datagram
 * with two records must still give both. */
Test(dtls, two_records_in_one_datagram_both_arrive)
{
	struct fake_session *s = add_session(0, 9);
	struct tdc *c;

	start_server("127.0.0.1");
	c = connect_client(s, "127.0.0.1");
	gathered_len = 0;
	wolfSSL_SSLSetIOSend(c->ssl, gather_send);
	client_write(c, 0x00, "\x45\x00first", 7);
	client_write(c, 0x00, "\x45\x00second", 8);
	cr_assert_gt(gathered_len, 2 * 13);
	raw_send(c, gathered, gathered_len);
	cr_assert(run_until(got_two_packets, s, NULL, 0, WAIT_MS), "only %d of the 2 records arrived", s->packets);
	cr_assert_eq(s->last_len, 8);
	cr_assert_eq(memcmp(s->last, "\x45\x00second", 8), 0);
	/* and a one-record datagram right after, alone */
	wolfSSL_SSLSetIOSend(c->ssl, tdc_udp_send);
	client_write(c, 0x00, "\x45\x00third", 7);
	cr_assert(run_until(got_packets_3, s, NULL, 0, WAIT_MS));
	cr_assert_eq(memcmp(s->last, "\x45\x00third", 7), 0);
	client_free(c);
}

/* Every datagram the client receives, raw, before wolfSSL sees it. */
static uint8_t nonces[8][8];
static int n_nonces;

static int nonce_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	int n = tdc_udp_recv(ssl, buf, sz, ctx);

	/* application data (23), epoch 1: the explicit nonce follows the
	 * 13-byte header (RFC 5288 3, RFC 6347 4.1) */
	if (n >= 13 + 8 + 16 && buf[0] == 23 && n_nonces < 8)
		memcpy(nonces[n_nonces++], buf + 13, 8);
	return n;
}

/* RFC 5288 asks that an explicit nonce never repeats under one key. The
 * patched wolfSSL (scripts/patches/wolfssl-dtls-record-fastpath.patch) no
 * longer draws it from the DRBG: it is the AES-GCM invocation counter, one
 * more per record. */
Test(dtls, explicit_nonces_count_up_by_one)
{
	struct fake_session *s = add_session(0, 10);
	struct tdc *c;
	uint8_t buf[256];

	start_server("127.0.0.1");
	c = connect_client(s, "127.0.0.1");
	n_nonces = 0;
	wolfSSL_SSLSetIORecv(c->ssl, nonce_recv);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(wg_dtls_send(s->link, 0x00, (const uint8_t *)"\x45\x00ping", 6), 0);
		cr_assert_eq(client_read(c, buf, sizeof(buf), WAIT_MS), 7);
	}
	cr_assert_eq(n_nonces, 5);
	for (int i = 1; i < n_nonces; i++) {
		uint64_t a = 0, b = 0;
		for (int k = 0; k < 8; k++) {
			a = a << 8 | nonces[i - 1][k];
			b = b << 8 | nonces[i][k];
		}
		cr_assert_eq(b, a + 1, "nonce %d is not the one before plus one", i);
	}
	client_free(c);
}

/* ---- UDP GRO (plugins/lib-dtls/udp_gro.h) ---------------------------------- */

static bool got_five_packets(void *arg)
{
	return ((struct fake_session *)arg)->packets >= 5;
}

static bool got_six_packets(void *arg)
{
	return ((struct fake_session *)arg)->packets >= 6;
}

/* Five records, four of one size and a shorter last one, sent by the
 * client in one UDP GSO send: the kernel cuts them into five datagrams on
 * the wire and, over loopback, hands them to a socket with UDP_GRO as one
 * train. 0 when sent, -1 when this kernel has no UDP GSO. */
static int send_train(struct tdc *c)
{
	uint8_t p[100];
	uint16_t seg;
	union {
		char b[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cm;
	struct iovec iov;
	struct msghdr m = {0};
	struct cmsghdr *h;
	size_t first = 0;

	gathered_len = 0;
	wolfSSL_SSLSetIOSend(c->ssl, gather_send);
	for (int i = 0; i < 5; i++) {
		memset(p, 'a' + i, sizeof(p));
		p[0] = 0x45;
		client_write(c, 0x00, p, i < 4 ? sizeof(p) : 40);
		if (i == 0)
			first = gathered_len;
	}
	wolfSSL_SSLSetIOSend(c->ssl, tdc_udp_send);
	cr_assert_gt(gathered_len, 4 * first, "the last record is shorter but not empty");
	cr_assert_lt(gathered_len, 5 * first);
	seg = (uint16_t)first;
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = gathered;
	iov.iov_len = gathered_len;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cm.b;
	m.msg_controllen = sizeof(cm.b);
	h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_UDP;
	h->cmsg_type = UDP_SEGMENT;
	h->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(h), &seg, sizeof(seg));
	return sendmsg(c->fd, &m, 0) < 0 ? -1 : 0;
}

/* A train of five DTLS datagrams in one receive: each is a record of its
 * own, all five arrive, in order, and the train is counted. */
Test(dtls, gro_train_of_records_all_arrive)
{
	struct fake_session *s = add_session(0, 11);
	struct wg_dtls_stats st;
	struct tdc *c;

	start_server("127.0.0.1");
	wg_dtls_server_stats(fx.srv, &st);
	if (!st.gro)
		cr_skip_test("this kernel has no UDP GRO");
	c = connect_client(s, "127.0.0.1");
	if (send_train(c) < 0)
		cr_skip_test("this kernel has no UDP GSO");
	cr_assert(run_until(got_five_packets, s, NULL, 0, WAIT_MS), "only %d of the 5 records arrived", s->packets);
	cr_assert_eq(s->packets, 5);
	cr_assert_eq(s->last_len, 40, "the short last record came last");
	cr_assert_eq(s->last[1], 'e');
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_eq(st.gro_trains, 1, "%" PRIu64 " trains", st.gro_trains);
	cr_assert_eq(st.gro_train_datagrams, 5);
	cr_assert_eq(st.rx_refused, 0);
	/* and a lone datagram after it, as before */
	client_write(c, 0x00, "\x45\x00alone", 7);
	cr_assert(run_until(got_six_packets, s, NULL, 0, WAIT_MS));
	cr_assert_eq(memcmp(s->last, "\x45\x00alone", 7), 0);
	client_free(c);
}

/* "udp-gro": false: the same send arrives as five receives, no train. */
Test(dtls, gro_off_the_kernel_cuts_the_train)
{
	struct fake_session *s = add_session(0, 12);
	struct wg_dtls_stats st;
	struct tdc *c;

	start_server("127.0.0.1");
	cr_assert(wg_dtls_server_set_gro(fx.srv, false));
	c = connect_client(s, "127.0.0.1");
	if (send_train(c) < 0)
		cr_skip_test("this kernel has no UDP GSO");
	cr_assert(run_until(got_five_packets, s, NULL, 0, WAIT_MS), "only %d of the 5 records arrived", s->packets);
	cr_assert_eq(s->last_len, 40);
	wg_dtls_server_stats(fx.srv, &st);
	cr_assert_not(st.gro);
	cr_assert_eq(st.gro_trains, 0);
	client_free(c);
}
