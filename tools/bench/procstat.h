/* The server as seen from /proc: its process tree (ocserv forks a worker
 * per user, so one PID is not the whole server), the sum of their PSS, and
 * their CPU time. */
#ifndef WGB_PROCSTAT_H
#define WGB_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

struct wgb_proc_sample {
	unsigned nprocs;
	uint64_t pss_kib;  /* sum of Pss over smaps_rollup */
	uint64_t cpu_ticks; /* utime+stime of the live processes, clock ticks */
};

/* Samples root and all its descendants; -1 if root does not exist. */
int wgb_proc_sample(pid_t root, struct wgb_proc_sample *out);

/* Only the CPU ticks (cheaper: no smaps walk). */
int wgb_proc_cpu(pid_t root, uint64_t *ticks, unsigned *nprocs);

/* This process's own RSS in KiB (the client's memory, for the report). */
uint64_t wgb_self_rss_kib(void);

#endif
