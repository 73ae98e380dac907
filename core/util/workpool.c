/* Worker threads for blocking work. Jobs wait in a bounded FIFO; a worker
 * runs one, then moves it to the completion list. The list going from empty
 * to non-empty writes the eventfd once, so the loop wakes once per batch and
 * runs every waiting done() in submission-of-completion order.
 *
 * Lost wake-ups cannot happen: the eventfd is written under the lock when the
 * list becomes non-empty, and the loop reads (resets) the eventfd before it
 * takes the list, so a completion pushed after the take writes it again. */
#include "util/workpool.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"

#define MAX_PENDING 65536

struct job {
	void (*work)(void *arg);
	void (*done)(void *arg); /* may be NULL */
	void *arg;               /* borrowed; the submitter owns it */
	struct job *next;
};

struct job_list {
	struct job *head, *tail;
};

struct wg_workpool {
	pthread_mutex_t lock;   /* guards everything below except the fds */
	pthread_cond_t work_ready;  /* workers wait here for jobs */
	pthread_cond_t done_ready;  /* wg_workpool_free waits here while draining */
	struct job_list todo;       /* submitted, not yet started */
	struct job_list finished;   /* work() returned, done() not yet run */
	size_t pending;             /* submitted and done() not yet started */
	bool draining;              /* wg_workpool_free is waiting on done_ready */
	bool stopping;              /* workers exit once todo is empty */
	unsigned n_threads;         /* started, to be joined */
	pthread_t *threads;         /* owned */
	int efd;                    /* owned; eventfd, completions waiting */
	struct event *ev;           /* owned; EV_READ on efd, on the loop */
};

static void list_push(struct job_list *l, struct job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct job *list_pop(struct job_list *l)
{
	struct job *j = l->head;

	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
	}
	return j;
}

static void wake_loop(struct wg_workpool *wp)
{
	uint64_t one = 1;

	/* Cannot fail short of EAGAIN at a counter near 2^64, which one write
	 * per batch never reaches. */
	if (write(wp->efd, &one, sizeof(one)) < 0)
		wg_log(NULL, WG_LOG_ERROR, "workpool: eventfd write: %s", strerror(errno));
}

static void *worker_main(void *arg)
{
	struct wg_workpool *wp = arg;
	struct job *j;

	pthread_mutex_lock(&wp->lock);
	for (;;) {
		while (!wp->todo.head && !wp->stopping)
			pthread_cond_wait(&wp->work_ready, &wp->lock);
		j = list_pop(&wp->todo);
		if (!j)
			break; /* stopping, and nothing left to run */
		pthread_mutex_unlock(&wp->lock);

		j->work(j->arg);

		pthread_mutex_lock(&wp->lock);
		if (!wp->finished.head)
			wake_loop(wp);
		list_push(&wp->finished, j);
		if (wp->draining)
			pthread_cond_signal(&wp->done_ready);
	}
	pthread_mutex_unlock(&wp->lock);
	return NULL;
}

/* Runs every finished job's done() on the calling (loop) thread. The lock is
 * not held during done(), which may submit more work. */
static void run_completions(struct wg_workpool *wp)
{
	struct job_list batch;
	size_t n = 0;

	pthread_mutex_lock(&wp->lock);
	batch = wp->finished;
	wp->finished.head = wp->finished.tail = NULL;
	for (struct job *j = batch.head; j; j = j->next)
		n++;
	wp->pending -= n;
	pthread_mutex_unlock(&wp->lock);

	struct job *j;
	while ((j = list_pop(&batch))) {
		if (j->done)
			j->done(j->arg);
		free(j);
	}
}

static void on_wakeup(evutil_socket_t fd, short what, void *arg)
{
	uint64_t count;

	(void)what;
	/* Reset the counter first (see the top of the file); EAGAIN just means a
	 * previous batch already consumed this wake-up. */
	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		wg_log(NULL, WG_LOG_ERROR, "workpool: eventfd read: %s", strerror(errno));
	run_completions(arg);
}

