/* openconnect's --servercert pin-sha256: base64 of the SHA-256 of the
 * server key's DER SubjectPublicKeyInfo, as core/net/tls.c prints it. */
#include "client.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <stdio.h>

int wgc_peer_pin(WOLFSSL *ssl, char *out, size_t outlen)
{
	WOLFSSL_X509 *x = wolfSSL_get_peer_certificate(ssl);
	unsigned char spki[4096], hash[WC_SHA256_DIGEST_SIZE];
	int spki_len = sizeof(spki);
	byte b64[64];
	word32 b64len = sizeof(b64);
	int rc = -1;

	if (!x)
		return -1;
	if (wolfSSL_X509_get_pubkey_buffer(x, spki, &spki_len) == WOLFSSL_SUCCESS && spki_len > 0 &&
	    wc_Sha256Hash(spki, (word32)spki_len, hash) == 0 &&
	    Base64_Encode_NoNl(hash, sizeof(hash), b64, &b64len) == 0 &&
	    (size_t)snprintf(out, outlen, "pin-sha256:%.*s", (int)b64len, (char *)b64) < outlen)
		rc = 0;
	wolfSSL_X509_free(x);
	return rc;
}
