/* The session record a node keeps in Redis for every session it holds, so
 * that another node can take the session over when its client reconnects
 * there (docs/cluster.md). Pure: no I/O, no event loop, no session.c; the
 * record travels as the field/value pairs of one Redis hash.
 *
 * Parsing is where Redis's content re-enters the server, so it trusts
 * nothing: every field is bounded, numbers are range-checked, addresses must
 * parse, and the pushed header lines must be X-CSTP-* lines with no stray
 * CR or LF (they are sent to the client as they are). A record that fails
 * any check is refused whole. Fuzzed by tests/fuzz/fuzz_cluster_record.c. */
#ifndef WG_CLUSTER_RECORD_H
#define WG_CLUSTER_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define WG_CLUSTER_RECORD_VERSION "1"
#define WG_CLUSTER_MAX_GROUPS 16  /* WG_MAX_GROUPS */
#define WG_CLUSTER_MAX_ATTRS 32   /* WG_MAX_ATTRS */
#define WG_CLUSTER_MAX_VALUE 512  /* a group name, an attribute */
#define WG_CLUSTER_MAX_PUSHED 16384
/* Fields a record may have (each pair counts once): a reply with more is refused. */
#define WG_CLUSTER_MAX_FIELDS 96

struct wg_cluster_record {
	char user[128], group[128];
	char *groups[WG_CLUSTER_MAX_GROUPS]; /* owned */
	unsigned n_groups;
	char *attr_key[WG_CLUSTER_MAX_ATTRS], *attr_value[WG_CLUSTER_MAX_ATTRS]; /* owned */
	unsigned n_attrs;
	char addr4[16], mask4[16], addr6[48];
	uint32_t prefix6, mtu, dpd, keepalive, idle, stimeout, rate;
	char *pushed; /* owned; may be NULL only before parse succeeds */
	char node[64], client[64];
	/* The auth plugins that logged the session in, by name, comma
	 * separated ("auth-radius"): the adopting node's instances of the same
	 * names do its accounting (optional field, "" when absent). */
	char auth[256];
	int64_t created;
};

void wg_cluster_record_free(struct wg_cluster_record *r);

/* Fills r from the flat field/value list of HGETALL (items[0] field,
 * items[1] value, ...; lens give each item's length, items need not be
 * NUL-terminated). Returns 0, or -1 with a reason in err; on -1 r holds
 * nothing to free. n == 0 (no such key) is -1 with "no record". */
int wg_cluster_record_parse(const char *const *items, const size_t *lens, size_t n, struct wg_cluster_record *r,
			    char *err, size_t errlen);

/* The record as field/value strings for HSET, appended to a list the
 * caller frees with wg_cluster_argv_free. */
struct wg_cluster_argv {
	char **v;
	size_t *len;
	size_t n, cap;
};
int wg_cluster_argv_add(struct wg_cluster_argv *a, const char *s, size_t len);
int wg_cluster_argv_addf(struct wg_cluster_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wg_cluster_argv_free(struct wg_cluster_argv *a);
int wg_cluster_record_encode(const struct wg_cluster_record *r, struct wg_cluster_argv *out);

/* One entry of the shared ban set (ZRANGEBYSCORE ... WITHSCORES): the
 * address (printable, at most outlen-1 bytes; its IP syntax is checked by
 * the ban table) and its end as unix seconds. Returns the seconds left
 * after now (>= 1), or 0 when the entry is malformed or over. */
unsigned wg_cluster_parse_ban(const char *addr, size_t alen, const char *until, size_t ulen, int64_t now, char *out,
			      size_t outlen);

/* One entry of the per-user counts of the other nodes (pairs user, count):
 * the user name (printable, at most outlen-1 bytes) and the count, which
 * is returned (0 for a malformed entry; counts above 1000000 are malformed). */
unsigned wg_cluster_parse_count(const char *user, size_t ulen, const char *count, size_t clen, char *out,
				size_t outlen);

#endif
