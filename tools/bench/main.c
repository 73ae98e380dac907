/* wolfguard-bench: a load generator speaking the OpenConnect protocol.
 * Opens --sessions client sessions against one server (at most
 * --concurrency set-ups in flight), holds them with CSTP keepalives and DPD
 * answers, and reports set-up rate and latency, failures by stage, and,
 * given --server-pid, the server's PSS per session and its CPU while idle
 * with every session held. See docs/benchmarks.md. */
#include "bench.h"
#include "clock.h"
#include "traffic_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>


static void usage(FILE *f)
{
	fprintf(f,
		"usage: wolfguard-bench --server ADDR[:PORT] --user NAME --password PASS [options]\n"
		"  -n, --sessions N        sessions to open (default 100)\n"
		"  -c, --concurrency N     set-ups in flight at once, all processes together (default 64)\n"
		"      --procs N           client processes (default: enough for the fd limit)\n"
		"      --group NAME        group to pick when the server offers a group list\n"
		"      --host NAME         Host header (default: the server address)\n"
		"      --src NET           source addresses, round-robin (default 127.1.0.0/16)\n"
		"      --conn-timeout S    per set-up (default 30)\n"
		"      --setup-timeout S   whole ramp; set-ups still running then fail (default 600)\n"
		"      --settle S          wait after the ramp before measuring (default 5)\n"
		"      --idle S            seconds of idle CPU measurement with all held (default 10)\n"
		"      --keepalive S       keepalive period (default: the server's X-CSTP-Keepalive)\n"
		"      --data-every S      send one ICMP echo (84 bytes) per session every S seconds\n"
		"      --data-dst ADDR     destination of that traffic (default 192.0.2.1)\n"
		"      --offer-dtls        send the X-DTLS-* headers (DTLS itself is never started)\n"
		"      --tls12             TLS 1.2 only (default: 1.3 or 1.2)\n"
		"      --server-pid PID    sample this process and its descendants (PSS, CPU)\n"
		"      --label TEXT        name of the run in the report\n"
		"  traffic mode (instead of the idle measurement; see docs/benchmarks.md):\n"
		"      --traffic           after the ramp, every session sends UDP packets to --sink and\n"
		"                          counts the echoes; DTLS (PSK-NEGOTIATE) unless --cstp\n"
		"      --sink ADDR[:PORT]  wolfguard-bench-sink behind the server (port default 9000)\n"
		"      --cstp              data over CSTP (TLS) instead of DTLS\n"
		"      --rate PPS          packets per second per session (default 0: as fast as the\n"
		"                          echoes allow, --window packets in flight per session)\n"
		"      --window N          closed loop: packets in flight per session (default: 256 in all,\n"
		"                          shared by the sessions, 2 to 64 each)\n"
		"      --seconds S         sending time (default 10)\n"
		"      --packets N         per session, then stop (default 0: no limit)\n"
		"      --size BYTES        IP packet size (default 1200; 52..1400)\n"
		"      --drain-ms MS       wait for the last echoes after sending (default 1000)\n"
		"  -v, --verbose           one line per failed session\n");
}

static unsigned parse_uint(const char *opt, const char *v, unsigned lo, unsigned hi)
{
	char *e;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &e, 10);
	if (errno || e == v || *e || n < lo || n > hi) {
		fprintf(stderr, "wolfguard-bench: %s wants a number from %u to %u, not \"%s\"\n", opt, lo, hi, v);
		exit(2);
	}
	return (unsigned)n;
}

