/* What --traffic measured, for people and for scripts (bench/capacity.sh):
 *   goodput each way: inner IP bytes (what crosses the server's TUN) over
 *     the sending time; client->LAN counted by the sink, LAN->client by
 *     the bench;
 *   loss each way: client->LAN = 1 - sink received / sent, LAN->client =
 *     1 - received / sink echoed (sessions whose sink report arrived);
 *   server CPU seconds per GB moved (both directions together), from the
 *     server's processes' utime+stime between go and drained, and the
 *     Gbit/s one fully used core would move at that cost (8 / CPU-s per
 *     GB: it does not depend on how busy the machine was);
 *   per-session fairness: min / median / max goodput each way, and Jain's
 *     index (1 = all equal, 1/n = one session has everything). */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct spread {
	double min, median, max, jain;
};

/* v (n values, sorted in place). */
static struct spread spread_of(double *v, size_t n)
{
	struct spread s = {0, 0, 0, 0};
	double sum = 0, sq = 0;

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_dbl);
	for (size_t i = 0; i < n; i++) {
		sum += v[i];
		sq += v[i] * v[i];
	}
	s.min = v[0];
	s.max = v[n - 1];
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.jain = sq > 0 ? sum * sum / ((double)n * sq) : 0;
	return s;
}

/* A share as a percentage, "-" when it could not be measured (< 0). */
static const char *pct(double v, char *buf)
{
	if (v < 0)
		return "-";
	snprintf(buf, 32, "%.4f%%", v * 100);
	return buf;
}

uint64_t wgb_traffic_rx_total(const struct wgb_sess_traffic *sess, unsigned n)
{
	uint64_t t = 0;
	for (unsigned i = 0; sess && i < n; i++)
		t += sess[i].rx_pkts;
	return t;
}

