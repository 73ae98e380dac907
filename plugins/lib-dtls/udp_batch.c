/* See udp_batch.h. */
#include "udp_batch.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "dtls_log.h"
#include "udp_sockopt.h"

static int sys_sendmmsg(int fd, struct mmsghdr *msgs, unsigned n, int flags)
{
	return sendmmsg(fd, msgs, n, flags);
}

void wg_udp_batch_init(struct wg_udp_batch *b, int fd, bool gso, wg_sendmmsg_fn send)
{
	b->fd = fd;
	b->gso = gso;
	b->gso_refused = false;
	b->send = send ? send : sys_sendmmsg;
	b->nruns = 0;
	b->used = 0;
	b->sent = b->dropped = 0;
}

static const struct wg_udp_local no_src; /* family 0 */

static bool same_peer(const struct wg_udp_run *r, const struct sockaddr *peer, socklen_t len,
		      const struct wg_udp_local *src)
{
	return r->peer_len == len && memcmp(&r->peer, peer, len) == 0 && wg_udp_local_equal(&r->src, src);
}

int wg_udp_batch_add(struct wg_udp_batch *b, const struct sockaddr *peer, socklen_t peer_len,
		     const struct wg_udp_local *src, const void *data, size_t len)
{
	struct wg_udp_run *r;

	if (!src)
		src = &no_src;

	if (len == 0 || len > WG_UDP_GSO_MAX_BYTES || peer_len > sizeof(r->peer)) {
		b->dropped++;
		return -1;
	}
	if (b->used + len > sizeof(b->buf))
		wg_udp_batch_flush(b);
	r = b->nruns ? &b->runs[b->nruns - 1] : NULL;
	/* Joins the last run if it is the same peer, not closed, the same size
	 * or shorter (then it closes the run), and the run stays in bounds. */
	if (r && b->gso && !r->closed && len <= r->seg_size && r->segs < WG_UDP_BATCH_SEGS &&
	    r->len + len <= WG_UDP_GSO_MAX_BYTES && same_peer(r, peer, peer_len, src)) {
		memcpy(b->buf + b->used, data, len);
		b->used += len;
		r->len += len;
		r->segs++;
		if (len < r->seg_size)
			r->closed = true;
		return 0;
	}
	if (b->nruns == WG_UDP_BATCH_MSGS)
		wg_udp_batch_flush(b);
	r = &b->runs[b->nruns++];
	memcpy(&r->peer, peer, peer_len);
	r->peer_len = peer_len;
	r->src = *src;
	r->off = b->used;
	r->len = len;
	r->seg_size = len;
	r->segs = 1;
	r->closed = false;
	memcpy(b->buf + b->used, data, len);
	b->used += len;
	return 0;
}

/* UDP_SEGMENT and the source address, each optional. */
union run_cmsg {
	char buf[CMSG_SPACE(sizeof(uint16_t)) + WG_UDP_LOCAL_CMSG_SPACE];
	struct cmsghdr align;
};

/* The control data of a message of run r: the GSO segment size when gso
 * and it has several datagrams, its source when it has one. */
static void set_cmsg(struct msghdr *m, union run_cmsg *cm, const struct wg_udp_run *r, bool gso)
{
	size_t used = 0;

	if (!(gso && r->segs > 1) && r->src.family == 0)
		return; /* m's control stays empty */
	memset(cm, 0, sizeof(*cm));
	if (gso && r->segs > 1) {
		struct cmsghdr *c = (struct cmsghdr *)cm->buf;
		uint16_t seg = (uint16_t)r->seg_size;
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(c), &seg, sizeof(seg));
		used = CMSG_SPACE(sizeof(seg));
	}
	used += wg_udp_local_cmsg(&r->src, (struct cmsghdr *)(cm->buf + used));
	m->msg_control = cm->buf;
	m->msg_controllen = used;
}

