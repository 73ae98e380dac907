/* iroute (iroute.h). */
#include "tunnel/iroute.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "server.h"
#include "session/session.h"
#include "util/route_filter.h"
#include "util/log.h"

#define MAX_IROUTES 4096

struct wg_iroute {
	struct wg_filter_net net;
	char *user;            /* owned */
	struct wg_session *s;  /* the user's session, or NULL: borrowed */
};

struct wg_iroute_table {
	unsigned n;
	struct wg_iroute v[];
};

int wg_tun_kernel_route(const char *dev, const struct wg_filter_net *n)
{
	int fd = socket(n->family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	if (n->family == 4) {
		struct rtentry rt;
		struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
		struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;
		char name[IFNAMSIZ];
		memset(&rt, 0, sizeof(rt));
		dst->sin_family = mask->sin_family = AF_INET;
		memcpy(&dst->sin_addr, n->addr, 4);
		mask->sin_addr.s_addr = n->bits ? htonl(~0u << (32 - n->bits)) : 0;
		snprintf(name, sizeof(name), "%s", dev);
		rt.rt_dev = name;
		rt.rt_flags = RTF_UP | (n->bits == 32 ? RTF_HOST : 0);
		if (ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST)
			rc = -errno;
	} else {
		struct in6_rtmsg rt;
		memset(&rt, 0, sizeof(rt));
		memcpy(&rt.rtmsg_dst, n->addr, 16);
		rt.rtmsg_dst_len = n->bits;
		rt.rtmsg_flags = RTF_UP;
		rt.rtmsg_metric = 1;
		rt.rtmsg_ifindex = (int)if_nametoindex(dev);
		if (ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST)
			rc = -errno;
	}
	close(fd);
	return rc;
}

int wg_iroutes_install(struct wg_server *srv, char *err, size_t errlen)
{
	const char *names[1024], *nets[64];
	size_t n_names = wg_config_account_names(srv->scfg, "users", names, 1024), total = 0;
	struct wg_iroute_table *t;

	for (size_t i = 0; i < n_names; i++)
		total += wg_config_account_list(srv->scfg, "users", names[i], "iroute", nets, 64);
	if (total == 0)
		return 0;
	if (srv->worker.count > 1) {
		snprintf(err, errlen, "%s: iroute needs \"workers\": 1 (the TUN steering between workers knows only "
			 "leased addresses)", wg_config_where(srv->scfg, "users"));
		return -1;
	}
	if (total > MAX_IROUTES || !(t = calloc(1, sizeof(*t) + total * sizeof(t->v[0])))) {
		snprintf(err, errlen, "%s: too many iroutes (at most %d)", wg_config_where(srv->scfg, "users"),
			 MAX_IROUTES);
		return -1;
	}
	for (size_t i = 0; i < n_names; i++) {
		size_t k = wg_config_account_list(srv->scfg, "users", names[i], "iroute", nets, 64);
		for (size_t j = 0; j < k; j++) {
			struct wg_iroute *r = &t->v[t->n];
			int rc;
			if (wg_filter_net_parse(nets[j], &r->net) < 0) {
				snprintf(err, errlen, "%s: users.%s.iroute: \"%s\" is not a network",
					 wg_config_where(srv->scfg, "users"), names[i], nets[j]);
				goto fail;
			}
			if ((rc = wg_tun_kernel_route(srv->tun.name, &r->net)) < 0) {
				snprintf(err, errlen, "iroute %s of %s: cannot route it into %s: %s", nets[j], names[i],
					 srv->tun.name, strerror(-rc));
				goto fail;
			}
			if (!(r->user = strdup(names[i]))) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			t->n++;
			wg_log(NULL, WG_LOG_INFO, "iroute %s routed into %s for user %s", nets[j], srv->tun.name,
			       names[i]);
		}
	}
	srv->iroutes = t;
	return 0;
fail:
	for (unsigned i = 0; i < t->n; i++)
		free(t->v[i].user);
	free(t);
	return -1;
}

void wg_iroutes_free(struct wg_server *srv)
{
	struct wg_iroute_table *t = srv->iroutes;

	if (!t)
		return;
	for (unsigned i = 0; i < t->n; i++)
		free(t->v[i].user);
	free(t);
	srv->iroutes = NULL;
}

void wg_iroutes_bind(struct wg_session *s)
{
	struct wg_iroute_table *t = s->srv->iroutes;

	for (unsigned i = 0; t && i < t->n; i++)
		if (strcmp(t->v[i].user, s->user) == 0) {
			if (t->v[i].s && t->v[i].s != s)
				wg_log(s, WG_LOG_NOTICE, "iroute of %s moves from session %s to this one", s->user,
				       t->v[i].s->id_str);
			t->v[i].s = s; /* the newest session of the user gets its networks */
		}
}

void wg_iroutes_unbind(struct wg_session *s)
{
	struct wg_iroute_table *t = s->srv->iroutes;

	for (unsigned i = 0; t && i < t->n; i++)
		if (t->v[i].s == s)
			t->v[i].s = NULL;
}

static bool contains(const struct wg_filter_net *n, int family, const uint8_t *addr)
{
	unsigned full = n->bits / 8, rest = n->bits % 8;

	if (n->family != family || memcmp(n->addr, addr, full) != 0)
		return false;
	return !rest || ((n->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

struct wg_session *wg_iroute_owner(const struct wg_server *srv, int family, const uint8_t *dst)
{
	const struct wg_iroute_table *t = srv->iroutes;
	struct wg_session *best = NULL;
	int best_bits = -1;

	for (unsigned i = 0; t && i < t->n; i++)
		if (t->v[i].s && t->v[i].net.bits > best_bits && contains(&t->v[i].net, family, dst)) {
			best = t->v[i].s;
			best_bits = t->v[i].net.bits;
		}
	return best && !best->ending ? best : NULL;
}

bool wg_iroute_source_ok(const struct wg_session *s, const uint8_t *pkt, size_t len)
{
	const struct wg_iroute_table *t = s->srv->iroutes;
	int family = (pkt[0] >> 4) == 4 ? 4 : 6;

	if (len < (family == 4 ? 20u : 40u))
		return false;
	for (unsigned i = 0; t && i < t->n; i++)
		if (t->v[i].s == s && contains(&t->v[i].net, family, family == 4 ? pkt + 12 : pkt + 8))
			return true;
	return false;
}
