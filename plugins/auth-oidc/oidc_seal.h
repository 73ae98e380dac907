/* auth-oidc, browser SSO: the secrets of one browser login and the
 * envelope that carries its token to openconnect's external-browser
 * listener.
 *
 * openconnect (9.x built with "HPKE support", as Debian's is) sends a P-256
 * public key in every request (X-AnyConnect-STRAP-DH-Pubkey: base64 DER
 * SubjectPublicKeyInfo), listens on http://localhost:29786/ and waits for
 * the browser to be sent to /api/sso/<base64 blob>?return=<url>. The blob
 * (read from openconnect's hpke.c) is 0x0001 followed by TLVs (16-bit big
 * endian type and length): 1 the server's ephemeral P-256 public key (DER
 * SPKI), 2 the AES-GCM tag (12 bytes), 3 the ciphertext, 4 the IV (12
 * bytes). The key: ECDH of the two keys (the x coordinate), then HKDF-SHA256
 * with no salt and info "AC_ECIES", 32 bytes, for AES-256-GCM without
 * associated data. The plaintext is the token the client then submits,
 * which must be alphanumeric. */
#ifndef WG_OIDC_SEAL_H
#define WG_OIDC_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define OIDC_SECRET_LEN 43   /* base64url of 32 random bytes: state, nonce, PKCE verifier */
#define OIDC_SSO_TOKEN_LEN 32 /* alphanumeric */
#define OIDC_BLOB_B64_MAX 512

/* 32 random bytes as base64url (43 characters and a NUL). 0 or -1. */
int oidc_random_b64url(char out[OIDC_SECRET_LEN + 1]);
/* OIDC_SSO_TOKEN_LEN random letters and digits. 0 or -1. */
int oidc_random_alnum(char out[OIDC_SSO_TOKEN_LEN + 1]);
/* RFC 7636 S256: base64url(SHA-256(verifier)). 0 or -1. */
int oidc_pkce_challenge(const char *verifier, char out[OIDC_SECRET_LEN + 1]);

/* The envelope of `token` for the client key dh_pubkey_b64 (the header's
 * value), as standard base64 into out. 0, or -1 with why (a key that is
 * not a P-256 public key). */
int oidc_seal_token(const char *dh_pubkey_b64, const char *token, char *out, size_t outlen, char *why,
		    size_t whylen);

/* The other way, for the tests (what openconnect does with its private key,
 * given as DER PKCS#8 or traditional EC): the token, or -1. */
int oidc_unseal_token(const uint8_t *priv_der, size_t priv_len, const char *blob_b64, char *token, size_t tokenlen);

#endif
