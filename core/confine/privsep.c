/* The privileged helper process and the server's side of its socketpair
 * (see privsep.h for what it does and why). */
#include "confine/privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "confine/privsep_proto.h"

#define MAX_ALLOWED_PATHS 16
#define MAX_PAM_SERVICES 8
#define HELPER_FD 3

static struct {
	pthread_mutex_t lock; /* one request in flight at a time */
	int fd;               /* the server's end; -1 without a helper */
	pid_t pid;
	char *allowed[MAX_ALLOWED_PATHS]; /* paths OPEN_APPEND may name; owned */
	size_t n_allowed;
	char *services[MAX_PAM_SERVICES]; /* PAM services PAM_AUTH may name; owned */
	size_t n_services;
} ps = {PTHREAD_MUTEX_INITIALIZER, -1, 0, {NULL}, 0, {NULL}, 0};

/* Root opens the file itself, never what a link points to (the directory
 * may be writable by the server's user), never a FIFO or device (O_NONBLOCK:
 * a FIFO without a reader would block the helper for good). Symlinks in
 * the directories above are still followed: those belong to root. */
static int open_append_now(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0640);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fcntl(fd, F_SETFL, O_APPEND) < 0) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static const char *open_append_error(int err)
{
	return err == -ELOOP ? "refusing a symbolic link" : err == -EINVAL ? "not a regular file" : strerror(-err);
}

/* A service name is a file name in /etc/pam.d: no path tricks. */
static bool valid_service(const char *s)
{
	return *s && s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(s);
}

static bool is_pinned(const char *service)
{
	for (size_t i = 0; i < ps.n_services; i++)
		if (strcmp(ps.services[i], service) == 0)
			return true;
	return false;
}

static int is_allowed(const char *path)
{
	for (size_t i = 0; i < ps.n_allowed; i++)
		if (strcmp(ps.allowed[i], path) == 0)
			return 1;
	return 0;
}

/* --- the helper ------------------------------------------------------------ */

static void helper_log(const char *fmt, const char *arg)
{
	/* Plain stderr: the server's log sinks live in the other process. */
	fprintf(stderr, "wolfguard privsep[%ld]: ", (long)getpid());
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

static int send_reply(int fd, const struct wg_priv_reply *r, int pass_fd)
{
	uint8_t buf[16 + WG_PRIV_TEXT_MAX];
	int len = wg_priv_reply_encode(r, buf, sizeof(buf));
	struct iovec iov = {buf, (size_t)len};
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (len < 0)
		return -1;
	if (pass_fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.space;
		mh.msg_controllen = sizeof(ctl.space);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == len ? 0 : -1;
}

static int handle(const struct wg_priv_request *rq, struct wg_priv_reply *r)
{
	char a[1025], b[257], c[1025];

	r->type = rq->type;
	switch (rq->type) {
	case WG_PRIV_PING:
		r->status = 0;
		return -1;
	case WG_PRIV_OPEN_APPEND:
		if (wg_priv_field_copy(&rq->f[0], a, sizeof(a)) < 0 || !is_allowed(a)) {
			r->status = -EPERM;
			snprintf(r->text, sizeof(r->text), "path not opened before the privilege drop");
			helper_log("refused OPEN_APPEND of a path not on the allow-list: %.200s", a);
			return -1;
		}
		{
			int fd = open_append_now(a);
			r->status = fd < 0 ? fd : 0;
			if (fd < 0) {
				snprintf(r->text, sizeof(r->text), "%s", open_append_error(fd));
				helper_log("refused OPEN_APPEND: %s", r->text);
			}
			return fd;
		}
	case WG_PRIV_PAM_AUTH:
		if (wg_priv_field_copy(&rq->f[0], b, sizeof(b)) < 0 || wg_priv_field_copy(&rq->f[1], a, sizeof(a)) < 0 ||
		    wg_priv_field_copy(&rq->f[2], c, sizeof(c)) < 0) {
			r->status = -EINVAL;
			return -1;
		}
		if (!valid_service(b)) {
			r->status = -EINVAL;
			snprintf(r->text, sizeof(r->text), "invalid PAM service name");
			explicit_bzero(c, sizeof(c));
			return -1;
		}
		/* Only the stacks the configuration named at start: a compromised
		 * server must not get root to try passwords against su or sudo. */
		if (!is_pinned(b)) {
			r->status = -EPERM;
			snprintf(r->text, sizeof(r->text), "PAM service \"%.64s\" was not configured at start", b);
			helper_log("refused PAM_AUTH for a service not configured at start: %.64s", b);
			explicit_bzero(c, sizeof(c));
			return -1;
		}
		r->status = wg_pam_check(b, a, c, r->text, sizeof(r->text));
		explicit_bzero(c, sizeof(c));
		return -1;
	}
	r->status = -EINVAL;
	return -1;
}

static void helper_main(int fd, const char *unlink_path)
{
	uint8_t buf[WG_PRIV_MSG_MAX + 1];

	for (;;) {
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the server is gone */
		struct wg_priv_request rq;
		struct wg_priv_reply r = {0};
		const char *why;
		if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || mh.msg_controllen != 0) {
			r.status = -EMSGSIZE;
			snprintf(r.text, sizeof(r.text), "oversized request or unexpected control data");
			helper_log("%s", r.text);
			send_reply(fd, &r, -1);
			continue;
		}
		if (wg_priv_request_decode(buf, (size_t)n, &rq, &why) < 0) {
			r.type = n > 0 ? buf[0] : 0;
			r.status = -EINVAL;
			snprintf(r.text, sizeof(r.text), "%s", why);
			helper_log("rejected a malformed request: %s", why);
			send_reply(fd, &r, -1);
			continue;
		}
		int pass = handle(&rq, &r);
		explicit_bzero(buf, sizeof(buf));
		send_reply(fd, &r, pass);
		if (pass >= 0)
			close(pass);
	}
	if (unlink_path && *unlink_path)
		unlink(unlink_path);
	/* _exit: the helper shares the server's heap image; exit handlers
	 * (LeakSanitizer, plugin destructors) belong to the server. */
	_exit(0);
}

int wg_privsep_start(const char *unlink_at_exit, char *why, size_t whylen)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* Only stdio and the socketpair stay open: no listener, TUN or
		 * client socket lives on in the root process. */
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		signal(SIGINT, SIG_IGN); /* the server coordinates the stop */
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		prctl(PR_SET_NAME, "wolfguard-priv", 0, 0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (dup2(sv[1], HELPER_FD) < 0)
			_exit(1);
		close_range(HELPER_FD + 1, ~0U, 0);
		helper_main(HELPER_FD, unlink_at_exit);
	}
	close(sv[1]);
	ps.fd = sv[0];
	ps.pid = pid;
	return 0;
}

