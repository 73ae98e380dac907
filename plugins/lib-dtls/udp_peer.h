/* A UDP peer's address as the DTLS servers key, print and cookie it.
 *
 * IPv4 is held as v4-mapped IPv6 (::ffff:a.b.c.d), so a dual-stack socket
 * gives one key per peer whichever form recvmmsg reports. */
#ifndef WG_UDP_PEER_H
#define WG_UDP_PEER_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A fixed-size hash key: no padding, so it may be hashed and compared as bytes. */
struct wg_peer_key {
	uint8_t addr[16];
	uint16_t port; /* network order */
} __attribute__((packed));

#define WG_PEER_TEXT_MAX 64 /* "[v6 address]:port" and its NUL */

void wg_peer_key_make(const struct sockaddr *sa, struct wg_peer_key *k);
/* "198.51.100.7:50432" or "[2001:db8::1]:50432". */
void wg_peer_format(const struct sockaddr *sa, char *out, size_t len);
/* The address a DTLS cookie binds: built from the key, never from what
 * recvmmsg left in flow labels or padding (wolfSSL HMACs these bytes). */
void wg_peer_cookie_addr(const struct wg_peer_key *k, struct sockaddr_in6 *out);
/* The port a bound UDP socket has (host order), or -1. */
int wg_udp_socket_port(int fd);

#endif
