/* Logging core (levels, sinks, stderr fallback, truncation, threads) and the
 * two log plugins, loaded from the build like the server loads them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_fixture.h"
#include "config/config.h"
#include "modules/loader.h"
#include "util/log.h"

/* ---- a recording sink -------------------------------------------------- */

struct seen {
	int count, active, max_active, level;
	char source[64], message[WG_LOG_MSG_MAX + 16], user[64], client[64], sid[64], vpn[64];
	int64_t time_us;
};

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "(null)");
}

static void record_write(void *state, const struct wg_log_record *r)
{
	struct seen *s = state;
	/* The host serialises calls: two writes never overlap. */
	if (++s->active > s->max_active)
		s->max_active = s->active;
	s->count++;
	s->level = r->level;
	s->time_us = r->time_us;
	copy(s->source, sizeof(s->source), r->source);
	copy(s->message, sizeof(s->message), r->message);
	copy(s->user, sizeof(s->user), r->user);
	copy(s->client, sizeof(s->client), r->client_addr);
	copy(s->sid, sizeof(s->sid), r->session_id);
	copy(s->vpn, sizeof(s->vpn), r->vpn_addr);
	s->active--;
}

static const struct wg_log_ops record_ops = {sizeof(struct wg_log_ops), record_write};

/* Stands in for session.c: any non-NULL session is "alice". */
static void describe(const struct wg_session *s, struct wg_log_context *out)
{
	out->user = "alice";
	out->client_addr = "192.0.2.7";
	out->session_id = "3f2a";
	out->vpn_addr = "10.8.0.5";
}

static const struct wg_session *fake_session = (const struct wg_session *)&record_ops;

/* ---- capturing stderr -------------------------------------------------- */

static int saved_stderr = -1;
static char capture_path[] = "/tmp/wglog.XXXXXX";

