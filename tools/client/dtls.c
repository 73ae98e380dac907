/* PSK-NEGOTIATE DTLS client (see dtls.h).
 *
 * wolfSSL offers no call to choose the ClientHello's session id (its
 * wolfSSL_SESSION_set1_id is not in this build), but it sends the id of a
 * session it is asked to resume. So a throwaway DTLS 1.2 session is made
 * once in memory (a client and a server wolfSSL talking through two
 * buffers, with a key nobody else uses), its serialised form gets the
 * App-ID in place of its id, and the DTLS client "resumes" that: the
 * server does not know the session, looks the id up as an App-ID, and runs
 * a full PSK handshake with the exported key. */
#include "dtls.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- the throwaway session ---------------------------------------------- */

struct mem_queue {
	uint8_t buf[8][2048];
	size_t len[8];
	unsigned head, count;
};
struct mem_end {
	struct mem_queue *in, *out;
};

static int mem_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct mem_end *e = ctx;
	struct mem_queue *q = e->in;
	size_t n;

	(void)ssl;
	if (!q->count)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	n = q->len[q->head];
	if (n > (size_t)sz)
		n = (size_t)sz;
	memcpy(buf, q->buf[q->head], n);
	q->head = (q->head + 1) % 8;
	q->count--;
	return (int)n;
}

static int mem_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct mem_end *e = ctx;
	struct mem_queue *q = e->out;
	unsigned slot = (q->head + q->count) % 8;

	(void)ssl;
	if (q->count == 8 || (size_t)sz > sizeof(q->buf[0]))
		return sz; /* lost, as on a network; the handshake resends */
	memcpy(q->buf[slot], buf, (size_t)sz);
	q->len[slot] = (size_t)sz;
	q->count++;
	return sz;
}

static unsigned int boot_server_key(WOLFSSL *ssl, const char *id, unsigned char *key, unsigned int max)
{
	(void)ssl;
	(void)id;
	if (max < 32)
		return 0;
	memset(key, 0x42, 32);
	return 32;
}

static unsigned int boot_client_key(WOLFSSL *ssl, const char *hint, char *id, unsigned int id_max,
				    unsigned char *key, unsigned int key_max)
{
	(void)ssl;
	(void)hint;
	if (key_max < 32)
		return 0;
	snprintf(id, id_max, "boot");
	memset(key, 0x42, 32);
	return 32;
}

/* Its offset in wolfSSL's serialised session: side (1), born-on (4),
 * timeout (4), id length (1), then the id (32 bytes). Checked at run time:
 * a wolfSSL with another layout makes DTLS fail with a message, not
 * garbage. */
#define SER_ID_LEN_AT 9
#define SER_ID_AT 10

static WOLFSSL_SESSION *session_with_id(const uint8_t *id, size_t id_len, const char *suite, char *err,
					size_t errlen)
{
	static struct mem_queue c2s, s2c; /* 32 KiB: kept off the stack */
	struct mem_end cend = {&s2c, &c2s}, send_ = {&c2s, &s2c};
	WOLFSSL_CTX *sctx = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());
	WOLFSSL_CTX *cctx = wolfSSL_CTX_new(wolfDTLSv1_2_client_method());
	WOLFSSL *s = NULL, *c = NULL;
	WOLFSSL_SESSION *sess = NULL, *out = NULL;
	unsigned char der[4096], *p = der;
	const unsigned char *q = der;
	int cdone = 0, sdone = 0, len;

	memset(&c2s, 0, sizeof(c2s));
	memset(&s2c, 0, sizeof(s2c));
	if (!sctx || !cctx)
		goto fail;
	wolfSSL_CTX_set_psk_server_callback(sctx, boot_server_key);
	wolfSSL_CTX_set_psk_client_callback(cctx, boot_client_key);
	if (wolfSSL_CTX_set_cipher_list(sctx, suite) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_cipher_list(cctx, suite) != WOLFSSL_SUCCESS)
		goto fail;
	wolfSSL_CTX_SetIORecv(sctx, mem_recv);
	wolfSSL_CTX_SetIOSend(sctx, mem_send);
	wolfSSL_CTX_SetIORecv(cctx, mem_recv);
	wolfSSL_CTX_SetIOSend(cctx, mem_send);
	if (!(s = wolfSSL_new(sctx)) || !(c = wolfSSL_new(cctx)))
		goto fail;
	wolfSSL_SetIOReadCtx(s, &send_);
	wolfSSL_SetIOWriteCtx(s, &send_);
	wolfSSL_SetIOReadCtx(c, &cend);
	wolfSSL_SetIOWriteCtx(c, &cend);
	wolfSSL_dtls_set_using_nonblock(s, 1);
	wolfSSL_dtls_set_using_nonblock(c, 1);
	for (int i = 0; i < 50 && !(cdone && sdone); i++) {
		if (!cdone)
			cdone = wolfSSL_connect(c) == WOLFSSL_SUCCESS;
		if (!sdone)
			sdone = wolfSSL_accept(s) == WOLFSSL_SUCCESS;
	}
	if (!cdone || !sdone || !(sess = wolfSSL_get1_session(c)))
		goto fail;
	len = wolfSSL_i2d_SSL_SESSION(sess, NULL);
	if (len <= SER_ID_AT + 32 || len > (int)sizeof(der) || wolfSSL_i2d_SSL_SESSION(sess, &p) != len ||
	    der[SER_ID_LEN_AT] != 32 || id_len != 32)
		goto fail;
	memcpy(der + SER_ID_AT, id, id_len);
	out = wolfSSL_d2i_SSL_SESSION(NULL, &q, len);
