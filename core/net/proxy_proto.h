/* haproxy's PROXY protocol (versions 1 and 2): the header a load balancer
 * puts in front of the client's bytes to say whose connection it relays.
 * Pure parsing, no I/O: conn_proxy.c reads the bytes and hands them here. */
#ifndef WG_PROXY_PROTO_H
#define WG_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest header accepted: a version 1 line is at most 107 bytes; a
 * version 2 header is 16 bytes plus its addresses (36 for IPv6) and TLVs,
 * which haproxy keeps far below this. Longer ones are refused. */
#define WG_PROXY_MAX_HEADER 1024

struct wg_proxy_header {
	/* false: the relay speaks for itself (v1 UNKNOWN, v2 LOCAL, or a family
	 * other than IPv4/IPv6): the socket's own address stands. */
	bool has_source;
	struct sockaddr_storage source; /* the client, when has_source */
	socklen_t source_len;
};

/* Parses the header at the start of buf (len bytes read so far). Returns
 * the header's length (> 0; the bytes after it are the client's), 0 when
 * more bytes are needed to decide, or -1 with *err set to why the bytes are
 * not a valid header. */
int wg_proxy_parse(const uint8_t *buf, size_t len, struct wg_proxy_header *out, const char **err);

/* True when buf starts like a PROXY header (v1 or v2): used to refuse one
 * with a clear reason on a listener that does not expect it. */
bool wg_proxy_looks_like_header(const uint8_t *buf, size_t len);

#endif
