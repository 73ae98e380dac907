/* Runs blocking work (PAM, crypt, RADIUS round-trips, Lua policy) on worker
 * threads and hands completions back to the event loop that submitted them,
 * so nothing blocks the loop. */
#ifndef WG_WORKPOOL_H
#define WG_WORKPOOL_H

#include <stdbool.h>

struct event_base;
struct wg_workpool;

/* threads: worker count (>= 1). Completions are delivered on `base`. */
struct wg_workpool *wg_workpool_new(struct event_base *base, unsigned threads);
/* Runs every queued job to completion and then its done() (on the calling
 * thread), so no completion is ever lost, and joins the threads. Work that a
 * done() submits while this drains is run and completed too. Must not be
 * called from inside a done(). */
void wg_workpool_free(struct wg_workpool *wp);
/* Queues work(arg) on a thread; done(arg) then runs on the loop (done may be
 * NULL; arg is the caller's). Callable from any thread. Returns 0, or -ENOMEM /
 * -EAGAIN when the queue is full (bounded: 65536 jobs whose done() has not
 * started) or the pool is being freed, or -EINVAL if work is NULL. */
/* True when no job is queued, running, or waiting for its done(): plugin
 * state that queued work may be finalised. Loop thread. */
bool wg_workpool_idle(struct wg_workpool *wp);
int wg_workpool_submit(struct wg_workpool *wp, void (*work)(void *arg), void (*done)(void *arg), void *arg);

#endif
