/* wolfguard-bench: a load generator speaking the OpenConnect protocol.
 * Opens --sessions client sessions against one server (at most
 * --concurrency set-ups in flight), holds them with CSTP keepalives and DPD
 * answers, and reports set-up rate and latency, failures by stage, and,
 * given --server-pid, the server's PSS per session and its CPU while idle
 * with every session held. See docs/scale.md. */
#include "bench.h"
#include "clock.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static struct event *progress_ev, *phase_ev, *deadline_ev;
static volatile int phase; /* 0 ramp, 1 settle, 2 idle measurement */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: wolfguard-bench --server ADDR[:PORT] --user NAME --password PASS [options]\n"
		"  -n, --sessions N        sessions to open (default 100)\n"
		"  -c, --concurrency N     set-ups in flight at once (default 64)\n"
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

/* fds: one per session plus a few; raise the soft limit, and the hard one
 * when allowed (root). */
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
	if (rl.rlim_cur < need)
		fprintf(stderr, "wolfguard-bench: WARNING: only %llu file descriptors for %u sessions\n",
			(unsigned long long)rl.rlim_cur, sessions);
	return rl.rlim_cur;
}

static unsigned held(const struct wgb_run *run)
{
	return run->stats.established - run->stats.failed[WGB_STAGE_HELD];
}

static void start_phase_timer(struct wgb_run *run, unsigned secs)
{
	struct timeval tv = {secs, 0};
	evtimer_add(phase_ev, &tv);
}

static void ramp_done(struct wgb_run *run)
{
	static int finished;

	if (finished)
		return;
	finished = 1;
	run->ramp_over = 1;
	run->t_ramp_end_us = wgb_now_us();
	evtimer_del(deadline_ev);
	phase = 1;
	fprintf(stderr, "wolfguard-bench: ramp over: %u established, %u failed; settling %u s\n",
		run->stats.established, wgb_stats_failed_total(&run->stats), run->cfg.settle_s);
	start_phase_timer(run, run->cfg.settle_s);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_run *run = arg;

	while (!run->ramp_over && run->stats.in_flight < run->cfg.concurrency && run->next_index < run->cfg.sessions)
		wgb_conn_start(run, run->next_index++);
	if (!run->ramp_over && run->next_index >= run->cfg.sessions && run->stats.in_flight == 0)
		ramp_done(run);
}

void wgb_setup_ended(struct wgb_run *run)
{
	/* Not started from here: this runs inside a connection's callback. */
	event_active(run->kick, EV_TIMEOUT, 0);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_run *run = arg;

	fprintf(stderr, "wolfguard-bench: --setup-timeout %u s reached, %u set-ups still in flight are failed\n",
		run->cfg.setup_timeout_s, run->stats.in_flight);
	run->ramp_over = 1;
	for (unsigned i = 0; i < run->next_index; i++)
		if (run->conns[i])
			wgb_conn_abort_setup(run->conns[i], "set-up still running at --setup-timeout");
	ramp_done(run);
}

