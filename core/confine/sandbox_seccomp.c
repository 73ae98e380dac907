/* Why each group is on the list:
 * - memory, threads, time, signals: glibc, libevent, the worker pool, Lua;
 * - sockets: accepting clients, DTLS, and the auth backends' own client
 *   sockets (RADIUS over UDP, LDAP over TCP, name service lookups);
 * - files: password files read at every login, scripts and conf.d read at
 *   a reload, plugins dlopen()ed at a reload, log files reopened.
 * Some calls are allowed only with the arguments the server uses (measured
 * with strace over the e2e tests; docs/security.md):
 * - clone: threads only (CLONE_THREAD, no namespace flags); a new process
 *   gets EPERM (a PAM module's fork fails softly; nothing could be exec'd);
 *   clone3 gets ENOSYS (its flags are in memory a filter cannot read), and
 *   glibc then falls back to clone;
 * - socket: AF_UNIX, AF_INET, AF_INET6, and AF_NETLINK for routes (address
 *   lookups) and audit (PAM) only; other families get EAFNOSUPPORT;
 * - ioctl: isatty (TCGETS) and FIONREAD/FIONBIO/FIOCLEX/FIONCLEX;
 * - fchown: to the server's own uid and gid only (pam_oath).
 * Not on it, among others: execve (nothing is run), ptrace (outside
 * sanitizer builds), mount, unshare, module loading, bpf (but map updates
 * for a worker of several), keyctl, setuid and friends (the drop is done),
 * chroot, reboot, link, linkat, fchmod, chmod (the server never links a
 * file or changes its mode once it serves). */
#include "confine/sandbox_seccomp.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

static const char *const allowed[] = {
	/* memory */
	"brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "membarrier",
	/* threads (clone: see allow_threads_only) */
	"futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
	"exit", "exit_group", "sched_yield", "sched_getaffinity", "getpid", "gettid", "getppid", "tgkill", "tkill",
	"prctl", "wait4", "getrusage",
	/* identity (read only) */
	"getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid", "uname", "sysinfo",
	"getrlimit", "prlimit64", "capget",
	/* time and sleeping */
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
	/* signals */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
	/* waiting for events */
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll",
	"select", "pselect6", "eventfd2", "pipe", "pipe2", "timerfd_create", "timerfd_settime",
	/* sockets (socket, socketpair: see allow_socket_families) */
	"connect", "accept", "accept4", "bind", "listen", "shutdown", "getsockname",
	"getpeername", "setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
	"recvmmsg",
	/* file descriptors and files */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close", "dup", "dup2", "dup3", "fcntl",
	"lseek", "fstat", "newfstatat", "stat", "lstat", "statx", "statfs", "fstatfs", "access",
	"faccessat", "faccessat2", "open", "openat", "getdents", "getdents64", "readlink", "readlinkat", "getcwd", "flock",
	"fsync", "fdatasync", "ftruncate", "fadvise64", "unlink", "unlinkat", "mkdir", "mkdirat", "umask",
	/* a PAM module keeping state (pam_oath's counters) writes a new file and
	 * renames it over the old one (fchown: see allow_chown_to_self) */
	"rename", "renameat",
	/* randomness */
	"getrandom",
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer stops the threads with ptrace at exit to scan them. */
	"ptrace", "process_vm_readv", "mincore", "personality", "sched_setaffinity",
	/* ... from a thread it makes with clone(CLONE_VM | CLONE_UNTRACED ...), not a pthread. */
	"clone",
#endif
};

