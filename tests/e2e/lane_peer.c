/* lane-peer: a bare client of transport-lanes for the e2e tests
 * (tests-lanes.sh), written against wolfSSL's DTLS 1.3 as docs/lanes.md
 * describes the protocol, so the server side is tested whole before (and
 * besides) wolfguard-client.
 *
 *   lane-peer probe ADDRESS PORT SID-HEX LANE PSK-HEX [TIMEOUT-MS]
 *     one lane handshake naming lane LANE of lane-session SID with key PSK,
 *     then one PROBE. Exit 0: handshake done and PROBE answered.
 *
 *   lane-peer connect ADDRESS COOKIE LANES TARGET [FORGE-SID-HEX]
 *     CONNECT over TLS with the webvpn cookie (from openconnect
 *     --authenticate) asking for LANES lanes; exports each lane's key, opens
 *     every lane granted (answering the server's PROBEs), and sends one ICMP
 *     echo to TARGET from the session's address over each lane. Prints
 *     "lanes up N", "reply over lane K" and "session <id>"; exit 0 when every
 *     lane came up and every echo was answered. With FORGE-SID-HEX the lanes
 *     name that lane-session instead of the granted one, with this session's
 *     keys: they must be refused (exit 1, "handshake refused"). With
 *     LANE_PEER_RUN_MS=T it pings every 100 ms over lane 0 for T ms instead,
 *     and LANE_PEER_MUTE=K:FROM:TO silences lane K from FROM to TO ms (its
 *     PROBEs unanswered, what comes over it dropped).
 *
 * Exit 1: refused or no answer in time; 2: usage. The server certificate is
 * not verified: the lab's server is the only one it can reach. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#define MAX_LANES 16
#define TIMEOUT_MS 10000

struct lane {
	int fd;
	WOLFSSL_CTX *ctx;
	WOLFSSL *ssl;
	char identity[128];
	unsigned char psk[32];
	bool up, failed;
	unsigned replies;
};

/* Every lane of this process, for the PSK callback to find its own. */
static struct lane *lane_of[MAX_LANES];

