/* Shared by config.c (one options object) and conf_dir.c (the conf.d
 * directory); not part of the interface other modules use. */
#ifndef WG_CONFIG_PRIV_H
#define WG_CONFIG_PRIV_H

#include <jansson.h>

#include "config/config.h"
#include "config/json_pos.h"

/* A config for the object `obj` found at `prefix` ("server", "options", or
 * "" for a whole text) inside the file `origin`. Takes a new reference to obj
 * and takes over *pos (left empty). NULL on allocation failure. */
struct wg_config *wg_config_make(const char *origin, const char *prefix, json_t *obj,
				 struct wg_json_pos *pos);

/* Adds "origin:line:column: path: problem", the position being that of path
 * or of its nearest recorded ancestor ("origin: path: problem" if none). */
void wg_err_at(struct wg_err *err, const char *origin, const struct wg_json_pos *pos,
	       const char *path, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "string", "integer", "real", "boolean", "null", "array", "object". */
const char *wg_json_type_name(const json_t *v);

/* The candidate closest to `word` within edit distance 2, or NULL.
 * candidates is NULL-terminated. */
const char *wg_closest_word(const char *word, const char *const *candidates);

#endif
