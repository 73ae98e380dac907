/* The wolfSSL side of TLS to Redis that the server and wolfguardctl share
 * (redis_tls_ctx.h). */
#include "cluster/redis_tls_ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

struct wg_redis_tls {
	WOLFSSL_CTX *ctx;
	char *server_name;
	const char *stem; /* static: the options' stem in messages */
};

void wg_redis_tls_reason(const struct wg_redis_tls *t, const char *what, int err, char *buf, size_t len)
{
	char reason[WOLFSSL_MAX_ERROR_SZ], hint[64] = "";

	if (err == ASN_NO_SIGNER_E)
		snprintf(hint, sizeof(hint), ": not signed by a CA of %s-ca", t->stem);
	else if (err == DOMAIN_NAME_MISMATCH)
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
	if (wolfSSL_set_fd(ssl, fd) != WOLFSSL_SUCCESS ||
	    wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, t->server_name, (unsigned short)strlen(t->server_name)) !=
		    WOLFSSL_SUCCESS ||
	    wolfSSL_check_domain_name(ssl, t->server_name) != WOLFSSL_SUCCESS) {
		wolfSSL_free(ssl);
		return NULL;
	}
	return ssl;
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
