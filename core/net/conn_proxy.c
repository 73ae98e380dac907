/* PROXY protocol header on a new connection (see conn_proxy.h). */
#include "net/conn_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/proxy_proto.h"
#include "net/recv_more.h"
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

/* The header ends at hdr: the client's address into peer, what follows
 * into done->rest. */
static int header_done(struct wg_proxy_reader *r, size_t hdr, const struct wg_proxy_header *h, char *peer,
		       size_t peerlen, struct wg_proxy_done *done, const char **why)
{
	char relay[64];
	size_t rest = r->len - hdr;

	done->rest = NULL;
	done->rest_len = 0;
	if (rest) {
		if (!(done->rest = malloc(rest))) {
			*why = "out of memory";
			return -1;
		}
		memcpy(done->rest, r->buf + hdr, rest);
		done->rest_len = rest;
	}
	snprintf(relay, sizeof(relay), "%s", peer);
	if (h->has_source)
		addr_to_text(&h->source, peer, peerlen);
	wg_conn_proxy_reader_free(r);
	wg_log(NULL, WG_LOG_DEBUG, "%s: relayed by %s (PROXY protocol)", peer, relay);
	return 1;
}

void wg_conn_proxy_reader_free(struct wg_proxy_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = 0;
}

int wg_conn_proxy_read(struct wg_proxy_reader *r, int fd, char *peer, size_t peerlen, struct wg_proxy_done *done,
		       const char **why)
{
	struct wg_proxy_header h;
	const char *err = NULL;

	if (!r->buf && !(r->buf = malloc(WG_PROXY_MAX_HEADER))) {
		*why = "out of memory";
		return -1;
	}
	for (;;) {
		int got = wg_recv_more(fd, r->buf, &r->len, WG_PROXY_MAX_HEADER, "closed before its PROXY protocol header",
				       why);
		if (got <= 0)
			return got;
		int rc = wg_proxy_parse(r->buf, r->len, &h, &err);
		if (rc > 0)
			return header_done(r, (size_t)rc, &h, peer, peerlen, done, why);
		if (rc < 0) {
			wg_log(NULL, WG_LOG_NOTICE, "%s: refused: %s", peer, err);
			*why = err;
			return -1;
		}
		/* A full buffer always decides (WG_PROXY_MAX_HEADER bounds both
		 * versions), so rc == 0 means the relay has more to send. */
	}
}

int wg_conn_proxy_unexpected(int fd, const char *peer, const char **why)
{
	uint8_t head[12];
	ssize_t n = recv(fd, head, sizeof(head), MSG_PEEK);

	if (n <= 0)
		return 0; /* nothing yet; wolfSSL sees the end or the error itself */
	if (!wg_proxy_looks_like_header(head, (size_t)n))
		return 1;
	wg_log(NULL, WG_LOG_NOTICE, "%s: refused: PROXY protocol header, but listen-proxy-proto is off", peer);
	*why = "PROXY protocol header, but listen-proxy-proto is off";
	return -1;
}