static void parse_server(struct wgb_config *cfg, const char *v)
{
	char host[64];
	const char *colon = strrchr(v, ':');
	size_t hl = colon ? (size_t)(colon - v) : strlen(v);

	if (hl >= sizeof(host)) {
		fprintf(stderr, "wolfguard-bench: --server too long\n");
		exit(2);
	}
	memcpy(host, v, hl);
	host[hl] = '\0';
	cfg->server.sin_family = AF_INET;
	cfg->server.sin_port = htons(colon ? (uint16_t)parse_uint("--server port", colon + 1, 1, 65535) : 443);
	if (inet_pton(AF_INET, host, &cfg->server.sin_addr) != 1) {
		fprintf(stderr, "wolfguard-bench: --server wants an IPv4 address, not \"%s\"\n", host);
		exit(2);
	}
	if (!cfg->host[0])
		snprintf(cfg->host, sizeof(cfg->host), "%s", host);
}

static void parse_sink(struct wgb_config *cfg, const char *v)
{
	char host[64];
	const char *colon = strrchr(v, ':');
	size_t hl = colon ? (size_t)(colon - v) : strlen(v);

	if (hl >= sizeof(host)) {
		fprintf(stderr, "wolfguard-bench: --sink too long\n");
		exit(2);
	}
	memcpy(host, v, hl);
	host[hl] = '\0';
	cfg->sink.sin_family = AF_INET;
	cfg->sink.sin_port = htons(colon ? (uint16_t)parse_uint("--sink port", colon + 1, 1, 65534) : 9000);
	if (inet_pton(AF_INET, host, &cfg->sink.sin_addr) != 1) {
		fprintf(stderr, "wolfguard-bench: --sink wants an IPv4 address, not \"%s\"\n", host);
		exit(2);
	}
}

static void parse_src(struct wgb_config *cfg, const char *v)
{
	char a[32];
	const char *slash = strchr(v, '/');
	unsigned len = slash ? parse_uint("--src prefix", slash + 1, 8, 32) : 32;
	size_t al = slash ? (size_t)(slash - v) : strlen(v);
	struct in_addr in;

	if (al >= sizeof(a) || (memcpy(a, v, al), a[al] = '\0', inet_pton(AF_INET, a, &in) != 1)) {
		fprintf(stderr, "wolfguard-bench: --src wants a.b.c.d/len, not \"%s\"\n", v);
		exit(2);
	}
	uint32_t mask = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
	uint32_t net = ntohl(in.s_addr) & mask;
	uint32_t count = len >= 31 ? (len == 32 ? 1 : 2) : (~mask) - 1; /* no network/broadcast */
	cfg->src_base = len >= 31 ? net : net + 1;
	cfg->src_count = count > 65536 ? 65536 : count;
}

/* fds: one per session plus a few, per process; raise the soft limit, and
 * the hard one when allowed (CAP_SYS_RESOURCE). */
static rlim_t raise_nofile(unsigned sessions)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)sessions + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_max < need) {
		struct rlimit hard = {need, need};
		if (setrlimit(RLIMIT_NOFILE, &hard) == 0)
			rl = hard;
	}
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur;
}


static struct wgb_shared *shared;
static unsigned nprocs;

static void sum_live(struct wgb_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned k = 0; k < nprocs; k++) {
		const struct wgb_stats *s = &shared->stats[k];
		t->attempted += s->attempted;
		t->established += s->established;
		t->in_flight += s->in_flight;
		for (int i = 0; i < WGB_STAGE_COUNT; i++)
			t->failed[i] += s->failed[i];
	}
}

static unsigned held_now(void)
{
	struct wgb_stats t;
	sum_live(&t);
	return t.established - t.failed[WGB_STAGE_HELD];
}


static void nap_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int children_alive(pid_t *pids)
{
	int alive = 0;
	for (unsigned k = 0; k < nprocs; k++) {
		if (pids[k] > 0 && waitpid(pids[k], NULL, WNOHANG) == pids[k])
			pids[k] = -pids[k]; /* reaped early: crashed or failed to start */
		alive += pids[k] > 0;
	}
	return alive;
}

/* Every process either tried all its sessions or is gone. */
static int all_ramped(const pid_t *pids)
{
	for (unsigned k = 0; k < nprocs; k++)
		if (pids[k] > 0 && !shared->stats[k].ramp_done)
			return 0;
	return 1;
}

