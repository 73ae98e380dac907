/* The privileged helper's message format (strict decoding) and the helper
 * process itself: a real fork, real socketpair, real file descriptors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confine/privsep.h"
#include "confine/privsep_proto.h"

static int encode(uint8_t type, uint8_t n, const char *a, const char *b, const char *c, uint8_t *buf)
{
	struct wg_priv_request rq = {type, n, {{a, a ? strlen(a) : 0}, {b, b ? strlen(b) : 0}, {c, c ? strlen(c) : 0}}};
	return wg_priv_request_encode(&rq, buf, WG_PRIV_MSG_MAX);
}

Test(privsep_proto, round_trip)
{
	uint8_t buf[WG_PRIV_MSG_MAX];
	struct wg_priv_request rq;
	const char *why;
	int n = encode(WG_PRIV_PAM_AUTH, 3, "login", "alice", "secret", buf);
	cr_assert_gt(n, 0);
	cr_assert_eq(wg_priv_request_decode(buf, (size_t)n, &rq, &why), 0);
	cr_assert_eq(rq.type, WG_PRIV_PAM_AUTH);
	cr_assert_eq(rq.f[1].len, 5);
	cr_assert_eq(memcmp(rq.f[1].p, "alice", 5), 0);
}

Test(privsep_proto, rejects_every_malformation)
{
	uint8_t buf[WG_PRIV_MSG_MAX + 8];
	struct wg_priv_request rq;
	const char *why;
	int n = encode(WG_PRIV_OPEN_APPEND, 1, "/var/log/w.json", NULL, NULL, buf);

	cr_assert_gt(n, 0);
	for (int cut = 0; cut < n; cut++) /* every truncation */
		cr_assert_eq(wg_priv_request_decode(buf, (size_t)cut, &rq, &why), -1, "cut at %d", cut);
	buf[n] = 'x'; /* trailing byte */
	cr_assert_eq(wg_priv_request_decode(buf, (size_t)n + 1, &rq, &why), -1);
	buf[1] = 2; /* wrong field count */
	cr_assert_eq(wg_priv_request_decode(buf, (size_t)n, &rq, &why), -1);
	buf[1] = 1;
	buf[0] = 99; /* unknown type */
	cr_assert_eq(wg_priv_request_decode(buf, (size_t)n, &rq, &why), -1);
	buf[0] = WG_PRIV_OPEN_APPEND;
	buf[4] = '\0'; /* NUL inside a field */
	cr_assert_eq(wg_priv_request_decode(buf, (size_t)n, &rq, &why), -1);
	/* over the per-field limit: a 65-byte PAM service name */
	char longname[66];
	memset(longname, 's', 65);
	longname[65] = '\0';
	cr_assert_eq(encode(WG_PRIV_PAM_AUTH, 3, longname, "u", "p", buf), -1);
	buf[0] = WG_PRIV_PAM_AUTH;
	buf[1] = 3;
	buf[2] = 0;
	buf[3] = 65;
	memset(buf + 4, 's', 65);
	cr_assert_eq(wg_priv_request_decode(buf, 4 + 65, &rq, &why), -1);
	/* empty password */
	cr_assert_eq(encode(WG_PRIV_PAM_AUTH, 3, "login", "u", "", buf), -1);
}

Test(privsep_proto, reply_lengths)
{
	uint8_t buf[16 + WG_PRIV_TEXT_MAX];
	struct wg_priv_reply r = {WG_PRIV_PING, -13, "denied"}, back;
	const char *why;
	int n = wg_priv_reply_encode(&r, buf, sizeof(buf));
	cr_assert_eq(wg_priv_reply_decode(buf, (size_t)n, &back, &why), 0);
	cr_assert_eq(back.status, -13);
	cr_assert_str_eq(back.text, "denied");
	cr_assert_eq(wg_priv_reply_decode(buf, (size_t)n - 1, &back, &why), -1);
}

/* The helper: a path opened before it started may be reopened through it
 * (after a rotation), any other path is refused; a ping answers. */
