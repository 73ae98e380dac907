/* The worker pool: work runs on worker threads, every done() runs exactly
 * once on the loop thread, the queue is bounded, and free() drains. */
#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workers/workpool.h"

struct job_rec {
	int work_runs;          /* atomically, from workers */
	pthread_t work_thread;
	int done_runs;          /* from the loop only */
	bool done_on_loop;
	bool work_before_done;  /* work had finished when done ran */
};

static pthread_t loop_thread;
static struct event_base *base;
static int done_total, done_target;

static void record_work(void *arg)
{
	struct job_rec *r = arg;
	r->work_thread = pthread_self();
	__atomic_fetch_add(&r->work_runs, 1, __ATOMIC_RELEASE);
}

static void record_done(void *arg)
{
	struct job_rec *r = arg;
	r->done_runs++;
	r->done_on_loop = pthread_equal(pthread_self(), loop_thread);
	r->work_before_done = __atomic_load_n(&r->work_runs, __ATOMIC_ACQUIRE) == 1;
	if (++done_total == done_target)
		event_base_loopbreak(base);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
	event_base_loopbreak(base);
}

/* Runs the loop until done_target completions arrived or 60 s passed (a
 * deadline for a busy machine, not a pause). */
static void run_loop_until_done(void)
{
	bool timed_out = false;
	struct event *t = evtimer_new(base, on_timeout, &timed_out);
	struct timeval tv = {60, 0};

	evtimer_add(t, &tv);
	if (done_total < done_target)
		event_base_dispatch(base);
	event_free(t);
	cr_assert_not(timed_out, "only %d of %d completions arrived", done_total, done_target);
}

static void setup(void)
{
	base = event_base_new();
	cr_assert_not_null(base);
	loop_thread = pthread_self();
	done_total = 0;
	done_target = 0;
}

static void teardown(void)
{
	event_base_free(base);
}

static void check_records(const struct job_rec *recs, int n, bool work_off_loop)
{
	for (int i = 0; i < n; i++) {
		cr_assert_eq(recs[i].work_runs, 1, "job %d: work ran %d times", i, recs[i].work_runs);
		cr_assert_eq(recs[i].done_runs, 1, "job %d: done ran %d times", i, recs[i].done_runs);
		cr_assert(recs[i].done_on_loop, "job %d: done ran off the loop thread", i);
		cr_assert(recs[i].work_before_done, "job %d: done ran before work finished", i);
		if (work_off_loop)
			cr_assert_not(pthread_equal(recs[i].work_thread, loop_thread), "job %d: work ran on the loop", i);
	}
}

/* ---- 1000 jobs submitted from a loop callback ---- */

static struct job_rec recs1000[1000];

static void submit_1000(evutil_socket_t fd, short what, void *arg)
{
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(wg_workpool_submit(arg, record_work, record_done, &recs1000[i]), 0);
}

Test(workpool, thousand_jobs_done_once_on_loop, .init = setup, .fini = teardown)
{
	struct wg_workpool *wp = wg_workpool_new(base, 4);
	struct timeval now = {0, 0};

	cr_assert_not_null(wp);
	memset(recs1000, 0, sizeof(recs1000));
	done_target = 1000;
	cr_assert_eq(event_base_once(base, -1, EV_TIMEOUT, submit_1000, wp, &now), 0);
	run_loop_until_done();
	check_records(recs1000, 1000, true);
	wg_workpool_free(wp);
	check_records(recs1000, 1000, true); /* free ran nothing twice */
}

/* ---- the threads really run in parallel ---- */

static pthread_mutex_t meet_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t meet_cond = PTHREAD_COND_INITIALIZER;
static int meet_arrived, meet_ok;

/* Returns only when all 4 jobs are inside work() at the same time (or after
 * 30 s, without counting as met). */
static void meet_work(void *arg)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	pthread_mutex_lock(&meet_lock);
	if (++meet_arrived == 4)
		pthread_cond_broadcast(&meet_cond);
	while (meet_arrived < 4)
		if (pthread_cond_timedwait(&meet_cond, &meet_lock, &until) == ETIMEDOUT)
			break;
	meet_ok += meet_arrived >= 4;
	pthread_mutex_unlock(&meet_lock);
}

static void count_done(void *arg)
{
	cr_assert(pthread_equal(pthread_self(), loop_thread));
	if (++done_total == done_target)
		event_base_loopbreak(base);
}

Test(workpool, four_threads_run_concurrently, .init = setup, .fini = teardown)
{
	struct wg_workpool *wp = wg_workpool_new(base, 4);

	cr_assert_not_null(wp);
	done_target = 4;
	for (int i = 0; i < 4; i++)
		cr_assert_eq(wg_workpool_submit(wp, meet_work, count_done, NULL), 0);
	run_loop_until_done();
	cr_assert_eq(meet_ok, 4, "the 4 jobs never ran at the same time");
	wg_workpool_free(wp);
}

