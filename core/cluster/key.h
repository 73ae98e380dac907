/* Names of the cluster's Redis keys. A session is stored under the keyed
 * hash of its cookie, never the cookie: HMAC-SHA256(cluster key, cookie) in
 * hex, so reading Redis yields nothing a client could present. Pure. */
#ifndef WG_CLUSTER_KEY_H
#define WG_CLUSTER_KEY_H

#include <stddef.h>
#include <stdint.h>

#define WG_CLUSTER_HASH_HEX 65 /* 64 digits and a NUL */
#define WG_CLUSTER_MIN_SECRET 32

/* hex = HMAC-SHA256(secret, cookie). 0, or -1 (wolfCrypt failed). */
int wg_cluster_cookie_hash(const uint8_t *secret, size_t secret_len, const uint8_t *cookie, size_t cookie_len,
			   char hex[WG_CLUSTER_HASH_HEX]);
/* "<prefix>s:<hash>" into out. 0, or -1 when it does not fit. */
int wg_cluster_session_key(const char *prefix, const char *hash_hex, char *out, size_t outlen);

#endif
