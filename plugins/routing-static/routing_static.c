/* routing-static: address pools and the routes and DNS pushed to clients.
 *
 * IPv4 leases come from a bitmap with a rotating cursor: O(1) amortised,
 * one bit per address (a /12 of 1M addresses costs 128 KiB). The network,
 * broadcast and first host (the server's TUN address) are never leased.
 * A lease's IPv6 address is the IPv6 network plus the IPv4 slot number as
 * host number: unique as long as the IPv4 address is, freed and reused with
 * it, identical in every worker, and never larger than the host part of the
 * IPv6 network (an IPv4 slot beyond it is not leased: refused and logged). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

struct routing {
	const struct wg_host *host;
	const struct wg_config *cfg;
	char net4_text[64], net6_text[64];
	uint32_t base4;       /* network address, host order */
	unsigned prefix4;
	uint64_t size4;       /* addresses in the network */
	uint64_t *bitmap;     /* 1 = leased or reserved */
	uint64_t cursor, leased;
	/* Named pools: sub-ranges of the network for some users only (by
	 * group, or chosen by a policy or backend). The default pool is the
	 * network without them, so firewall rules can rely on the ranges. */
	struct named_pool {
		char name[64];
		uint64_t lo, hi;   /* slots [lo, hi) of the network */
		uint64_t cursor;
	} *pools;
	unsigned n_pools;
	uint64_t *in_named;   /* 1 = slot belongs to a named pool */
	struct in6_addr base6;
	unsigned prefix6;
	bool have6;
	uint64_t limit6;      /* host numbers of the IPv6 network (0: 2^64 or more) */
	/* With several worker processes (host->worker_slot) this instance is
	 * worker `worker` of `workers`: it leases from its own share of each
	 * pool first. */
	unsigned worker, workers;
};

