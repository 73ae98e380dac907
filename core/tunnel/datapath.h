/* Packets between the TUN device and sessions. */
#ifndef WG_DATAPATH_H
#define WG_DATAPATH_H

#include <stddef.h>
#include <stdint.h>

struct wg_server;
struct wg_session;

/* TUN readable: reads a bounded burst and sends each packet to the session
 * that owns its destination address, over its active lane, else CSTP. */
void wg_datapath_tun_readable(struct wg_server *srv);
/* A packet from a client (CSTP or a lane): source address checked against the
 * session's lease, then written to the TUN device. */
void wg_datapath_from_client(struct wg_session *s, const uint8_t *pkt, size_t len);
/* Around a burst of client packets (one recvmmsg, one TLS read loop):
 * packets written in between are merged per TCP flow into super-packets
 * and written at rx_end. */
void wg_datapath_rx_begin(struct wg_server *srv);
void wg_datapath_rx_end(struct wg_server *srv);

#endif
