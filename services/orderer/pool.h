/* SPDX-License-Identifier: Apache-2.0 */
/* A fixed pool of worker threads running serial tasks: the orderer's off-RPC-thread work. */
#ifndef ORDERER_POOL_H
#define ORDERER_POOL_H

#include <stdbool.h>

#include "libcommon/err.h"

/*
 * A task is a function and its argument, made once per stream (or other object) and scheduled
 * any number of times: a task is never queued twice and never runs on two threads at once; a
 * schedule that arrives while it runs makes it run once more afterwards. So the run queue holds
 * at most one entry per task, and a task's own state needs no lock against itself. Broadcast
 * streams check envelopes on it (signature verification is the hot path), Deliver streams read
 * blocks from disk on it: gRPC worker threads never wait for either.
 */
struct orderer_pool;
struct orderer_task;

typedef void (*orderer_task_fn)(struct orderer_task *task, void *arg);

/* Starts n_threads (1..64) workers named "orderer-wN". Rejects a bad count (LC_EINVALID);
 * -errno when a thread cannot start. Caller frees with orderer_pool_free. */
int orderer_pool_new(unsigned n_threads, struct orderer_pool **ret, struct lc_errbuf *err);

/* Runs every task still queued (and any they schedule), then stops and joins the workers, and
 * frees the pool. Tasks not retired by then are freed too. Call it only once nothing outside
 * the pool schedules tasks any more. Accepts NULL. */
void orderer_pool_free(struct orderer_pool *pool);

/* Makes an idle task. Returns 0 or -ENOMEM. The pool frees it (see orderer_task_retire). */
int orderer_task_new(struct orderer_pool *pool, orderer_task_fn fn, void *arg,
                     struct orderer_task **ret);

/* Queues the task unless it is queued already; a running task runs once more when it returns.
 * Never blocks beyond the pool's lock; safe from any thread, including RPC callbacks and
 * blockstore notifications. Does nothing for a retired task. */
void orderer_task_schedule(struct orderer_task *task);

/* Called by the task's own function: after it returns, the task is freed and is never run
 * again. Whoever could still schedule it must have dropped the pointer before. */
void orderer_task_retire(struct orderer_task *task);

#endif
