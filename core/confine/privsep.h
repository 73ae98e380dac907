#ifndef WG_PRIVSEP_H
#define WG_PRIVSEP_H
/* The privileged helper: a small root process forked after the plugins'
 * init and before the TLS private key is read (so it never holds the key)
 * and before the server drops its privileges, answering a few
 * length-checked requests over a socketpair (messages in privsep_proto.h).
 * It closes every descriptor but the socketpair and stdio, so it holds no
 * network socket and no TLS state; its memory is a copy of the server's at
 * the fork (configuration, plugin state such as a RADIUS secret), but it
 * runs no plugin code. It does only:
 *   - OPEN_APPEND: reopen a file for appending (log rotation), only paths
 *     that were opened through wg_priv_open_append() before the fork, never
 *     through a symlink (O_NOFOLLOW), only regular files;
 *   - PAM_AUTH: one pam_authenticate + pam_acct_mgmt (pam_unix needs root to
 *     read /etc/shadow, and its setgid helper unix_chkpwd cannot gain
 *     privileges under PR_SET_NO_NEW_PRIVS), only for the PAM services
 *     pinned with wg_priv_pam_pin() before the fork;
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

/* Opens path O_WRONLY|O_APPEND|O_CREAT, mode 0640, refusing a symlink as
 * the last component (-ELOOP) and anything but a regular file (-EINVAL).
 * Before the helper exists the path is opened directly and added to the
 * helper's allow-list; after, the helper opens it (allowed paths only).
 * Returns an fd or -errno. */
int wg_priv_open_append(const char *path);
/* Returns 0 (authenticated and account valid), 1 (denied; msg says why) or
 * -errno. */
int wg_priv_pam_auth(const char *service, const char *user, const char *password, char *msg, size_t msglen);
/* Before the helper is forked: allows PAM_AUTH for service (a file name of
 * /etc/pam.d). 0 (also for a service already pinned), -EINVAL, -ENOSPC, or
 * -EPERM once the helper runs. */
int wg_priv_pam_pin(const char *service);
/* Round trip to the helper; 0 when it answers (or is not running). */
int wg_priv_ping(void);

/* In-process PAM conversation (privsep_pam.c); used by the helper and when
 * there is no helper. */
int wg_pam_check(const char *service, const char *user, const char *password, char *msg, size_t msglen);

#endif
