/* Text-level pieces of the auth-radius plugin that need no RADIUS library:
 * the server list grammar, Framed-Route and Class conversions, the group
 * attribute choice and the Acct-Terminate-Cause of a session's end reason.
 * Kept apart so unit tests can compile them without radcli. */
#ifndef WG_RADIUS_ATTRS_H
#define WG_RADIUS_ATTRS_H

#include <stddef.h>
#include <stdint.h>

#define RADIUS_HOST_MAX 256
/* radcli keeps secrets in buffers of 6 * 16 bytes. */
#define RADIUS_SECRET_MAX 96
/* Longest User-Password radcli encodes without cutting it (7 * 16). */
#define RADIUS_PASSWORD_MAX 112
/* Longest value of a RADIUS string attribute. */
#define RADIUS_STRING_MAX 253

/* One entry of the "servers" option:
 *   HOST[:AUTH-PORT[:ACCT-PORT[:SECRET]]]     or    [IPV6]:...
 * Empty fields take their defaults: AUTH-PORT 1812, ACCT-PORT AUTH-PORT+1,
 * SECRET "" (the caller then uses the "secret" option). The secret is the
 * rest of the entry, so it may itself contain ':'. */
struct radius_server_spec {
	char host[RADIUS_HOST_MAX];
	int ipv6;           /* host is an IPv6 literal (written in brackets) */
	uint16_t auth_port;
	uint16_t acct_port;
	char secret[RADIUS_SECRET_MAX + 1];
};

/* Returns 0, or -1 with a reason in err. */
int radius_parse_server(const char *spec, struct radius_server_spec *out, char *err, size_t errlen);

/* A secret radcli can carry: non-empty, at most RADIUS_SECRET_MAX bytes,
 * printable, no blanks or commas (radcli splits its server lists on them).
 * Returns NULL when usable, else what is wrong. */
const char *radius_secret_problem(const char *secret);

/* Framed-Route "198.51.100.0/24 0.0.0.0 1" (RFC 2865 5.22: destination
 * with optional /bits, then gateway and metrics, which a VPN ignores) to
 * "198.51.100.0/24", host bits cleared; a destination without /bits is a
 * host route (/32). Returns 0, or -1 for anything else. */
int radius_route_to_cidr(const char *framed_route, char *out, size_t outlen);
/* Framed-IPv6-Route ("2001:db8::/32 :: 1": prefix, gateway, metrics) ->
 * "2001:db8::/32" (host bits cleared). 0, or -1 when the first word is not
 * an IPv6 prefix with its length. */
int radius_route6_to_cidr(const char *framed_route, char *out, size_t outlen);
/* Framed-IPv6-Prefix's value (reserved byte, prefix length, up to 16 bytes
 * of prefix) -> the address when the length is 128; -1 otherwise. */
int radius_prefix6_address(const uint8_t *v, size_t len, char *out, size_t outlen);

/* Class is opaque octets. As session attribute text it is kept verbatim
 * when it is printable ASCII, else as "0x" and lower-case hex, which
 * radius_class_decode turns back into the same octets for accounting. */
void radius_class_encode(const uint8_t *buf, size_t len, char *out, size_t outlen);
/* Returns the number of octets written to out, or -1. */
int radius_class_decode(const char *text, uint8_t *out, size_t outlen);

enum radius_group_attr { RADIUS_GROUP_NONE = 0, RADIUS_GROUP_FILTER_ID = 1, RADIUS_GROUP_CLASS = 2 };
/* "filter-id", "class" or "none"; -1 for anything else. */
int radius_group_attr_parse(const char *name);

/* Acct-Terminate-Cause (RFC 2866 5.10) for the host's text reason of a
 * session's end: user logout -> User-Request, idle/session timeouts,
 * admin disconnect -> Admin-Reset, server stop -> NAS-Reboot, a client that
 * vanished -> Lost-Carrier; anything else (policy, errors) -> NAS-Request. */
uint32_t radius_terminate_cause(const char *reason);

#endif
