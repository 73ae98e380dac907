/* wolfSSL under wolfguardctl's blocking hiredis context (cluster_ctl_tls.h).
 *
 * The context made from the files, the session and the reasons are the
 * server's (core/cluster/redis_tls_ctx.c); only the reads and writes differ
 * from core/cluster/redis_tls.c: the socket blocks, with the context's
 * timeout as SO_RCVTIMEO/SO_SNDTIMEO, so a WANT_READ or WANT_WRITE here
 * means Redis did not answer in time, never "try again later". */
#include "cluster_ctl_tls.h"

#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "cluster/redis_tls_ctx.h"

struct ctl_tls {
	WOLFSSL *ssl;
	const struct wg_redis_tls *cfg;
	const redisContextFuncs *plain; /* hiredis's functions for a TCP socket */
};

/* After a read or write that did not finish: -1 with the context's error
 * set (wolfSSL itself retries a read or write interrupted by a signal). */
static ssize_t failed(redisContext *c, struct ctl_tls *t, int ret)
{
	int err = wolfSSL_get_error(t->ssl, ret);

	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
		c->err = REDIS_ERR_TIMEOUT;
		snprintf(c->errstr, sizeof(c->errstr), "redis did not answer in time (TLS)");
	} else if (err == WOLFSSL_ERROR_ZERO_RETURN || err == SOCKET_PEER_CLOSED_E || err == WOLFSSL_ERROR_SYSCALL) {
		c->err = REDIS_ERR_EOF;
		snprintf(c->errstr, sizeof(c->errstr), "redis closed the TLS connection");
	} else {
		c->err = REDIS_ERR_IO;
		wg_redis_tls_reason(t->cfg, "error", err, c->errstr, sizeof(c->errstr));
	}
	return -1;
}

static ssize_t tls_read(redisContext *c, char *buf, size_t cap)
{
	struct ctl_tls *t = c->privctx;
	int n = wolfSSL_read(t->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);

	return n > 0 ? n : failed(c, t, n);
}

static ssize_t tls_write(redisContext *c)
{
	struct ctl_tls *t = c->privctx;
	size_t len = sdslen(c->obuf);
	int n;

	if (len == 0)
		return 0;
	n = wolfSSL_write(t->ssl, c->obuf, len > INT_MAX ? INT_MAX : (int)len);
	return n > 0 ? n : failed(c, t, n);
}

static void tls_close(redisContext *c)
{
	struct ctl_tls *t = c->privctx;

	/* close_notify: the socket blocks, and the session is done. */
	if (t && wolfSSL_is_init_finished(t->ssl))
		wolfSSL_shutdown(t->ssl);
	if (t && t->plain->close)
		t->plain->close(c);
}

static void tls_free(void *privctx)
{
	struct ctl_tls *t = privctx;

	if (!t)
		return;
	wolfSSL_free(t->ssl);
	free(t);
}

static const redisContextFuncs tls_funcs = {
	.close = tls_close,
	.free_privctx = tls_free,
	.read = tls_read,
	.write = tls_write,
};

int wg_ctl_tls_start(redisContext *c, const struct wg_redis_tls *cfg, char *err, size_t errlen)
{
	struct ctl_tls *t = calloc(1, sizeof(*t));
	int ret;

	if (!t || !(t->ssl = wg_redis_tls_session(cfg, c->fd))) {
		free(t);
		snprintf(err, errlen, "TLS: cannot set up the session");
		return -1;
	}
	t->cfg = cfg;
	if ((ret = wolfSSL_connect(t->ssl)) != WOLFSSL_SUCCESS) {
		int e = wolfSSL_get_error(t->ssl, ret);
		if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
			snprintf(err, errlen, "TLS handshake failed: no answer in time (is this redis's TLS port?)");
		else
			wg_redis_tls_reason(cfg, "handshake failed", e, err, errlen);
		wolfSSL_free(t->ssl);
		free(t);
		return -1;
	}
	/* An address as the name: the certificate matched it as an IP SAN,
	 * not as a DNS name spelled like it; checked before AUTH goes out. */
	if (wg_redis_tls_check_peer(cfg, t->ssl, err, errlen) < 0) {
		wolfSSL_free(t->ssl);
		free(t);
		return -1;
	}
	t->plain = c->funcs;
	c->privctx = t;
	c->funcs = &tls_funcs;
	return 0;
}

struct wg_redis_tls *wg_ctl_tls_new(const struct wg_redis_tls_opts *o, char *err, size_t errlen)
{
	struct wg_redis_tls *t;

	if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "TLS: wolfSSL did not start");
		return NULL;
	}
	if (!(t = wg_redis_tls_new(o, err, errlen)))
		wolfSSL_Cleanup();
	return t;
}

void wg_ctl_tls_free(struct wg_redis_tls *t)
{
	if (!t)
		return;
	wg_redis_tls_free(t);
	wolfSSL_Cleanup();
}