void wg_privsep_stop(void)
{
	if (ps.fd >= 0) {
		close(ps.fd);
		ps.fd = -1;
		int st;
		while (waitpid(ps.pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	for (size_t i = 0; i < ps.n_allowed; i++)
		free(ps.allowed[i]);
	ps.n_allowed = 0;
	for (size_t i = 0; i < ps.n_services; i++)
		free(ps.services[i]);
	ps.n_services = 0;
}

int wg_privsep_active(void)
{
	return ps.fd >= 0;
}

/* --- the server's side ------------------------------------------------------ */

/* One request, one reply; *fd_out gets a passed descriptor or -1. Returns
 * the reply's status, or -EIO when the helper did not answer properly. */
static int call(const struct wg_priv_request *rq, struct wg_priv_reply *r, int *fd_out)
{
	uint8_t buf[WG_PRIV_MSG_MAX];
	int len = wg_priv_request_encode(rq, buf, sizeof(buf));
	int status = -EIO;

	*fd_out = -1;
	if (len < 0)
		return -EINVAL;
	pthread_mutex_lock(&ps.lock);
	if (send(ps.fd, buf, (size_t)len, MSG_NOSIGNAL) == len) {
		uint8_t in[16 + WG_PRIV_TEXT_MAX];
		union {
			struct cmsghdr h;
			char space[CMSG_SPACE(sizeof(int))];
		} ctl;
		struct iovec iov = {in, sizeof(in)};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
				    .msg_controllen = sizeof(ctl.space)};
		ssize_t n;
		do
			n = recvmsg(ps.fd, &mh, MSG_CMSG_CLOEXEC);
		while (n < 0 && errno == EINTR);
		const char *why;
		for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
				memcpy(fd_out, CMSG_DATA(c), sizeof(int));
		if (n > 0 && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) && wg_priv_reply_decode(in, (size_t)n, r, &why) == 0 &&
		    r->type == rq->type)
			status = r->status;
		if (status != 0 && *fd_out >= 0) {
			close(*fd_out);
			*fd_out = -1;
		}
	}
	pthread_mutex_unlock(&ps.lock);
	explicit_bzero(buf, sizeof(buf));
	return status;
}

static struct wg_priv_field field(const char *s)
{
	return (struct wg_priv_field){s, strlen(s)};
}

int wg_priv_open_append(const char *path)
{
	if (!path || !*path)
		return -EINVAL;
	if (ps.fd < 0) {
		int fd = open_append_now(path);
		if (fd >= 0 && !is_allowed(path) && ps.n_allowed < MAX_ALLOWED_PATHS) {
			char *copy = strdup(path);
			if (copy)
				ps.allowed[ps.n_allowed++] = copy;
		}
		return fd;
	}
	struct wg_priv_request rq = {WG_PRIV_OPEN_APPEND, 1, {field(path)}};
	struct wg_priv_reply r;
	int fd;
	int st = call(&rq, &r, &fd);
	return st < 0 ? st : fd >= 0 ? fd : -EIO;
}

int wg_priv_pam_pin(const char *service)
{
	if (!service || !valid_service(service) || strlen(service) > 64)
		return -EINVAL;
	if (is_pinned(service))
		return 0; /* a reload naming the same service */
	if (ps.fd >= 0)
		return -EPERM; /* the helper's list was fixed when it was forked */
	if (ps.n_services >= MAX_PAM_SERVICES)
		return -ENOSPC;
	if (!(ps.services[ps.n_services] = strdup(service)))
		return -ENOMEM;
	ps.n_services++;
	return 0;
}

int wg_priv_pam_auth(const char *service, const char *user, const char *password, char *msg, size_t msglen)
{
	if (!service || !user || !password)
		return -EINVAL;
	if (ps.fd < 0)
		return wg_pam_check(service, user, password, msg, msglen);
	struct wg_priv_request rq = {WG_PRIV_PAM_AUTH, 3, {field(service), field(user), field(password)}};
	struct wg_priv_reply r = {0};
	int fd;
	int st = call(&rq, &r, &fd);
	snprintf(msg, msglen, "%s", st == -EIO ? "privileged helper did not answer" : r.text);
	explicit_bzero(&rq, sizeof(rq));
	return st;
}

int wg_priv_ping(void)
{
	if (ps.fd < 0)
		return 0;
	struct wg_priv_request rq = {WG_PRIV_PING, 0, {{NULL, 0}}};
	struct wg_priv_reply r;
	int fd;
	return call(&rq, &r, &fd);
}
