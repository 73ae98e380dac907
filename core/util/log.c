/* Logging: level filter, session context, then either the registered sinks
 * (log plugins) or, while there are none, stderr. */
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SINKS_MAX 16

struct sink {
	const struct wg_log_ops *ops; /* borrowed from a loaded plugin */
	void *state;
};

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER; /* guards sinks[], serialises writes */
static struct sink sinks[SINKS_MAX];
static size_t n_sinks;
static int max_level = WG_LOG_INFO; /* atomic access */
static void (*describer)(const struct wg_session *s, struct wg_log_context *out); /* atomic access */
/* Set while this thread is inside a sink: a sink that logs gets stderr
 * instead of a deadlock on sink_lock. */
static __thread int in_sink;

static const char *const level_names[] = {"error", "warn", "notice", "info", "debug"};

void wg_log_set_level(int level)
{
	if (level < WG_LOG_ERROR)
		level = WG_LOG_ERROR;
	if (level > WG_LOG_DEBUG)
		level = WG_LOG_DEBUG;
	__atomic_store_n(&max_level, level, __ATOMIC_RELAXED);
}

int wg_log_level_from_name(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "warning") == 0)
		return WG_LOG_WARN;
	for (int i = WG_LOG_ERROR; i <= WG_LOG_DEBUG; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *wg_log_level_name(int level)
{
	return level >= WG_LOG_ERROR && level <= WG_LOG_DEBUG ? level_names[level] : "unknown";
}

void wg_log_set_describer(void (*describe)(const struct wg_session *s, struct wg_log_context *out))
{
	__atomic_store_n(&describer, describe, __ATOMIC_RELEASE);
}

int wg_log_add_sink(const struct wg_log_ops *ops, void *state)
{
	if (!ops || !ops->write)
		return -EINVAL;
	int rc = -ENOSPC;
	pthread_mutex_lock(&sink_lock);
	/* Adding the same sink twice is a no-op, so a caller that registers
	 * log plugins after wg_plugins_init() did cannot double every line. */
	for (size_t i = 0; i < n_sinks; i++) {
		if (sinks[i].ops == ops && sinks[i].state == state) {
			pthread_mutex_unlock(&sink_lock);
			return 0;
		}
	}
	if (n_sinks < SINKS_MAX) {
		sinks[n_sinks++] = (struct sink){ops, state};
		rc = 0;
	}
	pthread_mutex_unlock(&sink_lock);
	return rc;
}

void wg_log_remove_sink(const struct wg_log_ops *ops, void *state)
{
	pthread_mutex_lock(&sink_lock);
	for (size_t i = 0; i < n_sinks; i++) {
		if (sinks[i].ops == ops && sinks[i].state == state) {
			memmove(&sinks[i], &sinks[i + 1], (n_sinks - i - 1) * sizeof(sinks[0]));
			n_sinks--;
			break;
		}
	}
	pthread_mutex_unlock(&sink_lock);
}

void wg_log_clear_sinks(void)
{
	/* Taking the lock waits for any write in progress, so the caller may
	 * fini the plugins right after. */
	pthread_mutex_lock(&sink_lock);
	n_sinks = 0;
	pthread_mutex_unlock(&sink_lock);
}

/* ---- the stderr fallback ----------------------------------------------- */

/* sd-daemon(3) priorities: <3> err, <4> warning, <5> notice, <6> info, <7> debug. */
static int sd_priority(int level)
{
	return level < WG_LOG_ERROR ? 3 : level > WG_LOG_DEBUG ? 7 : 3 + level;
}

/* "[alice@192.0.2.7 sid=3f2a vpn=10.8.0.5] ", or "" without a session. */
static void format_context(char *buf, size_t size, const struct wg_log_record *r)
{
	buf[0] = '\0';
	if (!r->user && !r->client_addr && !r->session_id && !r->vpn_addr)
		return;
	size_t at = 0;
#define PUT(...)                                                                        \
	do {                                                                            \
		int n_ = snprintf(buf + at, size - at, __VA_ARGS__);                     \
		at = n_ < 0 ? at : (size_t)n_ >= size - at ? size - 1 : at + (size_t)n_; \
	} while (0)
	PUT("[");
	if (r->user)
		PUT("%.128s", r->user);
	if (r->client_addr)
		PUT("%s%.64s", r->user ? "@" : "", r->client_addr);
	if (r->session_id)
		PUT("%ssid=%.64s", r->user || r->client_addr ? " " : "", r->session_id);
	if (r->vpn_addr)
		PUT("%svpn=%.64s", at > 1 ? " " : "", r->vpn_addr);
	PUT("] ");
#undef PUT
}

size_t wg_log_format_stderr(char *buf, size_t size, const struct wg_log_record *r, bool tty)
{
	if (size < 2) {
		if (size)
			buf[0] = '\0';
		return 0;
	}
	char ctx[512], head[64];
	format_context(ctx, sizeof(ctx), r);
	if (tty) {
		time_t secs = (time_t)(r->time_us / 1000000);
		struct tm tm;
		localtime_r(&secs, &tm);
		size_t n = strftime(head, sizeof(head), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(head + n, sizeof(head) - n, ".%03d %-6s ", (int)(r->time_us / 1000 % 1000),
			 wg_log_level_name(r->level));
	} else {
		snprintf(head, sizeof(head), "<%d>", sd_priority(r->level));
	}
	int n = snprintf(buf, size, "%s%.64s: %s", head, r->source ? r->source : "core", ctx);
	size_t at = n < 0 ? 0 : (size_t)n > size - 2 ? size - 2 : (size_t)n;
	for (const char *m = r->message ? r->message : ""; *m && at + 2 < size; m++) {
		unsigned char c = (unsigned char)*m;
		buf[at++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	buf[at++] = '\n'; /* at <= size - 2 before this */
	buf[at] = '\0';
	return at;
}

static void write_stderr(const struct wg_log_record *r)
{
	static int tty_cached = -1; /* every thread computes the same answer */
	int tty = __atomic_load_n(&tty_cached, __ATOMIC_RELAXED);
	if (tty < 0) {
		tty = isatty(STDERR_FILENO);
		__atomic_store_n(&tty_cached, tty, __ATOMIC_RELAXED);
	}
	char line[WG_LOG_MSG_MAX + 768];
	size_t len = wg_log_format_stderr(line, sizeof(line), r, tty == 1);
	/* One write() per line, so lines from several threads do not interleave. */
	for (size_t off = 0; off < len;) {
		ssize_t w = write(STDERR_FILENO, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

/* ---- entry points ------------------------------------------------------ */

/* Marks a cut message with "..." without splitting a UTF-8 character. */
static void mark_truncated(char *msg, size_t size)
{
	size_t end = size - 4;
	while (end > 0 && ((unsigned char)msg[end] & 0xC0) == 0x80)
		end--;
	memcpy(msg + end, "...", 4);
}

/* "core", or "core.w3" in worker 3 of several, so lines say which process. */
static char core_source[24] = "core";

void wg_log_set_core_source(const char *name)
{
	snprintf(core_source, sizeof(core_source), "%s", name);
}

void wg_vlog_from(const char *source, const struct wg_session *s, int level, const char *fmt,
		  va_list ap)
{
	if (level > __atomic_load_n(&max_level, __ATOMIC_RELAXED))
		return;
	char msg[WG_LOG_MSG_MAX];
	int n = vsnprintf(msg, sizeof(msg), fmt ? fmt : "", ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(unformattable log message)");
	else if ((size_t)n >= sizeof(msg))
		mark_truncated(msg, sizeof(msg));

	struct wg_log_context ctx = {0};
	void (*describe)(const struct wg_session *, struct wg_log_context *) =
		__atomic_load_n(&describer, __ATOMIC_ACQUIRE);
	if (s && describe)
		describe(s, &ctx);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct wg_log_record rec = {
		.struct_size = sizeof(rec),
		.level = level,
		.time_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
		.source = source ? source : core_source,
		.message = msg,
		.user = ctx.user,
		.client_addr = ctx.client_addr,
		.session_id = ctx.session_id,
		.vpn_addr = ctx.vpn_addr,
	};

	if (in_sink) {
		write_stderr(&rec);
		return;
	}
	pthread_mutex_lock(&sink_lock);
	if (n_sinks == 0) {
		write_stderr(&rec);
	} else {
		in_sink = 1;
		for (size_t i = 0; i < n_sinks; i++)
			sinks[i].ops->write(sinks[i].state, &rec);
		in_sink = 0;
	}
	pthread_mutex_unlock(&sink_lock);
}

void wg_log_from(const char *source, const struct wg_session *s, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	wg_vlog_from(source, s, level, fmt, ap);
	va_end(ap);
}

void wg_vlog(const struct wg_session *s, int level, const char *fmt, va_list ap)
{
	wg_vlog_from(NULL, s, level, fmt, ap);
}

void wg_log(const struct wg_session *s, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	wg_vlog_from(NULL, s, level, fmt, ap);
	va_end(ap);
}
