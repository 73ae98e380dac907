/* wolfguard-bench-sink: the LAN-side end of wolfguard-bench --traffic.
 * It runs on a host behind the server's TUN (bench/traffic-lab.sh puts it
 * in the lab's LAN namespace), so every datagram it sees crossed the TUN
 * one way and every echo crosses it back:
 *   - data port (--port, default 9000): each bench datagram is counted
 *     for its (run, session) and sent back as is to its source;
 *   - control port (port + 1): a report request is answered with what was
 *     counted for that run and session (traffic_wire.h), so the bench can
 *     tell loss on the way in from loss on the way back.
 * "Echoed" counts what was handed to sendmmsg; what the socket refused
 * is counted apart ("echoes refused"): the bench sees it as LAN->client
 * loss. Not ours (bad magic, short) is dropped and counted. On SIGTERM/SIGINT
 * it prints its totals and exits 0. One thread, blocking recvmmsg and
 * sendmmsg in batches: the sink should cost less than the server. */
#include "traffic_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define PKT_MAX 2048
#define MAX_SESSIONS (1u << 20)

struct counter {
	uint32_t run;
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
};

static struct counter *table;
static size_t table_len;
static volatile sig_atomic_t done;
static uint64_t tot_rx, tot_rx_bytes, tot_tx, tot_tx_bytes, tot_reports, tot_foreign, tot_send_fail;

static void on_signal(int sig)
{
	(void)sig;
	done = 1;
}

/* The counter of (run, session); a new run starts the session at zero. */
static struct counter *counter_of(uint32_t run, uint32_t session)
{
	if (session >= MAX_SESSIONS)
		return NULL;
	if (session >= table_len) {
		size_t n = table_len ? table_len : 1024;
		while (n <= session)
			n *= 2;
		struct counter *t = realloc(table, n * sizeof(*t));
		if (!t)
			return NULL;
		memset(t + table_len, 0, (n - table_len) * sizeof(*t));
		table = t;
		table_len = n;
	}
	struct counter *c = &table[session];
	if (c->run != run) {
		memset(c, 0, sizeof(*c));
		c->run = run;
	}
	return c;
}

static int udp_socket(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), big = 8 << 20;

	if (fd < 0)
		return -1;
	/* Bursts from many sessions at once: a deep queue (FORCE as root). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (bind(fd, (const struct sockaddr *)a, sizeof(*a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint8_t bufs[BATCH][PKT_MAX];
static struct sockaddr_in peers[BATCH];
static struct iovec iov[BATCH];
static struct mmsghdr msgs[BATCH];

static void setup_batch(void)
{
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = PKT_MAX;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &peers[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
	}
}

/* Sends back the n messages of msgs[] whose iov_len was set; what the
 * socket refuses is counted, never retried (a UDP echo). */
static void send_back(int fd, struct mmsghdr *m, unsigned n)
{
	unsigned off = 0;

	while (off < n) {
		int r = sendmmsg(fd, m + off, n - off, 0);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			tot_send_fail += n - off;
			return;
		}
		off += (unsigned)r;
	}
}

/* A message of the wanted kind for a known session, answered in place in
 * buf; returns the answer's length. */
typedef size_t (*answer_fn)(uint8_t *buf, size_t len, struct wgb_tw_msg *m, struct counter *c);

/* Data: counted both ways and echoed as it came. */
static size_t echo_data(uint8_t *buf, size_t len, struct wgb_tw_msg *m, struct counter *c)
{
	c->rx_pkts++;
	c->rx_bytes += len + WGB_TW_IP_UDP;
	c->tx_pkts++;
	c->tx_bytes += len + WGB_TW_IP_UDP;
	tot_rx++;
	tot_rx_bytes += len + WGB_TW_IP_UDP;
	tot_tx++;
	tot_tx_bytes += len + WGB_TW_IP_UDP;
	return len;
}

/* A report request: answered with the session's counts. */
static size_t report_counts(uint8_t *buf, size_t len, struct wgb_tw_msg *m, struct counter *c)
{
	m->kind = WGB_TW_REPORT;
	m->rx_pkts = c->rx_pkts;
	m->rx_bytes = c->rx_bytes;
	m->tx_pkts = c->tx_pkts;
	m->tx_bytes = c->tx_bytes;
	tot_reports++;
	return wgb_tw_put(buf, PKT_MAX, m);
}

/* One batch from fd: each message of the wanted kind for a known session
 * is answered to its sender, in one sendmmsg; the rest is foreign. */
static void serve(int fd, uint8_t kind, answer_fn answer)
{
	struct mmsghdr out[BATCH];
	unsigned nout = 0;
	int n;

	setup_batch();
	n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		struct wgb_tw_msg m;
		size_t len = msgs[i].msg_len;
		struct counter *c;

		if (wgb_tw_parse(bufs[i], len, &m) < 0 || m.kind != kind || !(c = counter_of(m.run, m.session))) {
			tot_foreign++;
			continue;
		}
		iov[i].iov_len = answer(bufs[i], len, &m, c);
		out[nout] = msgs[i];
		out[nout].msg_len = 0;
		nout++;
	}
	send_back(fd, out, nout);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"port", required_argument, NULL, 'p'}, {"bind", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
	};
	struct sockaddr_in a = {.sin_family = AF_INET};
	unsigned long port = 9000;
	struct sigaction sa;
	int o, fds[2];

	while ((o = getopt_long(argc, argv, "p:b:h", opts, NULL)) != -1) {
		char *e;
		switch (o) {
		case 'p':
			port = strtoul(optarg, &e, 10);
			if (*e || port < 1 || port > 65534) {
				fprintf(stderr, "wolfguard-bench-sink: --port wants 1..65534\n");
				return 2;
			}
			break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &a.sin_addr) != 1) {
				fprintf(stderr, "wolfguard-bench-sink: --bind wants an IPv4 address\n");
				return 2;
			}
			break;
		case 'h':
			printf("usage: wolfguard-bench-sink [--port N (data; N+1 control)] [--bind ADDR]\n");
			return 0;
		default:
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	a.sin_port = htons((uint16_t)port);
	fds[0] = udp_socket(&a);
	a.sin_port = htons((uint16_t)(port + 1));
	fds[1] = udp_socket(&a);
	if (fds[0] < 0 || fds[1] < 0) {
		fprintf(stderr, "wolfguard-bench-sink: cannot bind UDP %lu and %lu: %s\n", port, port + 1,
			strerror(errno));
		return 1;
	}
	printf("wolfguard-bench-sink: listening on UDP %lu (data) and %lu (control)\n", port, port + 1);
	fflush(stdout);
	while (!done) {
		struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
		if (poll(p, 2, 1000) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents & POLLIN)
			serve(fds[0], WGB_TW_DATA, echo_data);
		if (p[1].revents & POLLIN)
			serve(fds[1], WGB_TW_REPORT_REQ, report_counts);
	}
	printf("wolfguard-bench-sink: rx %llu packets %llu bytes, echoed %llu packets %llu bytes, %llu reports, "
	       "%llu not ours, %llu echoes refused\n",
	       (unsigned long long)tot_rx, (unsigned long long)tot_rx_bytes, (unsigned long long)tot_tx,
	       (unsigned long long)tot_tx_bytes, (unsigned long long)tot_reports, (unsigned long long)tot_foreign,
	       (unsigned long long)tot_send_fail);
	free(table);
	return 0;
}