/* ---- free() drains without the loop ever running ---- */

static void slow_work(void *arg)
{
	usleep(50);
	record_work(arg);
}

Test(workpool, free_runs_every_queued_job_and_done, .init = setup, .fini = teardown)
{
	static struct job_rec recs[500];
	struct wg_workpool *wp = wg_workpool_new(base, 2);

	cr_assert_not_null(wp);
	for (int i = 0; i < 500; i++)
		cr_assert_eq(wg_workpool_submit(wp, slow_work, record_done, &recs[i]), 0);
	wg_workpool_free(wp); /* on this thread, which is the loop thread */
	check_records(recs, 500, true);
	cr_assert_eq(done_total, 500);
}

/* A done() that submits a second stage while free() drains: both stages run. */
static struct wg_workpool *chain_pool;
static int stage2_done;

static void stage2_finished(void *arg)
{
	stage2_done++;
}

static void stage1_finished(void *arg)
{
	cr_assert_eq(wg_workpool_submit(chain_pool, slow_work, stage2_finished, arg), 0);
}

Test(workpool, free_drains_follow_up_work, .init = setup, .fini = teardown)
{
	static struct job_rec recs[100];

	chain_pool = wg_workpool_new(base, 3);
	cr_assert_not_null(chain_pool);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(wg_workpool_submit(chain_pool, slow_work, stage1_finished, &recs[i]), 0);
	wg_workpool_free(chain_pool);
	cr_assert_eq(stage2_done, 100);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(recs[i].work_runs, 2, "job %d: %d of 2 stages ran", i, recs[i].work_runs);
}

/* ---- submit from several threads while the loop runs ---- */

struct submitter {
	struct wg_workpool *wp;
	struct job_rec *recs;
	int n, failures;
};

static void *submit_from_thread(void *arg)
{
	struct submitter *s = arg;
	for (int i = 0; i < s->n; i++)
		s->failures += wg_workpool_submit(s->wp, record_work, record_done, &s->recs[i]) != 0;
	return NULL;
}

Test(workpool, submit_from_other_threads, .init = setup, .fini = teardown)
{
	static struct job_rec recs[4 * 250];
	struct submitter subs[4];
	pthread_t th[4];
	struct wg_workpool *wp = wg_workpool_new(base, 3);

	cr_assert_not_null(wp);
	done_target = 1000;
	for (int t = 0; t < 4; t++) {
		subs[t] = (struct submitter){wp, recs + t * 250, 250, 0};
		cr_assert_eq(pthread_create(&th[t], NULL, submit_from_thread, &subs[t]), 0);
	}
	run_loop_until_done();
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		cr_assert_eq(subs[t].failures, 0);
	}
	check_records(recs, 1000, true);
	wg_workpool_free(wp);
}

/* ---- the queue is bounded ---- */

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;

static void wait_at_gate(void *arg)
{
	pthread_mutex_lock(&gate_lock);
	while (!gate_open)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

Test(workpool, queue_is_bounded, .init = setup, .fini = teardown)
{
	enum { LIMIT = 65536 };
	struct wg_workpool *wp = wg_workpool_new(base, 2);

	cr_assert_not_null(wp);
	cr_assert_eq(wg_workpool_submit(wp, NULL, count_done, NULL), -EINVAL);
	for (int i = 0; i < LIMIT; i++)
		if (wg_workpool_submit(wp, wait_at_gate, count_done, NULL) != 0)
			cr_assert_fail("submit %d of %d refused", i, LIMIT);
	cr_assert_eq(wg_workpool_submit(wp, wait_at_gate, count_done, NULL), -EAGAIN);

	pthread_mutex_lock(&gate_lock);
	gate_open = true;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	done_target = LIMIT;
	run_loop_until_done();
	/* Completed jobs free their places. */
	done_target = LIMIT + 1;
	cr_assert_eq(wg_workpool_submit(wp, wait_at_gate, count_done, NULL), 0);
	run_loop_until_done();
	wg_workpool_free(wp);
	cr_assert_eq(done_total, LIMIT + 1);
}

Test(workpool, zero_threads_means_one, .init = setup, .fini = teardown)
{
	static struct job_rec rec;
	struct wg_workpool *wp = wg_workpool_new(base, 0);

	cr_assert_not_null(wp);
	done_target = 1;
	cr_assert_eq(wg_workpool_submit(wp, record_work, record_done, &rec), 0);
	run_loop_until_done();
	check_records(&rec, 1, true);
	wg_workpool_free(wp);
}
