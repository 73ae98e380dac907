/* The sockets the server serves clients on: TCP for TLS, UDP for DTLS,
 * made the same way by a single process and by the master of several
 * workers. */
#ifndef WG_LISTEN_SOCKET_H
#define WG_LISTEN_SOCKET_H

#include <stdbool.h>
#include <sys/socket.h>

/* "listen" text (an IPv4 or IPv6 address) and a port as a socket address:
 * 0, or -1 when host is not an IP address. */
int wg_listen_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len);

/* A nonblocking socket of type SOCK_STREAM (listening) or SOCK_DGRAM bound
 * to addr; reuseport: one of an SO_REUSEPORT group. Returns the fd or
 * -errno. */
int wg_listen_socket(const struct sockaddr *addr, socklen_t len, int type, bool reuseport);

#endif
