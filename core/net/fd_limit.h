/* Raising the open-file limit so that one process can hold 100K sessions
 * (a TLS socket each, plus DTLS sockets when the links are connected). */
#ifndef WG_FD_LIMIT_H
#define WG_FD_LIMIT_H

/* Raises RLIMIT_NOFILE towards `want`: the soft limit up to the hard one,
 * and, with the privilege to, the hard one up to the kernel's nr_open.
 * Returns the soft limit now in force. */
unsigned long wg_fd_limit_raise(unsigned long want);

#endif
