/* See udp_send.h. */
#include "udp_send.h"

#include <errno.h>
#include <sys/socket.h>

static int send_or_drop(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct wgc_udp_send *s = ctx;
	ssize_t n;

	(void)ssl;
	do
		n = send(s->fd, buf, (size_t)sz, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return sz;
	switch (errno) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case ENOBUFS:
	case ECONNREFUSED: /* an ICMP error from an earlier datagram */
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:     /* a lane's interface is down: its liveness decides */
		s->dropped++;
		return sz;
	default:
		return WOLFSSL_CBIO_ERR_GENERAL;
	}
}

void wgc_udp_send_use(WOLFSSL *ssl, struct wgc_udp_send *s, int fd)
{
	s->fd = fd;
	wolfSSL_SSLSetIOSend(ssl, send_or_drop);
	wolfSSL_SetIOWriteCtx(ssl, s);
}
