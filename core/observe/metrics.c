/* Prometheus text format, written with open_memstream: every family has
 * # HELP and # TYPE lines, label values are escaped, histogram buckets are
 * cumulative and end with le="+Inf". */
#include "observe/metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const double wg_metrics_latency_buckets[WG_METRICS_N_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
								   0.5,   1,    2.5,   5,    10,  30};

static struct wg_metrics counters;

struct wg_metrics *wg_metrics_counters(void)
{
	if (!counters.start_time)
		counters.start_time = (int64_t)time(NULL);
	return &counters;
}

void wg_metrics_observe(struct wg_metrics_backend *b, bool success, double seconds)
{
	if (seconds < 0)
		seconds = 0;
	if (success)
		b->success++;
	else
		b->failure++;
	for (unsigned i = 0; i < WG_METRICS_N_BUCKETS; i++) {
		if (seconds <= wg_metrics_latency_buckets[i]) {
			b->bucket[i]++;
			break;
		}
	}
	b->latency_count++;
	b->latency_sum += seconds;
}

void wg_metrics_login(const char *backend, bool success, double seconds)
{
	struct wg_metrics *m = wg_metrics_counters();
	struct wg_metrics_backend *b = NULL;

	if (!backend)
		backend = "unknown";
	for (unsigned i = 0; i < m->n_backends && !b; i++)
		if (strcmp(m->backends[i].name, backend) == 0)
			b = &m->backends[i];
	if (!b) {
		/* Backends are plugin names from conf.d: a handful at most. The
		 * last slot collects any beyond the cap. */
		unsigned i = m->n_backends < WG_METRICS_MAX_BACKENDS ? m->n_backends++ : WG_METRICS_MAX_BACKENDS - 1;
		b = &m->backends[i];
		if (!b->name[0] || i < WG_METRICS_MAX_BACKENDS - 1)
			snprintf(b->name, sizeof(b->name), "%s", i < WG_METRICS_MAX_BACKENDS - 1 ? backend : "other");
	}
	wg_metrics_observe(b, success, seconds);
}

void wg_metrics_session_ended(uint64_t rx_bytes, uint64_t tx_bytes, uint64_t rx_packets, uint64_t tx_packets)
{
	struct wg_metrics *m = wg_metrics_counters();

	m->ended_rx_bytes += rx_bytes;
	m->ended_tx_bytes += tx_bytes;
	m->ended_rx_packets += rx_packets;
	m->ended_tx_packets += tx_packets;
}

void wg_metrics_reload(bool ok)
{
	if (ok)
		wg_metrics_counters()->reloads_ok++;
	else
		wg_metrics_counters()->reloads_failed++;
}

