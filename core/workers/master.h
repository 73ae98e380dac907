/* The server as several worker processes (server option "workers" > 1).
 *
 * Why processes and not threads: every held session is a TLS socket, and a
 * process can have only RLIMIT_NOFILE descriptors. Processes multiply that
 * limit, and share nothing, so a crash or a leak stays in one worker.
 *
 * The master, root, makes what the workers share before forking them: one
 * TCP listener and one UDP socket per worker in SO_REUSEPORT groups, and the
 * BPF maps and programs that steer clients and VPN addresses (steer.h). It
 * forks the workers one at a time (worker 0 creates the TUN device, each
 * next one attaches a queue), then supervises: signals are passed on, a
 * worker that dies stops the server (its sessions are gone; the service
 * manager restarts the whole), and the control socket is answered by asking
 * every worker and merging the answers (control_merge.h). */
#ifndef WG_MASTER_H
#define WG_MASTER_H

#include "config/config.h"

/* Runs the server as conf's "workers" processes until it is stopped. Takes
 * ownership of conf. Returns the process exit status. */
int wg_master_run(struct wg_conf *conf);

#endif
