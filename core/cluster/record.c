/* Session records in and out of Redis hashes (record.h). */
#include "cluster/record.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wg_cluster_record_free(struct wg_cluster_record *r)
{
	for (unsigned i = 0; i < r->n_groups; i++)
		free(r->groups[i]);
	for (unsigned i = 0; i < r->n_attrs; i++) {
		free(r->attr_key[i]);
		free(r->attr_value[i]);
	}
	free(r->pushed);
	memset(r, 0, sizeof(*r));
}

static bool is_field(const char *item, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(item, name, len) == 0;
}

/* A printable value (no control characters, no NUL) of at most max-1 bytes,
 * copied with its NUL into out. */
static bool copy_text(char *out, size_t max, const char *v, size_t len)
{
	if (len >= max)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return false;
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

static char *dup_text(const char *v, size_t len)
{
	char tmp[WG_CLUSTER_MAX_VALUE];

	return copy_text(tmp, sizeof(tmp), v, len) ? strdup(tmp) : NULL;
}

static bool parse_u32(const char *v, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t n = 0;

	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	if (n > max)
		return false;
	*out = (uint32_t)n;
	return true;
}

/* "g.N" / "a.N" with N below max: the index, else -1. */
static int indexed(const char *item, size_t len, char kind, unsigned max)
{
	uint32_t n;

	if (len < 3 || item[0] != kind || item[1] != '.' || !parse_u32(item + 2, len - 2, max - 1, &n))
		return -1;
	return (int)n;
}

/* The pushed lines are sent to the client as they are: only whole
 * "X-CSTP-Name: value\r\n" lines, printable, are accepted. */
static bool pushed_ok(const char *v, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (len - i < 7 || memcmp(v + i, "X-CSTP-", 7) != 0)
			return false;
		size_t colon = 0;
		for (; i < len && v[i] != '\r'; i++) {
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
				return false;
			if (v[i] == ':' && !colon)
				colon = i;
		}
		if (!colon || len - i < 2 || v[i + 1] != '\n')
			return false;
		i += 2;
	}
	return true;
}

static bool addr_ok(int af, const char *text, bool allow_prefix)
{
	char tmp[64];
	uint8_t buf[16];
	char *slash;

	snprintf(tmp, sizeof(tmp), "%s", text);
	slash = strchr(tmp, '/');
	if (slash) {
		uint32_t p;
		if (!allow_prefix || !parse_u32(slash + 1, strlen(slash + 1), 128, &p))
			return false;
		*slash = '\0';
	}
	return inet_pton(af, tmp, buf) == 1;
}

#define FAIL(...)                                       \
	do {                                            \
		snprintf(err, errlen, __VA_ARGS__);     \
		goto fail;                              \
	} while (0)

