/* ClientHello read ahead of the TLS context (conn_sni.h). */
#include "net/conn_sni.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/conn.h"
#include "net/sni.h"
#include "util/log.h"

/* What a PROXY header left over comes first: it is the record's start. */
static int take_stash(struct wg_conn *c)
{
	size_t n;

	if (!c->rx_stash)
		return 0;
	n = c->rx_stash_len - c->rx_stash_off;
	if (n > WG_SNI_MAX_RECORD - c->sni_len)
		n = WG_SNI_MAX_RECORD - c->sni_len;
	memcpy(c->sni_buf + c->sni_len, c->rx_stash + c->rx_stash_off, n);
	c->sni_len += n;
	c->rx_stash_off += n;
	if (c->rx_stash_off == c->rx_stash_len) {
		free(c->rx_stash);
		c->rx_stash = NULL;
	}
	return 0;
}

/* The bytes read go back in front of whatever is still stashed. */
static int give_back(struct wg_conn *c)
{
	size_t rest = c->rx_stash ? c->rx_stash_len - c->rx_stash_off : 0;
	uint8_t *all = malloc(c->sni_len + rest);

	if (!all)
		return -1;
	memcpy(all, c->sni_buf, c->sni_len);
	if (rest)
		memcpy(all + c->sni_len, c->rx_stash + c->rx_stash_off, rest);
	free(c->rx_stash);
	c->rx_stash = all;
	c->rx_stash_off = 0;
	c->rx_stash_len = c->sni_len + rest;
	free(c->sni_buf);
	c->sni_buf = NULL;
	c->sni_len = 0;
	c->awaiting_sni = false;
	return 0;
}

int wg_conn_sni_read(struct wg_conn *c, char *name, size_t namelen)
{
	if (!c->sni_buf && !(c->sni_buf = malloc(WG_SNI_MAX_RECORD))) {
		wg_conn_close(c, "out of memory");
		return -1;
	}
	take_stash(c);
	for (;;) {
		int r = wg_sni_parse(c->sni_buf, c->sni_len, name, namelen);
		if (r >= 0 || c->sni_len == WG_SNI_MAX_RECORD) {
			if (r < 0)
				name[0] = '\0';
			if (give_back(c) < 0) {
				wg_conn_close(c, "out of memory");
				return -1;
			}
			return 1;
		}
		ssize_t n = recv(c->fd, c->sni_buf + c->sni_len, WG_SNI_MAX_RECORD - c->sni_len, 0);
		if (n == 0) {
			wg_conn_close(c, "closed during its TLS ClientHello");
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
		c->sni_len += (size_t)n;
	}
}

void wg_conn_sni_refuse(struct wg_conn *c, const char *name)
{
	/* A fatal alert, unrecognized_name (112), in a TLS 1.0-versioned
	 * record as a server that has not chosen a version yet sends it. */
	static const uint8_t alert[] = {21, 3, 1, 0, 2, 2, 112};
	ssize_t n = send(c->fd, alert, sizeof(alert), MSG_NOSIGNAL | MSG_DONTWAIT);

	(void)n;
	wg_log(NULL, WG_LOG_NOTICE, "%s: refused: %s%s%s (vhost-fallback refuse)", c->peer,
	       name && *name ? "unknown server name \"" : "no server name (SNI)", name && *name ? name : "",
	       name && *name ? "\"" : "");
	wg_conn_close(c, "unknown server name");
}
