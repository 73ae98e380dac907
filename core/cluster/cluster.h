/* The cluster store: sessions shared by several nodes through Redis, so a
 * client reconnects with its cookie to any node (docs/cluster.md). Off
 * (srv->cluster NULL, every call a no-op) unless "cluster-redis" is set.
 * Loop thread only; nothing here waits on Redis. */
#ifndef WG_CLUSTER_H
#define WG_CLUSTER_H

struct wg_server;
struct wg_session;
struct wg_conn;

/* Reads the cluster-* settings, the key and password files, and starts
 * connecting (Redis need not be up). 0 (also when off), -1 with a logged
 * reason (bad setting, unreadable key). */
int wg_cluster_start(struct wg_server *srv);
void wg_cluster_stop(struct wg_server *srv);

/* The session's tunnel is up here (a login's or an adopted session's first
 * CONNECT, and every reconnect): its record is written with this node. */
void wg_cluster_session_up(struct wg_session *s);
/* Its connection dropped: the record lives cookie-lifetime from now. */
void wg_cluster_session_detached(struct wg_session *s);
/* It ended: the record goes, so its cookie is refused on every node. When
 * it ended only because this node let go of it (its linger ran out, the
 * server stops), only a record still naming this node goes: another node
 * may have adopted it. */
void wg_cluster_session_ended(struct wg_session *s, const char *reason);

/* A ban made here (automatic or an administrator's), for every node: added
 * to the shared ban set, which every node reads every few seconds into its
 * own ban table (the accept path never waits on Redis). */
void wg_cluster_ban(struct wg_server *srv, const char *addr, unsigned seconds);
/* An administrator's unban: the address leaves the shared set (nodes that
 * already applied the ban keep it until it ends; docs/cluster.md). */
void wg_cluster_unban(struct wg_server *srv, const char *addr);

/* A failed login from addr, already counted in this node's ban table:
 * counted in Redis too ("<prefix>fail:ADDR", TTL ban-window), and when the
 * count of every node together reaches ban-failures this node bans addr,
 * here and for every node. Never waits; with Redis unavailable the local
 * count alone applies (said once per outage). */
void wg_cluster_login_failed(struct wg_server *srv, const char *addr);

/* Sessions `user` holds on the other nodes, as last read from Redis (every
 * 2 s): max-same-clients counts them too. 0 without a cluster. */
unsigned wg_cluster_user_sessions_elsewhere(struct wg_server *srv, const char *user);

/* A CONNECT whose cookie this node does not know, or whose session only
 * lingers here (no tunnel): asks Redis for the session's record and answers
 * the CONNECT later (the connection is busy meanwhile). No record: the
 * session ended (on any node) or expired, refused, and a local copy ends.
 * A record naming this node: the local session resumes. A record naming
 * another node: that node holds it now; a local copy ends (quietly) and
 * the record is adopted. Redis unavailable: a local session resumes, an
 * unknown cookie is refused with 503. Returns 0 when it took the request
 * over, -1 when the caller goes on as before (cluster off, malformed
 * cookie). */
typedef void wg_cluster_resume_fn(struct wg_conn *c, struct wg_session *s, const char *status, const char *why);
/* resume is the caller's (tunnel/ passes wg_tunnel_connect_resume: cluster/
 * sits below tunnel/ and does not call it by name): called once with the
 * session, or with NULL and the status and reason to refuse with. */
int wg_cluster_adopt(struct wg_conn *c, const char *cookie_hex, wg_cluster_resume_fn *resume);
/* The connection closes while its adoption waits: forget it. */
void wg_cluster_conn_gone(struct wg_conn *c);


struct wg_metrics;
/* The cluster's part of a metrics snapshot (whether on, Redis up). */
void wg_cluster_metrics(struct wg_server *srv, struct wg_metrics *m);

#endif
