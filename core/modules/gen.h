/* Configuration generations. A generation is one loaded conf.d with its
 * plugin instances. The server starts with generation 1; each successful
 * reload makes the next one current. New logins use the current
 * generation; a session (and a login in progress) holds a reference to the
 * generation it began in and keeps using that one's plugin instances (its
 * auth plugin for accounting, its routing plugin for the lease, its policy
 * scripts). A generation that is no longer current is finalised when its
 * last reference goes and the worker pool has no work in flight (plugins
 * may have queued run_blocking work).
 *
 * Address pools: the routing plugin instances of two generations do not
 * know each other's leases. When the new instance hands out an address an
 * older session still holds, that lease is "parked": kept in the new
 * instance (so it is not handed out again) and released there when the
 * older session ends, and the session leases again. */
#ifndef WG_GEN_H
#define WG_GEN_H

#include <stdbool.h>

#include "config/config.h"
#include "modules/loader.h"

struct wg_server;
struct wg_session;

struct wg_parked {
	const struct wg_session *holder; /* the older session using the address */
	struct wg_tunnel_config *tc;     /* what this generation's plugin leased (owned) */
	struct wg_parked *next;
};

struct wg_gen {
	struct wg_server *srv;
	unsigned refs;              /* the server's (while current), sessions', logins' */
	unsigned number;            /* 1, 2, ... */
	struct wg_conf *conf;       /* owned */
	struct wg_plugins plugins;  /* owned */
	struct wg_loaded_plugin *auth, *routing; /* borrowed from plugins; auth: the first step */
	/* Every auth plugin in conf.d order: the steps of each login. */
	struct wg_loaded_plugin *auth_chain[WG_MAX_AUTH_STEPS];
	unsigned n_auth;
	struct wg_parked *parked;   /* owned */
	struct wg_gen *next;        /* srv->gens: every generation not yet freed */
};

/* A generation from a loaded conf and its initialised plugins (both taken
 * over; *ps is emptied), linked into srv->gens with one reference for the
 * caller. auth/routing must be found already (see wg_gen_pick). */
struct wg_gen *wg_gen_new(struct wg_server *srv, struct wg_conf *conf, struct wg_plugins *ps);
/* Finds the auth and routing plugins of ps; -1 with a reason if missing. */
int wg_gen_pick(struct wg_plugins *ps, struct wg_loaded_plugin **auth, struct wg_loaded_plugin **routing,
		char *why, size_t whylen);

/* g becomes the current generation (it takes the caller's reference); the
 * server's conf/scfg/plugins/auth/routing point into it. The previous one's
 * log plugins stop being sinks (g's are registered by its init) and the
 * server's reference to it is dropped. */
void wg_gen_make_current(struct wg_server *srv, struct wg_gen *g);

struct wg_gen *wg_gen_ref(struct wg_gen *g); /* NULL-safe */
void wg_gen_unref(struct wg_gen *g);         /* NULL-safe; frees later, never inside the call */
/* *slot takes a reference to g, dropping the one it held. */
void wg_gen_assign(struct wg_gen **slot, struct wg_gen *g);

/* Frees generations without references. Unless force, only when the worker
 * pool is idle (otherwise a timer tries again). force: server stop, after the
 * pool has been drained; every generation is freed. */
void wg_gen_collect(struct wg_server *srv, bool force);

/* Routing through the session's generation (the server's current one for a
 * session without). lease parks addresses older sessions hold, see above. */
int wg_gen_lease(struct wg_session *s, struct wg_tunnel_config *tc);
void wg_gen_release(struct wg_session *s, const struct wg_tunnel_config *tc);

#endif