/* A label value with \, " and newline escaped as the format requires. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void simple(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static void by_direction(FILE *f, const char *name, const char *help, uint64_t in, uint64_t out)
{
	family(f, name, "counter", help);
	fprintf(f, "%s{direction=\"in\"} %llu\n%s{direction=\"out\"} %llu\n", name, (unsigned long long)in, name,
		(unsigned long long)out);
}

static void logins(FILE *f, const struct wg_metrics *m)
{
	family(f, "wolfguard_logins_total", "counter", "Answers of auth backends, by result.");
	for (unsigned i = 0; i < m->n_backends; i++) {
		for (int ok = 1; ok >= 0; ok--) {
			fputs("wolfguard_logins_total{backend=\"", f);
			put_label(f, m->backends[i].name);
			fprintf(f, "\",result=\"%s\"} %llu\n", ok ? "success" : "failure",
				(unsigned long long)(ok ? m->backends[i].success : m->backends[i].failure));
		}
	}
	family(f, "wolfguard_auth_failures_total", "counter", "Failed logins, all backends.");
	uint64_t failed = 0;
	for (unsigned i = 0; i < m->n_backends; i++)
		failed += m->backends[i].failure;
	fprintf(f, "wolfguard_auth_failures_total %llu\n", (unsigned long long)failed);
}

static void latency(FILE *f, const struct wg_metrics *m)
{
	family(f, "wolfguard_auth_latency_seconds", "histogram",
	       "Time an auth backend took to answer a login step.");
	for (unsigned i = 0; i < m->n_backends; i++) {
		const struct wg_metrics_backend *b = &m->backends[i];
		uint64_t cumulative = 0;
		for (unsigned k = 0; k <= WG_METRICS_N_BUCKETS; k++) {
			fputs("wolfguard_auth_latency_seconds_bucket{backend=\"", f);
			put_label(f, b->name);
			if (k < WG_METRICS_N_BUCKETS) {
				cumulative += b->bucket[k];
				fprintf(f, "\",le=\"%g\"} %llu\n", wg_metrics_latency_buckets[k], (unsigned long long)cumulative);
			} else {
				fprintf(f, "\",le=\"+Inf\"} %llu\n", (unsigned long long)b->latency_count);
			}
		}
		fputs("wolfguard_auth_latency_seconds_sum{backend=\"", f);
		put_label(f, b->name);
		fprintf(f, "\"} %.6f\n", b->latency_sum);
		fputs("wolfguard_auth_latency_seconds_count{backend=\"", f);
		put_label(f, b->name);
		fprintf(f, "\"} %llu\n", (unsigned long long)b->latency_count);
	}
}

static void per_transport(FILE *f, const struct wg_metrics *m, const char *name, const char *type, const char *help,
			  size_t off)
{
	if (m->n_transports == 0)
		return;
	family(f, name, type, help);
	for (unsigned i = 0; i < m->n_transports && i < WG_METRICS_MAX_TRANSPORTS; i++) {
		uint64_t v;
		memcpy(&v, (const char *)&m->transports[i] + off, sizeof(v));
		fprintf(f, "%s{transport=\"", name);
		put_label(f, m->transports[i].name);
		fprintf(f, "\"} %llu\n", (unsigned long long)v);
	}
}

static void transports(FILE *f, const struct wg_metrics *m)
{
	per_transport(f, m, "wolfguard_transport_lanes_up", "gauge", "Lanes of a transport plugin carrying packets now.",
		      offsetof(struct wg_metrics_transport, lanes_up));
	per_transport(f, m, "wolfguard_transport_handshakes", "gauge",
		      "Half-open handshakes a transport plugin holds state for.",
		      offsetof(struct wg_metrics_transport, handshakes));
	per_transport(f, m, "wolfguard_transport_dropped_total", "counter",
		      "Datagrams a transport plugin dropped (full socket buffer, too large).",
		      offsetof(struct wg_metrics_transport, dropped));
}

/* Only on a node of a cluster (docs/cluster.md). */
static void cluster(FILE *f, const struct wg_metrics *m)
{
	simple(f, "wolfguard_cluster_redis_up", "gauge", "1 while the connection to the cluster's Redis is up.",
	       m->cluster_redis_up);
	simple(f, "wolfguard_cluster_redis_outages_total", "counter", "Times the connection to Redis went down.",
	       m->cluster_redis_outages);
	simple(f, "wolfguard_cluster_store_errors_total", "counter",
	       "Redis commands that failed (no reply in time, connection lost, an error reply).", m->cluster_store_errors);
	simple(f, "wolfguard_cluster_adopted_sessions_total", "counter",
	       "Sessions taken over from another node (a reconnect with a cookie this node did not know).",
	       m->cluster_adopted);
	simple(f, "wolfguard_cluster_leases", "gauge", "Sessions holding an address of the shared pool.", m->cluster_leases);
	family(f, "wolfguard_cluster_lease_claims_total", "counter",
	       "Claims of a shared-pool address at login, by result (claimed; conflict: another node holds it, "
	       "another is tried; refused: the login got no address because Redis could not be asked).");
	fprintf(f,
		"wolfguard_cluster_lease_claims_total{result=\"claimed\"} %llu\n"
		"wolfguard_cluster_lease_claims_total{result=\"conflict\"} %llu\n"
		"wolfguard_cluster_lease_claims_total{result=\"refused\"} %llu\n",
		(unsigned long long)m->cluster_lease_claims, (unsigned long long)m->cluster_lease_conflicts,
		(unsigned long long)m->cluster_lease_refused);
	simple(f, "wolfguard_cluster_lease_lapsed_total", "counter",
	       "Sessions ended because their shared-pool lease could not be renewed in time (Redis unreachable) or "
	       "another node held their address.",
	       m->cluster_lease_lapsed);
}

char *wg_metrics_format(const struct wg_metrics *m, size_t *len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	family(f, "wolfguard_sessions", "gauge", "Sessions by the channel carrying their packets (none: waiting for a reconnect).");
	fprintf(f, "wolfguard_sessions{transport=\"dtls\"} %llu\nwolfguard_sessions{transport=\"cstp\"} %llu\n"
		   "wolfguard_sessions{transport=\"none\"} %llu\n",
		(unsigned long long)m->sessions_dtls, (unsigned long long)m->sessions_cstp,
		(unsigned long long)m->sessions_waiting);
	simple(f, "wolfguard_unauthenticated_connections", "gauge", "Connections that have not logged in yet.",
	       m->unauth_connections);
	logins(f, m);
	latency(f, m);
	by_direction(f, "wolfguard_bytes_total", "Tunnel payload bytes (in: from clients, out: to clients).",
		     m->rx_bytes, m->tx_bytes);
	by_direction(f, "wolfguard_packets_total", "Tunnel packets (in: from clients, out: to clients).",
		     m->rx_packets, m->tx_packets);
	simple(f, "wolfguard_bans", "gauge", "Client addresses banned now.", m->bans_active);
	simple(f, "wolfguard_bans_total", "counter", "Bans imposed, automatic and manual.", m->bans_total);
	simple(f, "wolfguard_ban_refused_connections_total", "counter", "Connections closed because their address is banned.",
	       m->ban_refused);
	simple(f, "wolfguard_ban_tracked_addresses", "gauge", "Addresses in the ban table (failures or bans).",
	       m->ban_tracked);
	family(f, "wolfguard_reloads_total", "counter", "Configuration reloads, by result.");
	fprintf(f, "wolfguard_reloads_total{result=\"success\"} %llu\nwolfguard_reloads_total{result=\"failure\"} %llu\n",
		(unsigned long long)m->reloads_ok, (unsigned long long)m->reloads_failed);
	simple(f, "wolfguard_config_generation", "gauge", "Number of the configuration in use (1 at start, +1 per reload).",
	       m->generation);
	transports(f, m);
	if (m->cluster_on)
		cluster(f, m);
	if (m->transport_text_len && m->transport_text_len < sizeof(m->transport_text))
		fwrite(m->transport_text, 1, m->transport_text_len, f);
	family(f, "wolfguard_start_time_seconds", "gauge", "When the server started (unix time).");
	fprintf(f, "wolfguard_start_time_seconds %lld\n", (long long)m->start_time);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	if (len)
		*len = size;
	return text;
}