/* One run as single datagrams (GSO refused). */
static void send_split(struct wg_udp_batch *b, const struct wg_udp_run *r)
{
	struct mmsghdr msgs[WG_UDP_BATCH_SEGS];
	struct iovec iov[WG_UDP_BATCH_SEGS];
	union run_cmsg cm;
	unsigned n = 0, done = 0;

	for (size_t off = 0; off < r->len && n < WG_UDP_BATCH_SEGS; off += r->seg_size, n++) {
		size_t len = r->len - off < r->seg_size ? r->len - off : r->seg_size;
		iov[n].iov_base = b->buf + r->off + off;
		iov[n].iov_len = len;
		memset(&msgs[n], 0, sizeof(msgs[n]));
		msgs[n].msg_hdr.msg_name = (void *)&r->peer;
		msgs[n].msg_hdr.msg_namelen = r->peer_len;
		msgs[n].msg_hdr.msg_iov = &iov[n];
		msgs[n].msg_hdr.msg_iovlen = 1;
		if (n == 0)
			set_cmsg(&msgs[0].msg_hdr, &cm, r, false); /* the source only, shared */
		else {
			msgs[n].msg_hdr.msg_control = msgs[0].msg_hdr.msg_control;
			msgs[n].msg_hdr.msg_controllen = msgs[0].msg_hdr.msg_controllen;
		}
	}
	while (done < n) {
		int k = b->send(b->fd, msgs + done, n - done, MSG_DONTWAIT);
		if (k > 0) {
			done += (unsigned)k;
			b->sent += (unsigned)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		break; /* a full buffer or a dead route: the rest is dropped */
	}
	b->dropped += n - done;
}

static struct msghdr *m_of(struct mmsghdr *msgs, unsigned i)
{
	struct msghdr *m = &msgs[i].msg_hdr;

	m->msg_control = NULL;
	m->msg_controllen = 0;
	return m;
}

void wg_udp_batch_flush(struct wg_udp_batch *b)
{
	struct mmsghdr msgs[WG_UDP_BATCH_MSGS];
	struct iovec iov[WG_UDP_BATCH_MSGS];
	union run_cmsg cm[WG_UDP_BATCH_MSGS];
	unsigned n = b->nruns, i = 0;

	for (unsigned k = 0; k < n; k++) {
		struct wg_udp_run *r = &b->runs[k];
		struct msghdr *m = &msgs[k].msg_hdr;

		memset(&msgs[k], 0, sizeof(msgs[k]));
		iov[k].iov_base = b->buf + r->off;
		iov[k].iov_len = r->len;
		m->msg_name = &r->peer;
		m->msg_namelen = r->peer_len;
		m->msg_iov = &iov[k];
		m->msg_iovlen = 1;
		set_cmsg(m, &cm[k], r, true);
	}
	while (i < n) {
		int k = b->send(b->fd, msgs + i, n - i, MSG_DONTWAIT);
		if (k > 0) {
			for (int j = 0; j < k; j++)
				b->sent += b->runs[i + (unsigned)j].segs;
			i += (unsigned)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0) { /* nothing taken and no error: treat as full */
			for (; i < n; i++)
				b->dropped += b->runs[i].segs;
			break;
		}
		/* Message i failed. */
		struct wg_udp_run *r = &b->runs[i];
		if (k < 0 && r->src.family != 0 && (errno == EINVAL || errno == EADDRNOTAVAIL)) {
			/* Its source address went away (or was never ours):
			 * this run again from the route's source. Before the
			 * GSO check, which would take EINVAL for a refusal. */
			r->src = no_src;
			set_cmsg(m_of(msgs, i), &cm[i], r, true);
			continue;
		}
		if (k < 0 && r->segs > 1 && (errno == EIO || errno == EINVAL || errno == EMSGSIZE)) {
			if (errno != EMSGSIZE) {
				if (!b->gso_refused)
					dtls_log(WG_LOG_WARN,
					       "DTLS: the kernel refused UDP GSO (%s); sending one datagram per "
					       "system call from now on",
					       strerror(errno));
				b->gso_refused = true;
				b->gso = false;
			}
			send_split(b, r);
			i++;
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			/* The socket buffer is full: drop the rest of this
			 * burst; the tunnel's TCP backs off as on a full link. */
			for (; i < n; i++)
				b->dropped += b->runs[i].segs;
			break;
		}
		/* Any other error concerns this message (e.g. the peer's route
		 * went away): drop it, send the others. */
		b->dropped += r->segs;
		i++;
	}
	b->nruns = 0;
	b->used = 0;
}
