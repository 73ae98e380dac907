/* A cluster member's name. Each worker process of a node is a member of its
 * own ("NODE/wI" with several workers, plain "NODE" with one): it holds its
 * own sessions, so the session records, per-user count hashes and the list
 * of members in Redis name the worker that holds a session, and a
 * reconnect that lands on another worker of the same node is a move between
 * members like one between nodes (docs/cluster.md). Pure functions: the
 * server and wolfguardctl share them. */
#ifndef WG_CLUSTER_MEMBER_H
#define WG_CLUSTER_MEMBER_H

#include <stdbool.h>
#include <stddef.h>

/* The member name of worker `index` of `count` on node `node`, into out
 * (the node name shortened if it must be, so the suffix always fits).
 * 0, or -1 when out is too small for even "X/w99". */
int wg_cluster_member_name(const char *node, unsigned index, unsigned count, char *out, size_t len);

/* The node of a worker's member name ("vpn-a" of "vpn-a/w1"), whose other
 * workers are the members "vpn-a/w<digits>"; "" for a node with one worker
 * (no other member shares it). 0, or -1 when out is too small. */
int wg_cluster_member_workers_node(const char *member, char *out, size_t len);

/* The length of the node part of a member name: "vpn-a/w3" -> 5, "vpn-a"
 * -> 5 (a member name ending in "/w" and digits is a worker's). */
size_t wg_cluster_member_node_len(const char *member);

#endif
