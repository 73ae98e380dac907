/* Counters and latency percentiles of the load generator. */
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stage_names[WGB_STAGE_COUNT] = {"tcp", "tls", "auth", "tunnel", "dtls", "held"};

const char *wgb_stage_name(enum wgb_stage st)
{
	return (unsigned)st < WGB_STAGE_COUNT ? stage_names[st] : "?";
}

int wgb_stats_init(struct wgb_stats *st, unsigned expected)
{
	memset(st, 0, sizeof(*st));
	st->cap_latency = expected ? expected : 1;
	st->latency_us = calloc(st->cap_latency, sizeof(*st->latency_us));
	return st->latency_us ? 0 : -1;
}

void wgb_stats_free(struct wgb_stats *st)
{
	free(st->latency_us);
	st->latency_us = NULL;
}

void wgb_stats_fail(struct wgb_stats *st, enum wgb_stage stage, int timeout, const char *why)
{
	if ((unsigned)stage >= WGB_STAGE_COUNT)
		return;
	st->failed[stage]++;
	if (timeout)
		st->timed_out[stage]++;
	/* The first reason per stage is kept: it is usually the one that
	 * explains the rest (fd limit, pool exhausted, refused...). */
	if (!st->first_error[stage][0] && why)
		snprintf(st->first_error[stage], sizeof(st->first_error[stage]), "%s", why);
}

void wgb_stats_established(struct wgb_stats *st, uint64_t start_us, uint64_t now_us)
{
	uint64_t d = now_us - start_us;

	st->established++;
	st->t_last_established_us = now_us;
	if (st->n_latency < st->cap_latency)
		st->latency_us[st->n_latency++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

uint32_t wgb_stats_latency_pct(struct wgb_stats *st, double pct)
{
	size_t i;

	if (!st->n_latency)
		return 0;
	qsort(st->latency_us, st->n_latency, sizeof(*st->latency_us), cmp_u32);
	/* nearest-rank */
	i = (size_t)(pct / 100.0 * (double)st->n_latency + 0.999999);
	if (i < 1)
		i = 1;
	if (i > st->n_latency)
		i = st->n_latency;
	return st->latency_us[i - 1];
}

unsigned wgb_stats_failed_total(const struct wgb_stats *st)
{
	unsigned t = 0;
	for (int i = 0; i < WGB_STAGE_COUNT; i++)
		t += st->failed[i];
	return t;
}

void wgb_stats_merge(struct wgb_stats *dst, const struct wgb_stats *src)
{
	dst->attempted += src->attempted;
	dst->established += src->established;
	dst->in_flight += src->in_flight;
	for (int i = 0; i < WGB_STAGE_COUNT; i++) {
		dst->failed[i] += src->failed[i];
		dst->timed_out[i] += src->timed_out[i];
		if (!dst->first_error[i][0])
			memcpy(dst->first_error[i], src->first_error[i], sizeof(dst->first_error[i]));
	}
	for (size_t i = 0; i < src->n_latency && dst->n_latency < dst->cap_latency; i++)
		dst->latency_us[dst->n_latency++] = src->latency_us[i];
	if (src->t_first_start_us && (!dst->t_first_start_us || src->t_first_start_us < dst->t_first_start_us))
		dst->t_first_start_us = src->t_first_start_us;
	if (src->t_last_established_us > dst->t_last_established_us)
		dst->t_last_established_us = src->t_last_established_us;
	dst->frames_rx += src->frames_rx;
	dst->dpd_answered += src->dpd_answered;
	dst->keepalives_tx += src->keepalives_tx;
	dst->data_tx += src->data_tx;
	if (src->traffic_send_us > dst->traffic_send_us)
		dst->traffic_send_us = src->traffic_send_us;
	dst->traffic_foreign += src->traffic_foreign;
	dst->traffic_send_busy += src->traffic_send_busy;
	dst->traffic_send_err += src->traffic_send_err;
	dst->traffic_window_resets += src->traffic_window_resets;
}
