/* A DTLS client for the unit tests of the DTLS servers (test_dtls.c,
 * test_dtls_legacy.c, test_lane_link.c, test_lane_set.c): a UDP socket
 * connect()ed to the server, one wolfSSL client fed from it, stepped by the
 * test between turns of the server's event loop. Failures are Criterion
 * assertions. */
#ifndef WG_TEST_DTLS_CLIENT_H
#define WG_TEST_DTLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

struct event_base;

struct tdc {
	int fd;
	WOLFSSL_CTX *ctx;
	WOLFSSL *ssl;
	bool dtls13;
	bool done, failed;       /* the handshake's outcome */
	unsigned datagrams_in;
	uint16_t port;           /* our own, host order */
	uint8_t first[2048];     /* the first datagram it sent: its ClientHello */
	size_t first_len;
	char identity[128];      /* the PSK identity and key it answers with */
	uint8_t psk[64];
	unsigned psk_len;
	const char *tls13_suite; /* DTLS 1.3: the suite the key is for */
};

/* A non-blocking UDP socket on 127.0.0.1, its port chosen by the kernel:
 * the socket of the server under test. */
int tdc_loopback_socket(void);
/* The socket to ip:port and a context of suites with our I/O; the test
 * sets more on c->ctx, then calls tdc_psk (optional) and tdc_start. */
void tdc_open(struct tdc *c, const char *ip, uint16_t port, bool dtls13, const char *suites);
/* The PSK it answers with (DTLS 1.3: for the first of its suites). */
void tdc_psk(struct tdc *c, const char *identity, const uint8_t *key, unsigned len);
/* The WOLFSSL, non-blocking, with our I/O. */
void tdc_start(struct tdc *c);
/* Frees what open and start made (not c). */
void tdc_close(struct tdc *c);
/* One step of the handshake (done or failed when it ends). */
void tdc_step(struct tdc *c);
/* Runs base and steps the n clients (NULL ones skipped) until cond(arg)
 * holds or ms pass; cond's value at the end. */
bool tdc_run_until(struct event_base *base, struct tdc **cs, int n, bool (*cond)(void *), void *arg, int ms);
/* One record from the server, running base meanwhile: its size, 0 on
 * close_notify, -1 after ms. */
int tdc_read(struct event_base *base, struct tdc *c, uint8_t *buf, size_t size, int ms);
long long tdc_elapsed_ms(const struct timespec *t0);
/* Its I/O callbacks, for a test that wraps them on one WOLFSSL. */
int tdc_udp_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx);
int tdc_udp_send(WOLFSSL *ssl, char *buf, int sz, void *ctx);

#endif
