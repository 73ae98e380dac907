/* `wolfguard --check-config DIR`: everything the server would check at
 * start, short of initialising plugins or touching the network. */
#include "modules/check_config.h"

#include <stdlib.h>
#include <string.h>

#include "config/check_limits.h"
#include "config/vhost_check.h"
#include "config/config.h"
#include "util/err.h"
#include "modules/loader.h"
#include "config/server_options.h"

static void print_summary(FILE *out, const struct wg_plugins *ps)
{
	fprintf(out, "conf.d OK: server + %zu plugin%s", ps->n, ps->n == 1 ? "" : "s");
	for (size_t i = 0; i < ps->n; i++) {
		const struct wg_plugin *d = ps->v[i].desc;
		const char *vhost = ps->v[i].file ? ps->v[i].file->vhost : NULL;
		fprintf(out, "%s %s (%s, %s%s%s)", i ? "," : ":", d->name, wg_plugin_kind_name(d->kind),
			d->version ? d->version : "no version", vhost ? ", vhost " : "", vhost ? vhost : "");
	}
	fputc('\n', out);
	/* Valid, but probably not what the admin meant. */
	bool has_auth = false, has_routing = false;
	for (size_t i = 0; i < ps->n; i++) {
		has_auth |= ps->v[i].desc->kind == WG_PLUGIN_AUTH;
		has_routing |= ps->v[i].desc->kind == WG_PLUGIN_ROUTING;
	}
	if (!has_auth)
		fprintf(out, "note: no auth plugin is enabled: nobody can log in\n");
	if (!has_routing)
		fprintf(out, "note: no routing plugin is enabled: sessions get no addresses\n");
}

/* Only auth and routing plugins belong to a vhost (as wg_gen_pick checks at
 * start): log, policy and transport plugins serve every name. */
static void check_vhost_plugins(const struct wg_plugins *ps, struct wg_err *err)
{
	for (size_t i = 0; i < ps->n; i++) {
		const struct wg_loaded_plugin *p = &ps->v[i];
		uint32_t kind = p->desc->kind;
		if (p->file && p->file->vhost && kind != WG_PLUGIN_AUTH && kind != WG_PLUGIN_ROUTING)
			wg_err_add(err, "%s: vhost: %s is a %s plugin; only auth and routing plugins belong to a vhost "
				   "(the others serve every name)", p->file->path, p->desc->name, wg_plugin_kind_name(kind));
	}
}

/* Several workers share one TUN device by name, so the kernel may not pick it. */
static void check_workers(const struct wg_config *c, struct wg_err *err)
{
	const char *dev = wg_config_string(c, "tun-device");

	if (wg_config_int(c, "workers") > 1 && (!dev || strchr(dev, '%')))
		wg_err_add(err, "%s: tun-device: \"%s\": several workers need a fixed device name, without %%d",
			   wg_config_where(c, "tun-device"), dev ? dev : "");
	if (wg_config_int(c, "workers") > 1 && wg_config_bool(c, "listen-proxy-proto") == 1)
		wg_err_add(err, "%s: listen-proxy-proto: needs workers 1 (the kernel hands a worker its connections by "
			   "the relay's address but DTLS by the client's)", wg_config_where(c, "listen-proxy-proto"));
}

int wg_check_config(const char *dir, FILE *out)
{
	struct wg_err *err = malloc(sizeof(*err));
	if (!err) {
		fprintf(out, "%s: out of memory\n", dir);
		return 1;
	}
	wg_err_init(err);
	struct wg_conf *conf = NULL;
	struct wg_plugins ps = {0};
	if (wg_conf_load(dir, &conf, err) == 0) {
		/* Both, so that one run reports every problem. */
		if (wg_config_validate(conf->server, wg_server_options, err) == 0) {
			check_workers(conf->server, err);
			wg_check_limits(conf->server, err);
		}
		/* Reads only what has the right type: safe on an invalid section. */
		wg_check_vhosts(conf, err);
		if (wg_plugins_load(conf, &ps, err) == 0)
			check_vhost_plugins(&ps, err);
	}
	int rc = err->count == 0 ? 0 : 1;
	if (rc == 0)
		print_summary(out, &ps);
	else
		fprintf(out, "%s%s: %d error%s\n", err->text, dir, err->count, err->count == 1 ? "" : "s");
	wg_plugins_unload(&ps);
	wg_conf_free(conf);
	free(err);
	return rc;
}