static unsigned int client_psk(WOLFSSL *ssl, const char *hint, char *id, unsigned int id_max, unsigned char *key,
			       unsigned int key_max, const char **suite)
{
	struct lane *l = NULL;

	(void)hint;
	for (unsigned i = 0; i < MAX_LANES && !l; i++)
		if (lane_of[i] && lane_of[i]->ssl == ssl)
			l = lane_of[i];
	*suite = "TLS13-AES128-GCM-SHA256";
	if (!l || key_max < sizeof(l->psk))
		return 0;
	snprintf(id, id_max, "%s", l->identity);
	memcpy(key, l->psk, sizeof(l->psk));
	*suite = "TLS13-AES128-GCM-SHA256";
	return sizeof(l->psk);
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

static int udp_to(const char *addr, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd;

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return fd;
}

static int lane_open(struct lane *l, const char *addr, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	inet_pton(AF_INET, addr, &a.sin_addr);
	l->fd = udp_to(addr, port);
	l->ctx = wolfSSL_CTX_new(wolfDTLSv1_3_client_method());
	if (l->fd < 0 || !l->ctx || wolfSSL_CTX_set_cipher_list(l->ctx, "TLS13-AES128-GCM-SHA256") != WOLFSSL_SUCCESS)
		return -1;
	wolfSSL_CTX_set_psk_client_tls13_callback(l->ctx, client_psk);
	l->ssl = wolfSSL_new(l->ctx);
	if (!l->ssl || wolfSSL_set_fd(l->ssl, l->fd) != WOLFSSL_SUCCESS ||
	    wolfSSL_dtls_set_peer(l->ssl, &a, sizeof(a)) != WOLFSSL_SUCCESS)
		return -1;
	for (unsigned i = 0; i < MAX_LANES; i++)
		if (!lane_of[i]) {
			lane_of[i] = l;
			break;
		}
	wolfSSL_dtls_cid_use(l->ssl);
	wolfSSL_dtls_set_using_nonblock(l->ssl, 1);
	return 0;
}

/* Drives a handshake one step; false once it failed (printed). */
static void lane_step(struct lane *l, unsigned k)
{
	int r, e;

	if (l->up || l->failed)
		return;
	r = wolfSSL_connect(l->ssl);
	if (r == WOLFSSL_SUCCESS) {
		l->up = true;
		printf("lane %u up (%s %s)\n", k, wolfSSL_get_version(l->ssl), wolfSSL_get_cipher(l->ssl));
		return;
	}
	e = wolfSSL_get_error(l->ssl, r);
	if (e != WOLFSSL_ERROR_WANT_READ && e != WOLFSSL_ERROR_WANT_WRITE) {
		char buf[WOLFSSL_MAX_ERROR_SZ];
		printf("lane %u: handshake refused: %s\n", k, wolfSSL_ERR_error_string((unsigned long)e, buf));
		l->failed = true;
	}
}

/* ---- probe mode ------------------------------------------------------------------- */

static int probe_mode(int argc, char **argv)
{
	unsigned char sid[16], probe[21] = {0x01, 0, 0, 0, 42}, in[256];
	struct lane l = {0};
	struct timespec t0;
	long timeout_ms = argc > 7 ? strtol(argv[7], NULL, 10) : 5000;
	bool sent = false;

	if (argc < 7 || unhex(argv[4], sid, sizeof(sid)) < 0 || unhex(argv[6], l.psk, sizeof(l.psk)) < 0)
		return 2;
	snprintf(l.identity, sizeof(l.identity), "wgl1:%s:%s", argv[4], argv[5]);
	if (lane_open(&l, argv[2], atoi(argv[3])) < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < timeout_ms && !l.failed) {
		struct pollfd p = {.fd = l.fd, .events = POLLIN};
		lane_step(&l, (unsigned)atoi(argv[5]));
		if (l.up && !sent) {
			sent = wolfSSL_write(l.ssl, probe, sizeof(probe)) == (int)sizeof(probe);
		} else if (l.up) {
			int r = wolfSSL_read(l.ssl, in, sizeof(in));
			if (r >= 21 && in[0] == 0x02 && in[4] == 42) {
				printf("PROBE answered\n");
				return 0;
			}
		}
		if (poll(&p, 1, 50) == 0 && !l.up)
			wolfSSL_dtls_got_timeout(l.ssl);
	}
	printf("%s\n", l.failed ? "refused" : l.up ? "no PROBE-ACK in time" : "no handshake in time");
	return 1;
}

/* ---- connect mode ------------------------------------------------------------------ */

static WOLFSSL *tls_connect(const char *addr, WOLFSSL_CTX **ctxp)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(443)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfTLS_client_method());
	WOLFSSL *ssl;

	if (fd < 0 || !ctx || inet_pton(AF_INET, addr, &a.sin_addr) != 1 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return NULL;
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
	ssl = wolfSSL_new(ctx);
	if (ssl)
		wolfSSL_KeepArrays(ssl); /* the lanes' keys are exported after the handshake */
	if (!ssl || wolfSSL_set_fd(ssl, fd) != WOLFSSL_SUCCESS || wolfSSL_connect(ssl) != WOLFSSL_SUCCESS)
		return NULL;
	*ctxp = ctx;
	return ssl;
}

/* The value of header name in the head (NUL-terminated copy into out). */
static bool header(const char *head, const char *name, char *out, size_t len)
{
	size_t n = strlen(name);

	for (const char *p = head; (p = strstr(p, "\r\n")); p += 2) {
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
			const char *v = p + 3 + n, *e;
			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			if (!e || (size_t)(e - v) >= len)
				return false;
			memcpy(out, v, (size_t)(e - v));
			out[e - v] = '\0';
			return true;
		}
	}
	return false;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An ICMP echo request from src to dst, sequence seq, after a DATA type
 * byte: 1 + 28 bytes into out. */
static size_t echo(uint8_t *out, struct in_addr src, struct in_addr dst, uint16_t seq)
{
	uint8_t *ip = out + 1, *icmp = ip + 20;
	uint16_t c;

	memset(out, 0, 29);
	out[0] = 0x00;
	ip[0] = 0x45, ip[3] = 28, ip[8] = 64, ip[9] = 1;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	icmp[0] = 8, icmp[4] = 0x77, icmp[5] = 0x66, icmp[6] = (uint8_t)(seq >> 8), icmp[7] = (uint8_t)seq;
	c = csum(icmp, 8);
	icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
	return 29;
}

