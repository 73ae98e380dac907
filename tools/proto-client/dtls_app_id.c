/* A DTLS session carrying the App-ID as its id (see dtls_app_id.h). */
#include "dtls_app_id.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <stdio.h>
#include <string.h>

/* Two in-memory datagram queues, one each way. */
#define QUEUE_SLOTS 8
struct mem_queue {
	uint8_t buf[QUEUE_SLOTS][2048];
	size_t len[QUEUE_SLOTS];
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
	q->head = (q->head + 1) % QUEUE_SLOTS;
	q->count--;
	return (int)n;
}

static int mem_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct mem_end *e = ctx;
	struct mem_queue *q = e->out;
	unsigned slot = (q->head + q->count) % QUEUE_SLOTS;

	(void)ssl;
	if (q->count == QUEUE_SLOTS || (size_t)sz > sizeof(q->buf[0]))
		return sz; /* lost, as on a network; the handshake resends */
	memcpy(q->buf[slot], buf, (size_t)sz);
	q->len[slot] = (size_t)sz;
	q->count++;
	return sz;
}

/* The throwaway session's key: both ends know it, nobody else uses it. */
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

/* The id's place in wolfSSL's serialised session: side (1), born-on (4),
 * timeout (4), id length (1), then the id (32 bytes). Checked at run time:
 * a wolfSSL with another layout makes DTLS fail with a message, not
 * garbage. */
#define SER_ID_LEN_AT 9
#define SER_ID_AT 10

static WOLFSSL_SESSION *swap_id(WOLFSSL_SESSION *sess, const uint8_t *id)
{
	unsigned char der[4096], *p = der;
	const unsigned char *q = der;
	int len = wolfSSL_i2d_SSL_SESSION(sess, NULL);

	if (len <= SER_ID_AT + WG_DTLS_APP_ID_BYTES || len > (int)sizeof(der) ||
	    wolfSSL_i2d_SSL_SESSION(sess, &p) != len || der[SER_ID_LEN_AT] != WG_DTLS_APP_ID_BYTES)
		return NULL;
	memcpy(der + SER_ID_AT, id, WG_DTLS_APP_ID_BYTES);
	return wolfSSL_d2i_SSL_SESSION(NULL, &q, len);
}

WOLFSSL_SESSION *wg_dtls_session_with_app_id(const uint8_t *id, size_t id_len, const char *suites, char *err,
					     size_t errlen)
{
	static struct mem_queue c2s, s2c; /* 32 KiB: kept off the stack */
	struct mem_end cend = {&s2c, &c2s}, send_ = {&c2s, &s2c};
	WOLFSSL_CTX *sctx = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());
	WOLFSSL_CTX *cctx = wolfSSL_CTX_new(wolfDTLSv1_2_client_method());
	WOLFSSL *s = NULL, *c = NULL;
	WOLFSSL_SESSION *sess = NULL, *out = NULL;
	int cdone = 0, sdone = 0;

	memset(&c2s, 0, sizeof(c2s));
	memset(&s2c, 0, sizeof(s2c));
	if (!sctx || !cctx || id_len != WG_DTLS_APP_ID_BYTES)
		goto fail;
	wolfSSL_CTX_set_psk_server_callback(sctx, boot_server_key);
	wolfSSL_CTX_set_psk_client_callback(cctx, boot_client_key);
	if (wolfSSL_CTX_set_cipher_list(sctx, suites) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_cipher_list(cctx, suites) != WOLFSSL_SUCCESS)
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
	if (cdone && sdone && (sess = wolfSSL_get1_session(c)))
		out = swap_id(sess, id);
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
