/* The unit tests' DTLS client (see test_dtls_client.h). */
#include "test_dtls_client.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int tdc_udp_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tdc *c = ctx;
	ssize_t n = recv(c->fd, buf, (size_t)sz, 0);

	(void)ssl;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? WOLFSSL_CBIO_ERR_WANT_READ : WOLFSSL_CBIO_ERR_GENERAL;
	c->datagrams_in++;
	return (int)n;
}

int tdc_udp_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tdc *c = ctx;

	(void)ssl;
	if (!c->first_len && (size_t)sz <= sizeof(c->first)) {
		memcpy(c->first, buf, (size_t)sz);
		c->first_len = (size_t)sz;
	}
	return send(c->fd, buf, (size_t)sz, 0) < 0 ? WOLFSSL_CBIO_ERR_GENERAL : sz;
}

static unsigned int psk12(WOLFSSL *ssl, const char *hint, char *id, unsigned int id_max, unsigned char *key,
			  unsigned int key_max)
{
	struct tdc *c = wolfSSL_GetIOReadCtx(ssl);

	(void)hint;
	if (key_max < c->psk_len)
		return 0;
	snprintf(id, id_max, "%s", c->identity);
	memcpy(key, c->psk, c->psk_len);
	return c->psk_len;
}

static unsigned int psk13(WOLFSSL *ssl, const char *hint, char *id, unsigned int id_max, unsigned char *key,
			  unsigned int key_max, const char **suite)
{
	struct tdc *c = wolfSSL_GetIOReadCtx(ssl);

	*suite = c->tls13_suite;
	return psk12(ssl, hint, id, id_max, key, key_max);
}

int tdc_loopback_socket(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

void tdc_open(struct tdc *c, const char *ip, uint16_t port, bool dtls13, const char *suites)
{
	struct sockaddr_storage ss = {0}, me;
	socklen_t len, melen = sizeof(me);

	memset(c, 0, sizeof(*c));
	c->dtls13 = dtls13;
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET, ip, &a->sin_addr), 1);
		len = sizeof(*a);
	}
	c->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(c->fd, 0);
	cr_assert_eq(connect(c->fd, (struct sockaddr *)&ss, len), 0);
	cr_assert_eq(getsockname(c->fd, (struct sockaddr *)&me, &melen), 0);
	c->port = ntohs(me.ss_family == AF_INET ? ((struct sockaddr_in *)&me)->sin_port
					       : ((struct sockaddr_in6 *)&me)->sin6_port);
	c->ctx = wolfSSL_CTX_new(dtls13 ? wolfDTLSv1_3_client_method() : wolfDTLSv1_2_client_method());
	cr_assert_not_null(c->ctx);
	cr_assert_eq(wolfSSL_CTX_set_cipher_list(c->ctx, suites), WOLFSSL_SUCCESS, "%s", suites);
	wolfSSL_CTX_SetIORecv(c->ctx, tdc_udp_recv);
	wolfSSL_CTX_SetIOSend(c->ctx, tdc_udp_send);
	c->tls13_suite = suites; /* one suite is what DTLS 1.3 tests give */
}

void tdc_psk(struct tdc *c, const char *identity, const uint8_t *key, unsigned len)
{
	cr_assert_leq(len, sizeof(c->psk));
	snprintf(c->identity, sizeof(c->identity), "%s", identity);
	memcpy(c->psk, key, len);
	c->psk_len = len;
	if (c->dtls13)
		wolfSSL_CTX_set_psk_client_tls13_callback(c->ctx, psk13);
	else
		wolfSSL_CTX_set_psk_client_callback(c->ctx, psk12);
}

void tdc_start(struct tdc *c)
{
	c->ssl = wolfSSL_new(c->ctx);
	cr_assert_not_null(c->ssl);
	wolfSSL_SetIOReadCtx(c->ssl, c);
	wolfSSL_SetIOWriteCtx(c->ssl, c);
	wolfSSL_dtls_set_using_nonblock(c->ssl, 1);
}

void tdc_close(struct tdc *c)
{
	if (c->ssl)
		wolfSSL_free(c->ssl);
	if (c->ctx)
		wolfSSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->ctx = NULL;
	c->fd = -1;
}

void tdc_step(struct tdc *c)
{
	int r, e;

	if (c->done || c->failed)
		return;
	r = wolfSSL_connect(c->ssl);
	if (r == WOLFSSL_SUCCESS) {
		c->done = true;
		return;
	}
	e = wolfSSL_get_error(c->ssl, r);
	if (e != WOLFSSL_ERROR_WANT_READ && e != WOLFSSL_ERROR_WANT_WRITE)
		c->failed = true;
}

long long tdc_elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

bool tdc_run_until(struct event_base *base, struct tdc **cs, int n, bool (*cond)(void *), void *arg, int ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		for (int i = 0; i < n; i++)
			if (cs[i])
				tdc_step(cs[i]);
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (cond && cond(arg))
			return true;
		if (tdc_elapsed_ms(&t0) >= ms)
			return cond ? cond(arg) : true;
		usleep(1000);
	}
}

int tdc_read(struct event_base *base, struct tdc *c, uint8_t *buf, size_t size, int ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (tdc_elapsed_ms(&t0) <= ms) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		int n = wolfSSL_read(c->ssl, buf, (int)size);
		if (n > 0)
			return n;
		if (wolfSSL_get_error(c->ssl, n) == WOLFSSL_ERROR_ZERO_RETURN)
			return 0;
		usleep(1000);
	}
	return -1;
}
