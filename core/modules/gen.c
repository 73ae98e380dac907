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

#include "util/log.h"
#include "server.h"
#include "util/workpool.h"

#define COLLECT_RETRY_S 1

int wg_gen_pick(struct wg_plugins *ps, struct wg_loaded_plugin **auth, struct wg_loaded_plugin **routing,
		char *why, size_t whylen)
{
	unsigned n_auth = 0;

	*auth = wg_plugins_find_kind(ps, WG_PLUGIN_AUTH);
	*routing = wg_plugins_find_kind(ps, WG_PLUGIN_ROUTING);
	for (size_t i = 0; i < ps->n; i++)
		n_auth += ps->v[i].initialized && ps->v[i].desc->kind == WG_PLUGIN_AUTH;
	if (n_auth > WG_MAX_AUTH_STEPS) {
		snprintf(why, whylen, "%u auth plugins enabled; a login chain has at most %d steps", n_auth,
			 WG_MAX_AUTH_STEPS);
		return -1;
	}
	if (!*auth) {
		snprintf(why, whylen, "no auth plugin enabled (e.g. a file {\"plugin\": \"auth-plain\", ...})");
		return -1;
	}
	if (!*routing) {
		snprintf(why, whylen, "no routing plugin enabled (e.g. a file {\"plugin\": \"routing-static\", ...})");
		return -1;
	}
	return 0;
}

struct wg_gen *wg_gen_new(struct wg_server *srv, struct wg_conf *conf, struct wg_plugins *ps)
{
	struct wg_gen *g = calloc(1, sizeof(*g));
	char why[256];

	if (!g)
		return NULL;
	if (wg_gen_pick(ps, &g->auth, &g->routing, why, sizeof(why)) < 0) {
		free(g);
		return NULL;
	}
	g->srv = srv;
	g->refs = 1;
	g->number = ++srv->gen_counter;
	g->conf = conf;
	g->plugins = *ps;
	memset(ps, 0, sizeof(*ps));
	for (size_t i = 0; i < g->plugins.n; i++) {
		struct wg_loaded_plugin *p = &g->plugins.v[i];
		if (p->initialized && p->desc->kind == WG_PLUGIN_AUTH)
			g->auth_chain[g->n_auth++] = p;
	}
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
	srv->auth = g->auth;
	srv->n_auth = g->n_auth;
	memcpy(srv->auth_chain, g->auth_chain, sizeof(srv->auth_chain));
	srv->routing = g->routing;
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
