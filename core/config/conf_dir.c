/* conf.d: one JSON file per module, read in bytewise lexical order. This
 * file checks the shape of each file ("server" or "plugin"/"path"/"options")
 * and hands each options object to config.c. */
#include "config/config_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_FILE_MAX (1024 * 1024) /* a conf.d file is small; refuse anything absurd */
#define CONF_FILES_MAX 4096

static const char *const file_keys[] = {"server", "plugin", "path", "options", "vhost", NULL};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool wanted_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

/* The *.json regular files of dir, sorted. Returns the count, or -1. */
static ssize_t list_files(const char *dir, char ***out, struct wg_err *err)
{
	*out = NULL;
	DIR *d = opendir(dir);
	if (!d) {
		wg_err_add(err, "%s: cannot open conf.d directory: %s", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (!wanted_name(de->d_name) || fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == CONF_FILES_MAX) {
			wg_err_add(err, "%s: more than %d conf.d files", dir, CONF_FILES_MAX);
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **v = realloc(names, cap * sizeof(*v));
			if (!v)
				break;
			names = v;
		}
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	bool failed = de != NULL; /* left the loop early */
	closedir(d);
	if (failed) {
		if (n < CONF_FILES_MAX)
			wg_err_add(err, "%s: out of memory", dir);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return -1;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	return (ssize_t)n;
}

/* Reads the whole file into a NUL-terminated buffer (owned by the caller). */
static char *read_text(const char *path, size_t *len, struct wg_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		wg_err_add(err, "%s: cannot read: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (st.st_size > CONF_FILE_MAX) {
		wg_err_add(err, "%s: file is larger than %d bytes", path, CONF_FILE_MAX);
		close(fd);
		return NULL;
	}
	char *text = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (text && got < (size_t)st.st_size) {
		ssize_t r = read(fd, text + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	int saved = errno;
	close(fd);
	if (!text || got < (size_t)st.st_size) {
		wg_err_add(err, "%s: cannot read: %s", path, text ? strerror(saved) : "out of memory");
		free(text);
		return NULL;
	}
	text[got] = '\0';
	*len = got;
	return text;
}

/* Plugin names become file names (dir/name.so): nothing that could walk out. */
static bool valid_plugin_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* The file that already enabled plugin `name` for the same vhost (NULL:
 * the default server): a plugin is enabled once per server name. */
static const struct wg_conf_file *find_plugin(const struct wg_conf *conf, const char *name, const char *vhost)
{
	for (size_t i = 0; i < conf->n_files; i++) {
		const struct wg_conf_file *f = &conf->files[i];
		if (f->plugin && strcmp(f->plugin, name) == 0 &&
		    (f->vhost == vhost || (f->vhost && vhost && strcmp(f->vhost, vhost) == 0)))
			return f;
	}
	return NULL;
}

/* Checks the shape of one file's root object and fills f->plugin and
 * f->so_path. *obj is the server or options object (borrowed from root; NULL
 * for a plugin without options). Returns 0, or -1 with errors added. */
static int check_shape(struct wg_conf *conf, const char *path, json_t *root,
		       const struct wg_json_pos *pos, struct wg_conf_file *f, json_t **obj,
		       struct wg_err *err)
{
	int before = err->count;
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		bool known = false;
		for (size_t i = 0; file_keys[i]; i++)
			known |= strcmp(key, file_keys[i]) == 0;
		if (known)
			continue;
		const char *close = wg_closest_word(key, file_keys);
		if (close)
			wg_err_at(err, path, pos, key, "unknown key (did you mean \"%s\"?)", close);
		else
			wg_err_at(err, path, pos, key,
				  "unknown key (a conf.d file holds \"server\", or \"plugin\" with "
				  "\"path\" and \"options\")");
	}
	json_t *server = json_object_get(root, "server"), *plugin = json_object_get(root, "plugin");
	json_t *so = json_object_get(root, "path"), *options = json_object_get(root, "options");
	json_t *vhost = json_object_get(root, "vhost");
	const char *vhost_name = json_string_value(vhost);
	if (vhost && (!vhost_name || !*vhost_name))
		wg_err_at(err, path, pos, "vhost", "expected a server name (a key of the server's \"vhosts\"), got %s",
			  vhost_name ? "\"\"" : wg_json_type_name(vhost));
	if (server && plugin) {
		wg_err_at(err, path, pos, "plugin",
			  "a conf.d file holds either \"server\" or \"plugin\", not both");
	} else if (server) {
		if (so)
			wg_err_at(err, path, pos, "path", "only a plugin file has \"path\"");
		if (vhost)
			wg_err_at(err, path, pos, "vhost", "only a plugin file has \"vhost\"; vhosts are declared in "
				  "the server's \"vhosts\"");
		if (options)
			wg_err_at(err, path, pos, "options",
				  "only a plugin file has \"options\"; server keys go inside \"server\"");
		if (!json_is_object(server))
			wg_err_at(err, path, pos, "server", "expected object, got %s",
				  wg_json_type_name(server));
		else if (conf->server)
			wg_err_at(err, path, pos, "server",
				  "a second \"server\" section (the first is in %s)",
				  wg_config_origin(conf->server));
	} else if (plugin) {
		if (!json_is_string(plugin))
			wg_err_at(err, path, pos, "plugin", "expected string, got %s",
				  wg_json_type_name(plugin));
		else if (!valid_plugin_name(json_string_value(plugin)))
			wg_err_at(err, path, pos, "plugin",
				  "\"%s\" is not a valid plugin name (letters, digits, '-', '_', '.')",
				  json_string_value(plugin));
		else if (find_plugin(conf, json_string_value(plugin), vhost_name))
			wg_err_at(err, path, pos, "plugin", "\"%s\" is already enabled%s%s by %s",
				  json_string_value(plugin), vhost_name ? " for vhost " : "", vhost_name ? vhost_name : "",
				  find_plugin(conf, json_string_value(plugin), vhost_name)->path);
		if (so && (!json_is_string(so) || !*json_string_value(so)))
			wg_err_at(err, path, pos, "path", "expected a non-empty string, got %s",
				  json_is_string(so) ? "\"\"" : wg_json_type_name(so));
		if (options && !json_is_object(options))
			wg_err_at(err, path, pos, "options", "expected object, got %s",
				  wg_json_type_name(options));
	} else {
		wg_err_at(err, path, pos, "",
			  "a conf.d file needs \"server\" or \"plugin\" (neither is present)");
	}
	if (err->count != before)
		return -1;
	if (server) {
		*obj = server;
		return 0;
	}
	*obj = options;
	f->plugin = strdup(json_string_value(plugin));
	f->so_path = so ? strdup(json_string_value(so)) : NULL;
	f->vhost = vhost_name ? strdup(vhost_name) : NULL;
	if (!f->plugin || (so && !f->so_path) || (vhost_name && !f->vhost)) {
		wg_err_add(err, "%s: out of memory", path);
		return -1;
	}
	return 0;
}

/* Adds one file to conf->files (already sized). Returns 0 or -1. */
static int load_file(struct wg_conf *conf, const char *path, struct wg_err *err)
{
	size_t len;
	char *text = read_text(path, &len, err);
	if (!text)
		return -1;
	/* jansson parses the very bytes the position scanner reads (rather
	 * than reopening the file), so positions always match. */
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		wg_err_add(err, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column, jerr.text);
		free(text);
		return -1;
	}
	struct wg_json_pos pos;
	int rc = wg_json_pos_scan(text, len, &pos);
	free(text);
	if (rc == -ENOMEM) {
		wg_err_add(err, "%s: out of memory", path);
		goto out;
	}
	rc = -1;
	struct wg_conf_file *f = &conf->files[conf->n_files];
	memset(f, 0, sizeof(*f));
	if (!json_is_object(root)) {
		wg_err_at(err, path, &pos, "", "expected a JSON object, got %s", wg_json_type_name(root));
		goto out;
	}
	json_t *obj = NULL;
	if (check_shape(conf, path, root, &pos, f, &obj, err) < 0)
		goto out_file;
	bool is_server = f->plugin == NULL;
	json_t *empty = obj ? NULL : json_object(); /* a plugin without "options" */
	f->path = strdup(path);
	f->cfg = wg_config_make(path, is_server ? "server" : "options", obj ? obj : empty, &pos);
	json_decref(empty);
	if (!f->path || !f->cfg) {
		wg_err_add(err, "%s: out of memory", path);
		goto out_file;
	}
	if (is_server)
		conf->server = f->cfg;
	conf->n_files++;
	rc = 0;
	goto out;
out_file:
	wg_config_free(f->cfg);
	free(f->path);
	free(f->plugin);
	free(f->so_path);
	free(f->vhost);
	memset(f, 0, sizeof(*f));
out:
	wg_json_pos_free(&pos);
	json_decref(root);
	return rc;
}

static char *join_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	char *p = malloc(dl + strlen(name) + 2);
	if (p) {
		memcpy(p, dir, dl);
		p[dl] = '/';
		strcpy(p + dl + 1, name);
	}
	return p;
}

int wg_conf_load(const char *dir, struct wg_conf **out, struct wg_err *err)
{
	*out = NULL;
	int before = err->count;
	char **names;
	ssize_t n = list_files(dir, &names, err);
	if (n < 0)
		return -1;
	struct wg_conf *conf = calloc(1, sizeof(*conf));
	if (conf) {
		conf->dir = strdup(dir);
		conf->files = calloc(n ? (size_t)n : 1, sizeof(*conf->files));
	}
	bool oom = !conf || !conf->dir || !conf->files;
	for (ssize_t i = 0; i < n; i++) {
		char *path = oom ? NULL : join_path(dir, names[i]);
		oom |= !path;
		if (path)
			load_file(conf, path, err); /* on error, goes on to report the others too */
		free(path);
		free(names[i]);
	}
	free(names);
	if (oom) {
		wg_err_add(err, "%s: out of memory", dir);
		wg_conf_free(conf);
		return -1;
	}
	if (err->count == before && !conf->server) {
		/* No server file: its required keys are then reported as missing. */
		json_t *obj = json_object();
		conf->empty_server = obj ? wg_config_make(dir, "server", obj, NULL) : NULL;
		json_decref(obj);
		conf->server = conf->empty_server;
		if (!conf->server)
			wg_err_add(err, "%s: out of memory", dir);
	}
	if (err->count != before) {
		wg_conf_free(conf);
		return -1;
	}
	*out = conf;
	return 0;
}

void wg_conf_free(struct wg_conf *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; conf->files && i < conf->n_files; i++) {
		struct wg_conf_file *f = &conf->files[i];
		wg_config_free(f->cfg);
		free(f->path);
		free(f->plugin);
		free(f->so_path);
		free(f->vhost);
	}
	wg_config_free(conf->empty_server);
	free(conf->files);
	free(conf->dir);
	free(conf);
}
