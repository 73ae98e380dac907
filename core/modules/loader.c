/* Plugin loading. The descriptor is untrusted until its first two fields
 * say it was built for this ABI and is at least as large as the host's
 * struct: nothing else in it is read before that. */
#include "modules/loader.h"

#include <dlfcn.h>
#include <stddef.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/build_tree.h"
#include "util/log.h"

#ifndef WG_PLUGINDIR
#define WG_PLUGINDIR "/usr/local/lib/wolfguard/plugins"
#endif

const char *wg_plugin_kind_name(uint32_t kind)
{
	switch (kind) {
	case WG_PLUGIN_AUTH: return "auth";
	case WG_PLUGIN_ROUTING: return "routing";
	case WG_PLUGIN_LOG: return "log";
	case WG_PLUGIN_POLICY: return "policy";
	case WG_PLUGIN_TRANSPORT: return "transport";
	}
	return "unknown";
}

/* The least size of each kind's ops struct: its size in the first SDK of
 * this ABI version. Members appended since are optional and the host checks
 * a plugin's struct_size before calling them (WG_OPS_HAS); a larger table
 * comes from a newer SDK and is fine. */
static size_t host_ops_size(uint32_t kind)
{
	switch (kind) {
	case WG_PLUGIN_AUTH: return offsetof(struct wg_auth_ops, session_start);
	case WG_PLUGIN_ROUTING: return sizeof(struct wg_routing_ops);
	case WG_PLUGIN_LOG: return sizeof(struct wg_log_ops);
	case WG_PLUGIN_POLICY: return offsetof(struct wg_policy_ops, after_auth_async);
	case WG_PLUGIN_TRANSPORT: return offsetof(struct wg_transport_ops, stats);
	}
	return 0;
}

/* The callback the host cannot do without, by kind; NULL if all present. */
static const char *missing_callback(uint32_t kind, const void *ops)
{
	if (kind == WG_PLUGIN_AUTH) {
		const struct wg_auth_ops *a = ops;
		return !a->start ? "start" : !a->cont ? "cont" : NULL;
	}
	if (kind == WG_PLUGIN_ROUTING) {
		const struct wg_routing_ops *r = ops;
		return !r->networks ? "networks" : !r->lease ? "lease" : NULL;
	}
	if (kind == WG_PLUGIN_LOG)
		return ((const struct wg_log_ops *)ops)->write ? NULL : "write";
	if (kind == WG_PLUGIN_TRANSPORT) {
		const struct wg_transport_ops *t = ops;
		return !t->offer ? "offer" : !t->close ? "close" : !t->send ? "send" : !t->flush ? "flush" : NULL;
	}
	return NULL; /* policy: every hook is optional */
}

/* The size of the exported object when the ELF symbol table knows it
 * (0 otherwise), so a descriptor can never make us read past its end. */
static size_t symbol_size(const void *sym)
{
	Dl_info info;
	const ElfW(Sym) *es = NULL;
	if (!dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) || !es)
		return 0;
	return (size_t)es->st_size;
}

/* Checks the descriptor at sym: 0 if acceptable, else -1 with the reason
 * (prefixed by path) added to err. */
static int check_descriptor(const char *path, const void *sym, const char *expected_name,
			    struct wg_err *err)
{
	size_t sym_size = symbol_size(sym);
	if (sym_size != 0 && sym_size < 2 * sizeof(uint32_t)) {
		wg_err_add(err, "%s: %s is only %zu bytes: not a plugin descriptor", path,
			   WG_PLUGIN_SYMBOL, sym_size);
		return -1;
	}
	uint32_t head[2]; /* abi_version, struct_size: fixed forever */
	memcpy(head, sym, sizeof(head));
	if (head[0] != WG_ABI_VERSION) {
		wg_err_add(err,
			   "%s: built for plugin ABI %u, this server speaks ABI %u; rebuild it against this SDK",
			   path, (unsigned)head[0], (unsigned)WG_ABI_VERSION);
		return -1;
	}
	if (head[1] < sizeof(struct wg_plugin) || (sym_size != 0 && sym_size < sizeof(struct wg_plugin))) {
		wg_err_add(err, "%s: descriptor is %u bytes, expected at least %zu: built against an older SDK?",
			   path, (unsigned)(sym_size && sym_size < head[1] ? sym_size : head[1]),
			   sizeof(struct wg_plugin));
		return -1;
	}
	const struct wg_plugin *d = sym;
	size_t ops_size = host_ops_size(d->kind);
	if (ops_size == 0) {
		wg_err_add(err, "%s: unknown plugin kind %u (this server knows auth=1, routing=2, log=3, policy=4, transport=5)",
			   path, (unsigned)d->kind);
		return -1;
	}
	if (!d->name || !*d->name) {
		wg_err_add(err, "%s: descriptor has no name", path);
		return -1;
	}
	if (expected_name && strcmp(d->name, expected_name) != 0) {
		wg_err_add(err, "%s: plugin calls itself \"%.64s\", but the conf.d file enables \"%s\"", path,
			   d->name, expected_name);
		return -1;
	}
	if (!d->ops) {
		wg_err_add(err, "%s: descriptor has no ops for kind \"%s\"", path, wg_plugin_kind_name(d->kind));
		return -1;
	}
	uint32_t plugin_ops_size;
	memcpy(&plugin_ops_size, d->ops, sizeof(plugin_ops_size));
	if (plugin_ops_size < ops_size) {
		wg_err_add(err, "%s: %s ops are %u bytes, expected at least %zu: built against an older SDK?",
			   path, wg_plugin_kind_name(d->kind), (unsigned)plugin_ops_size, ops_size);
		return -1;
	}
	const char *missing = missing_callback(d->kind, d->ops);
	if (missing) {
		wg_err_add(err, "%s: %s ops lack the required callback %s()", path,
			   wg_plugin_kind_name(d->kind), missing);
		return -1;
	}
	return 0;
}

