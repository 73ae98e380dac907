/* lane-peer: one DTLS 1.3 lane handshake against transport-lanes, for the
 * e2e tests (tests-lanes.sh): a real wolfSSL DTLS 1.3 client that names
 * lane LANE of lane-session SID and holds the key PSK (docs/lanes.md 3).
 *
 *   lane-peer ADDRESS PORT SID-HEX LANE PSK-HEX [TIMEOUT-MS]
 *
 * Exit 0: the handshake finished and a PROBE was answered with PROBE-ACK;
 * 1: refused or no answer before the timeout (default 5000 ms); 2: usage.
 * The tests use it with a key that is not the session's, to show that a
 * lane is bound by its key and not by the id it names. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

static char identity[64];
static unsigned char psk[32];

static unsigned int client_psk(WOLFSSL *ssl, const char *hint, char *id, unsigned int id_max, unsigned char *key,
			       unsigned int key_max, const char **suite)
{
	(void)ssl;
	(void)hint;
	if (key_max < sizeof(psk))
		return 0;
	snprintf(id, id_max, "%s", identity);
	memcpy(key, psk, sizeof(psk));
	*suite = "TLS13-AES128-GCM-SHA256";
	return sizeof(psk);
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return 0;
}

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(int argc, char **argv)
{
	unsigned char sid[16], probe[21] = {0x01, 0, 0, 0, 42}, in[256];
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	struct timespec t0;
	long timeout_ms = argc > 6 ? strtol(argv[6], NULL, 10) : 5000;
	int fd, r;
	bool done = false;

	if (argc < 6 || unhex(argv[3], sid, sizeof(sid)) < 0 || unhex(argv[5], psk, sizeof(psk)) < 0) {
		fprintf(stderr, "usage: lane-peer ADDRESS PORT SID-HEX(32) LANE PSK-HEX(64) [TIMEOUT-MS]\n");
		return 2;
	}
	snprintf(identity, sizeof(identity), "wgl1:%s:%s", argv[3], argv[4]);
	if (inet_pton(AF_INET, argv[1], &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)atoi(argv[2]));
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, argv[1], &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)atoi(argv[2]));
		sl = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "lane-peer: %s is not an address\n", argv[1]);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		perror("lane-peer: socket");
		return 1;
	}
	wolfSSL_Init();
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfDTLSv1_3_client_method());
	if (!ctx || wolfSSL_CTX_set_cipher_list(ctx, "TLS13-AES128-GCM-SHA256") != WOLFSSL_SUCCESS)
		return 1;
	wolfSSL_CTX_set_psk_client_tls13_callback(ctx, client_psk);
	WOLFSSL *ssl = wolfSSL_new(ctx);
	if (!ssl || wolfSSL_set_fd(ssl, fd) != WOLFSSL_SUCCESS || wolfSSL_dtls_set_peer(ssl, &ss, sl) != WOLFSSL_SUCCESS)
		return 1;
	wolfSSL_dtls_cid_use(ssl);
	wolfSSL_dtls_set_using_nonblock(ssl, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < timeout_ms) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (!done) {
			r = wolfSSL_connect(ssl);
			if (r == WOLFSSL_SUCCESS) {
				done = true;
				printf("lane-peer: handshake done (%s %s)\n", wolfSSL_get_version(ssl), wolfSSL_get_cipher(ssl));
				if (wolfSSL_write(ssl, probe, sizeof(probe)) != (int)sizeof(probe))
					return 1;
				continue;
			}
			int e = wolfSSL_get_error(ssl, r);
			if (e != WOLFSSL_ERROR_WANT_READ && e != WOLFSSL_ERROR_WANT_WRITE) {
				char buf[WOLFSSL_MAX_ERROR_SZ];
				printf("lane-peer: handshake refused: %s\n", wolfSSL_ERR_error_string((unsigned long)e, buf));
				return 1;
			}
		} else {
			r = wolfSSL_read(ssl, in, sizeof(in));
			if (r >= 21 && in[0] == 0x02 && in[4] == 42) {
				printf("lane-peer: PROBE answered\n");
				return 0;
			}
		}
		if (poll(&p, 1, 100) == 0 && !done)
			wolfSSL_dtls_got_timeout(ssl);
	}
	printf("lane-peer: %s\n", done ? "no PROBE-ACK in time" : "no handshake in time");
	return 1;
}
