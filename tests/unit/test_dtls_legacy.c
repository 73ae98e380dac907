/* Legacy DTLS against real wolfSSL DTLS 1.2 clients on loopback: the client
 * resumes a session it made up (the master secret it would have sent in
 * X-DTLS-Master-Secret, the X-DTLS-Session-ID it was given), as openconnect
 * does with gnutls_session_set_premaster; the server must resume it through
 * its legacy context (plugins/transport-dtls/dtls_legacy.c), for every suite of the table,
 * and must never come up with a wrong secret, a suite the client did not
 * offer or a full handshake. Also the extended_master_secret scan of
 * plugins/transport-dtls/dtls_legacy_ems.c on real ClientHellos. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "dtls_legacy.h"
#include "dtls_legacy_ems.h"
#include "dtls_server.h"
#include "host_loop_fixture.h"
#include "test_dtls_client.h"
#include "net/listen_socket.h"
#include "util/log.h"

/* ---- the fake core: one session ------------------------------------------ */

struct fake {
	struct event_base *base;
	struct wg_host host; /* timers and the socket watch on base */
	struct wg_dtls_server *srv;
	uint8_t app_id[WG_DTLS_APP_ID_LEN];
	struct wg_dtls_legacy_params legacy; /* what CONNECT answered */
	struct wg_dtls_link *link;
	int ups, packets;
	uint8_t last[2048];
	size_t last_len;
};

static struct fake fx;

static void *cb_lookup(void *arg, const uint8_t *app_id, size_t len, uint8_t psk[WG_DTLS_PSK_LEN])
{
	struct fake *f = arg;

	if (len != WG_DTLS_APP_ID_LEN || memcmp(app_id, f->app_id, len) != 0)
		return NULL;
	memset(psk, 0, WG_DTLS_PSK_LEN); /* unused in legacy mode */
	return f;
}

static bool cb_legacy(void *arg, void *session, struct wg_dtls_legacy_params *out)
{
	struct fake *f = session;

	(void)arg;
	if (!f->legacy.suite)
		return false;
	*out = f->legacy;
	return true;
}

static void cb_up(void *arg, void *session, struct wg_dtls_link *link)
{
	struct fake *f = session;

	(void)arg;
	f->ups++;
	f->link = link;
}

static void cb_packet(void *arg, void *session, uint8_t type, const uint8_t *payload, size_t len)
{
	struct fake *f = session;

	(void)arg;
	(void)type;
	f->packets++;
	f->last_len = len < sizeof(f->last) ? len : sizeof(f->last);
	memcpy(f->last, payload, f->last_len);
}

static void cb_closed(void *arg, void *session, struct wg_dtls_link *link)
{
	struct fake *f = session;

	(void)arg;
	if (f->link == link)
		f->link = NULL;
}

static const struct wg_dtls_callbacks callbacks = {
	.lookup = cb_lookup, .on_up = cb_up, .on_packet = cb_packet, .on_closed = cb_closed, .legacy = cb_legacy,
};

static void setup(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd;

	memset(&fx, 0, sizeof(fx));
	wg_log_set_level(WG_LOG_WARN);
	wolfSSL_Init();
	fx.base = host_loop_init(&fx.host);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	fd = wg_listen_socket((struct sockaddr *)&a, sizeof(a), SOCK_DGRAM, false);
	cr_assert_geq(fd, 0);
	fx.srv = wg_dtls_server_new_on(&fx.host, fd, &callbacks, &fx);
	cr_assert_not_null(fx.srv);
	cr_assert(wg_dtls_server_legacy_ok(fx.srv), "this wolfSSL build resumes legacy sessions");
}

static void teardown(void)
{
	wg_dtls_server_free(fx.srv);
	host_loop_free();
	wolfSSL_Cleanup();
}

TestSuite(dtls_legacy, .init = setup, .fini = teardown, .timeout = 60);

/* CONNECT chose suite: a fresh App-ID (the session id) and master secret. */
static void answer(const struct wg_dtls_legacy_suite *suite, uint8_t seed)
{
	for (int i = 0; i < WG_DTLS_APP_ID_LEN; i++)
		fx.app_id[i] = (uint8_t)(seed * 11 + i);
	memset(&fx.legacy, 0, sizeof(fx.legacy));
	fx.legacy.suite = suite;
	for (int i = 0; i < WG_DTLS_MASTER_SECRET_LEN; i++)
		fx.legacy.master[i] = (uint8_t)(seed * 29 + 7 * i);
	memcpy(fx.legacy.session_id, fx.app_id, sizeof(fx.app_id));
	fx.link = NULL;
	fx.ups = fx.packets = 0;
}

