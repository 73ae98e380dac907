/* auth-oidc, browser SSO: random secrets, PKCE and the external-browser
 * envelope (see oidc_seal.h), with OpenSSL's libcrypto (libcjose's own
 * cryptography, already in the process). */
#include "oidc_seal.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define TAG_LEN 12 /* openconnect compares 12 bytes of the GCM tag */
#define IV_LEN 12
#define KEY_DER_MAX 256
#define TOKEN_MAX 128

static void to_b64url(char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == '=')
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

int oidc_random_b64url(char out[OIDC_SECRET_LEN + 1])
{
	unsigned char raw[32];
	char b64[48];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw));
	to_b64url(b64);
	memcpy(out, b64, OIDC_SECRET_LEN + 1);
	return 0;
}

int oidc_random_alnum(char out[OIDC_SSO_TOKEN_LEN + 1])
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = 0;

	while (n < OIDC_SSO_TOKEN_LEN) {
		unsigned char b[OIDC_SSO_TOKEN_LEN];
		if (RAND_bytes(b, sizeof(b)) != 1)
			return -1;
		for (size_t i = 0; i < sizeof(b) && n < OIDC_SSO_TOKEN_LEN; i++)
			if (b[i] < 248) /* 248 = 4 * 62: no bias */
				out[n++] = set[b[i] % 62];
	}
	out[n] = '\0';
	return 0;
}

int oidc_pkce_challenge(const char *verifier, char out[OIDC_SECRET_LEN + 1])
{
	unsigned char md[32];
	char b64[48];
	unsigned int mdlen = 0;

	if (!EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL) || mdlen != sizeof(md))
		return -1;
	EVP_EncodeBlock((unsigned char *)b64, md, sizeof(md));
	to_b64url(b64);
	memcpy(out, b64, OIDC_SECRET_LEN + 1);
	return 0;
}

/* Standard base64 (the header, the blob) into out; the length, or -1. */
static long b64_decode(const char *in, unsigned char *out, size_t outlen)
{
	size_t n = strlen(in), pad = 0;
	int got;

	if (n == 0 || n % 4 || n / 4 * 3 > outlen)
		return -1;
	while (pad < 2 && in[n - 1 - pad] == '=')
		pad++;
	got = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	return got < 0 ? -1 : (long)got - (long)pad;
}

/* The 32-byte AES key from ECDH(mine, theirs): HKDF-SHA256, no salt,
 * info "AC_ECIES" (openconnect's hpke.c). */
