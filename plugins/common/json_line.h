/* One log record as one line of JSON, shared by the log-json and log-stderr
 * plugins (header-only: plugins are single objects that see only the SDK).
 *
 * {"ts":"2025-01-02T03:04:05.123456Z","level":"info","source":"core",
 *  "msg":"...","user":"...","client":"...","session":"...","vpn_addr":"..."}
 *
 * Every string is escaped per RFC 8259 and made valid UTF-8 (an invalid byte
 * becomes U+FFFD), so a hostile user name cannot break or forge a line. The
 * output is bounded: each field is cut to a fixed number of input bytes, and
 * the buffer size below fits the worst case (every byte escaped as \u00XX). */
#ifndef WG_PLUGINS_JSON_LINE_H
#define WG_PLUGINS_JSON_LINE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wolfguard/plugin.h>

#define JSON_LINE_MSG_IN 4096   /* input bytes of the message kept (the host cuts at 2 KiB) */
#define JSON_LINE_FIELD_IN 256  /* input bytes kept of source/user/client/session/vpn_addr */
/* Worst case: 6 output bytes per input byte, plus names and punctuation. */
#define JSON_LINE_MAX (6 * (JSON_LINE_MSG_IN + 5 * JSON_LINE_FIELD_IN) + 256)

struct json_line {
	char *p;
	size_t len, cap; /* cap excludes room for the closing "}\n" and NUL */
};

static inline void json_line_raw(struct json_line *b, const char *s, size_t n)
{
	if (n > b->cap - b->len)
		n = b->cap - b->len; /* cannot happen with JSON_LINE_MAX; never overflow anyway */
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static inline size_t json_line_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */
	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0; /* no overlongs */
		if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F; /* nothing above U+10FFFF */
	} else
		return 0;
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return need;
}

/* Appends s as a quoted JSON string, reading at most max_in bytes of it. */
static inline void json_line_str(struct json_line *b, const char *str, size_t max_in)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, max_in);
	json_line_raw(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			json_line_raw(b, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
			if (named)
				json_line_raw(b, named, 2);
			else
				json_line_raw(b, esc, (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c));
		} else if (c < 0x80) {
			json_line_raw(b, (const char *)&s[i], 1);
		} else {
			size_t len = json_line_utf8_len(s + i, n - i);
			if (len == 0) {
				json_line_raw(b, "\\ufffd", 6);
				len = 1;
			} else {
				json_line_raw(b, (const char *)&s[i], len);
			}
			i += len;
			continue;
		}
		i++;
	}
	json_line_raw(b, "\"", 1);
}

static inline void json_line_field(struct json_line *b, const char *name, const char *value,
				   size_t max_in)
{
	if (!value)
		return;
	json_line_raw(b, ",\"", 2);
	json_line_raw(b, name, strlen(name));
	json_line_raw(b, "\":", 2);
	json_line_str(b, value, max_in);
}

static inline const char *json_line_level(int level)
{
	static const char *const names[] = {"error", "warn", "notice", "info", "debug"};
	return level >= 0 && level <= WG_LOG_DEBUG ? names[level] : "debug";
}

/* Formats r into buf (size >= JSON_LINE_MAX + 3): a whole line ending in
 * "\n", NUL-terminated. Returns its length. */
static inline size_t json_line_format(char *buf, size_t size, const struct wg_log_record *r)
{
	struct json_line b = {buf, 0, size - 3};
	int64_t secs = r->time_us / 1000000, us = r->time_us % 1000000;
	if (us < 0) {
		us += 1000000;
		secs--;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	char ts[64];
	gmtime_r(&t, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%06dZ", (int)us);

	json_line_raw(&b, "{\"ts\":\"", 7);
	json_line_raw(&b, ts, strlen(ts));
	json_line_raw(&b, "\",\"level\":\"", 11);
	json_line_raw(&b, json_line_level(r->level), strlen(json_line_level(r->level)));
	json_line_raw(&b, "\"", 1);
	json_line_field(&b, "source", r->source ? r->source : "core", JSON_LINE_FIELD_IN);
	json_line_field(&b, "msg", r->message ? r->message : "", JSON_LINE_MSG_IN);
	json_line_field(&b, "user", r->user, JSON_LINE_FIELD_IN);
	json_line_field(&b, "client", r->client_addr, JSON_LINE_FIELD_IN);
	json_line_field(&b, "session", r->session_id, JSON_LINE_FIELD_IN);
	json_line_field(&b, "vpn_addr", r->vpn_addr, JSON_LINE_FIELD_IN);
	memcpy(buf + b.len, "}\n", 3); /* the 3 bytes kept out of cap */
	return b.len + 2;
}

/* "info" -> WG_LOG_INFO ("warning" too), -1 if unknown. */
static inline int json_line_level_from_name(const char *name)
{
	if (name && strcmp(name, "warning") == 0)
		return WG_LOG_WARN;
	for (int i = WG_LOG_ERROR; name && i <= WG_LOG_DEBUG; i++)
		if (strcmp(name, json_line_level(i)) == 0)
			return i;
	return -1;
}

#endif
