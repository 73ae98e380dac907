/* wolfSSL under a hiredis async context (redis_tls.h).
 *
 * hiredis's own async read and write handlers (the context's functions
 * before ours replace them) still do the work: they call our read and write,
 * free the context on an error and dispatch the replies. Ours wrap them for
 * the two things plain TCP does not have: a write that needs the socket to be
 * readable first (the handshake waiting for Redis's answer), and a read that
 * needs it writable. Without that a write waiting for a read would spin on a
 * socket that is always writable. */
#include "cluster/redis_tls.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

/* One connection's TLS state: the context's privctx. */
struct tls_conn {
	WOLFSSL *ssl;
	const struct wg_redis_tls *cfg; /* for the reason of a failure */
	const redisContextFuncs *plain; /* hiredis's functions for a TCP socket */
	bool write_wants_read, read_wants_write;
	bool checked; /* the handshake is done and the name held (wg_redis_tls_check_peer) */
	bool *freed; /* set by tls_free while one of our handlers runs hiredis's */
};

/* After a read or write that did not finish: 0 to try again on the next
 * event, -1 with the context's error set. */
static ssize_t tls_result(redisContext *c, struct tls_conn *t, int ret, bool writing)
{
	int err = wolfSSL_get_error(t->ssl, ret);

	if (err == WOLFSSL_ERROR_WANT_READ) {
		if (writing)
			t->write_wants_read = true;
		return 0;
	}
	if (err == WOLFSSL_ERROR_WANT_WRITE) {
		if (!writing)
			t->read_wants_write = true;
		return 0;
	}
	/* close_notify, or the TCP connection closed under an established session. */
	if (err == WOLFSSL_ERROR_ZERO_RETURN || err == SOCKET_PEER_CLOSED_E ||
	    (err == WOLFSSL_ERROR_SYSCALL && wolfSSL_is_init_finished(t->ssl))) {
		c->err = REDIS_ERR_EOF;
		snprintf(c->errstr, sizeof(c->errstr), "redis closed the TLS connection");
		return -1;
	}
	c->err = REDIS_ERR_IO;
	wg_redis_tls_reason(t->cfg, wolfSSL_is_init_finished(t->ssl) ? "error" : "handshake failed", err, c->errstr,
			    sizeof(c->errstr));
	return -1;
}

/* The handshake on its own, so that the certificate's name is checked
 * before hiredis's first command (AUTH) goes out: 1 when data may flow,
 * else tls_result's 0 or -1. */
static ssize_t tls_ready(redisContext *c, struct tls_conn *t, bool writing)
{
	int ret;

	if (t->checked)
		return 1;
	if ((ret = wolfSSL_connect(t->ssl)) != WOLFSSL_SUCCESS)
		return tls_result(c, t, ret, writing);
	if (wg_redis_tls_check_peer(t->cfg, t->ssl, c->errstr, sizeof(c->errstr)) < 0) {
		c->err = REDIS_ERR_IO;
		return -1;
	}
	t->checked = true;
	return 1;
}

static ssize_t tls_read(redisContext *c, char *buf, size_t cap)
{
	struct tls_conn *t = c->privctx;
	ssize_t ready = tls_ready(c, t, false);
	int n;

	if (ready <= 0)
		return ready;
	n = wolfSSL_read(t->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);

	return n > 0 ? n : tls_result(c, t, n, false);
}

static ssize_t tls_write(redisContext *c)
{
	struct tls_conn *t = c->privctx;
	size_t len = sdslen(c->obuf);
	ssize_t ready;
	int n;

	if (len == 0)
		return 0;
	if ((ready = tls_ready(c, t, true)) <= 0)
		return ready;
	/* After a WANT_WRITE wolfSSL goes on where it stopped: the front of obuf
	 * is unchanged (hiredis only appends until we report bytes written). */
	n = wolfSSL_write(t->ssl, c->obuf, len > INT_MAX ? INT_MAX : (int)len);
	return n > 0 ? n : tls_result(c, t, n, true);
}

/* hiredis's handler may free the context (on an error): false then. */
static bool run_plain(redisAsyncContext *ac, struct tls_conn *t, void (*fn)(redisAsyncContext *))
{
	bool freed = false;

	t->freed = &freed;
	fn(ac);
	if (freed)
		return false;
	t->freed = NULL;
	return true;
}

static void stop_spinning(redisAsyncContext *ac, struct tls_conn *t)
{
	/* A write waiting for Redis's bytes: watch readability only; the read
	 * handler retries the write. */
	if (t->write_wants_read && ac->ev.delWrite)
		ac->ev.delWrite(ac->ev.data);
	if (t->read_wants_write && ac->ev.addWrite)
		ac->ev.addWrite(ac->ev.data);
}

static void tls_async_write(redisAsyncContext *ac)
{
	struct tls_conn *t = ac->c.privctx;

	if (t->read_wants_write) {
		t->read_wants_write = false;
		if (!run_plain(ac, t, t->plain->async_read))
			return;
	}
	t->write_wants_read = false;
	if (!run_plain(ac, t, t->plain->async_write))
		return;
	stop_spinning(ac, t);
}

static void tls_async_read(redisAsyncContext *ac)
{
	struct tls_conn *t = ac->c.privctx;

	if (t->write_wants_read) {
		t->write_wants_read = false;
		if (!run_plain(ac, t, t->plain->async_write))
			return;
	}
	t->read_wants_write = false;
	if (!run_plain(ac, t, t->plain->async_read))
		return;
	/* Decrypted bytes wolfSSL holds make the socket no more readable:
	 * hand them over now (bounded, a record at a time). */
	for (int i = 0; i < 64 && wolfSSL_pending(t->ssl) > 0 && !(ac->c.flags & REDIS_DISCONNECTING); i++)
		if (!run_plain(ac, t, t->plain->async_read))
			return;
	stop_spinning(ac, t);
}

static void tls_close(redisContext *c)
{
	struct tls_conn *t = c->privctx;

	/* No close_notify: the socket is non-blocking and the peer learns of
	 * the end from the TCP close. */
	if (t && t->plain->close)
		t->plain->close(c);
}

static void tls_free(void *privctx)
{
	struct tls_conn *t = privctx;

	if (!t)
		return;
	if (t->freed)
		*t->freed = true;
	wolfSSL_free(t->ssl);
	free(t);
}

static const redisContextFuncs tls_funcs = {
	.close = tls_close,
	.free_privctx = tls_free,
	.async_read = tls_async_read,
	.async_write = tls_async_write,
	.read = tls_read,
	.write = tls_write,
};

int wg_redis_tls_attach(struct wg_redis_tls *tls, redisAsyncContext *ac)
{
	redisContext *c = &ac->c;
	struct tls_conn *t;

	if (c->funcs == &tls_funcs)
		return 0;
	if (!(t = calloc(1, sizeof(*t))) || !(t->ssl = wg_redis_tls_session(tls, c->fd))) {
		free(t);
		snprintf(c->errstr, sizeof(c->errstr), "TLS: cannot set up the session");
		return -1;
	}
	t->cfg = tls;
	wolfSSL_set_using_nonblock(t->ssl, 1);
	t->plain = c->funcs;
	c->privctx = t;
	c->funcs = &tls_funcs;
	return 0;
}
