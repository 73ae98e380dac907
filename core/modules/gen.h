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
#include "util/err.h"

struct wg_server;
struct wg_session;

struct wg_parked {
	const struct wg_session *holder; /* the older session using the address */
	struct wg_tunnel_config *tc;     /* what this generation's plugin leased (owned) */
	struct wg_loaded_plugin *routing; /* the plugin (of this generation) that leased it */
	struct wg_parked *next;
};

/* One server name of a generation (the server's "vhosts", chosen by the
 * TLS client's SNI). vhosts[0] is the default server: the "server"
 * section and the plugin files without "vhost". A named vhost has its own
 * TLS context, and the auth chain and routing plugin of the files that
 * name it; where it has none of a kind, the default's serve it. A login
 * and its session point at the vhost they arrived under, and through
 * vh->gen hold their generation. */
struct wg_vhost {
	const char *name;           /* NULL: the default server; else a key of conf's "vhosts" */
	struct wg_gen *gen;
	struct wg_config *cfg;      /* the vhosts entry (owned); NULL for the default */
	void *tls;                  /* WOLFSSL_CTX (owned; made by host/vhosts.c); NULL: the server's srv->tls */
	/* Every auth plugin of the chain in conf.d order: the steps of each login. */
	struct wg_loaded_plugin *auth_chain[WG_MAX_AUTH_STEPS];
	unsigned n_auth;
	struct wg_loaded_plugin *routing; /* borrowed from gen->plugins */
	bool own_routing;           /* routing is this vhost's, not the default's */
	const char *server_name, *banner; /* borrowed from cfg or the server section */
};

struct wg_gen {
	struct wg_server *srv;
	unsigned refs;              /* the server's (while current), sessions', logins' */
	unsigned number;            /* 1, 2, ... */
	struct wg_conf *conf;       /* owned */
	struct wg_plugins plugins;  /* owned */
	struct wg_vhost *vhosts;    /* owned: [0] the default, then conf's "vhosts" */
	unsigned n_vhosts;
	bool vhost_refuse;          /* vhost-fallback "refuse": no default for unknown names */
	struct wg_parked *parked;   /* owned */
	struct wg_gen *next;        /* srv->gens: every generation not yet freed */
};

/* A generation from a loaded conf and its initialised plugins (both taken
 * over; *ps is emptied), linked into srv->gens with one reference for the
 * caller, its vhosts' plugins picked (their TLS contexts are not made
 * here). NULL with a reason in why when a vhost lacks a plugin it needs
 * (see wg_gen_pick) or out of memory; then conf and ps stay the caller's. */
struct wg_gen *wg_gen_new(struct wg_server *srv, struct wg_conf *conf, struct wg_plugins *ps, char *why,
			  size_t whylen);
/* Checks that ps can make a generation: the default server has an auth and
 * a routing plugin, no chain is too long, and "vhost" is given only to auth
 * and routing plugins. -1 with a reason. */
int wg_gen_pick(struct wg_plugins *ps, char *why, size_t whylen);
/* The vhost of g that serves a TLS server name (NULL: none was sent):
 * the named one, else the default, else NULL when vhost-fallback is
 * "refuse". The name is compared without regard to case. */
struct wg_vhost *wg_gen_vhost(struct wg_gen *g, const char *server_name);
/* The vhost of g that a connection whose handshake chose `name` (NULL:
 * the default) belongs to: the same name in g, else NULL when g no longer
 * has it (a reload removed it since the handshake). */
struct wg_vhost *wg_gen_vhost_exact(struct wg_gen *g, const char *name);

/* g becomes the current generation (it takes the caller's reference); the
 * server's conf/scfg/plugins/routing point into it. The previous one's
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


#endif
