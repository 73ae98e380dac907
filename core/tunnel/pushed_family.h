/* The session's pre-rendered X-CSTP-* configuration (session->pushed),
 * fitted to what the client's CONNECT said it can use: the address
 * families of X-CSTP-Address-Type, and X-CSTP-Full-IPv6-Capability, which
 * decides how IPv6 routes are named. */
#ifndef WG_PUSHED_FAMILY_H
#define WG_PUSHED_FAMILY_H

#include <stdbool.h>
#include <stddef.h>

struct wg_client_families {
	bool want4, want6; /* X-CSTP-Address-Type (both when absent) */
	/* X-CSTP-Full-IPv6-Capability: true. IPv6 routes go out as
	 * X-CSTP-Split-Include-IP6 / -Exclude-IP6 (what Cisco's clients read);
	 * without it as plain -Include / -Exclude with the IPv6 prefix, as
	 * ocserv does (openconnect reads both names alike). */
	bool full6;
};

/* Copies pushed (header lines, each ending in \r\n, IPv6 routes named
 * -IP6) into out, dropping the routes and DNS servers of a family the
 * client does not want and renaming IPv6 routes for a client without full
 * IPv6. Returns the length written (NUL-terminated), or -1 when out is
 * too small. */
long wg_pushed_for_client(const char *pushed, const struct wg_client_families *f, char *out, size_t outlen);

#endif
