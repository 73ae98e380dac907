/* One options object (conf.d's "server" section or a plugin's "options"):
 * validation against a table of struct wg_option, and typed accessors that
 * fall back to the table's defaults. Immutable once validated, so plugins may
 * read it from any thread. */
#include "config/config_priv.h"
#include "config/server_options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct key_where {
	char *key;   /* owned */
	char *where; /* "origin:line:column" (owned) */
};

struct wg_config {
	char *origin;                 /* file name, for messages (owned) */
	char *prefix;                 /* path of obj inside its file: "server", "options", "" (owned) */
	json_t *obj;                  /* one reference owned */
	struct wg_json_pos pos;       /* positions in the whole file (owned) */
	const struct wg_option *opts; /* set by validate; borrowed (the plugin's or core's table) */
	struct key_where *wheres;     /* one per key of obj, computed up front (owned) */
	size_t n_wheres;
};

/* ---- construction ------------------------------------------------------ */

static char *key_path(const char *prefix, const char *key)
{
	size_t pl = strlen(prefix), kl = strlen(key);
	char *p = malloc(pl + kl + 2);
	if (!p)
		return NULL;
	memcpy(p, prefix, pl);
	size_t at = pl;
	if (pl)
		p[at++] = '.';
	memcpy(p + at, key, kl + 1);
	return p;
}

/* wg_config_where() must hand out stable strings from any thread, so every
 * answer is computed here, while the config is still private. */
static int compute_wheres(struct wg_config *cfg)
{
	size_t n = json_object_size(cfg->obj);
	cfg->wheres = calloc(n ? n : 1, sizeof(*cfg->wheres));
	if (!cfg->wheres)
		return -ENOMEM;
	const char *key;
	json_t *v;
	json_object_foreach(cfg->obj, key, v) {
		char *path = key_path(cfg->prefix, key);
		if (!path)
			return -ENOMEM;
		const struct wg_json_pos_entry *e = wg_json_pos_nearest(&cfg->pos, path);
		free(path);
		char *where = NULL;
		int len = e ? asprintf(&where, "%s:%" PRIu32 ":%" PRIu32, cfg->origin, e->line, e->column)
			    : asprintf(&where, "%s", cfg->origin);
		if (len < 0)
			return -ENOMEM;
		struct key_where *w = &cfg->wheres[cfg->n_wheres++];
		w->where = where;
		if (!(w->key = strdup(key)))
			return -ENOMEM;
	}
	return 0;
}

