#ifndef WG_PRIVSEP_PROTO_H
#define WG_PRIVSEP_PROTO_H
/* Messages between the unprivileged server and its privileged helper
 * (core/confine/privsep.c). One message is one SOCK_SEQPACKET datagram:
 *
 *   request: u8 type, u8 field count, then per field: u16 length (big
 *            endian) and that many bytes (no NUL inside).
 *   reply:   u8 type (echoes the request), i32 status (big endian),
 *            u16 text length, text; an OPEN_APPEND reply that succeeded
 *            carries the descriptor as SCM_RIGHTS.
 *
 * Every length is checked against the datagram and against the per-field
 * limit of the message type before anything is used; trailing bytes are an
 * error. The helper trusts nothing the server sends: the server is the
 * process facing the network and may be compromised. */
#include <stddef.h>
#include <stdint.h>

#define WG_PRIV_MSG_MAX 4096
#define WG_PRIV_MAX_FIELDS 3
#define WG_PRIV_TEXT_MAX 256

enum wg_priv_type {
	WG_PRIV_PING = 1,        /* no fields; status 0 */
	WG_PRIV_OPEN_APPEND = 2, /* path; the path must have been opened before the drop */
	WG_PRIV_PAM_AUTH = 3,    /* service, user, password; status 0 ok, 1 denied, <0 -errno */
};

struct wg_priv_field {
	const char *p; /* not NUL-terminated when decoded: points into the buffer */
	size_t len;
};

struct wg_priv_request {
	uint8_t type;
	uint8_t n;
	struct wg_priv_field f[WG_PRIV_MAX_FIELDS];
};

struct wg_priv_reply {
	uint8_t type;
	int32_t status;
	char text[WG_PRIV_TEXT_MAX + 1]; /* NUL-terminated */
};

/* Encodes a request; returns its length, or -1 when it would not fit or a
 * field breaks its type's limits. */
int wg_priv_request_encode(const struct wg_priv_request *rq, uint8_t *buf, size_t cap);
/* Decodes and validates (type known, field count and each length within the
 * type's limits, no NUL, nothing left over). Returns 0 or -1 with *why set. */
int wg_priv_request_decode(const uint8_t *buf, size_t len, struct wg_priv_request *rq, const char **why);
int wg_priv_reply_encode(const struct wg_priv_reply *r, uint8_t *buf, size_t cap);
int wg_priv_reply_decode(const uint8_t *buf, size_t len, struct wg_priv_reply *r, const char **why);
/* Copies a decoded field into out (NUL-terminated); -1 if it does not fit. */
int wg_priv_field_copy(const struct wg_priv_field *f, char *out, size_t cap);

#endif
