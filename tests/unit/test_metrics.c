#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/metrics.h"

static struct wg_metrics sample(void)
{
	struct wg_metrics m;

	memset(&m, 0, sizeof(m));
	m.sessions_dtls = 2;
	m.sessions_cstp = 1;
	m.rx_bytes = 1234;
	m.tx_bytes = 5678;
	m.rx_packets = 10;
	m.tx_packets = 11;
	m.bans_active = 1;
	m.generation = 3;
	m.n_backends = 1;
	strcpy(m.backends[0].name, "auth-plain");
	m.n_transports = 1;
	strcpy(m.transports[0].name, "transport-dtls");
	m.transports[0].lanes_up = 2;
	m.transports[0].handshakes = 1;
	m.transports[0].dropped = 7;
	wg_metrics_observe(&m.backends[0], true, 0.003);
	wg_metrics_observe(&m.backends[0], true, 0.2);
	wg_metrics_observe(&m.backends[0], false, 99);
	return m;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n'))
			return true;
	return false;
}

Test(metrics, exposition_lines)
{
	struct wg_metrics m = sample();
	size_t len;
	char *t = wg_metrics_format(&m, &len);

	cr_assert_not_null(t);
	cr_assert_eq(strlen(t), len);
	cr_assert(has_line(t, "# TYPE wolfguard_sessions gauge"));
	cr_assert(has_line(t, "wolfguard_sessions{transport=\"dtls\"} 2"));
	cr_assert(has_line(t, "wolfguard_sessions{transport=\"cstp\"} 1"));
	cr_assert(has_line(t, "wolfguard_logins_total{backend=\"auth-plain\",result=\"success\"} 2"));
	cr_assert(has_line(t, "wolfguard_logins_total{backend=\"auth-plain\",result=\"failure\"} 1"));
	cr_assert(has_line(t, "wolfguard_auth_failures_total 1"));
	cr_assert(has_line(t, "wolfguard_bytes_total{direction=\"in\"} 1234"));
	cr_assert(has_line(t, "wolfguard_bytes_total{direction=\"out\"} 5678"));
	cr_assert(has_line(t, "wolfguard_packets_total{direction=\"out\"} 11"));
	cr_assert(has_line(t, "wolfguard_bans 1"));
	cr_assert(has_line(t, "wolfguard_config_generation 3"));
	cr_assert(has_line(t, "# TYPE wolfguard_transport_lanes_up gauge"));
	cr_assert(has_line(t, "wolfguard_transport_lanes_up{transport=\"transport-dtls\"} 2"));
	cr_assert(has_line(t, "wolfguard_transport_handshakes{transport=\"transport-dtls\"} 1"));
	cr_assert(has_line(t, "wolfguard_transport_dropped_total{transport=\"transport-dtls\"} 7"));
	cr_assert_eq(t[len - 1], '\n', "the format ends every line");
	free(t);
}

Test(metrics, histogram_is_cumulative_and_ends_with_inf)
{
	struct wg_metrics m = sample();
	char *t = wg_metrics_format(&m, NULL);

	cr_assert(has_line(t, "# TYPE wolfguard_auth_latency_seconds histogram"));
	cr_assert(has_line(t, "wolfguard_auth_latency_seconds_bucket{backend=\"auth-plain\",le=\"0.005\"} 1"));
	cr_assert(has_line(t, "wolfguard_auth_latency_seconds_bucket{backend=\"auth-plain\",le=\"0.1\"} 1"));
	cr_assert(has_line(t, "wolfguard_auth_latency_seconds_bucket{backend=\"auth-plain\",le=\"0.25\"} 2"));
	cr_assert(has_line(t, "wolfguard_auth_latency_seconds_bucket{backend=\"auth-plain\",le=\"30\"} 2"),
		  "99 s is beyond the last bound");
	cr_assert(has_line(t, "wolfguard_auth_latency_seconds_bucket{backend=\"auth-plain\",le=\"+Inf\"} 3"));
	cr_assert(has_line(t, "wolfguard_auth_latency_seconds_count{backend=\"auth-plain\"} 3"));
	cr_assert(has_line(t, "wolfguard_auth_latency_seconds_sum{backend=\"auth-plain\"} 99.203000"));
	free(t);
}

Test(metrics, label_values_are_escaped)
{
	struct wg_metrics m;
	memset(&m, 0, sizeof(m));
	m.n_backends = 1;
	strcpy(m.backends[0].name, "we\"ird\\name\n");
	char *t = wg_metrics_format(&m, NULL);

	cr_assert(has_line(t, "wolfguard_logins_total{backend=\"we\\\"ird\\\\name\\n\",result=\"success\"} 0"), "%s", t);
	free(t);
}

Test(metrics, every_sample_line_belongs_to_a_declared_family)
{
	struct wg_metrics m = sample();
	char *t = wg_metrics_format(&m, NULL);
	char *save = NULL, *declared = calloc(1, strlen(t) + 1);

	for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# TYPE ", 7) == 0) {
			strcat(declared, line + 7);
			strcat(declared, "|");
			continue;
		}
		if (line[0] == '#')
			continue;
		char name[128];
		size_t n = strcspn(line, "{ ");
		cr_assert_lt(n, sizeof(name));
		memcpy(name, line, n);
		name[n] = '\0';
		/* A histogram's samples carry _bucket, _sum and _count. */
		static const char *const parts[] = {"_bucket", "_sum", "_count"};
		for (size_t k = 0; k < 3 && strstr(name, "latency"); k++) {
			char *u = strstr(name, parts[k]);
			if (u)
				*u = '\0';
		}
		char key[160];
		snprintf(key, sizeof(key), "%s ", name);
		cr_assert(strstr(declared, key), "sample %s without # TYPE", line);
	}
	free(declared);
	free(t);
}

Test(metrics, process_counters)
{
	wg_metrics_login("auth-x", true, 0.01);
	wg_metrics_login("auth-x", false, 0.02);
	wg_metrics_session_ended(100, 200, 1, 2);
	wg_metrics_reload(true);
	struct wg_metrics *m = wg_metrics_counters();
	cr_assert_eq(m->n_backends, 1);
	cr_assert_eq(m->backends[0].success, 1);
	cr_assert_eq(m->backends[0].failure, 1);
	cr_assert_eq(m->ended_tx_bytes, 200);
	cr_assert_eq(m->reloads_ok, 1);
	cr_assert_gt(m->start_time, 0);
}
