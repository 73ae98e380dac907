/* vpnc-script environment (see script_env.h). The names and formats are
 * those openconnect documents for its scripts: lists of DNS servers are
 * space-separated, CISCO_SPLIT_DNS is comma-separated, each split route is
 * ADDR, MASK, MASKLEN and PROTOCOL/SPORT/DPORT (always 0), IPv6 routes go
 * to CISCO_IPV6_SPLIT_*. */
#include "script_env.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(struct wgc_env *e, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add(struct wgc_env *e, const char *name, const char *fmt, ...)
{
	char v[1024];
	va_list ap;
	size_t len;
	char *s;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 32;
		char **nv = realloc(e->vars, cap * sizeof(*nv));
		if (!nv)
			return -1;
		e->vars = nv;
		e->cap = cap;
	}
	len = strlen(name) + 1 + strlen(v) + 1;
	if (!(s = malloc(len)))
		return -1;
	snprintf(s, len, "%s=%s", name, v);
	e->vars[e->n++] = s;
	e->vars[e->n] = NULL;
	return 0;
}

static void mask_of(unsigned len, char *out, size_t outlen)
{
	uint32_t m = len ? htonl(0xffffffffu << (32 - len)) : 0;
	struct in_addr a = {m};
	inet_ntop(AF_INET, &a, out, (socklen_t)outlen);
}

static int routes(struct wgc_env *e, const char *kind, const struct wgp_route *r, unsigned n)
{
	unsigned n4 = 0, n6 = 0;
	char name[64], mask[16];
	int rc = 0;

	for (unsigned i = 0; i < n; i++) {
		if (r[i].ipv6) {
			snprintf(name, sizeof(name), "CISCO_IPV6_SPLIT_%s_%u_ADDR", kind, n6);
			rc |= add(e, name, "%s", r[i].addr);
			snprintf(name, sizeof(name), "CISCO_IPV6_SPLIT_%s_%u_MASKLEN", kind, n6);
			rc |= add(e, name, "%u", r[i].masklen);
			n6++;
			continue;
		}
		mask_of(r[i].masklen, mask, sizeof(mask));
		snprintf(name, sizeof(name), "CISCO_SPLIT_%s_%u_ADDR", kind, n4);
		rc |= add(e, name, "%s", r[i].addr);
		snprintf(name, sizeof(name), "CISCO_SPLIT_%s_%u_MASK", kind, n4);
		rc |= add(e, name, "%s", mask);
		snprintf(name, sizeof(name), "CISCO_SPLIT_%s_%u_MASKLEN", kind, n4);
		rc |= add(e, name, "%u", r[i].masklen);
		snprintf(name, sizeof(name), "CISCO_SPLIT_%s_%u_PROTOCOL", kind, n4);
		rc |= add(e, name, "0");
		snprintf(name, sizeof(name), "CISCO_SPLIT_%s_%u_SPORT", kind, n4);
		rc |= add(e, name, "0");
		snprintf(name, sizeof(name), "CISCO_SPLIT_%s_%u_DPORT", kind, n4);
		rc |= add(e, name, "0");
		n4++;
	}
	if (n4) {
		snprintf(name, sizeof(name), "CISCO_SPLIT_%s", kind);
		rc |= add(e, name, "%u", n4);
	}
	if (n6) {
		snprintf(name, sizeof(name), "CISCO_IPV6_SPLIT_%s", kind);
		rc |= add(e, name, "%u", n6);
	}
	return rc;
}

/* A space- (or sep-) separated list of the entries of a string array. */
static void join(char *out, size_t outlen, const char *sep, const char *items, size_t stride, unsigned n, int want6)
{
	size_t len = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		const char *s = items + i * stride;
		if (want6 >= 0 && (strchr(s, ':') != NULL) != want6)
			continue;
		int k = snprintf(out + len, outlen - len, "%s%s", len ? sep : "", s);
		if (k < 0 || (size_t)k >= outlen - len)
			break;
		len += (size_t)k;
	}
}

