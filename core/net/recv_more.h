/* Reading a connection's first bytes by hand, before TLS owns the socket
 * (the PROXY header, the ClientHello): one shared step for both readers. */
#ifndef WG_NET_RECV_MORE_H
#define WG_NET_RECV_MORE_H

#include <stddef.h>
#include <stdint.h>

/* Appends what fd has ready to buf[*len..cap). 1 when bytes came (*len
 * grown), 0 when none are ready yet, -1 with the reason in *why: the peer
 * closed (closed_why) or the socket failed (strerror). EINTR is retried. */
int wg_recv_more(int fd, uint8_t *buf, size_t *len, size_t cap, const char *closed_why, const char **why);

#endif
