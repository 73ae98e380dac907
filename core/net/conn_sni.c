/* ClientHello read ahead of the TLS context (conn_sni.h). */
#include "net/conn_sni.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/recv_more.h"
#include "net/sni.h"
#include "util/log.h"

/* What a PROXY header left over comes first: it is the record's start. */
static void take_stash(struct wg_sni_reader *r, struct wg_sni_stash st)
{
	size_t n;

	if (!*st.buf)
		return;
	n = *st.len - *st.off;
	if (n > WG_SNI_MAX_RECORD - r->len)
		n = WG_SNI_MAX_RECORD - r->len;
	memcpy(r->buf + r->len, *st.buf + *st.off, n);
	r->len += n;
	*st.off += n;
	if (*st.off == *st.len) {
		free(*st.buf);
		*st.buf = NULL;
	}
}

/* The bytes read go back in front of whatever is still stashed. */
static int give_back(struct wg_sni_reader *r, struct wg_sni_stash st)
{
	size_t rest = *st.buf ? *st.len - *st.off : 0;
	uint8_t *all = malloc(r->len + rest);

	if (!all)
		return -1;
	memcpy(all, r->buf, r->len);
	if (rest)
		memcpy(all + r->len, *st.buf + *st.off, rest);
	free(*st.buf);
	*st.buf = all;
	*st.off = 0;
	*st.len = r->len + rest;
	wg_sni_reader_free(r);
	return 0;
}

int wg_sni_read(struct wg_sni_reader *r, int fd, struct wg_sni_stash st, char *name, size_t namelen,
		const char **why)
{
	if (!r->buf && !(r->buf = malloc(WG_SNI_MAX_RECORD))) {
		*why = "out of memory";
		return -1;
	}
	take_stash(r, st);
	for (;;) {
		int p = wg_sni_parse(r->buf, r->len, name, namelen);
		if (p >= 0 || r->len == WG_SNI_MAX_RECORD) {
			if (p < 0)
				name[0] = '\0';
			if (give_back(r, st) < 0) {
				*why = "out of memory";
				return -1;
			}
			return 1;
		}
		int got = wg_recv_more(fd, r->buf, &r->len, WG_SNI_MAX_RECORD, "closed during its TLS ClientHello", why);
		if (got <= 0)
			return got;
	}
}

void wg_sni_reader_free(struct wg_sni_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = 0;
}

void wg_sni_refuse(int fd, const char *peer, const char *name)
{
	/* A fatal alert, unrecognized_name (112), in a TLS 1.0-versioned
	 * record as a server that has not chosen a version yet sends it. */
	static const uint8_t alert[] = {21, 3, 1, 0, 2, 2, 112};
	ssize_t n = send(fd, alert, sizeof(alert), MSG_NOSIGNAL | MSG_DONTWAIT);

	(void)n;
	wg_log(NULL, WG_LOG_NOTICE, "%s: refused: %s%s%s (vhost-fallback refuse)", peer,
	       name && *name ? "unknown server name \"" : "no server name (SNI)", name && *name ? name : "",
	       name && *name ? "\"" : "");
}