static const struct wg_dtls_legacy_suite *suite_named(const char *name, bool dtls12_header)
{
	for (const struct wg_dtls_legacy_suite *s = wg_dtls_legacy_suites; s->name; s++)
		if (strcmp(s->name, name) == 0 && s->dtls12_header == dtls12_header)
			return s;
	cr_assert_fail("no suite %s", name);
	return NULL;
}

/* ---- a client that resumes (test_dtls_client.c) ------------------------------- */

/* A client offering only `offer` (a wolfSSL cipher list) that resumes the
 * session (master, session id) with suite `suite`. */
static struct tdc *client_new(const char *offer, const struct wg_dtls_legacy_suite *suite, const uint8_t *master,
			      bool ems)
{
	struct tdc *c = calloc(1, sizeof(*c));
	struct wg_dtls_legacy_params p = {.suite = suite, .ems = ems};
	WOLFSSL_SESSION *sess;

	cr_assert_not_null(c);
	tdc_open(c, "127.0.0.1", (uint16_t)wg_dtls_server_port(fx.srv), false, offer);
	wolfSSL_CTX_set_verify(c->ctx, WOLFSSL_VERIFY_NONE, NULL);
	if (!ems)
		wolfSSL_CTX_DisableExtendedMasterSecret(c->ctx);
	tdc_start(c);
	memcpy(p.master, master, WG_DTLS_MASTER_SECRET_LEN);
	memcpy(p.session_id, fx.app_id, WG_DTLS_APP_ID_LEN);
	sess = wg_dtls_legacy_session(&p, WOLFSSL_CLIENT_END);
	cr_assert_not_null(sess);
	cr_assert_eq(wolfSSL_set_session(c->ssl, sess), WOLFSSL_SUCCESS);
	wolfSSL_SESSION_free(sess);
	return c;
}

static void client_free(struct tdc *c)
{
	tdc_close(c);
	free(c);
}

static bool ended(void *arg)
{
	struct tdc *c = arg;

	return c->failed || (c->done && fx.ups > 0);
}

/* Runs the server and the client until the handshake ends either way, the
 * server has the link up, or ms pass. */
static void run(struct tdc *c, int ms)
{
	tdc_run_until(fx.base, &c, 1, ended, c, ms);
}

static int client_read(struct tdc *c, uint8_t *buf, size_t size, int ms)
{
	return tdc_read(fx.base, c, buf, size, ms);
}

/* The handshake resumes, data goes both ways. */
static void resume_and_talk(const struct wg_dtls_legacy_suite *suite, uint8_t seed, bool ems)
{
	struct tdc *c;
	uint8_t buf[2048], pkt[1200];

	answer(suite, seed);
	c = client_new(suite->wolfssl, suite, fx.legacy.master, ems);
	run(c, 5000);
	cr_assert(c->done, "%s: the client's handshake did not complete", suite->name);
	cr_assert_eq(wolfSSL_session_reused(c->ssl), 1, "%s: an abbreviated handshake", suite->name);
	cr_assert_str_eq(wolfSSL_get_cipher_name(c->ssl), suite->wolfssl);
	cr_assert_str_eq(wolfSSL_get_version(c->ssl), "DTLSv1.2");
	cr_assert_eq(fx.ups, 1, "%s: the link came up", suite->name);
	cr_assert_eq(wg_dtls_legacy_hello_ems(c->first, c->first_len), ems,
		     "the EMS scan reads the client's real hello");

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 3 + seed);
	buf[0] = 0x00;
	memcpy(buf + 1, pkt, sizeof(pkt));
	cr_assert_eq(wolfSSL_write(c->ssl, buf, (int)sizeof(pkt) + 1), (int)sizeof(pkt) + 1);
	for (int i = 0; i < 2000 && fx.packets == 0; i++) {
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	cr_assert_eq(fx.packets, 1);
	cr_assert_eq(fx.last_len, sizeof(pkt));
	cr_assert_eq(memcmp(fx.last, pkt, sizeof(pkt)), 0);

	cr_assert_not_null(fx.link);
	cr_assert_eq(wg_dtls_send(fx.link, 0x00, pkt, sizeof(pkt)), 0);
	cr_assert_eq(client_read(c, buf, sizeof(buf), 2000), (int)sizeof(pkt) + 1);
	cr_assert_eq(memcmp(buf + 1, pkt, sizeof(pkt)), 0);
	wg_dtls_link_close(fx.link);
	fx.link = NULL;
	client_free(c);
}