static void capture_start(void)
{
	int fd = mkstemp(capture_path);
	cr_assert(fd >= 0);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* Returns what was written to stderr since capture_start() (caller frees). */
static char *capture_end(void)
{
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	FILE *f = fopen(capture_path, "r");
	cr_assert(f);
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	unlink(capture_path);
	return buf;
}

/* ---- core -------------------------------------------------------------- */

Test(log, level_names_round_trip)
{
	for (int l = WG_LOG_ERROR; l <= WG_LOG_DEBUG; l++)
		cr_assert_eq(wg_log_level_from_name(wg_log_level_name(l)), l);
	cr_assert_eq(wg_log_level_from_name("warning"), WG_LOG_WARN);
	cr_assert_eq(wg_log_level_from_name("verbose"), -1);
	cr_assert_eq(wg_log_level_from_name(NULL), -1);
	cr_assert_str_eq(wg_log_level_name(99), "unknown");
}

Test(log, sinks_get_records_filtered_by_level)
{
	struct seen s = {0};
	cr_assert_eq(wg_log_add_sink(&record_ops, &s), 0);
	wg_log_set_level(WG_LOG_NOTICE);
	wg_log(NULL, WG_LOG_INFO, "dropped");
	wg_log(NULL, WG_LOG_DEBUG, "dropped");
	cr_assert_eq(s.count, 0);
	wg_log(NULL, WG_LOG_WARN, "kept %d", 42);
	cr_assert_eq(s.count, 1);
	cr_assert_eq(s.level, WG_LOG_WARN);
	cr_assert_str_eq(s.message, "kept 42");
	cr_assert_str_eq(s.source, "core");
	cr_assert_str_eq(s.user, "(null)", "no session, no context");
	cr_assert_gt(s.time_us, 1600000000LL * 1000000);
	wg_log_from("auth-plain", NULL, WG_LOG_ERROR, "from a plugin");
	cr_assert_str_eq(s.source, "auth-plain");
	wg_log_clear_sinks();
	wg_log_set_level(WG_LOG_INFO);
}

Test(log, session_lines_carry_context)
{
	struct seen s = {0};
	wg_log_add_sink(&record_ops, &s);
	wg_log_set_describer(describe);
	wg_log(fake_session, WG_LOG_INFO, "connected");
	cr_assert_str_eq(s.user, "alice");
	cr_assert_str_eq(s.client, "192.0.2.7");
	cr_assert_str_eq(s.sid, "3f2a");
	cr_assert_str_eq(s.vpn, "10.8.0.5");
	wg_log(NULL, WG_LOG_INFO, "no session");
	cr_assert_str_eq(s.user, "(null)");
	wg_log_clear_sinks();
	wg_log_set_describer(NULL);
}

Test(log, long_messages_are_cut_not_overflowed)
{
	struct seen s = {0};
	wg_log_add_sink(&record_ops, &s);
	char *big = malloc(5000);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	wg_log(NULL, WG_LOG_ERROR, "%s", big);
	cr_assert_eq(strlen(s.message), WG_LOG_MSG_MAX - 1);
	cr_assert_str_eq(s.message + WG_LOG_MSG_MAX - 4, "...");
	/* Two-byte characters: the cut lands between characters. */
	for (int i = 0; i + 1 < 4999; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[4998] = '\0';
	wg_log(NULL, WG_LOG_ERROR, "x%s", big);
	size_t n = strlen(s.message);
	cr_assert_str_eq(s.message + n - 3, "...");
	cr_assert_eq((n - 1 - 3) % 2, 0, "no half character before the dots");
	free(big);
	wg_log_clear_sinks();
}

Test(log, stderr_format_for_journald_and_terminal)
{
	char buf[512];
	struct wg_log_record r = {.struct_size = sizeof(r), .level = WG_LOG_INFO, .time_us = 0,
				  .source = "core", .message = "hello\nworld\x01", .user = "alice",
				  .client_addr = "192.0.2.7", .session_id = "3f2a", .vpn_addr = "10.8.0.5"};
	size_t n = wg_log_format_stderr(buf, sizeof(buf), &r, false);
	cr_assert_str_eq(buf, "<6>core: [alice@192.0.2.7 sid=3f2a vpn=10.8.0.5] hello world \n");
	cr_assert_eq(n, strlen(buf));
	r.level = WG_LOG_ERROR;
	r.user = NULL;
	r.vpn_addr = NULL;
	wg_log_format_stderr(buf, sizeof(buf), &r, false);
	cr_assert_str_eq(buf, "<3>core: [192.0.2.7 sid=3f2a] hello world \n");
	r.client_addr = NULL;
	r.session_id = NULL;
	r.level = WG_LOG_DEBUG;
	r.source = "log-json";
	wg_log_format_stderr(buf, sizeof(buf), &r, false);
	cr_assert_str_eq(buf, "<7>log-json: hello world \n");

	/* A terminal gets a local time stamp and the level name instead. */
	r.level = WG_LOG_WARN;
	r.time_us = 1700000000LL * 1000000 + 123456;
	wg_log_format_stderr(buf, sizeof(buf), &r, true);
	cr_assert_eq(buf[4], '-');
	cr_assert_eq(buf[19], '.');
	cr_assert_eq(strncmp(buf + 20, "123 warn   log-json: hello world \n", 34), 0, "%s", buf);

	/* Tiny buffers: cut, still one terminated line. */
	for (size_t size = 0; size < 12; size++) {
		char small[13];
		memset(small, 'Z', sizeof(small));
		n = wg_log_format_stderr(small, size, &r, false);
		if (size >= 2) {
			cr_assert_eq(n, size - 1);
			cr_assert_eq(small[n - 1], '\n');
			cr_assert_eq(small[n], '\0');
		}
		cr_assert_eq(small[size], 'Z', "wrote past %zu bytes", size);
	}
}

Test(log, stderr_fallback_when_no_sink)
{
	capture_start();
	wg_log_set_describer(describe);
	wg_log(fake_session, WG_LOG_NOTICE, "login ok");
	wg_log(NULL, WG_LOG_DEBUG, "filtered");
	char *out = capture_end();
	cr_assert_str_eq(out, "<5>core: [alice@192.0.2.7 sid=3f2a vpn=10.8.0.5] login ok\n");
	free(out);
	wg_log_set_describer(NULL);
}

static void reentrant_write(void *state, const struct wg_log_record *r)
{
	int *calls = state;
	if ((*calls)++ == 0)
		wg_log(NULL, WG_LOG_ERROR, "sink trouble");
}

Test(log, a_sink_that_logs_goes_to_stderr_instead_of_deadlocking, .timeout = 60)
{
	static const struct wg_log_ops ops = {sizeof(struct wg_log_ops), reentrant_write};
	int calls = 0;
	wg_log_add_sink(&ops, &calls);
	capture_start();
	wg_log(NULL, WG_LOG_INFO, "first");
	char *out = capture_end();
	cr_assert_eq(calls, 1);
	cr_assert_str_eq(out, "<3>core: sink trouble\n");
	free(out);
	wg_log_clear_sinks();
}

Test(log, sink_table_is_bounded_and_checked)
{
	static const struct wg_log_ops no_write = {sizeof(struct wg_log_ops), NULL};
	struct seen s = {0};
	cr_assert_eq(wg_log_add_sink(NULL, NULL), -EINVAL);
	cr_assert_eq(wg_log_add_sink(&no_write, NULL), -EINVAL);
	/* The same sink twice counts once. */
	cr_assert_eq(wg_log_add_sink(&record_ops, &s), 0);
	cr_assert_eq(wg_log_add_sink(&record_ops, &s), 0);
	wg_log(NULL, WG_LOG_INFO, "x");
	cr_assert_eq(s.count, 1);
	struct seen many[20] = {0};
	int added = 1;
	while (added < 1000 && wg_log_add_sink(&record_ops, &many[added - 1]) == 0)
		added++;
	cr_assert_eq(added, 16);
	cr_assert_eq(wg_log_add_sink(&record_ops, &many[19]), -ENOSPC);
	wg_log(NULL, WG_LOG_INFO, "x");
	cr_assert_eq(s.count, 2);
	cr_assert_eq(many[14].count, 1);
	cr_assert_eq(many[15].count, 0);
	wg_log_clear_sinks();
}

static void *log_many(void *arg)
{
	for (int i = 0; i < 2000; i++)
		wg_log(NULL, WG_LOG_INFO, "thread %p line %d", arg, i);
	return NULL;
}

Test(log, threads_are_serialised)
{
	struct seen s = {0};
	wg_log_add_sink(&record_ops, &s);
	pthread_t t[4];
	static int ids[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, log_many, &ids[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(s.count, 8000);
	cr_assert_eq(s.max_active, 1);
	wg_log_clear_sinks();
}

/* ---- the log plugins --------------------------------------------------- */

struct plugin_under_test {
	struct wg_loaded_plugin lp;
	struct wg_config *cfg;
	struct wg_host host;
	void *state;
};

/* Opens build/plugins/<name>.so, validates options_json, runs init().
 * Returns init's result; on success the plugin is registered as a sink. */
static int start_plugin(struct plugin_under_test *p, const char *name, const char *options_json,
			char *why, size_t whylen)
{
	struct wg_err err;
	wg_err_init(&err);
	char *path = fixture_plugin(name);
	cr_assert_eq(wg_plugin_open(path, name, &p->lp, &err), 0, "%s", err.text);
	free(path);
	p->cfg = wg_config_from_string("10-log.json", options_json, &err);
	cr_assert_not_null(p->cfg, "%s", err.text);
	cr_assert_eq(wg_config_validate(p->cfg, p->lp.desc->options, &err), 0, "%s", err.text);
	p->host = fixture_host();
	why[0] = '\0';
	int rc = p->lp.desc->init(&p->host, p->cfg, &p->state, why, whylen);
	if (rc == 0)
		cr_assert_eq(wg_log_add_sink(p->lp.desc->ops, p->state), 0);
	return rc;
}

static void stop_plugin(struct plugin_under_test *p)
{
	wg_log_clear_sinks();
	if (p->state)
		p->lp.desc->fini(p->state);
	wg_plugin_close(&p->lp);
	wg_config_free(p->cfg);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static json_t *line_json(const char *text, int index)
{
	const char *p = text;
	for (int i = 0; i < index && p; i++)
		p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
	cr_assert(p && *p, "line %d missing in:\n%s", index, text);
	json_error_t e;
	json_t *j = json_loadb(p, (size_t)(strchr(p, '\n') - p), 0, &e);
	cr_assert_not_null(j, "line %d is not JSON (%s): %.200s", index, e.text, p);
	return j;
}

Test(log, log_json_writes_escaped_lines_and_follows_rotation)
{
	char *dir = fixture_tmpdir(), *opts = NULL, path[4200], rotated[4200];
	snprintf(path, sizeof(path), "%s/wg.jsonl", dir);
	snprintf(rotated, sizeof(rotated), "%s/wg.jsonl.1", dir);
	cr_assert(asprintf(&opts, "{\"path\": \"%s\", \"level\": \"notice\"}", path) > 0);
	struct plugin_under_test p = {0};
	char why[512];
	cr_assert_eq(start_plugin(&p, "log-json", opts, why, sizeof(why)), 0, "%s", why);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640 & ~umask(022) & 0777);

	wg_log_set_describer(describe);
	wg_log(fake_session, WG_LOG_WARN, "quote\" backslash\\ nl\n ctl\x01 bad\xff utf8 caf\xc3\xa9");
	wg_log(NULL, WG_LOG_INFO, "below the plugin's level");
	wg_log_from("auth-plain", NULL, WG_LOG_ERROR, "plain");
	char *text = slurp(path);
	cr_assert_not_null(text);
	json_t *j = line_json(text, 0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "warn");
	cr_assert_str_eq(json_string_value(json_object_get(j, "source")), "core");
	cr_assert_str_eq(json_string_value(json_object_get(j, "msg")),
			 "quote\" backslash\\ nl\n ctl\x01 bad\xef\xbf\xbd utf8 caf\xc3\xa9");
	cr_assert_str_eq(json_string_value(json_object_get(j, "user")), "alice");
	cr_assert_str_eq(json_string_value(json_object_get(j, "client")), "192.0.2.7");
	cr_assert_str_eq(json_string_value(json_object_get(j, "session")), "3f2a");
	cr_assert_str_eq(json_string_value(json_object_get(j, "vpn_addr")), "10.8.0.5");
	const char *ts = json_string_value(json_object_get(j, "ts"));
	cr_assert_eq(strlen(ts), 27, "%s", ts); /* 2025-01-02T03:04:05.123456Z */
	cr_assert(ts[10] == 'T' && ts[19] == '.' && ts[26] == 'Z', "%s", ts);
	json_decref(j);
	j = line_json(text, 1);
	cr_assert_str_eq(json_string_value(json_object_get(j, "source")), "auth-plain");
	cr_assert_null(json_object_get(j, "user"), "no session, no user key");
	json_decref(j);
	cr_assert_null(strchr(strchr(strchr(text, '\n') + 1, '\n') + 1, '{'), "exactly two lines");
	free(text);

	/* logrotate moves the file away: the next line starts a new one. */
	cr_assert_eq(rename(path, rotated), 0);
	wg_log(NULL, WG_LOG_ERROR, "after rotation");
	text = slurp(path);
	cr_assert_not_null(text, "file was not recreated");
	j = line_json(text, 0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "msg")), "after rotation");
	json_decref(j);
	free(text);
	text = slurp(rotated);
	cr_assert_null(strstr(text, "after rotation"));
	free(text);

	stop_plugin(&p);
	wg_log_set_describer(NULL);
	free(opts);
	fixture_rmrf(dir);
}

Test(log, log_json_init_failures_explain_themselves)
{
	struct plugin_under_test p = {0};
	char why[512];
	cr_assert_neq(start_plugin(&p, "log-json", "{\"path\": \"/nonexistent/dir/x.jsonl\"}", why, sizeof(why)), 0);
	cr_assert_str_eq(why, "10-log.json:1:2: path: cannot open /nonexistent/dir/x.jsonl: No such file or directory");
	stop_plugin(&p);
	struct plugin_under_test q = {0};
	cr_assert_neq(start_plugin(&q, "log-json", "{\"path\": \"/tmp/x\",\n \"level\": \"loud\"}", why, sizeof(why)), 0);
	cr_assert_str_eq(why, "10-log.json:2:2: level: \"loud\" is not one of error, warn, notice, info, debug");
	stop_plugin(&q);
}

Test(log, log_json_requires_path)
{
	struct wg_err err;
	wg_err_init(&err);
	struct wg_loaded_plugin lp;
	char *path = fixture_plugin("log-json");
	cr_assert_eq(wg_plugin_open(path, "log-json", &lp, &err), 0, "%s", err.text);
	struct wg_config *cfg = wg_config_from_string("10-log.json", "{\"levle\": \"info\"}", &err);
	cr_assert_eq(wg_config_validate(cfg, lp.desc->options, &err), -1);
	cr_assert_str_eq(err.text, "10-log.json:1:2: levle: unknown key (did you mean \"level\"?)\n"
				   "10-log.json:1:1: path: required key is missing\n");
	wg_config_free(cfg);
	wg_plugin_close(&lp);
	free(path);
}

Test(log, log_stderr_text_and_json)
{
	struct plugin_under_test p = {0};
	char why[512];
	capture_start(); /* before init: the plugin checks isatty() there */
	cr_assert_eq(start_plugin(&p, "log-stderr", "{}", why, sizeof(why)), 0, "%s", why);
	wg_log_set_describer(describe);
	wg_log(fake_session, WG_LOG_INFO, "text line\n");
	wg_log(NULL, WG_LOG_DEBUG, "below default level info");
	stop_plugin(&p);
	struct plugin_under_test q = {0};
	cr_assert_eq(start_plugin(&q, "log-stderr", "{\"format\": \"json\", \"level\": \"debug\"}", why,
				  sizeof(why)), 0, "%s", why);
	wg_log(NULL, WG_LOG_DEBUG, "dropped by the core's own level (info)");
	wg_log_set_level(WG_LOG_DEBUG);
	wg_log(NULL, WG_LOG_DEBUG, "json \"line\"");
	wg_log_set_level(WG_LOG_INFO);
	stop_plugin(&q);
	char *out = capture_end();
	const char *want = "<6>core: [alice@192.0.2.7 sid=3f2a vpn=10.8.0.5] text line \n";
	cr_assert_eq(strncmp(out, want, strlen(want)), 0, "%s", out);
	json_t *j = line_json(out, 1);
	cr_assert_str_eq(json_string_value(json_object_get(j, "msg")), "json \"line\"");
	cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "debug");
	json_decref(j);
	cr_assert_null(strstr(out, "below default"));
	cr_assert_null(strstr(out, "dropped by"));
	free(out);
	wg_log_set_describer(NULL);
}

Test(log, log_stderr_rejects_unknown_format)
{
	struct plugin_under_test p = {0};
	char why[512];
	cr_assert_neq(start_plugin(&p, "log-stderr", "{\"format\": \"xml\"}", why, sizeof(why)), 0);
	cr_assert_str_eq(why, "10-log.json:1:2: format: \"xml\" is neither \"text\" nor \"json\"");
	stop_plugin(&p);
}
