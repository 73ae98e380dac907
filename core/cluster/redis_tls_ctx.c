/* The wolfSSL side of TLS to Redis that the server and wolfguardctl share
 * (redis_tls_ctx.h). */
#include "cluster/redis_tls_ctx.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "cluster/redis_tls_name.h"

struct wg_redis_tls {
	WOLFSSL_CTX *ctx;
	char *server_name;
	/* server_name as an address: its length (4 or 16, 0 for a DNS name),
	 * its bytes, and its text as wolfSSL prints a certificate's. */
	int ip_len;
	unsigned char ip[16];
	char ip_text[WG_REDIS_TLS_IP_TEXT];
	const char *stem; /* static: the options' stem in messages */
};

void wg_redis_tls_reason(const struct wg_redis_tls *t, const char *what, int err, char *buf, size_t len)
{
	char reason[WOLFSSL_MAX_ERROR_SZ], hint[64] = "";

	if (err == ASN_NO_SIGNER_E)
		snprintf(hint, sizeof(hint), ": not signed by a CA of %s-ca", t->stem);
	else if (err == DOMAIN_NAME_MISMATCH || err == IPADDR_MISMATCH)
		snprintf(hint, sizeof(hint), ": not issued for %s-name", t->stem);
	wolfSSL_ERR_error_string_n((unsigned long)err, reason, sizeof(reason));
	/* hiredis's errstr is 128 bytes: the reason is cut first, the hint stays. */
	snprintf(buf, len, "TLS %s: %.*s (%d)%s", what, 40, reason, err, hint);
}

struct WOLFSSL *wg_redis_tls_session(const struct wg_redis_tls *t, int fd)
{
	WOLFSSL *ssl = wolfSSL_new(t->ctx);

	if (!ssl)
		return NULL;
	if (wolfSSL_set_fd(ssl, fd) != WOLFSSL_SUCCESS)
		goto fail;
	if (t->ip_len) {
		/* No SNI: it never carries an address (RFC 6066, 3). wolfSSL
		 * refuses a certificate without the address in the handshake;
		 * wg_redis_tls_check_peer() then makes sure it was an IP SAN. */
		WOLFSSL_X509_VERIFY_PARAM *param = wolfSSL_get0_param(ssl);
		if (!param || wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(param, t->ip_text) != WOLFSSL_SUCCESS)
			goto fail;
	} else if (wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, t->server_name, (unsigned short)strlen(t->server_name)) !=
			   WOLFSSL_SUCCESS ||
		   wolfSSL_check_domain_name(ssl, t->server_name) != WOLFSSL_SUCCESS) {
		goto fail;
	}
	return ssl;
fail:
	wolfSSL_free(ssl);
	return NULL;
}

int wg_redis_tls_check_peer(const struct wg_redis_tls *t, struct WOLFSSL *ssl, char *buf, size_t len)
{
	WOLFSSL_X509 *x;
	bool ok;

	if (!t->ip_len)
		return 0; /* wolfSSL matched the DNS name in the handshake */
	x = wolfSSL_get_peer_certificate(ssl);
	ok = wg_redis_tls_cert_has_ip(x, t->ip, t->ip_len);
	if (x)
		wolfSSL_X509_free(x);
	if (ok)
		return 0;
	/* wolfSSL took a dNSName or common name spelled like the address.
	 * The name is cut so that the hint fits hiredis's 128-byte errstr. */
	snprintf(buf, len, "TLS handshake failed: certificate has no IP SAN %.40s: not issued for %s-name",
		 t->server_name, t->stem);
	return -1;
}

struct wg_redis_tls *wg_redis_tls_new(const struct wg_redis_tls_opts *o, char *err, size_t errlen)
{
	struct wg_redis_tls *t = calloc(1, sizeof(*t));
	const char *s = o->option_stem ? o->option_stem : "cluster-redis-tls";

	if (!t || !(t->server_name = strdup(o->server_name ? o->server_name : "")) ||
	    !(t->ctx = wolfSSL_CTX_new(wolfSSLv23_client_method()))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	t->stem = s;
	if (!o->ca_file || !*o->ca_file) {
		snprintf(err, errlen, "TLS to redis needs %s-ca (the CA that signed Redis's certificate)", s);
		goto fail;
	}
	if (!*t->server_name) {
		snprintf(err, errlen, "TLS to redis needs a server name (%s-name)", s);
		goto fail;
	}
	const char *why = wg_redis_tls_name_problem(t->server_name);
	if (why) {
		snprintf(err, errlen, "%s-name \"%s\": %s", s, t->server_name, why);
		goto fail;
	}
	if ((t->ip_len = wg_redis_tls_name_ip(t->server_name, t->ip)))
		wg_redis_tls_ip_text(t->ip, t->ip_len, t->ip_text, sizeof(t->ip_text));
	if (wolfSSL_CTX_SetMinVersion(t->ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cannot require TLS 1.2");
		goto fail;
	}
	if (wolfSSL_CTX_load_verify_locations(t->ctx, o->ca_file, NULL) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s-ca %s: cannot be read as PEM certificates", s, o->ca_file);
		goto fail;
	}
	wolfSSL_CTX_set_verify(t->ctx, WOLFSSL_VERIFY_PEER, NULL);
	if ((o->cert_file && *o->cert_file) != (o->key_file && *o->key_file)) {
		snprintf(err, errlen, "%s-cert and %s-key go together", s, s);
		goto fail;
	}
	if (o->cert_file && *o->cert_file) {
		if (wolfSSL_CTX_use_certificate_chain_file(t->ctx, o->cert_file) != WOLFSSL_SUCCESS) {
			snprintf(err, errlen, "%s-cert %s: cannot be read as a PEM certificate", s, o->cert_file);
			goto fail;
		}
		if (wolfSSL_CTX_use_PrivateKey_file(t->ctx, o->key_file, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
		    wolfSSL_CTX_check_private_key(t->ctx) != WOLFSSL_SUCCESS) {
			snprintf(err, errlen, "%s-key %s: unreadable, or not the key of %s-cert", s, o->key_file, s);
			goto fail;
		}
	}
	return t;
fail:
	wg_redis_tls_free(t);
	return NULL;
}

void wg_redis_tls_free(struct wg_redis_tls *t)
{
	if (!t)
		return;
	if (t->ctx)
		wolfSSL_CTX_free(t->ctx);
	free(t->server_name);
	free(t);
}