static void on_sigsys(int sig, siginfo_t *info, void *ctx)
{
	char line[160];
	int n;

	(void)ctx;
	/* Only async-signal-safe calls here: format the number by hand-free
	 * snprintf is not guaranteed safe, so build it digit by digit. */
	int nr = info->si_syscall, len = 0;
	char digits[16];
	do {
		digits[len++] = (char)('0' + nr % 10);
		nr /= 10;
	} while (nr && len < (int)sizeof(digits));
	n = 0;
	const char *a = "<2>core: seccomp: system call ";
	while (*a)
		line[n++] = *a++;
	while (len)
		line[n++] = digits[--len];
	const char *b = " is not allowed; stopping (find its name with `scmp_sys_resolver N`; server.sandbox \"log\" "
			"records instead of stopping)\n";
	while (*b && n < (int)sizeof(line) - 1)
		line[n++] = *b++;
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nothing more can be done */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A worker of several updates the shared address -> worker BPF map as it
 * leases and releases addresses (steer.h): bpf() with those two commands,
 * and a lookup (a release deletes only its own worker's entry), never
 * loading programs or making maps. */
static int allow_bpf_map_updates(scmp_filter_ctx f)
{
	static const int cmds[] = {BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM, BPF_MAP_LOOKUP_ELEM};
	int nr = seccomp_syscall_resolve_name("bpf");

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct scmp_arg_cmp first_arg = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)cmds[i], .datum_b = 0};
		int rc = seccomp_rule_add_array(f, SCMP_ACT_ALLOW, nr, 1, &first_arg);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The filter's action for calls off the list: libseccomp refuses a rule
 * with that same action (in log mode, the refusals below are just that). */
static uint32_t default_action;

/* A rule with up to two comparisons (on distinct arguments): 0 or -errno. */
static int rule(scmp_filter_ctx f, uint32_t action, const char *call, unsigned n, const struct scmp_arg_cmp *cmp)
{
	if (action == default_action)
		return 0;
	return seccomp_rule_add_array(f, action, seccomp_syscall_resolve_name(call), n, cmp);
}

#define CMP(a, o, x) ((struct scmp_arg_cmp){.arg = (a), .op = (o), .datum_a = (scmp_datum_t)(x), .datum_b = 0})
#define CMP_MASKED(a, m, x) ((struct scmp_arg_cmp){.arg = (a), .op = SCMP_CMP_MASKED_EQ, .datum_a = (m), .datum_b = (x)})

/* clone: threads, as pthread_create makes them (CLONE_VM | CLONE_THREAD |
 * CLONE_SIGHAND ...), without any namespace flag; without CLONE_THREAD
 * (fork, posix_spawn, a new namespace) EPERM. clone3: ENOSYS. In log mode
 * the refusals are logged and allowed instead. */
static int allow_threads_only(scmp_filter_ctx f, bool log_only)
{
	const scmp_datum_t thread = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
	const scmp_datum_t ns = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
				CLONE_NEWCGROUP | CLONE_NEWTIME;
	struct scmp_arg_cmp c;
	int rc;

	c = CMP_MASKED(0, thread | ns, thread);
	if ((rc = rule(f, SCMP_ACT_ALLOW, "clone", 1, &c)) < 0)
		return rc;
	c = CMP_MASKED(0, CLONE_THREAD, 0);
	if ((rc = rule(f, log_only ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM), "clone", 1, &c)) < 0)
		return rc;
	return rule(f, log_only ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
}

/* socket(domain, type, protocol) for the families the server and its
 * libraries use; socketpair for AF_UNIX. libseccomp takes one comparison
 * per argument in a rule, so the refusals are the gaps between them:
 * every other domain up to AF_NETLINK one by one, then "greater than". */
static int allow_socket_families(scmp_filter_ctx f, bool log_only)
{
	const uint32_t refuse = log_only ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EAFNOSUPPORT);
	struct scmp_arg_cmp c[2];
	int rc = 0;

	for (int d = 0; d <= AF_NETLINK && rc == 0; d++) {
		bool ok = d == AF_UNIX || d == AF_INET || d == AF_INET6;
		c[0] = CMP(0, SCMP_CMP_EQ, d);
		if (d != AF_NETLINK)
			rc = rule(f, ok ? SCMP_ACT_ALLOW : refuse, "socket", 1, c);
		if (rc == 0)
			rc = rule(f, d == AF_UNIX ? SCMP_ACT_ALLOW : refuse, "socketpair", 1, c);
	}
	if (rc < 0)
		return rc;
	c[0] = CMP(0, SCMP_CMP_GT, AF_NETLINK);
	if ((rc = rule(f, refuse, "socket", 1, c)) < 0 || (rc = rule(f, refuse, "socketpair", 1, c)) < 0)
		return rc;
	/* Netlink: routes (getaddrinfo's AI_ADDRCONFIG) and audit (PAM). */
	c[0] = CMP(0, SCMP_CMP_EQ, AF_NETLINK);
	for (int proto = 0; proto <= NETLINK_AUDIT && rc == 0; proto++) {
		c[1] = CMP(2, SCMP_CMP_EQ, proto);
		rc = rule(f, proto == NETLINK_ROUTE || proto == NETLINK_AUDIT ? SCMP_ACT_ALLOW : refuse, "socket", 2, c);
	}
	if (rc < 0)
		return rc;
	c[1] = CMP(2, SCMP_CMP_GT, NETLINK_AUDIT);
	return rule(f, refuse, "socket", 2, c);
}

