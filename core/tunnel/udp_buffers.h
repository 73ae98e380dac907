/* The DTLS socket's kernel buffers, sized from "udp-buffer-bytes". One
 * event loop reads every session's datagrams from this one socket: while
 * the process is off CPU, the receive buffer is all that holds a burst. */
#ifndef WG_UDP_BUFFERS_H
#define WG_UDP_BUFFERS_H

/* What the kernel granted, as getsockopt reports it (bytes; the kernel
 * doubles what is asked for, for its bookkeeping). */
struct wg_udp_buffers {
	int rcv, snd;
	int forced; /* 1: SO_*BUFFORCE took (past net.core.[rw]mem_max) */
};

/* Asks for `bytes` of receive and send buffer on fd: SO_RCVBUFFORCE and
 * SO_SNDBUFFORCE first (root or CAP_NET_ADMIN: past the sysctl maximum),
 * else SO_RCVBUF/SO_SNDBUF (capped at net.core.rmem_max/wmem_max). bytes
 * <= 0 leaves the socket as it is. Fills *got (if non-NULL) with what the
 * socket has afterwards. Returns 0, or -errno if fd is not a socket. */
int wg_udp_buffers_set(int fd, int bytes, struct wg_udp_buffers *got);

#endif
