/* Generations: reference counts, deferred freeing (leases that cross
 * generations: session/lease.c). */
#include "modules/gen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "config/server_options.h"

#include "util/log.h"
#include "server.h"
#include "util/workpool.h"

#define COLLECT_RETRY_S 1

static bool vhost_kind(uint32_t kind)
{
	return kind == WG_PLUGIN_AUTH || kind == WG_PLUGIN_ROUTING;
}

/* Whose a plugin is: the default server's (vhost NULL) or one vhost's. */
static bool belongs(const struct wg_loaded_plugin *p, const char *vhost)
{
	const char *v = p->file ? p->file->vhost : NULL;

	return p->initialized && (v == vhost || (v && vhost && strcmp(v, vhost) == 0));
}

/* The auth chain and routing plugin that name `vhost` in conf.d; what it
 * has none of stays as the caller set it (the default's). */
static int pick_plugins(struct wg_plugins *ps, struct wg_vhost *vh, char *why, size_t whylen)
{
	unsigned n_auth = 0;
	bool own_routing = false;

	for (size_t i = 0; i < ps->n; i++) {
		struct wg_loaded_plugin *p = &ps->v[i];
		if (!belongs(p, vh->name))
			continue;
		if (p->desc->kind == WG_PLUGIN_AUTH) {
			if (n_auth == WG_MAX_AUTH_STEPS) {
				snprintf(why, whylen, "%s%s: more than %d auth plugins enabled; a login chain has at most %d "
					 "steps", vh->name ? "vhost " : "", vh->name ? vh->name : "the default server",
					 WG_MAX_AUTH_STEPS, WG_MAX_AUTH_STEPS);
				return -1;
			}
			if (n_auth == 0)
				vh->n_auth = 0; /* its own chain replaces the default's */
			vh->auth_chain[vh->n_auth++] = p;
			n_auth++;
		} else if (p->desc->kind == WG_PLUGIN_ROUTING && !own_routing) {
			vh->routing = p;
			own_routing = true;
		}
	}
	vh->own_routing = own_routing && vh->name;
	return 0;
}

int wg_gen_pick(struct wg_plugins *ps, char *why, size_t whylen)
{
	struct wg_vhost vh = {0};

	for (size_t i = 0; i < ps->n; i++) {
		const struct wg_loaded_plugin *p = &ps->v[i];
		if (p->file && p->file->vhost && !vhost_kind(p->desc->kind)) {
			snprintf(why, whylen, "%s: vhost: %s is a %s plugin; only auth and routing plugins belong to a "
				 "vhost", p->file->path, p->desc->name, wg_plugin_kind_name(p->desc->kind));
			return -1;
		}
	}
	if (pick_plugins(ps, &vh, why, whylen) < 0)
		return -1;
	if (vh.n_auth == 0) {
		snprintf(why, whylen, "no auth plugin enabled (e.g. a file {\"plugin\": \"auth-plain\", ...})");
		return -1;
	}
	if (!vh.routing) {
		snprintf(why, whylen, "no routing plugin enabled (e.g. a file {\"plugin\": \"routing-static\", ...})");
		return -1;
	}
	return 0;
}

static void vhosts_free(struct wg_gen *g)
{
	for (unsigned i = 0; i < g->n_vhosts; i++) {
		if (g->vhosts[i].tls)
			wolfSSL_CTX_free(g->vhosts[i].tls);
		wg_config_free(g->vhosts[i].cfg);
	}
	free(g->vhosts);
	g->vhosts = NULL;
	g->n_vhosts = 0;
}

static const char *or_default(const struct wg_config *cfg, const char *key, const char *dflt)
{
	const char *v = wg_config_string(cfg, key);

	return v ? v : dflt;
}

/* vhosts[0] (the default) and one per name in conf's "vhosts". */
static int vhosts_make(struct wg_gen *g, char *why, size_t whylen)
{
	const struct wg_config *scfg = g->conf->server;
	const char *names[257];
	size_t n = wg_config_account_names(scfg, "vhosts", names, 256);
	const char *fallback = wg_config_string(scfg, "vhost-fallback");

	snprintf(why, whylen, "out of memory");
	if (!(g->vhosts = calloc(n + 1, sizeof(*g->vhosts))))
		return -1;
	g->n_vhosts = (unsigned)n + 1;
	g->vhost_refuse = fallback && strcmp(fallback, "refuse") == 0;
	struct wg_vhost *d = &g->vhosts[0];
	d->gen = g;
	d->server_name = wg_config_string(scfg, "server-name");
	d->banner = wg_config_string(scfg, "banner");
	if (pick_plugins(&g->plugins, d, why, whylen) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct wg_vhost *vh = &g->vhosts[i + 1];
		vh->name = names[i];
		vh->gen = g;
		if (!(vh->cfg = wg_config_entry(scfg, "vhosts", names[i], wg_vhost_options)))
			return -1;
		vh->server_name = or_default(vh->cfg, "server-name", d->server_name);
		vh->banner = or_default(vh->cfg, "banner", d->banner);
		memcpy(vh->auth_chain, d->auth_chain, sizeof(vh->auth_chain));
		vh->n_auth = d->n_auth;
		vh->routing = d->routing;
		if (pick_plugins(&g->plugins, vh, why, whylen) < 0)
			return -1;
	}
	return 0;
}

