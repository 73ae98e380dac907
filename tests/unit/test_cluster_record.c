/* The cluster store's pure parts: session records to and from the field
 * list of a Redis hash, and the keyed hash cookies are stored under
 * (core/cluster/record.c, key.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "cluster/key.h"
#include "cluster/record.h"

static struct wg_cluster_record sample(void)
{
	static char g0[] = "staff", g1[] = "vpn users";
	static char k0[] = "route", v0[] = "10.9.0.0/16", k1[] = "class", v1[] = "a=b";
	static char pushed[] = "X-CSTP-DNS: 203.0.113.53\r\nX-CSTP-Split-Include: 203.0.113.0/255.255.255.0\r\n";
	struct wg_cluster_record r;

	memset(&r, 0, sizeof(r));
	strcpy(r.user, "alice");
	strcpy(r.group, "staff");
	r.groups[0] = g0;
	r.groups[1] = g1;
	r.n_groups = 2;
	r.attr_key[0] = k0;
	r.attr_value[0] = v0;
	r.attr_key[1] = k1;
	r.attr_value[1] = v1;
	r.n_attrs = 2;
	strcpy(r.addr4, "10.8.0.23");
	strcpy(r.mask4, "255.255.255.0");
	strcpy(r.addr6, "fd00::17/64");
	r.prefix6 = 64;
	r.mtu = 1400;
	r.dpd = 90;
	r.keepalive = 32;
	r.idle = 1200;
	r.stimeout = 0;
	r.rate = 5000;
	r.pushed = pushed;
	strcpy(r.node, "vpn-a");
	strcpy(r.client, "198.51.100.2");
	strcpy(r.auth, "auth-radius,auth-plain");
	r.created = 1764800000;
	return r;
}

static int parse_argv(const struct wg_cluster_argv *a, struct wg_cluster_record *out, char *err, size_t errlen)
{
	return wg_cluster_record_parse((const char *const *)a->v, a->len, a->n, out, err, errlen);
}

Test(cluster_record, round_trip)
{
	struct wg_cluster_record in = sample(), out;
	struct wg_cluster_argv a = {0};
	char err[128] = "";

	cr_assert_eq(wg_cluster_record_encode(&in, &a), 0);
	cr_assert_eq(parse_argv(&a, &out, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(out.user, "alice");
	cr_assert_str_eq(out.group, "staff");
	cr_assert_eq(out.n_groups, 2);
	cr_assert_str_eq(out.groups[1], "vpn users");
	cr_assert_eq(out.n_attrs, 2);
	cr_assert_str_eq(out.attr_key[1], "class");
	cr_assert_str_eq(out.attr_value[1], "a=b", "a value may hold '='");
	cr_assert_str_eq(out.addr4, "10.8.0.23");
	cr_assert_str_eq(out.addr6, "fd00::17/64");
	cr_assert_eq(out.prefix6, 64);
	cr_assert_eq(out.mtu, 1400);
	cr_assert_eq(out.rate, 5000);
	cr_assert_str_eq(out.pushed, in.pushed);
	cr_assert_str_eq(out.node, "vpn-a");
	cr_assert_str_eq(out.auth, "auth-radius,auth-plain", "the auth plugins' names (accounting on adoption)");
	cr_assert_eq(out.created, 1764800000);
	wg_cluster_record_free(&out);
	wg_cluster_argv_free(&a);
}

/* Encodes the sample, lets fix() change the field list, parses. */
static int parse_changed(void (*fix)(struct wg_cluster_argv *a), char *err, size_t errlen)
{
	struct wg_cluster_record in = sample(), out;
	struct wg_cluster_argv a = {0};

	cr_assert_eq(wg_cluster_record_encode(&in, &a), 0);
	fix(&a);
	int rc = parse_argv(&a, &out, err, errlen);
	if (rc == 0)
		wg_cluster_record_free(&out);
	wg_cluster_argv_free(&a);
	return rc;
}

static void set_field(struct wg_cluster_argv *a, const char *field, const char *value, size_t len)
{
	for (size_t i = 0; i + 1 < a->n; i += 2) {
		if (strcmp(a->v[i], field) == 0) {
			free(a->v[i + 1]);
			a->v[i + 1] = malloc(len + 1);
			memcpy(a->v[i + 1], value, len);
			a->v[i + 1][len] = '\0';
			a->len[i + 1] = len;
			return;
		}
	}
	cr_assert_fail("no field %s", field);
}

static void wrong_version(struct wg_cluster_argv *a) { set_field(a, "v", "2", 1); }
static void no_user(struct wg_cluster_argv *a) { set_field(a, "user", "", 0); }
static void bad_addr(struct wg_cluster_argv *a) { set_field(a, "addr4", "10.8.0.300", 10); }
static void bad_addr6(struct wg_cluster_argv *a) { set_field(a, "addr6", "fd00::1/129", 11); }
static void big_mtu(struct wg_cluster_argv *a) { set_field(a, "mtu", "99999999999", 11); }
static void small_mtu(struct wg_cluster_argv *a) { set_field(a, "mtu", "100", 3); }
static void signed_num(struct wg_cluster_argv *a) { set_field(a, "dpd", "-1", 2); }
static void header_injection(struct wg_cluster_argv *a)
{
	const char *v = "X-CSTP-DNS: 1.2.3.4\r\nSet-Cookie: webvpn=x\r\n";
	set_field(a, "pushed", v, strlen(v));
}
static void bare_lf(struct wg_cluster_argv *a)
{
	const char *v = "X-CSTP-DNS: 1.2.3.4\nX-CSTP-A: b\r\n";
	set_field(a, "pushed", v, strlen(v));
}
static void unterminated(struct wg_cluster_argv *a)
{
	const char *v = "X-CSTP-DNS: 1.2.3.4";
	set_field(a, "pushed", v, strlen(v));
}
static void nul_in_user(struct wg_cluster_argv *a) { set_field(a, "user", "al\0ice", 6); }
static void control_in_group(struct wg_cluster_argv *a) { set_field(a, "g.0", "a\rb", 3); }
static void control_in_auth(struct wg_cluster_argv *a) { set_field(a, "auth", "auth-radius\n", 12); }
static void odd_count(struct wg_cluster_argv *a) { free(a->v[--a->n]); } /* its last value dropped */
static void attr_without_key(struct wg_cluster_argv *a) { set_field(a, "a.0", "=x", 2); }
static void unknown_field(struct wg_cluster_argv *a)
{
	wg_cluster_argv_add(a, "future", 6);
	wg_cluster_argv_add(a, "x", 1);
}
static void duplicate_group(struct wg_cluster_argv *a)
{
	wg_cluster_argv_add(a, "g.0", 3);
	wg_cluster_argv_add(a, "other", 5);
}
static void index_too_high(struct wg_cluster_argv *a)
{
	wg_cluster_argv_add(a, "g.16", 4);
	wg_cluster_argv_add(a, "x", 1);
}

