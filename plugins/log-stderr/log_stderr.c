/* log-stderr: log lines to standard error, as text (journald/syslog
 * friendly: "<6>source: [user@addr sid=..] message", time stamps only on a
 * terminal) or as JSON lines. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wolfguard/plugin.h>

#include "../common/json_line.h"

struct log_stderr {
	int level;  /* lines above it are dropped */
	bool json;  /* "format": "json" */
	bool tty;   /* stderr is a terminal: time stamps, no <N> prefix */
};

static void write_all(const char *buf, size_t len)
{
	/* One write() per line: lines from several threads never interleave. */
	for (size_t off = 0; off < len;) {
		ssize_t w = write(STDERR_FILENO, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

static size_t put(char *buf, size_t size, size_t at, const char *fmt, const char *a, const char *b)
{
	int n = snprintf(buf + at, size - at, fmt, a, b);
	return n < 0 ? at : (size_t)n >= size - at ? size - 1 : at + (size_t)n;
}

static size_t format_text(const struct log_stderr *st, char *buf, size_t size,
			  const struct wg_log_record *r)
{
	size_t at = 0;
	if (st->tty) {
		time_t secs = (time_t)(r->time_us / 1000000);
		struct tm tm;
		localtime_r(&secs, &tm);
		at = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
		at += (size_t)snprintf(buf + at, size - at, ".%03d %-6s ", (int)(r->time_us / 1000 % 1000),
				       json_line_level(r->level));
	} else {
		/* sd-daemon(3) priority: <3> error ... <7> debug. */
		at = (size_t)snprintf(buf, size, "<%d>", 3 + (r->level >= 0 && r->level <= 4 ? r->level : 4));
	}
	at = put(buf, size, at, "%.64s: %s", r->source ? r->source : "core", "");
	if (r->user || r->client_addr || r->session_id || r->vpn_addr) {
		at = put(buf, size, at, "[%.128s%s", r->user ? r->user : "", r->user && r->client_addr ? "@" : "");
		at = put(buf, size, at, "%.64s%s", r->client_addr ? r->client_addr : "", "");
		if (r->session_id)
			at = put(buf, size, at, "%ssid=%.64s", at > 0 && buf[at - 1] != '[' ? " " : "", r->session_id);
		if (r->vpn_addr)
			at = put(buf, size, at, "%svpn=%.64s", buf[at - 1] != '[' ? " " : "", r->vpn_addr);
		at = put(buf, size, at, "%s%s", "] ", "");
	}
	/* Control characters would split one record into several lines. */
	for (const char *m = r->message ? r->message : ""; *m && at + 2 < size; m++) {
		unsigned char c = (unsigned char)*m;
		buf[at++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	buf[at++] = '\n';
	buf[at] = '\0';
	return at;
}

static void log_write(void *state, const struct wg_log_record *r)
{
	const struct log_stderr *st = state;
	if (r->level > st->level)
		return;
	char buf[JSON_LINE_MAX + 3];
	size_t len = st->json ? json_line_format(buf, sizeof(buf), r) : format_text(st, buf, sizeof(buf), r);
	write_all(buf, len);
}

static int log_init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err,
		    size_t errlen)
{
	const char *level = host->config_string(cfg, "level");
	const char *format = host->config_string(cfg, "format");
	int lv = json_line_level_from_name(level);
	if (lv < 0) {
		snprintf(err, errlen, "%s: level: \"%s\" is not one of error, warn, notice, info, debug",
			 host->config_where(cfg, "level"), level);
		return -EINVAL;
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
		snprintf(err, errlen, "%s: format: \"%s\" is neither \"text\" nor \"json\"",
			 host->config_where(cfg, "format"), format);
		return -EINVAL;
	}
	struct log_stderr *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	st->level = lv;
	st->json = strcmp(format, "json") == 0;
	st->tty = isatty(STDERR_FILENO) == 1;
	*state = st;
	return 0;
}

static void log_fini(void *state)
{
	free(state);
}

static const struct wg_option log_options[] = {
	{"level", WG_OPT_STRING, 0, 0, 0, "info", "lowest level written: error, warn, notice, info or debug"},
	{"format", WG_OPT_STRING, 0, 0, 0, "text", "\"text\" (journald/syslog style) or \"json\" (one object per line)"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static const struct wg_log_ops log_ops = {
	.struct_size = sizeof(struct wg_log_ops),
	.write = log_write,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "log-stderr",
	.version = "1.0.0",
	.description = "log lines to standard error, as text or JSON",
	.kind = WG_PLUGIN_LOG,
	.options = log_options,
	.init = log_init,
	.fini = log_fini,
	.ops = &log_ops,
};
