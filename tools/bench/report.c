/* The report: a table for people, then one JSON line for scripts. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* JSON string body: escapes quotes, backslashes and control bytes. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void wgb_report(struct wgb_result *run)
{
	struct wgb_stats *st = &run->stats;
	const struct wgb_config *cfg = run->cfg;
	double ramp_s = st->t_last_established_us > st->t_first_start_us
				? (double)(st->t_last_established_us - st->t_first_start_us) / 1e6
				: 0;
	double rate = ramp_s > 0 ? st->established / ramp_s : 0;
	double p50 = wgb_stats_latency_pct(st, 50) / 1e3, p90 = wgb_stats_latency_pct(st, 90) / 1e3;
	double p99 = wgb_stats_latency_pct(st, 99) / 1e3, pmax = wgb_stats_latency_pct(st, 100) / 1e3;
	double idle_s = (double)(run->t_idle_end_us - run->t_idle_start_us) / 1e6;
	long hz = sysconf(_SC_CLK_TCK);
	double srv_cpu = -1, pss_per = -1, self_cpu = -1, setup_cpu_ms = -1;
	long long pss_delta = 0;
	/* The traffic member of the JSON line is written with the table and
	 * placed in the line at the end. */
	char *traffic_member = NULL;
	size_t traffic_len = 0;
	FILE *traffic_json = open_memstream(&traffic_member, &traffic_len);

	if (!traffic_json)
		return;

	if (run->have_server && idle_s > 0 && run->idle_ticks_end >= run->idle_ticks_start)
		srv_cpu = (double)(run->idle_ticks_end - run->idle_ticks_start) / (double)hz / idle_s * 100.0;
	if (run->have_server && run->held_at_sample) {
		pss_delta = (long long)run->srv_held.pss_kib - (long long)run->srv_before.pss_kib;
		pss_per = (double)pss_delta / run->held_at_sample;
	}
	/* The server's CPU from before the ramp until every session is held
	 * (settle included), per set-up: what one login + tunnel costs it,
	 * whatever else the shared machine was doing. */
	if (run->have_server && st->established && run->srv_held.cpu_ticks >= run->srv_before.cpu_ticks)
		setup_cpu_ms = (double)(run->srv_held.cpu_ticks - run->srv_before.cpu_ticks) * 1e3 / (double)hz /
			       st->established;
	if (idle_s > 0 && run->bench_ticks_end >= run->bench_ticks_start)
		self_cpu = (double)(run->bench_ticks_end - run->bench_ticks_start) / (double)hz / idle_s * 100.0;

	printf("\nwolfguard-bench %s: %u sessions against %s:%u, %u set-ups in flight, %u client processes\n",
	       cfg->label, cfg->sessions, cfg->host, ntohs(cfg->server.sin_port), cfg->concurrency, cfg->procs);
	printf("  %-40s %u\n", "attempted", st->attempted);
	printf("  %-40s %u\n", "established", st->established);
	printf("  %-40s %u\n", "held when sampled", run->held_at_sample);
	printf("  %-40s %u\n", "held at the end", run->held_at_end);
	for (int i = 0; i < WGB_STAGE_COUNT; i++)
		if (st->failed[i])
			printf("  failed at %-30s %u (%u timeouts), first: %s\n", wgb_stage_name((enum wgb_stage)i),
			       st->failed[i], st->timed_out[i], st->first_error[i]);
	printf("  %-40s %.1f\n", "set-up rate (login+tunnel per s)", rate);
	printf("  %-40s %.1f / %.1f / %.1f / %.1f\n", "set-up latency p50/p90/p99/max (ms)", p50, p90, p99, pmax);
	if (run->have_server) {
		printf("  %-40s %u\n", "server processes", run->srv_held.nprocs);
		printf("  %-40s %llu -> %llu\n", "server PSS KiB (before -> all held)",
		       (unsigned long long)run->srv_before.pss_kib, (unsigned long long)run->srv_held.pss_kib);
		printf("  %-40s %.1f\n", "server PSS per held session (KiB)", pss_per);
		printf("  %-40s %.2f over %.0f s\n", "server CPU % idle, all held", srv_cpu, idle_s);
		printf("  %-40s %.2f\n", "server CPU ms per set-up (ramp)", setup_cpu_ms);
	}
	printf("  %-40s %.2f, PSS %llu KiB\n", "bench CPU % in the same window", self_cpu,
	       (unsigned long long)run->bench_held.pss_kib);
	printf("  %-40s %llu keepalives, %llu data, %llu DPD answered, %llu frames in\n", "tunnel traffic",
	       (unsigned long long)st->keepalives_tx, (unsigned long long)st->data_tx,
	       (unsigned long long)st->dpd_answered, (unsigned long long)st->frames_rx);
	if (cfg->traffic)
		wgb_traffic_report(run, stdout, traffic_json);
	fclose(traffic_json);

	printf("{\"tool\":\"wolfguard-bench\",\"label\":");
	json_str(stdout, cfg->label);
	printf(",\"sessions\":%u,\"concurrency\":%u,\"attempted\":%u,\"established\":%u,\"held\":%u,"
	       "\"held_end\":%u,\"failed\":{",
	       cfg->sessions, cfg->concurrency, st->attempted, st->established, run->held_at_sample,
	       run->held_at_end);
	for (int i = 0; i < WGB_STAGE_COUNT; i++)
		printf("%s\"%s\":%u", i ? "," : "", wgb_stage_name((enum wgb_stage)i), st->failed[i]);
	printf("},\"timeouts\":{");
	for (int i = 0; i < WGB_STAGE_COUNT; i++)
		printf("%s\"%s\":%u", i ? "," : "", wgb_stage_name((enum wgb_stage)i), st->timed_out[i]);
	printf("},\"first_error\":{");
	for (int i = 0, first = 1; i < WGB_STAGE_COUNT; i++)
		if (st->first_error[i][0]) {
			printf("%s\"%s\":", first ? "" : ",", wgb_stage_name((enum wgb_stage)i));
			json_str(stdout, st->first_error[i]);
			first = 0;
		}
	printf("},\"ramp_s\":%.3f,\"setup_rate\":%.2f,\"latency_ms\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,"
	       "\"max\":%.2f}",
	       ramp_s, rate, p50, p90, p99, pmax);
	if (run->have_server)
		printf(",\"server\":{\"pid\":%d,\"procs\":%u,\"pss_kib_before\":%llu,\"pss_kib_held\":%llu,"
		       "\"pss_kib_per_session\":%.2f,\"cpu_idle_pct\":%.3f,\"idle_s\":%.1f,\"cpu_ms_per_setup\":%.3f}",
		       (int)cfg->server_pid, run->srv_held.nprocs, (unsigned long long)run->srv_before.pss_kib,
		       (unsigned long long)run->srv_held.pss_kib, pss_per, srv_cpu, idle_s, setup_cpu_ms);
	printf(",\"bench\":{\"procs\":%u,\"cpu_idle_pct\":%.3f,\"pss_kib\":%llu,\"nofile\":%llu,\"keepalives\":%llu,"
	       "\"data\":%llu,\"dpd_answered\":%llu}%s}\n",
	       cfg->procs, self_cpu, (unsigned long long)run->bench_held.pss_kib, (unsigned long long)run->nofile,
	       (unsigned long long)st->keepalives_tx, (unsigned long long)st->data_tx,
	       (unsigned long long)st->dpd_answered, traffic_member ? traffic_member : "");
	free(traffic_member);
	fflush(stdout);
}
