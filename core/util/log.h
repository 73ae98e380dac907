/* Logging: every line goes to the configured log plugins; before any is
 * loaded (or if none is configured) lines go to stderr. A line about a
 * session carries its user, client address, session id and VPN address. */
#ifndef WG_LOG_H
#define WG_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <wolfguard/plugin.h>

/* A formatted message is cut to this many bytes (NUL included), never more. */
#define WG_LOG_MSG_MAX 2048

struct wg_session;

void wg_log(const struct wg_session *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void wg_vlog(const struct wg_session *s, int level, const char *fmt, va_list ap);
/* The same, naming the source (a plugin's name; "core" otherwise). */
void wg_log_from(const char *source, const struct wg_session *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void wg_vlog_from(const char *source, const struct wg_session *s, int level, const char *fmt,
		  va_list ap);

/* Lines above this level are dropped before reaching any sink. */
void wg_log_set_level(int level);
/* The source named on the core's own lines (default "core"). */
void wg_log_set_core_source(const char *name);
int wg_log_level_from_name(const char *name); /* "info" -> WG_LOG_INFO, -1 if unknown */
const char *wg_log_level_name(int level);

/* Sinks: log plugins register here once initialised (wg_plugins_init()
 * does it); the stderr fallback is used only while no sink is registered.
 * Adding the same (ops, state) again is a no-op returning 0; at most 16
 * sinks (-ENOSPC). Thread-safe. */
int wg_log_add_sink(const struct wg_log_ops *ops, void *state);
void wg_log_clear_sinks(void);
/* Unregisters one sink (a log plugin of a configuration being retired). */
void wg_log_remove_sink(const struct wg_log_ops *ops, void *state);

/* How log.c learns a session's context without depending on session.c. */
struct wg_log_context {
	const char *user, *client_addr, *session_id, *vpn_addr;
};
void wg_log_set_describer(void (*describe)(const struct wg_session *s, struct wg_log_context *out));

/* The stderr fallback's line for rec, newline included, NUL-terminated,
 * cut to fit size. With tty: "2025-01-02 13:04:05.123 info  core: [..] msg";
 * otherwise journald/syslog style without a time stamp: "<6>core: [..] msg",
 * the <N> being the sd-daemon priority. Control characters in the message are
 * replaced by spaces so one record stays one line. Returns the length. */
size_t wg_log_format_stderr(char *buf, size_t size, const struct wg_log_record *rec, bool tty);

#endif