Test(privsep_helper, open_append_allow_list)
{
	char dir[] = "/tmp/wg-privsep-XXXXXX", path[128], other[128], why[256];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log.json", dir);
	snprintf(other, sizeof(other), "%s/other", dir);

	int fd = wg_priv_open_append(path); /* before the helper: direct, remembered */
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(wg_privsep_start(NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert(wg_privsep_active());
	cr_assert_eq(wg_priv_ping(), 0);
	cr_assert_eq(rename(path, other), 0); /* logrotate */
	fd = wg_priv_open_append(path);
	cr_assert_geq(fd, 0, "reopen through the helper: %s", strerror(-fd));
	cr_assert_eq(write(fd, "x\n", 2), 2);
	close(fd);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 2);
	cr_assert_eq(wg_priv_open_append(other), -EPERM);
	cr_assert_eq(wg_priv_open_append("/etc/passwd"), -EPERM);
	wg_privsep_stop();
	cr_assert_not(wg_privsep_active());
	unlink(path);
	unlink(other);
	rmdir(dir);
}

/* PAM through the helper: an unknown user is denied (the "other" service
 * stack), an invalid service name never reaches PAM. */
Test(privsep_helper, pam_denies)
{
	char why[256], msg[256];
	cr_assert_eq(wg_priv_pam_pin("wolfguard-test"), 0);
	cr_assert_eq(wg_privsep_start(NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(wg_priv_pam_auth("wolfguard-test", "no-such-user-wg", "pw", msg, sizeof(msg)), 1, "%s", msg);
	cr_assert_eq(wg_priv_pam_auth("../etc/passwd", "u", "pw", msg, sizeof(msg)), -EINVAL);
	cr_assert_eq(wg_priv_pam_auth("login", "u", "", msg, sizeof(msg)), -EINVAL);
	wg_privsep_stop();
}

/* Issue 22 item 6: the helper runs PAM only for the services pinned
 * before it was forked (as OPEN_APPEND only opens paths opened before): a
 * compromised server cannot make root run another stack (su, sudo, login)
 * as an oracle. Pinning after the fork is refused too. */
Test(privsep_helper, pam_service_pinned_at_fork)
{
	char why[256], msg[256];
	cr_assert_eq(wg_priv_pam_pin("wolfguard-test"), 0);
	cr_assert_eq(wg_priv_pam_pin("../shadow"), -EINVAL);
	cr_assert_eq(wg_privsep_start(NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(wg_priv_pam_auth("login", "root", "pw", msg, sizeof(msg)), -EPERM, "%s", msg);
	cr_assert_eq(wg_priv_pam_auth("su", "root", "pw", msg, sizeof(msg)), -EPERM, "%s", msg);
	cr_assert(strstr(msg, "not configured") != NULL, "reason given: %s", msg);
	cr_assert_eq(wg_priv_pam_pin("sudo"), -EPERM, "no new pin once the helper runs");
	cr_assert_eq(wg_priv_pam_pin("wolfguard-test"), 0, "a reload naming the same service still starts");
	cr_assert_eq(wg_priv_pam_auth("sudo", "root", "pw", msg, sizeof(msg)), -EPERM);
	cr_assert_eq(wg_priv_pam_auth("wolfguard-test", "no-such-user-wg", "pw", msg, sizeof(msg)), 1, "%s", msg);
	wg_privsep_stop();
}

static void allowed_then_helper(char *dir, char *path, size_t len)
{
	char why[256];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, len, "%s/log.json", dir);
	int fd = wg_priv_open_append(path);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(wg_privsep_start(NULL, why, sizeof(why)), 0, "%s", why);
}

/* Issue 22 item 6: an allowed path replaced by a symlink (the log
 * directory is writable by the server's user, say) must not make root
 * create or append to the link's target. */
Test(privsep_helper, open_append_refuses_symlink)
{
	char dir[] = "/tmp/wg-privsep-XXXXXX", path[128], target[128];
	struct stat st;

	allowed_then_helper(dir, path, sizeof(path));
	snprintf(target, sizeof(target), "%s/victim", dir);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(symlink(target, path), 0);
	int fd = wg_priv_open_append(path);
	cr_assert_lt(fd, 0, "a symlink was followed");
	cr_assert_eq(fd, -ELOOP, "%s", strerror(-fd));
	cr_assert_neq(lstat(target, &st), 0, "the link's target was created");
	/* to an existing file: not appended to either */
	int t = open(target, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(t, 0);
	close(t);
	cr_assert_eq(wg_priv_open_append(path), -ELOOP);
	cr_assert_eq(stat(target, &st), 0);
	cr_assert_eq(st.st_size, 0);
	wg_privsep_stop();
	unlink(path);
	unlink(target);
	rmdir(dir);
}

/* Not a regular file (a FIFO here; a device the same): refused, and the
 * open must not block the helper. */
Test(privsep_helper, open_append_refuses_non_regular, .timeout = 20)
{
	char dir[] = "/tmp/wg-privsep-XXXXXX", path[128];

	allowed_then_helper(dir, path, sizeof(path));
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkfifo(path, 0600), 0);
	int fd = wg_priv_open_append(path);
	cr_assert_lt(fd, 0, "a FIFO was opened");
	cr_assert_eq(wg_priv_ping(), 0, "the helper still answers");
	wg_privsep_stop();
	unlink(path);
	rmdir(dir);
}
