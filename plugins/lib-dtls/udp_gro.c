/* See udp_gro.h. */
#include "udp_gro.h"
#include "udp_sockopt.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

bool wg_udp_gro_set(int fd, bool on)
{
	int v = on ? 1 : 0;

	return setsockopt(fd, SOL_UDP, UDP_GRO, &v, sizeof(v)) == 0;
}

size_t wg_udp_gro_size(const struct msghdr *m)
{
	if (!m->msg_control || m->msg_controllen == 0)
		return 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int seg;
			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			return seg > 0 ? (size_t)seg : 0;
		}
	}
	return 0;
}

enum wg_udp_train_verdict wg_udp_train_start(struct wg_udp_train *t, uint8_t *buf, size_t cap, size_t len, size_t seg,
					     bool cut)
{
	memset(t, 0, sizeof(*t));
	if (!buf || len == 0 || len > cap)
		return WG_UDP_TRAIN_BAD;
	if (cut) {
		/* Only the datagrams that end before the cut are whole; the
		 * one the cut fell into (or right after) is lost. A single
		 * datagram, or a first one, that was cut leaves nothing. */
		if (seg == 0 || seg > len)
			return WG_UDP_TRAIN_BAD;
		len -= len % seg;
	}
	if (seg == 0 || seg > len) /* one datagram */
		seg = len;
	t->next = buf;
	t->left = len;
	t->seg = seg;
	return cut ? WG_UDP_TRAIN_CUT : WG_UDP_TRAIN_WHOLE;
}

bool wg_udp_train_next(struct wg_udp_train *t, uint8_t **d, size_t *n)
{
	size_t k;

	if (t->left == 0 || t->seg == 0)
		return false;
	k = t->left < t->seg ? t->left : t->seg;
	*d = t->next;
	*n = k;
	t->next += k;
	t->left -= k;
	return true;
}