fail:
	if (!out)
		snprintf(err, errlen, "cannot make a DTLS session carrying the App-ID (wolfSSL session layout?)");
	if (sess)
		wolfSSL_SESSION_free(sess);
	if (c)
		wolfSSL_free(c);
	if (s)
		wolfSSL_free(s);
	if (cctx)
		wolfSSL_CTX_free(cctx);
	if (sctx)
		wolfSSL_CTX_free(sctx);
	return out;
}

/* ---- the channel -------------------------------------------------------- */

static unsigned int client_key(WOLFSSL *ssl, const char *hint, char *id, unsigned int id_max, unsigned char *key,
			       unsigned int key_max)
{
	struct wgc_dtls *d = wolfSSL_get_psk_callback_ctx(ssl);

	(void)hint;
	if (!d || key_max < WGC_DTLS_PSK_LEN)
		return 0;
	snprintf(id, id_max, "psk"); /* the identity openconnect sends */
	memcpy(key, d->psk, WGC_DTLS_PSK_LEN);
	return WGC_DTLS_PSK_LEN;
}

#define SUITES "PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256"

int wgc_dtls_new(struct wgc_dtls *d, WOLFSSL *tls, const struct sockaddr *addr, socklen_t alen,
		 const uint8_t *app_id, size_t app_id_len, unsigned mtu, char *err, size_t errlen)
{
	WOLFSSL_SESSION *sess;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (app_id_len != 32) {
		snprintf(err, errlen, "the server's X-DTLS-App-ID has %zu bytes, not 32", app_id_len);
		return -1;
	}
	if (wolfSSL_export_keying_material(tls, d->psk, sizeof(d->psk), WGC_DTLS_PSK_LABEL,
					   strlen(WGC_DTLS_PSK_LABEL), NULL, 0, 0) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "TLS exporter failed");
		return -1;
	}
	d->fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || connect(d->fd, addr, alen) < 0) {
		snprintf(err, errlen, "UDP socket: %s", strerror(errno));
		goto fail;
	}
	if (!(d->ctx = wolfSSL_CTX_new(wolfDTLSv1_2_client_method()))) {
		snprintf(err, errlen, "wolfSSL_CTX_new (DTLS) failed");
		goto fail;
	}
	wolfSSL_CTX_set_psk_client_callback(d->ctx, client_key);
	if (wolfSSL_CTX_set_cipher_list(d->ctx, SUITES) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "no PSK cipher suites in this wolfSSL");
		goto fail;
	}
	if (!(d->ssl = wolfSSL_new(d->ctx)) || wolfSSL_set_fd(d->ssl, d->fd) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "wolfSSL_new (DTLS) failed");
		goto fail;
	}
	wolfSSL_set_psk_callback_ctx(d->ssl, d);
	wolfSSL_dtls_set_using_nonblock(d->ssl, 1);
	if (mtu)
		wolfSSL_dtls_set_mtu(d->ssl, (unsigned short)mtu);
	if (!(sess = session_with_id(app_id, app_id_len, SUITES, err, errlen)))
		goto fail;
	if (wolfSSL_set_session(d->ssl, sess) != WOLFSSL_SUCCESS) {
		wolfSSL_SESSION_free(sess);
		snprintf(err, errlen, "wolfSSL_set_session failed");
		goto fail;
	}
	wolfSSL_SESSION_free(sess);
	return 0;
fail:
	wgc_dtls_free(d);
	return -1;
}

int wgc_dtls_handshake(struct wgc_dtls *d, char *err, size_t errlen)
{
	int r = wolfSSL_connect(d->ssl), e;
	char s[WOLFSSL_MAX_ERROR_SZ];

	if (r == WOLFSSL_SUCCESS)
		return 1;
	e = wolfSSL_get_error(d->ssl, r);
	if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
		return 0;
	wolfSSL_ERR_error_string_n((unsigned long)e, s, sizeof(s));
	snprintf(err, errlen, "DTLS handshake: %s (%d)", s, e);
	return -1;
}

int wgc_dtls_fit(struct wgc_dtls *d, unsigned datagram)
{
	/* An AEAD record adds a 13-byte header, an 8-byte explicit nonce and
	 * a 16-byte tag; wolfSSL's own budget is more cautious, and a
	 * payload that fits the datagram would be refused. */
	int want = (int)datagram - 13 - 8 - 16, max = wolfSSL_GetMaxOutputSize(d->ssl);

	if (max > 0 && max < want)
		wolfSSL_dtls_set_mtu(d->ssl, (unsigned short)(datagram + (unsigned)(want - max)));
	max = wolfSSL_GetMaxOutputSize(d->ssl);
	return max;
}

unsigned wgc_dtls_timeout_ms(struct wgc_dtls *d)
{
	int t = wolfSSL_dtls_get_current_timeout(d->ssl);
	return t > 0 ? (unsigned)t * 1000u : 1000u;
}

int wgc_dtls_retransmit(struct wgc_dtls *d)
{
	int r = wolfSSL_dtls_got_timeout(d->ssl);
	return r == WOLFSSL_SUCCESS || wolfSSL_get_error(d->ssl, r) == WOLFSSL_ERROR_WANT_READ ? 0 : -1;
}

void wgc_dtls_free(struct wgc_dtls *d)
{
	if (d->ssl)
		wolfSSL_free(d->ssl);
	if (d->ctx)
		wolfSSL_CTX_free(d->ctx);
	if (d->fd >= 0)
		close(d->fd);
	memset(d->psk, 0, sizeof(d->psk));
	d->ssl = NULL;
	d->ctx = NULL;
	d->fd = -1;
}