static void idle_phase(struct wgb_result *res, pid_t *pids)
{
	const struct wgb_config *cfgp = res->cfg;

	res->t_idle_start_us = wgb_now_us();
	if (cfgp->server_pid) {
		unsigned np;
		wgb_proc_cpu(cfgp->server_pid, &res->idle_ticks_start, &np);
	}
	{
		unsigned np;
		wgb_proc_cpu(getpid(), &res->bench_ticks_start, &np);
	}
	fprintf(stderr, "wolfguard-bench: %u held; server PSS %llu KiB in %u processes; idle CPU over %u s\n",
		res->held_at_sample, (unsigned long long)res->srv_held.pss_kib, res->srv_held.nprocs, cfgp->idle_s);
	for (unsigned i = 0; i < cfgp->idle_s * 10 && children_alive(pids); i++)
		nap_ms(100);
	res->t_idle_end_us = wgb_now_us();
	if (cfgp->server_pid) {
		unsigned np;
		if (wgb_proc_cpu(cfgp->server_pid, &res->idle_ticks_end, &np) < 0)
			res->have_server = 0;
	}
	{
		unsigned np;
		wgb_proc_cpu(getpid(), &res->bench_ticks_end, &np);
	}
}

/* --traffic: go, then the server's and the bench's CPU from go until
 * every process has sent and drained, then the sinks' reports. */