static int connect_mode(int argc, char **argv)
{
	const char *addr = argv[2], *cookie = argv[3], *forge = argc > 6 ? argv[6] : NULL;
	unsigned want = (unsigned)atoi(argv[4]), n, answered = 0;
	char req[2048], head[8192], v[256], sid[64], ports[256];
	struct in_addr me, target;
	struct lane lanes[MAX_LANES] = {0};
	WOLFSSL_CTX *tctx;
	WOLFSSL *tls;
	size_t used = 0;
	struct timespec t0;

	if (inet_pton(AF_INET, argv[5], &target) != 1 || want < 1 || want > MAX_LANES)
		return 2;
	if (!(tls = tls_connect(addr, &tctx))) {
		printf("no TLS connection\n");
		return 1;
	}
	snprintf(req, sizeof(req),
		 "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: %s\r\nUser-Agent: lane-peer\r\nX-CSTP-Version: 1\r\n"
		 "X-CSTP-Hostname: lane-peer\r\nX-CSTP-MTU: 1400\r\nX-CSTP-Address-Type: IPv4\r\n"
		 "Cookie: webvpn=%s\r\nX-Wolfguard-Lanes: %u\r\n\r\n",
		 addr, cookie, want);
	if (wolfSSL_write(tls, req, (int)strlen(req)) != (int)strlen(req))
		return 1;
	while (used + 1 < sizeof(head) && (used < 4 || memcmp(head + used - 4, "\r\n\r\n", 4) != 0)) {
		if (wolfSSL_read(tls, head + used, 1) != 1)
			break;
		used++;
	}
	head[used] = '\0';
	if (strncmp(head, "HTTP/1.1 200", 12) != 0) {
		printf("CONNECT refused: %.60s\n", head);
		return 1;
	}
	if (!header(head, "X-CSTP-Address", v, sizeof(v)) || inet_pton(AF_INET, v, &me) != 1 ||
	    !header(head, "X-Wolfguard-Lanes", v, sizeof(v)) || !header(head, "X-Wolfguard-Lanes-Session", sid, sizeof(sid)) ||
	    !header(head, "X-Wolfguard-Lanes-Ports", ports, sizeof(ports))) {
		printf("no lanes offered\n");
		return 1;
	}
	n = (unsigned)atoi(v);
	printf("lanes granted %u session %s ports %s\n", n, sid, ports);
	if (n < 1 || n > want)
		return 1;
	char *pp = ports;
	for (unsigned k = 0; k < n; k++) {
		const unsigned char ctx[2] = {(unsigned char)(k >> 8), (unsigned char)k};
		struct lane *l = &lanes[k];
		int port = (int)strtol(pp, &pp, 10);
		if (*pp == ',')
			pp++;
		if (wolfSSL_export_keying_material(tls, l->psk, sizeof(l->psk), "EXPORTER-wolfguard-lane", 23, ctx, 2, 1) !=
		    WOLFSSL_SUCCESS) {
			printf("cannot export lane %u's key\n", k);
			return 1;
		}
		snprintf(l->identity, sizeof(l->identity), "wgl1:%s:%u", forge ? forge : sid, k);
		if (lane_open(l, addr, port) < 0)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned up = 0, failed = 0;
	while (ms_since(&t0) < TIMEOUT_MS && up + failed < n) {
		struct pollfd p[MAX_LANES];
		up = failed = 0;
		for (unsigned k = 0; k < n; k++) {
			lane_step(&lanes[k], k);
			up += lanes[k].up, failed += lanes[k].failed;
			p[k] = (struct pollfd){.fd = lanes[k].fd, .events = POLLIN};
		}
		if (poll(p, n, 50) == 0)
			for (unsigned k = 0; k < n; k++)
				if (!lanes[k].up && !lanes[k].failed)
					wolfSSL_dtls_got_timeout(lanes[k].ssl);
	}
	printf("lanes up %u\n", up);
	if (up < n)
		return 1;
	/* One echo over each lane, or with LANE_PEER_RUN_MS one every 100 ms
	 * over lane 0 for that long; PROBEs are answered meanwhile (or the
	 * server takes the lanes out of the rotation), except on the lane that
	 * LANE_PEER_MUTE="LANE:FROM_MS:TO_MS" silences for that window (its
	 * path "dies": what arrives on it is dropped, nothing leaves). */
	long run_ms = getenv("LANE_PEER_RUN_MS") ? strtol(getenv("LANE_PEER_RUN_MS"), NULL, 10) : 0;
	unsigned mute_lane = MAX_LANES, sent = 0, last_reply_lane = 0;
	long mute_from = 0, mute_to = 0;
	bool mute_auto = false;
	const char *mute = getenv("LANE_PEER_MUTE");
	/* "auto": the lane the echo replies came over last when the window opens. */
	if (mute && strncmp(mute, "auto:", 5) == 0)
		mute_auto = sscanf(mute + 5, "%ld:%ld", &mute_from, &mute_to) == 2;
	else if (mute && sscanf(mute, "%u:%ld:%ld", &mute_lane, &mute_from, &mute_to) != 3)
		return 2;
	if (mute && mute_auto == false && mute_lane >= n)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!run_ms) {
		for (unsigned k = 0; k < n; k++) {
			uint8_t pkt[29];
			echo(pkt, me, target, (uint16_t)k);
			wolfSSL_write(lanes[k].ssl, pkt, sizeof(pkt));
		}
		sent = n;
	}
	while (run_ms ? ms_since(&t0) < run_ms + 1000 : ms_since(&t0) < TIMEOUT_MS && answered < n) {
		struct pollfd p[MAX_LANES];
		long now = ms_since(&t0);
		if (run_ms && now < run_ms && (long)sent * 100 <= now) {
			uint8_t pkt[29];
			echo(pkt, me, target, (uint16_t)sent++);
			wolfSSL_write(lanes[0].ssl, pkt, sizeof(pkt));
		}
		for (unsigned k = 0; k < n; k++)
			p[k] = (struct pollfd){.fd = lanes[k].fd, .events = POLLIN};
		poll(p, n, 10);
		if (mute_auto && now >= mute_from && mute_lane == MAX_LANES) {
			mute_lane = last_reply_lane;
			printf("muting lane %u from %ld to %ld ms\n", mute_lane, mute_from, mute_to);
		}
		for (unsigned k = 0; k < n; k++) {
			uint8_t in[2048];
			int r;
			bool muted = k == mute_lane && now >= mute_from && now < mute_to;
			while ((r = wolfSSL_read(lanes[k].ssl, in, sizeof(in))) > 0) {
				if (muted)
					continue;
				if (in[0] == 0x01 && r >= 21) { /* PROBE: answered at once */
					in[0] = 0x02;
					memset(in + 13, 0, 8);
					wolfSSL_write(lanes[k].ssl, in, 21);
				} else if (in[0] == 0x00 && r >= 29 && in[1 + 9] == 1 && in[21] == 0 && in[25] == 0x77) {
					printf("reply %u over lane %u at %ld ms\n", (unsigned)(in[27] << 8 | in[28]), k, now);
					lanes[k].replies++;
					answered++;
					last_reply_lane = k;
				}
			}
		}
	}
	printf("echoes answered %u of %u\n", answered, sent);
	for (unsigned k = 0; k < MAX_LANES && lanes[k].ssl; k++) {
		wolfSSL_free(lanes[k].ssl);
		wolfSSL_CTX_free(lanes[k].ctx);
		close(lanes[k].fd);
	}
	wolfSSL_free(tls);
	wolfSSL_CTX_free(tctx);
	return run_ms || answered == n ? 0 : 1; /* a timed run is judged by its output */
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	wolfSSL_Init();
	if (argc >= 7 && strcmp(argv[1], "probe") == 0)
		return probe_mode(argc, argv);
	if (argc >= 6 && strcmp(argv[1], "connect") == 0)
		return connect_mode(argc, argv);
	fprintf(stderr, "usage: lane-peer probe ADDRESS PORT SID-HEX LANE PSK-HEX [TIMEOUT-MS]\n"
			"       lane-peer connect ADDRESS COOKIE LANES TARGET [FORGE-SID-HEX]\n");
	return 2;
}