struct wg_vhost *wg_gen_vhost_exact(struct wg_gen *g, const char *name)
{
	if (!name)
		return &g->vhosts[0];
	for (unsigned i = 1; i < g->n_vhosts; i++)
		if (strcmp(g->vhosts[i].name, name) == 0)
			return &g->vhosts[i];
	return NULL;
}

struct wg_vhost *wg_gen_vhost(struct wg_gen *g, const char *server_name)
{
	for (unsigned i = 1; server_name && i < g->n_vhosts; i++)
		if (strcasecmp(g->vhosts[i].name, server_name) == 0)
			return &g->vhosts[i];
	return g->vhost_refuse ? NULL : &g->vhosts[0];
}

struct wg_gen *wg_gen_new(struct wg_server *srv, struct wg_conf *conf, struct wg_plugins *ps, char *why,
			  size_t whylen)
{
	struct wg_gen *g = calloc(1, sizeof(*g));

	if (!g) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (wg_gen_pick(ps, why, whylen) < 0) {
		free(g);
		return NULL;
	}
	g->conf = conf;
	g->plugins = *ps;
	if (vhosts_make(g, why, whylen) < 0) {
		vhosts_free(g);
		free(g);
		return NULL;
	}
	memset(ps, 0, sizeof(*ps));
	g->srv = srv;
	g->refs = 1;
	g->number = ++srv->gen_counter;
	g->next = srv->gens;
	srv->gens = g;
	return g;
}

void wg_gen_make_current(struct wg_server *srv, struct wg_gen *g)
{
	struct wg_gen *old = srv->gen;

	srv->gen = g;
	srv->conf = g->conf;
	srv->scfg = g->conf->server;
	srv->plugins = g->plugins;
	srv->routing = g->vhosts[0].routing;
	srv->vhosts_on = g->n_vhosts > 1;
	if (old) {
		wg_plugins_remove_sinks(&old->plugins);
		wg_gen_unref(old);
	}
}

struct wg_gen *wg_gen_ref(struct wg_gen *g)
{
	if (g)
		g->refs++;
	return g;
}

static void collect_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wg_gen_collect(arg, false);
}

static void schedule_collect(struct wg_server *srv, unsigned after_s)
{
	struct timeval tv = {.tv_sec = after_s};

	if (!srv->gc_ev)
		srv->gc_ev = evtimer_new(srv->base, collect_cb, srv);
	if (srv->gc_ev && !evtimer_pending(srv->gc_ev, NULL))
		evtimer_add(srv->gc_ev, &tv);
}

void wg_gen_unref(struct wg_gen *g)
{
	if (!g || --g->refs > 0)
		return;
	/* Not now: the caller may be inside one of this generation's plugins
	 * (a policy timer that ended the last session, say). */
	if (g->srv->base)
		schedule_collect(g->srv, 0);
}

void wg_gen_assign(struct wg_gen **slot, struct wg_gen *g)
{
	if (*slot == g)
		return;
	wg_gen_ref(g);
	wg_gen_unref(*slot);
	*slot = g;
}

static void gen_free(struct wg_gen *g)
{
	while (g->parked) {
		struct wg_parked *p = g->parked;
		g->parked = p->next;
		free(p->tc);
		free(p);
	}
	vhosts_free(g);
	wg_log(NULL, WG_LOG_INFO, "configuration generation %u retired: its plugins are finalised", g->number);
	wg_plugins_unload(&g->plugins);
	wg_conf_free(g->conf);
	free(g);
}

void wg_gen_collect(struct wg_server *srv, bool force)
{
	bool waiting = false;

	for (struct wg_gen **pp = &srv->gens; *pp;) {
		struct wg_gen *g = *pp;
		bool unused = g->refs == 0 && g != srv->gen;
		if (!force && !unused) {
			pp = &g->next;
			continue;
		}
		/* Work a plugin queued must finish before the plugin goes. */
		if (!force && srv->pool && !wg_workpool_idle(srv->pool)) {
			waiting = true;
			pp = &g->next;
			continue;
		}
		*pp = g->next;
		gen_free(g);
	}
	if (force)
		srv->gen = NULL;
	if (waiting)
		schedule_collect(srv, COLLECT_RETRY_S);
}