static void traffic_phase(struct wgb_result *res, pid_t *pids)
{
	const struct wgb_config *cfgp = res->cfg;
	uint64_t deadline;
	unsigned np;
	int ok;

	fprintf(stderr, "wolfguard-bench: %u held; traffic for %u s%s\n", res->held_at_sample, cfgp->traffic_s,
		cfgp->traffic_cstp ? " over CSTP" : " over DTLS");
	if (cfgp->server_pid)
		wgb_proc_cpu(cfgp->server_pid, &res->srv_ticks_go, &np);
	wgb_proc_cpu(getpid(), &res->bench_ticks_go, &np);
	res->t_go_us = wgb_now_us();
	shared->go = 1;
	deadline = res->t_go_us + ((uint64_t)cfgp->traffic_s + 60) * 1000000u + (uint64_t)cfgp->drain_ms * 1000u;
	do {
		nap_ms(10);
		ok = 1;
		for (unsigned k = 0; k < nprocs; k++)
			if (pids[k] > 0 && !shared->stats[k].traffic_drained)
				ok = 0;
	} while (!ok && children_alive(pids) && wgb_now_us() < deadline);
	res->t_drained_us = wgb_now_us();
	if (cfgp->server_pid && wgb_proc_cpu(cfgp->server_pid, &res->srv_ticks_drained, &res->srv_nprocs) < 0)
		res->have_server = 0;
	wgb_proc_cpu(getpid(), &res->bench_ticks_drained, &np);
	fprintf(stderr, "wolfguard-bench: sent and drained; asking the sink for its counts\n");
	deadline = wgb_now_us() + 30000000u;
	do {
		nap_ms(50);
		ok = 1;
		for (unsigned k = 0; k < nprocs; k++)
			if (pids[k] > 0 && !shared->stats[k].traffic_done)
				ok = 0;
	} while (!ok && children_alive(pids) && wgb_now_us() < deadline);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"server", required_argument, NULL, 's'},   {"user", required_argument, NULL, 'u'},
		{"password", required_argument, NULL, 'p'}, {"group", required_argument, NULL, 'g'},
		{"host", required_argument, NULL, 'H'},     {"sessions", required_argument, NULL, 'n'},
		{"concurrency", required_argument, NULL, 'c'}, {"src", required_argument, NULL, 'S'},
		{"conn-timeout", required_argument, NULL, 1}, {"setup-timeout", required_argument, NULL, 2},
		{"settle", required_argument, NULL, 3},      {"idle", required_argument, NULL, 4},
		{"keepalive", required_argument, NULL, 5},   {"data-every", required_argument, NULL, 6},
		{"data-dst", required_argument, NULL, 7},    {"offer-dtls", no_argument, NULL, 8},
		{"tls12", no_argument, NULL, 9},             {"server-pid", required_argument, NULL, 10},
		{"label", required_argument, NULL, 11},      {"procs", required_argument, NULL, 12},
		{"traffic", no_argument, NULL, 20},          {"sink", required_argument, NULL, 21},
		{"cstp", no_argument, NULL, 22},             {"rate", required_argument, NULL, 23},
		{"window", required_argument, NULL, 24},     {"seconds", required_argument, NULL, 25},
		{"packets", required_argument, NULL, 26},    {"size", required_argument, NULL, 27},
		{"drain-ms", required_argument, NULL, 28},
		{"verbose", no_argument, NULL, 'v'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct wgb_config cfg;
	static struct wgb_result res;
	const char *server = NULL;
	uint32_t *latency;
	pid_t *pids;
	size_t shared_len, sess_len = 0;
	int o, rc = 0;

	cfg.sessions = 100;
	cfg.concurrency = 64;
	cfg.conn_timeout_s = 30;
	cfg.setup_timeout_s = 600;
	cfg.settle_s = 5;
	cfg.idle_s = 10;
	cfg.label = "";
	inet_pton(AF_INET, "192.0.2.1", &cfg.data_dst);
	cfg.traffic_s = 10;
	cfg.size = 1200;
	cfg.drain_ms = 1000;
	parse_src(&cfg, "127.1.0.0/16");
	while ((o = getopt_long(argc, argv, "s:u:p:g:H:n:c:S:vh", opts, NULL)) != -1) {
		switch (o) {
		case 's': server = optarg; break;
		case 'u': cfg.login.user = optarg; break;
		case 'p': cfg.login.password = optarg; break;
		case 'g': cfg.login.group = optarg; break;
		case 'H': snprintf(cfg.host, sizeof(cfg.host), "%s", optarg); break;
		case 'n': cfg.sessions = parse_uint("--sessions", optarg, 1, 2000000); break;
		case 'c': cfg.concurrency = parse_uint("--concurrency", optarg, 1, 100000); break;
		case 'S': parse_src(&cfg, optarg); break;
		case 1: cfg.conn_timeout_s = parse_uint("--conn-timeout", optarg, 1, 3600); break;
		case 2: cfg.setup_timeout_s = parse_uint("--setup-timeout", optarg, 1, 86400); break;
		case 3: cfg.settle_s = parse_uint("--settle", optarg, 0, 3600); break;
		case 4: cfg.idle_s = parse_uint("--idle", optarg, 1, 3600); break;
		case 5: cfg.keepalive_s = parse_uint("--keepalive", optarg, 1, 3600); break;
		case 6: cfg.data_every_s = parse_uint("--data-every", optarg, 1, 3600); break;
		case 7:
			if (inet_pton(AF_INET, optarg, &cfg.data_dst) != 1) {
				fprintf(stderr, "wolfguard-bench: --data-dst wants an IPv4 address\n");
				return 2;
			}
			break;
		case 8: cfg.offer_dtls = 1; break;
		case 9: cfg.tls12 = 1; break;
		case 10: cfg.server_pid = (pid_t)parse_uint("--server-pid", optarg, 1, 1u << 30); break;
		case 11: cfg.label = optarg; break;
		case 12: cfg.procs = parse_uint("--procs", optarg, 1, 256); break;
		case 20: cfg.traffic = 1; break;
		case 21: parse_sink(&cfg, optarg); break;
		case 22: cfg.traffic_cstp = 1; break;
		case 23: cfg.rate_pps = parse_uint("--rate", optarg, 0, 10000000); break;
		case 24: cfg.window = parse_uint("--window", optarg, 1, 4096); break;
		case 25: cfg.traffic_s = parse_uint("--seconds", optarg, 1, 3600); break;
		case 26: cfg.packets = parse_uint("--packets", optarg, 0, 1000000000); break;
		case 27: cfg.size = parse_uint("--size", optarg, WGB_TW_MIN_PACKET, 1400); break;
		case 28: cfg.drain_ms = parse_uint("--drain-ms", optarg, 0, 600000); break;
		case 'v': cfg.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !server || !cfg.login.user || !cfg.login.password) {
		usage(stderr);
		return 2;
	}
	if (cfg.traffic && !cfg.sink.sin_port) {
		fprintf(stderr, "wolfguard-bench: --traffic needs --sink\n");
		return 2;
	}
	parse_server(&cfg, server);
	if (cfg.traffic) {
		/* Tells this run's echoes and reports from a previous run's. */
		cfg.run_id = (uint32_t)getpid() ^ (uint32_t)wgb_now_us();
		cfg.offer_dtls = 1;
		/* As fast as possible, but not a flood: a few hundred packets in
		 * flight in all (a TUN queue is 500 deep), at least 2 each. */
		if (!cfg.window)
			cfg.window = cfg.sessions >= 128 ? 2 : cfg.sessions >= 4 ? 256 / cfg.sessions : 64;
	}
	cfg.login.host = cfg.host;
	if (cfg.server_pid && kill(cfg.server_pid, 0) < 0) {
		fprintf(stderr, "wolfguard-bench: --server-pid %d: %s\n", (int)cfg.server_pid, strerror(errno));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	/* One process holds at most its fd limit in sessions: without
	 * CAP_SYS_RESOURCE the hard limit may be far below the target, so the
	 * sessions are spread over enough processes. */
	/* --traffic over DTLS: a TCP and a UDP socket per session. */
	unsigned fds_per = cfg.traffic && !cfg.traffic_cstp ? 2 : 1;
	res.nofile = raise_nofile(cfg.sessions * fds_per);
	if (!cfg.procs) {
		rlim_t per = (res.nofile > 164 ? res.nofile - 100 : 64) / fds_per;
		cfg.procs = (unsigned)((cfg.sessions + per - 1) / per);
	}
	nprocs = cfg.procs < cfg.sessions ? cfg.procs : cfg.sessions;
	if ((rlim_t)(cfg.sessions / nprocs + 1) * fds_per + 64 > res.nofile)
		fprintf(stderr, "wolfguard-bench: WARNING: %llu file descriptors per process for %u sessions\n",
			(unsigned long long)res.nofile, cfg.sessions / nprocs + 1);

	shared_len = sizeof(*shared) + nprocs * sizeof(struct wgb_stats) + (size_t)cfg.sessions * sizeof(uint32_t);
	shared = mmap(NULL, shared_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pids = calloc(nprocs, sizeof(*pids));
	res.stats.latency_us = calloc(cfg.sessions, sizeof(uint32_t));
	if (shared == MAP_FAILED || !pids || !res.stats.latency_us) {
		fprintf(stderr, "wolfguard-bench: out of memory\n");
		return 1;
	}
	res.stats.cap_latency = cfg.sessions;
	if (cfg.traffic) {
		sess_len = (size_t)cfg.sessions * sizeof(struct wgb_sess_traffic);
		shared->sess = mmap(NULL, sess_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (shared->sess == MAP_FAILED) {
			fprintf(stderr, "wolfguard-bench: out of memory\n");
			return 1;
		}
		res.sess = shared->sess;
	}
	latency = (uint32_t *)((char *)shared + sizeof(*shared) + nprocs * sizeof(struct wgb_stats));
	res.cfg = &cfg;
	if (cfg.server_pid && wgb_proc_sample(cfg.server_pid, &res.srv_before) < 0) {
		fprintf(stderr, "wolfguard-bench: cannot read /proc/%d\n", (int)cfg.server_pid);
		return 1;
	}

	fflush(NULL);
	for (unsigned k = 0, first = 0; k < nprocs; k++) {
		unsigned n = cfg.sessions / nprocs + (k < cfg.sessions % nprocs);
		struct wgb_stats *st = &shared->stats[k];

		st->latency_us = latency + first;
		st->cap_latency = n;
		pids[k] = fork();
		if (pids[k] < 0) {
			fprintf(stderr, "wolfguard-bench: fork: %s\n", strerror(errno));
			shared->stop = 1;
			nprocs = k;
			break;
		}
		if (pids[k] == 0) {
			static struct wgb_run run;
			run.cfg = cfg;
			run.cfg.sessions = n;
			run.cfg.index_base = first;
			run.cfg.concurrency = cfg.concurrency / nprocs + (k < cfg.concurrency % nprocs);
			if (!run.cfg.concurrency)
				run.cfg.concurrency = 1;
			run.shared = shared;
			run.stats = st;
			_exit(wgb_client_main(&run));
		}
		first += n;
	}

	/* Ramp: progress once a second until every process tried all its
	 * sessions (each bounded by --setup-timeout), or all died. */
	uint64_t last_us = wgb_now_us();
	unsigned last_est = 0;
	for (unsigned tick = 0; !all_ramped(pids) && children_alive(pids); tick++) {
		nap_ms(100);
		if (tick % 10 == 9) {
			struct wgb_stats t;
			uint64_t now = wgb_now_us();
			sum_live(&t);
			fprintf(stderr, "wolfguard-bench: %u/%u established (%.0f/s), %u in flight, %u failed, %u held\n",
				t.established, cfg.sessions, (double)(t.established - last_est) * 1e6 / (double)(now - last_us),
				t.in_flight, wgb_stats_failed_total(&t), t.established - t.failed[WGB_STAGE_HELD]);
			last_us = now;
			last_est = t.established;
		}
	}
	{
		struct wgb_stats t;
		sum_live(&t);
		fprintf(stderr, "wolfguard-bench: ramp over: %u established, %u failed; settling %u s\n", t.established,
			wgb_stats_failed_total(&t), cfg.settle_s);
	}
	for (unsigned i = 0; i < cfg.settle_s * 10 && children_alive(pids); i++)
		nap_ms(100);

	/* All held: memory, then CPU over --idle seconds, or --traffic. */
	res.held_at_sample = held_now();
	if (cfg.server_pid)
		res.have_server = wgb_proc_sample(cfg.server_pid, &res.srv_held) == 0;
	wgb_proc_sample(getpid(), &res.bench_held);
	if (cfg.traffic)
		traffic_phase(&res, pids);
	else
		idle_phase(&res, pids);
	res.held_at_end = held_now();

	shared->stop = 1;
	for (unsigned k = 0; k < nprocs; k++) {
		int status;
		if (pids[k] > 0 && waitpid(pids[k], &status, 0) == pids[k] && (!WIFEXITED(status) || WEXITSTATUS(status)))
			fprintf(stderr, "wolfguard-bench: client process %u ended with status %d\n", k, status);
		if (pids[k] < 0)
			fprintf(stderr, "wolfguard-bench: client process %u ended early\n", k);
		wgb_stats_merge(&res.stats, &shared->stats[k]);
	}
	res.stats.in_flight = 0;
	wgb_report(&res);
	if (res.held_at_end < cfg.sessions)
		rc = 3;
	if (cfg.traffic && !rc && wgb_traffic_rx_total(res.sess, cfg.sessions) == 0)
		rc = 4;
	free(res.stats.latency_us);
	free(pids);
	if (sess_len)
		munmap(res.sess, sess_len);
	munmap(shared, shared_len);
	return rc;
}
