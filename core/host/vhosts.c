/* TLS contexts and pools of vhosts (vhosts.h). */
#include "host/vhosts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "config/config.h"
#include "modules/gen.h"
#include "net/tls.h"
#include "server.h"
#include "tunnel/iroute.h"
#include "util/err.h"
#include "util/log.h"
#include "util/route_filter.h"

int wg_vhosts_tls(struct wg_gen *g, struct wg_err *err)
{
	int before = err->count;

	for (unsigned i = 1; i < g->n_vhosts; i++) {
		struct wg_vhost *vh = &g->vhosts[i];
		char why[512], pin[96];
		if (!(vh->tls = wg_tls_ctx_new(vh->cfg, why, sizeof(why)))) {
			wg_err_add(err, "%s: server.vhosts.%s: %s", wg_config_where(g->conf->server, "vhosts"), vh->name, why);
			continue;
		}
		if (wg_tls_cert_pin(wg_config_string(vh->cfg, "certificate"), pin, sizeof(pin)) == 0)
			wg_log(NULL, WG_LOG_NOTICE, "vhost %s: certificate %s", vh->name, pin);
	}
	return err->count == before ? 0 : -1;
}

/* The IPv4 and IPv6 networks of a routing plugin ("" when none). */
static int pools_of(const struct wg_loaded_plugin *r, char net4[64], char net6[64])
{
	const struct wg_routing_ops *ops = r->desc->ops;

	net4[0] = net6[0] = '\0';
	return ops->networks(r->state, net4, 64, net6, 64);
}

static bool routed(const struct wg_server *srv, const char *net)
{
	for (unsigned i = 0; i < srv->n_vhost_pools; i++)
		if (strcmp(srv->vhost_pools[i], net) == 0)
			return true;
	return false;
}

static int route_one(struct wg_server *srv, const char *vhost, const char *net, char *err, size_t errlen)
{
	struct wg_filter_net n;
	int rc;

	if (!net[0] || routed(srv, net))
		return 0;
	if (srv->n_vhost_pools == WG_MAX_VHOST_POOLS) {
		snprintf(err, errlen, "vhost %s: more than %d address pools of vhosts", vhost, WG_MAX_VHOST_POOLS);
		return -1;
	}
	if (wg_filter_net_parse(net, &n) < 0) {
		snprintf(err, errlen, "vhost %s: its routing plugin gave \"%s\", not a network", vhost, net);
		return -1;
	}
	/* Worker 0 made the device and routes it; the others only know. */
	if (srv->worker.index == 0 && (rc = wg_tun_kernel_route(srv->tun.name, &n)) < 0) {
		snprintf(err, errlen, "vhost %s: cannot route its pool %s into %s: %s", vhost, net, srv->tun.name,
			 strerror(-rc));
		return -1;
	}
	snprintf(srv->vhost_pools[srv->n_vhost_pools++], sizeof(srv->vhost_pools[0]), "%s", net);
	if (srv->worker.index == 0)
		wg_log(NULL, WG_LOG_INFO, "vhost %s: pool %s routed into %s", vhost, net, srv->tun.name);
	return 0;
}

int wg_vhosts_route_pools(struct wg_server *srv, char *err, size_t errlen)
{
	struct wg_gen *g = srv->gen;
	char d4[64], d6[64];

	/* The default pools are the device's own networks. */
	pools_of(g->vhosts[0].routing, d4, d6);
	for (unsigned i = 1; i < g->n_vhosts; i++) {
		struct wg_vhost *vh = &g->vhosts[i];
		char n4[64], n6[64];
		if (!vh->own_routing)
			continue;
		if (pools_of(vh->routing, n4, n6) < 0 || (!n4[0] && !n6[0])) {
			snprintf(err, errlen, "vhost %s: routing plugin %s gave no address network", vh->name,
				 vh->routing->desc->name);
			return -1;
		}
		if ((strcmp(n4, d4) != 0 && route_one(srv, vh->name, n4, err, errlen) < 0) ||
		    (strcmp(n6, d6) != 0 && route_one(srv, vh->name, n6, err, errlen) < 0))
			return -1;
	}
	return 0;
}

int wg_vhosts_check_pools(struct wg_server *srv, struct wg_gen *g, struct wg_err *err)
{
	char d4[64], d6[64];
	int before = err->count;

	pools_of(g->vhosts[0].routing, d4, d6);
	for (unsigned i = 1; i < g->n_vhosts; i++) {
		struct wg_vhost *vh = &g->vhosts[i];
		char n[2][64];
		if (!vh->own_routing)
			continue;
		if (pools_of(vh->routing, n[0], n[1]) < 0 || (!n[0][0] && !n[1][0])) {
			wg_err_add(err, "vhost %s: routing plugin %s gave no address network", vh->name,
				   vh->routing->desc->name);
			continue;
		}
		for (int k = 0; k < 2; k++)
			if (n[k][0] && strcmp(n[k], k ? d6 : d4) != 0 && !routed(srv, n[k]))
				wg_err_add(err, "vhost %s: its pool %s is not routed into %s (pools are routed at start): "
					   "that needs a restart", vh->name, n[k], srv->tun.name);
	}
	return err->count == before ? 0 : -1;
}

void wg_vhosts_log(const struct wg_gen *g)
{
	for (unsigned i = 1; i < g->n_vhosts; i++) {
		const struct wg_vhost *vh = &g->vhosts[i];
		char chain[256] = "";
		size_t len = 0;
		for (unsigned k = 0; k < vh->n_auth && len < sizeof(chain); k++)
			len += (size_t)snprintf(chain + len, sizeof(chain) - len, "%s%s", k ? " -> " : "",
						vh->auth_chain[k]->desc->name);
		wg_log(NULL, WG_LOG_INFO, "vhost %s: login chain %s%s, routing %s%s", vh->name, chain,
		       vh->auth_chain[0] == g->vhosts[0].auth_chain[0] ? " (the default's)" : "", vh->routing->desc->name,
		       vh->own_routing ? "" : " (the default's)");
	}
	if (g->n_vhosts > 1)
		wg_log(NULL, WG_LOG_INFO, "vhosts: %u; a client without a known server name gets %s", g->n_vhosts - 1,
		       g->vhost_refuse ? "refused (vhost-fallback refuse)" : "the default server");
}
