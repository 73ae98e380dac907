/* What a worker process is given by the master when the server runs as
 * several processes (server option "workers"; see master.h and steer.h). A
 * single-process server has no such record: index 0 of 1. */
#ifndef WG_WORKER_H
#define WG_WORKER_H

struct wg_steer;
struct wg_user_count;
struct wg_period_quota;

struct wg_worker {
	unsigned index, count;
	int listen_fd;                /* this worker's SO_REUSEPORT TCP listener */
	int udp_fd;                   /* its SO_REUSEPORT UDP socket, -1 when DTLS is off */
	const struct wg_steer *steer; /* the shared address -> worker maps */
	struct wg_user_count *user_count; /* sessions per user, shared by all workers */
	struct wg_period_quota *period_quota; /* bytes per user and period, shared by all workers */
};

/* The control socket a worker serves: the master answers on `path` itself
 * and asks each worker on "<path>.w<index>". */
#define WG_WORKER_CTL_SUFFIX ".w"

#endif
