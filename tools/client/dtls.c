/* PSK-NEGOTIATE DTLS client (see dtls.h). The ClientHello carries the
 * App-ID as its session id through a session made for the purpose
 * (tools/proto-client/dtls_app_id.c). */
#include "dtls.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dtls_app_id.h"

/* ---- the channel -------------------------------------------------------- */

static unsigned int client_key(WOLFSSL *ssl, const char *hint, char *id, unsigned int id_max, unsigned char *key,
			       unsigned int key_max)
{
	struct wgc_dtls *d = wolfSSL_get_psk_callback_ctx(ssl);

	(void)hint;
	if (!d || key_max < WGC_DTLS_PSK_LEN)
		return 0;
	snprintf(id, id_max, "psk"); /* the identity openconnect sends */
	memcpy(key, d->psk, WGC_DTLS_PSK_LEN);
	return WGC_DTLS_PSK_LEN;
}

#define SUITES "PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256"

int wgc_dtls_new(struct wgc_dtls *d, WOLFSSL *tls, const struct sockaddr *addr, socklen_t alen,
		 const uint8_t *app_id, size_t app_id_len, unsigned mtu, char *err, size_t errlen)
{
	WOLFSSL_SESSION *sess;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (app_id_len != 32) {
		snprintf(err, errlen, "the server's X-DTLS-App-ID has %zu bytes, not 32", app_id_len);
		return -1;
	}
	if (wolfSSL_export_keying_material(tls, d->psk, sizeof(d->psk), WGC_DTLS_PSK_LABEL,
					   strlen(WGC_DTLS_PSK_LABEL), NULL, 0, 0) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "TLS exporter failed");
		return -1;
	}
	d->fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || connect(d->fd, addr, alen) < 0) {
		snprintf(err, errlen, "UDP socket: %s", strerror(errno));
		goto fail;
	}
	if (!(d->ctx = wolfSSL_CTX_new(wolfDTLSv1_2_client_method()))) {
		snprintf(err, errlen, "wolfSSL_CTX_new (DTLS) failed");
		goto fail;
	}
	wolfSSL_CTX_set_psk_client_callback(d->ctx, client_key);
	if (wolfSSL_CTX_set_cipher_list(d->ctx, SUITES) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "no PSK cipher suites in this wolfSSL");
		goto fail;
	}
	if (!(d->ssl = wolfSSL_new(d->ctx)) || wolfSSL_set_fd(d->ssl, d->fd) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "wolfSSL_new (DTLS) failed");
		goto fail;
	}
	wgc_udp_send_use(d->ssl, &d->out, d->fd);
	wolfSSL_set_psk_callback_ctx(d->ssl, d);
	wolfSSL_dtls_set_using_nonblock(d->ssl, 1);
	if (mtu)
		wolfSSL_dtls_set_mtu(d->ssl, (unsigned short)mtu);
	if (!(sess = wg_dtls_session_with_app_id(app_id, app_id_len, SUITES, err, errlen)))
		goto fail;
	if (wolfSSL_set_session(d->ssl, sess) != WOLFSSL_SUCCESS) {
		wolfSSL_SESSION_free(sess);
		snprintf(err, errlen, "wolfSSL_set_session failed");
		goto fail;
	}
	wolfSSL_SESSION_free(sess);
	return 0;
fail:
	wgc_dtls_free(d);
	return -1;
}

int wgc_dtls_handshake(struct wgc_dtls *d, char *err, size_t errlen)
{
	int r = wolfSSL_connect(d->ssl), e;
	char s[WOLFSSL_MAX_ERROR_SZ];

	if (r == WOLFSSL_SUCCESS)
		return 1;
	e = wolfSSL_get_error(d->ssl, r);
	if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
		return 0;
	wolfSSL_ERR_error_string_n((unsigned long)e, s, sizeof(s));
	snprintf(err, errlen, "DTLS handshake: %s (%d)", s, e);
	return -1;
}

int wgc_dtls_fit(struct wgc_dtls *d, unsigned datagram)
{
	/* An AEAD record adds a 13-byte header, an 8-byte explicit nonce and
	 * a 16-byte tag; wolfSSL's own budget is more cautious, and a
	 * payload that fits the datagram would be refused. */
	int want = (int)datagram - 13 - 8 - 16, max = wolfSSL_GetMaxOutputSize(d->ssl);

	if (max > 0 && max < want)
		wolfSSL_dtls_set_mtu(d->ssl, (unsigned short)(datagram + (unsigned)(want - max)));
	max = wolfSSL_GetMaxOutputSize(d->ssl);
	return max;
}

unsigned wgc_dtls_timeout_ms(struct wgc_dtls *d)
{
	int t = wolfSSL_dtls_get_current_timeout(d->ssl);
	return t > 0 ? (unsigned)t * 1000u : 1000u;
}

int wgc_dtls_retransmit(struct wgc_dtls *d)
{
	int r = wolfSSL_dtls_got_timeout(d->ssl);
	return r == WOLFSSL_SUCCESS || wolfSSL_get_error(d->ssl, r) == WOLFSSL_ERROR_WANT_READ ? 0 : -1;
}

void wgc_dtls_free(struct wgc_dtls *d)
{
	if (d->ssl)
		wolfSSL_free(d->ssl);
	if (d->ctx)
		wolfSSL_CTX_free(d->ctx);
	if (d->fd >= 0)
		close(d->fd);
	memset(d->psk, 0, sizeof(d->psk));
	d->ssl = NULL;
	d->ctx = NULL;
	d->fd = -1;
}
