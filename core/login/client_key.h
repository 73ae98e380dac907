/* Which client addresses count as one client, for bans and for the
 * per-address limits (pre-login connections, login conversations). An IPv4
 * address is one client; an IPv6 client is its prefix of `prefix6` bits
 * (ipv6-client-prefix, default 64: one subscriber's network, since any host
 * there can pick fresh addresses at will). IPv4-mapped IPv6 is IPv4. */
#ifndef WG_CLIENT_KEY_H
#define WG_CLIENT_KEY_H

#include <stddef.h>
#include <stdint.h>

#define WG_CLIENT_KEY_LEN 16
/* Longest text of a key: an IPv6 address and "/128". */
#define WG_CLIENT_KEY_TEXT 52

/* The key of an address given as text; a "/N" suffix is accepted and
 * ignored (the configured prefix applies). Returns 0, or -1 when text is
 * not an IP address. With text_out (WG_CLIENT_KEY_TEXT bytes) also the
 * canonical text: "192.0.2.7", or "2001:db8:1:2::/64" (no suffix at 128). */
int wg_client_key(const char *text, unsigned prefix6, uint8_t key[WG_CLIENT_KEY_LEN], char *text_out);

#endif
