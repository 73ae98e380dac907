/* One step of reading a connection's first bytes (recv_more.h). */
#include "net/recv_more.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int wg_recv_more(int fd, uint8_t *buf, size_t *len, size_t cap, const char *closed_why, const char **why)
{
	for (;;) {
		ssize_t n = recv(fd, buf + *len, cap - *len, 0);
		if (n > 0) {
			*len += (size_t)n;
			return 1;
		}
		if (n == 0) {
			*why = closed_why;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		*why = strerror(errno);
		return -1;
	}
}