static const struct wg_option options[] = {
	{"ipv4-network", WG_OPT_STRING, 0, 0, 0, "10.8.0.0/24", "IPv4 pool, a.b.c.d/len or a.b.c.d/netmask (/8 to /30)"},
	{"ipv6-network", WG_OPT_STRING, 0, 0, 0, NULL, "IPv6 pool, e.g. fd00:8::/64 (/48 to /120); none by default"},
	{"routes", WG_OPT_STRING_LIST, 0, 0, 0, NULL, "split-include networks; empty: all traffic through the tunnel"},
	{"no-routes", WG_OPT_STRING_LIST, 0, 0, 0, NULL, "split-exclude networks"},
	{"pools", WG_OPT_STRING_LIST, 0, 0, 0, NULL, "named sub-pools \"name=10.8.0.128/25\" inside ipv4-network, used by sessions of the group of that name or whose policy/backend picks it"},
	{"dns", WG_OPT_STRING_LIST, 0, 0, 0, NULL, "DNS servers pushed to clients (at most 4)"},
	{"split-dns", WG_OPT_STRING_LIST, 0, 0, 0, NULL, "domains resolved through the tunnel only (at most 4)"},
	{"default-domain", WG_OPT_STRING, 0, 0, 0, NULL, "DNS search domain (overrides the server's)"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static int netmask_prefix(const char *mask)
{
	struct in_addr a;
	uint32_t m;
	int n = 0;

	if (inet_pton(AF_INET, mask, &a) != 1)
		return -1;
	for (m = ntohl(a.s_addr); m & 0x80000000u; m <<= 1)
		n++;
	return m ? -1 : n;
}

/* "a.b.c.d/nn" or "a.b.c.d/m.m.m.m" or "x::/nn" -> address and prefix. */
static int parse_cidr(const char *text, int family, void *addr, unsigned *prefix)
{
	char tmp[80];
	char *slash, *end;
	long p;

	if (!text || strlen(text) >= sizeof(tmp))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s", text);
	slash = strchr(tmp, '/');
	if (!slash)
		return -1;
	*slash++ = '\0';
	if (inet_pton(family, tmp, addr) != 1)
		return -1;
	if (family == AF_INET && strchr(slash, '.'))
		p = netmask_prefix(slash);
	else {
		p = strtol(slash, &end, 10);
		if (*end || end == slash)
			return -1;
	}
	if (p < 0 || p > (family == AF_INET ? 32 : 128))
		return -1;
	*prefix = (unsigned)p;
	return 0;
}

static void mark(struct routing *r, uint64_t i, bool used)
{
	if (used)
		r->bitmap[i / 64] |= 1ull << (i % 64);
	else
		r->bitmap[i / 64] &= ~(1ull << (i % 64));
}

static bool is_marked(const struct routing *r, uint64_t i)
{
	return r->bitmap[i / 64] >> (i % 64) & 1;
}

static int setup_pool4(struct routing *r, const char *text, char *err, size_t errlen)
{
	struct in_addr a;

	if (parse_cidr(text, AF_INET, &a, &r->prefix4) < 0 || r->prefix4 < 8 || r->prefix4 > 30) {
		snprintf(err, errlen, "%s: ipv4-network: \"%s\" is not a network from /8 to /30",
			 r->host->config_where(r->cfg, "ipv4-network"), text);
		return -EINVAL;
	}
	r->size4 = 1ull << (32 - r->prefix4);
	r->base4 = ntohl(a.s_addr) & (uint32_t)~(r->size4 - 1);
	if (r->base4 != ntohl(a.s_addr)) {
		/* "10.8.0.1/24" is ambiguous (the server's address? the pool?): ask. */
		struct in_addr net = {.s_addr = htonl(r->base4)};
		char want[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &net, want, sizeof(want));
		snprintf(err, errlen, "%s: ipv4-network: \"%s\" has host bits set; the network is %s/%u",
			 r->host->config_where(r->cfg, "ipv4-network"), text, want, r->prefix4);
		return -EINVAL;
	}
	r->bitmap = calloc((size_t)(r->size4 + 63) / 64, sizeof(uint64_t));
	if (!r->bitmap) {
		snprintf(err, errlen, "out of memory for a pool of %llu addresses", (unsigned long long)r->size4);
		return -ENOMEM;
	}
	mark(r, 0, true);             /* network */
	mark(r, 1, true);             /* the server's TUN address */
	mark(r, r->size4 - 1, true);  /* broadcast */
	r->cursor = 2;
	a.s_addr = htonl(r->base4);
	char addr[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, addr, sizeof(addr));
	snprintf(r->net4_text, sizeof(r->net4_text), "%s/%u", addr, r->prefix4);
	return 0;
}

static bool in_named(const struct routing *r, uint64_t i)
{
	return r->in_named && (r->in_named[i / 64] >> (i % 64) & 1);
}

static struct named_pool *pool_named(struct routing *r, const char *name)
{
	for (unsigned k = 0; name && k < r->n_pools; k++)
		if (strcmp(r->pools[k].name, name) == 0)
			return &r->pools[k];
	return NULL;
}

/* "name=a.b.c.d/len" entries: each inside the network, none overlapping. */
static int setup_named_pools(struct routing *r, char *err, size_t errlen)
{
	size_t n = r->host->config_list_size(r->cfg, "pools");
	const char *where = r->host->config_where(r->cfg, "pools");

	if (n == 0)
		return 0;
	r->pools = calloc(n, sizeof(*r->pools));
	r->in_named = calloc((size_t)(r->size4 + 63) / 64, sizeof(uint64_t));
	if (!r->pools || !r->in_named) {
		snprintf(err, errlen, "out of memory for %zu pools", n);
		return -ENOMEM;
	}
	for (size_t k = 0; k < n; k++) {
		const char *item = r->host->config_list_item(r->cfg, "pools", k);
		const char *eq = strchr(item, '=');
		struct named_pool *p = &r->pools[k];
		struct in_addr a;
		unsigned prefix;
		if (!eq || eq == item || (size_t)(eq - item) >= sizeof(p->name) ||
		    parse_cidr(eq + 1, AF_INET, &a, &prefix) < 0 || prefix < r->prefix4 || prefix > 31) {
			snprintf(err, errlen, "%s: pools: \"%s\" is not name=a.b.c.d/len with a network inside %s", where, item,
				 r->net4_text);
			return -EINVAL;
		}
		uint64_t size = 1ull << (32 - prefix);
		uint32_t start = ntohl(a.s_addr);
		if ((start & (uint32_t)(size - 1)) != 0 || (start & ~(uint32_t)(r->size4 - 1)) != r->base4) {
			snprintf(err, errlen, "%s: pools: %s is %s (host bits set)", where, item,
				 (start & ~(uint32_t)(r->size4 - 1)) != r->base4 ? "outside ipv4-network" : "not a network address");
			return -EINVAL;
		}
		memcpy(p->name, item, (size_t)(eq - item));
		if (pool_named(r, p->name)) {
			snprintf(err, errlen, "%s: pools: the name %s is used twice", where, p->name);
			return -EINVAL;
		}
		p->lo = p->cursor = start - r->base4;
		p->hi = p->lo + size;
		for (uint64_t i = p->lo; i < p->hi; i++) {
			if (in_named(r, i)) {
				snprintf(err, errlen, "%s: pools: %s overlaps another pool", where, item);
				return -EINVAL;
			}
			r->in_named[i / 64] |= 1ull << (i % 64);
		}
		r->n_pools++;
	}
	return 0;
}

static int setup_pool6(struct routing *r, const char *text, char *err, size_t errlen)
{
	if (parse_cidr(text, AF_INET6, &r->base6, &r->prefix6) < 0 || r->prefix6 < 48 || r->prefix6 > 120) {
		snprintf(err, errlen, "%s: ipv6-network: \"%s\" is not a network from /48 to /120",
			 r->host->config_where(r->cfg, "ipv6-network"), text);
		return -EINVAL;
	}
	for (unsigned i = 0; i < 16; i++) {
		int keep = (int)r->prefix6 - 8 * (int)i;
		r->base6.s6_addr[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
	char addr[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &r->base6, addr, sizeof(addr));
	snprintf(r->net6_text, sizeof(r->net6_text), "%s/%u", addr, r->prefix6);
	r->have6 = true;
	/* ::1 of the network is the server, as slot 1 of the IPv4 pool is. */
	r->limit6 = 128 - r->prefix6 < 64 ? 1ull << (128 - r->prefix6) : 0;
	if (r->limit6 && r->limit6 < r->size4 - 1)
		r->host->log(NULL, WG_LOG_WARN,
			     "routing-static: ipv6-network %s has %llu host numbers, fewer than the IPv4 pool %s: at most "
			     "%llu sessions get addresses",
			     r->net6_text, (unsigned long long)r->limit6, r->net4_text, (unsigned long long)(r->limit6 - 2));
	return 0;
}

/* Copies a string list option into fixed slots, checking each entry. */
static int copy_list(struct routing *r, const char *key, void *slots, size_t slot_len, unsigned max, uint32_t *n,
		     bool is_net, char *err, size_t errlen)
{
	const struct wg_host *h = r->host;
	size_t count = h->config_list_size(r->cfg, key);

	if (count > max) {
		snprintf(err, errlen, "%s: %s: at most %u entries", h->config_where(r->cfg, key), key, max);
		return -EINVAL;
	}
	for (size_t i = 0; i < count; i++) {
		const char *v = h->config_list_item(r->cfg, key, i);
		unsigned char tmp[16];
		unsigned prefix;
		if (!v || strlen(v) >= slot_len ||
		    (is_net && parse_cidr(v, strchr(v, ':') ? AF_INET6 : AF_INET, tmp, &prefix) < 0) ||
		    (!is_net && strcmp(key, "dns") == 0 && inet_pton(strchr(v, ':') ? AF_INET6 : AF_INET, v, tmp) != 1)) {
			snprintf(err, errlen, "%s: %s: entry %zu \"%s\" is not %s", h->config_where(r->cfg, key), key, i + 1,
				 v ? v : "", is_net ? "a network (a.b.c.d/len)" : "valid");
			return -EINVAL;
		}
		memcpy((char *)slots + i * slot_len, v, strlen(v) + 1);
	}
	if (n)
		*n = (uint32_t)count;
	return 0;
}

/* The pushed settings, checked once at init against a scratch config. */
static int fill_pushed(struct routing *r, struct wg_tunnel_config *tc, char *err, size_t errlen)
{
	const char *dom = r->host->config_string(r->cfg, "default-domain");

	if (copy_list(r, "routes", tc->include, sizeof(tc->include[0]), WG_MAX_ROUTES, &tc->n_include, true, err,
		      errlen) < 0 ||
	    copy_list(r, "no-routes", tc->exclude, sizeof(tc->exclude[0]), WG_MAX_ROUTES, &tc->n_exclude, true, err,
		      errlen) < 0 ||
	    copy_list(r, "dns", tc->dns, sizeof(tc->dns[0]), WG_MAX_DNS, &tc->n_dns, false, err, errlen) < 0 ||
	    copy_list(r, "split-dns", tc->split_dns, sizeof(tc->split_dns[0]), WG_MAX_DNS, &tc->n_split_dns, false, err,
		      errlen) < 0)
		return -EINVAL;
	if (dom && *dom)
		snprintf(tc->default_domain, sizeof(tc->default_domain), "%s", dom);
	return 0;
}

static int networks(void *state, char *net4, size_t len4, char *net6, size_t len6)
{
	struct routing *r = state;

	snprintf(net4, len4, "%s", r->net4_text);
	snprintf(net6, len6, "%s", r->have6 ? r->net6_text : "");
	return 0;
}

/* The pool slot of the address an auth backend asked for (RADIUS
 * Framed-IP-Address), or -1 to lease from the pool as usual: when there is
 * none, or it is outside the pool, reserved or taken (logged). */
/* The slot of an IPv6 address of the pool: its host number, which lease()
 * puts in the low 64 bits; -1 (logged) for an address outside ipv6-network
 * or past the IPv4 pool's slots. */
static int64_t framed6_slot(struct routing *r, const struct wg_session *s, const char *want)
{
	struct in6_addr a;
	uint64_t host = 0;

	if (inet_pton(AF_INET6, want, &a) != 1) {
		r->host->log(s, WG_LOG_WARN, "framed IPv6 address \"%s\" is not an IPv6 address; leasing from the pool", want);
		return -1;
	}
	bool inside = r->have6;
	for (int k = 0; k < 16 && inside; k++) {
		int keep = (int)r->prefix6 - 8 * k;
		uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
		if ((a.s6_addr[k] & mask) != r->base6.s6_addr[k] || (k < 8 && (a.s6_addr[k] & ~mask)))
			inside = false; /* another network, or a host number past 64 bits */
		if (k >= 8)
			host = host << 8 | (a.s6_addr[k] & ~mask & 0xff);
	}
	if (!inside || host < 2 || host >= r->size4 - 1 || (r->limit6 && host >= r->limit6)) {
		r->host->log(s, WG_LOG_WARN, "framed IPv6 address %s is outside the pool %s (or reserved, or past %s); "
			     "leasing from the pool", want, r->have6 ? r->net6_text : "(no ipv6-network)", r->net4_text);
		return -1;
	}
	if (is_marked(r, host)) {
		r->host->log(s, WG_LOG_WARN, "framed IPv6 address %s is in use; leasing from the pool", want);
		return -1;
	}
	return (int64_t)host;
}

static int64_t framed_slot(struct routing *r, const struct wg_session *s)
{
	const char *want = r->host->session_get(s, WG_SESS_ATTR_PREFIX WG_ATTR_FRAMED_IPV4);
	const char *want6 = r->host->session_get(s, WG_SESS_ATTR_PREFIX WG_ATTR_FRAMED_IPV6);
	struct in_addr a;

	if ((!want || !*want) && want6 && *want6)
		return framed6_slot(r, s, want6);
	if (!want || !*want)
		return -1;
	if (inet_pton(AF_INET, want, &a) != 1) {
		r->host->log(s, WG_LOG_WARN, "framed address \"%s\" is not an IPv4 address; leasing from the pool", want);
		return -1;
	}
	uint64_t i = (uint64_t)(uint32_t)(ntohl(a.s_addr) - r->base4);
	if (i < 2 || i >= r->size4 - 1) {
		r->host->log(s, WG_LOG_WARN, "framed address %s is outside the pool %s (or reserved); leasing from the pool",
			     want, r->net4_text);
		return -1;
	}
	if (is_marked(r, i)) {
		r->host->log(s, WG_LOG_WARN, "framed address %s is in use; leasing from the pool", want);
		return -1;
	}
	return (int64_t)i;
}

/* A free slot in [lo, hi) from *cursor on, skipping named pools' slots when
 * `skip_named`; -1 when there is none. Full words are skipped at once, so a
 * nearly full pool stays fast. */
static int64_t find_free(const struct routing *r, uint64_t lo, uint64_t hi, uint64_t *cursor, bool skip_named)
{
	uint64_t n = hi - lo, i = *cursor >= lo && *cursor < hi ? *cursor : lo;

	for (uint64_t tries = 0; tries < n; tries++) {
		uint64_t used = r->bitmap[i / 64] | (skip_named && r->in_named ? r->in_named[i / 64] : 0);
		if (i % 64 == 0 && used == ~0ull && i + 64 <= hi) {
			tries += 63;
			i += 64;
		} else if (!(used >> (i % 64) & 1)) {
			*cursor = i + 1 < hi ? i + 1 : lo;
			return (int64_t)i;
		} else
			i++;
		if (i >= hi)
			i = lo;
	}
	return -1;
}

/* A free slot of [lo, hi): from this worker's share of the range first, so
 * that workers seldom offer the same address; then anywhere in it. */
static int64_t find_free_shared(const struct routing *r, uint64_t lo, uint64_t hi, uint64_t *cursor, bool skip_named)
{
	if (r->workers > 1) {
		uint64_t n = hi - lo, slo = lo + n * r->worker / r->workers, shi = lo + n * (r->worker + 1) / r->workers;
		int64_t i = shi > slo ? find_free(r, slo, shi, cursor, skip_named) : -1;
		if (i >= 0)
			return i;
	}
	return find_free(r, lo, hi, cursor, skip_named);
}

/* The slot for a new lease: the framed address if usable; else from the
 * pool the session's "pool" attribute names (an unknown name is refused,
 * not silently widened), else from the pool named like its group, else
 * from the default pool. */
static int64_t choose_slot(struct routing *r, const struct wg_session *s)
{
	int64_t i = framed_slot(r, s);
	if (i >= 0)
		return i;
	const char *asked = r->host->session_get(s, WG_SESS_ATTR_PREFIX WG_ATTR_POOL);
	struct named_pool *p = pool_named(r, asked);
	if (asked && *asked && !p) {
		r->host->log(s, WG_LOG_WARN, "no pool named \"%s\" (see routing-static's pools); no address", asked);
		return -1;
	}
	if (!p)
		p = pool_named(r, r->host->session_get(s, WG_SESS_GROUP));
	if (p) {
		i = find_free_shared(r, p->lo, p->hi, &p->cursor, false);
		if (i < 0)
			r->host->log(s, WG_LOG_WARN, "pool %s is exhausted", p->name);
		return i;
	}
	/* The default pool stops where the IPv6 host numbers do. */
	uint64_t hi = r->have6 && r->limit6 && r->limit6 < r->size4 ? r->limit6 : r->size4;
	i = find_free_shared(r, 0, hi, &r->cursor, true);
	if (i < 0 && hi < r->size4)
		r->host->log(s, WG_LOG_WARN, "routing-static: no address: ipv6-network %s has no free host number left",
			     r->net6_text);
	return i;
}

static int lease(void *state, const struct wg_session *s, struct wg_tunnel_config *tc)
{
	struct routing *r = state;
	char err[256];

	if (r->leased + 3 >= r->size4)
		return -EADDRNOTAVAIL;
	int64_t slot = choose_slot(r, s);
	if (slot < 0)
		return -EADDRNOTAVAIL;
	uint64_t i = (uint64_t)slot;
	if (r->have6 && r->limit6 && i >= r->limit6) {
		/* A framed address or named pool beyond the IPv6 host part: its
		 * host number would spill into the network bits. */
		r->host->log(s, WG_LOG_WARN,
			     "routing-static: no address: slot %llu of %s has no IPv6 host number in %s (%llu of them)",
			     (unsigned long long)i, r->net4_text, r->net6_text, (unsigned long long)r->limit6);
		return -EADDRNOTAVAIL;
	}
	mark(r, i, true);
	r->leased++;

	struct in_addr a = {.s_addr = htonl(r->base4 + (uint32_t)i)};
	inet_ntop(AF_INET, &a, tc->addr4, sizeof(tc->addr4));
	a.s_addr = htonl(r->prefix4 ? ~0u << (32 - r->prefix4) : 0);
	inet_ntop(AF_INET, &a, tc->netmask4, sizeof(tc->netmask4));
	if (r->have6) {
		struct in6_addr a6 = r->base6;
		uint64_t n = i;
		for (int k = 15; k >= 8 && n; k--, n >>= 8)
			a6.s6_addr[k] |= (uint8_t)(n & 0xff);
		inet_ntop(AF_INET6, &a6, tc->addr6, sizeof(tc->addr6));
		tc->prefix6 = r->prefix6;
	}
	return fill_pushed(r, tc, err, sizeof(err));
}

static void release(void *state, const struct wg_session *s, const struct wg_tunnel_config *tc)
{
	struct routing *r = state;
	struct in_addr a;

	(void)s;
	if (!tc->addr4[0] || inet_pton(AF_INET, tc->addr4, &a) != 1)
		return;
	uint64_t i = (uint64_t)(ntohl(a.s_addr) - r->base4);
	if (i < 2 || i >= r->size4 - 1 || !is_marked(r, i))
		return; /* not ours, or released twice: never free reserved slots */
	mark(r, i, false);
	r->leased--;
}

static int init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err, size_t errlen)
{
	struct routing *r = calloc(1, sizeof(*r));
	struct wg_tunnel_config *probe;
	const char *net6 = host->config_string(cfg, "ipv6-network");
	int rc;

	if (!r)
		return -ENOMEM;
	r->host = host;
	r->cfg = cfg;
	r->worker = 0;
	r->workers = 1;
	if (WG_HOST_HAS(host, worker_slot))
		host->worker_slot(&r->worker, &r->workers);
	if (r->workers == 0 || r->worker >= r->workers)
		r->worker = 0, r->workers = 1;
	rc = setup_pool4(r, host->config_string(cfg, "ipv4-network"), err, errlen);
	if (!rc)
		rc = setup_named_pools(r, err, errlen);
	if (!rc && net6 && *net6)
		rc = setup_pool6(r, net6, err, errlen);
	probe = calloc(1, sizeof(*probe));
	if (!rc)
		rc = probe ? fill_pushed(r, probe, err, errlen) : -ENOMEM;
	free(probe);
	if (rc < 0) {
		free(r->bitmap);
		free(r->in_named);
		free(r->pools);
		free(r);
		return rc;
	}
	*state = r;
	return 0;
}

static void fini(void *state)
{
	struct routing *r = state;

	free(r->bitmap);
	free(r->in_named);
	free(r->pools);
	free(r);
}

static const struct wg_routing_ops ops = {
	.struct_size = sizeof(struct wg_routing_ops),
	.networks = networks,
	.lease = lease,
	.release = release,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "routing-static",
	.version = "0.1.0",
	.description = "IPv4/IPv6 address pools, split routes and DNS from conf.d",
	.kind = WG_PLUGIN_ROUTING,
	.options = options,
	.init = init,
	.fini = fini,
	.ops = &ops,
};
