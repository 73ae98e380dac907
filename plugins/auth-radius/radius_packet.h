/* RADIUS packets on the wire (RFC 2865), for Access-Request: built with a
 * Message-Authenticator (RFC 3579 3.2) as the first attribute, and replies
 * checked for their Response Authenticator and a Message-Authenticator,
 * which the BlastRADIUS attack (CVE-2024-3596) makes mandatory: without it
 * a man in the middle can forge an Access-Accept by an MD5 collision.
 * Pure functions (Nettle's MD5 and HMAC-MD5, as radcli uses), no I/O and no radcli, so
 * the reply check is fuzzed and unit-tested on crafted packets. */
#ifndef WG_RADIUS_PACKET_H
#define WG_RADIUS_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RADIUS_PKT_MAX 4096
#define RADIUS_HDR_LEN 20
#define RADIUS_CODE_ACCESS_REQUEST 1
#define RADIUS_CODE_ACCESS_ACCEPT 2
#define RADIUS_CODE_ACCESS_REJECT 3
#define RADIUS_CODE_ACCESS_CHALLENGE 11
#define RADIUS_ATTR_USER_PASSWORD 2
#define RADIUS_ATTR_MESSAGE_AUTHENTICATOR 80
#define RADIUS_ATTR_VENDOR_SPECIFIC 26
/* How radcli (1.2) numbers a vendor's attribute in its dictionary and lists. */
#define RADIUS_VSA_ID(type, vendor) ((unsigned)(vendor) << 16 | (unsigned)(type))
#define RADIUS_VENDOR_WISPR 14122          /* WISPr-Bandwidth-Max-Up 7, -Down 8: bit/s */
#define RADIUS_VENDOR_ROARING_PENGUIN 10055 /* RP-Upstream-Speed-Limit 1, RP-Downstream- 2: kbit/s */

/* One attribute to send: its value as it goes on the wire, except
 * User-Password, given in clear and hidden here (RFC 2865 5.2). */
struct radius_wire_attr {
	uint8_t type;
	const uint8_t *value;
	size_t len; /* 1..253 (a password up to 128) */
};

/* Writes an Access-Request into out (at least RADIUS_PKT_MAX bytes):
 * header with `id` and the random `authenticator`, Message-Authenticator
 * first, then attrs. Returns its length, or -1 when an attribute does not
 * fit or is empty. */
int radius_request_build(uint8_t *out, uint8_t id, const uint8_t authenticator[16], const struct radius_wire_attr *attrs,
			 size_t n, const char *secret);

/* Checks a reply to the request with `id` and `authenticator`: length,
 * code (Accept, Reject, Challenge), id, attribute framing, the Response
 * Authenticator, and the Message-Authenticator (required when
 * require_ma, checked whenever present). Returns 0, or -1 with the reason
 * in why. */
int radius_reply_check(const uint8_t *pkt, size_t len, uint8_t id, const uint8_t authenticator[16], const char *secret,
		       bool require_ma, char *why, size_t whylen);

/* Walks the attributes of a checked packet: *pos starts at RADIUS_HDR_LEN.
 * Returns true with type, value and length of the next one. */
/* One sub-attribute of a Vendor-Specific attribute (26) in the common
 * layout (RFC 2865 5.26: vendor id, then type, length, value): walks the
 * VSA's value from *pos (start at 4, past the vendor id). False at the end
 * or on a malformed sub-attribute; *vendor is the VSA's vendor id. */
bool radius_vsa_next(const uint8_t *vsa, size_t vlen, size_t *pos, uint32_t *vendor, uint8_t *type,
		     const uint8_t **value, size_t *sublen);
bool radius_attr_next(const uint8_t *pkt, size_t len, size_t *pos, uint8_t *type, const uint8_t **value,
		      size_t *vlen);

#endif