int wg_cluster_record_parse(const char *const *items, const size_t *lens, size_t n, struct wg_cluster_record *r,
			    char *err, size_t errlen)
{
	bool version = false, have_groups[WG_CLUSTER_MAX_GROUPS] = {false};
	bool have_attrs[WG_CLUSTER_MAX_ATTRS] = {false};
	char *groups[WG_CLUSTER_MAX_GROUPS] = {NULL};
	char *akey[WG_CLUSTER_MAX_ATTRS] = {NULL}, *aval[WG_CLUSTER_MAX_ATTRS] = {NULL};
	int64_t created = 0;

	memset(r, 0, sizeof(*r));
	if (n == 0)
		FAIL("no record");
	if (n % 2 || n / 2 > WG_CLUSTER_MAX_FIELDS)
		FAIL("malformed record (%zu items)", n);
	for (size_t i = 0; i < n; i += 2) {
		const char *f = items[i], *v = items[i + 1];
		size_t fl = lens[i], vl = lens[i + 1];
		int ix;
		bool ok = true;

		if (is_field(f, fl, "v")) {
			version = vl == strlen(WG_CLUSTER_RECORD_VERSION) && memcmp(v, WG_CLUSTER_RECORD_VERSION, vl) == 0;
			if (!version)
				FAIL("record version %.*s is not %s", (int)(vl < 16 ? vl : 16), v, WG_CLUSTER_RECORD_VERSION);
		} else if (is_field(f, fl, "user"))
			ok = vl > 0 && copy_text(r->user, sizeof(r->user), v, vl);
		else if (is_field(f, fl, "group"))
			ok = copy_text(r->group, sizeof(r->group), v, vl);
		else if (is_field(f, fl, "node"))
			ok = copy_text(r->node, sizeof(r->node), v, vl);
		else if (is_field(f, fl, "client"))
			ok = copy_text(r->client, sizeof(r->client), v, vl);
		else if (is_field(f, fl, "auth"))
			ok = copy_text(r->auth, sizeof(r->auth), v, vl);
		else if (is_field(f, fl, "addr4"))
			ok = copy_text(r->addr4, sizeof(r->addr4), v, vl) && (!vl || addr_ok(AF_INET, r->addr4, false));
		else if (is_field(f, fl, "mask4"))
			ok = copy_text(r->mask4, sizeof(r->mask4), v, vl) && (!vl || addr_ok(AF_INET, r->mask4, false));
		else if (is_field(f, fl, "addr6"))
			ok = copy_text(r->addr6, sizeof(r->addr6), v, vl) && (!vl || addr_ok(AF_INET6, r->addr6, true));
		else if (is_field(f, fl, "prefix6"))
			ok = parse_u32(v, vl, 128, &r->prefix6);
		else if (is_field(f, fl, "mtu"))
			ok = parse_u32(v, vl, 65535, &r->mtu) && r->mtu >= 576;
		else if (is_field(f, fl, "dpd"))
			ok = parse_u32(v, vl, 86400, &r->dpd);
		else if (is_field(f, fl, "keepalive"))
			ok = parse_u32(v, vl, 86400, &r->keepalive);
		else if (is_field(f, fl, "idle"))
			ok = parse_u32(v, vl, 86400u * 365, &r->idle);
		else if (is_field(f, fl, "stimeout"))
			ok = parse_u32(v, vl, 86400u * 365, &r->stimeout);
		else if (is_field(f, fl, "rate"))
			ok = parse_u32(v, vl, 100000000, &r->rate);
		else if (is_field(f, fl, "created")) {
			uint32_t c;
			ok = parse_u32(v, vl, UINT32_MAX, &c);
			created = c;
		} else if (is_field(f, fl, "pushed")) {
			ok = vl < WG_CLUSTER_MAX_PUSHED && pushed_ok(v, vl) && !r->pushed && (r->pushed = malloc(vl + 1));
			if (ok) {
				memcpy(r->pushed, v, vl);
				r->pushed[vl] = '\0';
			}
		} else if ((ix = indexed(f, fl, 'g', WG_CLUSTER_MAX_GROUPS)) >= 0) {
			ok = !have_groups[ix] && vl > 0 && (groups[ix] = dup_text(v, vl)) != NULL;
			have_groups[ix] = true;
		} else if ((ix = indexed(f, fl, 'a', WG_CLUSTER_MAX_ATTRS)) >= 0) {
			/* "key=value": the key has no '=', the value may. */
			const char *eq = memchr(v, '=', vl);
			ok = !have_attrs[ix] && eq && eq > v && (akey[ix] = dup_text(v, (size_t)(eq - v))) != NULL &&
			     (aval[ix] = dup_text(eq + 1, vl - (size_t)(eq - v) - 1)) != NULL;
			have_attrs[ix] = true;
		}
		/* Other fields: a later version 1 writer's additions, ignored. */
		if (!ok)
			FAIL("bad field %.*s", (int)(fl < 32 ? fl : 32), f);
	}
	if (!version)
		FAIL("record has no version");
	if (!r->user[0])
		FAIL("record has no user");
	if (!r->pushed)
		FAIL("record has no tunnel configuration");
	if (!r->addr4[0] && !r->addr6[0])
		FAIL("record has no address");
	if (!r->mtu)
		FAIL("record has no MTU");
	/* Groups and attributes are kept in index order, without gaps. */
	for (unsigned i = 0; i < WG_CLUSTER_MAX_GROUPS; i++) {
		if (!groups[i])
			continue;
		r->groups[r->n_groups++] = groups[i];
		groups[i] = NULL;
	}
	for (unsigned i = 0; i < WG_CLUSTER_MAX_ATTRS; i++) {
		if (!akey[i])
			continue;
		r->attr_key[r->n_attrs] = akey[i];
		r->attr_value[r->n_attrs++] = aval[i];
		akey[i] = aval[i] = NULL;
	}
	r->created = created;
	return 0;
fail:
	for (unsigned i = 0; i < WG_CLUSTER_MAX_GROUPS; i++)
		free(groups[i]);
	for (unsigned i = 0; i < WG_CLUSTER_MAX_ATTRS; i++) {
		free(akey[i]);
		free(aval[i]);
	}
	wg_cluster_record_free(r);
	return -1;
}

