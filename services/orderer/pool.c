/* SPDX-License-Identifier: Apache-2.0 */
/* A fixed pool of worker threads running serial tasks: the orderer's off-RPC-thread work. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcommon/log.h"

#define MAX_THREADS 64u

enum task_state {
    T_IDLE,
    T_QUEUED,
    T_RUNNING,
    T_RUNNING_AGAIN, /* scheduled while running: queue again when it returns */
};

struct orderer_task {
    struct orderer_pool *pool;
    orderer_task_fn fn;
    void *arg;
    enum task_state state;
    bool retired;
    struct orderer_task *next;     /* run queue */
    struct orderer_task *all_prev; /* every task not yet freed */
    struct orderer_task *all_next;
};

struct orderer_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct orderer_task *head, *tail;
    struct orderer_task *all;
    bool stopping;
    unsigned n_threads;
    pthread_t *threads;
};

static void push_locked(struct orderer_pool *p, struct orderer_task *t)
{
    t->next = NULL;
    if (p->tail)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    pthread_cond_signal(&p->cv);
}

static void unlink_all_locked(struct orderer_pool *p, struct orderer_task *t)
{
    if (t->all_prev)
        t->all_prev->all_next = t->all_next;
    else
        p->all = t->all_next;
    if (t->all_next)
        t->all_next->all_prev = t->all_prev;
}

static void *worker(void *arg)
{
    struct orderer_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        struct orderer_task *t = p->head;
        if (!t)
            break; /* stopping and drained */
        p->head = t->next;
        if (!p->head)
            p->tail = NULL;
        t->state = T_RUNNING;
        pthread_mutex_unlock(&p->mu);
        t->fn(t, t->arg);
        pthread_mutex_lock(&p->mu);
        if (t->retired) {
            unlink_all_locked(p, t);
            free(t);
        } else if (t->state == T_RUNNING_AGAIN) {
            t->state = T_QUEUED;
            push_locked(p, t);
        } else {
            t->state = T_IDLE;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int orderer_pool_new(unsigned n_threads, struct orderer_pool **ret, struct lc_errbuf *err)
{
    if (n_threads == 0 || n_threads > MAX_THREADS)
        return lc_fail(err, LC_EINVALID, "workers: %u is outside 1..%u", n_threads, MAX_THREADS);
    struct orderer_pool *p = calloc(1, sizeof *p);
    if (!p)
        return lc_fail(err, -ENOMEM, "out of memory");
    p->threads = calloc(n_threads, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return lc_fail(err, -ENOMEM, "out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (unsigned i = 0; i < n_threads; i++) {
        int r = pthread_create(&p->threads[i], NULL, worker, p);
        if (r != 0) {
            p->n_threads = i;
            orderer_pool_free(p);
            return lc_fail(err, -r, "cannot start worker thread: %s", strerror(r));
        }
        char name[16];
        snprintf(name, sizeof name, "orderer-w%u", i);
        pthread_setname_np(p->threads[i], name);
        p->n_threads = i + 1;
    }
    *ret = p;
    return 0;
}

void orderer_pool_free(struct orderer_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    while (p->all) {
        struct orderer_task *t = p->all;
        p->all = t->all_next;
        free(t);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

int orderer_task_new(struct orderer_pool *pool, orderer_task_fn fn, void *arg,
                     struct orderer_task **ret)
{
    struct orderer_task *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->pool = pool;
    t->fn = fn;
    t->arg = arg;
    t->state = T_IDLE;
    pthread_mutex_lock(&pool->mu);
    t->all_next = pool->all;
    if (pool->all)
        pool->all->all_prev = t;
    pool->all = t;
    pthread_mutex_unlock(&pool->mu);
    *ret = t;
    return 0;
}

void orderer_task_schedule(struct orderer_task *t)
{
    struct orderer_pool *p = t->pool;
    pthread_mutex_lock(&p->mu);
    if (!t->retired) {
        if (t->state == T_IDLE) {
            t->state = T_QUEUED;
            push_locked(p, t);
        } else if (t->state == T_RUNNING) {
            t->state = T_RUNNING_AGAIN;
        }
    }
    pthread_mutex_unlock(&p->mu);
}

void orderer_task_retire(struct orderer_task *t)
{
    pthread_mutex_lock(&t->pool->mu);
    t->retired = true;
    pthread_mutex_unlock(&t->pool->mu);
}
