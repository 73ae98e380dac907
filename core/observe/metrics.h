/* Counters for Prometheus: what the process counts as it runs (logins by
 * backend with a latency histogram, traffic of ended sessions, reloads), a
 * snapshot type that adds the live state (sessions, bans), and the text
 * exposition format (version 0.0.4) of a snapshot. Loop thread only. */
#ifndef WG_METRICS_H
#define WG_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_METRICS_MAX_BACKENDS 16
#define WG_METRICS_N_BUCKETS 12
#define WG_METRICS_MAX_TRANSPORTS 4
/* Upper bounds (seconds) of the auth latency buckets; +Inf is implied. */
extern const double wg_metrics_latency_buckets[WG_METRICS_N_BUCKETS];

struct wg_metrics_backend {
	char name[64];
	uint64_t success, failure;
	uint64_t bucket[WG_METRICS_N_BUCKETS]; /* answers within each bound (not cumulative) */
	uint64_t latency_count;                /* all answers, +Inf included */
	double latency_sum;                    /* seconds */
};

struct wg_metrics {
	/* counted as things happen */
	struct wg_metrics_backend backends[WG_METRICS_MAX_BACKENDS];
	unsigned n_backends;
	uint64_t ended_rx_bytes, ended_tx_bytes, ended_rx_packets, ended_tx_packets;
	uint64_t reloads_ok, reloads_failed;
	/* the cluster store (docs/cluster.md), counted by core/cluster/ */
	uint64_t cluster_redis_outages;   /* times the connection to Redis went down */
	uint64_t cluster_store_errors;    /* commands that failed: timeout, lost connection, Redis error */
	uint64_t cluster_adopted;         /* sessions taken over from another node */
	uint64_t cluster_lease_claims, cluster_lease_conflicts, cluster_lease_refused, cluster_lease_lapsed;
	/* filled in by a snapshot */
	bool cluster_on, cluster_redis_up;
	uint64_t cluster_leases;          /* sessions holding a lease of the shared pool */
	uint64_t sessions_dtls, sessions_cstp, sessions_waiting;
	uint64_t unauth_connections;
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets; /* ended + live sessions */
	uint64_t ban_failures, bans_total, ban_refused, bans_active, ban_tracked;
	uint64_t generation;
	int64_t start_time; /* unix seconds */
	/* transport plugins' own counters (their stats op) */
	struct wg_metrics_transport {
		char name[64];
		uint64_t lanes_up, handshakes, dropped;
	} transports[WG_METRICS_MAX_TRANSPORTS];
	unsigned n_transports;
	/* transport plugins' own lines (their metrics_text op), appended as is */
	char transport_text[8192];
	size_t transport_text_len;
};

/* The process-wide counters. */
struct wg_metrics *wg_metrics_counters(void);
/* One answer of an auth backend: a success or a failure after `seconds`. */
void wg_metrics_login(const char *backend, bool success, double seconds);
/* A session's final counters, so totals keep growing after it ends. */
void wg_metrics_session_ended(uint64_t rx_bytes, uint64_t tx_bytes, uint64_t rx_packets, uint64_t tx_packets);
void wg_metrics_reload(bool ok);

/* Adds one observation to b (exposed for tests). */
void wg_metrics_observe(struct wg_metrics_backend *b, bool success, double seconds);
/* The exposition text of m, malloc'd and NUL-terminated; NULL when memory
 * is short. */
char *wg_metrics_format(const struct wg_metrics *m, size_t *len);

#endif
