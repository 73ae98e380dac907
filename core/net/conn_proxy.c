/* PROXY protocol header on a new connection (see conn_proxy.h). */
#include <stdbool.h>

#include "net/conn_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/conn.h"
#include "net/proxy_proto.h"
#include "util/log.h"

static void addr_to_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof(host));
	snprintf(out, len, "%s", host);
}

/* Bytes after the header belong to the TLS handshake: conn_io_recv serves
 * c->rx_stash before reading the socket. */
static int stash_rest(struct wg_conn *c, size_t hdr)
{
	size_t rest = c->proxy_len - hdr;

	if (rest == 0)
		return 0;
	c->rx_stash = malloc(rest);
	if (!c->rx_stash)
		return -1;
	memcpy(c->rx_stash, c->proxy_buf + hdr, rest);
	c->rx_stash_off = 0;
	c->rx_stash_len = rest;
	return 0;
}

static int header_done(struct wg_conn *c, size_t hdr, const struct wg_proxy_header *h)
{
	char relay[sizeof(c->peer)];

	snprintf(relay, sizeof(relay), "%s", c->peer);
	if (h->has_source)
		addr_to_text(&h->source, c->peer, sizeof(c->peer));
	if (stash_rest(c, hdr) < 0) {
		wg_conn_close(c, "out of memory");
		return -1;
	}
	free(c->proxy_buf);
	c->proxy_buf = NULL;
	c->awaiting_proxy = false;
	wg_log(NULL, WG_LOG_DEBUG, "%s: relayed by %s (PROXY protocol)", c->peer, relay);
	return 1;
}

int wg_conn_proxy_read(struct wg_conn *c)
{
	struct wg_proxy_header h;
	const char *err = NULL;

	if (!c->proxy_buf && !(c->proxy_buf = malloc(WG_PROXY_MAX_HEADER))) {
		wg_conn_close(c, "out of memory");
		return -1;
	}
	for (;;) {
		ssize_t n = recv(c->fd, c->proxy_buf + c->proxy_len, WG_PROXY_MAX_HEADER - c->proxy_len, 0);
		if (n == 0) {
			wg_conn_close(c, "closed before its PROXY protocol header");
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			wg_conn_close(c, strerror(errno));
			return -1;
		}
		c->proxy_len += (size_t)n;
		int r = wg_proxy_parse(c->proxy_buf, c->proxy_len, &h, &err);
		if (r > 0)
			return header_done(c, (size_t)r, &h);
		if (r < 0) {
			wg_log(NULL, WG_LOG_NOTICE, "%s: refused: %s", c->peer, err);
			wg_conn_close(c, err);
			return -1;
		}
		/* A full buffer always decides (WG_PROXY_MAX_HEADER bounds both
		 * versions), so r == 0 means the relay has more to send. */
	}
}

int wg_conn_proxy_unexpected(struct wg_conn *c)
{
	uint8_t head[12];
	ssize_t n = recv(c->fd, head, sizeof(head), MSG_PEEK);

	if (n <= 0)
		return 0; /* nothing yet; wolfSSL sees the end or the error itself */
	if (!wg_proxy_looks_like_header(head, (size_t)n))
		return 1;
	wg_log(NULL, WG_LOG_NOTICE, "%s: refused: PROXY protocol header, but listen-proxy-proto is off", c->peer);
	wg_conn_close(c, "PROXY protocol header, but listen-proxy-proto is off");
	return -1;
}