unsigned wg_cluster_parse_ban(const char *addr, size_t alen, const char *until, size_t ulen, int64_t now, char *out,
			      size_t outlen)
{
	uint32_t end;

	/* Redis writes scores as integers when they are ("1764800000"). */
	if (!copy_text(out, outlen, addr, alen) || !alen || !parse_u32(until, ulen, UINT32_MAX, &end) ||
	    (int64_t)end <= now || (int64_t)end - now > 86400LL * 365)
		return 0;
	return (unsigned)((int64_t)end - now);
}

unsigned wg_cluster_parse_count(const char *user, size_t ulen, const char *count, size_t clen, char *out,
				size_t outlen)
{
	uint32_t n;

	if (!ulen || !copy_text(out, outlen, user, ulen) || !parse_u32(count, clen, 1000000, &n))
		return 0;
	return n;
}

int wg_cluster_argv_add(struct wg_cluster_argv *a, const char *s, size_t len)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 32;
		char **v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v;
		size_t *l = realloc(a->len, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		a->len = l;
		a->cap = cap;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, s, len);
	copy[len] = '\0';
	a->v[a->n] = copy;
	a->len[a->n++] = len;
	return 0;
}

int wg_cluster_argv_addf(struct wg_cluster_argv *a, const char *fmt, ...)
{
	char buf[WG_CLUSTER_MAX_VALUE * 2 + 16];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -E2BIG;
	return wg_cluster_argv_add(a, buf, (size_t)n);
}

void wg_cluster_argv_free(struct wg_cluster_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	free(a->len);
	memset(a, 0, sizeof(*a));
}

int wg_cluster_record_encode(const struct wg_cluster_record *r, struct wg_cluster_argv *out)
{
	int rc = 0;

#define PAIR(name, ...) (rc = rc ? rc : wg_cluster_argv_addf(out, "%s", name)) ? rc : (rc = wg_cluster_argv_addf(out, __VA_ARGS__))
	PAIR("v", "%s", WG_CLUSTER_RECORD_VERSION);
	PAIR("user", "%s", r->user);
	PAIR("group", "%s", r->group);
	PAIR("node", "%s", r->node);
	PAIR("client", "%s", r->client);
	if (r->auth[0])
		PAIR("auth", "%s", r->auth);
	PAIR("created", "%lld", (long long)r->created);
	PAIR("addr4", "%s", r->addr4);
	PAIR("mask4", "%s", r->mask4);
	PAIR("addr6", "%s", r->addr6);
	PAIR("prefix6", "%u", r->prefix6);
	PAIR("mtu", "%u", r->mtu);
	PAIR("dpd", "%u", r->dpd);
	PAIR("keepalive", "%u", r->keepalive);
	PAIR("idle", "%u", r->idle);
	PAIR("stimeout", "%u", r->stimeout);
	PAIR("rate", "%u", r->rate);
	/* A group or attribute the record could not carry back (too long, a key
	 * with '=') is left out rather than failing the whole record; indexes
	 * may then have gaps, which parsing accepts. */
	for (unsigned i = 0; i < r->n_groups && i < WG_CLUSTER_MAX_GROUPS; i++) {
		char f[16];
		if (strlen(r->groups[i]) >= WG_CLUSTER_MAX_VALUE)
			continue;
		snprintf(f, sizeof(f), "g.%u", i);
		PAIR(f, "%s", r->groups[i]);
	}
	for (unsigned i = 0; i < r->n_attrs && i < WG_CLUSTER_MAX_ATTRS; i++) {
		char f[16];
		if (!*r->attr_key[i] || strchr(r->attr_key[i], '=') || strlen(r->attr_key[i]) >= WG_CLUSTER_MAX_VALUE ||
		    strlen(r->attr_value[i]) >= WG_CLUSTER_MAX_VALUE)
			continue;
		snprintf(f, sizeof(f), "a.%u", i);
		PAIR(f, "%s=%s", r->attr_key[i], r->attr_value[i]);
	}
#undef PAIR
	if (!rc)
		rc = wg_cluster_argv_add(out, "pushed", 6);
	if (!rc)
		rc = wg_cluster_argv_add(out, r->pushed ? r->pushed : "", r->pushed ? strlen(r->pushed) : 0);
	return rc;
}
