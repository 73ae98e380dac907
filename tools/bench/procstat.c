/* Process-tree sampling from /proc (see procstat.h). */
#include "procstat.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pp {
	pid_t pid, ppid;
	uint64_t ticks;
};

/* /proc/PID/stat: "pid (comm) state ppid ... utime(14) stime(15)"; comm may
 * hold spaces and parentheses, so parse after the last ')'. */
static int read_stat(pid_t pid, struct pp *out)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;
	unsigned long ut = 0, stt = 0;
	int ppid = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')))
		return -1;
	/* fields from 3 (state) on */
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ppid, &ut, &stt) != 3)
		return -1;
	out->pid = pid;
	out->ppid = ppid;
	out->ticks = (uint64_t)ut + stt;
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct pp *x = a, *y = b;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static long index_of(const struct pp *all, size_t n, pid_t pid)
{
	struct pp key = {.pid = pid};
	const struct pp *f = bsearch(&key, all, n, sizeof(*all), cmp_pid);
	return f ? (long)(f - all) : -1;
}

/* Is process i root or below it? Walks up the parent chain, remembering
 * the answer for every process on the way (state: 0 unknown, 1 in, 2 out).
 * Bounded: a chain longer than the table is a cycle (pid reuse race). */
static int below(const struct pp *all, size_t n, char *state, size_t i, pid_t root)
{
	size_t chain[64], depth = 0;
	long j = (long)i;
	int verdict = 2;

	while (j >= 0 && depth < 64) {
		if (state[j]) {
			verdict = state[j];
			break;
		}
		chain[depth++] = (size_t)j;
		if (all[j].pid == root) {
			verdict = 1;
			break;
		}
		if (all[j].ppid <= 0)
			break;
		j = index_of(all, n, all[j].ppid);
	}
	for (size_t k = 0; k < depth; k++)
		state[chain[k]] = (char)verdict;
	return verdict == 1;
}

/* All processes of the system, then those at or below root. */
static struct pp *tree(pid_t root, size_t *count)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	struct pp *all = NULL, *t;
	size_t n = 0, cap = 0, m = 0;
	char *state;

	*count = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if (!(t = realloc(all, cap * sizeof(*all))))
				break;
			all = t;
		}
		if (read_stat((pid_t)atoi(e->d_name), &all[n]) == 0)
			n++;
	}
	closedir(d);
	if (!n || !(state = calloc(n, 1))) {
		free(all);
		return NULL;
	}
	qsort(all, n, sizeof(*all), cmp_pid);
	for (size_t i = 0; i < n; i++)
		below(all, n, state, i, root);
	/* compact only after every lookup is done: bsearch needs the full table */
	for (size_t i = 0; i < n; i++)
		if (state[i] == 1)
			all[m++] = all[i];
	free(state);
	*count = m;
	if (!m) {
		free(all);
		return NULL;
	}
	return all;
}

static uint64_t pss_of(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	unsigned long long v = 0;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (!(f = fopen(path, "re")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pss: %llu kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

int wgb_proc_cpu(pid_t root, uint64_t *ticks, unsigned *nprocs)
{
	size_t n;
	struct pp *t = tree(root, &n);

	*ticks = 0;
	*nprocs = 0;
	if (!t)
		return -1;
	for (size_t i = 0; i < n; i++)
		*ticks += t[i].ticks;
	*nprocs = (unsigned)n;
	free(t);
	return 0;
}

int wgb_proc_sample(pid_t root, struct wgb_proc_sample *out)
{
	size_t n;
	struct pp *t = tree(root, &n);

	memset(out, 0, sizeof(*out));
	if (!t)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out->cpu_ticks += t[i].ticks;
		out->pss_kib += pss_of(t[i].pid);
	}
	out->nprocs = (unsigned)n;
	free(t);
	return 0;
}

uint64_t wgb_self_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long v = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &v) == 1)
			break;
	fclose(f);
	return v;
}
