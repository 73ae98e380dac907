/* What the load generator counts: set-ups by outcome and stage, setup
 * latencies, and sessions lost while held. Printing lives in report.c. */
#ifndef WGB_STATS_H
#define WGB_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Where a session is in its life; a failure is counted at the stage it
 * happened in. */
enum wgb_stage {
	WGB_STAGE_TCP,    /* nonblocking connect() */
	WGB_STAGE_TLS,    /* TLS handshake */
	WGB_STAGE_AUTH,   /* XML init, auth-reply(s), session cookie */
	WGB_STAGE_TUNNEL, /* CONNECT /CSCOSSLC/tunnel until 200 CONNECTED */
	WGB_STAGE_DTLS,   /* --traffic over DTLS: the PSK-NEGOTIATE handshake */
	WGB_STAGE_HELD,   /* tunnel up: keepalives, DPD answers */
	WGB_STAGE_COUNT
};

const char *wgb_stage_name(enum wgb_stage st);

struct wgb_stats {
	unsigned attempted, established, in_flight;
	unsigned failed[WGB_STAGE_COUNT];    /* by stage; [HELD] = dropped after set-up */
	unsigned timed_out[WGB_STAGE_COUNT]; /* subset of failed: per-connection timeout */
	char first_error[WGB_STAGE_COUNT][160];
	uint32_t *latency_us; /* one per established session, in completion order */
	size_t n_latency, cap_latency;
	uint64_t t_first_start_us, t_last_established_us;
	uint64_t frames_rx, dpd_answered, keepalives_tx, data_tx;
	volatile int ramp_done; /* this process started every set-up it will */
	/* --traffic: the process's phases, and how long it sent */
	volatile int traffic_drained; /* sending and draining over */
	volatile int traffic_done;    /* every session's report asked for (answered or not) */
	uint64_t traffic_send_us;
	uint64_t traffic_foreign, traffic_send_busy, traffic_send_err, traffic_window_resets;
};

int wgb_stats_init(struct wgb_stats *st, unsigned expected);
void wgb_stats_free(struct wgb_stats *st);
void wgb_stats_fail(struct wgb_stats *st, enum wgb_stage stage, int timeout, const char *why);
void wgb_stats_established(struct wgb_stats *st, uint64_t start_us, uint64_t now_us);
/* Percentile (0..100) of the setup latencies in microseconds; 0 if none.
 * Sorts the array in place. */
/* Adds src's counters and latencies into dst (dst->latency_us must have room). */
void wgb_stats_merge(struct wgb_stats *dst, const struct wgb_stats *src);
uint32_t wgb_stats_latency_pct(struct wgb_stats *st, double pct);
unsigned wgb_stats_failed_total(const struct wgb_stats *st);

#endif
