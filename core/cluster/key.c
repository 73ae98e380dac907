/* Keyed hashes of cookies and the key names built from them (key.h). */
#include "cluster/key.h"

#include <stdio.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include "util/hex.h"

int wg_cluster_cookie_hash(const uint8_t *secret, size_t secret_len, const uint8_t *cookie, size_t cookie_len,
			   char hex[WG_CLUSTER_HASH_HEX])
{
	Hmac h;
	uint8_t mac[WC_SHA256_DIGEST_SIZE];
	int rc = -1;

	if (wc_HmacInit(&h, NULL, INVALID_DEVID) != 0)
		return -1;
	if (wc_HmacSetKey(&h, WC_SHA256, secret, (word32)secret_len) == 0 &&
	    wc_HmacUpdate(&h, cookie, (word32)cookie_len) == 0 && wc_HmacFinal(&h, mac) == 0) {
		wg_hex_encode(mac, sizeof(mac), hex);
		rc = 0;
	}
	wc_HmacFree(&h);
	return rc;
}

int wg_cluster_session_key(const char *prefix, const char *hash_hex, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%ss:%s", prefix, hash_hex);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
