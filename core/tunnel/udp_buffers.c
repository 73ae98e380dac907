/* The DTLS socket's buffers (see udp_buffers.h). */
#include "tunnel/udp_buffers.h"

#include <errno.h>
#include <sys/socket.h>

/* One direction: the forcing option, then the capped one. Returns 1 if the
 * forcing option took, 0 otherwise. */
static int set_one(int fd, int force_opt, int opt, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) == 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes)); /* best effort: capped by the sysctl */
	return 0;
}

int wg_udp_buffers_set(int fd, int bytes, struct wg_udp_buffers *got)
{
	struct wg_udp_buffers g = {0, 0, 0};
	socklen_t len = sizeof(g.rcv);

	if (bytes > 0)
		g.forced = set_one(fd, SO_RCVBUFFORCE, SO_RCVBUF, bytes) & set_one(fd, SO_SNDBUFFORCE, SO_SNDBUF, bytes);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &g.rcv, &len) < 0)
		return -errno;
	len = sizeof(g.snd);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &g.snd, &len) < 0)
		return -errno;
	if (got)
		*got = g;
	return 0;
}
