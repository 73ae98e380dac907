/* Why each group is on the list:
 * - memory, threads, time, signals: glibc, libevent, the worker pool, Lua;
 * - sockets: accepting clients, DTLS, and the auth backends' own client
 *   sockets (RADIUS over UDP, LDAP over TCP, name service lookups);
 * - files: password files read at every login, scripts and conf.d read at
 *   a reload, plugins dlopen()ed at a reload, log files reopened.
 * Not on it, among others: execve (nothing is run), ptrace (outside
 * sanitizer builds), mount, module loading, bpf (but map updates for a
 * worker of several), keyctl, setuid and friends
 * (the drop is done), chroot, reboot. */
#include "sandbox_seccomp.h"

#include <errno.h>
#include <linux/bpf.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const allowed[] = {
	/* memory */
	"brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "membarrier",
	/* threads and processes (a PAM module may fork a helper; it cannot exec) */
	"clone", "clone3", "futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
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
	/* sockets */
	"socket", "socketpair", "connect", "accept", "accept4", "bind", "listen", "shutdown", "getsockname",
	"getpeername", "setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
	"recvmmsg",
	/* file descriptors and files */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close", "dup", "dup2", "dup3", "fcntl",
	"ioctl", "lseek", "fstat", "newfstatat", "stat", "lstat", "statx", "statfs", "fstatfs", "access",
	"faccessat", "faccessat2", "open", "openat", "getdents", "getdents64", "readlink", "readlinkat", "getcwd", "flock",
	"fsync", "fdatasync", "ftruncate", "fadvise64", "unlink", "unlinkat", "rename", "renameat", "mkdir",
	"mkdirat", "fchmod", "fchown", "umask", "link", "linkat",
	/* randomness */
	"getrandom",
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer stops the threads with ptrace at exit to scan them. */
	"ptrace", "process_vm_readv", "mincore", "personality", "sched_setaffinity",
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
 * leases and releases addresses (steer.h): bpf() with those two commands
 * only, never loading programs or making maps. */
static int allow_bpf_map_updates(scmp_filter_ctx f)
{
	static const int cmds[] = {BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM};
	int nr = seccomp_syscall_resolve_name("bpf");

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct scmp_arg_cmp first_arg = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)cmds[i], .datum_b = 0};
		int rc = seccomp_rule_add_array(f, SCMP_ACT_ALLOW, nr, 1, &first_arg);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int wg_sandbox_install(bool log_only, bool bpf_map_updates, char *err, size_t errlen)
{
	scmp_filter_ctx f = seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
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