static void on_phase(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_run *run = arg;

	if (phase == 1) {
		run->held_at_sample = held(run);
		if (run->cfg.server_pid) {
			run->have_server = wgb_proc_sample(run->cfg.server_pid, &run->srv_held) == 0;
			wgb_proc_cpu(run->cfg.server_pid, &run->idle_ticks_start, &run->idle_nprocs);
		}
		run->self_rss_kib = wgb_self_rss_kib();
		getrusage(RUSAGE_SELF, &run->self_idle_start);
		run->t_idle_start_us = wgb_now_us();
		fprintf(stderr, "wolfguard-bench: %u held; server PSS %llu KiB in %u processes; idle CPU over %u s\n",
			run->held_at_sample, (unsigned long long)run->srv_held.pss_kib, run->srv_held.nprocs,
			run->cfg.idle_s);
		phase = 2;
		start_phase_timer(run, run->cfg.idle_s);
		return;
	}
	run->t_idle_end_us = wgb_now_us();
	getrusage(RUSAGE_SELF, &run->self_idle_end);
	if (run->cfg.server_pid)
		wgb_proc_cpu(run->cfg.server_pid, &run->idle_ticks_end, &run->idle_nprocs);
	run->held_at_end = held(run);
	event_base_loopbreak(run->base);
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_run *run = arg;
	static uint64_t last_us;
	static unsigned last_est;
	uint64_t now = wgb_now_us();

	if (phase == 0 && last_us)
		fprintf(stderr, "wolfguard-bench: %u/%u established (%.0f/s), %u in flight, %u failed, %u held\n",
			run->stats.established, run->cfg.sessions,
			(double)(run->stats.established - last_est) * 1e6 / (double)(now - last_us), run->stats.in_flight,
			wgb_stats_failed_total(&run->stats), held(run));
	last_us = now;
	last_est = run->stats.established;
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
		{"label", required_argument, NULL, 11},      {"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
	};
	static struct wgb_run run;
	struct wgb_config *cfg = &run.cfg;
	const char *server = NULL;
	int o, rc = 0;

	cfg->sessions = 100;
	cfg->concurrency = 64;
	cfg->conn_timeout_s = 30;
	cfg->setup_timeout_s = 600;
	cfg->settle_s = 5;
	cfg->idle_s = 10;
	cfg->label = "";
	inet_pton(AF_INET, "192.0.2.1", &cfg->data_dst);
	parse_src(cfg, "127.1.0.0/16");
	while ((o = getopt_long(argc, argv, "s:u:p:g:H:n:c:S:vh", opts, NULL)) != -1) {
		switch (o) {
		case 's': server = optarg; break;
		case 'u': cfg->login.user = optarg; break;
		case 'p': cfg->login.password = optarg; break;
		case 'g': cfg->login.group = optarg; break;
		case 'H': snprintf(cfg->host, sizeof(cfg->host), "%s", optarg); break;
		case 'n': cfg->sessions = parse_uint("--sessions", optarg, 1, 2000000); break;
		case 'c': cfg->concurrency = parse_uint("--concurrency", optarg, 1, 100000); break;
		case 'S': parse_src(cfg, optarg); break;
		case 1: cfg->conn_timeout_s = parse_uint("--conn-timeout", optarg, 1, 3600); break;
		case 2: cfg->setup_timeout_s = parse_uint("--setup-timeout", optarg, 1, 86400); break;
		case 3: cfg->settle_s = parse_uint("--settle", optarg, 0, 3600); break;
		case 4: cfg->idle_s = parse_uint("--idle", optarg, 1, 3600); break;
		case 5: cfg->keepalive_s = parse_uint("--keepalive", optarg, 1, 3600); break;
		case 6: cfg->data_every_s = parse_uint("--data-every", optarg, 1, 3600); break;
		case 7:
			if (inet_pton(AF_INET, optarg, &cfg->data_dst) != 1) {
				fprintf(stderr, "wolfguard-bench: --data-dst wants an IPv4 address\n");
				return 2;
			}
			break;
		case 8: cfg->offer_dtls = 1; break;
		case 9: cfg->tls12 = 1; break;
		case 10: cfg->server_pid = (pid_t)parse_uint("--server-pid", optarg, 1, 1u << 30); break;
		case 11: cfg->label = optarg; break;
		case 'v': cfg->verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !server || !cfg->login.user || !cfg->login.password) {
		usage(stderr);
		return 2;
	}
	parse_server(cfg, server);
	cfg->login.host = cfg->host;
	if (cfg->server_pid && kill(cfg->server_pid, 0) < 0) {
		fprintf(stderr, "wolfguard-bench: --server-pid %d: %s\n", (int)cfg->server_pid, strerror(errno));
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid());
	run.nofile = raise_nofile(cfg->sessions);
	if (wgb_stats_init(&run.stats, cfg->sessions) < 0 || !(run.conns = calloc(cfg->sessions, sizeof(*run.conns)))) {
		fprintf(stderr, "wolfguard-bench: out of memory\n");
		return 1;
	}
	wolfSSL_Init();
	run.ctx = wolfSSL_CTX_new(cfg->tls12 ? wolfTLSv1_2_client_method() : wolfSSLv23_client_method());
	if (!run.ctx) {
		fprintf(stderr, "wolfguard-bench: wolfSSL_CTX_new failed\n");
		return 1;
	}
	/* The bench measures the server, not certificate checking. */
	wolfSSL_CTX_set_verify(run.ctx, WOLFSSL_VERIFY_NONE, NULL);
	wolfSSL_CTX_set_session_cache_mode(run.ctx, WOLFSSL_SESS_CACHE_OFF);

	struct event_config *ec = event_config_new();
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	run.base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (!run.base) {
		fprintf(stderr, "wolfguard-bench: event_base_new failed\n");
		return 1;
	}
	run.kick = event_new(run.base, -1, 0, on_kick, &run);
	phase_ev = evtimer_new(run.base, on_phase, &run);
	deadline_ev = evtimer_new(run.base, on_deadline, &run);
	progress_ev = event_new(run.base, -1, EV_PERSIST, on_progress, &run);
	struct timeval sec = {1, 0}, dl = {cfg->setup_timeout_s, 0};
	evtimer_add(progress_ev, &sec);
	evtimer_add(deadline_ev, &dl);

	if (cfg->server_pid && wgb_proc_sample(cfg->server_pid, &run.srv_before) < 0) {
		fprintf(stderr, "wolfguard-bench: cannot read /proc/%d\n", (int)cfg->server_pid);
		return 1;
	}
	event_active(run.kick, EV_TIMEOUT, 0);
	event_base_dispatch(run.base);

	wgb_report(&run);
	if (run.held_at_end < cfg->sessions)
		rc = 3;

	for (unsigned i = 0; i < cfg->sessions; i++)
		wgb_conn_free(run.conns[i]);
	free(run.conns);
	event_free(run.kick);
	event_free(phase_ev);
	event_free(deadline_ev);
	event_free(progress_ev);
	event_base_free(run.base);
	wolfSSL_CTX_free(run.ctx);
	wolfSSL_Cleanup();
	wgb_stats_free(&run.stats);
	return rc;
}
