/* The seccomp filter of the confined server (issue 22 item 10): calls the
 * server makes still work; the wider calls that were allowed without
 * looking at their arguments are refused. Each case runs in a child that
 * installs the real filter and makes one call; the parent reads how the
 * child ended: exit 0 (the call behaved as expected), or SIGSYS (the
 * filter stopped the process, as it does for a call off the list). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "confine/sandbox_seccomp.h"

enum outcome { ENDS_OK, ENDS_SIGSYS };

static char dir[] = "/tmp/wg-sandbox-XXXXXX";

/* Runs fn in a child under the filter; returns how the child ended. */
static enum outcome run_confined(int (*fn)(void))
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char err[256];
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || wg_sandbox_install(false, false, err, sizeof(err)) < 0) {
			fprintf(stderr, "install: %s\n", err);
			_exit(90);
		}
		_exit(fn());
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		return ENDS_SIGSYS;
	cr_assert(WIFEXITED(st), "the child ended by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	cr_assert_eq(WEXITSTATUS(st), 0, "the child's check %d failed", WEXITSTATUS(st));
	return ENDS_OK;
}

static void *thread_fn(void *arg)
{
	return arg;
}

/* Threads still start (glibc tries clone3, gets ENOSYS, uses clone). */
static int threads_start(void)
{
	pthread_t t;
	void *back = NULL;
	if (pthread_create(&t, NULL, thread_fn, (void *)1) != 0 || pthread_join(t, &back) != 0)
		return 1;
	return back == (void *)1 ? 0 : 2;
}

/* clone3 says ENOSYS: its flags live in memory a filter cannot read. */
static int clone3_unavailable(void)
{
	struct clone_args ca;
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	long rc = syscall(SYS_clone3, &ca, sizeof(ca));
	if (rc == 0)
		_exit(0); /* the new child, if any: must not exist */
	return rc == -1 && errno == ENOSYS ? 0 : 3;
}

#if !defined(__SANITIZE_ADDRESS__) /* LeakSanitizer's own clone needs any flags */
/* A new process (fork: clone without CLONE_THREAD) is refused, softly. */
static int fork_refused(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	if (p > 0) {
		waitpid(p, NULL, 0);
		return 4;
	}
	return errno == EPERM ? 0 : 5;
}

/* A new namespace is refused (unshare is not on the list at all; clone
 * with CLONE_NEWUSER is not a thread). */
static int clone_newuser_refused(void)
{
	long rc = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, 0);
	if (rc == 0)
		_exit(0);
	return rc == -1 && errno == EPERM ? 0 : 6;
}
#endif

static int sockets_needed_work(void)
{
	int fds[4] = {socket(AF_INET, SOCK_DGRAM, 0), socket(AF_INET6, SOCK_STREAM, 0),
		      socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)};
	for (int i = 0; i < 4; i++) {
		if (fds[i] < 0)
			return 10 + i;
		close(fds[i]);
	}
	int sv[2];
	return socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0 ? 0 : 14;
}

static int other_families_refused(void)
{
	static const int families[] = {AF_PACKET, AF_KEY, AF_APPLETALK, AF_X25, 38 /* AF_ALG */, 40 /* AF_VSOCK */,
				       44 /* AF_XDP */};
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		int fd = socket(families[i], SOCK_RAW, 0);
		if (fd >= 0 || errno != EAFNOSUPPORT)
			return 20 + (int)i;
	}
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT);
	if (fd >= 0 || errno != EAFNOSUPPORT)
		return 30;
	int sv[2];
	if (socketpair(AF_INET, SOCK_STREAM, 0, sv) == 0 || errno != EAFNOSUPPORT)
		return 31;
	return 0;
}

static int isatty_works(void)
{
	int fd = open("/dev/null", O_RDONLY);
	int n;
	if (fd < 0 || isatty(fd) || errno != ENOTTY) /* TCGETS */
		return 40;
	return ioctl(fd, FIONREAD, &n) < 0 && errno != ENOTTY && errno != EINVAL ? 41 : 0;
}

static int ioctl_tiocsti(void)
{
	char c = 'x';
	ioctl(0, TIOCSTI, &c);
	return 0;
}

static char path_a[128], path_b[128];

static int do_link(void)
{
	return link(path_a, path_b) == 0 ? 50 : 51;
}

/* pam_oath's counter update: a new file, chowned to the server's own
 * user, renamed over the old one. */
static int do_rename_and_chown_to_self(void)
{
	int fd = open(path_a, O_RDONLY);
	if (fd < 0 || fchown(fd, geteuid(), getegid()) < 0)
		return 52;
	return rename(path_a, path_b) == 0 && rename(path_b, path_a) == 0 ? 0 : 53;
}

static int do_fchmod(void)
{
	int fd = open(path_a, O_RDONLY);
	return fchmod(fd, 0777) == 0 ? 54 : 55;
}

static int do_fchown_other(void)
{
	int fd = open(path_a, O_RDONLY);
	return fchown(fd, 12345, 12345) == 0 ? 56 : 57;
}

static void setup_files(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path_a, sizeof(path_a), "%s/a", dir);
	snprintf(path_b, sizeof(path_b), "%s/b", dir);
	int fd = open(path_a, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void teardown_files(void)
{
	unlink(path_a);
	unlink(path_b);
	rmdir(dir);
}

Test(sandbox, threads_still_start)
{
	cr_assert_eq(run_confined(threads_start), ENDS_OK);
}

Test(sandbox, clone3_is_enosys)
{
	cr_assert_eq(run_confined(clone3_unavailable), ENDS_OK);
}

#if !defined(__SANITIZE_ADDRESS__) /* LeakSanitizer's own clone needs any flags */
Test(sandbox, no_new_process)
{
	cr_assert_eq(run_confined(fork_refused), ENDS_OK);
	cr_assert_eq(run_confined(clone_newuser_refused), ENDS_OK);
}
#endif

Test(sandbox, socket_families)
{
	cr_assert_eq(run_confined(sockets_needed_work), ENDS_OK);
	cr_assert_eq(run_confined(other_families_refused), ENDS_OK);
}

Test(sandbox, ioctl_narrowed)
{
	cr_assert_eq(run_confined(isatty_works), ENDS_OK);
	cr_assert_eq(run_confined(ioctl_tiocsti), ENDS_SIGSYS, "TIOCSTI is not a call the server makes");
}

Test(sandbox, no_link_chmod_or_foreign_chown, .init = setup_files, .fini = teardown_files)
{
	cr_assert_eq(run_confined(do_link), ENDS_SIGSYS, "link");
	cr_assert_eq(run_confined(do_fchmod), ENDS_SIGSYS, "fchmod");
	cr_assert_eq(run_confined(do_fchown_other), ENDS_SIGSYS, "fchown to another user");
	cr_assert_eq(run_confined(do_rename_and_chown_to_self), ENDS_OK, "what pam_oath needs");
	struct stat st;
	cr_assert_eq(stat(path_a, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_neq(st.st_uid, 12345);
}
