/* Address arithmetic on text forms: pools, leases. */
#ifndef WG_ADDR_H
#define WG_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* An IPv6 address ("fd00::5" or "fd00::5/64") as 16 bytes: 0 or -1. */
int wg_addr_parse6(const char *text, uint8_t out[16]);
/* Parses "10.8.0.0/24" or "fd00::/64" into the first host address as text
 * ("10.8.0.1") and the prefix length. Returns 0 or -1. */
int wg_net_first_host(const char *cidr, char *addr, size_t addrlen, unsigned *prefix);

#endif