/* Workers block every signal so SIGTERM/SIGHUP/SIGCHLD reach the loop thread. */
static int start_worker(struct wg_workpool *wp)
{
	sigset_t all, old;
	char name[16];
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&wp->threads[wp->n_threads], NULL, worker_main, wp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -rc;
	snprintf(name, sizeof(name), "wg-work%u", wp->n_threads);
	pthread_setname_np(wp->threads[wp->n_threads], name);
	wp->n_threads++;
	return 0;
}

/* What wg_workpool_new made, once no worker thread runs: the event, the
 * eventfd, the locks, the pool. */
static void pool_free(struct wg_workpool *wp)
{
	if (wp->ev)
		event_free(wp->ev);
	if (wp->efd >= 0)
		close(wp->efd);
	pthread_cond_destroy(&wp->done_ready);
	pthread_cond_destroy(&wp->work_ready);
	pthread_mutex_destroy(&wp->lock);
	free(wp->threads);
	free(wp);
}

struct wg_workpool *wg_workpool_new(struct event_base *base, unsigned threads)
{
	struct wg_workpool *wp = calloc(1, sizeof(*wp));
	int rc;

	if (!wp)
		return NULL;
	if (threads == 0)
		threads = 1;
	pthread_mutex_init(&wp->lock, NULL);
	pthread_cond_init(&wp->work_ready, NULL);
	pthread_cond_init(&wp->done_ready, NULL);
	wp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wp->efd < 0) {
		wg_log(NULL, WG_LOG_ERROR, "workpool: eventfd: %s", strerror(errno));
		goto fail;
	}
	wp->threads = calloc(threads, sizeof(pthread_t));
	wp->ev = event_new(base, wp->efd, EV_READ | EV_PERSIST, on_wakeup, wp);
	if (!wp->threads || !wp->ev || event_add(wp->ev, NULL) < 0) {
		wg_log(NULL, WG_LOG_ERROR, "workpool: out of memory");
		goto fail;
	}
	while (wp->n_threads < threads) {
		if ((rc = start_worker(wp)) < 0) {
			wg_log(NULL, WG_LOG_ERROR, "workpool: cannot start worker thread %u: %s", wp->n_threads,
			       strerror(-rc));
			wg_workpool_free(wp); /* joins the ones already started */
			return NULL;
		}
	}
	return wp;
fail:
	pool_free(wp);
	return NULL;
}

int wg_workpool_submit(struct wg_workpool *wp, void (*work)(void *arg), void (*done)(void *arg), void *arg)
{
	struct job *j;

	if (!work)
		return -EINVAL;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&wp->lock);
	if (wp->pending >= MAX_PENDING || wp->stopping) {
		pthread_mutex_unlock(&wp->lock);
		free(j);
		return -EAGAIN;
	}
	wp->pending++;
	list_push(&wp->todo, j);
	pthread_cond_signal(&wp->work_ready);
	pthread_mutex_unlock(&wp->lock);
	return 0;
}

void wg_workpool_free(struct wg_workpool *wp)
{
	if (!wp)
		return;
	/* Drain on this thread: a done() may submit follow-up work (e.g. a
	 * second auth step), which is run and completed too. */
	pthread_mutex_lock(&wp->lock);
	wp->draining = true;
	while (wp->pending > 0) {
		while (!wp->finished.head)
			pthread_cond_wait(&wp->done_ready, &wp->lock);
		pthread_mutex_unlock(&wp->lock);
		run_completions(wp);
		pthread_mutex_lock(&wp->lock);
	}
	wp->stopping = true; /* from here on, submit() says -EAGAIN */
	pthread_cond_broadcast(&wp->work_ready);
	pthread_mutex_unlock(&wp->lock);
	for (unsigned i = 0; i < wp->n_threads; i++)
		pthread_join(wp->threads[i], NULL);
	pool_free(wp);
}

bool wg_workpool_idle(struct wg_workpool *wp)
{
	pthread_mutex_lock(&wp->lock);
	bool idle = wp->pending == 0;
	pthread_mutex_unlock(&wp->lock);
	return idle;
}