/* ioctl: the few requests glibc and libevent make on the server's own
 * descriptors. Any other (terminal, TUN or interface requests) is off the
 * list. The request is an int to the kernel: compare the low 32 bits. */
static int allow_ioctls(scmp_filter_ctx f)
{
	static const unsigned long requests[] = {TCGETS, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX};

	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		struct scmp_arg_cmp c = CMP_MASKED(1, 0xffffffffu, requests[i]);
		int rc = rule(f, SCMP_ACT_ALLOW, "ioctl", 1, &c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* fchown only to the server's own user and group (what pam_oath does to
 * its new counter file). Without CAP_CHOWN nothing else would succeed, but
 * nothing else is needed either. */
static int allow_chown_to_self(scmp_filter_ctx f)
{
	struct scmp_arg_cmp c[2] = {CMP(1, SCMP_CMP_EQ, geteuid()), CMP(2, SCMP_CMP_EQ, getegid())};
	return rule(f, SCMP_ACT_ALLOW, "fchown", 2, c);
}

int wg_sandbox_install(bool log_only, bool bpf_map_updates, char *err, size_t errlen)
{
	scmp_filter_ctx f = seccomp_init(default_action = log_only ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	int rc;

	if (!f) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	if (!log_only) {
		struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSYS, &sa, NULL);
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a call on this architecture */
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0) {
			snprintf(err, errlen, "seccomp: allowing %s: %s", allowed[i], strerror(-rc));
			seccomp_release(f);
			return -1;
		}
	}
#if !defined(__SANITIZE_ADDRESS__)
	rc = allow_threads_only(f, log_only);
#else
	(void)allow_threads_only; /* clone is on the list whole for LeakSanitizer */
	rc = rule(f, log_only ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
#endif
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: clone rules: %s", strerror(-rc));
		seccomp_release(f);
		return -1;
	}
	if ((rc = allow_socket_families(f, log_only)) < 0 || (rc = allow_ioctls(f)) < 0 ||
	    (rc = allow_chown_to_self(f)) < 0) {
		snprintf(err, errlen, "seccomp: socket, ioctl and fchown rules: %s", strerror(-rc));
		seccomp_release(f);
		return -1;
	}
	if (bpf_map_updates && (rc = allow_bpf_map_updates(f)) < 0) {
		snprintf(err, errlen, "seccomp: allowing bpf map updates: %s", strerror(-rc));
		seccomp_release(f);
		return -1;
	}
	/* Every thread (the worker pool runs already) gets the filter. */
	rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_load(f);
	seccomp_release(f);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: loading the filter: %s", strerror(-rc));
		return -1;
	}
	return 0;
}