int wg_plugin_open(const char *path, const char *expected_name, struct wg_loaded_plugin *out,
		   struct wg_err *err)
{
	memset(out, 0, sizeof(*out));
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		size_t pl = strlen(path);
		if (why && strncmp(why, path, pl) == 0 && strncmp(why + pl, ": ", 2) == 0)
			why += pl + 2; /* dlerror() repeats the path we already print */
		wg_err_add(err, "%s: cannot load: %s", path, why ? why : "unknown dlopen error");
		return -1;
	}
	dlerror();
	const void *sym = dlsym(h, WG_PLUGIN_SYMBOL);
	if (!sym) {
		wg_err_add(err, "%s: no %s symbol: not a wolfguard plugin, or built for another ABI", path,
			   WG_PLUGIN_SYMBOL);
		dlclose(h);
		return -1;
	}
	if (check_descriptor(path, sym, expected_name, err) < 0) {
		dlclose(h);
		return -1;
	}
	out->path = strdup(path);
	if (!out->path) {
		wg_err_add(err, "%s: out of memory", path);
		dlclose(h);
		return -1;
	}
	out->handle = h;
	out->desc = sym;
	return 0;
}

void wg_plugin_close(struct wg_loaded_plugin *p)
{
	if (!p)
		return;
	if (p->handle)
		dlclose(p->handle);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

const char *wg_plugin_dir(const struct wg_conf *conf)
{
	const char *dir = conf ? wg_config_string(conf->server, "plugin-dir") : NULL;
	if (dir && *dir)
		return dir;
	dir = getenv("WOLFGUARD_PLUGIN_DIR");
	if (dir && *dir)
		return dir;
	/* Looked up once, at the first load (before the server drops root and
	 * confines itself): reloads and forked workers reuse the answer. */
	static char build_tree_dir[4096];
	static int build_tree = 0; /* 0 not looked up, 1 found, -1 not a build tree */
	if (!build_tree) {
		char exe[4096];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		build_tree = -1;
		if (n > 0) {
			exe[n] = '\0';
			if (wg_build_tree_plugin_dir(exe, build_tree_dir, sizeof(build_tree_dir)) == 0)
				build_tree = 1;
		}
	}
	if (build_tree == 1)
		return build_tree_dir;
	return WG_PLUGINDIR;
}

/* The object to open for f: its "path" (relative to conf.d when not
 * absolute, never searched on LD_LIBRARY_PATH), else plugin-dir/name.so. */
static char *plugin_path(const struct wg_conf *conf, const struct wg_conf_file *f)
{
	char *p = NULL;
	int n;
	if (f->so_path && f->so_path[0] == '/')
		n = asprintf(&p, "%s", f->so_path);
	else if (f->so_path)
		n = asprintf(&p, "%s/%s", conf->dir, f->so_path);
	else
		n = asprintf(&p, "%s/%s.so", wg_plugin_dir(conf), f->plugin);
	return n < 0 ? NULL : p;
}

/* Copies each line of from into to, prefixed with "prefix: ". */
static void add_prefixed(struct wg_err *to, const char *prefix, const struct wg_err *from)
{
	const char *s = from->text;
	while (*s) {
		const char *nl = strchr(s, '\n');
		int len = nl ? (int)(nl - s) : (int)strlen(s);
		wg_err_add(to, "%s: %.*s", prefix, len, s);
		s += len + (nl ? 1 : 0);
	}
}

int wg_plugins_load(const struct wg_conf *conf, struct wg_plugins *out, struct wg_err *err)
{
	memset(out, 0, sizeof(*out));
	int before = err->count;
	size_t count = 0;
	for (size_t i = 0; i < conf->n_files; i++)
		count += conf->files[i].plugin != NULL;
	out->v = calloc(count ? count : 1, sizeof(*out->v));
	struct wg_err *why = malloc(sizeof(*why));
	if (!out->v || !why) {
		wg_err_add(err, "%s: out of memory", conf->dir);
		free(why);
		wg_plugins_unload(out);
		return -1;
	}
	for (size_t i = 0; i < conf->n_files; i++) {
		const struct wg_conf_file *f = &conf->files[i];
		if (!f->plugin)
			continue;
		char *path = plugin_path(conf, f);
		if (!path) {
			wg_err_add(err, "%s: out of memory", f->path);
			continue;
		}
		struct wg_loaded_plugin lp;
		wg_err_init(why);
		if (wg_plugin_open(path, f->plugin, &lp, why) < 0) {
			add_prefixed(err, f->path, why);
		} else {
			lp.file = f;
			out->v[out->n++] = lp;
			wg_config_validate(f->cfg, lp.desc->options, err);
		}
		free(path);
	}
	free(why);
	if (err->count != before) {
		wg_plugins_unload(out);
		return -1;
	}
	return 0;
}

/* fini() in reverse order of init. This set's log sinks go first: no line
 * may reach a plugin that is being (or has been) shut down. Only its own:
 * after a reload another set's sinks are the live ones. */
static void fini_all(struct wg_plugins *ps)
{
	wg_plugins_remove_sinks(ps);
	for (size_t i = ps->n; i-- > 0;) {
		struct wg_loaded_plugin *p = &ps->v[i];
		if (!p->initialized)
			continue;
		if (p->desc->fini)
			p->desc->fini(p->state);
		p->initialized = false;
		p->state = NULL;
	}
}

void wg_plugins_remove_sinks(struct wg_plugins *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].initialized && ps->v[i].desc->kind == WG_PLUGIN_LOG)
			wg_log_remove_sink(ps->v[i].desc->ops, ps->v[i].state);
}

