/* A session's address lease through the routing plugin of its generation,
 * kept unique across generations (parked leases, modules/gen.h) and across
 * worker processes (the shared steering map, workers/steer.h). */
#include "session/lease.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "modules/gen.h"
#include "server.h"
#include "session/session_types.h"
#include "util/addr.h"
#include "util/log.h"
#include "workers/steer.h"

/* The addresses of a lease as bytes (IPv6 without a "/len"); false when
 * there is none of that family. They take the text, not the configuration:
 * a routing plugin's wg_tunnel_config and a session's wg_session_tc both
 * carry it. */
static bool lease_addr4(const char *addr4, uint8_t out[4])
{
	return addr4[0] && inet_pton(AF_INET, addr4, out) == 1;
}

static bool lease_addr6(const char *addr6, uint8_t out[16])
{
	return addr6[0] && wg_addr_parse6(addr6, out) == 0;
}

static struct wg_session *holder_of(struct wg_server *srv, const struct wg_tunnel_config *tc,
				    const struct wg_session *self)
{
	struct wg_session *h = NULL;
	uint8_t a4[4], a6[16];

	if (lease_addr4(tc->addr4, a4))
		h = wg_hashmap_get(srv->by_addr4, a4);
	if (!h && lease_addr6(tc->addr6, a6))
		h = wg_hashmap_get(srv->by_addr6, a6);
	return h == self ? NULL : h;
}

/* With several workers a lease must also be free in every other worker:
 * claims its addresses in the shared map (steer.h). 0, -EADDRINUSE (held by
 * another worker; nothing claimed), or another -errno. */
static int claim_across_workers(struct wg_server *srv, const struct wg_tunnel_config *tc)
{
	const struct wg_worker *w = &srv->worker;
	uint8_t a4[4], a6[16];
	bool has4 = lease_addr4(tc->addr4, a4), has6 = lease_addr6(tc->addr6, a6);
	int rc = 0;

	if (w->count < 2)
		return 0;
	if (has4 && (rc = wg_steer_claim(w->steer, a4, 4, w->index)) < 0)
		return rc;
	if (has6 && (rc = wg_steer_claim(w->steer, a6, 16, w->index)) < 0 && has4)
		wg_steer_release(w->steer, a4, 4, w->index);
	return rc;
}

static void release_across_workers(struct wg_server *srv, const struct wg_tunnel_config *tc)
{
	const struct wg_worker *w = &srv->worker;
	uint8_t a4[4], a6[16];

	if (w->count < 2)
		return;
	if (lease_addr4(tc->addr4, a4))
		wg_steer_release(w->steer, a4, 4, w->index);
	if (lease_addr6(tc->addr6, a6))
		wg_steer_release(w->steer, a6, 16, w->index);
}

/* A cluster session whose tunnel is up on this worker: its record in Redis
 * names this worker now, so packets to its addresses must come here, also
 * when another worker of this node still holds a copy (the client came back
 * from another source address, which the client hash sends elsewhere) or
 * the session was adopted from another node (its routing plugin never
 * leased, or claimed, the address here). */
void wg_session_steer_take(struct wg_session *s)
{
	const struct wg_worker *w = &s->srv->worker;
	uint8_t a4[4], a6[16];
	int rc = 0;

	if (w->count < 2)
		return;
	if (lease_addr4(s->tc.addr4, a4))
		rc = wg_steer_take(w->steer, a4, 4, w->index);
	if (rc == 0 && lease_addr6(s->tc.addr6, a6))
		rc = wg_steer_take(w->steer, a6, 16, w->index);
	if (rc < 0)
		wg_log(s, WG_LOG_ERROR, "cannot steer %s to worker %u: %s", s->tc.addr4, w->index, strerror(-rc));
	s->steer_taken = true; /* released at the end, if still this worker's */
}

/* Leases another worker holds, kept from the routing plugin until the lease
 * is settled so it does not offer them again; then given back. */
struct elsewhere {
	struct wg_tunnel_config tc;
	struct elsewhere *next;
};

#define MAX_CROSS_WORKER_TRIES 1024

/* The pools of the session's vhost, in the generation it began in. */
static struct wg_loaded_plugin *routing_of(struct wg_session *s)
{
	return s->vhost->routing;
}

