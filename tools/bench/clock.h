/* Monotonic time in microseconds: setup latency and phase timing. */
#ifndef WGB_CLOCK_H
#define WGB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t wgb_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif
