/* wolfSSL server context for the TLS (CSTP) listener. */
#include "net/tls.h"

#include <stdio.h>
#include <string.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "config/config.h"
#include "util/log.h"

/* AEAD suites only, AES-GCM first: AES-NI makes it several times cheaper
 * than ChaCha20 per byte on the server. wolfSSL picks in this (the server's)
 * order. */
static const char default_ciphers[] =
	"TLS13-AES256-GCM-SHA384:TLS13-AES128-GCM-SHA256:TLS13-CHACHA20-POLY1305-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
	"DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:"
	"AES256-GCM-SHA384:AES128-GCM-SHA256";

/* Client certificates: asked for only when a ca-file is configured. An
 * invalid or revoked certificate fails the handshake; a missing one fails it
 * only with client-certificate "required", otherwise the login goes on
 * without one and an auth-cert step refuses it there with a message. */
static int client_cert_setup(WOLFSSL_CTX *ctx, const struct wg_config *scfg, char *err, size_t errlen)
{
	const char *ca = wg_config_string(scfg, "ca-file");
	const char *crl = wg_config_string(scfg, "crl-file");
	const char *mode = wg_config_string(scfg, "client-certificate");
	int verify = WOLFSSL_VERIFY_PEER;

	if (!ca) {
		if (crl || mode) {
			snprintf(err, errlen, "%s: %s needs ca-file", wg_config_where(scfg, crl ? "crl-file" : "client-certificate"),
				 crl ? "crl-file" : "client-certificate");
			return -1;
		}
		return 0;
	}
	if (mode && strcmp(mode, "required") == 0)
		verify |= WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	else if (mode && strcmp(mode, "optional") != 0) {
		snprintf(err, errlen, "%s: client-certificate: must be \"optional\" or \"required\"",
			 wg_config_where(scfg, "client-certificate"));
		return -1;
	}
	if (wolfSSL_CTX_load_verify_locations(ctx, ca, NULL) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: ca-file: cannot load PEM certificates from %s", wg_config_where(scfg, "ca-file"), ca);
		return -1;
	}
	if (crl && (wolfSSL_CTX_EnableCRL(ctx, WOLFSSL_CRL_CHECKALL) != WOLFSSL_SUCCESS ||
		    wolfSSL_CTX_LoadCRLFile(ctx, crl, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)) {
		snprintf(err, errlen, "%s: crl-file: cannot load a PEM CRL from %s", wg_config_where(scfg, "crl-file"), crl);
		return -1;
	}
	wolfSSL_CTX_set_verify(ctx, verify, NULL);
	return 0;
}

WOLFSSL_CTX *wg_tls_ctx_new(const struct wg_config *scfg, char *err, size_t errlen)
{
	const char *cert = wg_config_string(scfg, "certificate");
	const char *key = wg_config_string(scfg, "private-key");
	const char *ciphers = wg_config_string(scfg, "tls-ciphers");
	const char *minv = wg_config_string(scfg, "tls-min-version");
	WOLFSSL_CTX *ctx;

	if (!cert || !key) {
		snprintf(err, errlen, "server: certificate and private-key are required");
		return NULL;
	}
	ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
	if (!ctx) {
		snprintf(err, errlen, "wolfSSL_CTX_new failed");
		return NULL;
	}
	int min = WOLFSSL_TLSV1_2;
	if (minv && strcmp(minv, "1.3") == 0)
		min = WOLFSSL_TLSV1_3;
	else if (minv && strcmp(minv, "1.2") != 0) {
		snprintf(err, errlen, "%s: tls-min-version: must be \"1.2\" or \"1.3\"",
			 wg_config_where(scfg, "tls-min-version"));
		goto fail;
	}
	if (wolfSSL_CTX_SetMinVersion(ctx, min) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cannot set the minimum TLS version");
		goto fail;
	}
	if (wolfSSL_CTX_use_certificate_chain_file(ctx, cert) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: certificate: cannot load PEM chain from %s", wg_config_where(scfg, "certificate"),
			 cert);
		goto fail;
	}
	if (wolfSSL_CTX_use_PrivateKey_file(ctx, key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: private-key: cannot load PEM key from %s", wg_config_where(scfg, "private-key"),
			 key);
		goto fail;
	}
	if (wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "private-key %s does not match certificate %s", key, cert);
		goto fail;
	}
	if (wolfSSL_CTX_set_cipher_list(ctx, ciphers ? ciphers : default_ciphers) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: tls-ciphers: no usable cipher in \"%s\"", wg_config_where(scfg, "tls-ciphers"),
			 ciphers ? ciphers : default_ciphers);
		goto fail;
	}
	if (client_cert_setup(ctx, scfg, err, errlen) < 0)
		goto fail;
	/* Clients that reconnect after a network change resume their TLS
	 * session instead of a full handshake. */
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_SERVER);
	return ctx;
fail:
	wolfSSL_CTX_free(ctx);
	return NULL;
}

int wg_tls_cert_pin(const char *cert_file, char *out, size_t outlen)
{
	WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_file(cert_file, WOLFSSL_FILETYPE_PEM);
	unsigned char spki[4096];
	int spki_len = sizeof(spki);
	unsigned char hash[WC_SHA256_DIGEST_SIZE];
	byte b64[64];
	word32 b64len = sizeof(b64);
	int rc = -1;

	if (!x)
		return -1;
	/* The SubjectPublicKeyInfo as it appears in the certificate: what
	 * openconnect hashes for pin-sha256. */
	if (wolfSSL_X509_get_pubkey_buffer(x, spki, &spki_len) != WOLFSSL_SUCCESS || spki_len <= 0)
		goto out;
	if (wc_Sha256Hash(spki, (word32)spki_len, hash) != 0)
		goto out;
	if (Base64_Encode_NoNl(hash, sizeof(hash), b64, &b64len) != 0)
		goto out;
	if ((size_t)snprintf(out, outlen, "pin-sha256:%.*s", (int)b64len, (char *)b64) < outlen)
		rc = 0;
out:
	wolfSSL_X509_free(x);
	return rc;
}
