#include <criterion/criterion.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>

#include "workpool.h"

#define JOBS 1000

struct job {
	int ran_on_worker;
	int done_count;
	pthread_t loop;
	int bad_thread;
};

static atomic_int finished;
static struct event_base *base;

static void work(void *arg)
{
	struct job *j = arg;
	j->ran_on_worker = !pthread_equal(pthread_self(), j->loop);
}

static void done(void *arg)
{
	struct job *j = arg;
	j->done_count++;
	if (!pthread_equal(pthread_self(), j->loop))
		j->bad_thread = 1;
	if (atomic_fetch_add(&finished, 1) + 1 == JOBS)
		event_base_loopbreak(base);
}

Test(workpool, every_done_runs_once_on_the_loop)
{
	static struct job jobs[JOBS];
	struct wg_workpool *wp;
	struct timeval limit = {.tv_sec = 20};

	base = event_base_new();
	wp = wg_workpool_new(base, 4);
	cr_assert_not_null(wp);
	for (int i = 0; i < JOBS; i++) {
		jobs[i].loop = pthread_self();
		cr_assert_eq(wg_workpool_submit(wp, work, done, &jobs[i]), 0);
	}
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	cr_assert_eq(atomic_load(&finished), JOBS);
	for (int i = 0; i < JOBS; i++) {
		cr_assert(jobs[i].ran_on_worker, "job %d ran on the loop thread", i);
		cr_assert_eq(jobs[i].done_count, 1, "job %d done %d times", i, jobs[i].done_count);
		cr_assert_not(jobs[i].bad_thread);
	}
	wg_workpool_free(wp);
	event_base_free(base);
}

Test(workpool, free_drains_pending_jobs)
{
	static struct job jobs[50];
	struct wg_workpool *wp;

	atomic_store(&finished, 0);
	base = event_base_new();
	wp = wg_workpool_new(base, 2);
	for (int i = 0; i < 50; i++) {
		jobs[i].loop = pthread_self();
		cr_assert_eq(wg_workpool_submit(wp, work, done, &jobs[i]), 0);
	}
	wg_workpool_free(wp); /* without running the loop */
	for (int i = 0; i < 50; i++)
		cr_assert_eq(jobs[i].done_count, 1);
	event_base_free(base);
}
