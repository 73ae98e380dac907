/* Logging: every line goes to the configured log plugins; before any is
 * loaded (or if none is configured) lines go to stderr. A line about a
 * session carries its user, client address, session id and VPN address. */
#ifndef WG_LOG_H
#define WG_LOG_H

#include <stdarg.h>
#include <wolfguard/plugin.h>

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
int wg_log_level_from_name(const char *name); /* "info" -> WG_LOG_INFO, -1 if unknown */
const char *wg_log_level_name(int level);

/* Sinks: log plugins register here once initialised; the stderr fallback is
 * used only while no sink is registered. Thread-safe. */
int wg_log_add_sink(const struct wg_log_ops *ops, void *state);
void wg_log_clear_sinks(void);

/* How log.c learns a session's context without depending on session.c. */
struct wg_log_context {
	const char *user, *client_addr, *session_id, *vpn_addr;
};
void wg_log_set_describer(void (*describe)(const struct wg_session *s, struct wg_log_context *out));

#endif
