#ifndef WG_PRIVSEP_H
#define WG_PRIVSEP_H
/* The privileged helper: a small root process forked before the server
 * drops its privileges, answering a few length-checked requests over a
 * socketpair (messages in privsep_proto.h). It holds no network socket, no
 * TLS state and no plugin; it does only:
 *   - OPEN_APPEND: reopen a file for appending (log rotation), only paths
 *     that were opened through wg_priv_open_append() before the drop;
 *   - PAM_AUTH: one pam_authenticate + pam_acct_mgmt (pam_unix needs root to
 *     read /etc/shadow, and its setgid helper unix_chkpwd cannot gain
 *     privileges under PR_SET_NO_NEW_PRIVS);
 *   - on exit of the server: unlink the control socket in its root-owned
 *     directory.
 * Without the helper (sandbox off, or before the drop) the same functions
 * do the work in-process. Calls are serialised by a mutex and may block:
 * call them from worker threads (host->run_blocking), except the log
 * reopen, which is one short round trip. */
#include <stddef.h>

/* Forks the helper. unlink_at_exit: a path the helper removes when the
 * server closes its end (NULL for none). Returns 0 or -1 with why set. */
int wg_privsep_start(const char *unlink_at_exit, char *why, size_t whylen);
/* Closes the server's end; the helper then exits. Waits for it. */
void wg_privsep_stop(void);
int wg_privsep_active(void);

/* Opens path O_WRONLY|O_APPEND|O_CREAT, mode 0640. Before the helper exists
 * the path is opened directly and added to the helper's allow-list; after,
 * the helper opens it (allowed paths only). Returns an fd or -errno. */
int wg_priv_open_append(const char *path);
/* Returns 0 (authenticated and account valid), 1 (denied; msg says why) or
 * -errno. */
int wg_priv_pam_auth(const char *service, const char *user, const char *password, char *msg, size_t msglen);
int wg_priv_pam_pin(const char *service);
/* Round trip to the helper; 0 when it answers (or is not running). */
int wg_priv_ping(void);

/* In-process PAM conversation (privsep_pam.c); used by the helper and when
 * there is no helper. */
int wg_pam_check(const char *service, const char *user, const char *password, char *msg, size_t msglen);

#endif