static int derive_key(EVP_PKEY *mine, EVP_PKEY *theirs, unsigned char key[32])
{
	unsigned char secret[32];
	size_t slen = sizeof(secret), klen = 32;
	EVP_PKEY_CTX *dh = EVP_PKEY_CTX_new(mine, NULL), *kdf = NULL;
	int rc = -1;

	if (!dh || EVP_PKEY_derive_init(dh) <= 0 || EVP_PKEY_derive_set_peer(dh, theirs) <= 0 ||
	    EVP_PKEY_derive(dh, secret, &slen) <= 0 || slen != sizeof(secret))
		goto out;
	kdf = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	if (!kdf || EVP_PKEY_derive_init(kdf) <= 0 || EVP_PKEY_CTX_set_hkdf_md(kdf, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_key(kdf, secret, sizeof(secret)) <= 0 ||
	    EVP_PKEY_CTX_add1_hkdf_info(kdf, (const unsigned char *)"AC_ECIES", 8) <= 0 ||
	    EVP_PKEY_derive(kdf, key, &klen) <= 0 || klen != 32)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	EVP_PKEY_CTX_free(dh);
	EVP_PKEY_CTX_free(kdf);
	return rc;
}

static bool is_p256(EVP_PKEY *k)
{
	char group[32] = "";
	size_t glen = 0;

	return k && EVP_PKEY_is_a(k, "EC") && EVP_PKEY_get_group_name(k, group, sizeof(group), &glen) == 1 &&
	       strcmp(group, "prime256v1") == 0;
}

/* AES-256-GCM in one go; enc: 1 seal, 0 open (tag checked). 0 or -1. */
static int gcm(int enc, const unsigned char key[32], const unsigned char iv[IV_LEN], const unsigned char *in,
	       int len, unsigned char *out, unsigned char tag[TAG_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned char full[16];
	int n = 0, fin = 0, rc = -1;

	if (!c || EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) != 1 || EVP_CipherUpdate(c, out, &n, in, len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + n, &fin) != 1)
		goto out;
	if (enc) {
		if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, sizeof(full), full) != 1)
			goto out;
		memcpy(tag, full, TAG_LEN); /* a truncated GCM tag is its prefix */
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

static size_t put_tlv(unsigned char *b, size_t at, unsigned type, const unsigned char *v, size_t len)
{
	b[at] = (unsigned char)(type >> 8);
	b[at + 1] = (unsigned char)type;
	b[at + 2] = (unsigned char)(len >> 8);
	b[at + 3] = (unsigned char)len;
	memcpy(b + at + 4, v, len);
	return at + 4 + len;
}

int oidc_seal_token(const char *dh_pubkey_b64, const char *token, char *out, size_t outlen, char *why,
		    size_t whylen)
{
	unsigned char der[KEY_DER_MAX], key[32], iv[IV_LEN], tag[TAG_LEN], ct[TOKEN_MAX];
	unsigned char blob[2 + 4 + KEY_DER_MAX + 4 + TAG_LEN + 4 + TOKEN_MAX + 4 + IV_LEN];
	unsigned char *eph_der = NULL;
	const unsigned char *p = der;
	size_t tlen = strlen(token), at;
	long dlen = strlen(dh_pubkey_b64) < 2 * KEY_DER_MAX ? b64_decode(dh_pubkey_b64, der, sizeof(der)) : -1;
	EVP_PKEY *peer = NULL, *eph = NULL;
	int elen, rc = -1;

	if (dlen <= 0 || !(peer = d2i_PUBKEY(NULL, &p, dlen)) || p != der + dlen || !is_p256(peer)) {
		snprintf(why, whylen, "the client's X-AnyConnect-STRAP-DH-Pubkey is not a P-256 public key");
		goto out;
	}
	if (tlen == 0 || tlen > TOKEN_MAX || !(eph = EVP_EC_gen("P-256")) || derive_key(eph, peer, key) < 0 ||
	    RAND_bytes(iv, sizeof(iv)) != 1 || gcm(1, key, iv, (const unsigned char *)token, (int)tlen, ct, tag) < 0 ||
	    (elen = i2d_PUBKEY(eph, &eph_der)) <= 0 || elen > KEY_DER_MAX) {
		snprintf(why, whylen, "sealing the token for the client failed (libcrypto)");
		goto out;
	}
	blob[0] = 0;
	blob[1] = 1;
	at = put_tlv(blob, 2, 1, eph_der, (size_t)elen);
	at = put_tlv(blob, at, 2, tag, TAG_LEN);
	at = put_tlv(blob, at, 3, ct, tlen);
	at = put_tlv(blob, at, 4, iv, IV_LEN);
	if (outlen < (at + 2) / 3 * 4 + 1) {
		snprintf(why, whylen, "the sealed token does not fit");
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)out, blob, (int)at);
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_free(eph_der);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(eph);
	return rc;
}

int oidc_unseal_token(const uint8_t *priv_der, size_t priv_len, const char *blob_b64, char *token, size_t tokenlen)
{
	unsigned char blob[1024], key[32];
	const unsigned char *f[5] = {NULL}, *p;
	size_t flen[5] = {0};
	long n = strlen(blob_b64) < 1300 ? b64_decode(blob_b64, blob, sizeof(blob)) : -1;
	EVP_PKEY *mine = NULL, *theirs = NULL;
	int rc = -1;

	if (n < 2 || blob[0] != 0 || blob[1] != 1)
		return -1;
	for (long at = 2; at < n;) {
		unsigned type, len;
		if (at + 4 > n)
			return -1;
		type = (unsigned)blob[at] << 8 | blob[at + 1];
		len = (unsigned)blob[at + 2] << 8 | blob[at + 3];
		if (type < 1 || type > 4 || f[type] || at + 4 + (long)len > n)
			return -1;
		f[type] = blob + at + 4;
		flen[type] = len;
		at += 4 + (long)len;
	}
	if (!f[1] || !f[2] || !f[3] || !f[4] || flen[2] != TAG_LEN || flen[4] != IV_LEN || flen[3] + 1 > tokenlen)
		return -1;
	p = priv_der;
	mine = d2i_AutoPrivateKey(NULL, &p, (long)priv_len);
	p = f[1];
	theirs = d2i_PUBKEY(NULL, &p, (long)flen[1]);
	if (mine && is_p256(theirs) && derive_key(mine, theirs, key) == 0 &&
	    gcm(0, key, f[4], f[3], (int)flen[3], (unsigned char *)token, (unsigned char *)f[2]) == 0) {
		token[flen[3]] = '\0';
		rc = 0;
	}
	OPENSSL_cleanse(key, sizeof(key));
	EVP_PKEY_free(mine);
	EVP_PKEY_free(theirs);
	return rc;
}