int wg_session_lease(struct wg_session *s, struct wg_tunnel_config *tc)
{
	struct wg_loaded_plugin *r = routing_of(s);
	const struct wg_routing_ops *ops = r->desc->ops;
	struct wg_tunnel_config *defaults = malloc(sizeof(*defaults));
	/* Every collision is with a distinct live session, so this bounds it. */
	unsigned max_tries = s->srv->n_sessions + 2;
	int rc = -EADDRNOTAVAIL;

	if (!defaults)
		return -ENOMEM;
	*defaults = *tc;
	struct elsewhere *taken = NULL;
	unsigned cross = 0;
	for (unsigned tries = 0; tries < max_tries + MAX_CROSS_WORKER_TRIES; tries++) {
		rc = ops->lease(r->state, s, tc);
		if (rc < 0)
			break;
		struct wg_session *holder = holder_of(s->srv, tc, s);
		if (!holder) {
			int c = claim_across_workers(s->srv, tc);
			if (c == 0)
				break;
			struct elsewhere *e = c == -EADDRINUSE && cross < MAX_CROSS_WORKER_TRIES ? malloc(sizeof(*e)) : NULL;
			if (!e) {
				wg_log(s, WG_LOG_ERROR, "cannot claim %s across workers: %s", tc->addr4,
				       c == -EADDRINUSE ? "every address offered is held by another worker" : strerror(-c));
				ops->release(r->state, s, tc);
				rc = c == -EADDRINUSE ? -EADDRNOTAVAIL : c;
				break;
			}
			cross++;
			e->tc = *tc;
			e->next = taken;
			taken = e;
			*tc = *defaults;
			rc = -EADDRNOTAVAIL;
			continue;
		}
		/* A session adopted from another node of a cluster holds an
		 * address its routing plugin never leased (leased false): parked
		 * like an older generation's. */
		if (holder->gen == s->gen && holder->leased)
			break; /* a real double lease that the caller reports */
		struct wg_parked *p = malloc(sizeof(*p));
		struct wg_tunnel_config *copy = malloc(sizeof(*copy));
		if (!p || !copy) {
			free(p);
			free(copy);
			ops->release(r->state, s, tc);
			rc = -ENOMEM;
			break;
		}
		*copy = *tc;
		p->holder = holder;
		p->tc = copy;
		p->routing = r;
		p->next = s->gen->parked;
		s->gen->parked = p;
		wg_log(s, WG_LOG_DEBUG, "%s is still held by session %s of configuration %u; leasing again", tc->addr4,
		       holder->id_str, holder->gen->number);
		*tc = *defaults;
		rc = -EADDRNOTAVAIL;
	}
	while (taken) {
		struct elsewhere *e = taken;
		taken = e->next;
		ops->release(r->state, s, &e->tc);
		free(e);
	}
	free(defaults);
	return rc;
}

void wg_session_lease_release(struct wg_session *s, const struct wg_tunnel_config *tc)
{
	struct wg_loaded_plugin *r = routing_of(s);

	if (s->leased && r)
		((const struct wg_routing_ops *)r->desc->ops)->release(r->state, s, tc);
	/* Unless another session here holds them (a routing plugin's double
	 * lease, refused): that one's claim stays. */
	if ((s->leased || s->steer_taken) && !holder_of(s->srv, tc, s))
		release_across_workers(s->srv, tc);
	/* Addresses other generations parked because s held them are free now. */
	for (struct wg_gen *g = s->srv->gens; g; g = g->next) {
		for (struct wg_parked **pp = &g->parked; *pp;) {
			struct wg_parked *p = *pp;
			if (p->holder != s) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			((const struct wg_routing_ops *)p->routing->desc->ops)->release(p->routing->state, s, p->tc);
			free(p->tc);
			free(p);
		}
	}
}

/* An address the routing plugin offered and another node holds (cluster). */
struct wg_lease_kept {
	char addr4[16], netmask4[16], addr6[48];
	uint32_t prefix6;
	struct wg_lease_kept *next;
};

int wg_session_lease_set_aside(struct wg_session *s)
{
	struct wg_server *srv = s->srv;
	struct wg_lease_kept *k = malloc(sizeof(*k));

	if (!k)
		return -ENOMEM;
	memcpy(k->addr4, s->tc.addr4, sizeof(k->addr4));
	memcpy(k->netmask4, s->tc.netmask4, sizeof(k->netmask4));
	memcpy(k->addr6, s->tc.addr6, sizeof(k->addr6));
	k->prefix6 = s->tc.prefix6;
	k->next = s->lease_kept;
	s->lease_kept = k;
	/* Out of this node's tables: the address is not this session's. */
	if (s->addr4 && wg_hashmap_get(srv->by_addr4, &s->addr4) == s)
		wg_hashmap_del(srv->by_addr4, &s->addr4);
	if (s->has_addr6 && wg_hashmap_get(srv->by_addr6, s->addr6) == s)
		wg_hashmap_del(srv->by_addr6, s->addr6);
	s->addr4 = 0;
	s->has_addr6 = false;
	s->tc.addr4[0] = s->tc.addr6[0] = '\0';
	s->leased = false;
	return 0;
}

void wg_session_lease_settle(struct wg_session *s)
{
	struct wg_loaded_plugin *r = routing_of(s);
	const struct wg_routing_ops *ops = r ? r->desc->ops : NULL;

	while (s->lease_kept) {
		struct wg_lease_kept *k = s->lease_kept;
		s->lease_kept = k->next;
		struct wg_tunnel_config *tc = calloc(1, sizeof(*tc));
		if (tc && ops) {
			tc->struct_size = sizeof(*tc);
			memcpy(tc->addr4, k->addr4, sizeof(k->addr4));
			memcpy(tc->netmask4, k->netmask4, sizeof(k->netmask4));
			memcpy(tc->addr6, k->addr6, sizeof(k->addr6));
			tc->prefix6 = k->prefix6;
			ops->release(r->state, s, tc);
			release_across_workers(s->srv, tc);
		}
		free(tc);
		free(k);
	}
}