int wg_plugins_init(struct wg_plugins *ps, const struct wg_host *host, struct wg_err *err)
{
	for (size_t i = 0; i < ps->n; i++) {
		struct wg_loaded_plugin *p = &ps->v[i];
		const struct wg_plugin *d = p->desc;
		char reason[512] = "";
		int rc = d->init ? d->init(host, p->file->cfg, &p->state, reason, sizeof(reason)) : 0;
		reason[sizeof(reason) - 1] = '\0';
		if (rc != 0) {
			wg_err_add(err, "%s: %s: init failed: %s", p->file->path, d->name,
				   reason[0] ? reason : strerror(rc < 0 ? -rc : rc));
			fini_all(ps);
			return -1;
		}
		p->initialized = true;
		if (d->kind == WG_PLUGIN_LOG && (rc = wg_log_add_sink(d->ops, p->state)) < 0) {
			wg_err_add(err, "%s: %s: cannot register log sink: %s", p->file->path, d->name,
				   strerror(-rc));
			fini_all(ps);
			return -1;
		}
	}
	return 0;
}

void wg_plugins_unload(struct wg_plugins *ps)
{
	if (!ps)
		return;
	fini_all(ps);
	for (size_t i = ps->n; i-- > 0;)
		wg_plugin_close(&ps->v[i]);
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

size_t wg_plugins_drop_kind(struct wg_plugins *ps, uint32_t kind)
{
	size_t k = 0, dropped = 0;

	for (size_t i = 0; i < ps->n; i++) {
		if (!ps->v[i].initialized && ps->v[i].desc && ps->v[i].desc->kind == kind) {
			wg_plugin_close(&ps->v[i]);
			dropped++;
			continue;
		}
		ps->v[k++] = ps->v[i];
	}
	ps->n = k;
	return dropped;
}

long wg_plugins_take_kind(struct wg_plugins *ps, uint32_t kind, struct wg_plugins *out)
{
	size_t n = 0, k = 0;
	struct wg_loaded_plugin *v;

	for (size_t i = 0; i < ps->n; i++)
		n += ps->v[i].initialized && ps->v[i].desc->kind == kind;
	if (n == 0)
		return 0;
	v = realloc(out->v, (out->n + n) * sizeof(*v));
	if (!v)
		return -1;
	out->v = v;
	for (size_t i = 0; i < ps->n; i++) {
		struct wg_loaded_plugin *p = &ps->v[i];
		if (p->initialized && p->desc->kind == kind) {
			out->v[out->n] = *p;
			out->v[out->n++].file = NULL;
			continue;
		}
		ps->v[k++] = *p;
	}
	ps->n = k;
	return (long)n;
}

struct wg_loaded_plugin *wg_plugins_find_kind(struct wg_plugins *ps, uint32_t kind)
{
	for (size_t i = 0; ps && i < ps->n; i++)
		if (ps->v[i].initialized && ps->v[i].desc->kind == kind)
			return &ps->v[i];
	return NULL;
}