void wgb_traffic_report(const struct wgb_result *res, FILE *table, FILE *json)
{
	const struct wgb_config *cfg = res->cfg;
	const struct wgb_sess_traffic *ss = res->sess;
	uint64_t tx = 0, tx_b = 0, rx = 0, rx_b = 0, srx = 0, srx_b = 0, stx = 0, stx_b = 0;
	uint64_t r_tx = 0, r_srx = 0, r_stx = 0, r_rx = 0; /* reported sessions only */
	unsigned active = 0, reported = 0;
	double send_s = (double)res->stats.traffic_send_us / 1e6;
	double win_s = (double)(res->t_drained_us - res->t_go_us) / 1e6;
	long hz = sysconf(_SC_CLK_TCK);
	double srv_cpu = -1, bench_cpu, up_gbps, down_gbps, gb, cpu_gb = -1, per_core = -1, cores = -1;
	double loss_up = -1, loss_down = -1, loss_rt = -1;
	double *up = calloc(cfg->sessions ? cfg->sessions : 1, sizeof(double));
	double *down = calloc(cfg->sessions ? cfg->sessions : 1, sizeof(double));
	struct spread fu = {0, 0, 0, 0}, fd = {0, 0, 0, 0};
	char b1[32], b2[32], b3[32];

	for (unsigned i = 0; ss && i < cfg->sessions; i++) {
		const struct wgb_sess_traffic *s = &ss[i];
		if (!s->held)
			continue;
		tx += s->tx_pkts, tx_b += s->tx_bytes, rx += s->rx_pkts, rx_b += s->rx_bytes;
		srx += s->sink_rx_pkts, srx_b += s->sink_rx_bytes, stx += s->sink_tx_pkts, stx_b += s->sink_tx_bytes;
		if (s->reported) {
			reported++;
			r_tx += s->tx_pkts, r_srx += s->sink_rx_pkts, r_stx += s->sink_tx_pkts, r_rx += s->rx_pkts;
		}
		if (up && down && send_s > 0) {
			up[active] = (double)s->sink_rx_bytes * 8 / send_s / 1e6;
			down[active] = (double)s->rx_bytes * 8 / send_s / 1e6;
		}
		active++;
	}
	if (up && down) {
		fu = spread_of(up, active);
		fd = spread_of(down, active);
	}
	free(up);
	free(down);
	up_gbps = send_s > 0 ? (double)srx_b * 8 / send_s / 1e9 : 0;
	down_gbps = send_s > 0 ? (double)rx_b * 8 / send_s / 1e9 : 0;
	gb = (double)(srx_b + rx_b) / 1e9;
	if (res->have_server && res->srv_ticks_drained >= res->srv_ticks_go) {
		srv_cpu = (double)(res->srv_ticks_drained - res->srv_ticks_go) / (double)hz;
		if (gb > 0 && srv_cpu > 0) {
			cpu_gb = srv_cpu / gb;
			per_core = 8 / cpu_gb;
		}
		if (win_s > 0)
			cores = srv_cpu / win_s;
	}
	bench_cpu = (double)(res->bench_ticks_drained - res->bench_ticks_go) / (double)hz;
	if (r_tx)
		loss_up = 1 - (double)r_srx / (double)r_tx;
	if (r_stx)
		loss_down = 1 - (double)r_rx / (double)r_stx;
	if (tx)
		loss_rt = 1 - (double)rx / (double)tx;

	fprintf(table, "  traffic over %s, %u B packets, %s, %u sessions sending for %.2f s (window %.2f s)\n",
		cfg->traffic_cstp ? "CSTP" : "DTLS", cfg->size, cfg->rate_pps ? "paced" : "closed loop", active, send_s,
		win_s);
	fprintf(table, "  %-40s %llu / %llu / %llu / %llu\n", "packets sent / sink got / echoed / back",
		(unsigned long long)tx, (unsigned long long)srx, (unsigned long long)stx, (unsigned long long)rx);
	fprintf(table, "  %-40s %.4f / %.4f\n", "goodput client->LAN / LAN->client Gb/s", up_gbps, down_gbps);
	fprintf(table, "  %-40s %s / %s (round trip %s; %u of %u sessions reported by the sink)\n",
		"loss client->LAN / LAN->client", pct(loss_up, b1), pct(loss_down, b2), pct(loss_rt, b3), reported, active);
	fprintf(table, "  %-40s %.3f / %.3f / %.3f (Jain %.3f)\n", "per session Mb/s up min/median/max", fu.min, fu.median,
		fu.max, fu.jain);
	fprintf(table, "  %-40s %.3f / %.3f / %.3f (Jain %.3f)\n", "per session Mb/s down min/median/max", fd.min,
		fd.median, fd.max, fd.jain);
	if (srv_cpu >= 0)
		fprintf(table, "  %-40s %.2f s (%.2f cores), %.3f s/GB, %.3f Gb/s per core\n", "server CPU", srv_cpu, cores,
			cpu_gb, per_core);
	fprintf(table, "  %-40s %.2f s; send busy %llu, errors %llu, window resets %llu, not ours %llu\n", "bench CPU",
		bench_cpu, (unsigned long long)res->stats.traffic_send_busy, (unsigned long long)res->stats.traffic_send_err,
		(unsigned long long)res->stats.traffic_window_resets, (unsigned long long)res->stats.traffic_foreign);

	fprintf(json,
		",\"traffic\":{\"transport\":\"%s\",\"size\":%u,\"rate_pps\":%u,\"window\":%u,\"sessions\":%u,"
		"\"reported\":%u,\"send_s\":%.3f,\"window_s\":%.3f,\"tx_pkts\":%llu,\"tx_bytes\":%llu,"
		"\"sink_rx_pkts\":%llu,\"sink_rx_bytes\":%llu,\"sink_tx_pkts\":%llu,\"sink_tx_bytes\":%llu,"
		"\"rx_pkts\":%llu,\"rx_bytes\":%llu,\"up_gbps\":%.6f,\"down_gbps\":%.6f,\"loss_up\":%.6f,"
		"\"loss_down\":%.6f,\"loss_rt\":%.6f,\"server_cpu_s\":%.3f,\"server_cores\":%.3f,\"server_procs\":%u,"
		"\"cpu_s_per_gb\":%.4f,\"gbps_per_core\":%.4f,\"bench_cpu_s\":%.3f,"
		"\"up_mbps\":{\"min\":%.4f,\"median\":%.4f,\"max\":%.4f,\"jain\":%.4f},"
		"\"down_mbps\":{\"min\":%.4f,\"median\":%.4f,\"max\":%.4f,\"jain\":%.4f},"
		"\"send_busy\":%llu,\"send_err\":%llu,\"window_resets\":%llu,\"foreign\":%llu}",
		cfg->traffic_cstp ? "cstp" : "dtls", cfg->size, cfg->rate_pps, cfg->window, active, reported, send_s, win_s,
		(unsigned long long)tx, (unsigned long long)tx_b, (unsigned long long)srx, (unsigned long long)srx_b,
		(unsigned long long)stx, (unsigned long long)stx_b, (unsigned long long)rx, (unsigned long long)rx_b,
		up_gbps, down_gbps, loss_up, loss_down, loss_rt, srv_cpu, cores, res->srv_nprocs, cpu_gb, per_core,
		bench_cpu, fu.min, fu.median, fu.max, fu.jain, fd.min, fd.median, fd.max, fd.jain,
		(unsigned long long)res->stats.traffic_send_busy, (unsigned long long)res->stats.traffic_send_err,
		(unsigned long long)res->stats.traffic_window_resets, (unsigned long long)res->stats.traffic_foreign);
}
