/* Where each key of a JSON text was written.
 *
 * jansson reports line and column only for syntax errors, yet a config error
 * such as "port: out of range" should point at the key. This scanner walks the
 * text once and records, for every object member and array element, its path
 * and position:
 *
 *   {"options": {"routes": ["a", 7]}}
 *   ""                 1:1   (the root value)
 *   "options"          1:2   (a member: the position of its key's quote)
 *   "options.routes"   1:14
 *   "options.routes[1]" 1:30 (an element: the position of the value)
 *
 * Lines and columns are 1-based; a column counts UTF-8 characters, as
 * jansson's own error columns do. The scanner is bounded (nesting depth,
 * path length, number of entries) and never reads past `len`, whatever the
 * bytes; on malformed input it stops and keeps what it recorded so far.
 * No global state: safe to fuzz and to call from any thread.
 */
#ifndef WG_JSON_POS_H
#define WG_JSON_POS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_JSON_POS_MAX_DEPTH 128
#define WG_JSON_POS_MAX_PATH 512     /* bytes of a path, NUL included */
#define WG_JSON_POS_MAX_ENTRIES 65536

struct wg_json_pos_entry {
	char *path;            /* owned */
	uint32_t line, column; /* 1-based */
};

struct wg_json_pos {
	struct wg_json_pos_entry *v; /* owned, in text order */
	size_t n, cap;
};

/* Scans text[0..len) into *out (which it initialises). Returns 0 when the
 * whole text was one well-formed JSON value, -EINVAL when it stopped early
 * (malformed, or beyond a limit: entries up to there are kept), -ENOMEM.
 * Free *out with wg_json_pos_free() in every case. */
int wg_json_pos_scan(const char *text, size_t len, struct wg_json_pos *out);
void wg_json_pos_free(struct wg_json_pos *p);

/* The entry recorded for exactly `path`, or NULL. */
const struct wg_json_pos_entry *wg_json_pos_find(const struct wg_json_pos *p, const char *path);
/* The entry for `path`, else for its nearest recorded ancestor ("a.b[2].c"
 * falls back to "a.b[2]", "a.b", "a", ""), else NULL. */
const struct wg_json_pos_entry *wg_json_pos_nearest(const struct wg_json_pos *p, const char *path);

#endif
