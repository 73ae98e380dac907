/* Reading, checking and switching to a new conf.d. */
#include "host/reload.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/err.h"
#include "modules/gen.h"
#include "host/host.h"
#include "modules/loader.h"
#include "util/log.h"
#include "observe/metrics.h"
#include "server.h"
#include "host/settings.h"
#include "observe/sd_notify.h"
#include "config/server_options.h"
#include "config/vhost_check.h"
#include "host/vhosts.h"

/* Settings bound to sockets, devices or the TLS context made at start: a
 * change is reported and waits for a restart. */
static const char *const restart_keys[] = {
	"listen", "port", "udp-port", "certificate", "private-key", "tls-ciphers", "tls-min-version", "ca-file",
	"crl-file", "client-certificate", "tun-device", "control-socket", "control-socket-mode", "metrics-listen",
	"metrics-port", "plugin-dir", "data-quota-state-file", NULL,
};

static const struct wg_option *server_option(const char *name)
{
	for (const struct wg_option *o = wg_server_options; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_value(const struct wg_config *a, const struct wg_config *b, const struct wg_option *o)
{
	switch (o->type) {
	case WG_OPT_STRING: return same_string(wg_config_string(a, o->name), wg_config_string(b, o->name));
	case WG_OPT_INT: return wg_config_int(a, o->name) == wg_config_int(b, o->name);
	case WG_OPT_BOOL: return !wg_config_bool(a, o->name) == !wg_config_bool(b, o->name);
	default: break;
	}
	size_t n = wg_config_list_size(a, o->name);
	if (n != wg_config_list_size(b, o->name))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!same_string(wg_config_list_item(a, o->name, i), wg_config_list_item(b, o->name, i)))
			return false;
	return true;
}

/* The TUN device carries the first address of the pools made at start: a
 * routing plugin with other networks cannot serve it. */
static int check_networks(struct wg_server *srv, struct wg_loaded_plugin *routing, struct wg_err *err)
{
	char old4[64] = "", old6[64] = "", new4[64] = "", new6[64] = "";
	const struct wg_routing_ops *oo = srv->routing->desc->ops, *no = routing->desc->ops;

	oo->networks(srv->routing->state, old4, sizeof(old4), old6, sizeof(old6));
	if (no->networks(routing->state, new4, sizeof(new4), new6, sizeof(new6)) < 0) {
		wg_err_add(err, "%s: %s gave no address network", routing->file->path, routing->desc->name);
		return -1;
	}
	if (strcmp(old4, new4) != 0 || strcmp(old6, new6) != 0) {
		wg_err_add(err, "%s: the address pools changed (%s %s -> %s %s): that needs a restart",
			   routing->file->path, old4, old6, new4, new6);
		return -1;
	}
	return 0;
}

/* Everything short of switching: 0 and *out, or -1 with reasons in err. */
static int prepare(struct wg_server *srv, struct wg_gen **out, struct wg_err *err)
{
	struct wg_conf *conf = NULL;
	struct wg_plugins ps = {0};
	char why[256];

	if (wg_conf_load(srv->conf->dir, &conf, err) < 0)
		return -1;
	/* Both, so that one answer names every problem (as --check-config). */
	wg_config_validate(conf->server, wg_server_options, err);
	wg_check_vhosts(conf, err);
	wg_plugins_load(conf, &ps, err);
	if (err->count == 0 && wg_log_level_from_name(wg_config_string(conf->server, "log-level")) < 0)
		wg_err_add(err, "%s: log-level: expected error, warn, notice, info or debug",
			   wg_config_where(conf->server, "log-level"));
	/* Transports hold the UDP socket and every session's lanes: the ones
	 * started with the server stay (a change waits for a restart). */
	if (wg_plugins_drop_kind(&ps, WG_PLUGIN_TRANSPORT) > 0)
		wg_log(NULL, WG_LOG_NOTICE, "reload: transport plugins are kept as started; a change to them needs a restart");
	if (err->count == 0 && wg_plugins_init(&ps, wg_host_table(), err) == 0) {
		if (!(*out = wg_gen_new(srv, conf, &ps, why, sizeof(why))))
			wg_err_add(err, "%s: %s", conf->dir, why);
		else if (check_networks(srv, (*out)->vhosts[0].routing, err) == 0 &&
			 wg_vhosts_check_pools(srv, *out, err) == 0)
			wg_vhosts_tls(*out, err);
	}
	if (err->count == 0)
		return 0;
	if (*out) {
		/* Made but refused: its plugins and conf go with it, now. */
		struct wg_gen *g = *out;
		*out = NULL;
		g->refs = 0;
		srv->gen_counter--; /* the next one takes its number */
		wg_gen_collect(srv, false);
		return -1;
	}
	wg_plugins_unload(&ps);
	wg_conf_free(conf);
	return -1;
}

static size_t warn_restart_keys(const struct wg_config *old, const struct wg_config *now, char *msg, size_t msglen)
{
	size_t len = strlen(msg);

	for (size_t i = 0; restart_keys[i]; i++) {
		const struct wg_option *o = server_option(restart_keys[i]);
		if (!o || same_value(old, now, o))
			continue;
		wg_log(NULL, WG_LOG_WARN, "%s: %s changed: it takes effect at the next restart", wg_config_where(now, o->name),
		       o->name);
		if (len < msglen)
			len += (size_t)snprintf(msg + len, msglen - len, "\nwarning: %s changed: it takes effect at the next restart",
						o->name);
	}
	return len;
}

int wg_reload(struct wg_server *srv, char *msg, size_t msglen)
{
	struct wg_err *err = malloc(sizeof(*err));
	struct wg_gen *g = NULL;
	char why[512];

	msg[0] = '\0';
	if (!err || srv->stopping) {
		snprintf(msg, msglen, "%s", err ? "the server is stopping" : "out of memory");
		free(err);
		wg_metrics_reload(false);
		return -1;
	}
	wg_err_init(err);
	bool tell_systemd = srv->worker.count == 1; /* several workers: the master does */
	if (tell_systemd)
		wg_sd_reloading();
	if (prepare(srv, &g, err) < 0) {
		snprintf(msg, msglen, "%s", err->text);
		size_t n = strlen(msg);
		if (n && msg[n - 1] == '\n')
			msg[n - 1] = '\0';
		wg_log(NULL, WG_LOG_ERROR, "reload of %s rejected; the running configuration (generation %u) stays:\n%s",
		       srv->conf->dir, srv->gen->number, msg);
		free(err);
		wg_metrics_reload(false);
		if (tell_systemd)
			wg_sd_server_ready(srv); /* the running configuration serves on */
		return -1;
	}
	free(err);
	const struct wg_config *old = srv->scfg;
	snprintf(msg, msglen, "configuration generation %u in use for new logins; existing sessions (%u) keep the one they began with",
		 g->number, srv->n_sessions);
	warn_restart_keys(old, g->conf->server, msg, msglen);
	wg_gen_make_current(srv, g); /* old stays alive while sessions use it */
	wg_vhosts_log(g);
	if (wg_server_apply_settings(srv, why, sizeof(why)) < 0) /* checked in prepare(): not expected */
		wg_log(NULL, WG_LOG_ERROR, "after reload: %s", why);
	for (size_t i = 0; i < g->plugins.n; i++) {
		const struct wg_loaded_plugin *p = &g->plugins.v[i];
		wg_log(NULL, WG_LOG_INFO, "plugin %s %s (%s) loaded from %s", p->desc->name,
		       p->desc->version ? p->desc->version : "?", wg_plugin_kind_name(p->desc->kind), p->path);
	}
	wg_log(NULL, WG_LOG_NOTICE, "reloaded %s: %s", srv->conf->dir, msg);
	wg_metrics_reload(true);
	if (tell_systemd)
		wg_sd_server_ready(srv);
	return 0;
}