struct wg_config *wg_config_make(const char *origin, const char *prefix, json_t *obj,
				 struct wg_json_pos *pos)
{
	struct wg_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	cfg->origin = strdup(origin ? origin : "(config)");
	cfg->prefix = strdup(prefix ? prefix : "");
	cfg->obj = json_incref(obj);
	if (pos) {
		cfg->pos = *pos;
		memset(pos, 0, sizeof(*pos));
	}
	if (!cfg->origin || !cfg->prefix || !json_is_object(obj) || compute_wheres(cfg) < 0) {
		wg_config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct wg_config *wg_config_new_empty(const char *origin)
{
	json_t *obj = json_object();
	struct wg_config *cfg = obj ? wg_config_make(origin, "", obj, NULL) : NULL;
	json_decref(obj);
	return cfg;
}

void wg_config_free(struct wg_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_wheres; i++) {
		free(cfg->wheres[i].key);
		free(cfg->wheres[i].where);
	}
	free(cfg->wheres);
	wg_json_pos_free(&cfg->pos);
	json_decref(cfg->obj);
	free(cfg->prefix);
	free(cfg->origin);
	free(cfg);
}

struct wg_config *wg_config_from_string(const char *origin, const char *json, struct wg_err *err)
{
	if (!origin)
		origin = "(string)";
	if (!json) {
		wg_err_add(err, "%s: no text", origin);
		return NULL;
	}
	json_error_t jerr;
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		wg_err_add(err, "%s:%d:%d: invalid JSON: %s", origin, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	struct wg_json_pos pos;
	if (wg_json_pos_scan(json, strlen(json), &pos) == -ENOMEM) {
		wg_json_pos_free(&pos);
		json_decref(root);
		wg_err_add(err, "%s: out of memory", origin);
		return NULL;
	}
	struct wg_config *cfg = NULL;
	if (!json_is_object(root))
		wg_err_at(err, origin, &pos, "", "expected an object, got %s", wg_json_type_name(root));
	else if (!(cfg = wg_config_make(origin, "", root, &pos)))
		wg_err_add(err, "%s: out of memory", origin);
	wg_json_pos_free(&pos);
	json_decref(root);
	return cfg;
}

/* ---- messages ---------------------------------------------------------- */

void wg_err_at(struct wg_err *err, const char *origin, const struct wg_json_pos *pos,
	       const char *path, const char *fmt, ...)
{
	char problem[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	const char *shown = path && *path ? path : "(top level)";
	const struct wg_json_pos_entry *e = wg_json_pos_nearest(pos, path ? path : "");
	if (e)
		wg_err_add(err, "%s:%" PRIu32 ":%" PRIu32 ": %s: %s", origin, e->line, e->column, shown,
			   problem);
	else
		wg_err_add(err, "%s: %s: %s", origin, shown, problem);
}

const char *wg_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "real";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

static const char *option_type_name(uint32_t type)
{
	switch (type) {
	case WG_OPT_STRING: return "string";
	case WG_OPT_INT: return "integer";
	case WG_OPT_BOOL: return "boolean";
	case WG_OPT_STRING_LIST: return "list of strings";
	case WG_OPT_ACCOUNTS:
	case WG_OPT_VHOSTS: return "object of objects";
	}
	return "?";
}

/* Optimal string alignment distance (edits, adjacent swaps). Words longer
 * than this are never "close" to a sensible key, which bounds the work. */
#define CLOSE_WORD_MAX 64

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > CLOSE_WORD_MAX || lb > CLOSE_WORD_MAX)
		return SIZE_MAX;
	size_t d[CLOSE_WORD_MAX + 1][CLOSE_WORD_MAX + 1];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *wg_closest_word(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = 3; /* only suggest within distance 2 */
	for (size_t i = 0; candidates && candidates[i]; i++) {
		size_t d = edit_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}

/* ---- validation -------------------------------------------------------- */

static const struct wg_option *find_option(const struct wg_option *opts, const char *key)
{
	for (size_t i = 0; opts && opts[i].name; i++)
		if (strcmp(opts[i].name, key) == 0)
			return &opts[i];
	return NULL;
}

static void report_unknown(const struct wg_config *cfg, const struct wg_option *opts, const char *key,
			   const char *path, struct wg_err *err)
{
	const char *names[256];
	size_t n = 0;
	for (size_t i = 0; opts && opts[i].name && n + 1 < sizeof(names) / sizeof(names[0]); i++)
		names[n++] = opts[i].name;
	names[n] = NULL;
	const char *close = wg_closest_word(key, names);
	if (n == 0)
		wg_err_at(err, cfg->origin, &cfg->pos, path, "unknown key (no options are accepted here)");
	else if (close)
		wg_err_at(err, cfg->origin, &cfg->pos, path, "unknown key (did you mean \"%s\"?)", close);
	else
		wg_err_at(err, cfg->origin, &cfg->pos, path, "unknown key");
}

static void check_value(const struct wg_config *cfg, const struct wg_option *o, const json_t *v,
			const char *path, struct wg_err *err);

/* {"name": {"option": value}}: every inner key from opts (wg_account_options
 * or wg_vhost_options), and opts' required keys present. */
static void check_accounts(const struct wg_config *cfg, const json_t *v, const char *path,
			   const struct wg_option *opts, struct wg_err *err)
{
	const char *name, *key;
	json_t *entry, *x;

	json_object_foreach((json_t *)v, name, entry) {
		char epath[WG_JSON_POS_MAX_PATH];
		if ((size_t)snprintf(epath, sizeof(epath), "%s.%s", path, name) >= sizeof(epath))
			snprintf(epath, sizeof(epath), "%s", path); /* a name too long to quote */
		if (!json_is_object(entry)) {
			wg_err_at(err, cfg->origin, &cfg->pos, epath, "expected object, got %s", wg_json_type_name(entry));
			continue;
		}
		json_object_foreach(entry, key, x) {
			char kpath[WG_JSON_POS_MAX_PATH];
			if ((size_t)snprintf(kpath, sizeof(kpath), "%s.%s", epath, key) >= sizeof(kpath))
				snprintf(kpath, sizeof(kpath), "%s", epath);
			const struct wg_option *o = find_option(opts, key);
			if (o)
				check_value(cfg, o, x, kpath, err);
			else
				report_unknown(cfg, opts, key, kpath, err);
		}
		for (size_t i = 0; opts[i].name; i++)
			if ((opts[i].flags & WG_OPT_REQUIRED) && !json_object_get(entry, opts[i].name))
				wg_err_at(err, cfg->origin, &cfg->pos, epath, "%s: required key is missing", opts[i].name);
	}
}

static void check_value(const struct wg_config *cfg, const struct wg_option *o, const json_t *v,
			const char *path, struct wg_err *err)
{
	bool ok;
	switch (o->type) {
	case WG_OPT_ACCOUNTS:
	case WG_OPT_VHOSTS: ok = json_is_object(v); break;
	case WG_OPT_STRING: ok = json_is_string(v); break;
	case WG_OPT_INT: ok = json_is_integer(v); break;
	case WG_OPT_BOOL: ok = json_is_boolean(v); break;
	case WG_OPT_STRING_LIST: ok = json_is_array(v); break;
	default:
		wg_err_at(err, cfg->origin, &cfg->pos, path, "option table declares unknown type %u",
			  (unsigned)o->type);
		return;
	}
	if (!ok) {
		wg_err_at(err, cfg->origin, &cfg->pos, path, "expected %s, got %s",
			  option_type_name(o->type), wg_json_type_name(v));
		return;
	}
	if (o->type == WG_OPT_INT && (o->min != 0 || o->max != 0)) {
		json_int_t x = json_integer_value(v);
		if (x < o->min || x > o->max)
			wg_err_at(err, cfg->origin, &cfg->pos, path,
				  "%" JSON_INTEGER_FORMAT " is out of range [%" PRId64 ", %" PRId64 "]", x,
				  o->min, o->max);
	}
	if (o->type == WG_OPT_ACCOUNTS)
		check_accounts(cfg, v, path, wg_account_options, err);
	if (o->type == WG_OPT_VHOSTS)
		check_accounts(cfg, v, path, wg_vhost_options, err);
	if (o->type == WG_OPT_STRING_LIST) {
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item) {
			if (json_is_string(item))
				continue;
			char ipath[WG_JSON_POS_MAX_PATH];
			snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
			wg_err_at(err, cfg->origin, &cfg->pos, ipath, "expected string, got %s",
				  wg_json_type_name(item));
		}
	}
}

int wg_config_validate(struct wg_config *cfg, const struct wg_option *opts, struct wg_err *err)
{
	if (!cfg)
		return -1;
	int before = err->count;
	cfg->opts = opts;
	const char *key;
	json_t *v;
	json_object_foreach(cfg->obj, key, v) {
		char *path = key_path(cfg->prefix, key);
		if (!path) {
			wg_err_add(err, "%s: out of memory", cfg->origin);
			return -1;
		}
		const struct wg_option *o = find_option(opts, key);
		if (!o)
			report_unknown(cfg, opts, key, path, err);
		else
			check_value(cfg, o, v, path, err);
		free(path);
	}
	for (size_t i = 0; opts && opts[i].name; i++) {
		if (!(opts[i].flags & WG_OPT_REQUIRED) || json_object_get(cfg->obj, opts[i].name))
			continue;
		char *path = key_path(cfg->prefix, opts[i].name);
		if (!path) {
			wg_err_add(err, "%s: out of memory", cfg->origin);
			return -1;
		}
		/* Points at the enclosing object: the key is not in the file. */
		const struct wg_json_pos_entry *e = wg_json_pos_nearest(&cfg->pos, cfg->prefix);
		if (e)
			wg_err_add(err, "%s:%" PRIu32 ":%" PRIu32 ": %s: required key is missing", cfg->origin,
				   e->line, e->column, path);
		else
			wg_err_add(err, "%s: %s: required key is missing", cfg->origin, path);
		free(path);
	}
	return err->count == before ? 0 : -1;
}

/* ---- accessors --------------------------------------------------------- */

static const struct wg_option *default_of(const struct wg_config *cfg, const char *key, uint32_t type)
{
	const struct wg_option *o = find_option(cfg->opts, key);
	return o && o->type == type && o->default_value ? o : NULL;
}

const char *wg_config_string(const struct wg_config *cfg, const char *key)
{
	if (!cfg || !key)
		return NULL;
	json_t *v = json_object_get(cfg->obj, key);
	if (v)
		return json_string_value(v); /* NULL if not a string */
	const struct wg_option *o = default_of(cfg, key, WG_OPT_STRING);
	return o ? o->default_value : NULL;
}

int64_t wg_config_int(const struct wg_config *cfg, const char *key)
{
	if (!cfg || !key)
		return 0;
	json_t *v = json_object_get(cfg->obj, key);
	if (v)
		return json_integer_value(v); /* 0 if not an integer */
	const struct wg_option *o = default_of(cfg, key, WG_OPT_INT);
	return o ? strtoll(o->default_value, NULL, 0) : 0;
}

int wg_config_bool(const struct wg_config *cfg, const char *key)
{
	if (!cfg || !key)
		return 0;
	json_t *v = json_object_get(cfg->obj, key);
	if (v)
		return json_is_true(v);
	const struct wg_option *o = default_of(cfg, key, WG_OPT_BOOL);
	return o && strcmp(o->default_value, "true") == 0;
}

size_t wg_config_list_size(const struct wg_config *cfg, const char *key)
{
	if (!cfg || !key)
		return 0;
	return json_array_size(json_object_get(cfg->obj, key)); /* 0 if absent or not an array */
}

const char *wg_config_list_item(const struct wg_config *cfg, const char *key, size_t i)
{
	if (!cfg || !key)
		return NULL;
	return json_string_value(json_array_get(json_object_get(cfg->obj, key), i));
}

const char *wg_config_where(const struct wg_config *cfg, const char *key)
{
	if (!cfg)
		return "(no config)";
	for (size_t i = 0; key && i < cfg->n_wheres; i++)
		if (strcmp(cfg->wheres[i].key, key) == 0)
			return cfg->wheres[i].where;
	return cfg->origin;
}

int64_t wg_config_account_int(const struct wg_config *cfg, const char *accounts, const char *name, const char *opt,
			      int64_t absent)
{
	if (!cfg || !accounts || !name || !opt)
		return absent;
	json_t *v = json_object_get(json_object_get(json_object_get(cfg->obj, accounts), name), opt);
	return json_is_integer(v) ? json_integer_value(v) : absent;
}

/* The same for a string or a boolean (1/0) option of an account. */
const char *wg_config_account_string(const struct wg_config *cfg, const char *accounts, const char *name,
				     const char *opt)
{
	if (!cfg || !accounts || !name || !opt)
		return NULL;
	json_t *v = json_object_get(json_object_get(json_object_get(cfg->obj, accounts), name), opt);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

size_t wg_config_account_names(const struct wg_config *cfg, const char *accounts, const char **out, size_t max)
{
	const char *name;
	json_t *entry;
	size_t n = 0;

	if (!cfg || !accounts)
		return 0;
	json_object_foreach(json_object_get(cfg->obj, accounts), name, entry) {
		if (n < max && json_is_object(entry))
			out[n++] = name;
	}
	return n;
}

size_t wg_config_account_list(const struct wg_config *cfg, const char *accounts, const char *name, const char *opt,
			      const char **out, size_t max)
{
	json_t *v, *item;
	size_t i, n = 0;

	if (!cfg || !accounts || !name || !opt)
		return 0;
	v = json_object_get(json_object_get(json_object_get(cfg->obj, accounts), name), opt);
	json_array_foreach(v, i, item) {
		if (n < max && json_is_string(item))
			out[n++] = json_string_value(item);
	}
	return n;
}

int wg_config_account_bool(const struct wg_config *cfg, const char *accounts, const char *name, const char *opt,
			   int absent)
{
	if (!cfg || !accounts || !name || !opt)
		return absent;
	json_t *v = json_object_get(json_object_get(json_object_get(cfg->obj, accounts), name), opt);
	return json_is_boolean(v) ? json_is_true(v) : absent;
}

struct wg_config *wg_config_entry(const struct wg_config *cfg, const char *key, const char *name,
				  const struct wg_option *opts)
{
	json_t *entry;
	struct wg_config *e;
	char prefix[WG_JSON_POS_MAX_PATH];

	if (!cfg || !key || !name)
		return NULL;
	entry = json_object_get(json_object_get(cfg->obj, key), name);
	if (!json_is_object(entry))
		return NULL;
	/* Positions stay with the whole file's config: messages about the
	 * entry name it by its path and the file. */
	snprintf(prefix, sizeof(prefix), "%s%s%s.%s", cfg->prefix, *cfg->prefix ? "." : "", key, name);
	e = wg_config_make(cfg->origin, prefix, entry, NULL);
	if (e)
		e->opts = opts;
	return e;
}

const char *wg_config_origin(const struct wg_config *cfg)
{
	return cfg ? cfg->origin : "(no config)";
}
