/* Worker threads for blocking work. Jobs wait in a bounded FIFO; finished
 * jobs move to a completion list and one eventfd write wakes the loop, which
 * runs their done() callbacks in a batch. */
#include "workpool.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

#define MAX_QUEUED 65536

struct job {
	void (*work)(void *arg);
	void (*done)(void *arg);
	void *arg;
	struct job *next;
};

struct wg_workpool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;      /* waiting to run */
	struct job *done_head, *done_tail; /* waiting for done() on the loop */
	size_t queued;
	bool stopping;
	unsigned n_threads;
	pthread_t *threads;
	int efd;
	struct event *ev;
};

static void push(struct job **head, struct job **tail, struct job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static void *worker_main(void *arg)
{
	struct wg_workpool *wp = arg;

	pthread_mutex_lock(&wp->lock);
	for (;;) {
		while (!wp->head && !wp->stopping)
			pthread_cond_wait(&wp->cond, &wp->lock);
		if (!wp->head)
			break; /* stopping and drained */
		struct job *j = wp->head;
		wp->head = j->next;
		if (!wp->head)
			wp->tail = NULL;
		pthread_mutex_unlock(&wp->lock);

		j->work(j->arg);

		pthread_mutex_lock(&wp->lock);
		bool was_empty = wp->done_head == NULL;
		push(&wp->done_head, &wp->done_tail, j);
		if (was_empty) {
			uint64_t one = 1;
			ssize_t w = write(wp->efd, &one, sizeof(one));
			(void)w; /* an eventfd counter cannot overflow at this rate */
		}
	}
	pthread_mutex_unlock(&wp->lock);
	return NULL;
}

static void run_completions(struct wg_workpool *wp)
{
	struct job *list;

	pthread_mutex_lock(&wp->lock);
	list = wp->done_head;
	wp->done_head = wp->done_tail = NULL;
	pthread_mutex_unlock(&wp->lock);
	while (list) {
		struct job *j = list;
		list = j->next;
		pthread_mutex_lock(&wp->lock);
		wp->queued--;
		pthread_mutex_unlock(&wp->lock);
		if (j->done)
			j->done(j->arg);
		free(j);
	}
}

static void on_wakeup(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;
	ssize_t r = read(fd, &n, sizeof(n));

	(void)what;
	(void)r;
	run_completions(arg);
}

struct wg_workpool *wg_workpool_new(struct event_base *base, unsigned threads)
{
	struct wg_workpool *wp = calloc(1, sizeof(*wp));

	if (!wp)
		return NULL;
	if (threads == 0)
		threads = 1;
	pthread_mutex_init(&wp->lock, NULL);
	pthread_cond_init(&wp->cond, NULL);
	wp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	wp->threads = calloc(threads, sizeof(pthread_t));
	if (wp->efd < 0 || !wp->threads)
		goto fail;
	wp->ev = event_new(base, wp->efd, EV_READ | EV_PERSIST, on_wakeup, wp);
	if (!wp->ev || event_add(wp->ev, NULL) < 0)
		goto fail;
	for (; wp->n_threads < threads; wp->n_threads++) {
		if (pthread_create(&wp->threads[wp->n_threads], NULL, worker_main, wp) != 0) {
			wg_log(NULL, WG_LOG_ERROR, "cannot start worker thread %u", wp->n_threads);
			wg_workpool_free(wp);
			return NULL;
		}
	}
	return wp;
fail:
	if (wp->ev)
		event_free(wp->ev);
	if (wp->efd >= 0)
		close(wp->efd);
	free(wp->threads);
	free(wp);
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
	if (wp->queued >= MAX_QUEUED || wp->stopping) {
		pthread_mutex_unlock(&wp->lock);
		free(j);
		return -EAGAIN;
	}
	wp->queued++;
	push(&wp->head, &wp->tail, j);
	pthread_cond_signal(&wp->cond);
	pthread_mutex_unlock(&wp->lock);
	return 0;
}

void wg_workpool_free(struct wg_workpool *wp)
{
	if (!wp)
		return;
	pthread_mutex_lock(&wp->lock);
	wp->stopping = true;
	pthread_cond_broadcast(&wp->cond);
	pthread_mutex_unlock(&wp->lock);
	for (unsigned i = 0; i < wp->n_threads; i++)
		pthread_join(wp->threads[i], NULL);
	run_completions(wp); /* every queued job has run: give each its done() */
	if (wp->ev)
		event_free(wp->ev);
	close(wp->efd);
	pthread_mutex_destroy(&wp->lock);
	pthread_cond_destroy(&wp->cond);
	free(wp->threads);
	free(wp);
}