Test(cluster_record, refuses_what_it_cannot_trust)
{
	struct {
		void (*fix)(struct wg_cluster_argv *);
		const char *name;
	} bad[] = {
		{wrong_version, "version"},   {no_user, "user"},          {bad_addr, "addr4"},
		{bad_addr6, "addr6"},         {big_mtu, "mtu"},           {small_mtu, "mtu"},
		{signed_num, "dpd"},          {header_injection, "pushed"}, {bare_lf, "pushed"},
		{unterminated, "pushed"},     {nul_in_user, "user"},      {control_in_group, "g.0"},
		{odd_count, "malformed"},     {attr_without_key, "a.0"},  {duplicate_group, "g.0"},
		{control_in_auth, "auth"},
	};
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(parse_changed(bad[i].fix, err, sizeof(err)), -1, "case %zu (%s) accepted", i, bad[i].name);
		cr_assert(strstr(err, bad[i].name) != NULL, "case %zu: reason \"%s\" does not name %s", i, err, bad[i].name);
	}
	err[0] = '\0';
	cr_assert_eq(parse_changed(unknown_field, err, sizeof(err)), 0, "a later writer's extra field: %s", err);
	cr_assert_eq(parse_changed(index_too_high, err, sizeof(err)), 0, "g.16 is not a group index: ignored (%s)", err);
}

Test(cluster_record, empty_and_oversized)
{
	struct wg_cluster_record out;
	char err[64];
	const char *items[2 * WG_CLUSTER_MAX_FIELDS + 2];
	size_t lens[2 * WG_CLUSTER_MAX_FIELDS + 2];

	cr_assert_eq(wg_cluster_record_parse(NULL, NULL, 0, &out, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "no record");
	for (size_t i = 0; i < 2 * WG_CLUSTER_MAX_FIELDS + 2; i++) {
		items[i] = "x";
		lens[i] = 1;
	}
	cr_assert_eq(wg_cluster_record_parse(items, lens, 2 * WG_CLUSTER_MAX_FIELDS + 2, &out, err, sizeof(err)), -1);
}

Test(cluster_record, ban_entries)
{
	char addr[64];

	cr_assert_eq(wg_cluster_parse_ban("198.51.100.3", 12, "1000060", 7, 1000000, addr, sizeof(addr)), 60);
	cr_assert_str_eq(addr, "198.51.100.3");
	cr_assert_eq(wg_cluster_parse_ban("198.51.100.3", 12, "1000000", 7, 1000000, addr, sizeof(addr)), 0, "over");
	cr_assert_eq(wg_cluster_parse_ban("198.51.100.3", 12, "1e9", 3, 1000000, addr, sizeof(addr)), 0, "not an integer");
	cr_assert_eq(wg_cluster_parse_ban("a\nb", 3, "1000060", 7, 1000000, addr, sizeof(addr)), 0, "control character");
	cr_assert_eq(wg_cluster_parse_ban("", 0, "1000060", 7, 1000000, addr, sizeof(addr)), 0, "empty");
}

Test(cluster_record, user_counts)
{
	char user[128];

	cr_assert_eq(wg_cluster_parse_count("alice", 5, "3", 1, user, sizeof(user)), 3);
	cr_assert_str_eq(user, "alice");
	cr_assert_eq(wg_cluster_parse_count("alice", 5, "-3", 2, user, sizeof(user)), 0);
	cr_assert_eq(wg_cluster_parse_count("alice", 5, "1000001", 7, user, sizeof(user)), 0);
	cr_assert_eq(wg_cluster_parse_count("", 0, "1", 1, user, sizeof(user)), 0);
	cr_assert_eq(wg_cluster_parse_count("a\x01", 2, "1", 1, user, sizeof(user)), 0);
}

/* RFC 4231 test case 2 (key "Jefe"), and the key's layout. */
Test(cluster_key, hmac_and_names)
{
	char hex[WG_CLUSTER_HASH_HEX], key[128];
	const char *data = "what do ya want for nothing?";

	cr_assert_eq(wg_cluster_cookie_hash((const uint8_t *)"Jefe", 4, (const uint8_t *)data, strlen(data), hex), 0);
	cr_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	cr_assert_eq(wg_cluster_session_key("wg:", hex, key, sizeof(key)), 0);
	cr_assert_str_eq(key, "wg:s:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	cr_assert_eq(wg_cluster_session_key("wg:", hex, key, 20), -1, "a key that does not fit is an error");
}
