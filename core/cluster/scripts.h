/* The Lua scripts the nodes run in Redis for the shared address pool
 * (docs/cluster.md, "Addresses") and the shared failure counts ("Bans").
 * Redis runs a script whole, with no other command in between: that is
 * what makes a claim atomic across nodes. Kept apart so that the unit tests
 * (test_cluster_lease.c, test_cluster_failures.c) run the very same text
 * against a real redis-server. */
#ifndef WG_CLUSTER_SCRIPTS_H
#define WG_CLUSTER_SCRIPTS_H

/* KEYS: the lease keys of one session's addresses; ARGV[1]: the session's
 * cookie hash, ARGV[2]: the TTL in seconds, ARGV[3] (optional): "renew" to
 * renew only, never create. Returns 0 when every key is now the session's
 * (claimed, or renewed), else the 1-based index of the first key another
 * session holds, or minus the index of the first missing key in "renew"
 * mode, and then writes nothing. */
extern const char wg_cluster_claim_script[];

/* KEYS[1]: the session record, KEYS[2..]: its lease keys; ARGV[1]: a node
 * name, or "" for an unconditional end; ARGV[2]: the cookie hash. With a
 * node name, nothing happens unless the record names that node. Then the
 * record goes, and each lease key that still holds the hash. Returns 1 when
 * the record was ended, 0 when it names another node (or none). */
extern const char wg_cluster_end_script[];

/* KEYS[1]: an address's shared failure count (failures.c); ARGV[1]: the
 * counting window in seconds. Adds one and returns the count; the first
 * failure of a window starts the key's TTL, later ones leave it, so the
 * count lapses ban-window after the window's first failure, as the local
 * ban table's does. */
extern const char wg_cluster_failure_script[];

/* KEYS[1]: the set of members ("<prefix>nodes"); ARGV[1]: the caller's
 * member name; ARGV[2]: the key prefix; ARGV[3]: the caller's node when it
 * runs several workers ("NODE" of "NODE/wI", cluster/member.h), or "". Sums
 * the per-user counts ("<prefix>n:<member>") of every member but the caller
 * and the other workers "NODE/w<digits>" of its node (the workers of one
 * node share their local counts already), removes members whose hash lapsed from the set, and
 * returns user, sum, user, sum... (sums above 0 only). */
extern const char wg_cluster_count_script[];

#endif