Test(dtls_legacy, every_supported_suite_resumes)
{
	uint8_t seed = 1;

	for (const struct wg_dtls_legacy_suite *s = wg_dtls_legacy_suites; s->name; s++)
		if (s->supported)
			resume_and_talk(s, seed++, false);
}

/* Clients that ask for the extended master secret (OpenSSL-based ones do)
 * resume too: the server's session says EMS exactly when the hello does. */
Test(dtls_legacy, client_with_extended_master_secret)
{
	resume_and_talk(suite_named("OC-DTLS1_2-AES256-GCM", false), 40, true);
	resume_and_talk(suite_named("AES128-SHA", true), 41, true);
}

Test(dtls_legacy, wrong_master_secret_never_comes_up)
{
	uint8_t other[WG_DTLS_MASTER_SECRET_LEN];
	struct tdc *c;

	answer(suite_named("OC-DTLS1_2-AES256-GCM", false), 50);
	memcpy(other, fx.legacy.master, sizeof(other));
	other[17] ^= 1;
	c = client_new("AES256-GCM-SHA384", fx.legacy.suite, other, false);
	run(c, 3000);
	cr_assert_eq(fx.ups, 0, "a wrong secret must fail the Finished check");
	cr_assert_not(c->done && wolfSSL_session_reused(c->ssl) && fx.ups, "no link");
	client_free(c);
}

Test(dtls_legacy, suite_the_server_did_not_choose)
{
	struct tdc *c;

	/* CONNECT answered AES-256-GCM; the client resumes AES-128-GCM. */
	answer(suite_named("OC-DTLS1_2-AES256-GCM", false), 60);
	c = client_new("AES128-GCM-SHA256", suite_named("OC-DTLS1_2-AES128-GCM", false), fx.legacy.master, false);
	run(c, 3000);
	cr_assert_eq(fx.ups, 0);
	cr_assert_not(c->done);
	client_free(c);
}

/* A session answered with PSK-NEGOTIATE (no legacy suite): the legacy
 * context is not used, a resumption attempt gets nowhere. */
Test(dtls_legacy, psk_session_is_not_resumed)
{
	const struct wg_dtls_legacy_suite *s = suite_named("OC-DTLS1_2-AES256-GCM", false);
	uint8_t master[WG_DTLS_MASTER_SECRET_LEN];
	struct tdc *c;

	answer(s, 70);
	memcpy(master, fx.legacy.master, sizeof(master));
	fx.legacy.suite = NULL;
	c = client_new("AES256-GCM-SHA384", s, master, false);
	run(c, 3000);
	cr_assert_eq(fx.ups, 0);
	cr_assert_not(c->done);
	client_free(c);
}

Test(dtls_legacy, params_compare)
{
	struct wg_dtls_legacy_params a = {.suite = wg_dtls_legacy_suites}, b;

	a.master[3] = 9;
	b = a;
	b.ems = !a.ems;
	cr_assert(wg_dtls_legacy_same(&a, &b), "ems is per handshake, not part of the session");
	b.master[3] = 8;
	cr_assert_not(wg_dtls_legacy_same(&a, &b));
	b = a;
	b.session_id[0] = 1;
	cr_assert_not(wg_dtls_legacy_same(&a, &b));
	b = a;
	b.suite = wg_dtls_legacy_suites + 1;
	cr_assert_not(wg_dtls_legacy_same(&a, &b));
}

Test(dtls_legacy, ems_scan_bounds)
{
	uint8_t junk[64] = {22, 0xfe, 0xfd};

	cr_assert_not(wg_dtls_legacy_hello_ems(NULL, 0));
	cr_assert_not(wg_dtls_legacy_hello_ems(junk, sizeof(junk)));
	cr_assert_not(wg_dtls_legacy_hello_ems(junk, 3));
}