int wgc_env_build(const struct wgc_env_in *in, struct wgc_env *env)
{
	const struct wgp_tunnel_config *tc = in->tc;
	char list[1024];
	int rc = 0;

	memset(env, 0, sizeof(*env));
	rc |= add(env, "reason", "%s", in->reason);
	rc |= add(env, "VPNGATEWAY", "%s", in->gateway);
	rc |= add(env, "VPNPID", "%ld", in->pid);
	rc |= add(env, "TUNDEV", "%s", in->tundev);
	rc |= add(env, "LOG_LEVEL", "%d", in->log_level);
	if (tc) {
		rc |= add(env, "IDLE_TIMEOUT", "%u", tc->idle_timeout_s);
		if (tc->mtu)
			rc |= add(env, "INTERNAL_IP4_MTU", "%u", tc->mtu);
		if (tc->address[0]) {
			rc |= add(env, "INTERNAL_IP4_ADDRESS", "%s", tc->address);
			if (tc->netmask[0]) {
				struct in_addr a, m;
				int ml = wgp_masklen(tc->netmask);
				char net[16];
				inet_pton(AF_INET, tc->address, &a);
				inet_pton(AF_INET, tc->netmask, &m);
				a.s_addr &= m.s_addr;
				inet_ntop(AF_INET, &a, net, sizeof(net));
				rc |= add(env, "INTERNAL_IP4_NETMASK", "%s", tc->netmask);
				rc |= add(env, "INTERNAL_IP4_NETMASKLEN", "%d", ml);
				rc |= add(env, "INTERNAL_IP4_NETADDR", "%s", net);
			}
		}
		join(list, sizeof(list), " ", tc->dns[0], sizeof(tc->dns[0]), tc->n_dns, 0);
		if (list[0])
			rc |= add(env, "INTERNAL_IP4_DNS", "%s", list);
		join(list, sizeof(list), " ", tc->nbns[0], sizeof(tc->nbns[0]), tc->n_nbns, 0);
		if (list[0])
			rc |= add(env, "INTERNAL_IP4_NBNS", "%s", list);
		if (tc->address6[0]) {
			char a6[50];
			snprintf(a6, sizeof(a6), "%s", tc->address6);
			char *slash = strchr(a6, '/');
			if (slash)
				*slash = '\0';
			rc |= add(env, "INTERNAL_IP6_ADDRESS", "%s", a6);
			rc |= add(env, "INTERNAL_IP6_NETMASK", "%s", tc->address6);
		}
		join(list, sizeof(list), " ", tc->dns[0], sizeof(tc->dns[0]), tc->n_dns, 1);
		if (list[0])
			rc |= add(env, "INTERNAL_IP6_DNS", "%s", list);
		if (tc->default_domain[0])
			rc |= add(env, "CISCO_DEF_DOMAIN", "%s", tc->default_domain);
		if (tc->banner[0])
			rc |= add(env, "CISCO_BANNER", "%s", tc->banner);
		join(list, sizeof(list), ",", tc->split_dns[0], sizeof(tc->split_dns[0]), tc->n_split_dns, -1);
		if (list[0])
			rc |= add(env, "CISCO_SPLIT_DNS", "%s", list);
		rc |= routes(env, "INC", tc->include, tc->n_include);
		rc |= routes(env, "EXC", tc->exclude, tc->n_exclude);
	}
	if (rc) {
		wgc_env_free(env);
		return -1;
	}
	return 0;
}

const char *wgc_env_get(const struct wgc_env *env, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->vars[i], name, nl) == 0 && env->vars[i][nl] == '=')
			return env->vars[i] + nl + 1;
	return NULL;
}

void wgc_env_free(struct wgc_env *env)
{
	for (size_t i = 0; i < env->n; i++)
		free(env->vars[i]);
	free(env->vars);
	memset(env, 0, sizeof(*env));
}
