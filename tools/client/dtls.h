/* The DTLS channel as openconnect runs it against ocserv and wolfguard
 * (PSK-NEGOTIATE): DTLS 1.2 with a pre-shared key of 32 bytes exported
 * from the TLS session (RFC 5705, label "EXPORTER-openconnect-psk", no
 * context), identity "psk", and the server's X-DTLS-App-ID as the
 * ClientHello's session id so the server finds the session before any
 * handshake state exists. Records carry a 1-byte CSTP type, then the
 * payload. */
#ifndef WGC_DTLS_H
#define WGC_DTLS_H

#include "udp_send.h"
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct WOLFSSL_CTX WOLFSSL_CTX;
typedef struct WOLFSSL WOLFSSL;

#define WGC_DTLS_PSK_LEN 32
#define WGC_DTLS_PSK_LABEL "EXPORTER-openconnect-psk"

struct wgc_dtls {
	int fd;
	WOLFSSL_CTX *ctx;
	WOLFSSL *ssl;
	uint8_t psk[WGC_DTLS_PSK_LEN];
	struct wgc_udp_send out; /* a full socket drops the record (udp_send.h) */
};

/* A UDP socket to addr (the server's address, port set) bound to nothing in
 * particular, and a DTLS client keyed from tls. 0, or -1 with the reason in
 * err. */
int wgc_dtls_new(struct wgc_dtls *d, WOLFSSL *tls, const struct sockaddr *addr, socklen_t alen,
		 const uint8_t *app_id, size_t app_id_len, unsigned mtu, char *err, size_t errlen);
/* Advances the handshake: 1 done, 0 waiting for a datagram (or the
 * retransmission timer, wgc_dtls_timeout_ms), -1 failed (err). */
int wgc_dtls_handshake(struct wgc_dtls *d, char *err, size_t errlen);
/* Once up: lets records of a whole datagram's payload through (wolfSSL
 * budgets more overhead than an AEAD suite has). The largest payload now. */
int wgc_dtls_fit(struct wgc_dtls *d, unsigned datagram);
/* Milliseconds until the handshake's retransmission is due. */
unsigned wgc_dtls_timeout_ms(struct wgc_dtls *d);
/* The retransmission timer fired: resend the last flight. -1 if it failed. */
int wgc_dtls_retransmit(struct wgc_dtls *d);
void wgc_dtls_free(struct wgc_dtls *d);

#endif
