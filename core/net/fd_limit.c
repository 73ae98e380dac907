#include "net/fd_limit.h"

#include <stdio.h>
#include <sys/resource.h>

static unsigned long kernel_nr_open(void)
{
	unsigned long n = 1048576; /* the kernel's default when unreadable */
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");

	if (f) {
		if (fscanf(f, "%lu", &n) != 1)
			n = 1048576;
		fclose(f);
	}
	return n;
}

unsigned long wg_fd_limit_raise(unsigned long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur >= want)
		return (unsigned long)rl.rlim_cur;
	if (rl.rlim_max < want) {
		/* Allowed for root (CAP_SYS_RESOURCE); otherwise it fails and
		 * the soft limit still rises to the hard one below. */
		unsigned long cap = kernel_nr_open();
		struct rlimit more = {.rlim_cur = want < cap ? want : cap, .rlim_max = want < cap ? want : cap};
		if (setrlimit(RLIMIT_NOFILE, &more) == 0)
			return (unsigned long)more.rlim_cur;
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return (unsigned long)rl.rlim_cur;
}
